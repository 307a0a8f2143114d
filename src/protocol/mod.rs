//! The wire protocol, version 2: JSON text frames with a `type` tag. Written down for people in
//! `docs/protocol.md`; this module is its single implementation (the tests check the page's
//! examples against it).
//!
//! The protocol's types are not the core's: clients see a [`View`] and [`Patch`]es, commands
//! arrive as [`WireCommand`]s and are converted for the caller's role, and events are sent with
//! what their audience may not see taken out.

mod command;
mod event;
mod fields;
mod fieldwise;
mod incoming;
mod patch;
mod tallies;
mod view;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use command::WireCommand;
pub use event::{WireEvent, event_json};
pub use fields::ProfileIn;
pub use incoming::{Hello, Incoming, Resume, parse};
pub use patch::{Fields, OrderPatch, Patch, RequestPatch, changed_fields};
pub use tallies::{Fairness, RemoteCounts, fairness};
pub use view::{Audience, FloorView, LinkView, RequestView, SessionView, Slot, View, Who, slots};

use crate::queue::{Refusal, Timestamp};

/// The protocol version this server speaks.
pub const VERSION: u32 = 2;

/// Why a client message was not accepted, before or besides the queue's own refusals.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)]
pub enum WireError {
    #[error("not valid JSON: {0}")]
    BadJson(String),
    #[error("unknown message type `{0}`")]
    UnknownType(String),
    #[error("{0}")]
    BadField(String),
    #[error("join the session first to {0}")]
    NotJoined(&'static str),
    #[error("joining as onsite needs the room's code from the display")]
    OnsiteNeedsRoomCode,
    #[error("that room code has expired: scan the display again")]
    RoomCodeExpired,
    #[error("that is not the room's code: check the display")]
    WrongRoomCode,
    #[error("too many joins from your address: try again in a moment")]
    TooManyJoins {
        /// Milliseconds until the address may join again.
        retry_after_ms: u64,
    },
    #[error("too many wrong room codes from your address: wait a minute")]
    TooManyAttempts {
        /// Milliseconds until the address may try again.
        retry_after_ms: u64,
    },
    #[error("this link is read-only")]
    ReadOnly,
    #[error("the first message must be hello")]
    HelloFirst,
    #[error("hello was already received on this connection")]
    HelloTwice,
    #[error("this link is not valid (expired, rotated or mistyped)")]
    BadToken,
    #[error("no such session")]
    UnknownSession,
    #[error(
        "protocol version {0} is not supported; this server speaks version 2 (see docs/protocol.md)"
    )]
    Version(u32),
    #[error("the service could not record this; try again")]
    Unavailable,
    #[error("this session's record is damaged and is not served until an operator repairs it")]
    Damaged,
    #[error("this link no longer works: the session's links were renewed, or you were removed")]
    Revoked,
    #[error("too many messages: slow down")]
    TooManyMessages,
}

impl WireError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::BadJson(_) => "bad_json",
            WireError::UnknownType(_) => "unknown_type",
            WireError::BadField(_) => "bad_field",
            WireError::NotJoined(_) => "not_joined",
            WireError::OnsiteNeedsRoomCode => "onsite_needs_room_code",
            WireError::RoomCodeExpired => "room_code_expired",
            WireError::WrongRoomCode => "wrong_room_code",
            WireError::TooManyAttempts { .. } => "too_many_attempts",
            WireError::TooManyJoins { .. } => "too_many_joins",
            WireError::ReadOnly => "forbidden",
            WireError::HelloFirst => "hello_first",
            WireError::HelloTwice => "hello_twice",
            WireError::BadToken => "bad_token",
            WireError::UnknownSession => "unknown_session",
            WireError::Version(_) => "unsupported_version",
            WireError::Unavailable => "unavailable",
            WireError::Damaged => "damaged",
            WireError::Revoked => "revoked",
            WireError::TooManyMessages => "too_many_messages",
        }
    }
}

/// Whether a participant's device is connected, as the moderators' consoles show it.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceStatus {
    /// At least one connection open.
    Connected,
    /// No connection, for less than the grace period.
    Reconnecting,
    /// No connection for longer.
    Gone,
}

