//! The session report as Markdown, for people (`rostrum report`, `GET .../report.md`).

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use super::Report;
use std::collections::BTreeMap;

use crate::queue::{Actor, Timestamp};

impl Report {
    /// The report as Markdown, for people.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let w = &mut md;
        let _ = writeln!(w, "# {}\n", self.title);
        let state = if self.ended { "ended" } else { "in progress" };
        let _ = writeln!(
            w,
            "- Date: {}\n- Session: `{}` ({state})",
            self.date, self.session
        );
        let mods: Vec<_> = self
            .moderators
            .iter()
            .map(|m| format!("{} ({} actions)", m.role.replace('_', " "), m.actions))
            .collect();
        let _ = writeln!(w, "- Moderation: {}", or_none(&mods.join(", ")));
        if !self.agenda.is_empty() {
            let _ = writeln!(w, "\n## Agenda\n");
            for (i, item) in self.agenda.iter().enumerate() {
                let _ = writeln!(w, "{}. {item}", i + 1);
            }
        }
        let _ = writeln!(w, "\n## Estimated participation\n");
        let _ = writeln!(w, "| modality | participants | people |\n|---|---:|---:|");
        for (m, a) in &self.attendance {
            let _ = writeln!(w, "| {m} | {} | {} |", a.participants, a.people);
        }
        let _ = writeln!(w, "| **all** | | **{}** |", self.people);
        for h in &self.hubs {
            let _ = writeln!(
                w,
                "\n- Hub: {} ({}), {} people",
                h.name, h.affiliation, h.head_count
            );
        }
        let _ = writeln!(w, "\n## Requests and turns\n");
        let _ = writeln!(
            w,
            "{} requests for the floor, {} turns given.\n",
            self.requests.total, self.turns.total
        );
        for (label, req, turn) in [
            (
                "modality",
                &self.requests.by_modality,
                &self.turns.by_modality,
            ),
            ("kind", &self.requests.by_kind, &self.turns.by_kind),
            (
                "stakeholder group",
                &self.requests.by_stakeholder,
                &self.turns.by_stakeholder,
            ),
            (
                "gender (self-declared)",
                &self.requests.by_gender,
                &self.turns.by_gender,
            ),
        ] {
            let _ = writeln!(w, "| {label} | requests | turns |\n|---|---:|---:|");
            let keys: std::collections::BTreeSet<_> = req.keys().chain(turn.keys()).collect();
            for k in keys {
                let n = |m: &BTreeMap<String, usize>| m.get(k).copied().unwrap_or(0);
                let _ = writeln!(w, "| {k} | {} | {} |", n(req), n(turn));
            }
            let _ = writeln!(w);
        }
        let _ = writeln!(w, "## Waiting and speaking time\n");
        let _ = writeln!(
            w,
            "| modality | wait mean | wait median | wait p90 | turns | speaking mean | speaking total |\n|---|---:|---:|---:|---:|---:|---:|"
        );
        for (m, wait) in &self.waits {
            let s = self.speaking.get(m).copied().unwrap_or_default();
            let _ = writeln!(
                w,
                "| {m} | {} | {} | {} | {} | {} | {} |",
                mmss(wait.mean_ms),
                mmss(wait.median_ms),
                mmss(wait.p90_ms),
                wait.count,
                mmss(s.mean_ms),
                mmss(s.total_ms)
            );
        }
        if !self.unserved.is_empty() {
            let _ = writeln!(
                w,
                "\nStill waiting at the end:\n\n| modality | requests | longest wait |\n|---|---:|---:|"
            );
            for (m, u) in &self.unserved {
                let _ = writeln!(w, "| {m} | {} | {} |", u.count, mmss(u.longest_ms));
            }
        }
        let q = &self.remote_questions;
        let _ = writeln!(
            w,
            "\n## Remote questions\n\n{} asked, {} forwarded by the online moderator, {} answered.",
            q.asked, q.forwarded, q.answered
        );
        let _ = writeln!(w, "\n## Moderator overrides\n");
        if self.overrides.is_empty() {
            let _ = writeln!(w, "None.");
        }
        for o in &self.overrides {
            let by = match o.by {
                Actor::Chair => "chair",
                Actor::OnlineModerator => "online moderator",
                Actor::Organizer => "organizer",
                Actor::Participant(_) | Actor::Newcomer => "participant",
            };
            let reason = o.reason.as_deref().unwrap_or("no reason given");
            let _ = writeln!(
                w,
                "- {}: {by}, {} {}: {reason}",
                time(o.at),
                o.action.replace('_', " "),
                o.who
            );
        }
        let _ = writeln!(w, "\n## Who spoke\n");
        if self.speakers.is_empty() {
            let _ = writeln!(w, "Nobody yet.");
        } else {
            let _ = writeln!(
                w,
                "| # | time | name | where | kind | spoke |\n|---:|---|---|---|---|---:|"
            );
        }
        for (i, t) in self.speakers.iter().enumerate() {
            let via = if t.origin == "relay" {
                ", via chat"
            } else {
                ""
            };
            // Names are typed by people: a `|` must not open a column.
            let who = if t.affiliation.is_empty() {
                t.name.replace('|', "\\|")
            } else {
                format!("{} ({})", t.name, t.affiliation).replace('|', "\\|")
            };
            let _ = writeln!(
                w,
                "| {} | {} | {who} | {}{via} | {} | {} |",
                i + 1,
                time(t.at),
                t.modality,
                t.kind.replace('_', " "),
                mmss(t.spoken_ms)
            );
        }
        let _ = writeln!(w, "\n## Key takeaways\n\n{}", or_none(&self.takeaways));
        md
    }
}

fn or_none(s: &str) -> &str {
    if s.is_empty() { "None recorded." } else { s }
}

fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

fn time(t: Timestamp) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_millis(t.0)).to_string()
}
