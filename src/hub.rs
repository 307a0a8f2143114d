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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio_util::sync::CancellationToken;
    use tokio_util::task::TaskTracker;

    use super::*;
    use crate::protocol::Audience;
    use crate::session::SessionConfig;
    use crate::store::MemoryLog;

    fn hub(idle_after: Duration) -> Arc<Hub> {
        Hub::new(Runtime {
            store: Arc::new(MemoryLog::new()),
            config: SessionConfig {
                idle_after,
                ..SessionConfig::default()
            },
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        })
    }

    #[tokio::test]
    async fn an_idle_session_stops_and_restarts_from_its_log() {
        let hub = hub(Duration::from_millis(100));
        let meta = hub
            .create(
                NewSession {
                    title: "Idle".into(),
                    ..Default::default()
                },
                Timestamp(1),
            )
            .await
            .unwrap();
        let h = hub.get(meta.id).await.unwrap().unwrap();
        let profile = crate::queue::Profile::new("Ana", "Brazil", crate::queue::Modality::Onsite);
        let cmd = Command::AddProxy {
            profile,
            kind: crate::queue::RequestKind::Question,
            note: None,
        };
        h.command(Actor::Chair, None, 1, cmd).await.unwrap();
        let seq = h.info().await.unwrap().seq;
        let sub = h.subscribe(Audience::Public, None).await.unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(hub.live(), 1, "a session with a client stays");
        drop(sub);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(hub.live(), 0, "an idle session stops");
        assert!(!h.is_live());
        let again = hub.get(meta.id).await.unwrap().unwrap();
        assert_eq!(
            again.info().await.unwrap().seq,
            seq,
            "and comes back from its log as it was"
        );
        assert_eq!(hub.live(), 1);
    }

    #[tokio::test]
    async fn unknown_sessions_are_none() {
        let hub = hub(Duration::from_secs(60));
        assert!(hub.get(SessionId::random()).await.unwrap().is_none());
    }
}
