//! decide + apply throughput of the pure queue core with 1,000 waiting requests, under each
//! ordering policy (starvation guard on), against a bare baseline.
//!
//! The measured loop is a steady-state mix that keeps about 1,000 requests waiting: grant the
//! next speaker, end the turn, the speaker raises again (to the back), someone lowers and raises
//! again, a remote request is marked ready, a request changes kind. Every command must succeed;
//! a refused command panics, so refusals are never measured. The baseline does the same number
//! of operations on the simplest possible queue (a `VecDeque` with no rules): what a queue that
//! decides nothing costs here. Single-threaded; run it pinned (`taskset -c 1`).
//!
//! `cargo bench --bench queue`; `ROSTRUM_BENCH_QUICK=1` runs a small smoke version.

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::Instant;

use rostrum::queue::{
    Actor, Command, FloorSeen, Modality, Order, ParticipantId, Policy, Profile, RAISE_BURST,
    RAISE_WINDOW_MS, RequestId, RequestKind, State, Target, TimeLimits, Timestamp, decide,
};

const WAITING: u32 = 1_000;
const PEOPLE: u32 = 2_000;
/// Server time between two commands: a busy meeting at ten commands a second. (Far less would
/// have every participant raise many times a minute, which the raise throttle refuses.)
const STEP_MS: u64 = 100;
/// Commands per cycle of the measured loop.
const PER_CYCLE: u64 = 8;

struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u32) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % u64::from(n)) as u32
    }
}

struct Bench {
    s: State,
    now: u64,
    rng: Rng,
}

impl Bench {
    fn run(&mut self, actor: Actor, c: Command) {
        self.now += STEP_MS;
        match decide(&self.s, actor, c, Timestamp(self.now)) {
            Ok(events) => {
                for e in &events {
                    self.s.apply(e);
                }
            }
            Err(r) => panic!("refused: {r}"),
        }
    }

    fn open_request(&self, p: u32) -> Option<RequestId> {
        self.s.participant(ParticipantId(p))?.open_request
    }

    fn setup(order: Order) -> Self {
        let mut b = Bench {
            s: State::default(),
            now: 1_000_000,
            rng: Rng(0x2545_f491_4f6c_dd1d),
        };
        let policy = Policy {
            order,
            starvation_ms: Some(15 * 60_000),
        };
        let open = Command::OpenSession {
            title: "Bench".into(),
            policy,
            limits: TimeLimits::default(),
            agenda: Vec::new(),
        };
        b.run(Actor::Organizer, open);
        for i in 0..PEOPLE {
            let modality = [Modality::Onsite, Modality::Online, Modality::Hub][(i % 3) as usize];
            let mut p = Profile::new(format!("Person {i}"), "Bench IGF", modality);
            p.head_count = if modality == Modality::Hub { 12 } else { 1 };
            b.run(Actor::Newcomer, Command::Join { profile: p });
        }
        for i in 0..WAITING {
            b.raise(i);
        }
        b
    }

    fn raise(&mut self, p: u32) {
        let c = Command::RaiseHand {
            participant: ParticipantId(p),
            kind: RequestKind::Intervention,
            note: None,
        };
        self.run(Actor::Participant(ParticipantId(p)), c);
    }

    /// Whether `p`'s own raise would pass the raise throttle (3 in 30 s): the random mix hits it
    /// now and then, and a refusal is never measured.
    fn may_raise(&self, p: u32) -> bool {
        let raises = &self.s.participant(ParticipantId(p)).unwrap().recent_raises;
        raises.len() < RAISE_BURST
            || Timestamp(self.now + STEP_MS).millis_since(raises[0]) >= RAISE_WINDOW_MS
    }

    /// A random participant with (or without) a waiting request.
    fn pick(&mut self, waiting: bool) -> u32 {
        loop {
            let p = self.rng.below(PEOPLE);
            let queued = self
                .open_request(p)
                .is_some_and(|r| self.s.request(r).unwrap().state.is_queued());
            if queued == waiting
                && (waiting || (self.open_request(p).is_none() && self.may_raise(p)))
            {
                return p;
            }
        }
    }

