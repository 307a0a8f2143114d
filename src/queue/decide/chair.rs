//! The chair's tools: open the session, overrides (move, remove, re-add), the list, policy and
//! limits, the agenda, shared links; the session controls, removing people, rotating links and
//! ending the session.

use std::collections::HashSet;

use super::super::{
    Actor, AgendaItem, Control, Ending, Event, Fact, LinkId, Order, ParticipantId, Policy, Refusal,
    RequestId, RequestKind, RequestState, Side, TimeLimits, Timestamp, text,
};
use super::{Decided, Decision, next_id};

/// Most agenda items, roster entries per item, and shared links per session.
const AGENDA_MAX: usize = 50;
const ROSTER_MAX: usize = 50;
const LINKS_MAX: usize = 100;

impl Decision<'_> {
    pub(super) fn open(
        &self,
        title: &str,
        policy: Policy,
        limits: TimeLimits,
        agenda: Vec<AgendaItem>,
    ) -> Decided {
        if self.s.is_open() {
            return Err(Refusal::AlreadyOpen);
        }
        if self.actor != super::Actor::Organizer {
            return Err(Refusal::Forbidden {
                action: "open a session",
            });
        }
        let title = text::required("title", title, text::TITLE_MAX)?;
        let mut events = vec![self.event(Fact::SessionOpened {
            title,
            policy: checked_policy(policy)?,
            limits: checked_limits(limits)?,
        })];
        if !agenda.is_empty() {
            let items = checked_agenda(agenda)?;
            events.extend(self.start_item(&items, 0, Vec::new()));
            events.insert(1, self.event(Fact::AgendaSet { items }));
        }
        Ok(events)
    }

    pub(super) fn move_to(&self, id: RequestId, position: u32, reason: Option<&str>) -> Decided {
        let r = self.request(id)?;
        self.manages(r.side, "move this entry")?;
        if !r.state.is_queued() {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        if position == 0 {
            return Err(Refusal::invalid("position", "positions start at 1"));
        }
        let last = u32::try_from(self.s.queued_len()).unwrap_or(u32::MAX);
        self.one(Fact::RequestMoved {
            request: id,
            from: self.position(id),
            to: position.min(last),
            reason: text::optional("reason", reason, text::TITLE_MAX)?,
        })
    }

    pub(super) fn remove(&self, id: RequestId, reason: Option<&str>) -> Decided {
        let r = self.request(id)?;
        self.manages(r.side, "remove this entry")?;
        if !(r.state.is_queued() || r.state == RequestState::Parked) {
            return Err(Refusal::NotWaiting {
                request: id,
                state: r.state,
            });
        }
        self.one(Fact::RequestRemoved {
            request: id,
            reason: text::optional("reason", reason, text::TITLE_MAX)?,
        })
    }

    pub(super) fn readd_last(&self, reason: Option<&str>) -> Decided {
        let t = self.s.last_ended_turn().ok_or(Refusal::NoLastSpeaker)?;
        self.manages(t.side, "re-add this speaker")?;
        let p = self.participant(t.participant)?;
        if p.removed {
            return Err(Refusal::ParticipantRemoved(t.participant));
        }
        if let Some(request) = p.open_request {
            let state = self.s.requests()[request.0 as usize].state;
            return Err(Refusal::AlreadyQueued { request, state });
        }
        self.one(Fact::SpeakerReadded {
            request: RequestId(next_id(self.s.requests().len())),
            participant: t.participant,
            kind: t.kind,
            origin: super::proxy_origin(self.actor),
            reason: text::optional("reason", reason, text::TITLE_MAX)?,
        })
    }

    pub(super) fn close_list(&self, confirm: bool) -> Decided {
        self.chair("close the list")?;
        if !self.s.list_open() {
            return Ok(Vec::new());
        }
        let count = self.s.queued_on(Side::Remote);
        if count > 0 && !confirm {
            return Err(Refusal::RemoteWaiting { count });
        }
        self.one(Fact::ListClosed)
    }

    pub(super) fn reopen_list(&self) -> Decided {
        self.chair("reopen the list")?;
        if self.s.list_open() {
            return Ok(Vec::new());
        }
        self.one(Fact::ListReopened)
    }

    pub(super) fn set_policy(&self, policy: Policy) -> Decided {
        self.chair("change the policy")?;
        self.one(Fact::PolicyChanged {
            policy: checked_policy(policy)?,
        })
    }

    pub(super) fn set_limits(&self, limits: TimeLimits) -> Decided {
        self.chair("change the time limits")?;
        self.one(Fact::TimeLimitsChanged {
            limits: checked_limits(limits)?,
        })
    }

    pub(super) fn set_scope(&self, remote_only: bool) -> Decided {
        self.chair("limit the online moderator")?;
        self.one(Fact::ModeratorScopeChanged { remote_only })
    }

    pub(super) fn set_agenda(&self, items: Vec<AgendaItem>) -> Decided {
        self.chair("change the agenda")?;
        self.one(Fact::AgendaSet {
            items: checked_agenda(items)?,
        })
    }

    pub(super) fn advance_agenda(&self, carry_over: bool) -> Decided {
        self.chair("move to the next agenda item")?;
        if let Some(t) = self.s.floor() {
            return Err(Refusal::FloorBusy(t.id));
        }
        let next = self.s.current_item().map_or(0, |i| i + 1);
        if next as usize >= self.s.agenda().len() {
            return Err(Refusal::AgendaEnd);
        }
        let cleared = if carry_over {
            Vec::new()
        } else {
            self.s
                .requests()
                .iter()
                .filter(|r| r.state.is_queued() || r.state == RequestState::Parked)
                .map(|r| r.id)
                .collect()
        };
        Ok(self.start_item(self.s.agenda(), next, cleared))
    }

    /// Events that start agenda item `item`: the advance itself, then each roster speaker
    /// registered and queued in roster order.
    fn start_item(&self, items: &[AgendaItem], item: u32, cleared: Vec<RequestId>) -> Vec<Event> {
        let mut events = vec![self.event(Fact::AgendaAdvanced { item, cleared })];
        let (p0, r0) = (self.s.participants().len(), self.s.requests().len());
        for (i, profile) in items[item as usize].roster.iter().enumerate() {
            let participant = ParticipantId(next_id(p0 + i));
            events.push(self.event(Fact::ParticipantJoined {
                participant,
                profile: profile.clone(),
            }));
            events.push(self.event(Fact::HandRaised {
                request: RequestId(next_id(r0 + i)),
                participant,
                kind: RequestKind::Intervention,
                note: None,
                origin: super::super::Origin::Roster,
            }));
        }
        events
    }

    pub(super) fn post_link(&self, title: &str, url: &str) -> Decided {
        self.moderator("share links")?;
        if self.s.links().len() >= LINKS_MAX {
            return Err(Refusal::invalid("links", "too many shared links"));
        }
        let url = text::url(url)?;
        let title =
            text::optional("title", Some(title), text::TITLE_MAX)?.unwrap_or_else(|| url.clone());
        self.one(Fact::LinkPosted {
            link: self.s.next_link(),
            title,
            url,
        })
    }

    pub(super) fn remove_link(&self, link: LinkId) -> Decided {
        self.moderator("take links down")?;
        if !self.s.links().iter().any(|l| l.id == link) {
            return Err(Refusal::UnknownLink(link));
        }
        self.one(Fact::LinkRemoved { link })
    }
}

