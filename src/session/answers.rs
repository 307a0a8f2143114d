//! The answers to recent commands, so a command resent after a reconnect (same sender, same
//! `req`) takes effect once and gets its original answer.

use std::collections::{HashMap, VecDeque};

use super::{Answer, Sender};

/// A bounded map from `(sender, req)` to the answer; the oldest entries go first.
pub(super) struct Answers {
    map: HashMap<(Sender, u64), Answer>,
    order: VecDeque<(Sender, u64)>,
    cap: usize,
}

impl Answers {
    pub(super) fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    pub(super) fn get(&self, sender: &Sender, req: u64) -> Option<&Answer> {
        self.map.get(&(sender.clone(), req))
    }

    pub(super) fn remember(&mut self, sender: Sender, req: u64, answer: Answer) {
        if self.order.len() == self.cap
            && let Some(old) = self.order.pop_front()
        {
            self.map.remove(&old);
        }
        self.order.push_back((sender.clone(), req));
        self.map.insert((sender, req), answer);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::Actor;

    #[test]
    fn remembers_the_most_recent_answers() {
        let s = |c: &str| Sender {
            actor: Actor::Chair,
            client: c.into(),
        };
        let ack = |seq| Answer::Ack {
            seq,
            participant: None,
        };
        let mut a = Answers::new(2);
        a.remember(s("a"), 1, ack(1));
        a.remember(s("b"), 1, ack(2));
        assert_eq!(a.get(&s("a"), 1), Some(&ack(1)));
        assert_eq!(a.get(&s("a"), 2), None);
        a.remember(s("a"), 2, ack(3));
        assert_eq!(a.get(&s("a"), 1), None, "the oldest is forgotten");
        assert_eq!(a.get(&s("b"), 1), Some(&ack(2)));
    }
}
