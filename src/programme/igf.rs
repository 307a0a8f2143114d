//! The official report in the IGF's template, per session, and the event's summary for the
//! secretariat, as Markdown. The figures come from the session's log (through
//! [`crate::report::Report`]); the text sections from the rapporteur's takeaways, split at
//! Markdown headings that name a section (`## Policy recommendations`, `## Other initiatives`
//! ...), so the console's takeaways box already holds every section. Text before any heading is
//! the summary of issues discussed.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Room, Slot, when};
use crate::queue::{Event, Gender, State};
use crate::report::Report;

/// The template's text sections, in order: (title, words a heading is recognized by).
const TEXT: [(&str, &[&str]); 7] = [
    ("Key policy questions", &["policy question", "key policy"]),
    (
        "Summary of issues discussed",
        &["summary", "issues discussed"],
    ),
    (
        "Policy recommendations / way forward",
        &["recommendation", "way forward"],
    ),
    ("Other initiatives", &["initiative"]),
    ("Making progress", &["progress"]),
    ("Reflection on gender issues", &["gender"]),
    ("Session outputs", &["output"]),
];
const SUMMARY: usize = 1;
const TO_WRITE: &str = "_To be written by the rapporteur._";

/// The rapporteur's text, split into the template's sections.
fn sections(takeaways: &str) -> [String; 7] {
    let mut out: [String; 7] = Default::default();
    let mut at = SUMMARY;
    for line in takeaways.lines() {
        let heading = line
            .trim_start()
            .starts_with('#')
            .then(|| line.trim_start_matches([' ', '#']).trim().to_lowercase());
        if let Some(found) = heading.as_deref().and_then(|h| {
            TEXT.iter()
                .position(|(_, words)| words.iter().any(|w| h.contains(w)))
        }) {
            at = found;
            continue;
        }
        out[at].push_str(line);
        out[at].push('\n');
    }
    out.map(|s| s.trim().to_owned())
}

fn text_or_placeholder(s: &str) -> &str {
    if s.is_empty() { TO_WRITE } else { s }
}

/// Participants and the people they stand for, by self-declared gender.
fn by_gender(events: &[Event]) -> BTreeMap<String, (usize, u64)> {
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
        let e: &mut (usize, u64) = out.entry(g.to_owned()).or_default();
        e.0 += 1;
        e.1 += u64::from(p.profile.head_count);
    }
    out
}

fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

/// One session's report in the IGF template: `report` recomputed from `events`, and where the
/// programme placed it, if it did.
pub fn session_markdown(
    report: &Report,
    events: &[Event],
    placed: Option<(&Slot, &Room)>,
) -> String {
    let mut md = String::new();
    let text = sections(&report.takeaways);
    heading(&mut md, report, placed);
    questions(&mut md, report, &text);
    participation(&mut md, report, events);
    gender(&mut md, report, &text);
    outputs(&mut md, report, &text);
    md
}

/// The title, the session and where and when the programme placed it.
fn heading(w: &mut String, report: &Report, placed: Option<(&Slot, &Room)>) {
    let _ = writeln!(w, "# IGF session report: {}\n", report.title);
    let state = if report.ended { "ended" } else { "in progress" };
    let _ = writeln!(w, "- Session: `{}` ({state})", report.session);
    match placed {
        Some((slot, room)) => {
            let _ = writeln!(
                w,
                "- Programme: {} in {}, {} to {} (UTC)",
                slot.external_id,
                room.name,
                when::rfc3339(slot.start),
                when::rfc3339(slot.end)
            );
        }
        None => {
            let _ = writeln!(w, "- Date: {}", report.date);
        }
    }
}

/// Sections 1 to 5: the policy questions (the agenda) and the rapporteur's texts.
fn questions(w: &mut String, report: &Report, text: &[String; 7]) {
    let _ = writeln!(w, "\n## 1. {}\n", TEXT[0].0);
    for (i, item) in report.agenda.iter().enumerate() {
        let _ = writeln!(w, "{}. {item}", i + 1);
    }
    if report.agenda.is_empty() || !text[0].is_empty() {
        let _ = writeln!(w, "{}", text_or_placeholder(&text[0]));
    }
    for (n, i) in [(2, 1), (3, 2), (4, 3), (5, 4)] {
        let _ = writeln!(
            w,
            "\n## {n}. {}\n\n{}",
            TEXT[i].0,
            text_or_placeholder(&text[i])
        );
    }
}

