//! The session report: what an IGF session report asks for, recomputed from the event log every
//! time (never stored, so it cannot drift from the record). JSON for tools (the API), Markdown for
//! people (`rostrum report`).
//!
//! Self-declared gender appears only as counts; no figure names a person except hubs (which are
//! places) and moderators' override reasons.

mod markdown;

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use crate::ids::SessionId;
use crate::protocol::RemoteCounts;
use crate::queue::{
    Actor, Event, Figures, Modality, Override, Participant, State, Stats, Timestamp,
};

/// People taking part, per modality.
#[derive(schemars::JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Attendance {
    /// Participants known to the session (hubs count once).
    pub participants: usize,
    /// People they stand for (a hub counts its head count).
    pub people: u64,
}

/// A remote hub and the people it spoke for.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hub {
    /// Its name.
    pub name: String,
    /// Its affiliation.
    pub affiliation: String,
    /// People at the hub.
    pub head_count: u32,
}

/// How one moderator role took part.
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moderation {
    /// `chair`, `online_moderator` or `organizer`.
    pub role: &'static str,
    /// Changes they made.
    pub actions: usize,
}

/// Counts split four ways. Keys are the wire's snake_case names; `undeclared` where a
/// participant did not say.
#[derive(schemars::JsonSchema, Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    /// In all.
    pub total: usize,
    /// By modality.
    pub by_modality: BTreeMap<String, usize>,
    /// By kind of request.
    pub by_kind: BTreeMap<String, usize>,
    /// By stakeholder group.
    pub by_stakeholder: BTreeMap<String, usize>,
    /// By self-declared gender (aggregate only).
    pub by_gender: BTreeMap<String, usize>,
}

/// Requests nobody served: still waiting when the session ended (or at its last event).
#[derive(schemars::JsonSchema, Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Unserved {
    /// How many.
    pub count: usize,
    /// The longest of their waits so far.
    pub longest_ms: u64,
    /// Their waits so far, summed.
    pub total_ms: u64,
}

/// One turn in the list of who spoke, in order (OpenSlides' "finished speakers").
#[derive(schemars::JsonSchema, Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Spoken {
    /// When the floor was given.
    pub at: Timestamp,
    /// Who spoke.
    pub name: String,
    /// Their country or organisation.
    pub affiliation: String,
    /// Onsite, online or hub.
    pub modality: String,
    /// The kind of request the turn served.
    pub kind: String,
    /// How it arrived: `self`, `chair_proxy`, `relay` or `roster`.
    pub origin: String,
    /// Speaking time, pauses excluded (so far, for a turn still running at the end).
    pub spoken_ms: u64,
}

/// A session's report.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Report {
    /// The session.
    pub session: SessionId,
    /// Its title.
    pub title: String,
    /// When it was created (RFC 3339).
    pub date: String,
    /// Whether it has ended.
    pub ended: bool,
    /// The moderator roles that acted, and how much.
    pub moderators: Vec<Moderation>,
    /// Agenda item titles.
    pub agenda: Vec<String>,
    /// Participants and people per modality: the "estimated participation".
    pub attendance: BTreeMap<String, Attendance>,
    /// People in all (hubs count their head count).
    pub people: u64,
    /// Remote hubs.
    pub hubs: Vec<Hub>,
    /// Requests for the floor.
    pub requests: Breakdown,
    /// Turns given.
    pub turns: Breakdown,
    /// How long requests waited for their turn, per modality.
    pub waits: BTreeMap<String, Figures>,
    /// How long turns lasted, per modality.
    pub speaking: BTreeMap<String, Figures>,
    /// Requests still waiting at the end, per modality: the waits above count only those who
    /// spoke, so a side that was never reached shows here.
    pub unserved: BTreeMap<String, Unserved>,
    /// Remote questions asked, forwarded by the online moderator, and answered.
    pub remote_questions: RemoteCounts,
    /// Every moderator override, with whose entry and the reason.
    pub overrides: Vec<Override>,
    /// Who spoke, in order, with how long.
    pub speakers: Vec<Spoken>,
    /// The rapporteur's key takeaways.
    pub takeaways: String,
}

/// A value's snake_case wire name (`"onsite"`, `"point_of_order"`...).
fn name<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn declared<T: Serialize>(v: Option<&T>) -> String {
    v.map_or_else(|| "undeclared".to_owned(), name)
}

