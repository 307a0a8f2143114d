//! Events: facts, in the past tense. The log of a session is its events in order; the queue is
//! what they fold into (see [`State::apply`](super::State::apply)).

use serde::{Deserialize, Serialize};

use super::{
    Actor, AgendaItem, Control, Ending, Grant, LinkId, Origin, ParkReason, ParticipantId, Policy,
    Profile, RequestId, RequestKind, TimeLimits, Timestamp, TurnId,
};

/// One fact with its server time and the actor it is attributed to.
///
/// Its serde form (nested, the fact externally tagged) is the stored form, chosen because it
/// decodes without buffering; the wire and the exports show events flat, with a `type` (see
/// `protocol::event_json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Server time.
    pub at: Timestamp,
    /// Who did it.
    pub actor: Actor,
    /// What happened.
    pub fact: Fact,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[allow(missing_docs)] // field names say it; each variant is documented
pub enum Fact {
    /// The session was opened.
    SessionOpened {
        title: String,
        policy: Policy,
        limits: TimeLimits,
    },
    /// Someone joined (or was registered by a moderator).
    ParticipantJoined {
        participant: ParticipantId,
        profile: Profile,
    },
    /// A profile changed.
    ProfileUpdated {
        participant: ParticipantId,
        profile: Profile,
    },
    /// A request entered the queue.
    HandRaised {
        request: RequestId,
        participant: ParticipantId,
        kind: RequestKind,
        note: Option<String>,
        origin: Origin,
    },
    /// A request's kind or note changed.
    RequestChanged {
        request: RequestId,
        kind: RequestKind,
        note: Option<String>,
    },
    /// A request was withdrawn by its participant.
    HandLowered { request: RequestId },
    /// A request was parked ("decline for now").
    RequestParked {
        request: RequestId,
        /// Why a moderator parked it; none when the person declined for now.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<ParkReason>,
    },
    /// A parked request went back in the queue, at the back.
    RequestRejoined { request: RequestId },
    /// A request was marked ready or not ready.
    ReadyMarked { request: RequestId, ready: bool },
    /// The floor was given.
    FloorGranted {
        turn: TurnId,
        request: RequestId,
        limit_ms: u64,
        grant: Grant,
        forced: bool,
        /// The moderator's reason, for an override (a chosen entry, or a forced grant).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A turn ended.
    TurnEnded { turn: TurnId, ending: Ending },
    /// The speaker's clock was paused.
    ClockPaused { turn: TurnId },
    /// The speaker's clock was restarted.
    ClockResumed { turn: TurnId },
    /// The speaker got more time.
    TurnExtended { turn: TurnId, by_ms: u64 },
    /// A moderator put the text being read out on the room's screens, or took it off.
    TextShown { turn: TurnId, shown: bool },
    /// A moderator moved an entry (one-based positions); it is pinned there.
    RequestMoved {
        request: RequestId,
        from: u32,
        to: u32,
        reason: Option<String>,
    },
    /// A moderator removed an entry.
    RequestRemoved {
        request: RequestId,
        reason: Option<String>,
    },
    /// A moderator put the last speaker back at the top, as a new request.
    SpeakerReadded {
        request: RequestId,
        participant: ParticipantId,
        kind: RequestKind,
        origin: Origin,
        reason: Option<String>,
    },
    /// The list was closed to new requests.
    ListClosed,
    /// The list was reopened.
    ListReopened,
    /// The ordering policy changed.
    PolicyChanged { policy: Policy },
    /// The time limits changed.
    TimeLimitsChanged { limits: TimeLimits },
    /// The online moderator's floor scope changed.
    ModeratorScopeChanged { remote_only: bool },
    /// The agenda was replaced.
    AgendaSet { items: Vec<AgendaItem> },
    /// The session moved to agenda item `item` (zero-based); `cleared` lists the requests
    /// removed when the queue was not carried over.
    AgendaAdvanced { item: u32, cleared: Vec<RequestId> },
    /// A link was shared.
    LinkPosted {
        link: LinkId,
        title: String,
        url: String,
    },
    /// A shared link was taken down.
    LinkRemoved { link: LinkId },
    /// A session control was turned on or off.
    ControlSet { control: Control, on: bool },
    /// A participant was removed from the session (their open request is closed by the events
    /// before this one).
    ParticipantRemoved {
        participant: ParticipantId,
        reason: Option<String>,
    },
    /// Every role link was invalidated.
    KeysRotated,
    /// The session ended.
    SessionEnded,
    /// The report's key takeaways were written.
    TakeawaysSet { text: String },
}
