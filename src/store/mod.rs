//! The event log: where a session's events are made durable before anyone sees them.
//!
//! [`EventLog`] is the one interface; each backend is a file of its own. Appends are
//! conditional on the session's current sequence number (`expected`), like a `(session, seq)`
//! primary key or JetStream's expected-last-subject-sequence: a stale writer is refused, never
//! interleaved.

mod memory;
mod sqlite;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::auth::SessionId;
use crate::queue::{Event, Timestamp};

pub use memory::MemoryLog;
pub use sqlite::{DirCheck, Durability, SqliteLog, SqliteOptions, check_dir};

/// What the store keeps about a session besides its events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The session.
    pub id: SessionId,
    /// When it was created.
    pub created_at: Timestamp,
    /// The log's incarnation: bumped if the log is ever cut back, so clients resync.
    pub epoch: u32,
    /// The capability key epoch: bumped to invalidate every link at once.
    pub key_epoch: u32,
}

/// Why the store could not do what was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The session already exists.
    #[error("session {0} already exists")]
    Exists(SessionId),
    /// No such session.
    #[error("no session {0}")]
    UnknownSession(SessionId),
    /// The log moved on since the writer read it.
    #[error("stale append: expected seq {expected}, the log is at {actual}")]
    Conflict {
        /// The writer's idea of the last seq.
        expected: u64,
        /// The log's.
        actual: u64,
    },
    /// The storage itself failed (a full disk, an I/O error, a read-only file).
    #[error("storage failed: {0}")]
    Io(String),
    /// A stored record does not check out: the session is not served altered.
    #[error("session {session} is damaged at seq {seq}: {reason}")]
    Damaged {
        /// The session.
        session: SessionId,
        /// The first record that does not check out.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// A boxed future of a store operation.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A durable, per-session, append-only log of events. Seqs start at 1 and have no gaps.
pub trait EventLog: Send + Sync + 'static {
    /// Create a session with its first events (at least the opening).
    fn create<'a>(&'a self, meta: &'a SessionMeta, events: &'a [Event]) -> StoreFuture<'a, ()>;
    /// A session's metadata.
    fn meta(&self, id: SessionId) -> StoreFuture<'_, Option<SessionMeta>>;
    /// Every session's metadata.
    fn list(&self) -> StoreFuture<'_, Vec<SessionMeta>>;
    /// Append `events` after seq `expected`; returns the new last seq.
    fn append<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        events: &'a [Event],
    ) -> StoreFuture<'a, u64>;
    /// The events after seq `after`, in order.
    fn load(&self, id: SessionId, after: u64) -> StoreFuture<'_, Vec<Event>>;
}
