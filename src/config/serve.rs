//! `rostrum serve`'s arguments, and the checks that span several of them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use clap::builder::RangedU64ValueParser;
use secrecy::{ExposeSecret, SecretString};

use super::values::{self, LogFormat, StoreArg, SyncArg};
use super::{HttpLimits, Settings, StoreChoice};
use crate::auth::Keys;
use crate::queue::text::MESSAGE_MIN_BYTES;
use crate::store::{NatsOptions, SqliteOptions};

/// Rates, bursts and connection limits: at least 1.
fn rate() -> RangedU64ValueParser<u32> {
    RangedU64ValueParser::new().range(1..=u64::from(u32::MAX))
}

/// Intervals and timeouts in seconds: at least 1 s.
fn seconds() -> RangedU64ValueParser<u64> {
    RangedU64ValueParser::new().range(1..)
}

/// Window sizes: at least 1.
fn at_least_one() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(1..)
}

/// `--max-message-bytes`: at least the longest text the core accepts in any script, at most 1 MiB.
fn message_bytes() -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(MESSAGE_MIN_BYTES as u64..=1024 * 1024)
}

/// `rostrum serve`
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTRUM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The public URL people reach the service at (links use it); default `http://BIND`.
    #[arg(long, env = "ROSTRUM_PUBLIC_URL", value_parser = values::http_url)]
    pub public_url: Option<String>,
    /// Where rostrum keeps its data: the database, the generated admin token and signing key.
    #[arg(long, env = "ROSTRUM_DATA_DIR", default_value = "./rostrum-data")]
    pub data_dir: PathBuf,
    /// Where events are stored: `sqlite` (in the data directory), `memory` (lost at exit), or a
    /// NATS JetStream cluster shared by several nodes: `nats://host:4222[,nats://host2:4222]`.
    #[arg(long, env = "ROSTRUM_STORE", default_value = "sqlite")]
    pub store: StoreArg,
    /// Copies JetStream keeps of the logs (with `--store nats://`): 3 in a three-server cluster.
    #[arg(long, env = "ROSTRUM_NATS_REPLICAS", default_value_t = 1, value_parser = RangedU64ValueParser::<usize>::new().range(1..=5))]
    pub nats_replicas: usize,
    /// Another node's public URL, serving the same sessions (repeat, or comma-separate in the env
    /// var): pages reconnect to it when this node is gone, and its pages may open sockets here.
    #[arg(long = "peer-url", env = "ROSTRUM_PEER_URL", value_delimiter = ',', value_parser = values::http_url)]
    pub peer_urls: Vec<String>,
    /// SQLite durability: `full` (survives power loss) or `normal` (may lose the last commits on
    /// power loss; survives a crash of the process).
    #[arg(long, env = "ROSTRUM_SYNC", value_enum, default_value = "full")]
    pub sync: SyncArg,
    /// Largest size of the database and its write-ahead log together, in MiB; past it, commands
    /// are refused as on a full disk.
    #[arg(long, env = "ROSTRUM_MAX_DB_MB")]
    pub max_db_mb: Option<u64>,
    /// Longest wait for the disk, in milliseconds: a command not written by then is answered
    /// `unavailable` (nothing applied), and `/readyz` fails while a write takes longer.
    #[arg(long, env = "ROSTRUM_STORE_TIMEOUT_MS", default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..))]
    pub store_timeout_ms: u64,
    /// The organizer API's token; generated at first start (and printed once) when not given.
    #[arg(long, env = "ROSTRUM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<SecretString>,
    /// The link-signing secret, hex (at least 32 bytes); generated at first start when not given.
    #[arg(long, env = "ROSTRUM_SECRET", hide_env_values = true)]
    pub secret: Option<SecretString>,
    /// Largest WebSocket message accepted, in bytes; larger closes the connection with 1009. At
    /// least the longest text the core accepts at four bytes a character (41,024).
    #[arg(long, env = "ROSTRUM_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024, value_parser = message_bytes())]
    pub max_message_bytes: usize,
    /// Updates each session keeps for clients that reconnect.
    #[arg(long, env = "ROSTRUM_RESUME_WINDOW", default_value_t = 1024, value_parser = at_least_one())]
    pub resume_window: usize,
    /// Updates a connection may fall behind before it is sent a snapshot instead.
    #[arg(long, env = "ROSTRUM_LAG_CAPACITY", default_value_t = 256, value_parser = at_least_one())]
    pub lag_capacity: usize,
    /// Seconds a session with no clients stays in memory.
    #[arg(long, env = "ROSTRUM_IDLE_SESSION_SECS", default_value_t = 300)]
    pub idle_session_secs: u64,
    /// Seconds between pings to a quiet client; one silent for three intervals is dropped.
    #[arg(long, env = "ROSTRUM_PING_SECS", default_value_t = 30, value_parser = seconds())]
    pub ping_secs: u64,
    /// Seconds shutdown waits for connections and sessions to finish.
    #[arg(long, env = "ROSTRUM_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Log format: text or json.
    #[arg(long, env = "ROSTRUM_LOG_FORMAT", value_enum, default_value = "text")]
    pub log_format: LogFormat,
    /// Another origin allowed to open WebSockets (repeat, or comma-separate in the env var); the
    /// public URL's origin is always allowed.
    #[arg(
        long = "allowed-origin",
        env = "ROSTRUM_ALLOWED_ORIGIN",
        value_delimiter = ',',
        value_parser = values::origin
    )]
    pub allowed_origins: Vec<String>,
    /// Who may embed the pages in a frame: a CSP `frame-ancestors` source list, such as
    /// `https://events.example.org`; `'none'` forbids framing.
    #[arg(long, env = "ROSTRUM_FRAME_ANCESTORS", default_value = "'none'", value_parser = values::source_list)]
    pub frame_ancestors: String,
    /// Messages per second one WebSocket connection may send on average; past the burst the
    /// connection is closed with 1008.
    #[arg(long, env = "ROSTRUM_MESSAGES_PER_SEC", default_value_t = 10, value_parser = rate())]
    pub messages_per_sec: u32,
    /// Messages a connection may send at once before the rate applies.
    #[arg(long, env = "ROSTRUM_MESSAGE_BURST", default_value_t = 20, value_parser = rate())]
    pub message_burst: u32,
    /// Open WebSocket connections per client address (a venue's Wi-Fi may put a whole room
    /// behind one address).
    #[arg(long, env = "ROSTRUM_MAX_CONNECTIONS_PER_IP", default_value_t = 1000, value_parser = rate())]
    pub max_connections_per_ip: u32,
    /// TCP connections per client address, plain HTTP and WebSockets together; past it, 429
    /// `too_many_connections` and close. Not applied with `--trust-proxy-headers`: every
    /// connection then comes from the proxy, which is where clients are counted.
    #[arg(long, env = "ROSTRUM_MAX_TCP_PER_IP", default_value_t = 1000, value_parser = rate())]
    pub max_tcp_per_ip: u32,
    /// Seconds a client has to send a request's headers, and the longest an idle keep-alive
    /// connection is kept open.
    #[arg(long, env = "ROSTRUM_HEADER_TIMEOUT_SECS", default_value_t = 10, value_parser = seconds())]
    pub header_timeout_secs: u64,
    /// Seconds a request may take to be read and answered (a slow body included); past it, 408.
    #[arg(long, env = "ROSTRUM_REQUEST_TIMEOUT_SECS", default_value_t = 30, value_parser = seconds())]
    pub request_timeout_secs: u64,
    /// Seconds a new WebSocket has to say hello before it is closed with 1008.
    #[arg(long, env = "ROSTRUM_HELLO_TIMEOUT_SECS", default_value_t = 10, value_parser = seconds())]
    pub hello_timeout_secs: u64,
    /// Joins by newcomers one client address may make per minute (all of them at once, too); past
    /// it, `too_many_joins` with `retry_after_ms`. A venue's Wi-Fi puts a room behind one address.
    #[arg(long, env = "ROSTRUM_JOINS_PER_MINUTE_PER_IP", default_value_t = 120, value_parser = rate())]
    pub joins_per_minute_per_ip: u32,
    /// Wrong room codes one client address may send per minute; past it, `too_many_attempts`
    /// until the minute ends.
    #[arg(long, env = "ROSTRUM_ROOM_ATTEMPTS_PER_IP", default_value_t = 10, value_parser = rate())]
    pub room_attempts_per_ip: u32,
    /// Wrong room codes per session per minute from every address together; past it, addresses
    /// that already sent a wrong code wait for the next minute (the others are not held back).
    #[arg(long, env = "ROSTRUM_ROOM_ATTEMPTS_PER_SESSION", default_value_t = 60, value_parser = rate())]
    pub room_attempts_per_session: u32,
    /// API requests per second per client address, on average.
    #[arg(long, env = "ROSTRUM_API_PER_SEC", default_value_t = 10, value_parser = rate())]
    pub api_per_sec: u32,
    /// API requests a client address may make at once before the rate applies.
    #[arg(long, env = "ROSTRUM_API_BURST", default_value_t = 50, value_parser = rate())]
    pub api_burst: u32,
    /// Take the client address from `X-Real-IP` or the last `X-Forwarded-For` entry (set this
    /// only behind a reverse proxy that sets them; otherwise clients could pick their address).
    #[arg(long, env = "ROSTRUM_TRUST_PROXY_HEADERS")]
    pub trust_proxy_headers: bool,
    /// The bearer token `GET /metrics` asks for; without it, the admin token.
    #[arg(long, env = "ROSTRUM_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,
}

