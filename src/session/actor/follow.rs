//! The session actor on a shared log: applying what other nodes append (its follower), catching
//! up after a refused append, and reading the log again when the follower falls silent. Other
//! nodes' appends bring their answers too, so a resend that moves here is answered from them.

use super::{CATCH_UP, SessionActor, wall_clock};
use crate::metrics;
use crate::queue::Timestamp;
use crate::session::core::Followed;
use crate::store::{Appended, Follower, StoreError};

impl SessionActor {
    /// Apply whatever the follower has already delivered, without waiting.
    pub(super) fn drain_follower(&mut self) {
        while !self.lost_follower
            && let Some(appended) = self.follower.as_mut().and_then(|f| f.try_recv().ok())
        {
            self.lost_follower = !self.followed(Some(appended));
        }
    }

    /// Apply what the follower brought, unless this node already has it (its own appends come
    /// back too). False when the session can no longer be kept current: the actor then stops,
    /// and the next use starts it again from the log.
    pub(super) fn followed(&mut self, appended: Option<Result<Appended, StoreError>>) -> bool {
        let a = match appended {
            Some(Ok(a)) => a,
            Some(Err(e)) => {
                tracing::error!(session = %self.meta.id, error = %e, "the log cannot be followed; the session restarts from it");
                return false;
            }
            None => {
                tracing::error!(session = %self.meta.id, "the log's follower stopped; the session restarts from it");
                return false;
            }
        };
        match self.core.follow(&a, wall_clock()) {
            Followed::Known => true,
            Followed::Gap { from } => {
                tracing::error!(session = %self.meta.id, from, seq = self.core.state().seq(), "the followed log skips ahead; the session restarts from it");
                false
            }
            Followed::Applied(published) => {
                self.publish(published);
                metrics::hot().followed.increment(1);
                true
            }
        }
    }

    /// Follow the log until this node has seq `actual`; false if it cannot. A follower that
    /// stays silent meanwhile (its server died and it has not started again yet) is replaced:
    /// the missing appends are read from the log itself, and a new follower starts after them.
    pub(super) async fn catch_up(&mut self, actual: u64) -> bool {
        if self.follower.is_none() {
            return false;
        }
        while self.core.state().seq() < actual {
            match tokio::time::timeout(CATCH_UP, next_append(&mut self.follower)).await {
                Ok(appended) => {
                    if !self.followed(appended) {
                        return false;
                    }
                }
                Err(_) => return self.refollow().await && self.core.state().seq() >= actual,
            }
        }
        true
    }

    /// Read what this node missed from the log, and follow it afresh from there.
    async fn refollow(&mut self) -> bool {
        let (id, seq) = (self.meta.id, self.core.state().seq());
        tracing::warn!(session = %id, seq, "the log's follower is silent; reading the log");
        let missed = match self.rt.store.load(id, seq).await {
            Ok(missed) => missed,
            Err(e) => {
                tracing::error!(session = %id, error = %e, "reading the log failed");
                return false;
            }
        };
        if let Some(at) = missed.last().map(|e| e.at) {
            // Their answers are kept with the log: a resend of one of them is answered from them.
            let since = Timestamp(
                self.core
                    .now(at)
                    .0
                    .saturating_sub(crate::store::ANSWERS_KEPT_MS),
            );
            let recorded = match self.rt.store.answers(id, since).await {
                Ok(recorded) => recorded,
                Err(e) => {
                    tracing::warn!(session = %id, error = %e, "reading the answers failed");
                    Vec::new()
                }
            };
            if let Some(published) = self.core.missed(&missed, recorded, wall_clock()) {
                self.publish(published);
            }
        }
        match self.rt.store.follow(id, self.core.state().seq()).await {
            Ok(follower) => {
                self.follower = follower;
                true
            }
            Err(e) => {
                tracing::error!(session = %id, error = %e, "following the log failed");
                false
            }
        }
    }
}

pub(super) async fn next_append(
    follower: &mut Option<Follower>,
) -> Option<Result<Appended, StoreError>> {
    match follower {
        Some(f) => f.recv().await,
        None => std::future::pending().await,
    }
}
