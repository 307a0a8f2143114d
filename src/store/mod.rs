//! The event log: where a session's events are made durable before anyone sees them.
//!
//! [`EventLog`] is the one interface; each backend is a file of its own. Appends are
//! conditional on the session's current sequence number (`expected`), like a `(session, seq)`
//! primary key or JetStream's expected-last-subject-sequence: a stale writer is refused, never
//! interleaved.

mod memory;
mod nats;
mod sqlite;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::ids::SessionId;
use crate::queue::{Event, Fact, ParticipantId, Timestamp};

pub use memory::MemoryLog;
pub use nats::{NatsLog, NatsOptions, ProgrammeWriteError, Version};
pub use sqlite::{
    DirCheck, DirLock, Durability, LOCK_FILE, SqliteLog, SqliteOptions, WalScan, check_dir,
    lock_dir,
};

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

/// The error below a store failure (SQLite's, the file system's, NATS's), kept whole for code
/// that inspects it.
pub type Cause = std::sync::Arc<dyn std::error::Error + Send + Sync>;

/// Why the store could not do what was asked.
#[derive(Debug, Clone)]
pub enum StoreError {
    /// The session already exists.
    Exists(SessionId),
    /// No such session.
    UnknownSession(SessionId),
    /// The log moved on since the writer read it.
    Conflict {
        /// The writer's idea of the last seq.
        expected: u64,
        /// The log's.
        actual: u64,
    },
    /// The storage itself failed (a full disk, an I/O error, a read-only file).
    Io {
        /// What failed, for people (with the cause's text, so a log line tells it all).
        what: String,
        /// The cause, when an error below the store gave one (its `source()`).
        source: Option<Cause>,
    },
    /// The store cannot write now (a failed or frozen disk), already logged once: nothing of
    /// the command was applied.
    Unavailable(String),
    /// A stored record does not check out: the session is not served altered.
    Damaged {
        /// The session.
        session: SessionId,
        /// The first record that does not check out.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::Exists(id) => write!(f, "session {id} already exists"),
            StoreError::UnknownSession(id) => write!(f, "no session {id}"),
            StoreError::Conflict { expected, actual } => write!(
                f,
                "stale append: expected seq {expected}, the log is at {actual}"
            ),
            StoreError::Io { what, .. } => write!(f, "storage failed: {what}"),
            StoreError::Unavailable(why) => write!(f, "storage unavailable: {why}"),
            StoreError::Damaged {
                session,
                seq,
                reason,
            } => write!(f, "session {session} is damaged at seq {seq}: {reason}"),
        }
    }
}

/// Written by hand rather than derived so that `source()` is the cause itself (a
/// `rusqlite::Error`, an `io::Error`...), ready to downcast, not the `Arc` holding it.
impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Io {
                source: Some(cause),
                ..
            } => Some(&**cause),
            _ => None,
        }
    }
}

/// Two failures are the same when they say the same (a cause is compared by its text).
impl PartialEq for StoreError {
    fn eq(&self, other: &Self) -> bool {
        use StoreError::*;
        match (self, other) {
            (Exists(a), Exists(b)) | (UnknownSession(a), UnknownSession(b)) => a == b,
            (
                Conflict { expected, actual },
                Conflict {
                    expected: e,
                    actual: a,
                },
            ) => expected == e && actual == a,
            (Io { what: a, .. }, Io { what: b, .. }) => a == b,
            (Unavailable(a), Unavailable(b)) => a == b,
            (
                Damaged {
                    session,
                    seq,
                    reason,
                },
                Damaged {
                    session: s,
                    seq: q,
                    reason: r,
                },
            ) => session == s && seq == q && reason == r,
            _ => false,
        }
    }
}

impl Eq for StoreError {}

impl StoreError {
    /// A storage failure with no error below it (a stopped writer, a damaged WAL, a lock
    /// held elsewhere).
    pub fn io(what: impl Into<String>) -> Self {
        StoreError::Io {
            what: what.into(),
            source: None,
        }
    }

    /// A storage failure caused by `cause`, said in `context` (a path, a URL).
    pub fn io_at(
        context: impl std::fmt::Display,
        cause: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        let cause: Cause = cause.into().into();
        StoreError::Io {
            what: format!("{context}: {cause}"),
            source: Some(cause),
        }
    }

    /// A storage failure caused by `cause` (an error, or a message for a failure found by hand).
    pub fn io_from(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        let cause: Cause = cause.into().into();
        StoreError::Io {
            what: cause.to_string(),
            source: Some(cause),
        }
    }
}

/// How long an answer is kept for resends, in milliseconds: older ones are dropped, from memory
/// and from the store, without rewriting the log.
pub const ANSWERS_KEPT_MS: u64 = 60 * 60 * 1000;

/// Who made an append: the command's request id and, when its answer is to be kept for
/// resends, its sender (an opaque key derived from the client's secret, never the secret).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    /// The command's request id.
    pub req: u64,
    /// The sender's key, if the answer is recorded with the events.
    pub sender: Option<String>,
}