impl Breakdown {
    fn count(&mut self, p: &Participant, kind: String) {
        self.total += 1;
        *self
            .by_modality
            .entry(name(&p.profile.modality))
            .or_default() += 1;
        *self.by_kind.entry(kind).or_default() += 1;
        *self
            .by_stakeholder
            .entry(declared(p.profile.stakeholder.as_ref()))
            .or_default() += 1;
        *self
            .by_gender
            .entry(declared(p.profile.gender.as_ref()))
            .or_default() += 1;
    }
}

impl Report {
    /// The report of session `id`, created at `created_at`, from its whole log.
    pub fn of(id: SessionId, created_at: Timestamp, events: &[Event]) -> Self {
        let state = State::replay(events);
        let stats = Stats::of(events);
        let who = |p: crate::queue::ParticipantId| &state.participants()[p.0 as usize];
        let (mut requests, mut turns) = (Breakdown::default(), Breakdown::default());
        for r in state.requests() {
            requests.count(who(r.participant), name(&r.kind));
        }
        for t in state.turns() {
            turns.count(who(t.participant), name(&t.kind));
        }
        let moderators = [
            (Actor::Chair, "chair"),
            (Actor::OnlineModerator, "online_moderator"),
            (Actor::Organizer, "organizer"),
        ]
        .into_iter()
        .map(|(actor, role)| Moderation {
            role,
            actions: events.iter().filter(|e| e.actor == actor).count(),
        })
        .filter(|m| m.actions > 0)
        .collect();
        let per_modality = |f: &dyn Fn(&crate::queue::SideStats) -> Figures| {
            stats
                .by_modality
                .iter()
                .map(|(m, s)| (name(m), f(s)))
                .collect::<BTreeMap<_, _>>()
        };
        // Waits so far are measured at the end of the session, or at its last event.
        let end = events
            .iter()
            .find(|e| matches!(e.fact, crate::queue::Fact::SessionEnded))
            .or(events.last())
            .map_or(created_at, |e| e.at);
        let mut unserved: BTreeMap<String, Unserved> = BTreeMap::new();
        for r in state.requests().iter().filter(|r| r.state.is_queued()) {
            let u = unserved
                .entry(name(&who(r.participant).profile.modality))
                .or_default();
            let waited = end.millis_since(r.queued_at);
            u.count += 1;
            u.longest_ms = u.longest_ms.max(waited);
            u.total_ms += waited;
        }
        Report {
            session: id,
            title: state.title().to_owned(),
            date: humantime::format_rfc3339_seconds(
                UNIX_EPOCH + Duration::from_millis(created_at.0),
            )
            .to_string(),
            ended: state.controls().ended,
            moderators,
            agenda: state.agenda().iter().map(|i| i.title.clone()).collect(),
            attendance: stats
                .by_modality
                .iter()
                .map(|(m, s)| {
                    let a = Attendance {
                        participants: s.participants,
                        people: s.people,
                    };
                    (name(m), a)
                })
                .collect(),
            people: stats.by_modality.values().map(|s| s.people).sum(),
            hubs: state
                .participants()
                .iter()
                .filter(|p| p.profile.modality == Modality::Hub)
                .map(|p| Hub {
                    name: p.profile.name.clone(),
                    affiliation: p.profile.affiliation.clone(),
                    head_count: p.profile.head_count,
                })
                .collect(),
            requests,
            turns,
            waits: per_modality(&|s| s.wait),
            speaking: per_modality(&|s| s.speaking),
            unserved,
            remote_questions: RemoteCounts::of(&state),
            overrides: stats.overrides,
            speakers: state
                .turns()
                .iter()
                .map(|t| {
                    let p = &who(t.participant).profile;
                    Spoken {
                        at: t.granted_at,
                        name: p.name.clone(),
                        affiliation: p.affiliation.clone(),
                        modality: name(&p.modality),
                        kind: name(&t.kind),
                        origin: name(&state.requests()[t.request.0 as usize].origin),
                        spoken_ms: t.spoken_ms(end),
                    }
                })
                .collect(),
            takeaways: state.takeaways().to_owned(),
        }
    }
}
