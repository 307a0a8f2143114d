//! Configuration: one clap struct per subcommand, every flag also an environment variable
//! `ROSTRUM_*`, turned into validated [`Settings`] once, before anything starts.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;

use crate::auth::{Keys, random_token};
use crate::session::SessionConfig;
use crate::store::{Durability, NatsOptions, SqliteOptions};

/// `rostrum serve`
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ROSTRUM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// The public URL people reach the service at (links use it); default `http://BIND`.
    #[arg(long, env = "ROSTRUM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Where rostrum keeps its data: the database, the generated admin token and signing key.
    #[arg(long, env = "ROSTRUM_DATA_DIR", default_value = "./rostrum-data")]
    pub data_dir: PathBuf,
    /// Where events are stored: `sqlite` (in the data directory), `memory` (lost at exit), or a
    /// NATS JetStream cluster shared by several nodes: `nats://host:4222[,nats://host2:4222]`.
    #[arg(long, env = "ROSTRUM_STORE", default_value = "sqlite")]
    pub store: String,
    /// Copies JetStream keeps of the logs (with `--store nats://`): 3 in a three-server cluster.
    #[arg(long, env = "ROSTRUM_NATS_REPLICAS", default_value_t = 1)]
    pub nats_replicas: usize,
    /// Another node's public URL, serving the same sessions (repeat, or comma-separate in the env
    /// var): pages reconnect to it when this node is gone, and its pages may open sockets here.
    #[arg(long = "peer-url", env = "ROSTRUM_PEER_URL", value_delimiter = ',')]
    pub peer_urls: Vec<String>,
    /// SQLite durability: `full` (survives power loss) or `normal` (may lose the last commits on
    /// power loss; survives a crash of the process).
    #[arg(long, env = "ROSTRUM_SYNC", value_enum, default_value = "full")]
    pub sync: Durability,
    /// Largest size of the database and its write-ahead log together, in MiB; past it, commands
    /// are refused as on a full disk.
    #[arg(long, env = "ROSTRUM_MAX_DB_MB")]
    pub max_db_mb: Option<u64>,
    /// Longest wait for the disk, in milliseconds: a command not written by then is answered
    /// `unavailable` (nothing applied), and `/readyz` fails while a write takes longer.
    #[arg(long, env = "ROSTRUM_STORE_TIMEOUT_MS", default_value_t = 5000)]
    pub store_timeout_ms: u64,
    /// The organizer API's token; generated at first start (and printed once) when not given.
    #[arg(long, env = "ROSTRUM_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// The link-signing secret, hex (at least 32 bytes); generated at first start when not given.
    #[arg(long, env = "ROSTRUM_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Largest WebSocket message accepted, in bytes; larger closes the connection with 1009. At
    /// least the longest text the core accepts at four bytes a character (41,024).
    #[arg(long, env = "ROSTRUM_MAX_MESSAGE_BYTES", default_value_t = 64 * 1024)]
    pub max_message_bytes: usize,
    /// Updates each session keeps for clients that reconnect.
    #[arg(long, env = "ROSTRUM_RESUME_WINDOW", default_value_t = 1024)]
    pub resume_window: usize,
    /// Updates a connection may fall behind before it is sent a snapshot instead.
    #[arg(long, env = "ROSTRUM_LAG_CAPACITY", default_value_t = 256)]
    pub lag_capacity: usize,
    /// Seconds a session with no clients stays in memory.
    #[arg(long, env = "ROSTRUM_IDLE_SESSION_SECS", default_value_t = 300)]
    pub idle_session_secs: u64,
    /// Seconds between pings to a quiet client; one silent for three intervals is dropped.
    #[arg(long, env = "ROSTRUM_PING_SECS", default_value_t = 30)]
    pub ping_secs: u64,
    /// Seconds shutdown waits for connections and sessions to finish.
    #[arg(long, env = "ROSTRUM_SHUTDOWN_GRACE_SECS", default_value_t = 10)]
    pub shutdown_grace_secs: u64,
    /// Log format: text or json.
    #[arg(long, env = "ROSTRUM_LOG_FORMAT", default_value = "text")]
    pub log_format: String,
    /// Another origin allowed to open WebSockets (repeat, or comma-separate in the env var); the
    /// public URL's origin is always allowed.
    #[arg(
        long = "allowed-origin",
        env = "ROSTRUM_ALLOWED_ORIGIN",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,
    /// Who may embed the pages in a frame: a CSP `frame-ancestors` source list, such as
    /// `https://events.example.org`; `'none'` forbids framing.
    #[arg(long, env = "ROSTRUM_FRAME_ANCESTORS", default_value = "'none'")]
    pub frame_ancestors: String,
    /// Messages per second one WebSocket connection may send on average; past the burst the
    /// connection is closed with 1008.
    #[arg(long, env = "ROSTRUM_MESSAGES_PER_SEC", default_value_t = 10)]
    pub messages_per_sec: u32,
    /// Messages a connection may send at once before the rate applies.
    #[arg(long, env = "ROSTRUM_MESSAGE_BURST", default_value_t = 20)]
    pub message_burst: u32,
    /// Open WebSocket connections per client address (a venue's Wi-Fi may put a whole room
    /// behind one address).
    #[arg(long, env = "ROSTRUM_MAX_CONNECTIONS_PER_IP", default_value_t = 1000)]
    pub max_connections_per_ip: u32,
    /// TCP connections per client address, plain HTTP and WebSockets together; past it, 429
    /// `too_many_connections` and close. Not applied with `--trust-proxy-headers`: every
    /// connection then comes from the proxy, which is where clients are counted.
    #[arg(long, env = "ROSTRUM_MAX_TCP_PER_IP", default_value_t = 1000)]
    pub max_tcp_per_ip: u32,
    /// Seconds a client has to send a request's headers, and the longest an idle keep-alive
    /// connection is kept open.
    #[arg(long, env = "ROSTRUM_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Seconds a request may take to be read and answered (a slow body included); past it, 408.
    #[arg(long, env = "ROSTRUM_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Seconds a new WebSocket has to say hello before it is closed with 1008.
    #[arg(long, env = "ROSTRUM_HELLO_TIMEOUT_SECS", default_value_t = 10)]
    pub hello_timeout_secs: u64,
    /// Joins by newcomers one client address may make per minute (all of them at once, too); past
    /// it, `too_many_joins` with `retry_after_ms`. A venue's Wi-Fi puts a room behind one address.
    #[arg(long, env = "ROSTRUM_JOINS_PER_MINUTE_PER_IP", default_value_t = 120)]
    pub joins_per_minute_per_ip: u32,
    /// Wrong room codes one client address may send per minute; past it, `too_many_attempts`
    /// until the minute ends.
    #[arg(long, env = "ROSTRUM_ROOM_ATTEMPTS_PER_IP", default_value_t = 10)]
    pub room_attempts_per_ip: u32,
    /// Wrong room codes per session per minute from every address together; past it, addresses
    /// that already sent a wrong code wait for the next minute (the others are not held back).
    #[arg(long, env = "ROSTRUM_ROOM_ATTEMPTS_PER_SESSION", default_value_t = 60)]
    pub room_attempts_per_session: u32,
    /// API requests per second per client address, on average.
    #[arg(long, env = "ROSTRUM_API_PER_SEC", default_value_t = 10)]
    pub api_per_sec: u32,
    /// API requests a client address may make at once before the rate applies.
    #[arg(long, env = "ROSTRUM_API_BURST", default_value_t = 50)]
    pub api_burst: u32,
    /// Take the client address from `X-Real-IP` or the last `X-Forwarded-For` entry (set this
    /// only behind a reverse proxy that sets them; otherwise clients could pick their address).
    #[arg(long, env = "ROSTRUM_TRUST_PROXY_HEADERS")]
    pub trust_proxy_headers: bool,
    /// The bearer token `GET /metrics` asks for; without it, the admin token.
    #[arg(long, env = "ROSTRUM_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
}

