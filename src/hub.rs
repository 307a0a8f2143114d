//! The registry of live sessions: `SessionId -> SessionHandle`. A session's actor starts on
//! first use by replaying its log, and stops by itself when idle; the next use starts it again.

use std::sync::{Arc, Weak};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

use crate::auth::SessionId;
use crate::queue::{
    Actor, AgendaItem, Command, Policy, Refusal, State, TimeLimits, Timestamp, decide,
};
use crate::session::{self, Runtime, SessionHandle};
use crate::store::{SessionMeta, StoreError};

/// Why a session could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The settings were refused (title, policy, limits, agenda).
    #[error(transparent)]
    Invalid(#[from] Refusal),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a new session starts with.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct NewSession {
    /// Title.
    pub title: String,
    /// Ordering policy (default FIFO with a 15-minute starvation guard).
    #[serde(default)]
    pub policy: Policy,
    /// Time limits (default three minutes, one for points of order and replies).
    #[serde(default)]
    pub limits: TimeLimits,
    /// Agenda items; the first starts at once.
    #[serde(default)]
    pub agenda: Vec<AgendaItem>,
}

/// Live sessions.
pub struct Hub {
    sessions: DashMap<SessionId, SessionHandle>,
    rt: Runtime,
}

impl Hub {
    /// An empty hub over the runtime's store.
    pub fn new(rt: Runtime) -> Arc<Self> {
        Arc::new(Self {
            sessions: DashMap::new(),
            rt,
        })
    }

    /// The runtime (store, config, shutdown) sessions run in.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// How many sessions have a running actor.
    pub fn live(&self) -> usize {
        self.sessions.iter().filter(|h| h.is_live()).count()
    }

    /// Create a session: its opening is decided by the core and stored before it exists.
    pub async fn create(
        &self,
        new: NewSession,
        now: Timestamp,
    ) -> Result<SessionMeta, CreateError> {
        let meta = SessionMeta {
            id: SessionId::random(),
            created_at: now,
            epoch: 1,
            key_epoch: 1,
        };
        let open = Command::OpenSession {
            title: new.title,
            policy: new.policy,
            limits: new.limits,
            agenda: new.agenda,
        };
        let events = decide(&State::default(), Actor::Organizer, open, now)?;
        self.rt.store.create(&meta, &events).await?;
        Ok(meta)
    }

    /// The live handle of a session, starting its actor from the log if needed; `None` if the
    /// session does not exist.
    pub async fn get(self: &Arc<Self>, id: SessionId) -> Result<Option<SessionHandle>, StoreError> {
        if let Some(h) = self.sessions.get(&id).filter(|h| h.is_live()) {
            return Ok(Some(h.clone()));
        }
        let Some(meta) = self.rt.store.meta(id).await? else {
            return Ok(None);
        };
        let events = self.rt.store.load(id, 0).await?;
        // Two callers may race to start the same session: the map entry decides, and the loser's
        // freshly loaded log is dropped without starting a second actor.
        Ok(Some(match self.sessions.entry(id) {
            Entry::Occupied(e) if e.get().is_live() => e.get().clone(),
            entry => {
                let hub: Weak<Self> = Arc::downgrade(self);
                let handle = session::spawn(&self.rt, meta, &events, move || {
                    if let Some(hub) = hub.upgrade() {
                        hub.sessions.remove_if(&id, |_, h| !h.is_live());
                    }
                });
                entry.insert(handle.clone());
                handle
            }
        }))
    }
}
