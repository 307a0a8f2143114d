//! rostrum's tools, outside the service: they talk to a running server over its API and its
//! socket, or drive the queue core directly, and none of them is linked into the service.
//!
//! - [`bench`](mod@bench) is `rostrum bench`, the load generator (hdrhistogram, tokio-tungstenite).
//! - [`simulate`] is `rostrum simulate`: synthetic sessions played under each policy through the
//!   real queue core, with the fairness figures side by side.
//! - [`organizer`] is `rostrum session create|list|show|end` and [`programme`] is
//!   `rostrum programme rooms|import|export`: clients of a running server's API (reqwest, rustls).

pub mod bench;
pub mod organizer;
pub mod programme;
pub mod simulate;