/// Limits of every WebSocket connection.
#[derive(Debug, Clone)]
pub struct WsLimits {
    /// Largest message (and frame) accepted.
    pub max_message_bytes: usize,
    /// Time a new connection has to say hello.
    pub hello_timeout: Duration,
    /// Ping interval for quiet clients.
    pub ping_every: Duration,
    /// Longest a write may take before the client is dropped.
    pub write_timeout: Duration,
    /// Messages per second per connection, on average.
    pub messages_per_sec: u32,
    /// Messages a connection may send at once.
    pub message_burst: u32,
    /// Open connections per client address.
    pub max_connections_per_ip: u32,
    /// Wrong room codes per client address per minute.
    pub room_attempts_per_ip: u32,
    /// Newcomers' joins per client address per minute (and at once).
    pub joins_per_minute_per_ip: u32,
    /// Wrong room codes per session per minute, from every address together.
    pub room_attempts_per_session: u32,
    /// Origins allowed to open WebSockets (`scheme://host[:port]`, as browsers send them).
    pub allowed_origins: Vec<String>,
}

/// Limits of the HTTP side.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// API requests per second per client address.
    pub api_per_sec: u32,
    /// API burst per client address.
    pub api_burst: u32,
    /// Trust `X-Real-IP` / `X-Forwarded-For` for the client address.
    pub trust_proxy_headers: bool,
    /// TCP connections per peer address (not applied behind a trusted proxy).
    pub max_tcp_per_ip: u32,
    /// Time to send a request's headers; also the longest idle keep-alive.
    pub header_timeout: Duration,
    /// Time to read and answer a request.
    pub request_timeout: Duration,
    /// The CSP `frame-ancestors` source list.
    pub frame_ancestors: String,
    /// The token `/metrics` asks for (the admin token when none is set).
    pub metrics_token: Option<String>,
    /// Sources the pages may open sockets to besides their own origin (the peers'), for the CSP.
    pub connect_src: String,
}

