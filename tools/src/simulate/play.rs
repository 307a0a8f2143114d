//! One simulated session: the random streams of a seed, the arrivals, and the session played
//! through the core.

use anyhow::Context as _;
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, Exp, Gamma};
use rostrum::queue::{
    Actor, Command, Event, FloorSeen, Modality, ParticipantId, Policy, Profile, Refusal,
    RequestKind, Side, State, Target, TimeLimits, Timestamp, decide,
};

use super::{HUB_HEAD_COUNT, MIN_TURN_MS, MODALITIES, START_MS, SimulateArgs};

/// The random streams of one seed, apart so that every policy draws the same arrivals.
#[derive(Clone, Copy)]
enum Stream {
    Arrivals(usize),
    Who,
    Speech,
    Moderator,
}

/// One stream of one seed: ChaCha8, whose output for a seed and a stream is fixed by its
/// specification (the same on every platform and release), each stream independent of the
/// others.
fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    let n = match stream {
        Stream::Arrivals(i) => i as u64,
        Stream::Who => 10,
        Stream::Speech => 11,
        Stream::Moderator => 12,
    };
    let mut r = ChaCha8Rng::seed_from_u64(seed);
    r.set_stream(n);
    r
}

/// Every request's arrival, in time order: per modality, a Poisson process of its rate.
fn arrivals(args: &SimulateArgs, seed: u64, end: u64) -> anyhow::Result<Vec<(u64, Modality)>> {
    let rates = [
        args.onsite_per_hour,
        args.online_per_hour,
        args.hub_per_hour,
    ];
    let mut all = Vec::new();
    for (i, (m, rate)) in MODALITIES.into_iter().zip(rates).enumerate() {
        if rate <= 0.0 {
            continue;
        }
        let mut rng = rng(seed, Stream::Arrivals(i));
        // Poisson arrivals: exponential gaps of mean 1/rate.
        let gap = Exp::new(rate / 3_600_000.0).context("the rate of arrivals")?;
        let mut t = START_MS as f64;
        loop {
            t += gap.sample(&mut rng);
            if t >= end as f64 {
                break;
            }
            all.push((t as u64, m));
        }
    }
    all.sort_unstable();
    Ok(all)
}

/// One simulated session: the core's state and log, and what happened outside the core.
pub(super) struct Session {
    pub(super) state: State,
    pub(super) log: Vec<Event>,
    pub(super) end: Timestamp,
    limit_ms: u64,
    room_bias: f64,
    people: [Vec<ParticipantId>; 3],
    /// Arrivals that found everyone of their modality with a request open.
    pub(super) lost: [usize; 3],
    /// Commands the core refused (a raise past the throttle, say).
    pub(super) refused: usize,
    who: ChaCha8Rng,
    speech: ChaCha8Rng,
    moderator: ChaCha8Rng,
    /// Speaking times before the limit: gamma of shape 2 and the given mean.
    turn: Gamma<f64>,
}

/// Play one session of `policy` with `seed`.
pub(super) fn play(args: &SimulateArgs, policy: Policy, seed: u64) -> anyhow::Result<Session> {
    let end = START_MS + args.minutes * 60_000;
    // Shape 2, scale half the mean: the sum of two exponentials of half the mean each.
    let turn = Gamma::new(2.0, args.speak_secs as f64 * 500.0).context("--speak-secs")?;
    let mut s = Session {
        state: State::default(),
        log: Vec::new(),
        end: Timestamp(end),
        limit_ms: args.time_limit_secs * 1000,
        room_bias: args.room_bias,
        people: Default::default(),
        lost: [0; 3],
        refused: 0,
        who: rng(seed, Stream::Who),
        speech: rng(seed, Stream::Speech),
        moderator: rng(seed, Stream::Moderator),
        turn,
    };
    s.open(args, policy)?;
    let mut turn_ends: Option<u64> = None;
    for (at, modality) in arrivals(args, seed, end)? {
        while let Some(t) = turn_ends.filter(|t| *t <= at) {
            s.end_turn(t);
            turn_ends = s.call_next(t);
        }
        s.arrive(at, modality);
        if turn_ends.is_none() {
            turn_ends = s.call_next(at);
        }
    }
    while let Some(t) = turn_ends {
        // A turn running when the session ends is cut there.
        let t = t.min(end);
        s.end_turn(t);
        turn_ends = if t < end { s.call_next(t) } else { None };
    }
    Ok(s)
}

