//! `rostrum simulate`: synthetic sessions played under each ordering policy, with the fairness
//! figures side by side, so an organizer can choose a policy before the event.
//!
//! Only the people are simulated. Every hand, grant and end of turn goes through the real core
//! ([`decide`] then [`State::apply`], as the service does), and the figures come from the
//! report's own fold ([`Stats`]), so the simulator cannot drift from the rules it measures.
//! Requests arrive per modality as Poisson processes; a person with a request open does not ask
//! again. Turns follow one another with no gap, their length drawn from a gamma distribution
//! (shape 2) and cut at the limit. The moderator calls the head of the queue, except that, when
//! a remote request heads it, they give the floor to the first person in the room instead with
//! probability `--room-bias` ("grant this"): the human bias a policy is meant to resist.
//!
//! Every policy plays the same arrivals for a given seed (common random numbers), so the
//! columns differ by the policy, not by luck.

use std::fmt::Write as _;

use anyhow::{Context, ensure};
use rand::{Rng as _, SeedableRng as _};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution as _, Exp, Gamma};
use serde::Serialize;
use serde_json::{Map, Value, json};

use rostrum::queue::{
    Actor, Command, Event, FloorSeen, Modality, Order, ParticipantId, Policy, Profile, Refusal,
    RequestKind, Side, State, Stats, Target, TimeLimits, Timestamp, decide,
};

/// `rostrum simulate`
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Length of the session, in minutes.
    #[arg(long, default_value_t = 90)]
    pub minutes: u64,
    /// Requests per hour from people in the room.
    #[arg(long, default_value_t = 20.0)]
    pub onsite_per_hour: f64,
    /// Requests per hour from people online.
    #[arg(long, default_value_t = 12.0)]
    pub online_per_hour: f64,
    /// Requests per hour from remote hubs.
    #[arg(long, default_value_t = 4.0)]
    pub hub_per_hour: f64,
    /// People in the room who may ask (each may ask several times).
    #[arg(long, default_value_t = 50)]
    pub onsite_people: u32,
    /// People online who may ask.
    #[arg(long, default_value_t = 30)]
    pub online_people: u32,
    /// Remote hubs (each one entry, speaking for 10 people).
    #[arg(long, default_value_t = 4)]
    pub hubs: u32,
    /// Mean speaking time of a turn, in seconds, before the limit cuts it.
    #[arg(long, default_value_t = 120)]
    pub speak_secs: u64,
    /// The session's time limit per turn, in seconds (10 to 3600).
    #[arg(long, default_value_t = 180)]
    pub time_limit_secs: u64,
    /// Probability (0 to 1) that the moderator, when a remote request heads the queue, gives the
    /// floor to the first person in the room instead.
    #[arg(long, default_value_t = 0.0)]
    pub room_bias: f64,
    /// The first random seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sessions per policy, with seeds `seed`, `seed + 1`...; figures are their means.
    #[arg(long, default_value_t = 20)]
    pub runs: u64,
    /// `table` for people, `json` (an object keyed by policy) for tools.
    #[arg(long, value_enum, default_value = "table")]
    pub format: SimulateFormat,
}

/// Output formats of `rostrum simulate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulateFormat {
    /// A reading guide, then one column per policy.
    Table,
    /// One JSON object keyed by policy.
    Json,
}

