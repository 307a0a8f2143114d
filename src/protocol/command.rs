//! Wire commands: what clients send, and their conversion to the core's commands for the
//! caller's role. The participant a command is about is never taken from the client when it is
//! the caller: it comes from their capability.

use serde::Deserialize;

use crate::queue::{
    Actor, AgendaItem, Command, Control, FloorSeen, LinkId, Modality, ParticipantId, Policy,
    RequestId, RequestKind, Target, TimeLimits,
};

use super::WireError;
use super::fields::{ProfileIn, intervention, seen, seen_schema, thirty_seconds};

/// Every command a client can send, by its `type`. A field the command does not have is refused
/// (`bad_field` naming it), so a client never believes something was taken that was dropped.
/// Commands without fields are written `{}`: serde lets unit variants through with any fields.
#[derive(schemars::JsonSchema, Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
#[allow(missing_docs)] // documented in docs/protocol.md, field by field
pub enum WireCommand {
    /// Register from the shared participant link; the ack carries the participant id and their own token. Onsite needs `room`, the display's code.
    Join {
        profile: ProfileIn,
        #[serde(default)]
        room: Option<String>,
    },
    /// Change one's own profile.
    UpdateProfile { profile: ProfileIn },
    /// Ask for the floor (one open request per participant).
    RaiseHand {
        #[serde(default = "intervention")]
        kind: RequestKind,
        #[serde(default)]
        note: Option<String>,
    },
    /// A moderator raises a hand for a participant (the online moderator relaying the chat).
    RaiseFor {
        participant: u32,
        #[serde(default = "intervention")]
        kind: RequestKind,
        #[serde(default)]
        note: Option<String>,
    },
    /// A moderator adds someone without a device and queues them.
    AddProxy {
        profile: ProfileIn,
        #[serde(default = "intervention")]
        kind: RequestKind,
        #[serde(default)]
        note: Option<String>,
    },
    /// Change a request's kind or note.
    ChangeRequest {
        request: u32,
        kind: RequestKind,
        #[serde(default)]
        note: Option<String>,
    },
    /// Withdraw one's request.
    LowerHand { request: u32 },
    /// Park one's request ("not now"); `rejoin` puts it back at the end.
    DeclineForNow { request: u32 },
    /// Park a remote speaker's request whose audio failed, telling them why.
    AudioFailed { request: u32 },
    /// Put a parked request back in the queue, at the end.
    Rejoin { request: u32 },
    /// Mark a remote speaker's audio checked (or not): a remote request needs it to be granted without `force`.
    MarkReady { request: u32, ready: bool },
    /// Give the floor: to the head of the queue, or to `request` ("grant this", an override out of order, with its `reason`). Refused with `not_ready` for an unready remote speaker unless `force`.
    Grant {
        #[serde(default)]
        request: Option<u32>,
        #[serde(default)]
        force: bool,
        #[serde(deserialize_with = "seen")]
        #[schemars(schema_with = "seen_schema")]
        seen: FloorSeen,
        #[serde(default)]
        reason: Option<String>,
    },
    /// End the current turn.
    EndTurn {
        #[serde(deserialize_with = "seen")]
        #[schemars(schema_with = "seen_schema")]
        seen: FloorSeen,
    },
    /// The speaker says "I am done".
    Yield {},
    /// Stop the speaker's clock.
    Pause {
        #[serde(deserialize_with = "seen")]
        #[schemars(schema_with = "seen_schema")]
        seen: FloorSeen,
    },
    /// Restart the speaker's clock.
    ResumeClock {
        #[serde(deserialize_with = "seen")]
        #[schemars(schema_with = "seen_schema")]
        seen: FloorSeen,
    },
    /// Give the speaker more time (1 s to 10 min; default 30 s).
    Extend {
        #[serde(default = "thirty_seconds")]
        by_ms: u64,
        #[serde(deserialize_with = "seen")]
        #[schemars(schema_with = "seen_schema")]
        seen: FloorSeen,
    },
    /// Show (or hide) the floor's text on the display and the public view.
    ShowText {
        shown: bool,
        #[serde(deserialize_with = "seen")]
        #[schemars(schema_with = "seen_schema")]
        seen: FloorSeen,
    },
    /// Move a waiting entry to a one-based position, pinned there, with a reason.
    Move {
        request: u32,
        position: u32,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Take an entry out of the queue, with a reason.
    Remove {
        request: u32,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Put the last speaker back at the top, with a reason.
    ReaddLast {
        #[serde(default)]
        reason: Option<String>,
    },
    /// Close the speakers' list: no new requests. Refused with `remote_waiting` while remote
    /// requests wait, unless `confirm` (so the room does not close on the remote side unseen).
    CloseList {
        #[serde(default)]
        confirm: bool,
    },
    /// Reopen the speakers' list.
    ReopenList {},
    /// Change the ordering policy; an omitted `starvation_ms` is the default guard, 900000.
    SetPolicy { policy: Policy },
    /// Change the speaking-time limits (all three fields).
    SetTimeLimits { limits: TimeLimits },
    /// Limit the online moderator to remote speakers (chair only).
    SetModeratorScope { remote_only: bool },
    /// Replace the agenda (items are objects: `{title, roster?}`).
    SetAgenda { items: Vec<AgendaItem> },
    /// Start the next agenda item; refused while someone speaks. `carry_over: false` removes the waiting and parked requests.
    AdvanceAgenda { carry_over: bool },
    /// Share a link with everyone.
    PostLink {
        #[serde(default)]
        title: String,
        url: String,
    },
    /// Take a shared link down.
    RemoveLink { link: u32 },
    /// Lock the session, suspend participants, or lock renaming (chair only for renaming).
    SetControl { control: Control, on: bool },
    /// Remove a participant: their request closes, their sockets close, their link stops working.
    RemoveParticipant {
        participant: u32,
        #[serde(default)]
        reason: Option<String>,
    },
    /// Remove, in bulk, people who joined by themselves and never raised a hand (chair only).
    RemoveSilent {
        #[serde(default)]
        since: Option<u64>,
        #[serde(default)]
        reason: Option<String>,
    },
    /// End the session for good (chair only).
    EndSession {},
    /// Write the report's key takeaways (also after the end).
    SetTakeaways { text: String },
}

impl WireCommand {
    /// Every command's `type`, as the derive above names them (a test checks the two agree):
    /// how [`parse`](super::parse) tells an unknown message from a command with a bad field.
    pub const TYPES: &[&str] = &[
        "join",
        "update_profile",
        "raise_hand",
        "raise_for",
        "add_proxy",
        "change_request",
        "lower_hand",
        "decline_for_now",
        "audio_failed",
        "rejoin",
        "mark_ready",
        "grant",
        "end_turn",
        "yield",
        "pause",
        "resume_clock",
        "extend",
        "show_text",
        "move",
        "remove",
        "readd_last",
        "close_list",
        "reopen_list",
        "set_policy",
        "set_time_limits",
        "set_moderator_scope",
        "set_agenda",
        "advance_agenda",
        "post_link",
        "remove_link",
        "set_control",
        "remove_participant",
        "remove_silent",
        "end_session",
        "set_takeaways",
    ];

    /// The core command for `actor` (see `crate::principal` for who acts as whom), or why it
    /// cannot be sent at all. `in_room` says whether a `join` carried the room's current code
    /// (checked by the caller, who has the keys).
    pub fn into_command(self, actor: Actor, in_room: bool) -> Result<Command, WireError> {
        let me = match actor {
            Actor::Participant(p) => Some(p),
            _ => None,
        };
        let mine = |what: &'static str| me.ok_or(WireError::NotJoined(what));
        Ok(match self {
            WireCommand::Join { profile, room } => {
                if actor == Actor::Newcomer && profile.modality == Modality::Onsite && !in_room {
                    return Err(if room.is_some() {
                        WireError::RoomCodeExpired
                    } else {
                        WireError::OnsiteNeedsRoomCode
                    });
                }
                Command::Join {
                    profile: profile.into(),
                }
            }
            WireCommand::UpdateProfile { profile } => Command::UpdateProfile {
                participant: mine("update your profile")?,
                profile: profile.into(),
            },
            WireCommand::RaiseHand { kind, note } => Command::RaiseHand {
                participant: mine("raise your hand")?,
                kind,
                note,
            },
            WireCommand::RaiseFor {
                participant,
                kind,
                note,
            } => Command::RaiseHand {
                participant: ParticipantId(participant),
                kind,
                note,
            },
            WireCommand::AddProxy {
                profile,
                kind,
                note,
            } => Command::AddProxy {
                profile: profile.into(),
                kind,
                note,
            },
            WireCommand::ChangeRequest {
                request,
                kind,
                note,
            } => Command::ChangeRequest {
                request: RequestId(request),
                kind,
                note,
            },
            WireCommand::LowerHand { request } => Command::LowerHand {
                request: RequestId(request),
            },
            WireCommand::DeclineForNow { request } => Command::DeclineForNow {
                request: RequestId(request),
            },
            WireCommand::AudioFailed { request } => Command::AudioFailed {
                request: RequestId(request),
            },
            WireCommand::Rejoin { request } => Command::Rejoin {
                request: RequestId(request),
            },
            WireCommand::MarkReady { request, ready } => Command::MarkReady {
                request: RequestId(request),
                ready,
            },
            WireCommand::Grant {
                request,
                force,
                seen,
                reason,
            } => Command::GrantFloor {
                target: request.map_or(Target::Next, |r| Target::Request(RequestId(r))),
                force,
                seen,
                reason,
            },
            WireCommand::EndTurn { seen } => Command::EndTurn { seen },
            WireCommand::Yield {} => {
                mine("yield the floor")?;
                Command::Yield
            }
            WireCommand::Pause { seen } => Command::PauseClock { seen },
            WireCommand::ResumeClock { seen } => Command::ResumeClock { seen },
            WireCommand::Extend { by_ms, seen } => Command::ExtendTurn { by_ms, seen },
            WireCommand::ShowText { shown, seen } => Command::ShowText { shown, seen },
            WireCommand::Move {
                request,
                position,
                reason,
            } => Command::Move {
                request: RequestId(request),
                position,
                reason,
            },
            WireCommand::Remove { request, reason } => Command::Remove {
                request: RequestId(request),
                reason,
            },
            WireCommand::ReaddLast { reason } => Command::ReaddLastSpeaker { reason },
            WireCommand::CloseList { confirm } => Command::CloseList { confirm },
            WireCommand::ReopenList {} => Command::ReopenList,
            WireCommand::SetPolicy { policy } => Command::SetPolicy { policy },
            WireCommand::SetTimeLimits { limits } => Command::SetTimeLimits { limits },
            WireCommand::SetModeratorScope { remote_only } => {
                Command::SetModeratorScope { remote_only }
            }
            WireCommand::SetAgenda { items } => Command::SetAgenda { items },
            WireCommand::AdvanceAgenda { carry_over } => Command::AdvanceAgenda { carry_over },
            WireCommand::PostLink { title, url } => Command::PostLink { title, url },
            WireCommand::RemoveLink { link } => Command::RemoveLink { link: LinkId(link) },
            WireCommand::SetControl { control, on } => Command::SetControl { control, on },
            WireCommand::RemoveParticipant {
                participant,
                reason,
            } => Command::RemoveParticipant {
                participant: ParticipantId(participant),
                reason,
            },
            WireCommand::RemoveSilent { since, reason } => Command::RemoveSilent {
                since: since.map(crate::queue::Timestamp),
                reason,
            },
            WireCommand::EndSession {} => Command::EndSession,
            WireCommand::SetTakeaways { text } => Command::SetTakeaways { text },
        })
    }
}
