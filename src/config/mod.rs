//! Configuration: `serve`'s command line ([`ServeArgs`], every flag also an environment variable
//! `ROSTRUM_*`, each value parsed into its type by clap), turned into validated [`Settings`]
//! once, before anything starts. The other subcommands' arguments belong to the `rostrum`
//! binary (`cli/`) and the tools (`tools/`).
//!
//! - `serve.rs`: [`ServeArgs`] and [`ServeArgs::settings`], the checks that span several flags.
//! - `values.rs`: the typed values and their parsers ([`StoreArg`], [`LogFormat`],
//!   [`SyncArg`], URLs, origins, the CSP source list).
//! - `secrets.rs`: the admin token and link-signing secret generated at first start and kept in
//!   the data directory.

mod secrets;
mod serve;
mod values;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use secrecy::SecretString;

use crate::auth::Keys;
use crate::session::SessionConfig;
use crate::store::{NatsOptions, SqliteOptions};

pub use serve::ServeArgs;
pub use values::{LogFormat, StoreArg, SyncArg};

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
    /// The token `/metrics` asks for (the admin token when none is set); `Debug` prints it
    /// redacted.
    pub metrics_token: Option<SecretString>,
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

/// Validated settings of a running service. `Debug` prints no secret: the tokens are
/// [`SecretString`]s and [`Keys`] prints itself redacted.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where events are stored.
    pub store: StoreChoice,
    /// The public URL (no trailing slash).
    pub public_url: String,
    /// The organizer API's token.
    pub admin_token: SecretString,
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
            admin_token: SecretString::from(admin_token),
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

#[cfg(test)]
mod tests;