/// Play every policy and phrase the figures: the text `rostrum simulate` prints.
pub fn run(args: &SimulateArgs) -> anyhow::Result<String> {
    check(args)?;
    let mut results = Vec::new();
    for c in CONTENDERS {
        let runs = (0..args.runs)
            .map(|i| {
                let seed = args.seed.wrapping_add(i);
                let figures = play(args, c.policy(), seed)?.measure();
                Ok(serde_json::to_value(figures)?)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        results.push((c, mean(&runs)));
    }
    Ok(match args.format {
        SimulateFormat::Table => table(args, &results),
        SimulateFormat::Json => {
            let mut out = Map::new();
            for (c, mut figures) in results {
                figures["policy"] = serde_json::to_value(c.policy())?;
                out.insert(c.key.to_owned(), figures);
            }
            serde_json::to_string_pretty(&out)? + "\n"
        }
    })
}

/// Refuse inputs that make no sense, or would run for hours, before playing anything.
fn check(a: &SimulateArgs) -> anyhow::Result<()> {
    ensure!((1..=24 * 60).contains(&a.minutes), "--minutes: 1 to 1440");
    for (flag, rate) in [
        ("--onsite-per-hour", a.onsite_per_hour),
        ("--online-per-hour", a.online_per_hour),
        ("--hub-per-hour", a.hub_per_hour),
    ] {
        ensure!((0.0..=10_000.0).contains(&rate), "{flag}: 0 to 10000");
    }
    for (flag, n) in [
        ("--onsite-people", a.onsite_people),
        ("--online-people", a.online_people),
        ("--hubs", a.hubs),
    ] {
        ensure!(n <= 5_000, "{flag}: at most 5000");
    }
    ensure!(a.speak_secs >= 1, "--speak-secs: at least 1");
    let limits = TimeLimits::MIN_MS / 1000..=TimeLimits::MAX_MS / 1000;
    ensure!(
        limits.contains(&a.time_limit_secs),
        "--time-limit-secs: 10 to 3600"
    );
    ensure!((0.0..=1.0).contains(&a.room_bias), "--room-bias: 0 to 1");
    ensure!((1..=1_000).contains(&a.runs), "--runs: 1 to 1000");
    Ok(())
}

/// A policy in the comparison.
#[derive(Debug, Clone, Copy)]
struct Contender {
    /// Its key in the JSON.
    key: &'static str,
    /// Its column heading.
    label: &'static str,
    order: Order,
}

impl Contender {
    /// The policy, with the starvation guard a new session gets by default.
    fn policy(self) -> Policy {
        Policy {
            order: self.order,
            ..Policy::default()
        }
    }
}

const CONTENDERS: [Contender; 4] = [
    Contender {
        key: "fifo",
        label: "fifo",
        order: Order::Fifo,
    },
    Contender {
        key: "alternate_1_1",
        label: "alternate 1:1",
        order: Order::Alternate { room: 1, remote: 1 },
    },
    Contender {
        key: "alternate_2_1",
        label: "alternate 2:1",
        order: Order::Alternate { room: 2, remote: 1 },
    },
    Contender {
        key: "first_time_first",
        label: "first_time_first",
        order: Order::FirstTimeFirst,
    },
];

const MODALITIES: [Modality; 3] = [Modality::Onsite, Modality::Online, Modality::Hub];

/// The people a hub entry speaks for (it only shows in the report's participation figures).
const HUB_HEAD_COUNT: u32 = 10;
/// The shortest turn: someone given the floor says at least a sentence.
const MIN_TURN_MS: u64 = 5_000;
/// When simulated sessions start (2026-01-01 09:00 UTC): any time would do, the core reads none.
const START_MS: u64 = 1_767_258_000_000;

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
struct Session {
    state: State,
    log: Vec<Event>,
    end: Timestamp,
    limit_ms: u64,
    room_bias: f64,
    people: [Vec<ParticipantId>; 3],
    /// Arrivals that found everyone of their modality with a request open.
    lost: [usize; 3],
    /// Commands the core refused (a raise past the throttle, say).
    refused: usize,
    who: ChaCha8Rng,
    speech: ChaCha8Rng,
    moderator: ChaCha8Rng,
    /// Speaking times before the limit: gamma of shape 2 and the given mean.
    turn: Gamma<f64>,
}

/// Play one session of `policy` with `seed`.
fn play(args: &SimulateArgs, policy: Policy, seed: u64) -> anyhow::Result<Session> {
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

fn slot(m: Modality) -> usize {
    match m {
        Modality::Onsite => 0,
        Modality::Online => 1,
        Modality::Hub => 2,
    }
}

/// One session's figures for one modality.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
struct ModalityFigures {
    requests: usize,
    turns: usize,
    /// Requests still waiting when the session ended.
    unserved: usize,
    /// Arrivals that found everyone of the modality with a request open.
    lost: usize,
    /// Waits of the requests that got their turn (`None` without any).
    wait_mean_s: Option<f64>,
    wait_median_s: Option<f64>,
    wait_p90_s: Option<f64>,
    /// The mean wait of every request, those still waiting counted up to the end: the mean of
    /// the served alone flatters a policy that leaves people waiting.
    wait_all_mean_s: Option<f64>,
    /// The longest wait, the requests still waiting at the end included.
    wait_longest_s: Option<f64>,
    speaking_mean_s: Option<f64>,
    speaking_total_s: f64,
}

/// One side's shares of the session's requests, turns and speaking time, in percent.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
struct SideShares {
    requests_pct: Option<f64>,
    turns_pct: Option<f64>,
    speaking_pct: Option<f64>,
}

/// One session's figures.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
struct SessionFigures {
    onsite: ModalityFigures,
    online: ModalityFigures,
    hub: ModalityFigures,
    room: SideShares,
    remote: SideShares,
    /// The moderator's "grant this" overrides, as the report counts them.
    granted_out_of_order: usize,
    /// Commands the core refused.
    refused: usize,
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

impl Session {
    /// The figures of the session, from the report's fold of its log.
    fn measure(&self) -> SessionFigures {
        let stats = Stats::of(&self.log);
        let modality_of =
            |p: ParticipantId| self.state.participants()[p.0 as usize].profile.modality;
        let [onsite, online, hub] = MODALITIES.map(|m| {
            let s = stats.by_modality.get(&m).cloned().unwrap_or_default();
            let served = self
                .state
                .turns()
                .iter()
                .filter(|t| modality_of(t.participant) == m);
            let waiting = self
                .state
                .requests()
                .iter()
                .filter(|r| r.state.is_queued() && modality_of(r.participant) == m);
            let some = |count: usize, ms: u64| (count > 0).then(|| secs(ms));
            let waits: Vec<u64> = served
                .map(|t| t.waited_ms)
                .chain(waiting.clone().map(|r| self.end.millis_since(r.queued_at)))
                .collect();
            ModalityFigures {
                requests: s.requests,
                turns: s.turns,
                unserved: waiting.count(),
                lost: self.lost[slot(m)],
                wait_mean_s: some(s.wait.count, s.wait.mean_ms),
                wait_median_s: some(s.wait.count, s.wait.median_ms),
                wait_p90_s: some(s.wait.count, s.wait.p90_ms),
                wait_all_mean_s: (!waits.is_empty())
                    .then(|| secs(waits.iter().sum::<u64>() / waits.len() as u64)),
                wait_longest_s: waits.iter().max().copied().map(secs),
                speaking_mean_s: some(s.speaking.count, s.speaking.mean_ms),
                speaking_total_s: secs(s.speaking.total_ms),
            }
        });
        let side = |f: fn(&ModalityFigures) -> f64| {
            let (room, remote) = (f(&onsite), f(&online) + f(&hub));
            let pct = |x: f64| (room + remote > 0.0).then(|| 100.0 * x / (room + remote));
            (pct(room), pct(remote))
        };
        let requests = side(|m| m.requests as f64);
        let turns = side(|m| m.turns as f64);
        let speaking = side(|m| m.speaking_total_s);
        SessionFigures {
            room: SideShares {
                requests_pct: requests.0,
                turns_pct: turns.0,
                speaking_pct: speaking.0,
            },
            remote: SideShares {
                requests_pct: requests.1,
                turns_pct: turns.1,
                speaking_pct: speaking.1,
            },
            granted_out_of_order: stats
                .overrides
                .iter()
                .filter(|o| o.action == "granted_out_of_order")
                .count(),
            refused: self.refused,
            onsite,
            online,
            hub,
        }
    }
}

/// The mean across runs, figure by figure (runs have the same shape); a figure no run had
/// (say, waits of a modality that never spoke) stays `null`. One decimal.
fn mean(runs: &[Value]) -> Value {
    if let Some(Value::Object(first)) = runs.first() {
        return first
            .keys()
            .map(|k| {
                let figure: Vec<Value> = runs.iter().map(|r| r[k].clone()).collect();
                (k.clone(), mean(&figure))
            })
            .collect::<Map<_, _>>()
            .into();
    }
    let values: Vec<f64> = runs.iter().filter_map(Value::as_f64).collect();
    if values.is_empty() {
        return Value::Null;
    }
    let m = values.iter().sum::<f64>() / values.len() as f64;
    json!((m * 10.0).round() / 10.0)
}

const LABEL: usize = 36;
const COLUMN: usize = 18;
const WIDTH: usize = 100;

/// How a figure reads.
#[derive(Clone, Copy)]
enum Unit {
    Count,
    Clock,
}

/// The per-modality figures of the table, in order.
const PER_MODALITY: [(&str, &str, Unit); 10] = [
    ("Requests made", "requests", Unit::Count),
    ("Turns given", "turns", Unit::Count),
    ("Still waiting at the end", "unserved", Unit::Count),
    ("Lost: nobody free to ask", "lost", Unit::Count),
    ("Mean wait (m:ss)", "wait_mean_s", Unit::Clock),
    ("Median wait", "wait_median_s", Unit::Clock),
    ("90th percentile wait", "wait_p90_s", Unit::Clock),
    (
        "Mean wait, still waiting incl.",
        "wait_all_mean_s",
        Unit::Clock,
    ),
    (
        "Longest wait, still waiting incl.",
        "wait_longest_s",
        Unit::Clock,
    ),
    ("Mean speaking time", "speaking_mean_s", Unit::Clock),
];

fn cell(v: &Value, unit: Unit) -> String {
    match (v.as_f64(), unit) {
        (None, _) => "-".into(),
        (Some(x), Unit::Count) => format!("{x:.1}"),
        (Some(x), Unit::Clock) => {
            let s = x.round() as u64;
            format!("{}:{:02}", s / 60, s % 60)
        }
    }
}

/// The reading guide, then one column per policy.
fn table(a: &SimulateArgs, results: &[(Contender, Value)]) -> String {
    let guide = format!(
        "Each policy plays the same {runs} synthetic sessions of {min} minutes (seeds {s0} to \
         {s1}) through rostrum's queue core; every figure is the mean over those sessions. \
         Requests arrive at random: {on}/h from the room ({onp} people), {ol}/h online ({olp} \
         people) and {hb}/h from {hubs} hubs. Someone with a request open does not ask again, \
         so an arrival that finds everyone of its modality waiting is lost. Turn lengths are drawn \
         with a mean of {speak} s and cut at the {limit} s limit; the next speaker is called as \
         soon as a turn ends. When a remote request heads the queue, the moderator gives the floor to the \
         first person in the room instead with probability {bias}. Every policy has the default \
         {guard}-minute starvation guard; alternate 2:1 gives the room two turns per remote one. \
         Waits count the requests that got their turn, except the rows \"still waiting incl.\", \
         which also count those still waiting at the end, up to the end. Room is onsite; remote \
         is online and hubs.",
        runs = a.runs,
        min = a.minutes,
        s0 = a.seed,
        s1 = a.seed.wrapping_add(a.runs - 1),
        on = a.onsite_per_hour,
        onp = a.onsite_people,
        ol = a.online_per_hour,
        olp = a.online_people,
        hb = a.hub_per_hour,
        hubs = a.hubs,
        speak = a.speak_secs,
        limit = a.time_limit_secs,
        bias = a.room_bias,
        guard = Policy::default().starvation_ms.unwrap_or(0) / 60_000,
    );
    let mut out = wrap(&guide, WIDTH);
    out.push('\n');
    let mut row = |label: &str, cells: &mut dyn Iterator<Item = String>| {
        let _ = write!(out, "{label:<LABEL$}");
        for c in cells {
            let _ = write!(out, "{c:>COLUMN$}");
        }
        out.truncate(out.trim_end_matches(' ').len());
        out.push('\n');
    };
    row("", &mut results.iter().map(|(c, _)| c.label.to_owned()));
    for (heading, key, unit) in PER_MODALITY {
        row(heading, &mut std::iter::empty());
        for m in ["onsite", "online", "hub"] {
            row(
                &format!("  {m}"),
                &mut results.iter().map(|(_, v)| cell(&v[m][key], unit)),
            );
        }
    }
    row("Shares, room / remote", &mut std::iter::empty());
    for (label, key) in [
        ("requests", "requests_pct"),
        ("turns", "turns_pct"),
        ("speaking time", "speaking_pct"),
    ] {
        let share = |v: &Value| match (v["room"][key].as_f64(), v["remote"][key].as_f64()) {
            (Some(room), Some(remote)) => format!("{room:.0}% / {remote:.0}%"),
            _ => "-".into(),
        };
        row(
            &format!("  {label}"),
            &mut results.iter().map(|(_, v)| share(v)),
        );
    }
    for (label, key) in [
        ("Granted out of order", "granted_out_of_order"),
        ("Refused by the core", "refused"),
    ] {
        row(
            label,
            &mut results.iter().map(|(_, v)| cell(&v[key], Unit::Count)),
        );
    }
    out
}

/// `text` folded into lines of at most `width` characters (longer words stand alone).
fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            line = 0;
        }
        if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The defaults, as `rostrum simulate` with no flags gets them.
    fn defaults() -> SimulateArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            args: SimulateArgs,
        }
        Cli::parse_from(["simulate"]).args
    }

    /// An hour with equal demand from the room and online, more than the floor can serve
    /// (36 requests an hour, turns of about 2 min 15 s), so both sides keep a queue.
    fn equal() -> SimulateArgs {
        SimulateArgs {
            minutes: 60,
            onsite_per_hour: 18.0,
            online_per_hour: 18.0,
            hub_per_hour: 0.0,
            onsite_people: 40,
            online_people: 40,
            hubs: 0,
            speak_secs: 150,
            runs: 8,
            ..defaults()
        }
    }

    fn sessions(a: &SimulateArgs, order: Order) -> Vec<SessionFigures> {
        let policy = Policy {
            order,
            ..Policy::default()
        };
        (0..a.runs)
            .map(|i| play(a, policy, a.seed + i).unwrap().measure())
            .collect()
    }

    /// The mean of a figure over the sessions that have it.
    fn mean_of(runs: &[SessionFigures], f: impl Fn(&SessionFigures) -> Option<f64>) -> f64 {
        let v: Vec<f64> = runs.iter().filter_map(f).collect();
        assert!(!v.is_empty(), "no session has this figure");
        v.iter().sum::<f64>() / v.len() as f64
    }

    const ALTERNATE: Order = Order::Alternate { room: 1, remote: 1 };

    #[test]
    fn the_same_seed_plays_the_same_sessions() {
        let a = SimulateArgs {
            minutes: 30,
            runs: 2,
            ..defaults()
        };
        let table = run(&a).unwrap();
        assert_eq!(table, run(&a).unwrap());
        let json = SimulateArgs {
            format: SimulateFormat::Json,
            ..a.clone()
        };
        assert_eq!(run(&json).unwrap(), run(&json).unwrap());
        assert_ne!(table, run(&SimulateArgs { seed: 2, ..a }).unwrap());
    }

    /// Waits here count the requests still waiting at the end: under a biased moderator many
    /// remote requests are never served, and the waits of the served alone would hide that.
    #[test]
    fn a_room_bias_makes_remote_people_wait_longer_under_fifo() {
        let fair = sessions(&equal(), Order::Fifo);
        let biased = sessions(
            &SimulateArgs {
                room_bias: 1.0,
                ..equal()
            },
            Order::Fifo,
        );
        let waited = |runs: &[SessionFigures], m: fn(&SessionFigures) -> &ModalityFigures| {
            mean_of(runs, |s| m(s).wait_all_mean_s)
        };
        let (f, b) = (waited(&fair, |s| &s.online), waited(&biased, |s| &s.online));
        assert!(b > 1.3 * f, "online mean wait {f:.0} s -> {b:.0} s");
        let (f, b) = (waited(&fair, |s| &s.onsite), waited(&biased, |s| &s.onsite));
        assert!(b < f, "the room waits less: {f:.0} s -> {b:.0} s");
        assert!(fair.iter().all(|s| s.granted_out_of_order == 0));
    }

    /// Alternation balances the turns of an unbiased moderator, but it cannot undo "grant this":
    /// each skip is a room turn the alternation counts, and is on the record as an override.
    #[test]
    fn alternate_balances_turns_but_cannot_undo_a_biased_moderator() {
        let fair = sessions(&equal(), ALTERNATE);
        let share = mean_of(&fair, |s| s.remote.turns_pct);
        let asked = mean_of(&fair, |s| s.remote.requests_pct);
        assert!((38.0..=62.0).contains(&share), "remote turns {share:.1}%");
        assert!(
            (share - asked).abs() < 6.0,
            "turns {share:.1}%, requests {asked:.1}%"
        );
        assert!(fair.iter().all(|s| s.granted_out_of_order == 0));

        let biased = sessions(
            &SimulateArgs {
                room_bias: 0.5,
                ..equal()
            },
            ALTERNATE,
        );
        let skewed = mean_of(&biased, |s| s.remote.turns_pct);
        // With both sides always waiting, 1:1 and a bias b still leave the remote side one turn
        // in every 1 + 1 / (1 - b): a third at b = 0.5.
        assert!(
            (100.0 / 3.0..share).contains(&skewed),
            "remote turns {share:.1}% -> {skewed:.1}%"
        );
        assert!(biased.iter().map(|s| s.granted_out_of_order).sum::<usize>() > 0);
        let waited = |runs: &[SessionFigures]| mean_of(runs, |s| s.online.wait_all_mean_s);
        assert!(waited(&biased) > waited(&fair));
    }

    #[test]
    fn no_policy_gives_more_turns_than_requests() {
        let a = SimulateArgs {
            minutes: 45,
            runs: 4,
            room_bias: 0.3,
            ..defaults()
        };
        for c in CONTENDERS {
            for s in sessions(&a, c.order) {
                for m in [&s.onsite, &s.online, &s.hub] {
                    assert!(m.turns <= m.requests, "{}: {m:?}", c.label);
                    // Nobody lowers a hand here: each request is served or still waits.
                    assert_eq!(m.turns + m.unserved, m.requests, "{}: {m:?}", c.label);
                }
            }
        }
    }

    #[test]
    fn both_formats_show_every_policy_and_bad_inputs_are_refused() {
        let a = SimulateArgs {
            minutes: 20,
            runs: 2,
            ..defaults()
        };
        let table = run(&a).unwrap();
        for c in CONTENDERS {
            assert!(table.contains(c.label), "{table}");
        }
        let json = run(&SimulateArgs {
            format: SimulateFormat::Json,
            ..a.clone()
        })
        .unwrap();
        let json: Value = serde_json::from_str(&json).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["alternate_1_1", "alternate_2_1", "fifo", "first_time_first"]
        );
        assert_eq!(json["alternate_2_1"]["policy"]["room"], 2);
        assert!(json["fifo"]["onsite"]["requests"].as_f64().unwrap() > 0.0);
        for bad in [
            SimulateArgs {
                room_bias: 1.5,
                ..a.clone()
            },
            SimulateArgs {
                runs: 0,
                ..a.clone()
            },
            SimulateArgs {
                time_limit_secs: 5,
                ..a.clone()
            },
            SimulateArgs {
                online_per_hour: f64::NAN,
                ..a.clone()
            },
        ] {
            assert!(run(&bad).is_err(), "{bad:?}");
        }
    }

    /// The example in `docs/simulator.md`:
    /// `cargo test -p rostrum-tools --lib simulate::tests::example -- --ignored --nocapture`.
    #[test]
    #[ignore = "prints the example of docs/simulator.md"]
    fn example() {
        print!(
            "{}",
            run(&SimulateArgs {
                room_bias: 0.3,
                ..defaults()
            })
            .unwrap()
        );
    }
}
