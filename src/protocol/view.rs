//! The session as clients see it: a [`View`] built from the queue's state for one audience.
//!
//! Clients never run the queue's rules. They hold a `View` (from a snapshot) and apply patches
//! (from updates, `patch.rs`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::fieldwise::{is_one, is_zero, one};
use super::patch::{Patch, with_fields};
use super::tallies::{Fairness, RemoteCounts, fairness};

use crate::queue::{
    Controls, Modality, Origin, ParkReason, ParticipantId, Policy, Reason, RequestId, RequestKind,
    RequestState, StakeholderGroup, State, TimeLimits, Timestamp,
};

/// Who a view is for. Moderators see everything but self-declared gender (aggregate only);
/// participants, the display and the public view see no notes and no declared fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// The chair and the online moderator.
    Moderator,
    /// Participants, the display and the public view.
    Public,
}

/// A participant as shown beside their request.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Who {
    /// Display name.
    pub name: String,
    /// Country or organisation.
    pub affiliation: String,
    /// Onsite, online or hub.
    pub modality: Modality,
    /// People the entry speaks for (absent: 1).
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub head_count: u32,
    /// Stakeholder group (moderators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stakeholder: Option<StakeholderGroup>,
    /// Preferred language (moderators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// An open request (waiting, ready, parked or speaking).
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestView {
    /// Request id.
    pub id: u32,
    /// Participant id.
    pub participant: u32,
    /// Who asks.
    pub who: Who,
    /// Kind of request.
    pub kind: RequestKind,
    /// The note (moderators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// How it arrived.
    pub origin: Origin,
    /// Its state.
    pub state: RequestState,
    /// First raised, server ms.
    pub requested_at: Timestamp,
    /// Last entered the queue, server ms (waits count from here).
    pub queued_at: Timestamp,
    /// Agenda item at the raise.
    pub item: Option<u32>,
    /// Why a moderator parked it (`audio_failed`), when they did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parked: Option<ParkReason>,
}

/// One place in the queue; its position is its index plus one.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    /// Request id.
    pub request: u32,
    /// Why it stands there.
    #[serde(flatten)]
    pub reason: Reason,
}

/// The floor: who speaks and the clock as data.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FloorView {
    /// Turn id (moderators send it back as `seen`).
    pub turn: u32,
    /// Request id.
    pub request: u32,
    /// Participant id.
    pub participant: u32,
    /// Who speaks.
    pub who: Who,
    /// Kind of request.
    pub kind: RequestKind,
    /// Granted at, server ms.
    pub granted_at: Timestamp,
    /// Limit at the grant.
    pub limit_ms: u64,
    /// Added since (absent: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub extended_ms: u64,
    /// Paused since, if paused (absent: not paused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_at: Option<Timestamp>,
    /// Earlier pauses in all (absent: 0).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub paused_ms: u64,
    /// The text being read out, while a moderator shows it on the room's screens (to everyone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// A shared link.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkView {
    /// Link id.
    pub id: u32,
    /// What it is.
    pub title: String,
    /// Where.
    pub url: String,
}

/// Session-wide settings and lists: small, sent whole when any of it changes.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Title.
    pub title: String,
    /// Ordering policy.
    pub policy: Policy,
    /// Time limits.
    pub limits: TimeLimits,
    /// New requests accepted.
    pub list_open: bool,
    /// The online moderator runs the floor for remote speakers only (moderators only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderator_remote_only: Option<bool>,
    /// Agenda item titles.
    pub agenda: Vec<String>,
    /// Current agenda item.
    pub item: Option<u32>,
    /// Shared links.
    pub links: Vec<LinkView>,
    /// Lock, suspension, rename lock, and whether the session has ended.
    pub controls: Controls,
    /// The report's key takeaways, as the chair wrote them (moderators only here, left out when
    /// empty; the public reads them in the report).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub takeaways: String,
}

/// Everything a console shows, for one audience.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    /// Settings and lists.
    pub session: SessionView,
    /// Open requests by id.
    pub requests: BTreeMap<u32, RequestView>,
    /// The queue, first first.
    pub queue: Vec<Slot>,
    /// The floor.
    pub floor: Option<FloorView>,
    /// Moderators only: per modality, requests, turns, waits and speaking time so far (the
    /// fairness panel). Kept out of `session`, which changes rarely: this changes with most
    /// commands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fairness: Option<Fairness>,
    /// Moderators only: remote questions (questions and text interventions from online
    /// participants and hubs), for the online moderator. Kept out of `session` too: it changes
    /// with raises and grants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteCounts>,
}

