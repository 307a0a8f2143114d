//! Durable throughput and replay time of the embedded SQLite store, through the real session
//! actors (decide, append, apply, publish), on this machine's disk.
//!
//! 1. Commands per second across 100 live sessions, each driven by one client that sends its
//!    next command when the last is acknowledged, with `synchronous=FULL` and group commit; the
//!    same run on the in-memory log is the baseline (the cost of everything but the disk), so
//!    the ratio is what durability costs. Ack latency percentiles come from every command.
//! 2. Replay at start: load and fold 1,000 sessions of 1,000 events each.
//!
//! `cargo bench --bench store`; `ROSTRUM_BENCH_QUICK=1` runs a small smoke version.

use std::sync::Arc;

use futures_util::StreamExt;
use std::time::{Duration, Instant};

use rostrum::hub::{Hub, NewSession};
use rostrum::queue::{
    Actor, Command, FloorSeen, Modality, Profile, RequestKind, State, Target, Timestamp,
};
use rostrum::session::{Answer, Runtime, SessionConfig};
use rostrum::store::{EventLog, MemoryLog, SessionMeta, SqliteLog, SqliteOptions};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

fn quick() -> bool {
    std::env::var("ROSTRUM_BENCH_QUICK").is_ok_and(|v| v == "1")
}

/// The command a client sends at step `i`: walk-ins join and are granted and ended in turn.
fn command(i: u64) -> Command {
    match i % 3 {
        0 => Command::AddProxy {
            profile: Profile::new(format!("Walk-in {i}"), "Bench IGF", Modality::Onsite),
            kind: RequestKind::Question,
            note: None,
        },
        1 => Command::GrantFloor {
            target: Target::Next,
            force: true,
            seen: FloorSeen::Any,
            reason: None,
        },
        _ => Command::EndTurn {
            seen: FloorSeen::Any,
        },
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Drive `sessions` sessions with `per_session` commands each; returns (commands/s, latencies).
async fn drive(
    store: Arc<dyn EventLog>,
    sessions: usize,
    per_session: u64,
) -> (f64, Vec<Duration>) {
    let hub = Hub::new(Runtime {
        store,
        config: SessionConfig::default(),
        cancel: CancellationToken::new(),
        tracker: TaskTracker::new(),
    });
    let mut handles = Vec::new();
    for k in 0..sessions {
        let meta = hub
            .create(
                NewSession {
                    title: format!("Bench {k}"),
                    ..Default::default()
                },
                Timestamp(1),
            )
            .await
            .unwrap();
        handles.push(hub.get(meta.id).await.unwrap().unwrap());
    }
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (k, h) in handles.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(per_session as usize);
            // A client secret, as every page has one: each answer is recorded with its events.
            let secret = format!("bench-client-{k}");
            for i in 0..per_session {
                let t = Instant::now();
                let answer = h
                    .command(Actor::Chair, Some(secret.clone()), i, command(i))
                    .await
                    .unwrap();
                assert!(matches!(answer, Answer::Ack { .. }), "{answer:?}");
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let rate = all.len() as f64 / started.elapsed().as_secs_f64();
    all.sort();
    (rate, all)
}

fn report(name: &str, rate: f64, lat: &[Duration], baseline: Option<f64>) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let ratio = baseline.map_or(String::new(), |b| {
        format!("  ({:.2}x the in-memory rate)", rate / b)
    });
    println!(
        "{name:<28} {rate:>9.0} commands/s   ack p50 {:>6.2} ms  p90 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms{ratio}",
        ms(percentile(lat, 0.50)),
        ms(percentile(lat, 0.90)),
        ms(percentile(lat, 0.99)),
        ms(*lat.last().unwrap()),
    );
}

/// 1,000 sessions of 1,000 real events each (opening, then walk-ins added, granted, ended).
async fn fill(log: &SqliteLog, sessions: usize, events: usize) -> Vec<SessionMeta> {
    let mut state = State::default();
    let mut log_events = Vec::new();
    let open = Command::OpenSession {
        title: "Replay".into(),
        policy: Default::default(),
        limits: Default::default(),
        agenda: Vec::new(),
    };
    let mut cmds =
        std::iter::once((Actor::Organizer, open)).chain((0..).map(|i| (Actor::Chair, command(i))));
    while log_events.len() < events {
        let (actor, cmd) = cmds.next().unwrap();
        for e in rostrum::queue::decide(&state, actor, cmd, Timestamp(log_events.len() as u64 + 1))
            .unwrap()
        {
            state.apply(&e);
            log_events.push(e);
        }
    }
    log_events.truncate(events);
    let mut metas = Vec::new();
    for _ in 0..sessions {
        let meta = SessionMeta {
            id: rostrum::ids::SessionId::random(),
            created_at: Timestamp(1),
            epoch: 1,
            key_epoch: 1,
        };
        log.create(&meta, &log_events).await.unwrap();
        metas.push(meta);
    }
    metas
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let (sessions, per_session, rounds) = if quick() { (10, 30, 1) } else { (100, 300, 3) };
    println!(
        "rostrum store bench: {sessions} sessions x {per_session} commands, {rounds} rounds, {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    let mut memory_rates = Vec::new();
    let mut durable_rates = Vec::new();
    for round in 0..rounds {
        let (rate, lat) = drive(Arc::new(MemoryLog::new()), sessions, per_session).await;
        report(&format!("in memory (baseline) #{round}"), rate, &lat, None);
        memory_rates.push(rate);
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteLog::open(dir.path(), SqliteOptions::default()).unwrap());
        let (rate, lat) = drive(store, sessions, per_session).await;
        report(
            &format!("sqlite, synchronous=FULL #{round}"),
            rate,
            &lat,
            Some(memory_rates[round]),
        );
        durable_rates.push(rate);
    }
    durable_rates.sort_by(f64::total_cmp);
    memory_rates.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v[v.len() / 2];
    println!(
        "median: {:.0} durable commands/s, {:.0} in memory, ratio {:.2}",
        median(&durable_rates),
        median(&memory_rates),
        median(&durable_rates) / median(&memory_rates)
    );

    let (n, events) = if quick() { (20, 200) } else { (1_000, 1_000) };
    let dir = tempfile::tempdir().unwrap();
    let log = SqliteLog::open(dir.path(), SqliteOptions::default()).unwrap();
    let metas = fill(&log, n, events).await;
    drop(log); // close and checkpoint, as a stopped service leaves it
    for parallel in [1, 4] {
        let mut times = Vec::new();
        for _ in 0..rounds {
            let started = Instant::now();
            let log = Arc::new(SqliteLog::open(dir.path(), SqliteOptions::default()).unwrap());
            let folded: u64 = futures_util::stream::iter(metas.iter().map(|m| {
                let (log, id) = (log.clone(), m.id);
                async move {
                    let evs = log.load(id, 0).await.unwrap();
                    tokio::task::spawn_blocking(move || State::replay(&evs).seq())
                        .await
                        .unwrap()
                }
            }))
            .buffer_unordered(parallel)
            .fold(0, |a, b| async move { a + b })
            .await;
            assert_eq!(folded, (n * events) as u64);
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "replay: {n} sessions x {events} events loaded, checked and folded in {:.2} s, {parallel} at a time (median of {rounds})",
            times[times.len() / 2].as_secs_f64()
        );
    }
}
