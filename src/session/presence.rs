//! Who is connected: for the moderators' consoles only, and coalesced.
//!
//! Presence is not part of the queue (it is not a decision, it is not logged, and a replay knows
//! nothing of it): the actor keeps a [`Presence`] book beside its state. Each participant's own
//! connections report in through a [`PresenceGuard`], which says "closed" when it is dropped,
//! however the connection ends. A participant with a connection open is `connected`; one whose
//! last connection closed less than the grace period ago is `reconnecting` (a phone changing
//! networks, a reload); after that, `gone`. People entered by proxy or relayed from the chat
//! have no device and no presence.
//!
//! Changes are not sent one by one: the actor publishes to moderators at most once per
//! coalescing window, and only the participants whose status changed since the last frame (a
//! moderator who connects is sent the whole book once), so a room of phones dropping and coming
//! back costs the moderators a frame a second the size of what changed, never of the room, and
//! everyone else nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::protocol::PresenceStatus as Status;
use crate::queue::{ParticipantId, Timestamp};

/// A connection opening or closing, as reported to the actor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Seen {
    pub participant: ParticipantId,
    pub open: bool,
}

/// Held by a participant's connection while it lives; dropping it reports the close.
#[derive(Debug)]
pub struct PresenceGuard {
    tx: mpsc::UnboundedSender<Seen>,
    participant: ParticipantId,
}

impl PresenceGuard {
    pub(super) fn open(tx: mpsc::UnboundedSender<Seen>, participant: ParticipantId) -> Self {
        // A stopped actor has nobody to tell; the next one starts with an empty book.
        let _ = tx.send(Seen {
            participant,
            open: true,
        });
        Self { tx, participant }
    }
}

impl Drop for PresenceGuard {
    fn drop(&mut self) {
        let _ = self.tx.send(Seen {
            participant: self.participant,
            open: false,
        });
    }
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    open: u32,
    /// When the last connection closed.
    closed_at: Timestamp,
}

/// The presence of every participant who has connected since the actor started.
#[derive(Debug)]
pub(super) struct Presence {
    entries: HashMap<ParticipantId, Entry>,
    grace_ms: u64,
    /// When each participant now reconnecting becomes gone, soonest first: the actor asks for
    /// the next such moment on every turn of its loop, so it must not scan everyone.
    expiring: BTreeSet<(Timestamp, u32)>,
    /// What moderators were last sent, per participant.
    published: HashMap<u32, Status>,
    /// Participants seen opening or closing since the last frame: only they can have changed
    /// (besides those whose grace period ran out, which `expiring` holds).
    touched: HashSet<u32>,
}

impl Presence {
    pub(super) fn new(grace: Duration) -> Self {
        Self {
            entries: HashMap::new(),
            grace_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
            expiring: BTreeSet::new(),
            published: HashMap::new(),
            touched: HashSet::new(),
        }
    }

    /// Record a connection opening or closing at `now`.
    pub(super) fn seen(&mut self, seen: Seen, now: Timestamp) {
        let p = seen.participant.0;
        self.touched.insert(p);
        let deadline = |closed_at: Timestamp| Timestamp(closed_at.0.saturating_add(self.grace_ms));
        let e = self.entries.entry(seen.participant).or_insert(Entry {
            open: 0,
            closed_at: now,
        });
        if e.open == 0 {
            self.expiring.remove(&(deadline(e.closed_at), p));
        }
        if seen.open {
            e.open += 1;
        } else {
            e.open = e.open.saturating_sub(1);
            if e.open == 0 {
                e.closed_at = now;
                self.expiring.insert((deadline(now), p));
            }
        }
    }

    /// Everyone's status at `now`, by participant id.
    pub(super) fn statuses(&self, now: Timestamp) -> BTreeMap<u32, Status> {
        self.entries
            .iter()
            .map(|(p, e)| (p.0, self.status(e, now)))
            .collect()
    }

    fn status(&self, e: &Entry, now: Timestamp) -> Status {
        if e.open > 0 {
            Status::Connected
        } else if now.millis_since(e.closed_at) < self.grace_ms {
            Status::Reconnecting
        } else {
            Status::Gone
        }
    }

    /// When someone reconnecting at `now` will be gone with no further report: the actor wakes
    /// then to say so.
    #[cfg(test)]
    pub(super) fn next_change_at(&self, now: Timestamp) -> Option<Timestamp> {
        self.expiring
            .range((Timestamp(now.0.saturating_add(1)), 0)..)
            .next()
            .map(|&(at, _)| at)
    }

    /// When the next participant reconnecting becomes gone, and moderators have not been told:
    /// it may be past, until [`changed`](Self::changed) is asked.
    pub(super) fn next_expiry(&self) -> Option<Timestamp> {
        self.expiring.first().map(|&(at, _)| at)
    }