/// The origin (`scheme://host[:port]`, lower case, default port omitted) of a URL, as a browser
/// sends it in `Origin`.
pub fn origin_of(url: &str) -> anyhow::Result<String> {
    let parsed = url::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    match parsed.origin() {
        o @ url::Origin::Tuple(..) => Ok(o.ascii_serialization()),
        url::Origin::Opaque(_) => bail!("{url:?} has no origin"),
    }
}

/// Where events are stored.
#[derive(Debug, Clone)]
pub enum StoreChoice {
    /// In memory: lost at exit.
    Memory,
    /// SQLite in this directory.
    Sqlite {
        /// The data directory.
        dir: PathBuf,
        /// Durability and size cap.
        options: SqliteOptions,
    },
    /// In a NATS JetStream cluster, shared with other nodes.
    Nats(NatsOptions),
}

/// Validated settings of a running service.
#[derive(Clone)]
pub struct Settings {
    /// Where events are stored.
    pub store: StoreChoice,
    /// The public URL (no trailing slash).
    pub public_url: String,
    /// The organizer API's token.
    pub admin_token: String,
    /// The link-signing keys.
    pub keys: Keys,
    /// Connection limits.
    pub ws: WsLimits,
    /// HTTP limits and headers.
    pub http: HttpLimits,
    /// Session actor tunables.
    pub session: SessionConfig,
    /// How long shutdown waits.
    pub shutdown_grace: Duration,
    /// The other nodes' WebSocket URLs, for pages to reconnect to.
    pub peer_sockets: Vec<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("store", &self.store)
            .field("public_url", &self.public_url)
            .field("admin_token", &"<redacted>")
            .field("keys", &self.keys)
            .field("ws", &self.ws)
            .field("http", &self.http)
            .field("session", &self.session)
            .field("shutdown_grace", &self.shutdown_grace)
            .field("peer_sockets", &self.peer_sockets)
            .finish()
    }
}

