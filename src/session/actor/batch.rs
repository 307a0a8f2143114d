//! Commands that were waiting together in the mailbox, decided and stored together: under load
//! a session commits once for all of them instead of once each (the store's group commit), and
//! their updates go out together (a connection writes them with one flush).
//!
//! Only on a log this process alone writes (SQLite, memory): on a shared log a command may have
//! to be decided again on another node's append (`SessionActor::command`), so each goes alone.

use std::time::Instant;

use futures_util::future::join_all;
use tokio::sync::{mpsc, oneshot};

use super::{SessionActor, origin};
use crate::metrics;
use crate::queue::Event;
use crate::session::core::{Decision, Publish};
use crate::session::{Answer, Msg, Pending, Sender};
use crate::store::Origin;

/// Commands taken from the mailbox together, at most.
const MOST: usize = 64;

/// A command decided: its answer and, when it appended, the update it publishes and its
/// append's place in the batch.
struct Decided {
    reply: oneshot::Sender<Answer>,
    answer: Answer,
    stored: Option<(usize, Publish)>,
}

impl SessionActor {
    /// Handle `first` and, when it is a command on a log only this process writes, the other
    /// commands already waiting behind it. Returns a message taken from the mailbox that is not
    /// a command (to be handled next, in its turn), and whether the actor goes on.
    pub(super) async fn take(
        &mut self,
        first: Msg,
        rx: &mut mpsc::Receiver<Msg>,
    ) -> (Option<Msg>, bool) {
        let first = match first {
            Msg::Command(c) if self.follower.is_none() => c,
            other => {
                self.handle(other).await;
                return (None, true);
            }
        };
        let mut batch = vec![first];
        let mut next = None;
        while batch.len() < MOST {
            match rx.try_recv() {
                Ok(Msg::Command(c)) => batch.push(c),
                Ok(other) => {
                    next = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        if batch.len() == 1 {
            self.handle(Msg::Command(batch.remove(0))).await;
            return (next, true);
        }
        (next, self.together(batch).await)
    }

    /// Decide each command on the state the ones before it leave (applied at once, published
    /// only once stored), queue their appends together (SQLite commits them in one
    /// transaction), then publish and answer each in order. If an append fails, the state holds
    /// events the log does not: every command from that one on is answered `unavailable` (not
    /// remembered: a resend may succeed), nothing of theirs was published, and the actor stops,
    /// so the next caller starts it again from the log. Returns whether the actor goes on.
    async fn together(&mut self, batch: Vec<Pending>) -> bool {
        let taken = Instant::now();
        metrics::hot().batched.increment(batch.len() as u64);
        let mut decided = Vec::with_capacity(batch.len());
        let mut appends: Vec<(u64, Origin, Vec<Event>)> = Vec::new();
        for p in batch {
            let sender = p.client.map(|secret| Sender::new(p.actor, &secret));
            if let Some(answer) = self.answered(sender.as_ref(), p.req) {
                decided.push(Decided {
                    reply: p.reply,
                    answer,
                    stored: None,
                });
                continue;
            }
            let now = self.now();
            let (answer, stored) = match self.core.decide(p.actor, p.command, now) {
                Decision::Done(answer) => (answer, None),
                Decision::Refused(refusal) => (Answer::Refused(refusal), None),
                Decision::Append(events) => {
                    let expected = self.core.state().seq();
                    let published = self.core.applied(p.req, &events, now);
                    let ack = self.core.ack(&events);
                    appends.push((expected, origin(p.req, sender.as_ref()), events));
                    (ack, Some((appends.len() - 1, published)))
                }
            };
            self.core
                .remember(sender, p.req, answer.clone(), self.now());
            decided.push(Decided {
                reply: p.reply,
                answer,
                stored,
            });
        }
        let appending = Instant::now();
        let id = self.meta.id;
        let store = &self.rt.store;
        let results = join_all(
            appends
                .iter()
                .map(|(expected, origin, events)| store.append(id, *expected, origin, events)),
        )
        .await;
        metrics::hot().append.record(appending.elapsed());
        let failed = results.iter().position(Result::is_err);
        if let Some(Err(e)) = failed.map(|f| &results[f]) {
            self.append_failed(e, "commands not applied, the session restarts from its log");
        }
        // Decided on the state the failed append left: from that command on, nothing stands.
        let mut lost = false;
        for d in decided {
            lost |= matches!((&d.stored, failed), (Some((i, _)), Some(f)) if *i == f);
            let answer = match d.stored {
                _ if lost => Answer::Unavailable,
                Some((_, published)) => {
                    self.publish(published);
                    metrics::hot().fanout.record(taken.elapsed());
                    d.answer
                }
                None => d.answer,
            };
            let _ = d.reply.send(answer);
        }
        failed.is_none()
    }
}
