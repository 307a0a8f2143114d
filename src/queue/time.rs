//! Server time as data.
//!
//! The core never reads a clock: every command is decided "at" a [`Timestamp`] the caller passes
//! in, and every event records the time it happened. That keeps each rule a plain unit test and
//! makes replay exact.

use serde::{Deserialize, Serialize};

/// Milliseconds since the Unix epoch, as read from the server's clock by the caller.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub u64);

impl Timestamp {
    /// The time `ms` milliseconds after the epoch.
    pub const fn from_millis(ms: u64) -> Self {
        Self(ms)
    }

    /// Milliseconds since the epoch.
    pub const fn as_millis(self) -> u64 {
        self.0
    }

    /// Milliseconds from `earlier` to `self`; zero if `earlier` is later (a clock that stepped
    /// back must not produce negative waits).
    pub const fn millis_since(self, earlier: Timestamp) -> u64 {
        self.0.saturating_sub(earlier.0)
    }

    /// The time `ms` milliseconds after `self`.
    pub const fn plus(self, ms: u64) -> Self {
        Self(self.0.saturating_add(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_since_never_goes_negative() {
        let a = Timestamp(1_000);
        let b = Timestamp(1_500);
        assert_eq!(b.millis_since(a), 500);
        assert_eq!(a.millis_since(b), 0);
        assert_eq!(a.plus(250), Timestamp(1_250));
    }
}
