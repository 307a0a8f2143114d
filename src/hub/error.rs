//! How the hub's failures read on the wire: the socket's twin of `http/error.rs`, so a
//! connection names no store type. A damaged log is told apart (an operator must repair it);
//! any other failure is "try again".

use crate::protocol::WireError;
use crate::session::Gone;
use crate::store::StoreError;

impl From<StoreError> for WireError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Damaged { .. } => {
                tracing::error!(error = %e, "refusing a damaged session: run `rostrum repair` after checking it");
                WireError::Damaged
            }
            // Already logged once by the store, when it started failing.
            StoreError::Unavailable(_) => {
                tracing::debug!(error = %e, "the store cannot write");
                WireError::Unavailable
            }
            e => {
                tracing::error!(error = %e, "loading a session failed");
                WireError::Unavailable
            }
        }
    }
}

/// The session's actor stopped under the request: nothing was done.
impl From<Gone> for WireError {
    fn from(_: Gone) -> Self {
        WireError::Unavailable
    }
}
