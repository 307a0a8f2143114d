//! rostrum: one fair, ordered speaking queue per session for hybrid meetings, shared by the
//! people in the room and the people online.
//!
//! The crate map, one module a paragraph, in dependency order (nothing imports upward):
//!
//! - [`ids`] names what every layer shares: the session id.
//! - [`queue`] is the heart: the speaking queue as a pure state machine. Commands are decided
//!   into events or refused; events fold into the state. No I/O, no clock, no async.
//! - [`protocol`] is the wire protocol (version 1): what clients see ([`protocol::View`] and
//!   patches), what they send, and the JSON of both. Written down in `docs/protocol.md`.
//! - [`store`] is the event log: the [`store::EventLog`] trait and its backends.
//! - [`session`] runs one live session as an actor that owns its state: decide, append,
//!   apply, answer, publish once per audience.
//! - [`hub`] is the registry of live sessions; it starts an actor by replaying its log.
//! - [`auth`] signs and checks the capability tokens of role links; [`principal`] is the one
//!   table of who acts: a link's role as the core's actor, an audience and a role name.
//! - [`ws`] is the per-connection task; [`http`] the routes; [`service`] what they share;
//!   [`limits`] who a client is and how many sockets it holds; [`server`] the accept loop
//!   (connections per address, header and idle timeouts); [`attempts`] counts wrong room
//!   codes per address and per session.
//! - [`export`] turns a log into NDJSON and a CSV of turns; [`report`] into the session report.
//! - [`contract`] generates the machine-readable contracts (JSON Schema per frame, AsyncAPI,
//!   OpenAPI) from the wire types.
//! - [`config`] is `serve`'s command line and its validated settings; [`app`] wires it all and
//!   shuts it down in order.
//! - [`programme`] is a whole event: rooms, the programme of sessions placed in them (each a
//!   normal session created through the [`hub`]), its CSV and iCalendar import and export.
//!
//! Outside this crate: `tools/` (package `rostrum-tools`) holds the load generator, the
//! simulator and the organizer's client of the API; `cli/` (package `rostrum-cli`) the
//! `rostrum` command, which runs this service and those tools as subcommands.

pub mod app;
pub mod attempts;
pub mod auth;
pub mod config;
pub mod contract;
pub mod export;
pub mod http;
pub mod hub;
pub mod ids;
pub mod limits;
pub mod metrics;
pub mod principal;
pub mod programme;
pub mod protocol;
pub mod queue;
pub mod report;
pub mod server;
pub mod service;
pub mod session;
pub mod store;
pub mod ws;
