//! [`decide`]: turn a command into events, or refuse it. Pure: it reads the state and the time it
//! is given and changes nothing; the caller appends the events and then applies them.
//!
//! The rules live here, split by who uses them: `requests` (joining and hands), `floor` (grants
//! and the clock), `chair` (overrides, the list, policy, agenda, links).

mod chair;
mod floor;
mod requests;

use requests::proxy_origin;

use super::{
    Actor, Command, Event, Fact, FloorSeen, Participant, ParticipantId, Refusal, Request,
    RequestId, Side, State, Timestamp,
};

/// Decide `command` from `actor` against `state` at server time `now`.
///
/// Returns the events to append (possibly none, when the command asks for what already holds,
/// like marking a ready request ready) or a refusal. A refusal changes nothing.
pub fn decide(
    state: &State,
    actor: Actor,
    command: Command,
    now: Timestamp,
) -> Result<Vec<Event>, Refusal> {
    let d = Decision {
        s: state,
        actor,
        now,
    };
    match command {
        Command::OpenSession {
            title,
            policy,
            limits,
            agenda,
        } => d.open(&title, policy, limits, agenda),
        _ if !state.is_open() => Err(Refusal::NotOpen),
        // The report is written after the meeting, too.
        Command::SetTakeaways { text } => d.set_takeaways(&text),
        _ if state.controls().ended => Err(Refusal::SessionEnded),
        ref c if let Err(refusal) = d.admit(c) => Err(refusal),
        Command::Join { profile } => d.join(&profile),
        Command::UpdateProfile {
            participant,
            profile,
        } => d.update_profile(participant, &profile),
        Command::RaiseHand {
            participant,
            kind,
            note,
        } => d.raise_hand(participant, kind, note.as_deref()),
        Command::AddProxy {
            profile,
            kind,
            note,
        } => d.add_proxy(&profile, kind, note.as_deref()),
        Command::ChangeRequest {
            request,
            kind,
            note,
        } => d.change_request(request, kind, note.as_deref()),
        Command::LowerHand { request } => d.lower_hand(request),
        Command::DeclineForNow { request } => d.decline_for_now(request),
        Command::AudioFailed { request } => d.audio_failed(request),
        Command::Rejoin { request } => d.rejoin(request),
        Command::MarkReady { request, ready } => d.mark_ready(request, ready),
        Command::GrantFloor {
            target,
            force,
            seen,
            reason,
        } => d.grant(target, force, seen, reason.as_deref()),
        Command::EndTurn { seen } => d.end_turn(seen),
        Command::Yield => d.yield_floor(),
        Command::PauseClock { seen } => d.pause(seen),
        Command::ResumeClock { seen } => d.resume(seen),
        Command::ExtendTurn { by_ms, seen } => d.extend(by_ms, seen),
        Command::ShowText { shown, seen } => d.show_text(shown, seen),
        Command::Move {
            request,
            position,
            reason,
        } => d.move_to(request, position, reason.as_deref()),
        Command::Remove { request, reason } => d.remove(request, reason.as_deref()),
        Command::ReaddLastSpeaker { reason } => d.readd_last(reason.as_deref()),
        Command::CloseList { confirm } => d.close_list(confirm),
        Command::ReopenList => d.reopen_list(),
        Command::SetPolicy { policy } => d.set_policy(policy),
        Command::SetTimeLimits { limits } => d.set_limits(limits),
        Command::SetModeratorScope { remote_only } => d.set_scope(remote_only),
        Command::SetAgenda { items } => d.set_agenda(items),
        Command::AdvanceAgenda { carry_over } => d.advance_agenda(carry_over),
        Command::PostLink { title, url } => d.post_link(&title, &url),
        Command::RemoveLink { link } => d.remove_link(link),
        Command::SetControl { control, on } => d.set_control(control, on),
        Command::RemoveParticipant {
            participant,
            reason,
        } => d.remove_participant(participant, reason.as_deref()),
        Command::RemoveSilent { since, reason } => d.remove_silent(since, reason.as_deref()),
        Command::RotateKeys => d.rotate_keys(),
        Command::EndSession => d.end_session(),
    }
}

