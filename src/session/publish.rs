//! Turning applied events into the bytes clients receive: one frame per change, serialized once
//! per audience, carrying the patch from the views that audience last saw (field by field for
//! requests) and, for moderators, the events. A change that leaves the public view as it was
//! sends the public no frame: its next frame's `from` reaches back over the gap.

use std::collections::{BTreeMap, BTreeSet};

use bytes::Bytes;

use super::Frame;
use crate::protocol::{
    Audience, Fairness, Fields, FloorView, OrderPatch, Outgoing, Patch, RemoteCounts, RequestPatch,
    RequestView, SessionView, Slot, WireEvent, changed_fields, encode, fairness, slots,
};
use crate::queue::{Event, Fact, Modality, RequestId, RequestState, State, Timestamp};

/// What clients were last sent, to diff the next change against.
pub(super) struct Published {
    order: Vec<Slot>,
    session: [SessionView; 2],
    floor: [Option<FloorView>; 2],
    /// The moderators' fairness tallies last sent.
    fairness: Fairness,
    /// The moderators' remote counts last sent.
    remote: RemoteCounts,
    /// The open requests as each audience last saw them.
    requests: [BTreeMap<u32, RequestView>; 2],
    /// The seq the public's last frame ended at.
    public_at: u64,
}

const AUDIENCES: [Audience; 2] = [Audience::Moderator, Audience::Public];

impl Published {
    pub(super) fn new(s: &State, now: Timestamp) -> Self {
        Self {
            order: slots(s, now),
            session: AUDIENCES.map(|a| SessionView::of(s, a)),
            floor: AUDIENCES.map(|a| FloorView::of(s, a)),
            fairness: fairness(s, Audience::Moderator).unwrap_or_default(),
            remote: RemoteCounts::of(s),
            requests: AUDIENCES.map(|a| {
                s.requests()
                    .iter()
                    .filter_map(|r| RequestView::of(s, r.id, a))
                    .map(|r| (r.id, r))
                    .collect()
            }),
            public_at: s.seq(),
        }
    }

    /// The order as last sent.
    pub(super) fn order(&self) -> &[Slot] {
        &self.order
    }

    /// The frame for `events` (seqs `from..`), just applied to `s` for the command `req`.
    pub(super) fn update(
        &mut self,
        s: &State,
        events: &[Event],
        (req, from): (u64, u64),
        now: Timestamp,
    ) -> Frame {
        let order = slots(s, now);
        let order_patch = Some(OrderPatch::diff(&self.order, &order)).filter(|p| !p.is_empty());
        self.order = order;
        let tallies = fairness(s, Audience::Moderator).unwrap_or_default();
        // Only the tallies' fields that changed, by modality.
        let fairness_patch: BTreeMap<Modality, Fields> = tallies
            .iter()
            .map(|(m, t)| (*m, changed_fields(self.fairness.get(m), t)))
            .filter(|(_, f)| !f.is_empty())
            .collect();
        let fairness_patch = (!fairness_patch.is_empty()).then_some(fairness_patch);
        self.fairness = tallies;
        // The remote counts walk every request and turn: not for a join, which changes none.
        let joins_only = events
            .iter()
            .all(|e| matches!(e.fact, Fact::ParticipantJoined { .. }));
        let remote_patch = if joins_only {
            None
        } else {
            let remote = RemoteCounts::of(s);
            let patch = Some(changed_fields(Some(&self.remote), &remote)).filter(|f| !f.is_empty());
            self.remote = remote;
            patch
        };
        let touched = touched(s, events);
        let [moderator, public] = [0, 1].map(|i| {
            let audience = AUDIENCES[i];
            let session = SessionView::of(s, audience);
            let session_patch = (session != self.session[i]).then(|| session.clone());
            self.session[i] = session;
            let floor = FloorView::of(s, audience);
            let floor_patch = (floor != self.floor[i]).then(|| floor.clone());
            self.floor[i] = floor;
            let (mut requests, mut closed) = (Vec::new(), Vec::new());
            let held = &mut self.requests[i];
            for id in &touched {
                match RequestView::of(s, *id, audience) {
                    Some(r) => {
                        requests.extend(RequestPatch::diff(
                            held.get(&r.id),
                            &r,
                            (s.current_item(), now),
                        ));
                        held.insert(r.id, r);
                    }
                    None => {
                        if held.remove(&id.0).is_some() {
                            closed.push(id.0);
                        }
                    }
                }
            }
            let mut patch = Patch {
                session: session_patch,
                requests,
                closed,
                floor: floor_patch,
                order: order_patch.clone(),
                fairness: fairness_patch
                    .clone()
                    .filter(|_| audience == Audience::Moderator),
                remote: remote_patch
                    .clone()
                    .filter(|_| audience == Audience::Moderator),
            };
            implied_by_floor(&mut patch);
            let public = audience == Audience::Public;
            if public && patch.is_empty() {
                return None; // nothing the public sees changed: no frame
            }
            // The public's pages announce from the patch: only moderators get the events.
            let events: Vec<_> = if public {
                Vec::new()
            } else {
                events
                    .iter()
                    .zip(from..)
                    .filter_map(|(e, seq)| WireEvent::of(seq, e, audience))
                    .collect()
            };
            let from = if public { self.public_at + 1 } else { from };
            Some(Bytes::from(encode(&Outgoing::Update {
                req,
                from,
                seq: s.seq(),
                server_time: now,
                events: &events,
                patch: &patch,
            })))
        });
        if public.is_some() {
            self.public_at = s.seq();
        }
        Frame {
            from,
            seq: s.seq(),
            moderator: moderator.expect("moderators get every update"),
            public,
        }
    }

