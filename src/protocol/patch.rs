//! The [`Patch`] that moves a client's view from one change to the next. The order of the queue
//! arrives ready-made, as an [`OrderPatch`] that names only what moved: a grant in a 500-entry
//! queue sends one removal, not 500 entries.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::view::{FloorView, RequestView, SessionView, Slot, Who};
use crate::queue::{Modality, Origin, ParkReason, Reason, RequestKind, RequestState, Timestamp};

/// Changes from one view to the next. Absent fields did not change.
#[derive(schemars::JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    /// The settings, when they changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<SessionView>,
    /// Requests opened (whole, less the fields at their defaults) or changed (`id` and the
    /// fields that changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requests: Vec<RequestPatch>,
    /// Requests no longer open (done, withdrawn, removed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<u32>,
    /// The floor, when it changed (`null`: nobody has it).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub floor: Option<Option<FloorView>>,
    /// How the queue's order changed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<OrderPatch>,
    /// The fairness tallies' fields that changed, by modality (moderators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<BTreeMap<Modality, Fields>>,
    /// The remote questions' counts that changed (moderators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<Fields>,
}

/// Some numeric fields of a record, by name: the ones that changed.
pub type Fields = BTreeMap<String, u64>;

/// The numeric fields of `new` that differ from `old`'s (all of them, without `old`).
pub fn changed_fields<T: Serialize>(old: Option<&T>, new: &T) -> Fields {
    let as_map = |t: &T| match serde_json::to_value(t) {
        Ok(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let old = old.map(as_map).unwrap_or_default();
    as_map(new)
        .into_iter()
        .filter(|(k, v)| old.get(k) != Some(v))
        .filter_map(|(k, v)| v.as_u64().map(|n| (k, n)))
        .collect()
}

/// `old` with `fields` replaced.
pub fn with_fields<T: Serialize + DeserializeOwned>(
    old: &T,
    fields: &Fields,
) -> Result<T, &'static str> {
    let mut v = serde_json::to_value(old).map_err(|_| "a record that does not serialize")?;
    if let Value::Object(m) = &mut v {
        for (k, n) in fields {
            m.insert(k.clone(), (*n).into());
        }
    }
    serde_json::from_value(v).map_err(|_| "a field patch that does not fit its record")
}

/// One request's change. For a request the client does not hold (a new one) absent fields take
/// their defaults: `origin` `"self"`, `state` `"waiting"`, `queued_at` equal to `requested_at`,
/// `item` the session's current item (after this patch's `session`), `note` and `parked` `null`,
/// `requested_at` the update's `server_time`; `participant`, `who` and `kind` are always sent.
/// For a request the client holds, absent fields did not change.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestPatch {
    /// Request id.
    pub id: u32,
    /// Participant id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub participant: Option<u32>,
    /// Who asks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub who: Option<Who>,
    /// Kind of request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RequestKind>,
    /// The note (moderators only; `null`: none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub note: Option<Option<String>>,
    /// How it arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// Its state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<RequestState>,
    /// First raised, server ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<Timestamp>,
    /// Last entered the queue, server ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_at: Option<Timestamp>,
    /// Agenda item at the raise (`null`: none).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub item: Option<Option<u32>>,
    /// Why a moderator parked it (`null`: not parked by a moderator).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "present"
    )]
    pub parked: Option<Option<ParkReason>>,
}

/// `new` where it differs from `old`.
fn changed<T: PartialEq + Clone>(old: &T, new: &T) -> Option<T> {
    (old != new).then(|| new.clone())
}

/// `new` unless it is `default`.
fn unless<T: PartialEq>(new: T, default: &T) -> Option<T> {
    (new != *default).then_some(new)
}

impl RequestPatch {
    /// The patch from `old` (`None`: the client does not hold it) to `new`; `None` when nothing
    /// changed.
    pub fn diff(
        old: Option<&RequestView>,
        new: &RequestView,
        (current_item, now): (Option<u32>, Timestamp),
    ) -> Option<Self> {
        let Some(old) = old else {
            return Some(RequestPatch {
                id: new.id,
                participant: Some(new.participant),
                who: Some(new.who.clone()),
                kind: Some(new.kind),
                note: unless(new.note.clone(), &None),
                origin: unless(new.origin, &Origin::SelfRaised),
                state: unless(new.state, &RequestState::Waiting),
                requested_at: unless(new.requested_at, &now),
                queued_at: unless(new.queued_at, &new.requested_at),
                item: unless(new.item, &current_item),
                parked: unless(new.parked, &None),
            });
        };
        let patch = RequestPatch {
            id: new.id,
            participant: changed(&old.participant, &new.participant),
            who: changed(&old.who, &new.who),
            kind: changed(&old.kind, &new.kind),
            note: changed(&old.note, &new.note),
            origin: changed(&old.origin, &new.origin),
            state: changed(&old.state, &new.state),
            requested_at: changed(&old.requested_at, &new.requested_at),
            queued_at: changed(&old.queued_at, &new.queued_at),
            item: changed(&old.item, &new.item),
            parked: changed(&old.parked, &new.parked),
        };
        (patch
            != RequestPatch {
                id: new.id,
                ..RequestPatch::unchanged()
            })
        .then_some(patch)
    }

