//! The session actor's loop: one task, one state, commands in order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, mpsc, watch};

mod follow;

use follow::next_append;

use super::answers::Answers;
use super::presence::{Presence, Seen};
use super::publish::Published;
use super::{Answer, Frame, Gate, Info, Msg, Runtime, Sender, Subscription};
use crate::metrics;
use crate::protocol::{Audience, Outgoing, Resume, View, encode};
use crate::queue::{Actor, Command, Event, Fact, State, Timestamp, decide};
use crate::store::{Follower, Origin, Recorded, SessionMeta, StoreError};

/// How long a command may keep being decided again while other nodes keep appending first.
/// Every refusal means another node's append went in, so the log moves on; a busy node must
/// not starve a quiet one's command after a fixed number of tries (that answered
/// `unavailable` under load), so the bound is time, with a random pause between tries.
const CONTENDED: Duration = Duration::from_secs(5);
/// How long a node waits to see an append another node made before it decides again.
const CATCH_UP: Duration = Duration::from_secs(3);

pub(super) struct SessionActor {
    rt: Runtime,
    meta: Arc<SessionMeta>,
    state: State,
    updates: broadcast::Sender<Arc<Frame>>,
    /// The last update frames, oldest first, for resume.
    ring: VecDeque<Arc<Frame>>,
    answers: Answers,
    published: Published,
    /// The time of the last event: server time never runs backwards within a session.
    last_at: Timestamp,
    gate: watch::Sender<Gate>,
    /// Appends by every node, when the log is shared; this node's own come back and are skipped.
    follower: Option<Follower>,
    /// The follower failed while a command drained it: stop after that command.
    lost_follower: bool,
    /// Participants' connections opening and closing, and who is connected (not in the log).
    presence_rx: mpsc::UnboundedReceiver<Seen>,
    presence: Presence,
    /// Presence frames, to moderators only.
    presence_out: broadcast::Sender<Utf8Bytes>,
    /// When the pending presence changes are due out (the end of the coalescing window).
    presence_due: Option<Instant>,
}

/// A random pause before the `attempts`th decision of a contended command: up to 1, 2, 4 ...
/// 32 ms, so two nodes that keep colliding fall out of step.
fn backoff(attempts: u32) -> Duration {
    let cap = 1u64 << attempts.min(5);
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).expect("the OS has randomness");
    Duration::from_micros(u64::from_le_bytes(r) % (cap * 1000))
}

fn wall_clock() -> Timestamp {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    Timestamp(u64::try_from(ms).unwrap_or(u64::MAX))
}

impl SessionActor {
    pub(super) fn new(
        rt: Runtime,
        meta: Arc<SessionMeta>,
        events: &[Event],
        recorded: Vec<Recorded>,
        follower: Option<Follower>,
        presence_rx: mpsc::UnboundedReceiver<Seen>,
    ) -> Self {
        let state = State::replay(events);
        let last_at = events.last().map_or(Timestamp(0), |e| e.at);
        let now = wall_clock().max(last_at);
        let mut answers = Answers::new(rt.config.answers);
        answers.load(recorded, now);
        Self {
            gate: watch::Sender::new(Gate::of(&meta, &state)),
            updates: broadcast::channel(rt.config.lag_capacity.max(1)).0,
            ring: VecDeque::with_capacity(rt.config.resume_window),
            answers,
            published: Published::new(&state, now),
            presence: Presence::new(rt.config.presence_grace),
            presence_out: broadcast::channel(16).0,
            presence_due: None,
            presence_rx,
            rt,
            meta,
            state,
            last_at,
            follower,
            lost_follower: false,
        }
    }

    pub(super) fn gate(&self) -> watch::Receiver<Gate> {
        self.gate.subscribe()
    }

