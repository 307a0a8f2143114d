//! The answers to recent commands, so a command resent after a reconnect (same sender, same
//! `req`) takes effect once and gets its original answer.
//!
//! Each sender has a window: its last [`PER_SENDER`] answers, none older than
//! [`ANSWERS_KEPT_MS`]. Acks of commands that appended events are also recorded in the store
//! with the events (and loaded back when an actor starts); refusals and no-op acks live here only.

use std::collections::{HashMap, VecDeque};

use super::{Answer, Sender};
use crate::queue::Timestamp;
use crate::store::{ANSWERS_KEPT_MS, Recorded};

/// Answers kept per sender.
pub const PER_SENDER: usize = 256;

struct Kept {
    req: u64,
    answer: Answer,
    at: Timestamp,
}

/// Per sender, its most recent answers, oldest first.
pub(super) struct Answers {
    senders: HashMap<Sender, VecDeque<Kept>>,
    /// Who was answered when, oldest first: what expires next.
    by_time: VecDeque<(Timestamp, Sender)>,
    cap: usize,
}

fn expired(at: Timestamp, now: Timestamp) -> bool {
    at.0.saturating_add(ANSWERS_KEPT_MS) < now.0
}

impl Answers {
    /// An empty window of `cap` answers per sender.
    pub(super) fn new(cap: usize) -> Self {
        Self {
            senders: HashMap::new(),
            by_time: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    /// The window as recorded in the store (oldest first).
    pub(super) fn load(&mut self, recorded: Vec<Recorded>, now: Timestamp) {
        for r in recorded {
            let answer = Answer::Ack {
                seq: r.seq,
                participant: r.participant,
            };
            self.remember(Sender(r.sender), r.req, answer, r.at.min(now));
        }
        self.expire(now);
    }

    /// The answer `sender` was given for `req`, if it is still in the window at `now`.
    pub(super) fn get(&self, sender: &Sender, req: u64, now: Timestamp) -> Option<&Answer> {
        self.senders
            .get(sender)?
            .iter()
            .rev()
            .find(|k| k.req == req && !expired(k.at, now))
            .map(|k| &k.answer)
    }

    /// Keep `answer` to `sender`'s `req`, given at `at`.
    pub(super) fn remember(&mut self, sender: Sender, req: u64, answer: Answer, at: Timestamp) {
        let kept = self.senders.entry(sender.clone()).or_default();
        kept.retain(|k| k.req != req);
        kept.push_back(Kept { req, answer, at });
        if kept.len() > self.cap {
            kept.pop_front();
        }
        self.by_time.push_back((at, sender));
        self.expire(at);
    }

    /// Forget answers older than the window at `now`.
    fn expire(&mut self, now: Timestamp) {
        while let Some((at, sender)) = self.by_time.front()
            && expired(*at, now)
        {
            if let Some(kept) = self.senders.get_mut(sender) {
                kept.retain(|k| !expired(k.at, now));
                if kept.is_empty() {
                    self.senders.remove(sender);
                }
            }
            self.by_time.pop_front();
        }
    }

    /// How many answers are kept (for tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.senders.values().map(VecDeque::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::{Actor, ParticipantId};

    fn ack(seq: u64) -> Answer {
        Answer::Ack {
            seq,
            participant: None,
        }
    }

    #[test]
    fn each_sender_keeps_its_own_most_recent_answers() {
        let (a, b) = (
            Sender::new(Actor::Chair, "secret-a"),
            Sender::new(Actor::Chair, "secret-b"),
        );
        let t = Timestamp(1_000);
        let mut w = Answers::new(2);
        w.remember(a.clone(), 1, ack(1), t);
        w.remember(b.clone(), 1, ack(2), t);
        assert_eq!(w.get(&a, 1, t), Some(&ack(1)));
        assert_eq!(
            w.get(&b, 1, t),
            Some(&ack(2)),
            "the same req, another sender"
        );
        assert_eq!(w.get(&a, 2, t), None);
        w.remember(a.clone(), 2, ack(3), t);
        w.remember(a.clone(), 3, ack(4), t);
        assert_eq!(w.get(&a, 1, t), None, "a's oldest is forgotten");
        assert_eq!(
            w.get(&b, 1, t),
            Some(&ack(2)),
            "b's is not: windows are per sender"
        );
    }

    #[test]
    fn answers_older_than_the_window_are_forgotten() {
        let a = Sender::new(Actor::Chair, "secret-a");
        let mut w = Answers::new(PER_SENDER);
        w.remember(a.clone(), 1, ack(1), Timestamp(0));
        let later = Timestamp(ANSWERS_KEPT_MS);
        assert_eq!(w.get(&a, 1, later), Some(&ack(1)), "an hour is kept");
        let past = Timestamp(ANSWERS_KEPT_MS + 1);
        assert_eq!(w.get(&a, 1, past), None);
        w.remember(a.clone(), 2, ack(2), past);
        assert_eq!(w.len(), 1, "the expired answer left memory");
    }

    #[test]
    fn recorded_answers_load_as_acks() {
        let a = Sender::new(Actor::Newcomer, "secret-a");
        let mut w = Answers::new(PER_SENDER);
        let now = Timestamp(ANSWERS_KEPT_MS * 3);
        let recorded = |req, at| Recorded {
            sender: a.0.clone(),
            req,
            seq: req + 10,
            participant: Some(ParticipantId(4)),
            at: Timestamp(at),
        };
        w.load(vec![recorded(1, 0), recorded(2, now.0 - 5)], now);
        assert_eq!(w.get(&a, 1, now), None, "out of the window");
        assert_eq!(
            w.get(&a, 2, now),
            Some(&Answer::Ack {
                seq: 12,
                participant: Some(ParticipantId(4))
            })
        );
        assert_eq!(w.len(), 1);
    }
}
