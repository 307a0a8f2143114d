//! The session actor's loop: one task, one state, commands in order.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::{broadcast, mpsc, watch};

use super::answers::Answers;
use super::publish::Published;
use super::{Answer, Frame, Gate, Info, Msg, Runtime, Sender, Subscription};
use crate::metrics;
use crate::protocol::{Audience, Outgoing, Resume, View, encode};
use crate::queue::{Actor, Command, Event, Fact, State, Timestamp, decide};
use crate::store::{Appended, Follower, SessionMeta, StoreError};

/// Decisions a command may be given when other nodes keep appending first.
const ATTEMPTS: usize = 5;
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
        follower: Option<Follower>,
    ) -> Self {
        let state = State::replay(events);
        let last_at = events.last().map_or(Timestamp(0), |e| e.at);
        let now = wall_clock().max(last_at);
        Self {
            gate: watch::Sender::new(Gate::of(&meta, &state)),
            updates: broadcast::channel(rt.config.lag_capacity.max(1)).0,
            ring: VecDeque::with_capacity(rt.config.resume_window),
            answers: Answers::new(rt.config.answers),
            published: Published::new(&state, now),
            rt,
            meta,
            state,
            last_at,
            follower,
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
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    self.handle(msg).await;
                    last_used = Instant::now();
                }
                appended = next_append(&mut self.follower) => {
                    if !self.followed(appended) {
                        break;
                    }
                }
                () = sleep_for(promotion) => self.reorder(),
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
        let sender = client.map(|client| Sender { actor, client });
        if let Some(answer) = sender.as_ref().and_then(|s| self.answers.get(s, req)) {
            return answer.clone();
        }
        let taken = Instant::now();
        let mut attempts = 0;
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
                Err(refusal) => break Answer::Refused(refusal),
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
                .append(self.meta.id, expected, req, &events)
                .await;
            metrics::hot().append.record(appending.elapsed());
            match appended {
                Ok(_) => {}
                // Another node appended first: see what it did, then decide again on that.
                Err(StoreError::Conflict { actual, .. })
                    if attempts < ATTEMPTS && self.catch_up(actual).await =>
                {
                    metrics::hot().conflicts.increment(1);
                    attempts += 1;
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
            self.answers.remember(s, req, answer.clone());
        }
        answer
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

    /// Apply what the follower brought, unless this node already has it (its own appends come
    /// back too). False when the session can no longer be kept current: the actor then stops,
    /// and the next use starts it again from the log.
    fn followed(&mut self, appended: Option<Result<Appended, StoreError>>) -> bool {
        let a = match appended {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                tracing::error!(session = %self.meta.id, error = %e, "the log cannot be followed; the session restarts from it");
                return false;
            }
            None => {
                tracing::error!(session = %self.meta.id, "the log's follower stopped; the session restarts from it");
                return false;
            }
        };
        if a.seq() <= self.state.seq() {
            return true;
        }
        if a.from != self.state.seq() + 1 {
            tracing::error!(session = %self.meta.id, from = a.from, seq = self.state.seq(), "the followed log skips ahead; the session restarts from it");
            return false;
        }
        let at = a
            .events
            .last()
            .map_or(self.now(), |e| e.at)
            .max(self.last_at);
        self.apply(a.req, &a.events, at);
        metrics::hot().followed.increment(1);
        true
    }

    /// Follow the log until this node has seq `actual`; false if it cannot. A follower that
    /// stays silent meanwhile (its server died and it has not started again yet) is replaced:
    /// the missing appends are read from the log itself, and a new follower starts after them.
    async fn catch_up(&mut self, actual: u64) -> bool {
        if self.follower.is_none() {
            return false;
        }
        while self.state.seq() < actual {
            match tokio::time::timeout(CATCH_UP, next_append(&mut self.follower)).await {
                Ok(appended) => {
                    if !self.followed(appended) {
                        return false;
                    }
                }
                Err(_) => return self.refollow().await && self.state.seq() >= actual,
            }
        }
        true
    }

    /// Read what this node missed from the log, and follow it afresh from there.
    async fn refollow(&mut self) -> bool {
        let (id, seq) = (self.meta.id, self.state.seq());
        tracing::warn!(session = %id, seq, "the log's follower is silent; reading the log");
        let missed = match self.rt.store.load(id, seq).await {
            Ok(missed) => missed,
            Err(e) => {
                tracing::error!(session = %id, error = %e, "reading the log failed");
                return false;
            }
        };
        if !missed.is_empty() {
            let at = missed.last().map_or(self.now(), |e| e.at).max(self.last_at);
            // The request ids of appends read back are not kept; 0 names none.
            self.apply(0, &missed, at);
        }
        match self.rt.store.follow(id, self.state.seq()).await {
            Ok(follower) => {
                self.follower = follower;
                true
            }
            Err(e) => {
                tracing::error!(session = %id, error = %e, "following the log failed");
                false
            }
        }
    }

    fn reorder(&mut self) {
        if let Some(frame) = self.published.reorder(&self.state, self.now()) {
            let _ = self.updates.send(Arc::new(frame));
        }
    }

    fn subscribe(&mut self, audience: Audience, resume: Option<Resume>) -> Subscription {
        let updates = self.updates.subscribe();
        let (seq, now) = (self.state.seq(), self.now());
        if let Some(missed) = resume.and_then(|r| self.missed_since(r)) {
            let mut initial: Vec<_> = missed.iter().map(|f| f.bytes(audience)).collect();
            // Order changes that no event caused are not in the ring: send the order as it is.
            initial.push(self.published.order_bytes(&self.state, now));
            return Subscription {
                recovered: true,
                epoch: self.meta.epoch,
                seq,
                initial,
                updates,
            };
        }
        let view = View::of(&self.state, audience, now);
        let snapshot = encode(&Outgoing::Snapshot {
            epoch: self.meta.epoch,
            seq,
            server_time: now,
            view: &view,
        });
        Subscription {
            recovered: false,
            epoch: self.meta.epoch,
            seq,
            initial: vec![snapshot.into()],
            updates,
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

async fn next_append(follower: &mut Option<Follower>) -> Option<Result<Appended, StoreError>> {
    match follower {
        Some(f) => f.recv().await,
        None => std::future::pending().await,
    }
}

async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}
