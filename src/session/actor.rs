//! The session actor: the loop around the [`Core`] that does its I/O. It reads the clock and
//! hands the core the time, appends what the core decided to the store, sends what the core
//! publishes to the channels, replies, and sleeps until the core's next timeout.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::sync::{broadcast, mpsc, watch};

mod batch;
mod follow;
mod updates;

use follow::next_append;
use updates::Updates;

use super::contended::Contended;
use super::core::{Core, Decision, Publish};
use super::presence::Seen;
use super::{Answer, Gate, Msg, Runtime, Sender, Subscription};
use crate::metrics;
use crate::protocol::{Audience, Resume};
use crate::queue::{Actor, Command, Event, Timestamp};
use crate::store::{Follower, Origin, Recorded, SessionMeta, StoreError};

/// How long a node waits to see an append another node made before it decides again.
const CATCH_UP: Duration = Duration::from_secs(3);

pub(super) struct SessionActor {
    rt: Runtime,
    meta: Arc<SessionMeta>,
    core: Core,
    /// Updates, one channel per audience: a frame with nothing for an audience (its bytes
    /// empty) wakes none of its connections, so a change only moderators see (a join, once
    /// participants see only counts) costs nothing per participant.
    updates: Updates,
    gate: watch::Sender<Gate>,
    /// Appends by every node, when the log is shared; this node's own come back and are skipped.
    follower: Option<Follower>,
    /// The follower failed while a command drained it: stop after that command.
    lost_follower: bool,
    /// Participants' connections opening and closing.
    presence_rx: mpsc::UnboundedReceiver<Seen>,
    /// Presence frames, to moderators only.
    presence_out: broadcast::Sender<Bytes>,
}

