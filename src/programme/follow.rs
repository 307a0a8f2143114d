//! On a cluster, every node takes each version of the programme another node writes: a
//! follower of the stream's programme subject, for the node's life.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Registry;
use super::store::{ProgrammeStore, decode};

/// The pause before following again after the follower ended (a NATS server gone).
const AGAIN: Duration = Duration::from_millis(500);

impl Registry {
    /// Take every newer version of the programme that another node writes, until `cancel`
    /// (nothing to do off a cluster). A version this node wrote itself, or older than the one
    /// it has, is skipped; one that does not read is logged and skipped, the node keeping the
    /// version it has.
    pub async fn follow(self: Arc<Self>, cancel: CancellationToken) {
        let ProgrammeStore::Nats { log, version } = &self.store else {
            return;
        };
        loop {
            let after = version.load(Ordering::SeqCst);
            let mut versions = match log.follow_programme(after).await {
                Ok(rx) => rx,
                Err(e) => {
                    tracing::warn!(error = %e, "following the programme; trying again");
                    tokio::select! {
                        () = cancel.cancelled() => return,
                        () = tokio::time::sleep(AGAIN) => continue,
                    }
                }
            };
            loop {
                let next = tokio::select! {
                    () = cancel.cancelled() => return,
                    next = versions.recv() => next,
                };
                let (bytes, seq) = match next {
                    Some(Ok(v)) => v,
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "following the programme; following again");
                        break;
                    }
                    None => break,
                };
                if seq <= version.load(Ordering::SeqCst) {
                    continue;
                }
                let p = match decode(&bytes) {
                    Ok(p) => p,
                    Err(e) => {
                        tracing::error!(error = %e, seq, "a programme version does not read; keeping the one this node has");
                        continue;
                    }
                };
                // Between two of this node's own changes, never during one.
                let _writing = self.writing.lock().await;
                if seq > version.load(Ordering::SeqCst) {
                    version.store(seq, Ordering::SeqCst);
                    *self
                        .current
                        .write()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(p);
                    tracing::info!(seq, "the programme changed on another node");
                }
            }
            tokio::select! {
                () = cancel.cancelled() => return,
                () = tokio::time::sleep(AGAIN) => {}
            }
        }
    }
}
