//! Commands: what someone asks the session to do. Each is decided against the current state
//! (see [`decide`](super::decide)) into events, or refused with a [`Refusal`](super::Refusal).

use serde::{Deserialize, Serialize};

use super::{
    AgendaItem, Control, LinkId, ParticipantId, Policy, Profile, RequestId, RequestKind,
    TimeLimits, TurnId,
};

/// Who issues a command. Moderators act through their role's console; participants act as
/// themselves. Every event records its actor, so every change is attributed.
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
#[serde(tag = "role", content = "participant", rename_all = "snake_case")]
pub enum Actor {
    /// The organizer (the admin API): may do whatever the chair may.
    Organizer,
    /// The onsite moderator.
    Chair,
    /// The online moderator.
    OnlineModerator,
    /// A participant, as themselves.
    Participant(ParticipantId),
    /// Someone holding a participant link who has not joined yet: may only join.
    Newcomer,
}

impl Actor {
    /// Whether the actor moderates (chair, online moderator or organizer).
    pub const fn is_moderator(self) -> bool {
        matches!(
            self,
            Actor::Organizer | Actor::Chair | Actor::OnlineModerator
        )
    }

    /// Whether the actor has the chair's powers (the chair or the organizer).
    pub const fn is_chair(self) -> bool {
        matches!(self, Actor::Organizer | Actor::Chair)
    }
}

/// What a moderator saw on the floor when they clicked. A floor command whose view is stale
/// (someone else granted or ended meanwhile) is refused with `conflict`, never applied twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "floor", content = "turn", rename_all = "snake_case")]
pub enum FloorSeen {
    /// Do not check (scripts, the organizer API).
    Any,
    /// Nobody had the floor.
    Empty,
    /// This turn had the floor.
    Turn(TurnId),
}

/// Whom to give the floor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "to", content = "request", rename_all = "snake_case")]
pub enum Target {
    /// The head of the queue.
    Next,
    /// A chosen entry ("grant this").
    Request(RequestId),
}