    /// A patch that changes nothing (but its `id`).
    pub fn unchanged() -> Self {
        RequestPatch {
            id: 0,
            participant: None,
            who: None,
            kind: None,
            note: None,
            origin: None,
            state: None,
            requested_at: None,
            queued_at: None,
            item: None,
            parked: None,
        }
    }

    /// The request after this patch, from `old` (`None`: a new one, from the defaults).
    pub fn apply(
        &self,
        old: Option<&RequestView>,
        (current_item, now): (Option<u32>, Timestamp),
    ) -> Result<RequestView, &'static str> {
        let p = self.clone();
        Ok(match old {
            Some(old) => RequestView {
                id: self.id,
                participant: p.participant.unwrap_or(old.participant),
                who: p.who.unwrap_or_else(|| old.who.clone()),
                kind: p.kind.unwrap_or(old.kind),
                note: p.note.unwrap_or_else(|| old.note.clone()),
                origin: p.origin.unwrap_or(old.origin),
                state: p.state.unwrap_or(old.state),
                requested_at: p.requested_at.unwrap_or(old.requested_at),
                queued_at: p.queued_at.unwrap_or(old.queued_at),
                item: p.item.unwrap_or(old.item),
                parked: p.parked.unwrap_or(old.parked),
            },
            None => {
                let requested_at = p.requested_at.unwrap_or(now);
                RequestView {
                    id: self.id,
                    participant: p.participant.ok_or("a new request without participant")?,
                    who: p.who.ok_or("a new request without who")?,
                    kind: p.kind.ok_or("a new request without kind")?,
                    note: p.note.flatten(),
                    origin: p.origin.unwrap_or(Origin::SelfRaised),
                    state: p.state.unwrap_or(RequestState::Waiting),
                    requested_at,
                    queued_at: p.queued_at.unwrap_or(requested_at),
                    item: p.item.unwrap_or(current_item),
                    parked: p.parked.flatten(),
                }
            }
        })
    }
}

/// A field that is present (even as `null`) deserializes to `Some`.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

impl Patch {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.session.is_none()
            && self.requests.is_empty()
            && self.closed.is_empty()
            && self.floor.is_none()
            && self.order.is_none()
    }
}

/// How the queue's order changed: remove `remove`, then insert each of `insert` at its index in
/// ascending order, then update `reasons`. The result has `len` entries.
#[derive(schemars::JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPatch {
    /// Requests to take out (gone, or moved).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub remove: Vec<u32>,
    /// `(index, slot)` to insert, ascending by index. On the wire a slot whose reason is
    /// `arrival` is just its request id: `[3, 7]` is `[3, {"request": 7, "reason": "arrival"}]`.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "compact::serialize",
        deserialize_with = "compact::deserialize"
    )]
    #[schemars(with = "Vec<(u32, compact::WireSlot)>")]
    pub insert: Vec<(u32, Slot)>,
    /// Entries that kept their place but changed reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Slot>,
    /// The queue's length afterwards (a check).
    pub len: u32,
}

impl OrderPatch {
    /// Whether the order did not change.
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty() && self.insert.is_empty() && self.reasons.is_empty()
    }

    /// The smallest patch from `old` to `new`: entries on a longest run that kept its relative
    /// order stay put; everything else is removed and reinserted.
    pub fn diff(old: &[Slot], new: &[Slot]) -> Self {
        let at_new: HashMap<u32, usize> = new
            .iter()
            .enumerate()
            .map(|(i, s)| (s.request, i))
            .collect();
        let survivors: Vec<(usize, u32)> = old
            .iter()
            .filter_map(|s| at_new.get(&s.request).map(|&j| (j, s.request)))
            .collect();
        let keep: HashSet<u32> = longest_increasing(&survivors).into_iter().collect();
        let old_reason: HashMap<u32, &Reason> =
            old.iter().map(|s| (s.request, &s.reason)).collect();
        OrderPatch {
            remove: old
                .iter()
                .map(|s| s.request)
                .filter(|r| !keep.contains(r))
                .collect(),
            insert: new
                .iter()
                .enumerate()
                .filter(|(_, s)| !keep.contains(&s.request))
                .map(|(i, s)| (u32::try_from(i).unwrap_or(u32::MAX), s.clone()))
                .collect(),
            reasons: new
                .iter()
                .filter(|s| {
                    keep.contains(&s.request) && old_reason.get(&s.request) != Some(&&s.reason)
                })
                .cloned()
                .collect(),
            len: u32::try_from(new.len()).unwrap_or(u32::MAX),
        }
    }

    /// Apply to a queue; an error means it has diverged.
    pub fn apply(&self, queue: &mut Vec<Slot>) -> Result<(), &'static str> {
        if !self.remove.is_empty() {
            let gone: HashSet<u32> = self.remove.iter().copied().collect();
            queue.retain(|s| !gone.contains(&s.request));
        }
        for (i, slot) in &self.insert {
            let i = *i as usize;
            if i > queue.len() {
                return Err("order patch inserts past the end");
            }
            queue.insert(i, slot.clone());
        }
        for slot in &self.reasons {
            let s = queue
                .iter_mut()
                .find(|s| s.request == slot.request)
                .ok_or("order patch names an unknown entry")?;
            s.reason = slot.reason.clone();
        }
        if queue.len() == self.len as usize {
            Ok(())
        } else {
            Err("order patch length mismatch")
        }
    }
}

