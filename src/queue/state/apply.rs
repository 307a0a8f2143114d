//! [`State::apply`]: the fold of events into a session's state.
//!
//! `apply` is the only code that changes a `State`, for live commands and for replay alike, so
//! replaying a log yields exactly the live state. It trusts its events: they were decided
//! against the same state (see [`decide`](crate::queue::decide)) and checked by the store.

use super::{State, slot};
use crate::queue::{
    Actor, Band, Event, Fact, Link, Modality, Order, Origin, Participant, ParticipantId, Pin,
    Request, RequestId, RequestKind, RequestState, Timestamp, Turn, TurnId,
};

impl State {
    /// Fold one event into the state.
    pub fn apply(&mut self, e: &Event) {
        self.seq += 1;
        let at = e.at;
        match &e.fact {
            Fact::SessionOpened {
                title,
                policy,
                limits,
            } => {
                self.opened = true;
                self.list_open = true;
                self.title.clone_from(title);
                self.policy = *policy;
                self.limits = limits.clone();
            }
            Fact::ParticipantJoined {
                participant,
                profile,
            } => {
                debug_assert_eq!(participant.0 as usize, self.participants.len());
                self.tallies[slot(profile.modality)].participants += 1;
                self.participants.push(Participant {
                    id: *participant,
                    profile: profile.clone(),
                    joined_at: at,
                    joined_by: e.actor,
                    open_request: None,
                    turns: 0,
                    removed: false,
                    folded_name: self.names.add(crate::queue::names::fold(&profile.name)),
                    recent_raises: Vec::new(),
                });
            }
            Fact::ProfileUpdated {
                participant,
                profile,
            } => {
                let p = &mut self.participants[participant.0 as usize];
                p.folded_name = self.names.rename(&p.folded_name, &profile.name, p.removed);
                p.profile = profile.clone();
            }
            Fact::HandRaised {
                request,
                participant,
                kind,
                note,
                origin,
            } => {
                self.enqueue_new(*request, *participant, *kind, note.clone(), *origin, at);
                if *origin == Origin::SelfRaised {
                    self.note_raise(*participant, at);
                }
            }
            Fact::RequestChanged {
                request,
                kind,
                note,
            } => {
                let r = &mut self.requests[request.0 as usize];
                let queued = r.state.is_queued();
                if queued {
                    self.index.remove(r);
                }
                r.kind = *kind;
                r.note.clone_from(note);
                if queued {
                    self.index.insert(r);
                }
            }
            Fact::HandLowered { request } => self.close(*request, RequestState::Withdrawn, at),
            Fact::RequestParked { request, reason } => {
                self.leave_queue(*request, at);
                let r = &mut self.requests[request.0 as usize];
                r.state = RequestState::Parked;
                r.parked_for = *reason;
            }
            Fact::RequestRejoined { request } => {
                let tier = self.tier(self.requests[request.0 as usize].participant);
                let r = &mut self.requests[request.0 as usize];
                r.state = RequestState::Waiting;
                r.parked_for = None;
                r.queued_at = at;
                r.arrival = self.next_arrival;
                r.tier = tier;
                self.next_arrival += 1;
                self.index.insert(r);
                let participant = r.participant;
                if e.actor == Actor::Participant(participant) {
                    self.note_raise(participant, at);
                }
            }
            Fact::ReadyMarked { request, ready } => {
                self.requests[request.0 as usize].state = if *ready {
                    RequestState::Ready
                } else {
                    RequestState::Waiting
                };
            }
            Fact::FloorGranted {
                turn,
                request,
                limit_ms,
                grant,
                forced,
                ..
            } => self.grant(*turn, *request, *limit_ms, grant.clone(), *forced, at),
            Fact::TurnEnded { turn, ending } => {
                let t = &mut self.turns[turn.0 as usize];
                if let Some(p) = t.paused_at.take() {
                    t.paused_ms += at.millis_since(p);
                }
                t.ended_at = Some(at);
                t.ending = Some(*ending);
                let (spoken, participant) = (t.spoken_ms(at), t.participant);
                let request = t.request;
                let m = self.modality_of(participant);
                self.tallies[slot(m)].spoken_ms += spoken;
                self.floor = None;
                self.close(request, RequestState::Done, at);
            }
            Fact::ClockPaused { turn } => self.turns[turn.0 as usize].paused_at = Some(at),
            Fact::ClockResumed { turn } => {
                let t = &mut self.turns[turn.0 as usize];
                if let Some(p) = t.paused_at.take() {
                    t.paused_ms += at.millis_since(p);
                }
            }
            Fact::TurnExtended { turn, by_ms } => {
                self.turns[turn.0 as usize].extended_ms += by_ms;
            }
            Fact::TextShown { turn, shown } => {
                self.turns[turn.0 as usize].text_shown = *shown;
            }
            Fact::RequestMoved {
                request,
                to,
                reason,
                ..
            } => {
                let pin = self.pin(to.saturating_sub(1), e.actor, reason.clone());
                self.repin(*request, Some(pin), at);
            }
            Fact::RequestRemoved { request, .. } => {
                self.close(*request, RequestState::Removed, at);
            }
            Fact::SpeakerReadded {
                request,
                participant,
                kind,
                origin,
                reason,
            } => {
                self.enqueue_new(*request, *participant, *kind, None, *origin, at);
                let pin = self.pin(0, e.actor, reason.clone());
                self.index.remove(&self.requests[request.0 as usize]);
                self.repin(*request, Some(pin), at);
            }
            Fact::ListClosed => self.list_open = false,
            Fact::ListReopened => self.list_open = true,
            Fact::PolicyChanged { policy } => {
                self.policy = *policy;
                self.reindex();
            }
            Fact::TimeLimitsChanged { limits } => self.limits = limits.clone(),
            Fact::ModeratorScopeChanged { remote_only } => {
                self.moderator_remote_only = *remote_only;
            }
            Fact::AgendaSet { items } => {
                self.agenda.clone_from(items);
                let last = u32::try_from(items.len())
                    .unwrap_or(u32::MAX)
                    .checked_sub(1);
                self.item = self.item.and_then(|i| last.map(|l| i.min(l)));
            }
            Fact::AgendaAdvanced { item, cleared } => {
                for r in cleared {
                    self.close(*r, RequestState::Removed, at);
                }
                self.item = Some(*item);
            }
            Fact::LinkPosted { link, title, url } => {
                self.links.push(Link {
                    id: *link,
                    title: title.clone(),
                    url: url.clone(),
                    posted_by: e.actor,
                    posted_at: at,
                });
                self.next_link = link.0 + 1;
            }
            Fact::LinkRemoved { link } => self.links.retain(|l| l.id != *link),
            Fact::ControlSet { control, on } => self.controls.set(*control, *on),
            Fact::ParticipantRemoved { participant, .. } => {
                let p = &mut self.participants[participant.0 as usize];
                if !p.removed {
                    p.removed = true;
                    self.names.remove(&p.folded_name);
                    let m = slot(p.profile.modality);
                    self.tallies[m].participants = self.tallies[m].participants.saturating_sub(1);
                }
            }
            Fact::KeysRotated => self.key_rotations += 1,
            Fact::TakeawaysSet { text } => self.takeaways.clone_from(text),
            Fact::SessionEnded => {
                self.controls.ended = true;
                self.list_open = false;
            }
        }
    }