fn checked_policy(policy: Policy) -> Result<Policy, Refusal> {
    if let Order::Alternate { room, remote } = policy.order {
        let ok = 1..=Policy::MAX_RATIO;
        if !ok.contains(&room) || !ok.contains(&remote) {
            return Err(Refusal::invalid(
                "ratio",
                "each side's turns must be 1 to 10",
            ));
        }
    }
    if let Some(s) = policy.starvation_ms
        && !(Policy::MIN_STARVATION_MS..=Policy::MAX_STARVATION_MS).contains(&s)
    {
        return Err(Refusal::invalid(
            "starvation_ms",
            "must be between 30 s and 4 h",
        ));
    }
    Ok(policy)
}

fn checked_limits(limits: TimeLimits) -> Result<TimeLimits, Refusal> {
    let range = TimeLimits::MIN_MS..=TimeLimits::MAX_MS;
    if !range.contains(&limits.default_ms) || !limits.per_kind.values().all(|v| range.contains(v)) {
        return Err(Refusal::invalid(
            "limits",
            "each limit must be between 10 s and 1 h",
        ));
    }
    if limits.warning_ms > TimeLimits::MAX_MS {
        return Err(Refusal::invalid("warning_ms", "must be at most 1 h"));
    }
    Ok(limits)
}

