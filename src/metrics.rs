//! Prometheus metrics: the `metrics` facade with its Prometheus recorder (no listener of its own;
//! `GET /metrics` renders it), plus the process's memory, CPU and open files read from `/proc`
//! on each scrape.
//!
//! Hot paths hold their handles ([`Hot`]): a frame counted is one atomic add, no lookup.
//! Metric names are part of the operator's interface (`deploy/grafana/rostrum.json` uses
//! them); `docs/observability.md` says what each one measures.

use std::fmt::Write as _;
use std::sync::OnceLock;

use metrics::{Counter, Gauge, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets, in seconds: 100 us to 10 s.
const LATENCY_BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// The handles the hot paths use.
pub struct Hot {
    /// Text and binary frames received from clients.
    pub frames_in: Counter,
    /// Frames written to clients.
    pub frames_out: Counter,
    /// Commands carried out (acknowledged).
    pub commands_ok: Counter,
    /// Commands refused or failed (`rostrum_command_errors_total` has the codes).
    pub commands_error: Counter,
    /// Store append latency.
    pub append: Histogram,
    /// From the actor taking a command to its update handed to every subscriber.
    pub fanout: Histogram,
    /// Session actors running.
    pub sessions: Gauge,
    /// Clients that fell behind and were caught up (resume window or snapshot).
    pub resync: Counter,
    /// Clients dropped because a write did not finish in time.
    pub disconnect: Counter,
    /// Appends refused because another node appended first (a shared log).
    pub conflicts: Counter,
    /// Appends made by other nodes and applied here (a shared log).
    pub followed: Counter,
    /// Session logs replayed to start an actor.
    pub session_loads: Counter,
    /// Commands decided and stored together with others that waited with them.
    pub batched: Counter,
}

struct Installed {
    prometheus: PrometheusHandle,
    hot: Hot,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

fn installed() -> &'static Installed {
    INSTALLED.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Suffix("_seconds".into()),
                &LATENCY_BUCKETS,
            )
            .expect("buckets are not empty")
            .build_recorder();
        let prometheus = recorder.handle();
        // Another recorder installed first (a test harness, say) only means ours sees nothing.
        let _ = metrics::set_global_recorder(recorder);
        describe();
        Installed {
            prometheus,
            hot: Hot {
                frames_in: metrics::counter!("rostrum_ws_frames_in_total"),
                frames_out: metrics::counter!("rostrum_ws_frames_out_total"),
                commands_ok: metrics::counter!("rostrum_commands_total", "outcome" => "ok"),
                commands_error: metrics::counter!("rostrum_commands_total", "outcome" => "error"),
                append: metrics::histogram!("rostrum_append_seconds"),
                fanout: metrics::histogram!("rostrum_fanout_seconds"),
                sessions: metrics::gauge!("rostrum_sessions_live"),
                resync: metrics::counter!("rostrum_slow_client_total", "action" => "resync"),
                disconnect: metrics::counter!("rostrum_slow_client_total", "action" => "disconnect"),
                conflicts: metrics::counter!("rostrum_append_conflicts_total"),
                followed: metrics::counter!("rostrum_followed_appends_total"),
                session_loads: metrics::counter!("rostrum_session_loads_total"),
                batched: metrics::counter!("rostrum_commands_batched_total"),
            },
        }
    })
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_gauge!(
        "rostrum_connections",
        "Open WebSockets past their hello, by role."
    );
    describe_gauge!(
        "rostrum_sessions_live",
        "Session actors running on this node."
    );
    describe_counter!("rostrum_commands_total", "Commands answered, by outcome.");
    describe_counter!(
        "rostrum_command_errors_total",
        "Commands refused or failed, by error code."
    );
    describe_histogram!(
        "rostrum_append_seconds",
        metrics::Unit::Seconds,
        "Appending a command's events to the store."
    );
    describe_histogram!(
        "rostrum_fanout_seconds",
        metrics::Unit::Seconds,
        "From the session actor taking a command to its update handed to every subscriber."
    );
    describe_counter!(
        "rostrum_slow_client_total",
        "Clients that fell behind, by what was done."
    );
    describe_counter!(
        "rostrum_append_conflicts_total",
        "Appends refused because another node appended first; the command was decided again."
    );
    describe_counter!(
        "rostrum_followed_appends_total",
        "Appends by other nodes applied to this node's sessions."
    );
    describe_counter!(
        "rostrum_ws_frames_in_total",
        "WebSocket frames received from clients."
    );
    describe_counter!(
        "rostrum_ws_frames_out_total",
        "WebSocket frames sent to clients."
    );
    describe_counter!(
        "rostrum_session_loads_total",
        "Session logs replayed to start an actor (once per start, however many clients asked)."
    );
    describe_counter!(
        "rostrum_commands_batched_total",
        "Commands that waited together in a session's mailbox and were decided and committed together."
    );
}

/// The hot paths' handles (installing the recorder on first use).
pub fn hot() -> &'static Hot {
    &installed().hot
}

/// Install the recorder now, so the first scrape already lists every metric.
pub fn install() {
    installed();
}

/// A refused or failed command, by its wire code.
pub fn command_error(code: &'static str) {
    hot().commands_error.increment(1);
    metrics::counter!("rostrum_command_errors_total", "code" => code).increment(1);
}

/// An open connection of `role`, counted until it is dropped.
pub struct ConnectionGauge(Gauge);

impl ConnectionGauge {
    /// Count one more connection of `role`.
    pub fn open(role: &'static str) -> Self {
        installed();
        let gauge = metrics::gauge!("rostrum_connections", "role" => role);
        gauge.increment(1.0);
        Self(gauge)
    }
}

impl Drop for ConnectionGauge {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The Prometheus text: the recorder's metrics, then the process's.
pub fn render() -> String {
    let mut out = installed().prometheus.render();
    if let Some(p) = Usage::of(None) {
        let open_fds = std::fs::read_dir("/proc/self/fd").map_or(0, Iterator::count);
        let _ = write!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n\
             # TYPE process_resident_memory_bytes gauge\n\
             process_resident_memory_bytes {}\n\
             # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.\n\
             # TYPE process_cpu_seconds_total counter\n\
             process_cpu_seconds_total {}\n\
             # HELP process_open_fds Number of open file descriptors.\n\
             # TYPE process_open_fds gauge\n\
             process_open_fds {}\n",
            p.rss_kib * 1024,
            p.cpu_ticks as f64 / TICKS_PER_SEC,
            open_fds
        );
    }
    out
}

/// A process's memory and CPU time, from `/proc/PID` (Linux).
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// Resident memory, KiB.
    pub rss_kib: u64,
    /// User plus system CPU time, in clock ticks (`USER_HZ`, 100 on Linux).
    pub cpu_ticks: u64,
}

/// Clock ticks per second of `/proc/PID/stat`.
pub const TICKS_PER_SEC: f64 = 100.0;

impl Usage {
    /// Process `pid`, or this one; `None` where `/proc` does not say.
    pub fn of(pid: Option<u32>) -> Option<Self> {
        let dir = pid.map_or_else(|| "/proc/self".to_owned(), |p| format!("/proc/{p}"));
        let status = std::fs::read_to_string(format!("{dir}/status")).ok()?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        let stat = std::fs::read_to_string(format!("{dir}/stat")).ok()?;
        // The fields after the command name, which may hold spaces, closed by ')'.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: u64 = fields.get(11)?.parse().ok()?;
        let stime: u64 = fields.get(12)?.parse().ok()?;
        Some(Self {
            rss_kib,
            cpu_ticks: utime + stime,
        })
    }
}
