//! Requests: one entry in the queue, from raise to done.

use serde::{Deserialize, Serialize};

use super::{ParticipantId, Side, Timestamp};

/// A request's number within its session, assigned in order from zero.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(transparent)]
pub struct RequestId(pub u32);

/// What the participant asks the floor for.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// A statement (the default).
    Intervention,
    /// A question to the panel.
    Question,
    /// A direct reply to the current speaker; goes ahead of ordinary requests.
    DirectReply,
    /// A procedural point; goes ahead of everything.
    PointOfOrder,
    /// A written intervention the online moderator reads out.
    TextIntervention,
}

impl RequestKind {
    /// Every kind, in a stable order (for per-kind tables).
    pub const ALL: [RequestKind; 5] = [
        RequestKind::Intervention,
        RequestKind::Question,
        RequestKind::DirectReply,
        RequestKind::PointOfOrder,
        RequestKind::TextIntervention,
    ];
}

/// How a request got into the queue.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// The participant raised their own hand.
    #[serde(rename = "self")]
    SelfRaised,
    /// The chair added someone in the room who has no device.
    ChairProxy,
    /// The online moderator entered it for a remote person (from the meeting chat, say).
    Relay,
    /// A prepared speaker of the current agenda item's roster.
    Roster,
}

/// Why a request was parked, when it was not the person's own "decline for now".
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ParkReason {
    /// The online moderator could not get the remote speaker's audio to work.
    AudioFailed,
}

/// Where a request is in its life.
#[derive(
    schemars::JsonSchema,
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RequestState {
    /// In the queue.
    Waiting,
    /// In the queue, and marked ready (a remote speaker whose audio was checked).
    Ready,
    /// Set aside by the participant ("decline for now"); can be rejoined.
    Parked,
    /// Has the floor.
    Speaking,
    /// Spoke; the turn is over.
    Done,
    /// Lowered by the participant.
    Withdrawn,
    /// Removed by a moderator (or cleared with an agenda item).
    Removed,
}

impl RequestState {
    /// Whether the request stands in the queue (waiting or ready).
    pub const fn is_queued(self) -> bool {
        matches!(self, RequestState::Waiting | RequestState::Ready)
    }

    /// Whether the request still belongs to its participant as their one open request.
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            RequestState::Waiting
                | RequestState::Ready
                | RequestState::Parked
                | RequestState::Speaking
        )
    }
}

/// Priority bands, highest first. They sit on top of every ordering policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    /// Points of order.
    PointOfOrder,
    /// Direct replies to the current speaker.
    DirectReply,
    /// The agenda item's prepared speakers, in roster order.
    Roster,
    /// Everything else, ordered by the session's policy.
    Normal,
}

/// A moderator's pin: the entry stays at `position` (zero-based) until served or moved again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    /// Zero-based position the entry is held at.
    pub position: u32,
    /// Pin order; among pins at the same position the newest goes first.
    pub seq: u64,
    /// The moderator's role who placed it.
    pub by: super::Actor,
    /// Their optional reason, shown beside the entry.
    pub reason: Option<String>,
}

/// One entry in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Its number in the session.
    pub id: RequestId,
    /// Whose request it is.
    pub participant: ParticipantId,
    /// What they ask for.
    pub kind: RequestKind,
    /// Optional short note (for a text intervention: the text).
    pub note: Option<String>,
    /// How it got into the queue.
    pub origin: Origin,
    /// The participant's side when the request was made.
    pub side: Side,
    /// Server time of the first raise.
    pub requested_at: Timestamp,
    /// Server time it last entered the queue (raise or rejoin).
    pub queued_at: Timestamp,
    /// Arrival counter of its last entry into the queue; breaks every tie in server order.
    pub arrival: u64,
    /// 0 for a first-time speaker under `first_time_first`, 1 otherwise.
    pub tier: u8,
    /// Where it is in its life.
    pub state: RequestState,
    /// A moderator's pin, if any.
    pub pin: Option<Pin>,
    /// Why it is parked, when a moderator parked it (none: the person declined, or not parked).
    pub parked_for: Option<ParkReason>,
    /// The agenda item current when it was raised.
    pub item: Option<u32>,
}

impl Request {
    /// The priority band this request sits in.
    pub fn band(&self) -> Band {
        match self.kind {
            RequestKind::PointOfOrder => Band::PointOfOrder,
            RequestKind::DirectReply => Band::DirectReply,
            _ if self.origin == Origin::Roster => Band::Roster,
            _ => Band::Normal,
        }
    }

    /// Whether granting it needs the online moderator's "ready" first: a remote speaker whose
    /// audio has to be checked. Text interventions, and anything the online moderator relayed
    /// from the chat, are read out by the online moderator: no audio to check, and no override.
    pub fn needs_ready(&self) -> bool {
        self.side == Side::Remote
            && self.kind != RequestKind::TextIntervention
            && self.origin != Origin::Relay
            && self.state != RequestState::Ready
    }
}