fn checked_agenda(items: Vec<AgendaItem>) -> Result<Vec<AgendaItem>, Refusal> {
    if items.len() > AGENDA_MAX {
        return Err(Refusal::invalid("agenda", "at most 50 items"));
    }
    items
        .into_iter()
        .map(|item| {
            if item.roster.len() > ROSTER_MAX {
                return Err(Refusal::invalid("roster", "at most 50 speakers per item"));
            }
            Ok(AgendaItem {
                title: text::required("title", &item.title, text::TITLE_MAX)?,
                roster: item
                    .roster
                    .iter()
                    .map(text::profile)
                    .collect::<Result<_, _>>()?,
            })
        })
        .collect()
}

/// Session controls, removing people, rotating links, ending.
impl Decision<'_> {
    pub(super) fn set_control(&self, control: Control, on: bool) -> Decided {
        match control {
            Control::RenameLock => self.chair("lock renaming")?,
            Control::Lock | Control::Suspend => self.moderator("lock or suspend the session")?,
        }
        if self.s.controls().get(control) == on {
            return Ok(Vec::new());
        }
        self.one(Fact::ControlSet { control, on })
    }

    pub(super) fn remove_participant(&self, id: ParticipantId, reason: Option<&str>) -> Decided {
        let p = self.participant(id)?;
        self.manages(p.profile.modality.side(), "remove this participant")?;
        if p.removed {
            return Ok(Vec::new());
        }
        let reason = text::optional("reason", reason, text::TITLE_MAX)?;
        let mut events = Vec::with_capacity(2);
        match self.s.floor() {
            Some(t) if t.participant == id => events.push(self.event(Fact::TurnEnded {
                turn: t.id,
                ending: Ending::Ended,
            })),
            _ => {
                if let Some(request) = p.open_request {
                    events.push(self.event(Fact::RequestRemoved {
                        request,
                        reason: reason.clone(),
                    }));
                }
            }
        }
        events.push(self.event(Fact::ParticipantRemoved {
            participant: id,
            reason,
        }));
        Ok(events)
    }

    pub(super) fn remove_silent(&self, since: Option<Timestamp>, reason: Option<&str>) -> Decided {
        self.chair("remove participants in bulk")?;
        let reason = text::optional("reason", reason, text::TITLE_MAX)?;
        let raised: HashSet<ParticipantId> =
            self.s.requests().iter().map(|r| r.participant).collect();
        Ok(self
            .s
            .participants()
            .iter()
            .filter(|p| {
                !p.removed
                    && p.joined_by == Actor::Newcomer
                    && since.is_none_or(|t| p.joined_at >= t)
                    && p.turns == 0
                    && !raised.contains(&p.id)
            })
            .take(super::super::PURGE_MAX)
            .map(|p| {
                self.event(Fact::ParticipantRemoved {
                    participant: p.id,
                    reason: reason.clone(),
                })
            })
            .collect())
    }

    pub(super) fn set_takeaways(&self, text: &str) -> Decided {
        self.chair("write the report's takeaways")?;
        let text = text::multiline("takeaways", text, text::TAKEAWAYS_MAX)?;
        if text == self.s.takeaways() {
            return Ok(Vec::new());
        }
        self.one(Fact::TakeawaysSet { text })
    }

    pub(super) fn rotate_keys(&self) -> Decided {
        self.chair("invalidate the session's links")?;
        self.one(Fact::KeysRotated)
    }

    pub(super) fn end_session(&self) -> Decided {
        self.chair("end the session")?;
        let mut events = Vec::with_capacity(2);
        if let Some(t) = self.s.floor() {
            events.push(self.event(Fact::TurnEnded {
                turn: t.id,
                ending: Ending::Ended,
            }));
        }
        events.push(self.event(Fact::SessionEnded));
        Ok(events)
    }
}
