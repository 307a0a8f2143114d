//! The session without I/O: the queue's state, the resume ring, the answers to recent commands,
//! presence, and what each change publishes. Like quinn-proto's `Connection`, it never reads a
//! clock, a socket or the store: every call is given `now`, and returns what to append, answer
//! or publish; [`poll_timeout`](Core::poll_timeout) says when it next needs the time. The actor
//! (`actor.rs`) is the loop around it that does the I/O: the store, the channels, the timers.
//!
//! The fuzz driver (`protocol/fuzz_tests.rs`) drives this very code.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

use super::answers::Answers;
use super::presence::{Presence, Seen};
use super::publish::Published;
use super::snapshot::Snapshots;
use super::{Answer, Frame, Gate, Info, Sender, SessionConfig, Summary};
use crate::protocol::{Audience, Outgoing, Resume, Slot, View, encode};
use crate::queue::{Actor, Command, Event, Fact, Refusal, State, Timestamp, decide};
use crate::store::{Appended, Recorded};

/// What a command comes to, decided against the state as it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Nothing to do: acknowledged at the current seq.
    Done(Answer),
    /// Refused by the queue's rules. Final on a log only this node writes; on a shared log it
    /// stands once this node is known to be at the log's head.
    Refused(Refusal),
    /// Append these events (at the current seq), then hand them to [`Core::applied`].
    Append(Vec<Event>),
}

/// What a change publishes: the update for every subscriber, and the links' gate when a link
/// stopped working.
#[derive(Debug)]
pub struct Publish {
    /// The update, kept for resume too.
    pub frame: Arc<Frame>,
    /// The new gate, if it changed.
    pub gate: Option<Gate>,
}

/// What an append another node made comes to here.
#[derive(Debug)]
pub enum Followed {
    /// This node has it already (its own appends come back too).
    Known,
    /// It starts past this node's seq: the log cannot be followed from here.
    Gap {
        /// Its first seq.
        from: u64,
    },
    /// Applied; publish this.
    Applied(Publish),
}

/// What the time passing brought.
#[derive(Debug, Default)]
pub struct Timeouts {
    /// The starvation guard promoted someone with no event: the whole order, for everyone.
    pub order: Option<Arc<Frame>>,
    /// Participants' presence changed: for moderators, only those who changed.
    pub presence: Option<Bytes>,
}

/// How a new or returning connection starts.
#[derive(Debug)]
pub struct Start {
    /// Whether the resume succeeded (the missed updates follow) or a snapshot follows.
    pub recovered: bool,
    /// The seq the connection is at once it has sent `initial`.
    pub seq: u64,
    /// The frames to send first.
    pub initial: Vec<Bytes>,
}