/// A server message, serialized by [`encode`].
#[derive(schemars::JsonSchema, Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[allow(missing_docs)] // documented in docs/protocol.md
pub enum Outgoing<'a> {
    /// The answer to `hello`: the role, the participant (if any), and where the log stands.
    Welcome {
        v: u32,
        session: &'a str,
        role: &'a str,
        participant: Option<u32>,
        epoch: u32,
        seq: u64,
        recovered: bool,
        client: &'a str,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        nodes: &'a [String],
    },
    /// The whole view for the client's audience.
    Snapshot {
        epoch: u32,
        seq: u64,
        server_time: Timestamp,
        view: &'a View,
    },
    /// One change: the events the audience may see and the patch that moves the view along.
    Update {
        /// The `req` of the command that caused it (first, so a load generator finds it fast).
        req: u64,
        from: u64,
        seq: u64,
        server_time: Timestamp,
        /// Moderators only: the events, for their console's log.
        #[schemars(schema_with = "events_schema")]
        #[serde(skip_serializing_if = "<[WireEvent]>::is_empty")]
        events: &'a [WireEvent<'a>],
        patch: &'a Patch,
    },
    /// The whole queue, when it changed with no event (the starvation guard).
    Order {
        seq: u64,
        server_time: Timestamp,
        queue: &'a [Slot],
    },
    /// Moderators only: participants' connections, by participant id: the whole book (`whole`,
    /// a connection's first), or those whose status changed since the last frame.
    Presence {
        server_time: Timestamp,
        participants: &'a BTreeMap<u32, PresenceStatus>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        whole: bool,
    },
    /// A command was recorded (durable); `seq` is the session's after it.
    Ack {
        req: u64,
        seq: u64,
        #[serde(skip_serializing_if = "Option::is_none")]
        participant: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        token: Option<&'a str>,
    },
    /// A command or frame was refused; nothing changed.
    Error {
        req: Option<u64>,
        code: &'a str,
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        floor: Option<Option<u32>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
    },
}

/// The schema of an update's `events`: flat objects, each with its seq, time, actor and type;
/// the other fields are the event's own (see `queue::Fact`).
fn events_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "array",
        "items": {
            "type": "object",
            "required": ["seq", "at", "actor", "type"],
            "properties": {
                "seq": {"type": "integer", "minimum": 1},
                "at": {"type": "integer", "minimum": 0, "description": "Server ms."},
                "actor": {"type": "object", "required": ["role"], "properties": {
                    "role": {"enum": ["organizer", "chair", "online_moderator", "participant", "newcomer"]},
                    "participant": {"type": "integer", "minimum": 0}}},
                "type": {"type": "string", "description": "The event, past tense: `hand_raised`, `floor_granted`..."}
            }
        }
    })
}

/// Serialize a server message.
pub fn encode(msg: &Outgoing<'_>) -> String {
    serde_json::to_string(msg).expect("server messages always serialize")
}

/// An `error` frame for a queue refusal (a `conflict` carries the floor as it is now).
pub fn refusal(req: Option<u64>, r: &Refusal) -> String {
    let floor = match r {
        Refusal::Conflict { current } => Some(current.map(|t| t.0)),
        _ => None,
    };
    let retry_after_ms = match r {
        Refusal::TooFast { retry_after_ms } => Some(*retry_after_ms),
        _ => None,
    };
    encode(&Outgoing::Error {
        req,
        code: r.code(),
        message: &r.to_string(),
        floor,
        retry_after_ms,
    })
}

/// An `error` frame for a wire error.
pub fn wire_error(req: Option<u64>, e: &WireError) -> String {
    let retry_after_ms = match e {
        WireError::TooManyAttempts { retry_after_ms }
        | WireError::TooManyJoins { retry_after_ms } => Some(*retry_after_ms),
        _ => None,
    };
    encode(&Outgoing::Error {
        req,
        code: e.code(),
        message: &e.to_string(),
        floor: None,
        retry_after_ms,
    })
}

#[cfg(test)]
mod fuzz_tests;
#[cfg(test)]
mod tests;