/// Section 6: people by modality (hubs by head count) and by declared gender.
fn participation(w: &mut String, report: &Report, events: &[Event]) {
    let _ = writeln!(w, "\n## 6. Estimated participation\n");
    let people = |m: &str| report.attendance.get(m).map_or(0, |a| a.people);
    let _ = writeln!(
        w,
        "| onsite | online | hubs (head count) | total |\n|---:|---:|---:|---:|\n| {} | {} | {} | {} |",
        people("onsite"),
        people("online"),
        people("hub"),
        report.people
    );
    for h in &report.hubs {
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
    for (g, (n, p)) in by_gender(events) {
        let _ = writeln!(w, "| {g} | {n} | {p} |");
    }
}

/// Section 7: requests and turns by declared gender, and the rapporteur's reflection.
fn gender(w: &mut String, report: &Report, text: &[String; 7]) {
    let _ = writeln!(w, "\n## 7. {}\n", TEXT[5].0);
    let _ = writeln!(w, "| gender | requests | turns |\n|---|---:|---:|");
    let genders: std::collections::BTreeSet<&String> = report
        .requests
        .by_gender
        .keys()
        .chain(report.turns.by_gender.keys())
        .collect();
    for g in genders {
        let n = |m: &BTreeMap<String, usize>| m.get(g).copied().unwrap_or(0);
        let _ = writeln!(
            w,
            "| {g} | {} | {} |",
            n(&report.requests.by_gender),
            n(&report.turns.by_gender)
        );
    }
    let _ = writeln!(w, "\n{}", text_or_placeholder(&text[5]));
}

/// Section 8: turns, speaking time and waits by modality, remote questions, the outputs' text.
fn outputs(w: &mut String, report: &Report, text: &[String; 7]) {
    let _ = writeln!(w, "\n## 8. {}\n", TEXT[6].0);
    let _ = writeln!(
        w,
        "| modality | turns | speaking time | mean wait |\n|---|---:|---:|---:|"
    );
    for (m, s) in &report.speaking {
        let wait = report.waits.get(m).copied().unwrap_or_default();
        let _ = writeln!(
            w,
            "| {m} | {} | {} | {} |",
            s.count,
            mmss(s.total_ms),
            mmss(wait.mean_ms)
        );
    }
    let q = &report.remote_questions;
    let _ = writeln!(
        w,
        "\nRemote questions: {} asked, {} forwarded by the online moderator, {} answered.\n\n{}",
        q.asked,
        q.forwarded,
        q.answered,
        text_or_placeholder(&text[6])
    );
}

/// One session of the event, for the summary.
pub struct Entry<'a> {
    /// Where and when.
    pub slot: &'a Slot,
    /// The room.
    pub room: &'a Room,
    /// Its report.
    pub report: Report,
}

/// Remote (online and hub) turns as a share of all turns, as a percentage.
fn remote_share(turns: &BTreeMap<String, usize>) -> Option<u64> {
    let all: usize = turns.values().sum();
    let remote = turns.get("online").copied().unwrap_or(0) + turns.get("hub").copied().unwrap_or(0);
    (all > 0).then(|| (remote as u64 * 100 + all as u64 / 2) / all as u64)
}

fn pct(v: Option<u64>) -> String {
    v.map_or_else(|| "–".to_owned(), |p| format!("{p}%"))
}

/// One modality's figures summed over every session.
#[derive(Debug, Clone, Copy, Default)]
struct Totals {
    people: u64,
    turns: usize,
    spoken_ms: u64,
    waits: usize,
    waited_ms: u64,
}