/// One session's state and everything decided from it, with no I/O.
pub struct Core {
    epoch: u32,
    key_epoch: u32,
    resume_window: usize,
    presence_every: u64,
    state: State,
    /// The last update frames, oldest first, for resume.
    ring: VecDeque<Arc<Frame>>,
    answers: Answers,
    published: Published,
    /// The time of the last event: server time never runs backwards within a session.
    last_at: Timestamp,
    /// Participants' connections (not in the log).
    presence: Presence,
    /// When the pending presence changes are due out (the end of the coalescing window).
    presence_due: Option<Timestamp>,
    /// When the order was last published: the starvation guard's promotions up to then are out.
    ordered_at: Timestamp,
    /// The last snapshot's view per audience, shared by the sockets connecting before a change.
    snapshots: Snapshots,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl Core {
    /// The session whose log (at `epoch`, links signed at `key_epoch`) is `events`, with the
    /// answers recorded with them; `wall` is the wall clock now.
    pub fn new(
        (epoch, key_epoch): (u32, u32),
        config: &SessionConfig,
        events: &[Event],
        recorded: Vec<Recorded>,
        wall: Timestamp,
    ) -> Self {
        let state = State::replay(events);
        let last_at = events.last().map_or(Timestamp(0), |e| e.at);
        let now = wall.max(last_at);
        let mut answers = Answers::new(config.answers);
        answers.load(recorded, now);
        Self {
            epoch,
            key_epoch,
            ordered_at: now,
            resume_window: config.resume_window.max(1),
            presence_every: millis(config.presence_every),
            ring: VecDeque::with_capacity(config.resume_window),
            answers,
            published: Published::new(&state, now),
            presence: Presence::new(config.presence_grace),
            presence_due: None,
            snapshots: Snapshots::default(),
            state,
            last_at,
        }
    }

    /// The session's time at wall-clock `wall`: never before its last event.
    pub fn now(&self, wall: Timestamp) -> Timestamp {
        wall.max(self.last_at)
    }

    /// The queue's state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The order as clients were last sent it.
    pub fn order(&self) -> &[Slot] {
        self.published.order()
    }

    /// The log's epoch.
    pub fn epoch(&self) -> u32 {
        self.epoch
    }

    /// Which links work now.
    pub fn gate(&self) -> Gate {
        Gate::of(self.key_epoch, &self.state)
    }

    /// The answer already given to `sender`'s `req`, if any (and still in its window at `now`).
    pub fn answered(&self, sender: Option<&Sender>, req: u64, now: Timestamp) -> Option<Answer> {
        self.answers.get(sender?, req, now).cloned()
    }

    /// Decide `command` from `actor` at `now`. Nothing changes until the events are applied.
    pub fn decide(&self, actor: Actor, command: Command, now: Timestamp) -> Decision {
        match decide(&self.state, actor, command, self.now(now)) {
            Err(refusal) => Decision::Refused(refusal),
            Ok(events) if events.is_empty() => Decision::Done(Answer::Ack {
                seq: self.state.seq(),
                participant: None,
            }),
            Ok(events) => Decision::Append(events),
        }
    }

    /// Apply `events`, appended for the command `req` at `now` (0 names none), and return what
    /// to publish. The update is kept for resume.
    pub fn applied(&mut self, req: u64, events: &[Event], now: Timestamp) -> Publish {
        let from = self.state.seq() + 1;
        for e in events {
            self.state.apply(e);
        }
        self.last_at = self.now(now);
        self.ordered_at = self.last_at;
        let frame = Arc::new(
            self.published
                .update(&self.state, events, (req, from), self.last_at),
        );
        if self.ring.len() == self.resume_window {
            self.ring.pop_front();
        }
        self.ring.push_back(frame.clone());
        // After the update, so a removed participant's screen shows it before the socket closes.
        let gate = events
            .iter()
            .any(|e| matches!(e.fact, Fact::KeysRotated | Fact::ParticipantRemoved { .. }))
            .then(|| self.gate());
        Publish { frame, gate }
    }

    /// The answer to a command whose `events` were just applied.
    pub fn ack(&self, events: &[Event]) -> Answer {
        Answer::Ack {
            seq: self.state.seq(),
            participant: events.iter().find_map(|e| match e.fact {
                Fact::ParticipantJoined { participant, .. } => Some(participant),
                _ => None,
            }),
        }
    }

    /// Keep `answer` to `sender`'s `req` (none kept without a sender), given at `now`.
    pub fn remember(&mut self, sender: Option<Sender>, req: u64, answer: Answer, now: Timestamp) {
        if let Some(s) = sender {
            self.answers.remember(s, req, answer, self.now(now));
        }
    }

    /// An append by any node, as the log's follower delivers it, at wall-clock `wall`. Another
    /// node's command was answered there: a resend that reaches this node gets that answer too.
    pub fn follow(&mut self, a: &Appended, wall: Timestamp) -> Followed {
        if a.events.is_empty() || a.seq() <= self.state.seq() {
            return Followed::Known;
        }
        if a.from != self.state.seq() + 1 {
            return Followed::Gap { from: a.from };
        }
        let at = self.now(a.events.last().map_or(wall, |e| e.at));
        if let Some(r) = Recorded::of(&a.origin, a.from, &a.events) {
            let answer = Answer::Ack {
                seq: r.seq,
                participant: r.participant,
            };
            self.answers.remember(Sender(r.sender), r.req, answer, at);
        }
        Followed::Applied(self.applied(a.origin.req, &a.events, at))
    }

    /// The appends after this node's seq, read from the log itself, with the answers recorded
    /// with them (any others are ignored), at wall-clock `wall`.
    pub fn missed(
        &mut self,
        missed: &[Event],
        recorded: Vec<Recorded>,
        wall: Timestamp,
    ) -> Option<Publish> {
        if missed.is_empty() {
            return None;
        }
        let seq = self.state.seq();
        let at = self.now(missed.last().map_or(wall, |e| e.at));
        // The request ids of appends read back are not kept; 0 names none.
        let publish = self.applied(0, missed, at);
        let fresh = recorded.into_iter().filter(|r| r.seq > seq).collect();
        self.answers.load(fresh, self.now(wall));
        Some(publish)
    }

    /// How a connection for `audience` starts, resuming from `resume` when the ring still holds
    /// everything after it, at wall-clock `wall`.
    pub fn subscribe(
        &mut self,
        audience: Audience,
        resume: Option<Resume>,
        wall: Timestamp,
    ) -> Start {
        let now = self.now(wall);
        let seq = self.state.seq();
        let presence = if audience == Audience::Moderator {
            self.presence_now(now)
        } else {
            None
        };
        if let Some(missed) = resume.and_then(|r| self.missed_since(r)) {
            let mut initial: Vec<_> = missed.iter().filter_map(|f| f.bytes(audience)).collect();
            // Order changes that no event caused are not in the ring: send the order as it is.
            initial.push(self.published.order_bytes(&self.state, now));
            initial.extend(presence);
            return Start {
                recovered: true,
                seq,
                initial,
            };
        }
        let (key, state) = ((self.epoch, seq, self.ordered_at), &self.state);
        let view = || View::of(state, audience, now);
        let mut initial = vec![self.snapshots.frame(audience, key, now, view)];
        initial.extend(presence);
        Start {
            recovered: false,
            seq,
            initial,
        }
    }

    /// The frames after `r`, if the ring still holds all of them.
    fn missed_since(&self, r: Resume) -> Option<Vec<&Arc<Frame>>> {
        let seq = self.state.seq();
        if r.epoch != self.epoch || r.seq > seq {
            return None;
        }
        let missed: Vec<_> = self.ring.iter().filter(|f| f.seq > r.seq).collect();
        match missed.first() {
            None if r.seq == seq => Some(missed),
            Some(f) if f.from == r.seq + 1 => Some(missed),
            _ => None,
        }
    }

    /// Public facts.
    pub fn info(&self) -> Info {
        Info {
            title: self.state.title().to_owned(),
            policy: self.state.policy(),
            list_open: self.state.list_open(),
            queued: self.state.queued_len(),
            seq: self.state.seq(),
            epoch: self.epoch,
        }
    }

    /// The organizer's summary, with `connections` open.
    pub fn summary(&self, connections: usize) -> Summary {
        Summary::of(&self.state, connections)
    }

    /// A participant's connection opened or closed at `now`: moderators hear of it at the end
    /// of the coalescing window.
    pub(super) fn seen(&mut self, seen: Seen, now: Timestamp) {
        let now = self.now(now);
        self.presence.seen(seen, now);
        self.presence_due
            .get_or_insert(Timestamp(now.0.saturating_add(self.presence_every)));
    }

    /// When the core next needs the time, if ever: the starvation guard's next promotion, the
    /// end of the presence window, or someone reconnecting becoming gone.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        [
            self.state.next_promotion_after(self.ordered_at),
            self.presence_due,
            self.presence.next_expiry(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Let the time pass to `now`: what it changed, to publish. Nothing is done before its time,
    /// so calling it early is harmless.
    pub fn handle_timeout(&mut self, now: Timestamp) -> Timeouts {
        let now = self.now(now);
        let mut out = Timeouts::default();
        if self
            .state
            .next_promotion_after(self.ordered_at)
            .is_some_and(|at| at <= now)
        {
            self.ordered_at = now;
            out.order = self.published.reorder(&self.state, now).map(Arc::new);
        }
        let expired = self.presence.next_expiry().is_some_and(|at| at <= now);
        if self.presence_due.is_some_and(|at| at <= now) || expired {
            self.presence_due = None;
            out.presence = self.presence.changed(now).map(|participants| {
                Bytes::from(encode(&Outgoing::Presence {
                    server_time: now,
                    participants: &participants,
                    whole: false,
                }))
            });
        }
        out
    }

    /// The presence frame a moderator starts with (none while nobody has connected).
    fn presence_now(&self, now: Timestamp) -> Option<Bytes> {
        let participants = self.presence.statuses(now);
        (!participants.is_empty()).then(|| {
            Bytes::from(encode(&Outgoing::Presence {
                server_time: now,
                participants: &participants,
                whole: true,
            }))
        })
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
