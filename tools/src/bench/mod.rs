//! `rostrum bench`: a load generator that drives a running hub (or `examples/floor.rs`, the bare
//! broadcast server it is compared with) through the real protocol, so an operator can size a
//! machine before an event.
//!
//! Per session it opens `viewers` read-only sockets and `commanders` participant sockets. Each
//! commander joins and raises one hand at setup; in the measured phase the commanders change
//! their requests' kind, which every viewer sees as an `update`. Commands follow an open-loop
//! schedule: command `k` of a session is planned at `start + k / rate`, sent then (or as soon
//! as its commander can, if late), and every latency is counted from the planned time, so a
//! stalled server cannot hide its stall by slowing the load (coordinated omission). Every
//! update names the `req` that caused it; `req` is `k + 1`, so each viewer's receive time maps
//! to its command's planned time on one clock, this process's.
//!
//! Reported: connects per second; per delivery (one viewer receiving one update) and per command
//! (the last viewer's receive) the p50, p90, p99, p99.9 and max; deliveries per second; and,
//! given the server's pid, its resident memory and CPU time from `/proc`.

mod client;
mod report;
mod viewers;
pub mod wire;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use clap::Args;
use hdrhistogram::Histogram;
use secrecy::{ExposeSecret, SecretString};

pub use report::Report;

/// `rostrum bench`
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// The server's base URL (the WebSocket is its `/ws`).
    #[arg(long, env = "ROSTRUM_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Another node of the same cluster for the viewers to connect to (commanders stay on
    /// `--url`): the delivery latency then crosses the cluster's store.
    #[arg(long)]
    pub viewers_url: Option<String>,
    /// The server's admin token, to create the sessions (not needed with `--floor`).
    #[arg(long, env = "ROSTRUM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<SecretString>,
    /// The target is `examples/floor.rs`: no sessions to create, no join.
    #[arg(long)]
    pub floor: bool,
    /// Sessions to create and drive at once.
    #[arg(long, default_value_t = 1)]
    pub sessions: usize,
    /// Read-only viewers per session.
    #[arg(long, default_value_t = 100)]
    pub viewers: usize,
    /// Participants sending the commands, per session.
    #[arg(long, default_value_t = 1)]
    pub commanders: usize,
    /// Commands per second per session, on an open-loop schedule; 0 sends as fast as answers
    /// come back, `--window` commands in flight per commander (saturation).
    #[arg(long, default_value_t = 10.0)]
    pub rate: f64,
    /// Commands in flight per commander when `--rate 0`.
    #[arg(long, default_value_t = 4)]
    pub window: usize,
    /// How long commands are sent, such as `10s`.
    #[arg(long, default_value = "10s")]
    pub duration: humantime::Duration,
    /// How long to hold every connection idle (pings only) before the commands, such as `10m`.
    #[arg(long, default_value = "0s")]
    pub idle: humantime::Duration,
    /// New connections per second while connecting (0: as fast as they open).
    #[arg(long, default_value_t = 5000.0)]
    pub connect_rate: f64,
    /// Spread client sockets over this many loopback source addresses (127.0.0.1, .2, ...),
    /// since one address has only about 28,000 ports; only for a loopback server.
    #[arg(long, default_value_t = 32)]
    pub source_ips: u8,
    /// Fraction of viewers (0 to 1) that stop reading once connected: slow clients.
    #[arg(long, default_value_t = 0.0)]
    pub stall: f64,
    /// The viewers are participants: each says hello on the session's participant link and
    /// joins (a distinct name each) before it counts as connected: the cost of filling a
    /// session, and with `--connect-rate`, a join storm.
    #[arg(long)]
    pub join: bool,
    /// After the viewers are connected (and held idle), connect this many more per session, the
    /// same way, and measure the server's CPU for them alone: the cost of a socket (or, with
    /// `--join`, a join) in a session already that full.
    #[arg(long, default_value_t = 0)]
    pub batch: usize,
    /// The server's process id, to read its memory and CPU time from `/proc`.
    #[arg(long)]
    pub pid: Option<u32>,
    /// Print the report as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Instead of a load: run a fixed script of commands (join, raise, change the kind, mark ready, grant,
    /// extend, end the turn, raise, move, lower) on a new session and report the bytes of
    /// updates each audience (moderator, participant, viewer) received per command.
    #[arg(long)]
    pub wire: bool,
    /// The protocol version `--wire` says hello with (1 measures a version-1 server, for a
    /// before-and-after comparison).
    #[arg(long, default_value_t = rostrum::protocol::VERSION)]
    pub protocol: u32,
}

/// Reqs at or above this are setup commands (join, raise), never measured.
const SETUP_REQ: u64 = 1 << 40;
/// Most commands per session in a saturation run.
const MAX_SATURATED: usize = 2_000_000;

