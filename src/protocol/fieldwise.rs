//! Field by field: what an update leaves out. A request's patch names what changed (or, for a
//! new request, all but the fields at their documented defaults); the moderators' tallies and
//! counts send only the numbers that changed; and the wire leaves out a person's `head_count`
//! of 1 and the floor clock's zeros.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::patch::present;
use super::view::{RequestView, Who};
use crate::queue::{Origin, ParkReason, RequestKind, RequestState, Timestamp};

pub(super) fn one() -> u32 {
    1
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
pub(super) fn is_one(n: &u32) -> bool {
    *n == 1
}

#[allow(clippy::trivially_copy_pass_by_ref)]
pub(super) fn is_zero(n: &u64) -> bool {
    *n == 0
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
