//! One session's report in the IGF template: the data (`IgfReport`, the API's JSON) and its
//! Markdown, written from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::{TEXT, mmss, sections, text_or_placeholder};
use crate::ids::SessionId;
use crate::programme::{Room, RoomId, Slot, when};
use crate::queue::{Event, Gender, State};
use crate::report::Report;

/// Participants and the people they stand for, by self-declared gender.
fn by_gender(events: &[Event]) -> BTreeMap<String, Counted> {
    let state = State::replay(events);
    let mut out = BTreeMap::new();
    for p in state.participants().iter().filter(|p| !p.removed) {
        let g = match p.profile.gender {
            Some(Gender::Woman) => "woman",
            Some(Gender::Man) => "man",
            Some(Gender::NonBinary) => "non_binary",
            Some(Gender::SelfDescribed) => "self_described",
            None => "undeclared",
        };
        let e: &mut Counted = out.entry(g.to_owned()).or_default();
        e.participants += 1;
        e.people += u64::from(p.profile.head_count);
    }
    out
}
/// Where and when the programme placed a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IgfPlacement {
    /// The programme's stable id for it.
    pub external_id: String,
    /// The room.
    pub room: RoomId,
    /// The room's name.
    pub room_name: String,
    /// When it starts (RFC 3339, UTC).
    pub start: String,
    /// When it ends (RFC 3339, UTC).
    pub end: String,
}

/// The rapporteur's text, section by section (the console's boxes): `""` for a section not
/// written yet (the Markdown says it is to be written by the rapporteur).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IgfText {
    /// 1. Key policy questions (beside the agenda's items).
    pub questions: String,
    /// 2. Summary of issues discussed (also the takeaways written before there were sections).
    pub summary: String,
    /// 3. Policy recommendations / way forward.
    pub recommendations: String,
    /// 4. Other initiatives.
    pub initiatives: String,
    /// 5. Making progress.
    pub progress: String,
    /// 7. Reflection on gender issues.
    pub gender: String,
    /// 8. Session outputs.
    pub outputs: String,
}

/// Participants and the people they stand for (a hub counts its head count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Counted {
    /// Participants known to the session (a hub counts once).
    pub participants: usize,
    /// People they stand for.
    pub people: u64,
}

/// 6. Estimated participation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IgfParticipation {
    /// People in the room.
    pub onsite: u64,
    /// People online.
    pub online: u64,
    /// People at remote hubs, by their head count.
    pub hub: u64,
    /// Everyone.
    pub total: u64,
    /// Each remote hub.
    pub hubs: Vec<crate::report::Hub>,
    /// By self-declared gender (`woman`, `man`, `non_binary`, `self_described`, `undeclared`).
    pub by_gender: BTreeMap<String, Counted>,
}

/// Requests and turns of one declared gender.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RequestsTurns {
    /// Requests for the floor.
    pub requests: usize,
    /// Turns given.
    pub turns: usize,
}

/// One modality's turns, speaking time and waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct ModalityTurns {
    /// Turns given.
    pub turns: usize,
    /// Speaking time, pauses excluded.
    pub speaking_ms: u64,
    /// The mean wait for a turn.
    pub mean_wait_ms: u64,
}

/// Remote questions and text interventions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct RemoteQuestions {
    /// Asked.
    pub asked: u32,
    /// Of those, relayed by the online moderator.
    pub forwarded: u32,
    /// Of those, given the floor.
    pub answered: u32,
}

/// One session's report in the IGF template, as data: what the Markdown, the printable page and
/// the `.odt` say, numbered as the template's sections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct IgfReport {
    /// The session.
    pub session: SessionId,
    /// Its title.
    pub title: String,
    /// When it was created (RFC 3339).
    pub date: String,
    /// Whether it has ended.
    pub ended: bool,
    /// Where and when the programme placed it (`null` for a session outside the programme).
    pub programme: Option<IgfPlacement>,
    /// 1. The key policy questions: the agenda's items.
    pub key_policy_questions: Vec<String>,
    /// Sections 1 to 5, 7 and 8 as the rapporteur wrote them.
    pub text: IgfText,
    /// 6. Estimated participation.
    pub participation: IgfParticipation,
    /// 7. Requests and turns by self-declared gender.
    pub gender: BTreeMap<String, RequestsTurns>,
    /// 8. Turns, speaking time and mean wait by modality (`onsite`, `online`, `hub`).
    pub outputs: BTreeMap<String, ModalityTurns>,
    /// 8. Remote questions.
    pub remote_questions: RemoteQuestions,
}

