//! A command decided again while other nodes append to a shared log first: for how long, and
//! with what pause between tries. Time is given, not read.

use std::time::{Duration, Instant};

/// How long a command may keep being decided again while other nodes keep appending first.
/// Every refusal means another node's append went in, so the log moves on; a busy node must
/// not starve a quiet one's command after a fixed number of tries (that answered
/// `unavailable` under load), so the bound is time, with a random pause between tries.
pub const CONTENDED: Duration = Duration::from_secs(5);

/// A command being decided again while other nodes append first: until [`CONTENDED`] has
/// passed since it was first decided, with a growing random pause between tries.
#[derive(Debug, Clone, Copy)]
pub struct Contended {
    since: Instant,
    attempts: u32,
}

impl Contended {
    /// A command first decided at `now`.
    pub fn new(now: Instant) -> Self {
        Self {
            since: now,
            attempts: 0,
        }
    }

    /// Whether it may still be decided again at `now`.
    pub fn may_retry(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.since) < CONTENDED
    }

    /// Count one more try after a refused append, and the pause before it: none for the first,
    /// then up to 1, 2, 4 ... 32 ms (`random` picks where), so two nodes that keep colliding
    /// fall out of step.
    pub fn pause(&mut self, random: u64) -> Option<Duration> {
        self.attempts += 1;
        (self.attempts > 1).then(|| {
            let cap = 1u64 << self.attempts.min(5);
            Duration::from_micros(random % (cap * 1000))
        })
    }
}
