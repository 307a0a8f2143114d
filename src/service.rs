//! The running service's shared parts, handed to every HTTP route and socket: the hub, the
//! settings, and the shutdown signal.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Settings;
use crate::hub::Hub;
use crate::limits::ConnectionCounts;
use crate::queue::Timestamp;

/// What routes and connections share.
pub struct Service {
    /// Live sessions.
    pub hub: Arc<Hub>,
    /// Validated settings.
    pub settings: Settings,
    /// Cancelled when the service shuts down.
    pub cancel: CancellationToken,
    /// Every connection task, so shutdown can wait for them.
    pub connections: TaskTracker,
    /// Open sockets per client address.
    pub per_ip: Arc<ConnectionCounts>,
    /// Wrong room codes per client address and per session.
    pub room_attempts: crate::attempts::RoomAttempts,
    /// Newcomers' joins per client address.
    pub join_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// The API's rate limit per client address.
    pub api_limiter: governor::DefaultKeyedRateLimiter<std::net::IpAddr>,
    /// The event's rooms and programme.
    pub programme: Arc<crate::programme::Registry>,
}

impl Service {
    /// Server time now.
    pub fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis();
        Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
    }
}

/// The service as routes hold it.
pub type Shared = Arc<Service>;