    /// Remember a participant's own raise, for the throttle.
    fn note_raise(&mut self, participant: ParticipantId, at: Timestamp) {
        let raises = &mut self.participants[participant.0 as usize].recent_raises;
        if raises.len() == crate::queue::RAISE_BURST {
            raises.remove(0);
        }
        raises.push(at);
    }

    /// 1 for someone who has spoken under `first_time_first`, else 0.
    fn tier(&self, participant: ParticipantId) -> u8 {
        let spoke = self.participants[participant.0 as usize].turns > 0;
        u8::from(self.policy.order == Order::FirstTimeFirst && spoke)
    }

    fn pin(&mut self, position: u32, by: Actor, reason: Option<String>) -> Pin {
        self.next_pin += 1;
        Pin {
            position,
            seq: self.next_pin,
            by,
            reason,
        }
    }

    fn enqueue_new(
        &mut self,
        id: RequestId,
        participant: ParticipantId,
        kind: RequestKind,
        note: Option<String>,
        origin: Origin,
        at: Timestamp,
    ) {
        debug_assert_eq!(id.0 as usize, self.requests.len());
        let side = self.participants[participant.0 as usize]
            .profile
            .modality
            .side();
        let r = Request {
            id,
            participant,
            kind,
            note,
            origin,
            side,
            requested_at: at,
            queued_at: at,
            arrival: self.next_arrival,
            tier: self.tier(participant),
            state: RequestState::Waiting,
            pin: None,
            parked_for: None,
            item: self.item,
        };
        self.next_arrival += 1;
        self.index.insert(&r);
        self.requests.push(r);
        self.tallies[slot(self.modality_of(participant))].requests += 1;
        self.participants[participant.0 as usize].open_request = Some(id);
    }