/// Everything the queue can be asked to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Open the session (first command of every session; organizer).
    OpenSession {
        /// The session's title.
        title: String,
        /// Its ordering policy.
        policy: Policy,
        /// Its time limits.
        limits: TimeLimits,
        /// Its agenda; the first item starts at once.
        agenda: Vec<AgendaItem>,
    },
    /// Join the session (a newcomer as themselves, or a moderator registering someone).
    Join {
        /// Who joins.
        profile: Profile,
    },
    /// Change a participant's name, affiliation or declared fields (not their modality).
    UpdateProfile {
        /// Whose profile.
        participant: ParticipantId,
        /// The new profile.
        profile: Profile,
    },
    /// Ask for the floor: a participant for themselves, or a moderator for someone by proxy.
    RaiseHand {
        /// For whom.
        participant: ParticipantId,
        /// What kind of request.
        kind: RequestKind,
        /// Optional short note (the text, for a text intervention).
        note: Option<String>,
    },
    /// Add someone without a device (chair) or a remote person from the chat (online moderator):
    /// registers them and raises their hand at once.
    AddProxy {
        /// Who.
        profile: Profile,
        /// What kind of request.
        kind: RequestKind,
        /// Optional note (the text, for a relayed text intervention).
        note: Option<String>,
    },
    /// Change a waiting or parked request's kind or note; it keeps its arrival.
    ChangeRequest {
        /// Which request.
        request: RequestId,
        /// The new kind.
        kind: RequestKind,
        /// The new note.
        note: Option<String>,
    },
    /// Withdraw a waiting or parked request ("lower hand").
    LowerHand {
        /// Which request.
        request: RequestId,
    },
    /// Park a waiting request ("decline for now"); it can be rejoined.
    DeclineForNow {
        /// Which request.
        request: RequestId,
    },
    /// The online moderator could not get a remote speaker's audio to work: park their request
    /// (they are told why, and can rejoin once it works).
    AudioFailed {
        /// Which request.
        request: RequestId,
    },
    /// Put a parked request back in the queue, at the back.
    Rejoin {
        /// Which request.
        request: RequestId,
    },
    /// Mark a queued request ready (a remote speaker's audio checked) or not.
    MarkReady {
        /// Which request.
        request: RequestId,
        /// Ready or not.
        ready: bool,
    },
    /// Give the floor; whoever has it now is ended ("next speaker, please").
    GrantFloor {
        /// Whom.
        target: Target,
        /// Grant even though a remote speaker is not marked ready.
        force: bool,
        /// What the moderator saw on the floor.
        seen: FloorSeen,
        /// Why, when this is an override: reported with the other overrides.
        reason: Option<String>,
    },
    /// End the current turn.
    EndTurn {
        /// What the moderator saw on the floor.
        seen: FloorSeen,
    },
    /// The speaker says "I'm done".
    Yield,
    /// Stop the speaker's clock.
    PauseClock {
        /// What the moderator saw on the floor.
        seen: FloorSeen,
    },
    /// Restart the speaker's clock.
    ResumeClock {
        /// What the moderator saw on the floor.
        seen: FloorSeen,
    },
    /// Give the speaker more time.
    ExtendTurn {
        /// How much more.
        by_ms: u64,
        /// What the moderator saw on the floor.
        seen: FloorSeen,
    },
    /// Show the text being read out (a text intervention, or a relay from the chat) on the
    /// display and the public view, or stop showing it.
    ShowText {
        /// Show or hide.
        shown: bool,
        /// What the moderator saw on the floor.
        seen: FloorSeen,
    },
    /// Move a queued entry to a one-based position (1 is the top); it is pinned there.
    Move {
        /// Which request.
        request: RequestId,
        /// Where, one-based; past the end means last.
        position: u32,
        /// Why.
        reason: Option<String>,
    },
    /// Remove a waiting or parked entry.
    Remove {
        /// Which request.
        request: RequestId,
        /// Why.
        reason: Option<String>,
    },
    /// Put the last speaker back at the top of the queue.
    ReaddLastSpeaker {
        /// Why.
        reason: Option<String>,
    },
    /// Close the list to new requests. With remote requests waiting, `confirm` must be set.
    CloseList {
        /// The chair confirmed closing while remote requests wait.
        confirm: bool,
    },
    /// Reopen the list.
    ReopenList,
    /// Change the ordering policy.
    SetPolicy {
        /// The new policy.
        policy: Policy,
    },
    /// Change the time limits (for turns granted from now on).
    SetTimeLimits {
        /// The new limits.
        limits: TimeLimits,
    },
    /// Let the online moderator manage the floor for remote speakers only (or for all).
    SetModeratorScope {
        /// Remote speakers only.
        remote_only: bool,
    },
    /// Replace the agenda.
    SetAgenda {
        /// The items.
        items: Vec<AgendaItem>,
    },
    /// Move to the next agenda item, carrying the queue over or clearing it.
    AdvanceAgenda {
        /// Keep the waiting requests.
        carry_over: bool,
    },
    /// Share a link with everyone.
    PostLink {
        /// What it is.
        title: String,
        /// Where (http or https).
        url: String,
    },
    /// Take a shared link down.
    RemoveLink {
        /// Which link.
        link: LinkId,
    },
    /// Turn a session control on or off (lock, suspend, rename lock).
    SetControl {
        /// Which control.
        control: Control,
        /// On or off.
        on: bool,
    },
    /// Remove a participant: their open request is removed (their turn ended, if speaking) and
    /// their link stops working.
    RemoveParticipant {
        /// Whom.
        participant: ParticipantId,
        /// Why.
        reason: Option<String>,
    },
    /// Remove, at once, participants who joined by themselves and never raised a hand: a join
    /// flood's aftermath. Those who joined at or after `since` (everyone, without it), at most
    /// [`PURGE_MAX`](crate::queue::PURGE_MAX) a command (send it again for more). Each removal
    /// is an ordinary `ParticipantRemoved`, so their links stop working.
    RemoveSilent {
        /// Only those who joined at or after this time.
        since: Option<super::Timestamp>,
        /// Why.
        reason: Option<String>,
    },
    /// Invalidate every role link of the session at once (new links are signed).
    RotateKeys,
    /// End the session for good: the floor is closed and everything becomes read-only.
    EndSession,
    /// Write the report's "key takeaways" (the rapporteur's text; allowed after the end too).
    SetTakeaways {
        /// The text, several lines allowed.
        text: String,
    },
}