impl Session {
    /// Decide and apply one command. A refusal changes nothing and is counted here, so callers
    /// that have nothing else to do about it may drop it.
    fn command(&mut self, actor: Actor, command: Command, at: u64) -> Result<(), Refusal> {
        match decide(&self.state, actor, command, Timestamp(at)) {
            Ok(events) => {
                for e in &events {
                    self.state.apply(e);
                }
                self.log.extend(events);
                Ok(())
            }
            Err(refusal) => {
                self.refused += 1;
                Err(refusal)
            }
        }
    }

    /// The organizer opens the session; everyone joins as a newcomer would.
    fn open(&mut self, args: &SimulateArgs, policy: Policy) -> anyhow::Result<()> {
        let limits = TimeLimits {
            default_ms: self.limit_ms,
            ..TimeLimits::default()
        };
        let open = Command::OpenSession {
            title: "Simulated session".into(),
            policy,
            limits,
            agenda: Vec::new(),
        };
        self.command(Actor::Organizer, open, START_MS)
            .context("opening the session")?;
        let sizes = [args.onsite_people, args.online_people, args.hubs];
        for (i, (m, n)) in MODALITIES.into_iter().zip(sizes).enumerate() {
            for k in 1..=n {
                let mut profile = Profile::new(format!("{m:?} {k}"), "", m);
                if m == Modality::Hub {
                    profile.head_count = HUB_HEAD_COUNT;
                }
                let id = ParticipantId(u32::try_from(self.state.participants().len())?);
                self.command(Actor::Newcomer, Command::Join { profile }, START_MS)
                    .with_context(|| format!("joining {m:?} {k}"))?;
                self.people[i].push(id);
            }
        }
        Ok(())
    }

    /// A request of `modality` arrives: someone of it without a request open raises their hand.
    fn arrive(&mut self, at: u64, modality: Modality) {
        let i = slot(modality);
        let free: Vec<ParticipantId> = self.people[i]
            .iter()
            .copied()
            .filter(|p| {
                self.state
                    .participant(*p)
                    .is_some_and(|p| p.open_request.is_none())
            })
            .collect();
        if free.is_empty() {
            self.lost[i] += 1;
            return;
        }
        let p = free[self.who.random_range(0..free.len())];
        let raise = Command::RaiseHand {
            participant: p,
            kind: RequestKind::Intervention,
            note: None,
        };
        if self.command(Actor::Participant(p), raise, at).is_ok() && modality.side() == Side::Remote
        {
            // The online moderator checks the remote speaker's audio at once, so no grant has to
            // be forced (a forced grant is an override in the record).
            let request = self.state.participant(p).and_then(|p| p.open_request);
            if let Some(request) = request {
                let ready = Command::MarkReady {
                    request,
                    ready: true,
                };
                let _ = self.command(Actor::OnlineModerator, ready, at);
            }
        }
    }

    /// The chair gives the floor if anyone waits: the head, or (biased) the first in the room.
    /// Returns when the new turn will end.
    fn call_next(&mut self, at: u64) -> Option<u64> {
        let now = Timestamp(at);
        let (head, _) = self.state.head(now)?;
        let head_remote = self
            .state
            .request(head)
            .is_some_and(|r| r.side == Side::Remote);
        let mut target = Target::Next;
        if head_remote && self.moderator.random::<f64>() < self.room_bias {
            let first_room = self.state.queue(now).into_iter().find(|e| {
                self.state
                    .request(e.request)
                    .is_some_and(|r| r.side == Side::Room)
            });
            if let Some(e) = first_room {
                target = Target::Request(e.request);
            }
        }
        let grant = Command::GrantFloor {
            target,
            force: true,
            seen: FloorSeen::Any,
            reason: None,
        };
        self.command(Actor::Chair, grant, at).ok()?;
        let drawn = self.turn.sample(&mut self.speech) as u64;
        Some(at + drawn.clamp(MIN_TURN_MS, self.limit_ms))
    }

    fn end_turn(&mut self, at: u64) {
        let end = Command::EndTurn {
            seen: FloorSeen::Any,
        };
        let _ = self.command(Actor::Chair, end, at);
    }
}

pub(super) fn slot(m: Modality) -> usize {
    match m {
        Modality::Onsite => 0,
        Modality::Online => 1,
        Modality::Hub => 2,
    }
}