impl ServeArgs {
    /// Resolve into [`Settings`]: each value is already checked by its parser; here the checks
    /// that span several flags, the secrets (given, or read or created in the data directory),
    /// and what the peers add to the allowed origins and the CSP.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let store = match &self.store {
            StoreArg::Sqlite => StoreChoice::Sqlite {
                dir: self.data_dir.clone(),
                options: SqliteOptions {
                    durability: self.sync.into(),
                    max_bytes: self.max_db_mb.map(|mb| mb.saturating_mul(1024 * 1024)),
                    timeout: Duration::from_millis(self.store_timeout_ms),
                    lock: true,
                },
            },
            StoreArg::Memory => StoreChoice::Memory,
            StoreArg::Nats(urls) => {
                // Every node signs and checks the same links and the same room codes.
                if self.secret.is_none() || self.admin_token.is_none() {
                    bail!(
                        "--store nats:// serves sessions from several nodes: give every node the same --secret and --admin-token (ROSTRUM_SECRET, ROSTRUM_ADMIN_TOKEN)"
                    );
                }
                StoreChoice::Nats(NatsOptions {
                    urls: urls.clone(),
                    replicas: self.nats_replicas,
                })
            }
        };
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind));
        let (admin_token, secret) = super::secrets::resolve(
            &self.data_dir,
            self.admin_token.as_ref(),
            self.secret.as_ref(),
        )?;
        let mut s = Settings::new(&public_url, "");
        s.admin_token = admin_token;
        s.store = store;
        s.keys = Keys::from_hex(secret.expose_secret())
            .context("--secret must be at least 32 bytes of hex")?;
        s.ws.allowed_origins
            .extend(self.allowed_origins.iter().cloned());
        let mut connect_src = String::new();
        for url in &self.peer_urls {
            let origin = super::origin_of(url)?;
            let ws_origin = origin.replacen("http", "ws", 1);
            s.peer_sockets
                .push(format!("{}/ws", url.replacen("http", "ws", 1)));
            connect_src.push_str(&format!(" {origin} {ws_origin}"));
            s.ws.allowed_origins.push(origin);
        }
        s.ws.max_message_bytes = self.max_message_bytes;
        s.ws.ping_every = Duration::from_secs(self.ping_secs);
        s.ws.messages_per_sec = self.messages_per_sec;
        s.ws.message_burst = self.message_burst;
        s.ws.max_connections_per_ip = self.max_connections_per_ip;
        s.ws.hello_timeout = Duration::from_secs(self.hello_timeout_secs);
        s.ws.room_attempts_per_ip = self.room_attempts_per_ip;
        s.ws.joins_per_minute_per_ip = self.joins_per_minute_per_ip;
        s.ws.room_attempts_per_session = self.room_attempts_per_session;
        s.http = HttpLimits {
            api_per_sec: self.api_per_sec,
            api_burst: self.api_burst,
            trust_proxy_headers: self.trust_proxy_headers,
            max_tcp_per_ip: self.max_tcp_per_ip,
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            metrics_token: self.metrics_token.clone(),
            frame_ancestors: self.frame_ancestors.clone(),
            connect_src,
        };
        s.session.resume_window = self.resume_window;
        s.session.lag_capacity = self.lag_capacity;
        s.session.idle_after = Duration::from_secs(self.idle_session_secs);
        s.shutdown_grace = Duration::from_secs(self.shutdown_grace_secs);
        Ok(s)
    }
}
