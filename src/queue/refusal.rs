//! Refusals: why a command was not carried out. A refused command changes nothing.
//!
//! Each refusal has a stable snake_case [`code`](Refusal::code) for programs and consoles (which
//! translate it), and a human message in English for logs and scripts.

use super::{LinkId, ParticipantId, RequestId, RequestState, TurnId};

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[allow(missing_docs)] // each variant's message says what it means
pub enum Refusal {
    #[error("the session has not been opened yet")]
    NotOpen,
    #[error("the session is already open")]
    AlreadyOpen,
    #[error("your role may not {action}")]
    Forbidden { action: &'static str },
    #[error("there is no participant {0:?} in this session")]
    UnknownParticipant(ParticipantId),
    #[error("there is no request {0:?} in this session")]
    UnknownRequest(RequestId),
    #[error("there is no shared link {0:?} in this session")]
    UnknownLink(LinkId),
    #[error("this participant already has an open request ({request:?}, {state:?})")]
    AlreadyQueued {
        request: RequestId,
        state: RequestState,
    },
    #[error("the list of speakers is closed")]
    ListClosed,
    #[error("request {request:?} is not waiting in the queue (it is {state:?})")]
    NotWaiting {
        request: RequestId,
        state: RequestState,
    },
    #[error("request {request:?} is not parked (it is {state:?})")]
    NotParked {
        request: RequestId,
        state: RequestState,
    },
    #[error("request {0:?} is a remote speaker not marked ready; grant with force to go ahead")]
    NotReady(RequestId),
    #[error("nobody has the floor")]
    NoSpeaker,
    #[error("only the current speaker can yield the floor")]
    NotSpeaker,
    #[error("nobody is waiting")]
    QueueEmpty,
    #[error("the floor changed since you looked: it is now {current:?}")]
    Conflict { current: Option<TurnId> },
    #[error("the clock is already paused")]
    AlreadyPaused,
    #[error("the clock is not paused")]
    NotPaused,
    #[error("turn {0:?} has the floor; end it first")]
    FloorBusy(TurnId),
    #[error("there is no next agenda item")]
    AgendaEnd,
    #[error("nobody has spoken yet")]
    NoLastSpeaker,
    #[error("{count} remote request(s) are waiting; confirm to close the list anyway")]
    RemoteWaiting { count: usize },
    #[error("the session has ended; it is read-only")]
    SessionEnded,
    #[error("the session is locked: no new participants")]
    SessionLocked,
    #[error("the session has as many participants as it may hold ({max}); ask the chair")]
    SessionFull { max: usize },
    #[error("participants' actions are suspended for now")]
    Suspended,
    #[error("the chair has locked renaming")]
    RenamingLocked,
    #[error("participant {0:?} was removed from the session")]
    ParticipantRemoved(ParticipantId),
    #[error("too many raised hands in a short time; try again in {retry_after_ms} ms")]
    TooFast { retry_after_ms: u64 },
    #[error("{field}: {problem}")]
    Invalid {
        field: &'static str,
        problem: &'static str,
    },
}

impl Refusal {
    /// The stable code for programs and translations.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::NotOpen => "not_open",
            Refusal::AlreadyOpen => "already_open",
            Refusal::Forbidden { .. } => "forbidden",
            Refusal::UnknownParticipant(_) => "unknown_participant",
            Refusal::UnknownRequest(_) => "unknown_request",
            Refusal::UnknownLink(_) => "unknown_link",
            Refusal::AlreadyQueued { .. } => "already_queued",
            Refusal::ListClosed => "list_closed",
            Refusal::NotWaiting { .. } => "not_waiting",
            Refusal::NotParked { .. } => "not_parked",
            Refusal::NotReady(_) => "not_ready",
            Refusal::NoSpeaker => "no_speaker",
            Refusal::NotSpeaker => "not_speaker",
            Refusal::QueueEmpty => "queue_empty",
            Refusal::Conflict { .. } => "conflict",
            Refusal::AlreadyPaused => "already_paused",
            Refusal::NotPaused => "not_paused",
            Refusal::FloorBusy(_) => "floor_busy",
            Refusal::AgendaEnd => "agenda_end",
            Refusal::NoLastSpeaker => "no_last_speaker",
            Refusal::RemoteWaiting { .. } => "remote_waiting",
            Refusal::SessionEnded => "session_ended",
            Refusal::SessionLocked => "session_locked",
            Refusal::SessionFull { .. } => "session_full",
            Refusal::Suspended => "suspended",
            Refusal::RenamingLocked => "renaming_locked",
            Refusal::ParticipantRemoved(_) => "participant_removed",
            Refusal::TooFast { .. } => "too_fast",
            Refusal::Invalid { .. } => "invalid",
        }
    }

    pub(crate) const fn invalid(field: &'static str, problem: &'static str) -> Self {
        Refusal::Invalid { field, problem }
    }
}
