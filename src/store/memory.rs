//! An event log in memory: for tests, and for a service run without persistence.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{EventLog, Origin, Recorded, SessionMeta, StoreError, StoreFuture};
use crate::ids::SessionId;
use crate::queue::{Event, Timestamp};

/// A session as kept: its metadata, its events, and the answers recorded with them.
type Kept = (SessionMeta, Vec<Event>, Vec<Recorded>);

/// Sessions and their events in a map. The lock is held only for the copy in or out, never
/// across an `.await` (each operation completes before its future is returned).
#[derive(Debug, Default)]
pub struct MemoryLog {
    sessions: Mutex<HashMap<SessionId, Kept>>,
}

impl MemoryLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<SessionId, Kept>) -> T) -> T {
        f(&mut self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }
}

impl EventLog for MemoryLog {
    fn create<'a>(&'a self, meta: &'a SessionMeta, events: &'a [Event]) -> StoreFuture<'a, ()> {
        let r = self.with(|m| {
            if m.contains_key(&meta.id) {
                return Err(StoreError::Exists(meta.id));
            }
            m.insert(meta.id, (meta.clone(), events.to_vec(), Vec::new()));
            Ok(())
        });
        Box::pin(std::future::ready(r))
    }

    fn meta(&self, id: SessionId) -> StoreFuture<'_, Option<SessionMeta>> {
        let r = self.with(|m| m.get(&id).map(|(meta, ..)| meta.clone()));
        Box::pin(std::future::ready(Ok(r)))
    }

    fn list(&self) -> StoreFuture<'_, Vec<SessionMeta>> {
        let r = self.with(|m| m.values().map(|(meta, ..)| meta.clone()).collect());
        Box::pin(std::future::ready(Ok(r)))
    }

    fn append<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        origin: &'a Origin,
        events: &'a [Event],
    ) -> StoreFuture<'a, u64> {
        let r = self.with(|m| {
            let (_, log, answers) = m.get_mut(&id).ok_or(StoreError::UnknownSession(id))?;
            let actual = log.len() as u64;
            if actual != expected {
                return Err(StoreError::Conflict { expected, actual });
            }
            log.extend_from_slice(events);
            answers.extend(Recorded::of(origin, expected + 1, events));
            Ok(log.len() as u64)
        });
        Box::pin(std::future::ready(r))
    }

    fn load(&self, id: SessionId, after: u64) -> StoreFuture<'_, Vec<Event>> {
        let r = self.with(|m| {
            let (_, log, _) = m.get(&id).ok_or(StoreError::UnknownSession(id))?;
            Ok(log.get(after as usize..).unwrap_or_default().to_vec())
        });
        Box::pin(std::future::ready(r))
    }

    fn answers(&self, id: SessionId, since: Timestamp) -> StoreFuture<'_, Vec<Recorded>> {
        let r = self.with(|m| {
            let (_, _, answers) = m.get_mut(&id).ok_or(StoreError::UnknownSession(id))?;
            // The window, kept as SQLite keeps it: older answers go.
            answers.retain(|a| a.at >= since);
            Ok(answers.clone())
        });
        Box::pin(std::future::ready(r))
    }
}
