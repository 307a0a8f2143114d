//! The [`Patch`] that moves a client's view from one change to the next. The order of the queue
//! arrives ready-made, as an [`OrderPatch`] that names only what moved: a grant in a 500-entry
//! queue sends one removal, not 500 entries.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Deserializer, Serialize};

pub use super::fieldwise::{Fields, RequestPatch, changed_fields, with_fields};
use super::view::{FloorView, SessionView, Slot};
use crate::queue::{Modality, Reason};

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

/// A field that is present (even as `null`) deserializes to `Some`.
pub(super) fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
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