/// Every session's figures summed per modality.
fn totals(entries: &[Entry<'_>]) -> BTreeMap<String, Totals> {
    let mut total: BTreeMap<String, Totals> = BTreeMap::new();
    for e in entries {
        for (m, a) in &e.report.attendance {
            total.entry(m.clone()).or_default().people += a.people;
        }
        for (m, s) in &e.report.speaking {
            let t = total.entry(m.clone()).or_default();
            t.turns += s.count;
            t.spoken_ms += s.total_ms;
        }
        for (m, wt) in &e.report.waits {
            let t = total.entry(m.clone()).or_default();
            t.waits += wt.count;
            t.waited_ms += wt.total_ms;
        }
    }
    total
}

/// The event's summary for the secretariat: participation, turns and waits by modality over
/// every session, then a line per session.
pub fn event_markdown(entries: &[Entry<'_>]) -> String {
    let mut md = String::new();
    let w = &mut md;
    let rooms: std::collections::BTreeSet<_> = entries.iter().map(|e| e.room.id).collect();
    let _ = writeln!(w, "# Event report\n");
    let _ = writeln!(w, "{} sessions in {} rooms.", entries.len(), rooms.len());
    if let (Some(first), Some(last)) = (
        entries.iter().map(|e| e.slot.start).min(),
        entries.iter().map(|e| e.slot.end).max(),
    ) {
        let _ = writeln!(
            w,
            "From {} to {} (UTC).",
            when::rfc3339(first),
            when::rfc3339(last)
        );
    }
    let total = totals(entries);
    let turns_all: BTreeMap<String, usize> =
        total.iter().map(|(m, t)| (m.clone(), t.turns)).collect();
    let _ = writeln!(
        w,
        "\n## Participation, turns and waits by modality\n\n| modality | people | turns | speaking time | mean wait |\n|---|---:|---:|---:|---:|"
    );
    for (m, t) in &total {
        let mean = t.waited_ms.checked_div(t.waits as u64).unwrap_or(0);
        let _ = writeln!(
            w,
            "| {m} | {} | {} | {} | {} |",
            t.people,
            t.turns,
            mmss(t.spoken_ms),
            mmss(mean)
        );
    }
    let _ = writeln!(
        w,
        "\nRemote share of turns: {}.",
        pct(remote_share(&turns_all))
    );
    let _ = writeln!(
        w,
        "\n## Sessions\n\n| start (UTC) | room | id | title | onsite | online | hubs | turns | remote share |\n|---|---|---|---|---:|---:|---:|---:|---:|"
    );
    for e in entries {
        let people = |m: &str| e.report.attendance.get(m).map_or(0, |a| a.people);
        let turns: BTreeMap<String, usize> = e
            .report
            .speaking
            .iter()
            .map(|(m, s)| (m.clone(), s.count))
            .collect();
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            when::rfc3339(e.slot.start),
            e.room.name.replace('|', "/"),
            e.slot.external_id.replace('|', "/"),
            e.report.title.replace('|', "/"),
            people("onsite"),
            people("online"),
            people("hub"),
            turns.values().sum::<usize>(),
            pct(remote_share(&turns))
        );
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_takeaways_split_at_headings_that_name_a_section() {
        let s = sections(
            "We talked about data.\n\n## Policy recommendations\nOpen it.\n# Other initiatives\nA fund.\n## Reflection on gender issues\nBalanced.\n### Notes\nkept in gender",
        );
        assert_eq!(s[1], "We talked about data.");
        assert_eq!(s[2], "Open it.");
        assert_eq!(s[3], "A fund.");
        assert_eq!(s[5], "Balanced.\n### Notes\nkept in gender");
        assert_eq!(s[4], "");
        assert_eq!(
            remote_share(&BTreeMap::from([
                ("onsite".into(), 3),
                ("online".into(), 1)
            ])),
            Some(25)
        );
        assert_eq!(remote_share(&BTreeMap::new()), None);
    }

    /// The console's boxes are saved joined as `web/lib/sections.js` joins them (its node test
    /// checks the same text splits back there): a heading per written section, and a box's line
    /// that would start a section escaped with a backslash, so it stays in its box.
    #[test]
    fn the_consoles_boxes_split_back_into_their_sections() {
        let s = sections(
            "## Key policy questions\n\nWho pays?\n\n## Summary of issues discussed\n\nLine one.\n\\## Making progress is hard\n\n## Session outputs\n\nA paper.\n### Annex",
        );
        assert_eq!(s[0], "Who pays?");
        assert_eq!(s[1], "Line one.\n\\## Making progress is hard");
        assert_eq!(s[4], "");
        assert_eq!(s[6], "A paper.\n### Annex");
    }
}
