//! Joining and hands: join, profiles, raise, proxy, change, lower, decline for now, rejoin, ready.

use super::super::{
    Actor, Fact, Origin, ParkReason, Participant, ParticipantId, Profile, RAISE_BURST,
    RAISE_WINDOW_MS, Refusal, RequestId, RequestKind, RequestState, Side, names, text,
};
use super::{Decided, Decision, next_id};

impl Decision<'_> {
    pub(super) fn join(&self, profile: &Profile) -> Decided {
        // Who may, before the (costlier) checks of what they typed.
        match self.actor {
            Actor::Newcomer => {}
            a if a.is_moderator() => self.manages(profile.modality.side(), "register them")?,
            _ => {
                return Err(Refusal::Forbidden {
                    action: "join twice",
                });
            }
        }
        if self.s.present() >= super::super::PARTICIPANTS_MAX {
            return Err(Refusal::SessionFull {
                max: super::super::PARTICIPANTS_MAX,
            });
        }
        let profile = self.profile(profile, None)?;
        self.one(Fact::ParticipantJoined {
            participant: ParticipantId(next_id(self.s.participants().len())),
            profile,
        })
    }

    pub(super) fn update_profile(&self, id: ParticipantId, profile: &Profile) -> Decided {
        let current = self.participant(id)?;
        match self.actor {
            Actor::Participant(p) if p == id && self.s.controls().rename_locked => {
                return Err(Refusal::RenamingLocked);
            }
            Actor::Participant(p) if p == id => {}
            a if a.is_chair() => {}
            _ => {
                return Err(Refusal::Forbidden {
                    action: "change someone else's profile",
                });
            }
        }
        let profile = self.profile(profile, Some(id))?;
        if profile.modality != current.profile.modality {
            return Err(Refusal::invalid(
                "modality",
                "cannot change; join again instead",
            ));
        }
        self.one(Fact::ProfileUpdated {
            participant: id,
            profile,
        })
    }

    pub(super) fn raise_hand(
        &self,
        id: ParticipantId,
        kind: RequestKind,
        note: Option<&str>,
    ) -> Decided {
        let p = self.participant(id)?;
        if p.removed {
            return Err(Refusal::ParticipantRemoved(id));
        }
        let side = p.profile.modality.side();
        let origin = match self.actor {
            Actor::Participant(me) if me == id => Origin::SelfRaised,
            a => {
                self.manages(side, "raise a hand for someone else")?;
                proxy_origin(a)
            }
        };
        if let Some(request) = p.open_request {
            let state = self.s.requests()[request.0 as usize].state;
            return Err(Refusal::AlreadyQueued { request, state });
        }
        if origin == Origin::SelfRaised {
            // A closed list stops new speakers, not the rules of debate: a point of order is
            // about the meeting itself and must always be possible.
            if !self.s.list_open() && kind != RequestKind::PointOfOrder {
                return Err(Refusal::ListClosed);
            }
            self.throttle(p)?;
        }
        self.one(Fact::HandRaised {
            request: RequestId(next_id(self.s.requests().len())),
            participant: id,
            kind,
            note: checked_note(kind, note)?,
            origin,
        })
    }

    pub(super) fn add_proxy(
        &self,
        profile: &Profile,
        kind: RequestKind,
        note: Option<&str>,
    ) -> Decided {
        self.manages(profile.modality.side(), "add someone by proxy")?;
        let profile = self.profile(profile, None)?;
        let participant = ParticipantId(next_id(self.s.participants().len()));
        let note = checked_note(kind, note)?;
        Ok(vec![
            self.event(Fact::ParticipantJoined {
                participant,
                profile,
            }),
            self.event(Fact::HandRaised {
                request: RequestId(next_id(self.s.requests().len())),
                participant,
                kind,
                note,
                origin: proxy_origin(self.actor),
            }),
        ])
    }

    pub(super) fn change_request(
        &self,
        id: RequestId,
        kind: RequestKind,
        note: Option<&str>,
    ) -> Decided {
        let r = self.request(id)?;
        self.owns(r, "change someone else's request")?;
        if !(r.state.is_queued() || r.state == RequestState::Parked) {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        self.one(Fact::RequestChanged {
            request: id,
            kind,
            note: checked_note(kind, note)?,
        })
    }

    pub(super) fn lower_hand(&self, id: RequestId) -> Decided {
        let r = self.request(id)?;
        self.owns(r, "lower someone else's hand")?;
        if !(r.state.is_queued() || r.state == RequestState::Parked) {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        self.one(Fact::HandLowered { request: id })
    }

    pub(super) fn decline_for_now(&self, id: RequestId) -> Decided {
        let r = self.request(id)?;
        self.owns(r, "decline for someone else")?;
        if !r.state.is_queued() {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        self.one(Fact::RequestParked {
            request: id,
            reason: None,
        })
    }

    pub(super) fn audio_failed(&self, id: RequestId) -> Decided {
        self.moderator("report a speaker's audio")?;
        let r = self.request(id)?;
        self.manages(r.side, "report a speaker's audio")?;
        if r.side != Side::Remote {
            return Err(Refusal::invalid(
                "request",
                "audio is checked for remote speakers only",
            ));
        }
        if !r.state.is_queued() {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        self.one(Fact::RequestParked {
            request: id,
            reason: Some(ParkReason::AudioFailed),
        })
    }

    pub(super) fn rejoin(&self, id: RequestId) -> Decided {
        let r = self.request(id)?;
        // A moderator may bring back anyone parked on their side ("back in" on the consoles):
        // the person declined for now, not for good, and rejoining only puts them at the back.
        if self.actor.is_moderator() {
            self.manages(r.side, "bring back someone parked on the other side")?;
        } else {
            self.owns(r, "rejoin for someone else")?;
        }
        if r.state != RequestState::Parked {
            return Err(Refusal::NotParked {
                request: id,
                state: r.state,
            });
        }
        if self.actor == Actor::Participant(r.participant) {
            self.throttle(self.participant(r.participant)?)?;
        }
        self.one(Fact::RequestRejoined { request: id })
    }

    pub(super) fn mark_ready(&self, id: RequestId, ready: bool) -> Decided {
        self.moderator("mark a speaker ready")?;
        let r = self.request(id)?;
        if !r.state.is_queued() {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        if (r.state == RequestState::Ready) == ready {
            return Ok(Vec::new());
        }
        self.one(Fact::ReadyMarked { request: id, ready })
    }
}

impl Decision<'_> {
    /// A checked profile whose name is told apart from everyone else's; participants may not
    /// take an official's title (moderators entering someone by proxy may).
    fn profile(
        &self,
        profile: &Profile,
        renaming: Option<ParticipantId>,
    ) -> Result<Profile, Refusal> {
        let mut profile = text::profile(profile)?;
        if !self.actor.is_moderator() {
            names::check_not_reserved("name", &profile.name)?;
            names::check_not_reserved("affiliation", &profile.affiliation)?;
        }
        let except = renaming
            .and_then(|p| self.s.participant(p))
            .filter(|p| !p.removed)
            .map(|p| p.folded_name.as_str());
        profile.name = names::distinct(profile.name, self.s.names(), except);
        Ok(profile)
    }

    /// Refuse a participant's own raise past the burst allowed in the window.
    fn throttle(&self, p: &Participant) -> Result<(), Refusal> {
        match p.recent_raises.first() {
            Some(oldest) if p.recent_raises.len() >= RAISE_BURST => {
                let since = self.now.millis_since(*oldest);
                if since >= RAISE_WINDOW_MS {
                    Ok(())
                } else {
                    Err(Refusal::TooFast {
                        retry_after_ms: RAISE_WINDOW_MS - since,
                    })
                }
            }
            _ => Ok(()),
        }
    }
}

/// How a moderator's entry arrived: the chair's proxy, or the online moderator's relay.
pub(super) fn proxy_origin(actor: Actor) -> Origin {
    if actor == Actor::OnlineModerator {
        Origin::Relay
    } else {
        Origin::ChairProxy
    }
}

/// A text intervention needs its text, and may run to several lines (it is read out as
/// written); other notes are one short optional line.
fn checked_note(kind: RequestKind, note: Option<&str>) -> Result<Option<String>, Refusal> {
    if kind == RequestKind::TextIntervention {
        let t = text::multiline("note", note.unwrap_or(""), text::TEXT_MAX)?;
        if t.is_empty() {
            return Err(Refusal::invalid("note", "must not be empty"));
        }
        Ok(Some(t))
    } else {
        text::optional("note", note, text::NOTE_MAX)
    }
}