/// One command of the schedule, and what the viewers saw of it.
#[derive(Default)]
struct Slot {
    /// Nanoseconds since the run's start at which it was planned (open loop) or sent.
    planned: AtomicU64,
    /// The latest receive time, in the same nanoseconds.
    last: AtomicU64,
    /// Viewers that received it.
    seen: AtomicU32,
}

/// What every task of one session shares.
struct SessionLoad {
    slots: Vec<Slot>,
    /// Delivery latencies in microseconds, sharded so viewers rarely share a lock.
    shards: Vec<std::sync::Mutex<Histogram<u64>>>,
    deliveries: AtomicU64,
    /// Deliveries received before the planned end of the sending, for the rate.
    in_window: AtomicU64,
    bytes: AtomicU64,
}

/// What the whole run shares.
struct Run {
    origin: Instant,
    /// When sending ends (ns), once the measured phase is planned.
    end: AtomicU64,
    /// Viewers whose connection ended before the run did.
    dropped: AtomicU64,
}

impl Run {
    fn nanos(&self) -> u64 {
        u64::try_from(self.origin.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

const SHARDS: usize = 16;

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
}

impl SessionLoad {
    fn new(commands: usize) -> Self {
        Self {
            slots: (0..commands).map(|_| Slot::default()).collect(),
            shards: (0..SHARDS)
                .map(|_| std::sync::Mutex::new(histogram()))
                .collect(),
            deliveries: AtomicU64::new(0),
            in_window: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
        }
    }

    /// A viewer received the update for `req` at `now` (ns); setup updates are not counted.
    fn delivered(&self, run: &Run, shard: usize, req: u64, now: u64, bytes: usize) {
        let Some(slot) = req
            .checked_sub(1)
            .and_then(|k| self.slots.get(usize::try_from(k).ok()?))
        else {
            return;
        };
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        if now <= run.end.load(Ordering::Relaxed) {
            self.in_window.fetch_add(1, Ordering::Relaxed);
        }
        self.bytes.fetch_add(bytes as u64, Ordering::Relaxed);
        let planned = slot.planned.load(Ordering::Acquire);
        slot.last.fetch_max(now, Ordering::Relaxed);
        slot.seen.fetch_add(1, Ordering::Relaxed);
        let micros = now.saturating_sub(planned) / 1000;
        if let Ok(mut h) = self.shards[shard % SHARDS].lock() {
            h.saturating_record(micros.max(1));
        }
    }
}

/// Where the server is, and how to reach it.
#[derive(Clone)]
struct Target {
    base: String,
    ws_url: String,
    addr: SocketAddr,
    sources: Vec<IpAddr>,
}

impl Target {
    async fn of(base: &str, source_ips: u8) -> anyhow::Result<Self> {
        let url = url::Url::parse(base).with_context(|| format!("{base:?}"))?;
        let host = url.host_str().context("the URL has no host")?;
        let port = url.port_or_known_default().context("the URL has no port")?;
        let addr = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .context("the URL's host has no address")?;
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        let sources = match addr.ip() {
            IpAddr::V4(ip) if ip.is_loopback() && source_ips > 1 => (1..=source_ips)
                .map(|i| IpAddr::V4(Ipv4Addr::new(127, 0, 0, i)))
                .collect(),
            _ => Vec::new(),
        };
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            ws_url: format!("{scheme}://{host}:{port}/ws"),
            addr,
            sources,
        })
    }

    fn source(&self, i: usize) -> Option<IpAddr> {
        (!self.sources.is_empty()).then(|| self.sources[i % self.sources.len()])
    }
}

/// A session to drive: its id and the participants' link token.
struct Session {
    id: String,
    join_token: Option<String>,
}

async fn create_sessions(args: &BenchArgs, target: &Target) -> anyhow::Result<Vec<Session>> {
    if args.floor {
        return Ok((0..args.sessions)
            .map(|i| Session {
                id: format!("{i:032x}"),
                join_token: None,
            })
            .collect());
    }
    let token = args
        .admin_token
        .as_ref()
        .map(ExposeSecret::expose_secret)
        .context("--admin-token (or ROSTRUM_ADMIN_TOKEN) is needed to create sessions")?;
    let http = reqwest::Client::new();
    let mut out = Vec::with_capacity(args.sessions);
    for i in 0..args.sessions {
        let body = serde_json::json!({
            "title": format!("bench {i}"),
            "policy": {"order": "fifo", "starvation_ms": 900_000},
            "limits": {"default_ms": 180_000, "per_kind": {}, "warning_ms": 30_000},
            "agenda": [],
        });
        let resp = http
            .post(format!("{}/api/sessions", target.base))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = resp.status();
        let json: serde_json::Value = resp.json().await?;
        anyhow::ensure!(status.is_success(), "creating a session: {status}: {json}");
        let link = json["links"]["participant"].as_str().unwrap_or_default();
        out.push(Session {
            id: json["id"].as_str().unwrap_or_default().to_owned(),
            join_token: link.split_once("#t=").map(|(_, t)| t.to_owned()),
        });
    }
    Ok(out)
}