/// Random bits for the pause between contended tries.
fn random() -> u64 {
    let mut r = [0u8; 8];
    getrandom::fill(&mut r).expect("the OS has randomness");
    u64::from_le_bytes(r)
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
        let core = Core::new(
            (meta.epoch, meta.key_epoch),
            &rt.config,
            events,
            recorded,
            wall_clock(),
        );
        Self {
            gate: watch::Sender::new(core.gate()),
            updates: Updates::new(rt.config.lag_capacity.max(1)),
            presence_out: broadcast::channel(16).0,
            presence_rx,
            core,
            rt,
            meta,
            follower,
            lost_follower: false,
        }
    }

    pub(super) fn gate(&self) -> watch::Receiver<Gate> {
        self.gate.subscribe()
    }

    fn now(&self) -> Timestamp {
        self.core.now(wall_clock())
    }

    pub(super) async fn run(mut self, mut rx: mpsc::Receiver<Msg>, on_exit: impl FnOnce()) {
        let cancel = self.rt.cancel.clone();
        let idle_after = self.rt.config.idle_after;
        let mut last_used = Instant::now();
        loop {
            let wake = self.core.poll_timeout().map(|at| {
                let now = self.now();
                Duration::from_millis(at.millis_since(now))
            });
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    // Commands already waiting behind it are decided and stored with it.
                    let (next, goes_on) = self.take(msg, &mut rx).await;
                    // A message taken after them waits its turn; if the actor stops (its state
                    // is ahead of its log), it is dropped and its caller starts a new actor.
                    if let Some(next) = next.filter(|_| goes_on) {
                        self.handle(next).await;
                    }
                    last_used = Instant::now();
                    if self.lost_follower || !goes_on {
                        break;
                    }
                }
                appended = next_append(&mut self.follower) => {
                    if !self.followed(appended) {
                        break;
                    }
                }
                Some(seen) = self.presence_rx.recv() => {
                    let now = self.now();
                    self.core.seen(seen, now);
                }
                () = sleep_for(wake) => {
                    let out = self.core.handle_timeout(self.now());
                    // An error only means nobody (no moderator) is subscribed right now.
                    if let Some(frame) = out.order {
                        self.updates.send(frame);
                    }
                    if let Some(bytes) = out.presence {
                        let _ = self.presence_out.send(bytes);
                    }
                }
                () = tokio::time::sleep(idle_after / 4) => {
                    if self.updates.receivers() == 0 && last_used.elapsed() >= idle_after {
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
            Msg::Command(c) => {
                let answer = self.command(c.actor, c.client, c.req, c.command).await;
                let _ = c.reply.send(answer);
            }
            Msg::Subscribe {
                audience,
                resume,
                reply,
            } => {
                let _ = reply.send(self.subscribe(audience, resume));
            }
            Msg::Info { reply } => {
                let _ = reply.send(self.core.info());
            }
            Msg::Summary { reply } => {
                let connections = self.updates.receivers();
                let _ = reply.send(self.core.summary(connections));
            }
        }
    }

    /// Send what a change publishes.
    fn publish(&self, p: Publish) {
        self.updates.send(p.frame);
        if let Some(gate) = p.gate {
            self.gate.send_replace(gate);
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
        let origin = origin(req, sender.as_ref());
        let taken = Instant::now();
        let mut contended = Contended::new(taken);
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
            let events = match self.core.decide(actor, this, now) {
                Decision::Done(answer) => break answer,
                // On a shared log this node's copy may be behind the log: the command may be
                // the resend of one another node stored and died before answering, refused
                // here only because that append has not arrived yet (the partition test
                // caught an `end_turn` refused as `conflict` that was in the log). A refusal
                // is settled in the log before it is given (`settled`).
                Decision::Refused(refusal) => match self.settled(&origin).await {
                    Some(true) => break Answer::Refused(refusal),
                    // Behind, and caught up now: perhaps with this very command's first send.
                    Some(false) if contended.may_retry(Instant::now()) => {
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
                Decision::Append(events) => events,
            };
            let expected = self.core.state().seq();
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
                    if contended.may_retry(Instant::now()) && self.catch_up(actual).await =>
                {
                    metrics::hot().conflicts.increment(1);
                    // The other append may be this very command, stored by a node that died
                    // before it answered (or by this node, in an attempt that timed out).
                    if let Some(answer) = self.answered(sender.as_ref(), req) {
                        return answer;
                    }
                    if let Some(pause) = contended.pause(random()) {
                        tokio::time::sleep(pause).await;
                    }
                    continue;
                }
                Err(e) => {
                    self.append_failed(&e, "command not applied");
                    return Answer::Unavailable; // not remembered: a resend may succeed
                }
            }
            let published = self.core.applied(req, &events, now);
            self.publish(published);
            metrics::hot().fanout.record(taken.elapsed());
            break self.core.ack(&events);
        };
        let now = self.now();
        self.core.remember(sender, req, answer.clone(), now);
        answer
    }

    /// Log an append that failed, and what became of its `commands`. The store logged why once,
    /// when it started failing: that is a debug line here, not an error per command.
    fn append_failed(&self, e: &StoreError, commands: &str) {
        let id = self.meta.id;
        match e {
            StoreError::Unavailable(_) => {
                tracing::debug!(session = %id, error = %e, "append failed; {commands}");
            }
            e => tracing::error!(session = %id, error = %e, "append failed; {commands}"),
        }
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
            Ok(Some(head)) if head > self.core.state().seq() => {
                self.catch_up(head).await.then_some(false)
            }
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
            .claim(self.meta.id, self.core.state().seq(), origin)
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
        self.core.answered(sender, req, self.now())
    }

    fn subscribe(&mut self, audience: Audience, resume: Option<Resume>) -> Subscription {
        let updates = self.updates.subscribe(audience);
        let presence = (audience == Audience::Moderator).then(|| self.presence_out.subscribe());
        let start = self.core.subscribe(audience, resume, wall_clock());
        Subscription {
            recovered: start.recovered,
            epoch: self.core.epoch(),
            seq: start.seq,
            initial: start.initial,
            updates,
            presence,
        }
    }
}

async fn sleep_for(d: Option<Duration>) {
    match d {
        Some(d) => tokio::time::sleep(d).await,
        None => std::future::pending().await,
    }
}

/// What a command's append records of where it came from, with its events: an answer survives
/// exactly what its events survive.
fn origin(req: u64, sender: Option<&Sender>) -> Origin {
    Origin {
        req,
        sender: sender.map(|s| s.key().to_owned()),
    }
}
