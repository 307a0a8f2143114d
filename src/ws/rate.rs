//! What one client may send, and how often: the per-connection message rate, newcomers' joins
//! per address, and room-code attempts per address and session.

use std::num::NonZeroU32;
use std::sync::LazyLock;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use crate::auth::RoomCode;
use crate::config::WsLimits;
use crate::principal::Principal;
use crate::protocol::WireError;
use crate::queue::Command;

use super::connection::Conn;

/// Newcomers' joins per client address: a token bucket refilled at the configured rate per
/// minute, as deep as a minute's worth, so a room behind one address can join at once.
pub fn join_limiter(limits: &WsLimits) -> governor::DefaultKeyedRateLimiter<std::net::IpAddr> {
    let n = NonZeroU32::new(limits.joins_per_minute_per_ip).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_minute(n))
}

/// The limiters' clock, made once: making one (`quanta::Clock::new`) asks the CPU what its
/// counter supports with `cpuid`, which a virtual machine traps, and that was the largest
/// single cost of a socket's connect in the profile (issue 22: 5% of the server's samples).
static CLOCK: LazyLock<governor::clock::DefaultClock> =
    LazyLock::new(governor::clock::DefaultClock::default);

/// One connection's message rate: the configured rate per second, with the configured burst.
pub(super) fn message_limiter(limits: &WsLimits) -> DefaultDirectRateLimiter {
    let quota = Quota::per_second(nonzero(limits.messages_per_sec))
        .allow_burst(nonzero(limits.message_burst));
    RateLimiter::direct_with_clock(quota, CLOCK.clone())
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

impl Conn {
    /// A newcomer's join, within the joins allowed to this address.
    pub(super) fn join_allowed(&self, command: &Command) -> Result<(), WireError> {
        if self.principal != Principal::Newcomer || !matches!(command, Command::Join { .. }) {
            return Ok(());
        }
        self.svc
            .join_limiter
            .check_key(&self.ip)
            .map_err(|not_until| {
                let wait = not_until.wait_time_from(governor::clock::Clock::now(&*CLOCK));
                tracing::info!(session = %self.session, ip = %self.ip, "join refused: too many from one address");
                WireError::TooManyJoins {
                    retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                }
            })
    }

    /// Check a room code typed (or scanned) to join as onsite, within the attempts allowed to
    /// this address for this session; only wrong codes are counted (an expired one was seen).
    pub(super) fn room_code(&self, code: &str) -> Result<(), WireError> {
        let now = self.svc.now().0;
        let attempts = &self.svc.room_attempts;
        attempts
            .admit(self.ip, self.session, now)
            .map_err(|retry_after_ms| WireError::TooManyAttempts { retry_after_ms })?;
        match self
            .svc
            .settings
            .keys
            .room_code_check(self.session, code, now)
        {
            RoomCode::Current => Ok(()),
            RoomCode::Expired => Err(WireError::RoomCodeExpired),
            RoomCode::Wrong => {
                attempts.wrong(self.ip, self.session, now);
                tracing::info!(session = %self.session, ip = %self.ip, "wrong room code");
                Err(WireError::WrongRoomCode)
            }
        }
    }
}
