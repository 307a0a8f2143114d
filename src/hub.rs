//! The registry of live sessions: `SessionId -> SessionHandle`. A session's actor starts on
//! first use by replaying its log, and stops by itself when idle; the next use starts it again.
//!
//! It also answers the organizer's list of every session in the store: a running session
//! summarizes itself; an idle one is summarized once from its log and remembered until its
//! actor starts again (a log only changes through its actor).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use dashmap::DashMap;
use dashmap::mapref::entry::Entry;

mod error;

pub use crate::store::{SessionMeta, StoreError};

use crate::ids::SessionId;
use crate::queue::{
    Actor, AgendaItem, Command, Policy, Refusal, State, TimeLimits, Timestamp, decide,
};
use crate::session::{self, Runtime, SessionHandle, Summary};
use crate::store::Replay;

/// The wall clock in milliseconds.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

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

/// What a new session starts with (`POST /api/sessions`; unknown fields are refused).
#[derive(schemars::JsonSchema, Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
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

/// A session in the organizer's list.
#[derive(Debug, Clone)]
pub struct Listed {
    /// What the store keeps about it.
    pub meta: SessionMeta,
    /// Running, idle, or damaged.
    pub standing: Standing,
}

/// Whether a session is running, and what it looks like.
#[derive(Debug, Clone)]
pub enum Standing {
    /// Its actor runs on this node.
    Live(Summary),
    /// No actor runs: the summary comes from its log.
    Idle(Summary),
    /// Its log does not check out: it is not served (see `rostrum check` and `rostrum repair`).
    Damaged {
        /// The first record that does not check out.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
}

/// Live sessions.
pub struct Hub {
    sessions: DashMap<SessionId, SessionHandle>,
    /// Summaries of sessions with no running actor, computed from their logs. An entry is
    /// dropped when the session's actor starts and again when it stops, so one computed while an
    /// actor ran never outlives it.
    idle: DashMap<SessionId, Summary>,
    /// Actors started and stopped so far: a summary read from a log while one started and stopped
    /// may be stale, and is not kept.
    turnover: AtomicU64,
    /// Sessions being started, one gate each: the first caller loads the log, callers arriving
    /// meanwhile wait for it and take the handle it started.
    starting: DashMap<SessionId, Arc<tokio::sync::Mutex<()>>>,
    /// Logs loaded to start an actor, so far.
    loads: AtomicU64,
    rt: Runtime,
}

/// A caller's place at a session's starting gate; the last one out removes the gate.
struct Starting<'a> {
    hub: &'a Hub,
    id: SessionId,
    gate: Arc<tokio::sync::Mutex<()>>,
}

impl<'a> Starting<'a> {
    fn new(hub: &'a Hub, id: SessionId) -> Self {
        let gate = hub.starting.entry(id).or_default().clone();
        Self { hub, id, gate }
    }
}

impl Drop for Starting<'_> {
    fn drop(&mut self) {
        // Under the map's lock, so no caller can take the gate between the count and the removal:
        // the map's reference and this one mean nobody else is at it.
        self.hub.starting.remove_if(&self.id, |_, g| {
            Arc::ptr_eq(g, &self.gate) && Arc::strong_count(g) == 2
        });
    }
}

impl Hub {
    /// An empty hub over the runtime's store.
    pub fn new(rt: Runtime) -> Arc<Self> {
        Arc::new(Self {
            sessions: DashMap::new(),
            idle: DashMap::new(),
            turnover: AtomicU64::new(0),
            starting: DashMap::new(),
            loads: AtomicU64::new(0),
            rt,
        })
    }

    /// The runtime (store, config, shutdown) sessions run in.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// A session's whole log, oldest first (its record: exports and reports), read without
    /// starting its actor; `UnknownSession` if there is none.
    pub async fn log(&self, id: SessionId) -> Result<Vec<crate::queue::Event>, StoreError> {
        self.rt.store.load(id, 0).await
    }

    /// What the store keeps about a session, without starting its actor.
    pub async fn meta(&self, id: SessionId) -> Result<Option<SessionMeta>, StoreError> {
        self.rt.store.meta(id).await
    }

    /// What the store keeps about every session, in no particular order; starts no actor.
    pub async fn metas(&self) -> Result<Vec<SessionMeta>, StoreError> {
        self.rt.store.list().await
    }

