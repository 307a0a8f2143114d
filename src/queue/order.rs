//! The queue's order: an index of the queued requests and an iterator that walks it in the
//! order the session's policy gives.
//!
//! The order is never stored as a list. Queued requests sit in ordered sets keyed by
//! `(band, tier, arrival)`, one per side, so a raise, a lower or a grant costs O(log n) and the
//! head of the queue is found without walking it. The full order (for consoles) is a merge of
//! those sets, O(n). Time matters: the starvation guard promotes whoever has waited too long, so
//! the order is always computed "at" a timestamp.
//!
//! Moderator moves pin an entry at a position; pinned entries are kept apart and merged in at
//! their positions. When an entry ahead of a pin leaves, the pin moves up with the queue (see
//! [`State::repin`](super::State)).

use std::cmp::Reverse;
use std::collections::BTreeSet;
use std::collections::btree_set;
use std::iter::Peekable;

use super::{Alternation, Band, Order, Policy, Reason, Request, RequestId, Side, Timestamp};

type Key = (Band, u8, u64, RequestId);

/// The ordered sets of queued requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Index {
    room: BTreeSet<Key>,
    remote: BTreeSet<Key>,
    /// Unpinned ordinary requests by arrival, oldest first: the starvation guard's view.
    by_age: BTreeSet<(u64, RequestId)>,
    /// Pinned requests by position, newest pin first among equals.
    pinned: BTreeSet<(u32, Reverse<u64>, RequestId)>,
}

fn key(r: &Request) -> Key {
    (r.band(), r.tier, r.arrival, r.id)
}

impl Index {
    pub(crate) fn insert(&mut self, r: &Request) {
        if let Some(pin) = &r.pin {
            self.pinned.insert((pin.position, Reverse(pin.seq), r.id));
            return;
        }
        match r.side {
            Side::Room => self.room.insert(key(r)),
            Side::Remote => self.remote.insert(key(r)),
        };
        if r.band() == Band::Normal {
            self.by_age.insert((r.arrival, r.id));
        }
    }

    pub(crate) fn remove(&mut self, r: &Request) {
        if let Some(pin) = &r.pin {
            self.pinned.remove(&(pin.position, Reverse(pin.seq), r.id));
            return;
        }
        match r.side {
            Side::Room => self.room.remove(&key(r)),
            Side::Remote => self.remote.remove(&key(r)),
        };
        self.by_age.remove(&(r.arrival, r.id));
    }

    pub(crate) fn len(&self) -> usize {
        self.room.len() + self.remote.len() + self.pinned.len()
    }

    pub(crate) fn has_pins(&self) -> bool {
        !self.pinned.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }

    /// The first entry at `now`, without walking the queue when nothing is pinned at the top.
    pub(crate) fn head(&self, ctx: &Ctx<'_>) -> Option<(RequestId, Reason)> {
        match self.pinned.first() {
            Some(&(0, _, id)) => Some((id, moved(&ctx.requests[id.0 as usize]))),
            first => Base::new(self, ctx)
                .next()
                .or_else(|| first.map(|&(_, _, id)| (id, moved(&ctx.requests[id.0 as usize])))),
        }
    }

    /// The whole order at `now`, first entry first.
    pub(crate) fn listing(&self, ctx: &Ctx<'_>) -> Vec<(RequestId, Reason)> {
        let mut base = Base::new(self, ctx);
        let mut pins = self.pinned.iter().peekable();
        let mut out = Vec::with_capacity(self.len());
        loop {
            let at = u32::try_from(out.len()).unwrap_or(u32::MAX);
            if let Some(&&(position, _, id)) = pins.peek()
                && position <= at
            {
                pins.next();
                out.push((id, moved(&ctx.requests[id.0 as usize])));
                continue;
            }
            match base.next() {
                Some(entry) => out.push(entry),
                None => {
                    out.extend(pins.map(|&(_, _, id)| (id, moved(&ctx.requests[id.0 as usize]))));
                    return out;
                }
            }
        }
    }
}

fn moved(r: &Request) -> Reason {
    let pin = r.pin.as_ref().expect("pinned entries carry their pin");
    Reason::Moved {
        by: pin.by,
        note: pin.reason.clone(),
    }
}

/// What ordering needs besides the index.
pub(crate) struct Ctx<'a> {
    pub(crate) requests: &'a [Request],
    pub(crate) policy: Policy,
    pub(crate) alternation: Alternation,
    pub(crate) now: Timestamp,
}

