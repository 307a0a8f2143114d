//! rostrum: one fair, ordered speaking queue per session for hybrid meetings, shared by the
//! people in the room and the people online.
//!
//! The crate map, one module a paragraph:
//!
//! - [`queue`] is the heart: the speaking queue as a pure state machine. Commands are decided
//!   into events or refused; events fold into the state. No I/O, no clock, no async: time comes
//!   in as an argument, so every rule is a plain unit test and replaying a log is exact.
//!
//! The live hub (sessions as actors, the WebSocket protocol), the durable store and the consoles
//! build on it; `ARCHITECTURE.md` says what exists today.

pub mod queue;
