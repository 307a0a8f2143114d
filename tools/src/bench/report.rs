//! The bench's figures: latency percentiles from the HDR histograms, rates, and the server's
//! memory and CPU from `/proc`.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::Serialize;

use super::client::Plan;
use super::viewers::Stalled;
use super::{BenchArgs, SessionLoad, histogram};

pub(super) use super::client::Sent;

use rostrum::metrics::TICKS_PER_SEC;
pub(super) use rostrum::metrics::Usage as Proc;

impl Sent {
    pub(super) fn add(&mut self, other: &Sent) {
        self.sent += other.sent;
        self.acked += other.acked;
        for (code, n) in &other.errors {
            *self.errors.entry(code.clone()).or_default() += n;
        }
        self.late_us.extend_from_slice(&other.late_us);
    }
}

/// Percentiles of one latency, in milliseconds.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Latency {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

impl Latency {
    fn of(h: &Histogram<u64>) -> Self {
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            count: h.len(),
            p50_ms: ms(h.value_at_quantile(0.5)),
            p90_ms: ms(h.value_at_quantile(0.9)),
            p99_ms: ms(h.value_at_quantile(0.99)),
            p999_ms: ms(h.value_at_quantile(0.999)),
            max_ms: ms(h.max()),
        }
    }
}

/// The server's side, when its pid was given.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Server {
    /// Resident memory before the viewers connected.
    pub rss_before_kib: u64,
    /// Resident memory with every viewer connected.
    pub rss_connected_kib: u64,
    /// Resident memory at the end.
    pub rss_end_kib: u64,
    /// (connected - before) / viewers.
    pub kib_per_connection: f64,
    /// CPU seconds used during the measured phase.
    pub cpu_secs: f64,
    /// CPU seconds per second: cores kept busy.
    pub cores: f64,
    /// CPU time per delivery, in microseconds.
    pub cpu_us_per_delivery: f64,
}

/// Connecting the viewers.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Connects {
    /// Viewers connected (hello answered).
    pub opened: usize,
    /// Viewers that failed to connect.
    pub failed: usize,
    /// Seconds from the first connect to the last welcome.
    pub secs: f64,
    /// Connections per second.
    pub per_sec: f64,
    /// The server's CPU time per viewer connected (from `/proc`, given `--pid`), in
    /// microseconds: the upgrade, the hello, the welcome and the snapshot (and with `--join`,
    /// the join), with nothing else happening.
    pub cpu_us_per_socket: Option<f64>,
}

/// A further batch of viewers connected into sessions already holding the others (`--batch`).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Batch {
    /// Connected (with `--join`: joined).
    pub opened: usize,
    /// Failed.
    pub failed: usize,
    /// Seconds from the first connect to the last.
    pub secs: f64,
    /// The server's CPU time per viewer of the batch, in microseconds (given `--pid`).
    pub cpu_us_per_socket: Option<f64>,
}

impl Batch {
    pub(super) fn of(
        c: &super::viewers::Connect,
        before: Option<Proc>,
        after: Option<Proc>,
    ) -> Self {
        Self {
            opened: c.ok,
            failed: c.failed,
            secs: c.secs,
            cpu_us_per_socket: cpu_us_per(before, after, c.ok),
        }
    }
}

/// CPU microseconds between two readings, per one of `n`.
fn cpu_us_per(before: Option<Proc>, after: Option<Proc>, n: usize) -> Option<f64> {
    let (before, after) = (before?, after?);
    let secs = after.cpu_ticks.saturating_sub(before.cpu_ticks) as f64 / TICKS_PER_SEC;
    Some(secs * 1e6 / n.max(1) as f64)
}

/// The commands sent.
#[derive(Debug, Clone, Serialize)]
pub struct Commands {
    /// Sent.
    pub sent: u64,
    /// Acknowledged.
    pub acked: u64,
    /// Refused, by error code.
    pub errors: BTreeMap<String, u64>,
    /// Commands whose update reached every reading viewer.
    pub complete: u64,
    /// How late the generator sent against the plan: its own lag, p99, in milliseconds.
    pub generator_late_p99_ms: f64,
    /// The same, median.
    pub generator_late_p50_ms: f64,
}

