//! WebSocket connections: one task per connection that says hello, forwards its session's
//! updates, and submits its commands. The upgrade itself (origin, sockets per address, limits)
//! is an HTTP route, `http/upgrade.rs`, which hands the socket to [`run`].
//!
//! A connection never slows its session: updates reach it through a bounded broadcast
//! receiver; one that falls behind is caught up from the session's resume window (or sent a
//! snapshot), and one that stops reading is dropped after the write timeout.
//!
//! One concept per file, in the order a connection meets them:
//! - `admission`: waiting for `hello`, checking its capability, welcoming and resuming;
//! - `connection`: the task's loop over the socket, the session's updates, pings and shutdown;
//! - `submit`: a client's commands to the session, and the link minted on a join;
//! - `rate`: the message rate, newcomers' joins and room-code attempts per address;
//! - `writer`: the per-client writer, which batches waiting frames into one flush;
//! - `close`: close codes and the closing handshakes.

mod admission;
mod close;
mod connection;
mod rate;
mod submit;
mod writer;

pub use admission::{SUBPROTOCOL, handshake_hello};
pub use connection::run;
pub use rate::join_limiter;