impl Settings {
    /// Settings for tests and embedding: the given public URL, fresh secrets, default limits,
    /// events in memory.
    ///
    /// # Panics
    /// If `public_url` is not an http(s) URL.
    pub fn new(public_url: &str, admin_token: &str) -> Self {
        let origin = origin_of(public_url).expect("an http(s) public URL");
        Self {
            store: StoreChoice::Memory,
            public_url: public_url.trim_end_matches('/').to_owned(),
            admin_token: admin_token.to_owned(),
            keys: Keys::generate(),
            ws: WsLimits {
                max_message_bytes: 64 * 1024,
                hello_timeout: Duration::from_secs(10),
                ping_every: Duration::from_secs(30),
                write_timeout: Duration::from_secs(10),
                messages_per_sec: 10,
                message_burst: 20,
                max_connections_per_ip: 1000,
                room_attempts_per_ip: 10,
                joins_per_minute_per_ip: 120,
                room_attempts_per_session: 60,
                allowed_origins: vec![origin],
            },
            http: HttpLimits {
                api_per_sec: 10,
                api_burst: 50,
                trust_proxy_headers: false,
                max_tcp_per_ip: 1000,
                header_timeout: Duration::from_secs(10),
                request_timeout: Duration::from_secs(30),
                metrics_token: None,
                frame_ancestors: "'none'".into(),
                connect_src: String::new(),
            },
            session: SessionConfig::default(),
            shutdown_grace: Duration::from_secs(10),
            peer_sockets: Vec::new(),
        }
    }
}

impl Settings {
    /// Serve at `url`: links, QR codes and the WebSocket origin check follow it (the first
    /// allowed origin is always the public URL's).
    pub fn set_public_url(&mut self, url: &str) -> anyhow::Result<()> {
        let origin = origin_of(url)?;
        self.public_url = url.trim_end_matches('/').to_owned();
        match self.ws.allowed_origins.first_mut() {
            Some(first) => *first = origin,
            None => self.ws.allowed_origins.push(origin),
        }
        Ok(())
    }
}

/// Secrets generated at first start, kept in the data directory.
#[derive(serde::Serialize, serde::Deserialize)]
struct Secrets {
    admin_token: String,
    secret: String,
}

