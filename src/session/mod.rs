//! One live session: an actor (a tokio task) that owns the queue's state and its seq, and the
//! cloneable [`SessionHandle`] that is the only way in.
//!
//! The session itself is a [`core::Core`] with no I/O and no clock: it decides each command
//! against its state, applies appended events, and says what to publish (one update, serialized
//! once per audience and shared as bytes by every connection), keeping the last updates for
//! resume, the answers to recent commands for idempotent resends, and presence; given the time,
//! it re-publishes the order when the starvation guard promotes someone with no event. The
//! actor (`actor.rs`) is the loop around it: the store (durable before visible), the channels,
//! the timers.

mod actor;
mod answers;
pub mod contended;
pub mod core;
mod presence;
mod publish;
mod snapshot;
mod summary;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::protocol::{Audience, Resume};
use crate::queue::{Actor, Command, Event, ParticipantId, Policy, Refusal, State};
use crate::store::{EventLog, Follower, Recorded, SessionMeta};

pub use presence::PresenceGuard;
pub use summary::{Speaker, Summary};

/// Tunables of every session actor.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// Updates kept for resume; a client further behind gets a snapshot.
    pub resume_window: usize,
    /// Updates a connection may fall behind before it is sent a snapshot instead.
    pub lag_capacity: usize,
    /// A session with no clients and no commands for this long stops (it restarts from the log).
    pub idle_after: Duration,
    /// Answers remembered per sender for idempotent resends (besides the hour they are kept).
    pub answers: usize,
    /// Commands that may wait in the actor's mailbox.
    pub mailbox: usize,
    /// How long a participant whose connections all closed shows as reconnecting, not gone.
    pub presence_grace: Duration,
    /// Presence changes are sent to moderators at most this often (coalesced).
    pub presence_every: Duration,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            resume_window: 1024,
            lag_capacity: 256,
            idle_after: Duration::from_secs(300),
            answers: answers::PER_SENDER,
            mailbox: 256,
            presence_grace: Duration::from_secs(30),
            presence_every: Duration::from_secs(1),
        }
    }
}

/// One update as sent, serialized once per audience.
#[derive(Debug)]
pub struct Frame {
    /// The first seq it covers (`seq + 1` for an order-only frame, which covers none).
    pub from: u64,
    /// The last seq it covers (the current seq, for an order-only frame).
    pub seq: u64,
    /// The bytes for moderators (who get every update).
    pub moderator: Bytes,
    /// The bytes for everyone else, when the change is theirs to see (`None`: not sent).
    /// The actor sends a frame without them on the moderators' channel only
    /// (`actor/updates.rs`), so no public connection wakes for it.
    pub public: Option<Bytes>,
}

impl Frame {
    /// The bytes for `audience` (a reference-count bump, no copy), if it is sent to them.
    pub fn bytes(&self, audience: Audience) -> Option<Bytes> {
        match audience {
            Audience::Moderator => Some(self.moderator.clone()),
            Audience::Public => self.public.clone(),
        }
    }
}

/// What a new or returning connection starts with.
#[derive(Debug)]
pub struct Subscription {
    /// Whether the resume succeeded (the missed updates follow) or a snapshot follows.
    pub recovered: bool,
    /// The log's epoch.
    pub epoch: u32,
    /// The seq the connection is at once it has sent `initial`.
    pub seq: u64,
    /// Frames to send first: a snapshot, or the missed updates and the current order.
    pub initial: Vec<Bytes>,
    /// Every later update.
    pub updates: broadcast::Receiver<Arc<Frame>>,
    /// Moderators only: every later presence frame (each one whole, so a missed one is no gap).
    pub presence: Option<broadcast::Receiver<Bytes>>,
}

/// The answer to a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Done (or nothing to do); the session is at `seq`.
    Ack {
        /// The session's seq after the command.
        seq: u64,
        /// The participant a `join` created.
        participant: Option<ParticipantId>,
    },
    /// Refused by the queue's rules; nothing changed.
    Refused(Refusal),
    /// The store failed; nothing changed and the command may be sent again.
    Unavailable,
}

