//! The speaking queue as a pure, deterministic state machine.
//!
//! Everything about the queue's rules lives here and nothing else does: no I/O, no clock reads,
//! no async, no JSON. [`decide`] turns a [`Command`] from an [`Actor`] at a [`Timestamp`] into
//! [`Event`]s or a [`Refusal`]; [`State::apply`] folds events into the [`State`]. Live sessions
//! and replay from the log use the same `apply`, so they cannot disagree.
//!
//! The order of the queue is computed, never stored: priority bands (point of order, direct
//! reply, an agenda item's roster) on top of the session's [`Policy`] (`fifo`, `alternate`,
//! `first_time_first`), a starvation guard, and moderator pins. Every entry carries the
//! [`Reason`] it stands where it stands. [`Stats`] folds a log into the fairness figures.

mod agenda;
mod command;
mod controls;
mod decide;
mod event;
mod names;
mod order;
mod participant;
mod policy;
mod refusal;
mod request;
mod state;
mod stats;
pub mod text;
mod time;
mod turn;

#[cfg(test)]
mod model_tests;
#[cfg(test)]
pub(crate) mod testkit;

pub use agenda::{AgendaItem, Link, LinkId};
pub use command::{Actor, Command, FloorSeen, Target};
pub use controls::{Control, Controls};
pub use decide::decide;
pub use event::{Event, Fact};
pub use participant::{
    Gender, Modality, Participant, ParticipantId, Profile, Side, StakeholderGroup,
};
pub use policy::{Alternation, Order, Policy, Reason};
pub use refusal::Refusal;
pub use request::{Band, Origin, ParkReason, Pin, Request, RequestId, RequestKind, RequestState};
pub use state::{QueueEntry, State};
pub use stats::{Figures, Override, SideStats, Stats, Tally};
pub use time::Timestamp;

/// A participant may raise their hand (or rejoin) themselves at most this many times...
pub const RAISE_BURST: usize = 3;
/// ...within this window; past it they are refused with `too_fast` until the oldest raise is
/// this old. Raising again after lowering goes to the back anyway; the throttle keeps a
/// flapping hand from flooding everyone's screen.
pub const RAISE_WINDOW_MS: u64 = 30_000;
pub use turn::{Ending, Grant, TimeLimits, Turn, TurnId};

/// Most participants a session holds at once (removed people not counted): past it, joins are
/// refused with `session_full`. A join flood from a shared link stops here even if nobody
/// watches; the chair's bulk removal ([`Command::RemoveSilent`]) makes room again.
pub const PARTICIPANTS_MAX: usize = 20_000;

/// Most participants one [`Command::RemoveSilent`] removes, so its update stays one frame of
/// reasonable size (about 100 bytes an event).
pub const PURGE_MAX: usize = 500;