impl ServeArgs {
    /// Validate and resolve (reading or creating the data directory's secrets).
    pub fn settings(&self) -> anyhow::Result<Settings> {
        let least = crate::queue::text::MESSAGE_MIN_BYTES;
        if !(least..=1024 * 1024).contains(&self.max_message_bytes) {
            bail!(
                "--max-message-bytes must be between {least} (the longest text the core accepts, in any script) and 1 MiB"
            );
        }
        if self.resume_window == 0 || self.lag_capacity == 0 {
            bail!("--resume-window and --lag-capacity must be at least 1");
        }
        if self.ping_secs == 0
            || self.header_timeout_secs == 0
            || self.request_timeout_secs == 0
            || self.hello_timeout_secs == 0
        {
            bail!("--ping-secs and the timeouts must be at least 1 s");
        }
        let public_url = self
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            bail!("--public-url must start with http:// or https://");
        }
        let mut origins = vec![origin_of(&public_url)?];
        for o in &self.allowed_origins {
            let parsed = origin_of(o).with_context(|| format!("--allowed-origin {o:?}"))?;
            if parsed != o.trim_end_matches('/').to_ascii_lowercase() {
                bail!("--allowed-origin {o:?} must be an origin only, like {parsed:?}");
            }
            origins.push(parsed);
        }
        let mut peer_sockets = Vec::new();
        let mut connect_src = String::new();
        for p in &self.peer_urls {
            let url = p.trim_end_matches('/');
            let origin = origin_of(url).with_context(|| format!("--peer-url {p:?}"))?;
            let ws_origin = origin.replacen("http", "ws", 1);
            peer_sockets.push(format!("{}/ws", url.replacen("http", "ws", 1)));
            connect_src.push_str(&format!(" {origin} {ws_origin}"));
            origins.push(origin);
        }
        if self.messages_per_sec == 0
            || self.message_burst == 0
            || self.api_per_sec == 0
            || self.api_burst == 0
            || self.max_connections_per_ip == 0
            || self.max_tcp_per_ip == 0
            || self.room_attempts_per_ip == 0
            || self.joins_per_minute_per_ip == 0
            || self.room_attempts_per_session == 0
        {
            bail!("rates, bursts and connection limits must be at least 1");
        }
        let frame_ancestors = self.frame_ancestors.trim();
        if frame_ancestors.is_empty()
            || frame_ancestors
                .chars()
                .any(|c| c == ';' || c == ',' || c.is_control())
        {
            bail!(
                "--frame-ancestors must be a CSP source list, like 'none' or https://events.example.org"
            );
        }
        let store = match self.store.as_str() {
            "sqlite" => StoreChoice::Sqlite {
                dir: self.data_dir.clone(),
                options: SqliteOptions {
                    durability: self.sync,
                    max_bytes: self.max_db_mb.map(|mb| mb.saturating_mul(1024 * 1024)),
                    timeout: Duration::from_millis(self.store_timeout_ms.max(1)),
                    lock: true,
                },
            },
            "memory" => StoreChoice::Memory,
            nats if nats.starts_with("nats://") || nats.starts_with("tls://") => {
                // Every node signs and checks the same links and the same room codes.
                if self.secret.is_none() || self.admin_token.is_none() {
                    bail!(
                        "--store nats:// serves sessions from several nodes: give every node the same --secret and --admin-token (ROSTRUM_SECRET, ROSTRUM_ADMIN_TOKEN)"
                    );
                }
                if !(1..=5).contains(&self.nats_replicas) {
                    bail!("--nats-replicas must be between 1 and 5");
                }
                StoreChoice::Nats(NatsOptions {
                    urls: nats.to_owned(),
                    replicas: self.nats_replicas,
                })
            }
            other => bail!("--store must be sqlite, memory or nats://host:port, not {other:?}"),
        };
        let (admin_token, secret) = self.secrets()?;
        let mut s = Settings::new(&public_url, &admin_token);
        s.store = store;
        s.keys = Keys::from_hex(&secret).context("--secret must be at least 32 bytes of hex")?;
        s.ws.max_message_bytes = self.max_message_bytes;
        s.ws.ping_every = Duration::from_secs(self.ping_secs);
        s.ws.messages_per_sec = self.messages_per_sec;
        s.ws.message_burst = self.message_burst;
        s.ws.max_connections_per_ip = self.max_connections_per_ip;
        s.ws.hello_timeout = Duration::from_secs(self.hello_timeout_secs);
        s.ws.room_attempts_per_ip = self.room_attempts_per_ip;
        s.ws.joins_per_minute_per_ip = self.joins_per_minute_per_ip;
        s.ws.room_attempts_per_session = self.room_attempts_per_session;
        s.ws.allowed_origins = origins;
        s.http = HttpLimits {
            api_per_sec: self.api_per_sec,
            api_burst: self.api_burst,
            trust_proxy_headers: self.trust_proxy_headers,
            max_tcp_per_ip: self.max_tcp_per_ip,
            header_timeout: Duration::from_secs(self.header_timeout_secs),
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            metrics_token: self.metrics_token.clone(),
            frame_ancestors: frame_ancestors.to_owned(),
            connect_src,
        };
        s.peer_sockets = peer_sockets;
        s.session.resume_window = self.resume_window;
        s.session.lag_capacity = self.lag_capacity;
        s.session.idle_after = Duration::from_secs(self.idle_session_secs);
        s.shutdown_grace = Duration::from_secs(self.shutdown_grace_secs);
        Ok(s)
    }

    /// The admin token and secret: given, or kept in the data directory, or generated now.
    fn secrets(&self) -> anyhow::Result<(String, String)> {
        if let (Some(t), Some(s)) = (&self.admin_token, &self.secret) {
            return Ok((t.clone(), s.clone()));
        }
        let path = self.data_dir.join("secrets.json");
        let stored = match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str::<Secrets>(&text)
                .with_context(|| format!("reading {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let fresh = Secrets {
                    admin_token: random_token(),
                    secret: Keys::generate().to_hex(),
                };
                write_private(&path, &serde_json::to_string_pretty(&fresh)?)?;
                if self.admin_token.is_none() {
                    // Printed once, at the first start: it is the key to the organizer API.
                    println!(
                        "rostrum: generated admin token (kept in {}): {}",
                        path.display(),
                        fresh.admin_token
                    );
                }
                fresh
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        Ok((
            self.admin_token.clone().unwrap_or(stored.admin_token),
            self.secret.clone().unwrap_or(stored.secret),
        ))
    }
}