/// Who sent a command, for idempotency: the same `(sender, req)` gets the same answer. An
/// opaque key (128 bits of a SHA-256, as hex) over the actor and the client's secret, so the
/// store and the cluster's messages never hold the secret itself, and one tab acting as two
/// actors (a newcomer, then a participant) keeps two windows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sender(String);

impl Sender {
    /// The sender `actor` with the client secret `secret`.
    pub fn new(actor: Actor, secret: &str) -> Self {
        use sha2::{Digest, Sha256};
        let who = match actor {
            Actor::Organizer => "organizer".to_owned(),
            Actor::Chair => "chair".to_owned(),
            Actor::OnlineModerator => "online_moderator".to_owned(),
            Actor::Participant(p) => format!("participant:{}", p.0),
            Actor::Newcomer => "newcomer".to_owned(),
        };
        let mut h = Sha256::new();
        h.update(b"rostrum sender v1\0");
        h.update(who.as_bytes());
        h.update(b"\0");
        h.update(secret.as_bytes());
        Self(
            h.finalize()[..16]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        )
    }

    /// The key as stored.
    pub fn key(&self) -> &str {
        &self.0
    }
}

/// Public facts about a session.
#[derive(schemars::JsonSchema, Debug, Clone, serde::Serialize)]
pub struct Info {
    /// Title.
    pub title: String,
    /// Ordering policy.
    pub policy: Policy,
    /// New requests accepted.
    pub list_open: bool,
    /// Requests in the queue.
    pub queued: usize,
    /// Current seq.
    pub seq: u64,
    /// Log epoch.
    pub epoch: u32,
}

/// Which links still work: those signed at the current key epoch, except removed participants'
/// own links. Connections watch it and close the moment their link stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// The current key epoch.
    pub key_epoch: u32,
    /// Participants removed from the session.
    pub removed: BTreeSet<ParticipantId>,
}

impl Gate {
    fn of(key_epoch: u32, s: &State) -> Self {
        Self {
            key_epoch: key_epoch + s.key_rotations(),
            removed: s
                .participants()
                .iter()
                .filter(|p| p.removed)
                .map(|p| p.id)
                .collect(),
        }
    }

    /// Whether a link signed at `epoch` (for `participant`, on a personal link) still works.
    pub fn admits(&self, epoch: u32, participant: Option<ParticipantId>) -> bool {
        epoch == self.key_epoch && participant.is_none_or(|p| !self.removed.contains(&p))
    }
}

/// The session has stopped (idle or shutting down); ask the hub again.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the session actor has stopped")]
pub struct Gone;

/// A command for the actor, with where its answer goes.
struct Pending {
    actor: Actor,
    client: Option<String>,
    req: u64,
    command: Command,
    reply: oneshot::Sender<Answer>,
}

enum Msg {
    Command(Pending),
    Subscribe {
        audience: Audience,
        resume: Option<Resume>,
        reply: oneshot::Sender<Subscription>,
    },
    Info {
        reply: oneshot::Sender<Info>,
    },
    Summary {
        reply: oneshot::Sender<Summary>,
    },
}

/// The way into a live session.
#[derive(Debug, Clone)]
pub struct SessionHandle {
    meta: Arc<SessionMeta>,
    tx: mpsc::Sender<Msg>,
    gate: watch::Receiver<Gate>,
    /// Unbounded: a report is sent from `Drop`, which cannot wait; there are two per connection.
    presence: mpsc::UnboundedSender<presence::Seen>,
}

impl SessionHandle {
    /// The session's metadata as loaded.
    pub fn meta(&self) -> &SessionMeta {
        &self.meta
    }

    /// Which links work now; `changed()` wakes when a link stops working.
    pub fn gate(&self) -> watch::Receiver<Gate> {
        self.gate.clone()
    }

    /// The key epoch links must carry now.
    pub fn key_epoch(&self) -> u32 {
        self.gate.borrow().key_epoch
    }