    fn now(&self) -> Timestamp {
        wall_clock().max(self.last_at)
    }

    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Msg>, on_exit: impl FnOnce()) {
        let cancel = self.rt.cancel.clone();
        let idle_after = self.rt.config.idle_after;
        let mut last_used = Instant::now();
        loop {
            let promotion = self
                .state
                .next_promotion_at()
                .map(|at| Duration::from_millis(at.millis_since(self.now())));
            let presence = self.presence_wake();
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    self.handle(msg).await;
                    last_used = Instant::now();
                    if self.lost_follower {
                        break;
                    }
                }
                appended = next_append(&mut self.follower) => {
                    if !self.followed(appended) {
                        break;
                    }
                }
                () = sleep_for(promotion) => self.reorder(),
                Some(seen) = self.presence_rx.recv() => {
                    self.presence.seen(seen, self.now());
                    let every = self.rt.config.presence_every;
                    self.presence_due.get_or_insert_with(|| Instant::now() + every);
                }
                () = sleep_for(presence) => self.publish_presence(),
                () = tokio::time::sleep(idle_after / 4) => {
                    if self.updates.receiver_count() == 0 && last_used.elapsed() >= idle_after {
                        tracing::debug!(session = %self.meta.id, "idle session stops");
                        break;
                    }
                }
            }
        }
        // Close the mailbox first (the handle now reports the actor gone), then leave the hub, so
        // new callers start a fresh actor from the log. Whatever is still in the mailbox is
        // dropped, and its callers are told the session has gone.
        rx.close();
        on_exit();
    }

    async fn handle(&mut self, msg: Msg) {
        // A failed reply means the caller went away (its connection closed): nothing to do.
        match msg {
            Msg::Command {
                actor,
                client,
                req,
                command,
                reply,
            } => {
                let answer = self.command(actor, client, req, command).await;
                let _ = reply.send(answer);
            }
            Msg::Subscribe {
                audience,
                resume,
                reply,
            } => {
                let _ = reply.send(self.subscribe(audience, resume));
            }
            Msg::Info { reply } => {
                let _ = reply.send(Info {
                    title: self.state.title().to_owned(),
                    policy: self.state.policy(),
                    list_open: self.state.list_open(),
                    queued: self.state.queued_len(),
                    seq: self.state.seq(),
                    epoch: self.meta.epoch,
                });
            }
            Msg::Summary { reply } => {
                let connections = self.updates.receiver_count();
                let _ = reply.send(super::Summary::of(&self.state, connections));
            }
        }
    }

    async fn command(
        &mut self,
        actor: Actor,
        client: Option<String>,
        req: u64,
        command: Command,
    ) -> Answer {
        let sender = client.map(|secret| Sender::new(actor, &secret));
        // Other nodes' appends that have already arrived come first: this command may be the
        // resend of one of them, made by a node that died before it answered.
        self.drain_follower();
        if let Some(answer) = self.answered(sender.as_ref(), req) {
            return answer;
        }
        // Recorded with the events, in the same transaction or message: an answer survives
        // exactly what its events survive.
        let origin = Origin {
            req,
            sender: sender.as_ref().map(|s| s.key().to_owned()),
        };
        let taken = Instant::now();
        let mut attempts = 0u32;
        let mut command = Some(command);
        let answer = loop {
            let now = self.now();
            // Only a shared log can refuse an append and make the command be decided again;
            // otherwise it is decided once, and not copied.
            let this = if self.follower.is_some() {
                command.clone()
            } else {
                command.take()
            };
            let this = this.expect("decided again only with a follower");
            let events = match decide(&self.state, actor, this, now) {
                // On a shared log this node's copy may be behind the log: the command may be
                // the resend of one another node stored and died before answering, refused
                // here only because that append has not arrived yet (the partition test
                // caught an `end_turn` refused as `conflict` that was in the log). A refusal
                // is settled in the log before it is given (`settled`).
                Err(refusal) => match self.settled(&origin).await {
                    Some(true) => break Answer::Refused(refusal),
                    // Behind, and caught up now: perhaps with this very command's first send.
                    Some(false) if taken.elapsed() < CONTENDED => {
                        if let Some(answer) = self.answered(sender.as_ref(), req) {
                            return answer;
                        }
                        continue;
                    }
                    // A refusal that cannot be confirmed may be wrong (the partition test saw
                    // `too_fast` given for a resend whose first send was in the log): nothing
                    // is applied, and the client sends it again.
                    _ => return Answer::Unavailable,
                },
                Ok(events) if events.is_empty() => {
                    break Answer::Ack {
                        seq: self.state.seq(),
                        participant: None,
                    };
                }
                Ok(events) => events,
            };
            let expected = self.state.seq();
            let appending = Instant::now();
            let appended = self
                .rt
                .store
                .append(self.meta.id, expected, &origin, &events)
                .await;
            metrics::hot().append.record(appending.elapsed());
            match appended {
                Ok(_) => {}
                // Another node appended first: see what it did, then decide again on that.
                Err(StoreError::Conflict { actual, .. })
                    if taken.elapsed() < CONTENDED && self.catch_up(actual).await =>
                {
                    metrics::hot().conflicts.increment(1);
                    // The other append may be this very command, stored by a node that died
                    // before it answered (or by this node, in an attempt that timed out).
                    if let Some(answer) = self.answered(sender.as_ref(), req) {
                        return answer;
                    }
                    attempts += 1;
                    if attempts > 1 {
                        tokio::time::sleep(backoff(attempts)).await;
                    }
                    continue;
                }
                // The store logged why once, when it started failing; not once per command.
                Err(e @ StoreError::Unavailable(_)) => {
                    tracing::debug!(session = %self.meta.id, error = %e, "append failed; command not applied");
                    return Answer::Unavailable; // not remembered: a resend may succeed
                }
                Err(e) => {
                    tracing::error!(session = %self.meta.id, error = %e, "append failed; command not applied");
                    return Answer::Unavailable; // not remembered: a resend may succeed
                }
            }
            self.apply(req, &events, now);
            metrics::hot().fanout.record(taken.elapsed());
            let participant = events.iter().find_map(|e| match e.fact {
                Fact::ParticipantJoined { participant, .. } => Some(participant),
                _ => None,
            });
            break Answer::Ack {
                seq: self.state.seq(),
                participant,
            };
        };
        if let Some(s) = sender {
            self.answers.remember(s, req, answer.clone(), self.now());
        }
        answer
    }

    /// Whether this node's copy is at the log's head, so a refusal decided on it stands:
    /// always for a log only this process writes. On a shared log, one read of the head; when
    /// behind, the missing appends are applied and the answer is `Some(false)`. `None` when the
    /// head cannot be read or reached.
    async fn at_the_head(&mut self) -> Option<bool> {
        if self.follower.is_none() {
            return Some(true);
        }
        match self.rt.store.head(self.meta.id).await {
            Ok(Some(head)) if head > self.state.seq() => self.catch_up(head).await.then_some(false),
            Ok(_) => Some(true),
            Err(e) => {
                tracing::warn!(session = %self.meta.id, error = %e, "a refusal could not be confirmed at the log's head");
                None
            }
        }
    }

    /// Whether a refusal decided on this node's copy stands, settled in the log first: always
    /// for a log only this process writes. On a shared log, a command with a sender is claimed
    /// (`EventLog::claim`), so that another copy of it still in flight (the page's resend went
    /// to another node) cannot land after the refusal is given; without a sender, one read of
    /// the head. When the log moved on, the missing appends are applied (perhaps with this
    /// command's other copy) and the answer is `Some(false)`; `None` when the log cannot be
    /// reached.
    async fn settled(&mut self, origin: &Origin) -> Option<bool> {
        if self.follower.is_none() || origin.sender.is_none() {
            return self.at_the_head().await;
        }
        match self
            .rt
            .store
            .claim(self.meta.id, self.state.seq(), origin)
            .await
        {
            Ok(()) => Some(true),
            Err(StoreError::Conflict { actual, .. }) => {
                self.catch_up(actual).await.then_some(false)
            }
            Err(e) => {
                tracing::warn!(session = %self.meta.id, error = %e, "a refusal could not be settled in the log");
                None
            }
        }
    }

    /// The answer already given to `sender`'s `req`, if any (and still in its window).
    fn answered(&self, sender: Option<&Sender>, req: u64) -> Option<Answer> {
        self.answers.get(sender?, req, self.now()).cloned()
    }

    /// Apply the events command `req` appended, and publish them.
    fn apply(&mut self, req: u64, events: &[Event], now: Timestamp) {
        let from = self.state.seq() + 1;
        for e in events {
            self.state.apply(e);
        }
        self.last_at = now;
        let frame = Arc::new(self.published.update(&self.state, events, (req, from), now));
        if self.ring.len() == self.rt.config.resume_window {
            self.ring.pop_front();
        }
        self.ring.push_back(frame.clone());
        // An error only means nobody is subscribed right now.
        let _ = self.updates.send(frame);
        // After the update, so a removed participant's screen shows it before the socket closes.
        if events
            .iter()
            .any(|e| matches!(e.fact, Fact::KeysRotated | Fact::ParticipantRemoved { .. }))
        {
            self.gate.send_replace(Gate::of(&self.meta, &self.state));
        }
    }

    /// How long until presence is due out: the end of the coalescing window, or the moment
    /// someone reconnecting becomes gone.
    fn presence_wake(&self) -> Option<Duration> {
        let now = self.now();
        let expiry = self
            .presence
            .next_change_at(now)
            .map(|at| Duration::from_millis(at.millis_since(now)));
        let due = self
            .presence_due
            .map(|at| at.saturating_duration_since(Instant::now()));
        match (due, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Send moderators the presence book, if what it shows has changed.
    fn publish_presence(&mut self) {
        self.presence_due = None;
        let now = self.now();
        if let Some(participants) = self.presence.changed(now) {
            let bytes = encode(&Outgoing::Presence {
                server_time: now,
                participants,
            });
            // An error only means no moderator is connected right now.
            let _ = self.presence_out.send(bytes.into());
        }
    }

    /// The presence frame a moderator starts with (none while nobody has connected).
    fn presence_now(&self) -> Option<Utf8Bytes> {
        let now = self.now();
        let participants = self.presence.statuses(now);
        (!participants.is_empty()).then(|| {
            encode(&Outgoing::Presence {
                server_time: now,
                participants: &participants,
            })
            .into()
        })
    }

    fn reorder(&mut self) {
        if let Some(frame) = self.published.reorder(&self.state, self.now()) {
            let _ = self.updates.send(Arc::new(frame));
        }
    }

    fn subscribe(&mut self, audience: Audience, resume: Option<Resume>) -> Subscription {
        let updates = self.updates.subscribe();
        let moderator = audience == Audience::Moderator;
        let presence = moderator.then(|| self.presence_out.subscribe());
        let presence_now = if moderator { self.presence_now() } else { None };
        let (seq, now) = (self.state.seq(), self.now());
        if let Some(missed) = resume.and_then(|r| self.missed_since(r)) {
            let mut initial: Vec<_> = missed.iter().map(|f| f.bytes(audience)).collect();
            // Order changes that no event caused are not in the ring: send the order as it is.
            initial.push(self.published.order_bytes(&self.state, now));
            initial.extend(presence_now);
            return Subscription {
                recovered: true,
                epoch: self.meta.epoch,
                seq,
                initial,
                updates,
                presence,
            };
        }
        let view = View::of(&self.state, audience, now);
        let snapshot = encode(&Outgoing::Snapshot {
            epoch: self.meta.epoch,
            seq,
            server_time: now,
            view: &view,
        });
        let mut initial = vec![snapshot.into()];
        initial.extend(presence_now);
        Subscription {
            recovered: false,
            epoch: self.meta.epoch,
            seq,
            initial,
            updates,
            presence,
        }
    }

    /// The frames after `r`, if the ring still holds all of them.
    fn missed_since(&self, r: Resume) -> Option<Vec<Arc<Frame>>> {
        let seq = self.state.seq();
        if r.epoch != self.meta.epoch || r.seq > seq {
            return None;
        }
        let missed: Vec<_> = self
            .ring
            .iter()
            .filter(|f| f.seq > r.seq)
            .cloned()
            .collect();
        match missed.first() {
            None if r.seq == seq => Some(missed),
            Some(f) if f.from == r.seq + 1 => Some(missed),
            _ => None,
        }
    }
}

async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