/// Write a file only its owner can read.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    std::io::Write::write_all(&mut f, text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn serve(args: &[&str]) -> anyhow::Result<Settings> {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().to_str().unwrap();
        let cli = Serve::try_parse_from(["serve", "--data-dir", data].iter().chain(args)).unwrap();
        cli.args.settings()
    }

    const SECRET: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn the_service_holds_the_directory_and_bounds_its_waits_for_the_disk() {
        let s = serve(&["--store-timeout-ms", "1500", "--max-db-mb", "2"]).unwrap();
        match s.store {
            StoreChoice::Sqlite { options, .. } => {
                assert_eq!(
                    (options.timeout, options.lock, options.max_bytes),
                    (Duration::from_millis(1500), true, Some(2 * 1024 * 1024))
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cluster_store_needs_the_shared_secret_and_token() {
        let e = serve(&["--store", "nats://127.0.0.1:4222"]).unwrap_err();
        assert!(e.to_string().contains("--secret"), "{e}");
        let e = serve(&["--store", "nats://a:4222", "--secret", SECRET]).unwrap_err();
        assert!(e.to_string().contains("--admin-token"), "{e}");
        let s = serve(&[
            "--store",
            "nats://a:4222,nats://b:4222",
            "--nats-replicas",
            "3",
            "--secret",
            SECRET,
            "--admin-token",
            "t",
        ])
        .unwrap();
        match s.store {
            StoreChoice::Nats(o) => {
                assert_eq!(
                    (o.urls.as_str(), o.replicas),
                    ("nats://a:4222,nats://b:4222", 3)
                );
            }
            other => panic!("{other:?}"),
        }
        let e = serve(&[
            "--store",
            "nats://a:4222",
            "--nats-replicas",
            "0",
            "--secret",
            SECRET,
            "--admin-token",
            "t",
        ])
        .unwrap_err();
        assert!(e.to_string().contains("--nats-replicas"), "{e}");
    }

    #[test]
    fn peers_are_reconnect_targets_allowed_origins_and_csp_sources() {
        let s = serve(&[
            "--public-url",
            "https://a.example.org",
            "--peer-url",
            "https://b.example.org/,http://c.example.org:8080",
        ])
        .unwrap();
        assert_eq!(
            s.peer_sockets,
            ["wss://b.example.org/ws", "ws://c.example.org:8080/ws"]
        );
        assert_eq!(
            s.ws.allowed_origins,
            [
                "https://a.example.org",
                "https://b.example.org",
                "http://c.example.org:8080"
            ]
        );
        let csp = crate::http::guard::csp(&s.http);
        assert!(
            csp.contains("connect-src 'self' https://b.example.org wss://b.example.org http://c.example.org:8080 ws://c.example.org:8080;"),
            "{csp}"
        );
        assert!(serve(&["--peer-url", "b.example.org"]).is_err());
    }
}