/// Run the bench and return its report.
pub async fn run(args: &BenchArgs) -> anyhow::Result<Report> {
    anyhow::ensure!(
        args.sessions > 0 && args.commanders > 0,
        "need a session and a commander"
    );
    anyhow::ensure!((0.0..=1.0).contains(&args.stall), "--stall is a fraction");
    anyhow::ensure!(
        !(args.join && args.floor),
        "--join needs the hub: the floor has no join"
    );
    let target = Target::of(&args.url, args.source_ips).await?;
    let viewers_target = match &args.viewers_url {
        Some(url) => Target::of(url, args.source_ips).await?,
        None => target.clone(),
    };
    let sessions = create_sessions(args, &target).await?;
    let run = Arc::new(Run {
        origin: Instant::now(),
        end: AtomicU64::new(u64::MAX),
        dropped: AtomicU64::new(0),
    });
    let duration: Duration = args.duration.into();
    let commands = if args.rate > 0.0 {
        (args.rate * duration.as_secs_f64()).ceil() as usize
    } else {
        MAX_SATURATED
    };
    let loads: Vec<_> = (0..sessions.len())
        .map(|_| Arc::new(SessionLoad::new(commands)))
        .collect();

    // Commanders first (they join and raise a hand), then the viewers.
    let mut commanders = Vec::new();
    for (s, session) in sessions.iter().enumerate() {
        for c in 0..args.commanders {
            let i = s * args.commanders + c;
            let window = (args.rate <= 0.0).then_some(args.window.max(1));
            let cmd = client::Commander::connect(&target, i, session, args.floor, window)
                .await
                .with_context(|| format!("commander {c} of session {s}"))?;
            commanders.push((s, c, cmd));
        }
    }
    let before = report::Proc::of(args.pid);
    let stop = tokio_util::sync::CancellationToken::new();
    let crowd = viewers::Crowd {
        target: &viewers_target,
        sessions: &sessions,
        loads: &loads,
        run: &run,
        stop: &stop,
    };
    let mut connect = viewers::connect_viewers(args, &crowd, 0..args.viewers).await;
    let on_connect = report::Proc::of(args.pid);
    // The first connects' figures (a batch's are its own).
    let (connect_secs, connected, failed) = (connect.secs, connect.ok, connect.failed);

    let idle: Duration = args.idle.into();
    if !idle.is_zero() {
        tokio::time::sleep(idle).await;
    }
    let dropped_idle = run.dropped.load(Ordering::Relaxed);
    let batch = if args.batch > 0 {
        let before = report::Proc::of(args.pid);
        let more = args.viewers..args.viewers + args.batch;
        let batch = viewers::connect_viewers(args, &crowd, more).await;
        let after = report::Proc::of(args.pid);
        let figures = report::Batch::of(&batch, before, after);
        connect.absorb(batch);
        Some(figures)
    } else {
        None
    };

    // The measured phase.
    let start = run.nanos() + 200_000_000;
    // Sessions are spread over one period so that their commands do not all land at once, as
    // the sessions of a real conference do not.
    let spread = loads.len() as f64;
    for (s, load) in loads.iter().enumerate() {
        if args.rate > 0.0 {
            for (k, slot) in load.slots.iter().enumerate() {
                let at = start + ((k as f64 + s as f64 / spread) * 1e9 / args.rate) as u64;
                slot.planned.store(at, Ordering::Release);
            }
        }
    }
    let plan = client::Plan {
        start,
        end: start + u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
        rate: args.rate,
        commanders: args.commanders,
        commands,
    };
    run.end.store(plan.end, Ordering::Release);
    let at_start = report::Proc::of(args.pid);
    let t0 = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (s, c, cmd) in commanders {
        let (load, run, plan) = (loads[s].clone(), run.clone(), plan.clone());
        tasks.spawn(async move { cmd.drive(c, &plan, &load, &run).await });
    }
    let mut sent = report::Sent::default();
    while let Some(done) = tasks.join_next().await {
        sent.add(&done??);
    }
    // Let the last updates arrive: until every sent command reached every viewer still
    // connected, or two seconds.
    let expected = connect.viewers_per_session();
    let deadline = Instant::now() + Duration::from_secs(2);
    while Instant::now() < deadline
        && !loads.iter().all(|l| {
            l.slots
                .iter()
                .filter(|s| s.planned.load(Ordering::Relaxed) > 0)
                .take_while(|s| s.planned.load(Ordering::Relaxed) < plan.end)
                .all(|s| s.seen.load(Ordering::Relaxed) >= expected)
        })
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = t0.elapsed();
    let at_end = report::Proc::of(args.pid);
    stop.cancel();
    let stalled = connect.finish().await;
    Ok(Report::build(report::Inputs {
        args,
        loads: &loads,
        plan: &plan,
        sent,
        connect_secs,
        connected,
        failed,
        dropped_idle,
        stalled,
        expected,
        elapsed,
        procs: [before, on_connect, at_start, at_end],
        batch,
    }))
}