/// The unpinned entries in policy order: bands first, then the starved (oldest first), then the
/// ordinary requests by the session's order. Lazy, so the head costs O(log n).
struct Base<'a> {
    ctx: &'a Ctx<'a>,
    room: Peekable<btree_set::Iter<'a, Key>>,
    remote: Peekable<btree_set::Iter<'a, Key>>,
    ages: Peekable<btree_set::Iter<'a, (u64, RequestId)>>,
    starving: bool,
    /// The newest starved entry yielded; ordinary entries up to it were already yielded.
    cutoff: Option<(u64, RequestId)>,
    alt: Alternation,
}

impl<'a> Base<'a> {
    fn new(index: &'a Index, ctx: &'a Ctx<'a>) -> Self {
        Self {
            ctx,
            room: index.room.iter().peekable(),
            remote: index.remote.iter().peekable(),
            ages: index.by_age.iter().peekable(),
            starving: ctx.policy.starvation_ms.is_some(),
            cutoff: None,
            alt: ctx.alternation,
        }
    }

    /// The next key of one side, skipping ordinary entries already yielded as starved.
    fn peek(
        it: &mut Peekable<btree_set::Iter<'a, Key>>,
        cutoff: Option<(u64, RequestId)>,
    ) -> Option<Key> {
        while let Some(&&k) = it.peek() {
            match cutoff {
                Some(c) if k.0 == Band::Normal && (k.2, k.3) <= c => {
                    it.next();
                }
                _ => return Some(k),
            }
        }
        None
    }

    fn take(&mut self, side: Side) {
        match side {
            Side::Room => self.room.next(),
            Side::Remote => self.remote.next(),
        };
    }

    fn starved(&mut self) -> Option<(RequestId, Reason)> {
        let bound = self.ctx.policy.starvation_ms?;
        let &&(arrival, id) = self.ages.peek()?;
        let r = &self.ctx.requests[id.0 as usize];
        let waited = self.ctx.now.millis_since(r.queued_at);
        if waited <= bound {
            return None;
        }
        self.ages.next();
        self.cutoff = Some((arrival, id));
        self.alt = self.alt.after(r.side);
        Some((id, Reason::Starved { waited_ms: waited }))
    }
}

impl Iterator for Base<'_> {
    type Item = (RequestId, Reason);

    fn next(&mut self) -> Option<Self::Item> {
        let room = Self::peek(&mut self.room, self.cutoff);
        let remote = Self::peek(&mut self.remote, self.cutoff);
        let first = match (room, remote) {
            (Some(a), Some(b)) => Some(if a <= b {
                (a, Side::Room)
            } else {
                (b, Side::Remote)
            }),
            (Some(a), None) => Some((a, Side::Room)),
            (None, Some(b)) => Some((b, Side::Remote)),
            (None, None) => None,
        };
        let ((band, _, _, id), side) = first?;
        let banded = match band {
            Band::PointOfOrder => Some(Reason::PointOfOrder),
            Band::DirectReply => Some(Reason::DirectReply),
            Band::Roster => Some(Reason::Roster),
            Band::Normal => None,
        };
        if let Some(reason) = banded {
            self.take(side);
            return Some((id, reason));
        }
        if self.starving {
            if let Some(entry) = self.starved() {
                return Some(entry);
            }
            self.starving = false;
        }
        // Peek again: the starved phase may have passed entries by.
        let room = Self::peek(&mut self.room, self.cutoff);
        let remote = Self::peek(&mut self.remote, self.cutoff);
        let (side, key, reason) = match (room, remote, self.ctx.policy.order) {
            (
                Some(a),
                Some(b),
                Order::Alternate {
                    room: rr,
                    remote: rm,
                },
            ) => match self.alt.due(rr, rm) {
                Some(Side::Room) => (Side::Room, a, alternating(self.alt)),
                Some(Side::Remote) => (Side::Remote, b, alternating(self.alt)),
                None if a.2 <= b.2 => (Side::Room, a, Reason::Arrival),
                None => (Side::Remote, b, Reason::Arrival),
            },
            (Some(a), Some(b), order) => {
                let (side, k) = if a <= b {
                    (Side::Room, a)
                } else {
                    (Side::Remote, b)
                };
                (side, k, ordinary(order, k.1))
            }
            (Some(a), None, order) => (Side::Room, a, ordinary(order, a.1)),
            (None, Some(b), order) => (Side::Remote, b, ordinary(order, b.1)),
            (None, None, _) => return None,
        };
        self.take(side);
        self.alt = self.alt.after(side);
        Some((key.3, reason))
    }
}

fn alternating(alt: Alternation) -> Reason {
    Reason::Alternating {
        after: alt.last.expect("a due side implies a last side"),
    }
}

/// The reason for an ordinary entry when alternation does not decide.
fn ordinary(order: Order, tier: u8) -> Reason {
    match (order, tier) {
        (Order::FirstTimeFirst, 0) => Reason::FirstTime,
        (Order::FirstTimeFirst, _) => Reason::SpokenBefore,
        _ => Reason::Arrival,
    }
}