/// One bench run's figures.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// `hub` or `floor`.
    pub target: &'static str,
    /// Sessions driven.
    pub sessions: usize,
    /// Viewers per session.
    pub viewers: usize,
    /// Commanders per session.
    pub commanders: usize,
    /// Planned commands per second per session (0: saturation).
    pub rate: f64,
    /// Seconds of sending.
    pub duration_secs: f64,
    /// Seconds every connection was held idle first.
    pub idle_secs: f64,
    /// Connecting.
    pub connect: Connects,
    /// Viewers dropped by the end of the idle hold.
    pub dropped_idle: u64,
    /// Commands.
    pub commands: Commands,
    /// One viewer receiving one update, from the command's planned time.
    pub delivery: Latency,
    /// A command, until its last viewer received it.
    pub command: Latency,
    /// Updates received by viewers.
    pub deliveries: u64,
    /// Deliveries per second during the sending.
    pub deliveries_per_sec: f64,
    /// Mean update size.
    pub bytes_per_delivery: f64,
    /// The server, from `/proc`.
    pub server: Option<Server>,
    /// Slow clients.
    pub stalled: Stalled,
    /// Whether the viewers joined as participants (`--join`).
    pub join: bool,
    /// The further batch, with `--batch`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch: Option<Batch>,
}

pub(super) struct Inputs<'a> {
    pub args: &'a BenchArgs,
    pub loads: &'a [std::sync::Arc<SessionLoad>],
    pub plan: &'a Plan,
    pub sent: Sent,
    pub connect_secs: f64,
    pub connected: usize,
    pub failed: usize,
    pub dropped_idle: u64,
    pub stalled: Stalled,
    /// Reading viewers per session.
    pub expected: u32,
    pub elapsed: Duration,
    /// Before connecting, connected, at the start and at the end of the sending.
    pub procs: [Option<Proc>; 4],
    pub batch: Option<Batch>,
}

impl Report {
    pub(super) fn build(i: Inputs<'_>) -> Self {
        let mut delivery = histogram();
        let mut command = histogram();
        let (mut deliveries, mut in_window, mut bytes, mut complete) = (0, 0, 0, 0);
        for load in i.loads {
            for shard in &load.shards {
                if let Ok(h) = shard.lock() {
                    let _ = delivery.add(&*h);
                }
            }
            deliveries += load.deliveries.load(Ordering::Relaxed);
            in_window += load.in_window.load(Ordering::Relaxed);
            bytes += load.bytes.load(Ordering::Relaxed);
            for slot in &load.slots {
                let planned = slot.planned.load(Ordering::Relaxed);
                if planned > 0 && i.expected > 0 && slot.seen.load(Ordering::Relaxed) >= i.expected
                {
                    complete += 1;
                    let last = slot.last.load(Ordering::Relaxed);
                    command.saturating_record((last.saturating_sub(planned) / 1000).max(1));
                }
            }
        }
        let mut late = histogram();
        for us in &i.sent.late_us {
            late.saturating_record((*us).max(1));
        }
        let window_secs = Duration::from_nanos(i.plan.end - i.plan.start)
            .as_secs_f64()
            .min(i.elapsed.as_secs_f64());
        let server = match i.procs {
            [Some(before), Some(connected), Some(start), Some(end)] => {
                let cpu_secs = (end.cpu_ticks - start.cpu_ticks) as f64 / TICKS_PER_SEC;
                Some(Server {
                    rss_before_kib: before.rss_kib,
                    rss_connected_kib: connected.rss_kib,
                    rss_end_kib: end.rss_kib,
                    kib_per_connection: (connected.rss_kib as f64 - before.rss_kib as f64)
                        / i.connected.max(1) as f64,
                    cpu_secs,
                    cores: cpu_secs / i.elapsed.as_secs_f64(),
                    cpu_us_per_delivery: cpu_secs * 1e6 / deliveries.max(1) as f64,
                })
            }
            _ => None,
        };
        Self {
            target: if i.args.floor { "floor" } else { "hub" },
            sessions: i.args.sessions,
            viewers: i.args.viewers,
            commanders: i.args.commanders,
            rate: i.args.rate,
            duration_secs: Duration::from(i.args.duration).as_secs_f64(),
            idle_secs: Duration::from(i.args.idle).as_secs_f64(),
            connect: Connects {
                opened: i.connected,
                failed: i.failed,
                secs: i.connect_secs,
                per_sec: i.connected as f64 / i.connect_secs.max(1e-9),
                cpu_us_per_socket: cpu_us_per(i.procs[0], i.procs[1], i.connected),
            },
            dropped_idle: i.dropped_idle,
            commands: Commands {
                sent: i.sent.sent,
                acked: i.sent.acked,
                errors: i.sent.errors,
                complete,
                generator_late_p99_ms: late.value_at_quantile(0.99) as f64 / 1000.0,
                generator_late_p50_ms: late.value_at_quantile(0.5) as f64 / 1000.0,
            },
            delivery: Latency::of(&delivery),
            command: Latency::of(&command),
            deliveries,
            deliveries_per_sec: in_window as f64 / window_secs.max(1e-9),
            bytes_per_delivery: bytes as f64 / deliveries.max(1) as f64,
            server,
            stalled: i.stalled,
            join: i.args.join,
            batch: i.batch,
        }
    }
}

