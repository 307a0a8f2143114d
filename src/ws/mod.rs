//! WebSocket connections: one task per connection that says hello, forwards its session's
//! updates, and submits its commands. The upgrade itself (origin, sockets per address, limits)
//! is an HTTP route, `http/upgrade.rs`, which hands the socket to [`run`].
//!
//! A connection never slows its session: updates reach it through a bounded broadcast
//! receiver; one that falls behind is caught up from the session's resume window (or sent a
//! snapshot), and one that stops reading is dropped after the write timeout.

mod connection;

pub use connection::run;

/// Newcomers' joins per client address: a token bucket refilled at the configured rate per
/// minute, as deep as a minute's worth, so a room behind one address can join at once.
pub fn join_limiter(
    limits: &crate::config::WsLimits,
) -> governor::DefaultKeyedRateLimiter<std::net::IpAddr> {
    let n = std::num::NonZeroU32::new(limits.joins_per_minute_per_ip)
        .unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(n))
}