/// The answer to a command, as recorded with its events: the ack of `(sender, req)` is the
/// append's last seq, and the participant a `join` created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The sender's key.
    pub sender: String,
    /// The command's request id.
    pub req: u64,
    /// The session's seq after the command.
    pub seq: u64,
    /// The participant a `join` created.
    pub participant: Option<ParticipantId>,
    /// When it was answered (its last event's time).
    pub at: Timestamp,
}

impl Recorded {
    /// The record of the append `from..` of `events` made by `origin`, if it has a sender.
    pub fn of(origin: &Origin, from: u64, events: &[Event]) -> Option<Self> {
        // A claim (no events) records no acknowledgement: see `EventLog::claim`.
        if events.is_empty() {
            return None;
        }
        Some(Self {
            sender: origin.sender.clone()?,
            req: origin.req,
            seq: from + events.len() as u64 - 1,
            participant: events.iter().find_map(|e| match e.fact {
                Fact::ParticipantJoined { participant, .. } => Some(participant),
                _ => None,
            }),
            at: events.last().map_or(Timestamp(0), |e| e.at),
        })
    }
}

/// A session's log as an actor starts from it: every event, and the answers recorded since a
/// time (the idempotency window).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Replay {
    /// Every event.
    pub events: Vec<Event>,
    /// The recorded answers since the time asked, oldest first.
    pub answers: Vec<Recorded>,
}

/// Events appended to a session, as a follower of its log sees them: one append, whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Appended {
    /// The seq of the first event.
    pub from: u64,
    /// Who made them (as `append` was given it).
    pub origin: Origin,
    /// The events, seqs `from..from + events.len()`.
    pub events: Vec<Event>,
}

impl Appended {
    /// The seq of the last event.
    pub fn seq(&self) -> u64 {
        self.from + self.events.len() as u64 - 1
    }
}

/// A live session's feed of every append to its log, by any node, in order. It ends (or yields
/// an error) if the log can no longer be followed.
pub type Follower = tokio::sync::mpsc::Receiver<Result<Appended, StoreError>>;

/// The checksum of a record: a CRC-32 over its session, first seq and body.
fn checksum(session: SessionId, seq: u64, body: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(session.0.as_bytes());
    h.update(&seq.to_le_bytes());
    h.update(body);
    h.finalize()
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
    /// Append `events` after seq `expected`; returns the new last seq. `origin` names the
    /// command that made them: its request id is carried to followers, and with a sender its
    /// answer is recorded in the same transaction (or message) as the events.
    fn append<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        origin: &'a Origin,
        events: &'a [Event],
    ) -> StoreFuture<'a, u64>;
    /// Settle `origin`'s command as refused at seq `expected`, before the refusal is given. On
    /// a shared log, two copies of one command can be in flight at once (a page resends to
    /// another node when the first got no answer): when one is refused, the claim makes the
    /// other's append fail instead of landing after the refusal was given. `Conflict` when the
    /// log moved on (perhaps with the other copy). Nothing for a log only this process writes
    /// (the default), where no other copy can be in flight.
    fn claim<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        origin: &'a Origin,
    ) -> StoreFuture<'a, ()> {
        let _ = (id, expected, origin);
        Box::pin(std::future::ready(Ok(())))
    }
    /// The events after seq `after`, in order.
    fn load(&self, id: SessionId, after: u64) -> StoreFuture<'_, Vec<Event>>;
    /// The answers recorded for session `id` at or after `since`, oldest first. Older ones may
    /// be gone already: the window is kept without rewriting the log.
    fn answers(&self, id: SessionId, since: Timestamp) -> StoreFuture<'_, Vec<Recorded>>;
    /// Every event of session `id` and the answers recorded since `since`: what an actor starts
    /// from. A backend that can read both at once overrides it.
    fn replay(&self, id: SessionId, since: Timestamp) -> StoreFuture<'_, Replay> {
        Box::pin(async move {
            let events = self.load(id, 0).await?;
            let answers = self.answers(id, since).await?;
            Ok(Replay { events, answers })
        })
    }
    /// Whether other processes append to these logs too (a cluster). Then a live session
    /// follows its log, and what was read from a log may be stale the moment it is read.
    fn shared(&self) -> bool {
        false
    }
    /// The last seq of session `id` as the log holds it now; `None` for a log only this
    /// process writes (the default), whose live session is always at its head.
    fn head(&self, id: SessionId) -> StoreFuture<'_, Option<u64>> {
        let _ = id;
        Box::pin(std::future::ready(Ok(None)))
    }
    /// `Ok` while the store can write; else why not, for `/readyz` (the default: always).
    fn ready(&self) -> Result<(), String> {
        Ok(())
    }
    /// Called once at shutdown, after every session stopped: leave the storage in its final
    /// form (SQLite: the WAL copied into the database file and truncated). Nothing by default.
    fn close(&self) -> StoreFuture<'_, ()> {
        Box::pin(std::future::ready(Ok(())))
    }
    /// Every append to session `id` after seq `after`, by any process, as it happens; `None`
    /// for a log only this process writes (the default).
    fn follow(&self, id: SessionId, after: u64) -> StoreFuture<'_, Option<Follower>> {
        let _ = (id, after);
        Box::pin(std::future::ready(Ok(None)))
    }
}