impl fmt::Display for Latency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "p50 {:.2} ms, p90 {:.2}, p99 {:.2}, p99.9 {:.2}, max {:.2} ({} samples)",
            self.p50_ms, self.p90_ms, self.p99_ms, self.p999_ms, self.max_ms, self.count
        )
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.connect;
        writeln!(
            f,
            "{}: {} session(s) x {} viewers + {} commander(s), {} commands/s each, {} s",
            self.target,
            self.sessions,
            self.viewers,
            self.commanders,
            self.rate,
            self.duration_secs
        )?;
        writeln!(
            f,
            "connect:    {} opened ({} failed) in {:.2} s: {:.0}/s; {} dropped while idle",
            c.opened, c.failed, c.secs, c.per_sec, self.dropped_idle
        )?;
        if let Some(us) = c.cpu_us_per_socket {
            writeln!(f, "connect:    server CPU {us:.1} us per socket")?;
        }
        if let Some(b) = &self.batch {
            writeln!(
                f,
                "batch:      {} more {} ({} failed) in {:.2} s; server CPU {} per socket",
                b.opened,
                if self.join { "joined" } else { "opened" },
                b.failed,
                b.secs,
                b.cpu_us_per_socket
                    .map_or_else(|| "?".to_owned(), |us| format!("{us:.1} us"))
            )?;
        }
        let m = &self.commands;
        writeln!(
            f,
            "commands:   {} sent, {} acked, errors {:?}, {} reached every viewer; generator late p50 {:.2} ms, p99 {:.2} ms",
            m.sent, m.acked, m.errors, m.complete, m.generator_late_p50_ms, m.generator_late_p99_ms
        )?;
        writeln!(f, "delivery:   {}", self.delivery)?;
        writeln!(f, "command:    {} (last viewer)", self.command)?;
        writeln!(
            f,
            "throughput: {} deliveries, {:.0}/s, {:.0} bytes each",
            self.deliveries, self.deliveries_per_sec, self.bytes_per_delivery
        )?;
        if let Some(s) = &self.server {
            writeln!(
                f,
                "server:     RSS {} -> {} -> {} KiB ({:.2} KiB per connection); CPU {:.2} s = {:.2} cores, {:.2} us per delivery",
                s.rss_before_kib,
                s.rss_connected_kib,
                s.rss_end_kib,
                s.kib_per_connection,
                s.cpu_secs,
                s.cores,
                s.cpu_us_per_delivery
            )?;
        }
        if self.stalled.stalled > 0 {
            writeln!(
                f,
                "stalled:    {} viewers stopped reading; the server closed {} of them",
                self.stalled.stalled, self.stalled.disconnected
            )?;
        }
        Ok(())
    }
}