fn who(s: &State, p: ParticipantId, audience: Audience) -> Who {
    let profile = &s.participants()[p.0 as usize].profile;
    let moderator = audience == Audience::Moderator;
    Who {
        name: profile.name.clone(),
        affiliation: profile.affiliation.clone(),
        modality: profile.modality,
        head_count: profile.head_count,
        stakeholder: profile.stakeholder.filter(|_| moderator),
        language: profile.language.clone().filter(|_| moderator),
    }
}

impl RequestView {
    /// The view of request `id`, if it is open.
    pub fn of(s: &State, id: RequestId, audience: Audience) -> Option<Self> {
        let r = s.request(id)?;
        r.state.is_open().then(|| RequestView {
            id: r.id.0,
            participant: r.participant.0,
            who: who(s, r.participant, audience),
            kind: r.kind,
            note: r.note.clone().filter(|_| audience == Audience::Moderator),
            origin: r.origin,
            state: r.state,
            requested_at: r.requested_at,
            queued_at: r.queued_at,
            item: r.item,
            parked: r.parked_for,
        })
    }
}

impl FloorView {
    /// The floor now.
    pub fn of(s: &State, audience: Audience) -> Option<Self> {
        s.floor().map(|t| FloorView {
            turn: t.id.0,
            request: t.request.0,
            participant: t.participant.0,
            who: who(s, t.participant, audience),
            kind: t.kind,
            granted_at: t.granted_at,
            limit_ms: t.limit_ms,
            extended_ms: t.extended_ms,
            paused_at: t.paused_at,
            paused_ms: t.paused_ms,
            text: t
                .text_shown
                .then(|| s.request(t.request).and_then(|r| r.note.clone()))
                .flatten(),
        })
    }
}

impl SessionView {
    /// The settings now, for `audience` (the public is not sent what no public page shows: the
    /// online moderator's scope and the takeaways, so changing them sends it nothing).
    pub fn of(s: &State, audience: Audience) -> Self {
        let moderator = audience == Audience::Moderator;
        SessionView {
            title: s.title().to_owned(),
            policy: s.policy(),
            limits: s.limits().clone(),
            list_open: s.list_open(),
            moderator_remote_only: moderator.then(|| s.moderator_remote_only()),
            agenda: s.agenda().iter().map(|i| i.title.clone()).collect(),
            item: s.current_item(),
            links: s
                .links()
                .iter()
                .map(|l| LinkView {
                    id: l.id.0,
                    title: l.title.clone(),
                    url: l.url.clone(),
                })
                .collect(),
            controls: s.controls(),
            takeaways: if moderator {
                s.takeaways().to_owned()
            } else {
                String::new()
            },
        }
    }
}

/// The queue at `now` as slots.
pub fn slots(s: &State, now: Timestamp) -> Vec<Slot> {
    s.queue(now)
        .into_iter()
        .map(|e| Slot {
            request: e.request.0,
            reason: e.reason,
        })
        .collect()
}

impl View {
    /// The whole view of `s` at `now` for `audience`.
    pub fn of(s: &State, audience: Audience, now: Timestamp) -> Self {
        View {
            session: SessionView::of(s, audience),
            requests: s
                .requests()
                .iter()
                .filter_map(|r| RequestView::of(s, r.id, audience))
                .map(|r| (r.id, r))
                .collect(),
            queue: slots(s, now),
            floor: FloorView::of(s, audience),
            fairness: fairness(s, audience),
            remote: (audience == Audience::Moderator).then(|| RemoteCounts::of(s)),
        }
    }

    /// Apply the patch of an update sent at `server_time`; an error means the view has
    /// diverged and needs a fresh snapshot.
    pub fn apply(&mut self, patch: &Patch, server_time: Timestamp) -> Result<(), &'static str> {
        if let Some(session) = &patch.session {
            self.session = session.clone();
        }
        for id in &patch.closed {
            self.requests.remove(id);
        }
        for r in &patch.requests {
            let next = r.apply(self.requests.get(&r.id), (self.session.item, server_time))?;
            self.requests.insert(r.id, next);
        }
        if let Some(floor) = &patch.floor {
            self.floor = floor.clone();
            // The floor's request is speaking, out of the queue: the patch does not say so.
            if let Some(f) = floor {
                if let Some(r) = self.requests.get_mut(&f.request) {
                    r.state = RequestState::Speaking;
                }
                self.queue.retain(|s| s.request != f.request);
            }
        }
        if let Some(f) = &patch.fairness {
            let tallies = self.fairness.get_or_insert_with(Fairness::new);
            for (m, fields) in f {
                let old = tallies.get(m).cloned().unwrap_or_default();
                tallies.insert(*m, with_fields(&old, fields)?);
            }
        }
        if let Some(fields) = &patch.remote {
            let old = self.remote.unwrap_or_default();
            self.remote = Some(with_fields(&old, fields)?);
        }
        match &patch.order {
            Some(order) => order.apply(&mut self.queue),
            None => Ok(()),
        }
    }
}