    /// Whether the store can write now (for `/readyz`), and why not.
    pub fn ready(&self) -> Result<(), String> {
        self.rt.store.ready()
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

    /// How many times a session's log was loaded to start its actor (once per start, however
    /// many callers asked for it at once).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    fn running(&self, id: SessionId) -> Option<SessionHandle> {
        self.sessions
            .get(&id)
            .filter(|h| h.is_live())
            .map(|h| h.clone())
    }

    /// The live handle of a session, starting its actor from the log if needed; `None` if the
    /// session does not exist. Callers asking at once for a session that is not running (every
    /// client of an idle session reconnecting after a restart) load its log once: the first
    /// starts the actor, the others wait at its gate and share the handle.
    pub async fn get(self: &Arc<Self>, id: SessionId) -> Result<Option<SessionHandle>, StoreError> {
        if let Some(h) = self.running(id) {
            return Ok(Some(h));
        }
        let starting = Starting::new(self, id);
        let turn = starting.gate.clone().lock_owned().await;
        if let Some(h) = self.running(id) {
            return Ok(Some(h));
        }
        let started = self.start(id).await;
        drop(turn);
        started
    }

    /// Load a session's log and start its actor (one caller at a time per session).
    async fn start(self: &Arc<Self>, id: SessionId) -> Result<Option<SessionHandle>, StoreError> {
        let Some(meta) = self.rt.store.meta(id).await? else {
            return Ok(None);
        };
        // The answers of the last hour come with the log, so a resend after the actor stopped
        // (idle, a restart, another node's death) gets its original answer.
        let since = Timestamp(now_ms().saturating_sub(crate::store::ANSWERS_KEPT_MS));
        self.loads.fetch_add(1, Ordering::Relaxed);
        crate::metrics::hot().session_loads.increment(1);
        let Replay { events, answers } = self.rt.store.replay(id, since).await?;
        let follower = self.rt.store.follow(id, events.len() as u64).await?;
        // Callers on this node wait at the gate; the map entry still decides, should a start
        // ever race one (the loser's freshly loaded log is dropped without a second actor).
        Ok(Some(match self.sessions.entry(id) {
            Entry::Occupied(e) if e.get().is_live() => e.get().clone(),
            entry => {
                let hub: Weak<Self> = Arc::downgrade(self);
                self.turnover.fetch_add(1, Ordering::SeqCst);
                self.idle.remove(&id);
                let handle =
                    session::spawn(&self.rt, meta, &events, answers, follower, move || {
                        if let Some(hub) = hub.upgrade() {
                            hub.sessions.remove_if(&id, |_, h| !h.is_live());
                            hub.turnover.fetch_add(1, Ordering::SeqCst);
                            hub.idle.remove(&id);
                        }
                    });
                entry.insert(handle.clone());
                handle
            }
        }))
    }

    /// Every session in the store, oldest first, each live, idle or damaged. Starts no actor.
    pub async fn list(&self) -> Result<Vec<Listed>, StoreError> {
        let mut metas = self.rt.store.list().await?;
        metas.sort_by_key(|m| (m.created_at, m.id));
        let mut listed = Vec::with_capacity(metas.len());
        for meta in metas {
            let standing = self.standing(meta.id).await?;
            listed.push(Listed { meta, standing });
        }
        Ok(listed)
    }