type Decided = Result<Vec<Event>, Refusal>;

/// One command being decided: the state, who asks, and when.
struct Decision<'a> {
    s: &'a State,
    actor: Actor,
    now: Timestamp,
}

impl Decision<'_> {
    fn event(&self, fact: Fact) -> Event {
        Event {
            at: self.now,
            actor: self.actor,
            fact,
        }
    }

    fn one(&self, fact: Fact) -> Decided {
        Ok(vec![self.event(fact)])
    }

    /// The session controls, for participants: a removed participant can do nothing, a
    /// suspension stops every participant, a lock stops newcomers joining.
    fn admit(&self, command: &Command) -> Result<(), Refusal> {
        let controls = self.s.controls();
        match self.actor {
            Actor::Participant(p) if self.participant(p)?.removed => {
                Err(Refusal::ParticipantRemoved(p))
            }
            Actor::Participant(_) | Actor::Newcomer if controls.suspended => {
                Err(Refusal::Suspended)
            }
            Actor::Newcomer if controls.locked && matches!(command, Command::Join { .. }) => {
                Err(Refusal::SessionLocked)
            }
            _ => Ok(()),
        }
    }

    fn participant(&self, id: ParticipantId) -> Result<&Participant, Refusal> {
        self.s
            .participant(id)
            .ok_or(Refusal::UnknownParticipant(id))
    }

    fn request(&self, id: RequestId) -> Result<&Request, Refusal> {
        self.s.request(id).ok_or(Refusal::UnknownRequest(id))
    }

    /// Chair or organizer.
    fn chair(&self, action: &'static str) -> Result<(), Refusal> {
        if self.actor.is_chair() {
            Ok(())
        } else {
            Err(Refusal::Forbidden { action })
        }
    }

    /// Any moderator.
    fn moderator(&self, action: &'static str) -> Result<(), Refusal> {
        if self.actor.is_moderator() {
            Ok(())
        } else {
            Err(Refusal::Forbidden { action })
        }
    }

    /// A moderator who manages entries of `side`: the chair any, the online moderator remote ones.
    fn manages(&self, side: Side, action: &'static str) -> Result<(), Refusal> {
        match self.actor {
            a if a.is_chair() => Ok(()),
            Actor::OnlineModerator if side == Side::Remote => Ok(()),
            _ => Err(Refusal::Forbidden { action }),
        }
    }

    /// The request's own participant, or a moderator managing it when it was entered by proxy
    /// (someone with no device cannot lower their own hand).
    fn owns(&self, r: &Request, action: &'static str) -> Result<(), Refusal> {
        match self.actor {
            Actor::Participant(p) if p == r.participant => Ok(()),
            a if a.is_moderator() && r.origin != super::Origin::SelfRaised => {
                self.manages(r.side, action)
            }
            _ => Err(Refusal::Forbidden { action }),
        }
    }

    /// May run the floor for a speaker of `side`: the chair always, the online moderator unless
    /// the chair limited it to remote speakers.
    fn runs_floor(&self, side: Side, action: &'static str) -> Result<(), Refusal> {
        match self.actor {
            a if a.is_chair() => Ok(()),
            Actor::OnlineModerator if !self.s.moderator_remote_only() || side == Side::Remote => {
                Ok(())
            }
            _ => Err(Refusal::Forbidden { action }),
        }
    }

    /// Refuse a stale floor command: the moderator must have seen the floor as it is.
    fn seen(&self, seen: FloorSeen) -> Result<(), Refusal> {
        let current = self.s.floor().map(|t| t.id);
        let matches = match seen {
            FloorSeen::Any => true,
            FloorSeen::Empty => current.is_none(),
            FloorSeen::Turn(t) => current == Some(t),
        };
        if matches {
            Ok(())
        } else {
            Err(Refusal::Conflict { current })
        }
    }
}

fn next_id(len: usize) -> u32 {
    u32::try_from(len).expect("fewer than 2^32 entries per session")
}

#[cfg(test)]
mod tests;
