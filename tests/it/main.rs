//! rostrum's integration tests: the real service on a port-0 listener, driven through real
//! sockets. One binary, one module per area.

mod bench;
mod cluster;
mod consoles;
mod durable;
mod event;
mod hub;
mod observability;
mod operations;
mod partition;
mod readme;
mod report;
mod restart;
mod safety;
mod support;
