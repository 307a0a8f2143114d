//! Turning applied events into the bytes clients receive: one frame per change, serialized once
//! per audience, carrying the events and the patch from the views clients last saw.

use std::collections::BTreeSet;

use bytes::Bytes;

use super::Frame;
use crate::protocol::{
    Audience, Fairness, FloorView, OrderPatch, Outgoing, Patch, RequestView, SessionView, Slot,
    WireEvent, encode, fairness, slots,
};
use crate::queue::{Event, Fact, RequestId, State, Timestamp};

/// What clients were last sent, to diff the next change against.
pub(super) struct Published {
    order: Vec<Slot>,
    session: SessionView,
    floor: [Option<FloorView>; 2],
    /// The moderators' fairness tallies last sent.
    fairness: Option<Fairness>,
}

const AUDIENCES: [Audience; 2] = [Audience::Moderator, Audience::Public];

impl Published {
    pub(super) fn new(s: &State, now: Timestamp) -> Self {
        Self {
            order: slots(s, now),
            session: SessionView::of(s),
            floor: AUDIENCES.map(|a| FloorView::of(s, a)),
            fairness: fairness(s, Audience::Moderator),
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
        // The settings' counts walk every request and turn: not for a join, which changes none.
        let joins_only = events
            .iter()
            .all(|e| matches!(e.fact, Fact::ParticipantJoined { .. }));
        let session_patch = if joins_only {
            None
        } else {
            let session = SessionView::of(s);
            let patch = (session != self.session).then(|| session.clone());
            self.session = session;
            patch
        };
        let tallies = fairness(s, Audience::Moderator);
        let fairness_patch = (tallies != self.fairness)
            .then(|| tallies.clone())
            .flatten();
        self.fairness = tallies;
        let touched = touched(s, events);
        let [moderator, public] = [0, 1].map(|i| {
            let audience = AUDIENCES[i];
            let floor = FloorView::of(s, audience);
            let floor_patch = (floor != self.floor[i]).then(|| floor.clone());
            self.floor[i] = floor;
            let (mut requests, mut closed) = (Vec::new(), Vec::new());
            for id in &touched {
                match RequestView::of(s, *id, audience) {
                    Some(r) => requests.push(r),
                    None => closed.push(id.0),
                }
            }
            let patch = Patch {
                session: session_patch.clone(),
                requests,
                closed,
                floor: floor_patch,
                order: order_patch.clone(),
                fairness: fairness_patch
                    .clone()
                    .filter(|_| audience == Audience::Moderator),
            };
            let events: Vec<_> = events
                .iter()
                .zip(from..)
                .filter_map(|(e, seq)| WireEvent::of(seq, e, audience))
                .collect();
            let seq = s.seq();
            Bytes::from(encode(&Outgoing::Update {
                req,
                from,
                seq,
                server_time: now,
                events: &events,
                patch: &patch,
            }))
        });
        Frame {
            from,
            seq: s.seq(),
            moderator,
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
            public: bytes,
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