    /// One cycle: eight commands, leaving as many waiting as before.
    fn cycle(&mut self) {
        let grant = Command::GrantFloor {
            target: Target::Next,
            force: true,
            seen: FloorSeen::Any,
            reason: None,
        };
        self.run(Actor::Chair, grant);
        let speaker = self.s.floor().expect("granted").participant.0;
        self.run(
            Actor::Chair,
            Command::EndTurn {
                seen: FloorSeen::Any,
            },
        );
        // The speaker raises again (someone else does, if the throttle holds them back).
        let again = if self.may_raise(speaker) {
            speaker
        } else {
            self.pick(false)
        };
        self.raise(again);
        // Someone waiting lowers their hand; someone not waiting raises theirs.
        let w = self.pick(true);
        let r = self.open_request(w).expect("picked with an open request");
        self.run(
            Actor::Participant(ParticipantId(w)),
            Command::LowerHand { request: r },
        );
        let n = self.pick(false);
        self.raise(n);
        let head = self.s.head(Timestamp(self.now)).expect("waiting").0;
        self.run(
            Actor::OnlineModerator,
            Command::MarkReady {
                request: head,
                ready: true,
            },
        );
        let owner = self.s.request(head).unwrap().participant;
        let change = Command::ChangeRequest {
            request: head,
            kind: RequestKind::Question,
            note: None,
        };
        self.run(Actor::Participant(owner), change);
        self.run(
            Actor::OnlineModerator,
            Command::MarkReady {
                request: head,
                ready: false,
            },
        );
    }
}

/// The same number of operations on a queue with no rules.
fn baseline(cycles: u64) -> f64 {
    let mut q: VecDeque<u32> = (0..WAITING).collect();
    let mut open = vec![false; PEOPLE as usize];
    for i in 0..WAITING {
        open[i as usize] = true;
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let started = Instant::now();
    for _ in 0..cycles {
        let speaker = q.pop_front().unwrap();
        q.push_back(speaker);
        let w = loop {
            let p = rng.below(PEOPLE);
            if open[p as usize] {
                break p;
            }
        };
        let at = q.iter().position(|&x| x == w).unwrap();
        q.remove(at);
        open[w as usize] = false;
        let n = loop {
            let p = rng.below(PEOPLE);
            if !open[p as usize] {
                break p;
            }
        };
        q.push_back(n);
        open[n as usize] = true;
        black_box(q.front());
        black_box(&open);
    }
    (cycles * PER_CYCLE) as f64 / started.elapsed().as_secs_f64()
}

fn median(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn main() {
    let quick = std::env::var("ROSTRUM_BENCH_QUICK").is_ok_and(|v| v == "1");
    let (rounds, cycles) = if quick { (2, 500) } else { (9, 25_000) };
    println!(
        "rostrum queue bench: decide + apply, {WAITING} waiting, {rounds} rounds of {} commands, one thread ({} cores here)",
        cycles * PER_CYCLE,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let (base, lo, hi) = median((0..rounds).map(|_| baseline(cycles)).collect());
    println!(
        "{:<32} {:>12.0} ops/s (min {lo:.0}, max {hi:.0})",
        "baseline: VecDeque, no rules", base
    );
    for (name, order) in [
        ("fifo", Order::Fifo),
        ("alternate 1:1", Order::Alternate { room: 1, remote: 1 }),
        ("first_time_first", Order::FirstTimeFirst),
    ] {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let mut b = Bench::setup(order);
            let started = Instant::now();
            for _ in 0..cycles {
                b.cycle();
            }
            rates.push((cycles * PER_CYCLE) as f64 / started.elapsed().as_secs_f64());
            assert!(
                b.s.queued_len() >= WAITING as usize - 1,
                "the queue stayed full ({})",
                b.s.queued_len()
            );
        }
        let (m, lo, hi) = median(rates);
        println!(
            "{:<32} {m:>12.0} commands/s (min {lo:.0}, max {hi:.0}), {:.3}x the baseline",
            format!("{name} + starvation guard"),
            m / base
        );
    }
    joins(rounds, if quick { 200 } else { 2_000 });
}

/// Joins into a session that already has `PEOPLE` participants: every join checks the name
/// (normalization, invisible characters, officials' titles) and tells twins apart, so this is
/// the cost anyone holding the join link can make the server pay. Everyone joins with the same
/// name (the worst case for telling twins apart): a short, usual name, and the longest name of
/// the most words (80 characters, 40 words).
fn joins(rounds: usize, n: u32) {
    let worst: String = "a ".repeat(40).trim_end().to_owned();
    for (label, name) in [
        ("join, usual name", "Ana Lima"),
        ("join, 40-word name", worst.as_str()),
    ] {
        let mut rates = Vec::new();
        for _ in 0..rounds {
            let mut b = Bench::setup(Order::Fifo);
            let started = Instant::now();
            for _ in 0..n {
                b.run(
                    Actor::Newcomer,
                    Command::Join {
                        profile: Profile::new(name, "Somewhere", Modality::Online),
                    },
                );
            }
            rates.push(f64::from(n) / started.elapsed().as_secs_f64());
        }
        let (m, lo, hi) = median(rates);
        println!("{label:<32} {m:>12.0} joins/s (min {lo:.0}, max {hi:.0})");
    }
}
