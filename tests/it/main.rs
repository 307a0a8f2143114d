//! rostrum's integration tests: the real service on a port-0 listener, driven through real
//! sockets. One binary, one module per area.

mod assets;
mod bench;
mod cluster;
mod config;
mod consoles;
mod contract;
mod contract_event;
mod durable;
mod event;
mod example_client;
mod faults;
mod hostile;
mod hub;
mod observability;
mod operations;
mod partition;
mod presence;
mod readme;
mod report;
mod resend;
mod restart;
mod safety;
mod support;
mod together;
mod wire;
mod workspace;