    /// Report a connection of `participant` open until the guard is dropped.
    pub fn present(&self, participant: ParticipantId) -> PresenceGuard {
        PresenceGuard::open(self.presence.clone(), participant)
    }

    /// Whether the actor is still running.
    pub fn is_live(&self) -> bool {
        !self.tx.is_closed()
    }

    async fn ask<T>(&self, msg: impl FnOnce(oneshot::Sender<T>) -> Msg) -> Result<T, Gone> {
        self.put(msg).await?.await.map_err(|_| Gone)
    }

    /// Put a message in the mailbox, waiting only for room there; returns where its answer comes.
    async fn put<T>(
        &self,
        msg: impl FnOnce(oneshot::Sender<T>) -> Msg,
    ) -> Result<oneshot::Receiver<T>, Gone> {
        let (reply, rx) = oneshot::channel();
        self.tx.send(msg(reply)).await.map_err(|_| Gone)?;
        Ok(rx)
    }

    /// Submit a command from `actor`; a `client` secret (checked by the caller: one the server
    /// issued) makes resends with the same `req` idempotent.
    pub async fn command(
        &self,
        actor: Actor,
        client: Option<String>,
        req: u64,
        command: Command,
    ) -> Result<Answer, Gone> {
        let answer = self.submit(actor, client, req, command).await?;
        answer.await.map_err(|_| Gone)
    }

    /// Put a command in the mailbox; commands submitted one after another are decided in order.
    pub async fn submit(
        &self,
        actor: Actor,
        client: Option<String>,
        req: u64,
        command: Command,
    ) -> Result<oneshot::Receiver<Answer>, Gone> {
        self.put(|reply| {
            Msg::Command(Pending {
                actor,
                client,
                req,
                command,
                reply,
            })
        })
        .await
    }

    /// Start receiving updates, resuming from `resume` when possible.
    pub async fn subscribe(
        &self,
        audience: Audience,
        resume: Option<Resume>,
    ) -> Result<Subscription, Gone> {
        self.ask(|reply| Msg::Subscribe {
            audience,
            resume,
            reply,
        })
        .await
    }

    /// Public facts.
    pub async fn info(&self) -> Result<Info, Gone> {
        self.ask(|reply| Msg::Info { reply }).await
    }

    /// The organizer's summary, with the connections open now.
    pub async fn summary(&self) -> Result<Summary, Gone> {
        self.ask(|reply| Msg::Summary { reply }).await
    }
}

/// Everything a session actor needs besides its own log.
#[derive(Clone)]
pub struct Runtime {
    /// The store.
    pub store: Arc<dyn EventLog>,
    /// Tunables.
    pub config: SessionConfig,
    /// Cancelled at shutdown.
    pub cancel: CancellationToken,
    /// Tracks the actor so shutdown can wait for it.
    pub tracker: TaskTracker,
}

/// Start the actor for a session from its log and the answers recorded with it, following it when other nodes append to it too.
/// `on_exit` runs when it stops.
pub fn spawn(
    rt: &Runtime,
    meta: SessionMeta,
    events: &[Event],
    answers: Vec<Recorded>,
    follower: Option<Follower>,
    on_exit: impl FnOnce() + Send + 'static,
) -> SessionHandle {
    let (tx, rx) = mpsc::channel(rt.config.mailbox);
    let (presence, presence_rx) = mpsc::unbounded_channel();
    let meta = Arc::new(meta);
    let actor = actor::SessionActor::new(
        rt.clone(),
        meta.clone(),
        events,
        answers,
        follower,
        presence_rx,
    );
    let gate = actor.gate();
    let span = tracing::info_span!("session", session = %meta.id);
    crate::metrics::hot().sessions.increment(1.0);
    let on_exit = move || {
        crate::metrics::hot().sessions.decrement(1.0);
        on_exit();
    };
    rt.tracker.spawn(tracing::Instrument::instrument(
        actor.run(rx, on_exit),
        span,
    ));
    SessionHandle {
        meta,
        tx,
        gate,
        presence,
    }
}