    fn grant(
        &mut self,
        turn: TurnId,
        request: RequestId,
        limit_ms: u64,
        grant: crate::queue::Grant,
        forced: bool,
        at: Timestamp,
    ) {
        self.leave_queue(request, at);
        let r = &mut self.requests[request.0 as usize];
        r.state = RequestState::Speaking;
        if r.band() == Band::Normal {
            self.alternation = self.alternation.after(r.side);
        }
        self.participants[r.participant.0 as usize].turns += 1;
        debug_assert_eq!(turn.0 as usize, self.turns.len());
        self.turns.push(Turn {
            id: turn,
            request,
            participant: r.participant,
            side: r.side,
            kind: r.kind,
            item: self.item,
            grant,
            forced,
            waited_ms: at.millis_since(r.queued_at),
            granted_at: at,
            limit_ms,
            extended_ms: 0,
            paused_at: None,
            paused_ms: 0,
            ended_at: None,
            ending: None,
            text_shown: false,
        });
        let (waited, participant) = (at.millis_since(r.queued_at), r.participant);
        let m = self.modality_of(participant);
        let tally = &mut self.tallies[slot(m)];
        tally.turns += 1;
        tally.waited_ms += waited;
        self.floor = Some(turn);
    }

    fn modality_of(&self, p: ParticipantId) -> Modality {
        self.participants[p.0 as usize].profile.modality
    }

    /// End a request's life as its participant's open request.
    fn close(&mut self, id: RequestId, state: RequestState, at: Timestamp) {
        if self.requests[id.0 as usize].state.is_queued() {
            self.leave_queue(id, at);
        }
        let r = &mut self.requests[id.0 as usize];
        r.state = state;
        self.participants[r.participant.0 as usize].open_request = None;
    }

    /// Take a queued request out of the index; pins behind it move up with the queue.
    fn leave_queue(&mut self, id: RequestId, at: Timestamp) {
        if self.index.has_pins() {
            self.repin(id, None, at);
        } else {
            self.index.remove(&self.requests[id.0 as usize]);
        }
    }

    /// Take `x` out of the order and (with `pin`) put it back pinned. Every other pin is first
    /// set to the position it shows at now, less one if `x` stood ahead of it: a pinned entry
    /// keeps its place relative to the queue's head as entries ahead of it leave.
    fn repin(&mut self, x: RequestId, pin: Option<Pin>, at: Timestamp) {
        let listing = self.index.listing(&self.ctx(at));
        let xi = listing.iter().position(|(id, _)| *id == x);
        let moves: Vec<(RequestId, u32)> = listing
            .iter()
            .enumerate()
            .filter(|(_, (id, _))| *id != x && self.requests[id.0 as usize].pin.is_some())
            .map(|(i, (id, _))| {
                let shift = usize::from(xi.is_some_and(|xi| xi < i));
                (*id, u32::try_from(i - shift).unwrap_or(u32::MAX))
            })
            .collect();
        if xi.is_some() {
            self.index.remove(&self.requests[x.0 as usize]);
        }
        for (id, position) in moves {
            let r = &mut self.requests[id.0 as usize];
            self.index.remove(r);
            if let Some(p) = r.pin.as_mut() {
                p.position = position;
            }
            self.index.insert(r);
        }
        let r = &mut self.requests[x.0 as usize];
        r.pin = pin;
        if r.pin.is_some() {
            self.index.insert(r);
        }
    }

    /// Rebuild the index after a policy change (tiers depend on the policy).
    fn reindex(&mut self) {
        self.index.clear();
        for i in 0..self.requests.len() {
            if self.requests[i].state.is_queued() {
                let tier = self.tier(self.requests[i].participant);
                self.requests[i].tier = tier;
                self.index.insert(&self.requests[i]);
            }
        }
    }
}