    /// The frame for an order change that no event caused (the starvation guard), if any.
    pub(super) fn reorder(&mut self, s: &State, now: Timestamp) -> Option<Frame> {
        let order = slots(s, now);
        if order == self.order {
            return None;
        }
        self.order = order;
        let bytes = self.order_bytes(s, now);
        Some(Frame {
            from: s.seq() + 1,
            seq: s.seq(),
            moderator: bytes.clone(),
            public: Some(bytes),
        })
    }

    /// The whole current order as an `order` frame (the same for every audience).
    pub(super) fn order_bytes(&self, s: &State, now: Timestamp) -> Bytes {
        Bytes::from(encode(&Outgoing::Order {
            seq: s.seq(),
            server_time: now,
            queue: &self.order,
        }))
    }
}

/// Leave out of `patch` what its floor implies (the rule clients apply): the floor's request is
/// speaking and out of the queue.
fn implied_by_floor(patch: &mut Patch) {
    let Some(Some(floor)) = &patch.floor else {
        return;
    };
    let id = floor.request;
    for r in &mut patch.requests {
        if r.id == id && r.state == Some(RequestState::Speaking) && r.participant.is_none() {
            r.state = None;
        }
    }
    patch.requests.retain(|r| {
        r.id != id
            || *r
                != RequestPatch {
                    id,
                    ..RequestPatch::unchanged()
                }
    });
    if let Some(order) = &mut patch.order {
        order.remove.retain(|r| *r != id);
        if order.is_empty() {
            patch.order = None;
        }
    }
}

/// The requests whose view the events may have changed.
fn touched(s: &State, events: &[Event]) -> BTreeSet<RequestId> {
    let mut out = BTreeSet::new();
    for e in events {
        match &e.fact {
            Fact::HandRaised { request, .. }
            | Fact::RequestChanged { request, .. }
            | Fact::HandLowered { request }
            | Fact::RequestParked { request, .. }
            | Fact::RequestRejoined { request }
            | Fact::ReadyMarked { request, .. }
            | Fact::FloorGranted { request, .. }
            | Fact::RequestRemoved { request, .. }
            | Fact::SpeakerReadded { request, .. } => {
                out.insert(*request);
            }
            Fact::TurnEnded { turn, .. } => {
                out.insert(s.turns()[turn.0 as usize].request);
            }
            Fact::AgendaAdvanced { cleared, .. } => out.extend(cleared.iter().copied()),
            Fact::ProfileUpdated { participant, .. } => {
                out.extend(s.participant(*participant).and_then(|p| p.open_request));
            }
            _ => {}
        }
    }
    out
}