    /// The participants whose status at `now` differs from what was last published (and
    /// remember it), or `None` when nobody's did. Costs what changed, not the whole book: only
    /// those seen since the last call, and those whose grace period ran out, are looked at.
    pub(super) fn changed(&mut self, now: Timestamp) -> Option<BTreeMap<u32, Status>> {
        // Those gone by now need no wake-up any more, and may have changed.
        let later = self
            .expiring
            .split_off(&(Timestamp(now.0.saturating_add(1)), 0));
        let expired = std::mem::replace(&mut self.expiring, later);
        self.touched.extend(expired.into_iter().map(|(_, p)| p));
        let mut out = BTreeMap::new();
        for p in std::mem::take(&mut self.touched) {
            let Some(e) = self.entries.get(&ParticipantId(p)) else {
                continue;
            };
            let status = self.status(e, now);
            if self.published.insert(p, status) != Some(status) {
                out.insert(p, status);
            }
        }
        (!out.is_empty()).then_some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRACE: Duration = Duration::from_secs(30);

    fn seen(p: u32, open: bool) -> Seen {
        Seen {
            participant: ParticipantId(p),
            open,
        }
    }

    #[test]
    fn connected_while_any_connection_lives_then_reconnecting_then_gone() {
        let mut book = Presence::new(GRACE);
        book.seen(seen(1, true), Timestamp(1_000));
        book.seen(seen(1, true), Timestamp(2_000)); // a second tab
        book.seen(seen(1, false), Timestamp(3_000));
        assert_eq!(
            book.statuses(Timestamp(3_000))[&1],
            Status::Connected,
            "one tab still open"
        );
        book.seen(seen(1, false), Timestamp(4_000));
        assert_eq!(book.statuses(Timestamp(4_000))[&1], Status::Reconnecting);
        assert_eq!(
            book.next_change_at(Timestamp(4_000)),
            Some(Timestamp(34_000))
        );
        assert_eq!(book.statuses(Timestamp(33_999))[&1], Status::Reconnecting);
        assert_eq!(book.statuses(Timestamp(34_000))[&1], Status::Gone);
        assert_eq!(book.next_change_at(Timestamp(34_000)), None);
        book.seen(seen(1, true), Timestamp(40_000));
        assert_eq!(book.statuses(Timestamp(40_000))[&1], Status::Connected);
    }

    #[test]
    fn only_changes_are_published() {
        let mut book = Presence::new(GRACE);
        assert!(book.changed(Timestamp(0)).is_none(), "nothing to say");
        book.seen(seen(1, true), Timestamp(0));
        book.seen(seen(2, true), Timestamp(0));
        assert_eq!(book.changed(Timestamp(0)).map(|m| m.len()), Some(2));
        // A reload: closed and open again within one window shows nothing new.
        book.seen(seen(1, false), Timestamp(10));
        book.seen(seen(1, true), Timestamp(20));
        assert!(book.changed(Timestamp(500)).is_none());
        book.seen(seen(2, false), Timestamp(600));
        let only_2 = BTreeMap::from([(2, Status::Reconnecting)]);
        assert_eq!(
            book.changed(Timestamp(1_000)),
            Some(only_2),
            "only who changed, not the whole book"
        );
        assert!(book.changed(Timestamp(2_000)).is_none());
        assert_eq!(
            book.changed(Timestamp(31_000)),
            Some(BTreeMap::from([(2, Status::Gone)]))
        );
        // The whole book is still there for a moderator who connects.
        assert_eq!(book.statuses(Timestamp(31_000)).len(), 2);
    }

    #[test]
    fn a_close_never_counts_below_zero() {
        let mut book = Presence::new(GRACE);
        book.seen(seen(7, false), Timestamp(0));
        book.seen(seen(7, true), Timestamp(1));
        assert_eq!(book.statuses(Timestamp(1))[&7], Status::Connected);
    }

    #[test]
    fn the_next_change_is_the_soonest_still_reconnecting_and_forgets_who_came_back() {
        let mut book = Presence::new(GRACE);
        for p in 1..=3 {
            book.seen(seen(p, true), Timestamp(0));
        }
        book.seen(seen(1, false), Timestamp(1_000));
        book.seen(seen(2, false), Timestamp(2_000));
        book.seen(seen(3, false), Timestamp(3_000));
        assert_eq!(
            book.next_change_at(Timestamp(3_000)),
            Some(Timestamp(31_000))
        );
        book.seen(seen(1, true), Timestamp(4_000)); // back
        assert_eq!(
            book.next_change_at(Timestamp(4_000)),
            Some(Timestamp(32_000))
        );
        assert_eq!(
            book.next_change_at(Timestamp(32_000)),
            Some(Timestamp(33_000))
        );
        assert!(book.changed(Timestamp(40_000)).is_some());
        assert_eq!(
            book.next_change_at(Timestamp(40_000)),
            None,
            "both gone now"
        );
    }
}