/// Inserted slots on the wire: an arrival as its bare request id, any other reason whole.
mod compact {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::{Reason, Slot};

    /// A slot as an order patch's `insert` carries it.
    #[derive(schemars::JsonSchema, Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum WireSlot {
        /// A request that stands where it arrived.
        Arrival(u32),
        /// Any other slot, whole.
        Slot(Slot),
    }

    #[allow(clippy::ptr_arg)] // serde's serialize_with passes the field
    pub fn serialize<S: Serializer>(v: &Vec<(u32, Slot)>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(v.iter().map(|(i, slot)| {
            let wire = match slot.reason {
                Reason::Arrival => WireSlot::Arrival(slot.request),
                _ => WireSlot::Slot(slot.clone()),
            };
            (*i, wire)
        }))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(u32, Slot)>, D::Error> {
        let wire: Vec<(u32, WireSlot)> = Vec::deserialize(d)?;
        Ok(wire
            .into_iter()
            .map(|(i, w)| match w {
                WireSlot::Arrival(request) => (
                    i,
                    Slot {
                        request,
                        reason: Reason::Arrival,
                    },
                ),
                WireSlot::Slot(slot) => (i, slot),
            })
            .collect())
    }
}

/// The ids on a longest strictly increasing run of `(index, id)` by index (patience sorting).
fn longest_increasing(seq: &[(usize, u32)]) -> Vec<u32> {
    let mut tails: Vec<usize> = Vec::new(); // positions in seq ending a run of each length
    let mut prev: Vec<Option<usize>> = vec![None; seq.len()];
    for (i, &(v, _)) in seq.iter().enumerate() {
        let k = tails.partition_point(|&t| seq[t].0 < v);
        prev[i] = k.checked_sub(1).map(|k| tails[k]);
        if k == tails.len() {
            tails.push(i);
        } else {
            tails[k] = i;
        }
    }
    let mut out = Vec::with_capacity(tails.len());
    let mut at = tails.last().copied();
    while let Some(i) = at {
        out.push(seq[i].1);
        at = prev[i];
    }
    out.reverse();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn q(ids: &[u32]) -> Vec<Slot> {
        ids.iter()
            .map(|&request| Slot {
                request,
                reason: Reason::Arrival,
            })
            .collect()
    }

    #[test]
    fn common_changes_make_small_patches() {
        let old = q(&[1, 2, 3, 4, 5]);
        let granted = OrderPatch::diff(&old, &q(&[2, 3, 4, 5]));
        assert_eq!(
            (granted.remove.as_slice(), granted.insert.len()),
            (&[1][..], 0)
        );
        let raised = OrderPatch::diff(&old, &q(&[1, 2, 3, 4, 5, 6]));
        assert_eq!((raised.remove.len(), raised.insert.len()), (0, 1));
        let moved = OrderPatch::diff(&old, &q(&[5, 1, 2, 3, 4]));
        assert_eq!(moved.remove, [5]);
        assert_eq!(moved.insert.len(), 1);
    }

    proptest! {
        #[test]
        fn a_patch_turns_old_into_new(
            old in prop::sample::subsequence((0..40u32).collect::<Vec<_>>(), 0..40).prop_shuffle(),
            new in prop::sample::subsequence((0..40u32).collect::<Vec<_>>(), 0..40).prop_shuffle(),
            starved in prop::collection::vec(any::<bool>(), 40),
        ) {
            let old = q(&old);
            let new: Vec<Slot> = new.iter().map(|&request| Slot {
                request,
                reason: if starved[request as usize] { Reason::Starved { waited_ms: 1 } } else { Reason::Arrival },
            }).collect();
            let patch = OrderPatch::diff(&old, &new);
            let mut got = old.clone();
            prop_assert_eq!(patch.apply(&mut got), Ok(()));
            prop_assert_eq!(got, new);
        }
    }
}