    async fn standing(&self, id: SessionId) -> Result<Standing, StoreError> {
        let turnover = self.turnover.load(Ordering::SeqCst);
        let live = self
            .sessions
            .get(&id)
            .filter(|h| h.is_live())
            .map(|h| h.clone());
        if let Some(handle) = live
            && let Ok(summary) = handle.summary().await
        {
            return Ok(Standing::Live(summary));
        }
        // The actor (if there was one) has stopped: its appends are all in the log. Other nodes
        // may append to a shared log at any time, so its summaries are not kept.
        let shared = self.rt.store.shared();
        if let Some(summary) = self.idle.get(&id).map(|s| s.clone()).filter(|_| !shared) {
            return Ok(Standing::Idle(summary));
        }
        match self.rt.store.load(id, 0).await {
            Ok(events) => {
                let summary = Summary::of(&State::replay(&events), 0);
                if !shared && self.turnover.load(Ordering::SeqCst) == turnover {
                    self.idle.insert(id, summary.clone());
                }
                Ok(Standing::Idle(summary))
            }
            Err(StoreError::Damaged { seq, reason, .. }) => Ok(Standing::Damaged { seq, reason }),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod resend_tests;

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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fifty_callers_at_once_load_an_idle_sessions_log_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::SqliteLog::open(dir.path(), Default::default()).unwrap();
        let hub = Hub::new(Runtime {
            store: Arc::new(store),
            config: SessionConfig {
                idle_after: Duration::from_millis(100),
                ..SessionConfig::default()
            },
            cancel: CancellationToken::new(),
            tracker: TaskTracker::new(),
        });
        let new = NewSession {
            title: "Reconnect storm".into(),
            ..Default::default()
        };
        let meta = hub.create(new, Timestamp(1)).await.unwrap();
        let add = |i: u32| Command::AddProxy {
            profile: crate::queue::Profile::new(
                format!("Speaker {i}"),
                "Kenya",
                crate::queue::Modality::Online,
            ),
            kind: crate::queue::RequestKind::Question,
            note: None,
        };
        let h = hub.get(meta.id).await.unwrap().unwrap();
        for i in 0..200 {
            h.command(Actor::Chair, None, 0, add(i)).await.unwrap();
        }
        drop(h);
        for _ in 0..100 {
            if hub.live() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(hub.live(), 0, "the session went idle");
        let before = hub.loads();
        // Every client of the session reconnecting at once (after a restart, a network blip).
        let gets: Vec<_> = (0..50)
            .map(|_| {
                let hub = hub.clone();
                tokio::spawn(async move { hub.get(meta.id).await })
            })
            .collect();
        let mut handles = Vec::new();
        for g in gets {
            handles.push(g.await.unwrap().unwrap().unwrap());
        }
        assert_eq!(hub.loads() - before, 1, "one load for fifty callers");
        assert_eq!(hub.live(), 1, "one actor");
        let seq = handles[0].info().await.unwrap().seq;
        for h in &handles {
            assert_eq!(h.info().await.unwrap().seq, seq, "all on the same actor");
        }
        assert!(hub.starting.is_empty(), "no gate left behind");
        // Unknown sessions pass the gate too, and leave nothing.
        assert!(hub.get(SessionId::random()).await.unwrap().is_none());
        assert!(hub.starting.is_empty());
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
    async fn the_list_summarizes_running_and_idle_sessions_alike_and_starts_nothing() {
        let hub = hub(Duration::from_millis(100));
        let new = |title: &str| NewSession {
            title: title.into(),
            ..Default::default()
        };
        let a = hub.create(new("A"), Timestamp(1)).await.unwrap();
        let b = hub.create(new("B"), Timestamp(2)).await.unwrap();
        let listed = hub.list().await.unwrap();
        assert_eq!(hub.live(), 0, "listing starts no actor");
        let titles: Vec<_> = listed
            .iter()
            .map(|l| match &l.standing {
                Standing::Idle(s) => s.title.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(titles, ["A", "B"], "oldest first");

        let h = hub.get(a.id).await.unwrap().unwrap();
        let profile = crate::queue::Profile::new("Ana", "Brazil", crate::queue::Modality::Onsite);
        let add = Command::AddProxy {
            profile,
            kind: crate::queue::RequestKind::Question,
            note: None,
        };
        h.command(Actor::Chair, None, 1, add).await.unwrap();
        let sub = h.subscribe(Audience::Public, None).await.unwrap();
        let live = match &hub.list().await.unwrap()[0].standing {
            Standing::Live(s) => s.clone(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            (live.participants, live.queued, live.connections),
            (1, 1, 1)
        );
        h.command(Actor::Organizer, None, 2, Command::EndSession)
            .await
            .unwrap();
        let last = h.summary().await.unwrap();
        drop(sub);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(hub.live(), 0);
        let listed = hub.list().await.unwrap();
        let Standing::Idle(idle) = &listed[0].standing else {
            panic!("{:?}", listed[0].standing)
        };
        assert!(idle.ended);
        assert_eq!(
            *idle,
            Summary {
                connections: 0,
                ..last
            },
            "the summary folded from the log is the one the actor gave"
        );
        assert_eq!((idle.participants, idle.seq), (1, live.seq + 1));
        assert_eq!(listed[1].meta.id, b.id);
    }

    #[tokio::test]
    async fn unknown_sessions_are_none() {
        let hub = hub(Duration::from_secs(60));
        assert!(hub.get(SessionId::random()).await.unwrap().is_none());
    }
}