impl IgfReport {
    /// The report of a session: `report` recomputed from `events`, and where the programme
    /// placed it, if it did.
    pub fn of(report: &Report, events: &[Event], placed: Option<(&Slot, &Room)>) -> Self {
        let [
            questions,
            summary,
            recommendations,
            initiatives,
            progress,
            gender,
            outputs,
        ] = sections(&report.takeaways);
        let people = |m: &str| report.attendance.get(m).map_or(0, |a| a.people);
        let count = |m: &BTreeMap<String, usize>, g: &str| m.get(g).copied().unwrap_or(0);
        let genders: std::collections::BTreeSet<&String> = report
            .requests
            .by_gender
            .keys()
            .chain(report.turns.by_gender.keys())
            .collect();
        Self {
            session: report.session,
            title: report.title.clone(),
            date: report.date.clone(),
            ended: report.ended,
            programme: placed.map(|(slot, room)| IgfPlacement {
                external_id: slot.external_id.clone(),
                room: room.id,
                room_name: room.name.clone(),
                start: when::rfc3339(slot.start),
                end: when::rfc3339(slot.end),
            }),
            key_policy_questions: report.agenda.clone(),
            text: IgfText {
                questions,
                summary,
                recommendations,
                initiatives,
                progress,
                gender,
                outputs,
            },
            participation: IgfParticipation {
                onsite: people("onsite"),
                online: people("online"),
                hub: people("hub"),
                total: report.people,
                hubs: report.hubs.clone(),
                by_gender: by_gender(events),
            },
            gender: genders
                .into_iter()
                .map(|g| {
                    let n = RequestsTurns {
                        requests: count(&report.requests.by_gender, g),
                        turns: count(&report.turns.by_gender, g),
                    };
                    (g.clone(), n)
                })
                .collect(),
            outputs: report
                .speaking
                .iter()
                .map(|(m, s)| {
                    let wait = report.waits.get(m).copied().unwrap_or_default();
                    let t = ModalityTurns {
                        turns: s.count,
                        speaking_ms: s.total_ms,
                        mean_wait_ms: wait.mean_ms,
                    };
                    (m.clone(), t)
                })
                .collect(),
            remote_questions: RemoteQuestions {
                asked: report.remote_questions.asked,
                forwarded: report.remote_questions.forwarded,
                answered: report.remote_questions.answered,
            },
        }
    }

    /// The report in the template, as Markdown.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        self.heading(&mut md);
        self.questions(&mut md);
        self.participation(&mut md);
        self.gender(&mut md);
        self.outputs(&mut md);
        md
    }

    /// The title, the session and where and when the programme placed it.
    fn heading(&self, w: &mut String) {
        let _ = writeln!(w, "# IGF session report: {}\n", self.title);
        let state = if self.ended { "ended" } else { "in progress" };
        let _ = writeln!(w, "- Session: `{}` ({state})", self.session);
        match &self.programme {
            Some(p) => {
                let _ = writeln!(
                    w,
                    "- Programme: {} in {}, {} to {} (UTC)",
                    p.external_id, p.room_name, p.start, p.end
                );
            }
            None => {
                let _ = writeln!(w, "- Date: {}", self.date);
            }
        }
    }

    /// Sections 1 to 5: the policy questions (the agenda) and the rapporteur's texts.
    fn questions(&self, w: &mut String) {
        let text = &self.text;
        let _ = writeln!(w, "\n## 1. {}\n", TEXT[0].0);
        for (i, item) in self.key_policy_questions.iter().enumerate() {
            let _ = writeln!(w, "{}. {item}", i + 1);
        }
        if self.key_policy_questions.is_empty() || !text.questions.is_empty() {
            let _ = writeln!(w, "{}", text_or_placeholder(&text.questions));
        }
        for (n, i, body) in [
            (2, 1, &text.summary),
            (3, 2, &text.recommendations),
            (4, 3, &text.initiatives),
            (5, 4, &text.progress),
        ] {
            let _ = writeln!(
                w,
                "\n## {n}. {}\n\n{}",
                TEXT[i].0,
                text_or_placeholder(body)
            );
        }
    }

    /// Section 6: people by modality (hubs by head count) and by declared gender.
    fn participation(&self, w: &mut String) {
        let p = &self.participation;
        let _ = writeln!(w, "\n## 6. Estimated participation\n");
        let _ = writeln!(
            w,
            "| onsite | online | hubs (head count) | total |\n|---:|---:|---:|---:|\n| {} | {} | {} | {} |",
            p.onsite, p.online, p.hub, p.total
        );
        for h in &p.hubs {
            let _ = writeln!(
                w,
                "\n- Hub: {} ({}), {} people",
                h.name, h.affiliation, h.head_count
            );
        }
        let _ = writeln!(
            w,
            "\nBy self-declared gender:\n\n| gender | participants | people |\n|---|---:|---:|"
        );
        for (g, c) in &p.by_gender {
            let _ = writeln!(w, "| {g} | {} | {} |", c.participants, c.people);
        }
    }

    /// Section 7: requests and turns by declared gender, and the rapporteur's reflection.
    fn gender(&self, w: &mut String) {
        let _ = writeln!(w, "\n## 7. {}\n", TEXT[5].0);
        let _ = writeln!(w, "| gender | requests | turns |\n|---|---:|---:|");
        for (g, n) in &self.gender {
            let _ = writeln!(w, "| {g} | {} | {} |", n.requests, n.turns);
        }
        let _ = writeln!(w, "\n{}", text_or_placeholder(&self.text.gender));
    }

    /// Section 8: turns, speaking time and waits by modality, remote questions, the outputs' text.
    fn outputs(&self, w: &mut String) {
        let _ = writeln!(w, "\n## 8. {}\n", TEXT[6].0);
        let _ = writeln!(
            w,
            "| modality | turns | speaking time | mean wait |\n|---|---:|---:|---:|"
        );
        for (m, t) in &self.outputs {
            let _ = writeln!(
                w,
                "| {m} | {} | {} | {} |",
                t.turns,
                mmss(t.speaking_ms),
                mmss(t.mean_wait_ms)
            );
        }
        let q = &self.remote_questions;
        let _ = writeln!(
            w,
            "\nRemote questions: {} asked, {} forwarded by the online moderator, {} answered.\n\n{}",
            q.asked,
            q.forwarded,
            q.answered,
            text_or_placeholder(&self.text.outputs)
        );
    }
}

/// One session's report in the IGF template, as Markdown ([`IgfReport::markdown`]).
pub fn session_markdown(
    report: &Report,
    events: &[Event],
    placed: Option<(&Slot, &Room)>,
) -> String {
    IgfReport::of(report, events, placed).markdown()
}
