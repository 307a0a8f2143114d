//! The floor and its clock: grant, end, yield, pause, resume, extend.

use super::super::{
    Actor, Ending, Fact, FloorSeen, Grant, Origin, Refusal, RequestKind, Target, Turn, TurnId, text,
};
use super::{Decided, Decision, next_id};

/// Smallest and largest extension accepted.
const EXTEND_MS: std::ops::RangeInclusive<u64> = 1_000..=600_000;

impl Decision<'_> {
    fn speaker(&self) -> Result<&Turn, Refusal> {
        self.s.floor().ok_or(Refusal::NoSpeaker)
    }

    /// Give the floor. A `reason` is recorded with the grant; the report lists it with the
    /// overrides (an entry chosen out of order, a remote speaker not marked ready).
    pub(super) fn grant(
        &self,
        target: Target,
        force: bool,
        seen: FloorSeen,
        reason: Option<&str>,
    ) -> Decided {
        self.moderator("run the floor")?;
        self.seen(seen)?;
        let reason = text::optional("reason", reason, text::TITLE_MAX)?;
        let (id, grant) = match target {
            Target::Next => {
                let (id, reason) = self.s.head(self.now).ok_or(Refusal::QueueEmpty)?;
                (id, Grant::Next { reason })
            }
            Target::Request(id) => {
                let r = self.request(id)?;
                if !r.state.is_queued() {
                    return Err(Refusal::NotWaiting {
                        request: id,
                        state: r.state,
                    });
                }
                match self.s.head(self.now) {
                    Some((head, reason)) if head == id => (id, Grant::Next { reason }),
                    _ => (
                        id,
                        Grant::Chosen {
                            position: self.position(id),
                        },
                    ),
                }
            }
        };
        let r = self.request(id)?;
        self.runs_floor(r.side, "give the floor to this speaker")?;
        if let Some(t) = self.s.floor() {
            self.runs_floor(t.side, "end this speaker's turn")?;
        }
        if r.needs_ready() && !force {
            return Err(Refusal::NotReady(id));
        }
        let mut events = Vec::with_capacity(2);
        if let Some(t) = self.s.floor() {
            events.push(self.event(Fact::TurnEnded {
                turn: t.id,
                ending: Ending::Replaced,
            }));
        }
        events.push(self.event(Fact::FloorGranted {
            turn: TurnId(next_id(self.s.turns().len())),
            request: id,
            limit_ms: self.s.limits().for_kind(r.kind),
            grant,
            forced: r.needs_ready(),
            reason,
        }));
        Ok(events)
    }

    /// The one-based position of a queued request (walks the queue).
    pub(super) fn position(&self, id: super::RequestId) -> u32 {
        self.s
            .queue(self.now)
            .iter()
            .find(|e| e.request == id)
            .map_or(0, |e| e.position)
    }

    pub(super) fn end_turn(&self, seen: FloorSeen) -> Decided {
        self.moderator("run the floor")?;
        self.seen(seen)?;
        let t = self.speaker()?;
        self.runs_floor(t.side, "end this speaker's turn")?;
        self.one(Fact::TurnEnded {
            turn: t.id,
            ending: Ending::Ended,
        })
    }

    pub(super) fn yield_floor(&self) -> Decided {
        match (self.actor, self.s.floor()) {
            (Actor::Participant(p), Some(t)) if t.participant == p => self.one(Fact::TurnEnded {
                turn: t.id,
                ending: Ending::Yielded,
            }),
            _ => Err(Refusal::NotSpeaker),
        }
    }

    pub(super) fn pause(&self, seen: FloorSeen) -> Decided {
        self.moderator("run the floor")?;
        self.seen(seen)?;
        let t = self.speaker()?;
        self.runs_floor(t.side, "pause this speaker's clock")?;
        if t.paused_at.is_some() {
            return Err(Refusal::AlreadyPaused);
        }
        self.one(Fact::ClockPaused { turn: t.id })
    }

    pub(super) fn resume(&self, seen: FloorSeen) -> Decided {
        self.moderator("run the floor")?;
        self.seen(seen)?;
        let t = self.speaker()?;
        self.runs_floor(t.side, "resume this speaker's clock")?;
        if t.paused_at.is_none() {
            return Err(Refusal::NotPaused);
        }
        self.one(Fact::ClockResumed { turn: t.id })
    }

    pub(super) fn show_text(&self, shown: bool, seen: FloorSeen) -> Decided {
        self.moderator("show the text on the display")?;
        self.seen(seen)?;
        let t = self.speaker()?;
        self.runs_floor(t.side, "show the text on the display")?;
        let r = self.request(t.request)?;
        // Only text meant to be read out: a participant's private note stays private.
        let read_out = r.kind == RequestKind::TextIntervention || r.origin == Origin::Relay;
        if !read_out || r.note.is_none() {
            return Err(Refusal::invalid(
                "shown",
                "this turn has no text to read out",
            ));
        }
        if t.text_shown == shown {
            return Ok(Vec::new());
        }
        self.one(Fact::TextShown { turn: t.id, shown })
    }

    pub(super) fn extend(&self, by_ms: u64, seen: FloorSeen) -> Decided {
        self.moderator("run the floor")?;
        self.seen(seen)?;
        let t = self.speaker()?;
        self.runs_floor(t.side, "extend this speaker's time")?;
        if !EXTEND_MS.contains(&by_ms) {
            return Err(Refusal::invalid("by_ms", "must be between 1 s and 10 min"));
        }
        self.one(Fact::TurnExtended { turn: t.id, by_ms })
    }
}
