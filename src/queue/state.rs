//! The state of one session's queue: what it holds, and the queries the core, the views and
//! the reports ask of it. The only code that changes it, [`State::apply`] (the fold of events
//! into it, live and on replay alike), is in `state/apply.rs`.

mod apply;

use super::order::{Ctx, Index};
use super::{
    AgendaItem, Alternation, Band, Controls, Event, Link, LinkId, Modality, Participant,
    ParticipantId, Policy, Reason, Request, RequestId, Side, TimeLimits, Timestamp, Turn, TurnId,
};

/// One entry of the queue as consoles show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry {
    /// One-based position.
    pub position: u32,
    /// The request.
    pub request: RequestId,
    /// Why it stands there.
    pub reason: Reason,
}

/// A session's queue: participants, requests, turns, the floor, the list, the agenda, links.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct State {
    seq: u64,
    opened: bool,
    title: String,
    policy: Policy,
    limits: TimeLimits,
    moderator_remote_only: bool,
    list_open: bool,
    participants: Vec<Participant>,
    requests: Vec<Request>,
    turns: Vec<Turn>,
    floor: Option<TurnId>,
    alternation: Alternation,
    agenda: Vec<AgendaItem>,
    item: Option<u32>,
    links: Vec<Link>,
    next_link: u32,
    next_arrival: u64,
    next_pin: u64,
    index: Index,
    controls: Controls,
    key_rotations: u32,
    takeaways: String,
    tallies: [super::Tally; 3],
    /// The present participants' folded names, for telling a newcomer's name apart.
    names: super::names::Names,
}

fn slot(m: Modality) -> usize {
    match m {
        Modality::Onsite => 0,
        Modality::Online => 1,
        Modality::Hub => 2,
    }
}

impl State {
    /// The state a log folds into.
    pub fn replay<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut s = Self::default();
        for e in events {
            s.apply(e);
        }
        s
    }

    /// How many events have been applied: the session's sequence number.
    pub fn seq(&self) -> u64 {
        self.seq
    }
    /// Whether the session has been opened.
    pub fn is_open(&self) -> bool {
        self.opened
    }
    /// The session's title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// The ordering policy.
    pub fn policy(&self) -> Policy {
        self.policy
    }
    /// The time limits.
    pub fn limits(&self) -> &TimeLimits {
        &self.limits
    }
    /// Whether the online moderator may run the floor for remote speakers only.
    pub fn moderator_remote_only(&self) -> bool {
        self.moderator_remote_only
    }
    /// Whether new requests are accepted.
    pub fn list_open(&self) -> bool {
        self.list_open
    }
    /// The present participants' folded names.
    pub(crate) fn names(&self) -> &super::names::Names {
        &self.names
    }
    /// Everyone who joined, by id.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }
    /// One participant.
    pub fn participant(&self, id: ParticipantId) -> Option<&Participant> {
        self.participants.get(id.0 as usize)
    }
    /// Every request ever made, by id.
    pub fn requests(&self) -> &[Request] {
        &self.requests
    }
    /// One request.
    pub fn request(&self, id: RequestId) -> Option<&Request> {
        self.requests.get(id.0 as usize)
    }
    /// Every turn, by id.
    pub fn turns(&self) -> &[Turn] {
        &self.turns
    }
    /// The turn that has the floor, if any.
    pub fn floor(&self) -> Option<&Turn> {
        self.floor.map(|t| &self.turns[t.0 as usize])
    }
    /// The most recent turn that has ended.
    pub fn last_ended_turn(&self) -> Option<&Turn> {
        self.turns.iter().rev().find(|t| t.ended_at.is_some())
    }
    /// Which side had the last ordinary turns.
    pub fn alternation(&self) -> Alternation {
        self.alternation
    }
    /// The agenda.
    pub fn agenda(&self) -> &[AgendaItem] {
        &self.agenda
    }
    /// The current agenda item (zero-based), if the agenda has started.
    pub fn current_item(&self) -> Option<u32> {
        self.item
    }
    /// Shared links, oldest first.
    pub fn links(&self) -> &[Link] {
        &self.links
    }
    /// The session controls (lock, suspend, rename lock, ended).
    pub fn controls(&self) -> Controls {
        self.controls
    }
    /// How many times the role links were invalidated: added to the session's first key epoch.
    pub fn key_rotations(&self) -> u32 {
        self.key_rotations
    }
    /// Running totals of `modality`: requests, turns, waits and speaking time.
    pub fn tally(&self, modality: Modality) -> super::Tally {
        self.tallies[slot(modality)]
    }
    /// Participants in the session now (joined, not removed): what the session cap counts.
    pub fn present(&self) -> usize {
        self.tallies.iter().map(|t| t.participants as usize).sum()
    }
    /// The report's key takeaways.
    pub fn takeaways(&self) -> &str {
        &self.takeaways
    }
    /// How many requests stand in the queue.
    pub fn queued_len(&self) -> usize {
        self.index.len()
    }

    /// The queue at `now`, first entry first, each with its position and reason.
    pub fn queue(&self, now: Timestamp) -> Vec<QueueEntry> {
        self.index
            .listing(&self.ctx(now))
            .into_iter()
            .zip(1..)
            .map(|((request, reason), position)| QueueEntry {
                position,
                request,
                reason,
            })
            .collect()
    }

    /// The first entry at `now` and why; cheap (no walk of the queue).
    pub fn head(&self, now: Timestamp) -> Option<(RequestId, Reason)> {
        self.index.head(&self.ctx(now))
    }

    /// When the starvation guard will next promote someone, if it will: consoles' order changes
    /// then without any event, so a live session re-publishes the order at that time.
    pub fn next_promotion_at(&self) -> Option<Timestamp> {
        let bound = self.policy.starvation_ms?;
        let oldest = self
            .requests
            .iter()
            .filter(|r| r.state.is_queued() && r.pin.is_none() && r.band() == Band::Normal)
            .map(|r| r.queued_at)
            .min()?;
        Some(oldest.plus(bound + 1))
    }

    /// When the starvation guard next promotes someone after `now`, if it will: those whose
    /// moment has passed were promoted then, and need no wake-up (a loop that waits for
    /// [`next_promotion_at`](Self::next_promotion_at) would spin once it is past).
    pub fn next_promotion_after(&self, now: Timestamp) -> Option<Timestamp> {
        let bound = self.policy.starvation_ms?;
        self.requests
            .iter()
            .filter(|r| r.state.is_queued() && r.pin.is_none() && r.band() == Band::Normal)
            .map(|r| r.queued_at.plus(bound + 1))
            .filter(|at| *at > now)
            .min()
    }

    fn ctx(&self, now: Timestamp) -> Ctx<'_> {
        Ctx {
            requests: &self.requests,
            policy: self.policy,
            alternation: self.alternation,
            now,
        }
    }

    pub(crate) fn next_link(&self) -> LinkId {
        LinkId(self.next_link)
    }

    /// How many queued requests are on `side`.
    pub fn queued_on(&self, side: Side) -> usize {
        self.requests
            .iter()
            .filter(|r| r.side == side && r.state.is_queued())
            .count()
    }
}
