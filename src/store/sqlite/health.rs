//! Whether the store can write now, and bounded waits for it.
//!
//! The writer reports every commit here: a failed one marks the store **failing** (logged once,
//! with why, not once per command), a successful one or a successful probe clears it. A commit
//! that has not come back within the store timeout (a frozen disk, a lock held elsewhere) makes
//! the store **stuck**. Either way `/readyz` fails, so a load balancer sends new clients
//! elsewhere until the disk answers.
//!
//! A caller waits at most the store timeout for its job. A job the writer has not taken yet is
//! abandoned (the writer skips it), so its caller is told `unavailable` truthfully: nothing was
//! applied. A job already inside a commit cannot be taken back; its caller waits for the
//! outcome, which SQLite's busy timeout (set to the same bound) ends for a held lock.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A job's claim: the writer takes it, or its caller abandons it, never both.
#[derive(Debug, Clone, Default)]
pub(super) struct Ticket(Arc<AtomicU8>);

const PENDING: u8 = 0;
const TAKEN: u8 = 1;
const ABANDONED: u8 = 2;

impl Ticket {
    /// The writer's side: `false` if the caller gave up first (then skip the job).
    pub(super) fn take(&self) -> bool {
        self.0
            .compare_exchange(PENDING, TAKEN, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The caller's side: `false` if the writer already took the job (then wait for it).
    pub(super) fn abandon(&self) -> bool {
        self.0
            .compare_exchange(PENDING, ABANDONED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }
}

#[derive(Debug, Default)]
struct State {
    failing: Option<String>,
    busy_since: Option<Instant>,
}

/// The store's health, shared by the writer, callers and `/readyz`.
#[derive(Debug)]
pub(super) struct Health {
    state: Mutex<State>,
    /// How long a write may take before the store counts as stuck.
    pub timeout: Duration,
}

impl Health {
    pub(super) fn new(timeout: Duration) -> Self {
        Self {
            state: Mutex::default(),
            timeout,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A commit starts.
    pub(super) fn begin(&self) {
        self.lock().busy_since = Some(Instant::now());
    }

    /// The commit came back.
    pub(super) fn end(&self) {
        self.lock().busy_since = None;
    }

    /// The store cannot write, because `why`. Logged when it starts failing, not after.
    pub(super) fn failed(&self, why: &str) {
        let mut s = self.lock();
        if s.failing.is_none() {
            tracing::error!(
                reason = why,
                "the store cannot write: commands are answered `unavailable` and /readyz fails until it can"
            );
        }
        s.failing = Some(why.to_owned());
    }

    /// The store wrote again.
    pub(super) fn recovered(&self) {
        let mut s = self.lock();
        if let Some(why) = s.failing.take() {
            tracing::info!(was = why, "the store writes again");
        }
    }

    /// Whether the last write failed.
    pub(super) fn is_failing(&self) -> bool {
        self.lock().failing.is_some()
    }

    /// Why a write would not be answered in time now, if it would not.
    pub(super) fn stuck(&self) -> Option<String> {
        let since = self.lock().busy_since?;
        let waited = since.elapsed();
        (waited >= self.timeout).then(|| {
            format!(
                "the disk has not answered a commit for {:.1} s",
                waited.as_secs_f64()
            )
        })
    }

    /// `Ok` if the store can write now; else why not.
    pub(super) fn ready(&self) -> Result<(), String> {
        if let Some(why) = self.stuck() {
            return Err(why);
        }
        match &self.lock().failing {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ticket_is_taken_or_abandoned_never_both() {
        let t = Ticket::default();
        assert!(t.take());
        assert!(!t.abandon());
        let t = Ticket::default();
        assert!(t.abandon());
        assert!(!t.take());
    }

    #[test]
    fn a_failure_fails_readiness_until_a_write_succeeds() {
        let h = Health::new(Duration::from_secs(60));
        assert_eq!(h.ready(), Ok(()));
        h.failed("read-only");
        assert_eq!(h.ready(), Err("read-only".into()));
        h.recovered();
        assert_eq!(h.ready(), Ok(()));
        let h = Health::new(Duration::ZERO);
        h.begin();
        assert!(h.ready().unwrap_err().contains("has not answered"));
        h.end();
        assert_eq!(h.ready(), Ok(()));
    }
}
