//! The event's summary for the secretariat: the data (`EventSummary`, the API's JSON) and its
//! Markdown, written from it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::mmss;
use crate::ids::SessionId;
use crate::programme::{Room, RoomId, Slot, when};
use crate::report::Report;

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
pub(super) fn remote_share(turns: &BTreeMap<String, usize>) -> Option<u64> {
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

/// One modality over every session of the event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EventModality {
    /// People (a hub counts its head count).
    pub people: u64,
    /// Turns given.
    pub turns: usize,
    /// Speaking time, pauses excluded.
    pub speaking_ms: u64,
    /// The mean wait for a turn, over every turn of the event.
    pub mean_wait_ms: u64,
}

/// One programme session in the event's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EventSession {
    /// When it starts (RFC 3339, UTC).
    pub start: String,
    /// When it ends (RFC 3339, UTC).
    pub end: String,
    /// The room.
    pub room: RoomId,
    /// The room's name.
    pub room_name: String,
    /// The programme's stable id for it.
    pub external_id: String,
    /// The session.
    pub session: SessionId,
    /// Its title.
    pub title: String,
    /// People in the room.
    pub onsite: u64,
    /// People online.
    pub online: u64,
    /// People at remote hubs, by their head count.
    pub hub: u64,
    /// Turns given.
    pub turns: usize,
    /// Online and hub turns as a share of all turns, in percent (rounded); `null` without turns.
    pub remote_share_pct: Option<u64>,
}

/// The event's summary for the secretariat, as data: what `GET /api/programme/report.md` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct EventSummary {
    /// Programme sessions.
    pub sessions: usize,
    /// Rooms they were in.
    pub rooms: usize,
    /// The first start (RFC 3339, UTC); `null` for an empty programme.
    pub from: Option<String>,
    /// The last end (RFC 3339, UTC); `null` for an empty programme.
    pub to: Option<String>,
    /// People, turns, speaking time and waits by modality (`onsite`, `online`, `hub`), summed.
    pub by_modality: BTreeMap<String, EventModality>,
    /// Online and hub turns as a share of all turns, in percent (rounded); `null` without turns.
    pub remote_share_pct: Option<u64>,
    /// Every session, by start.
    pub entries: Vec<EventSession>,
}

impl EventSummary {
    /// The summary of every session of the event.
    pub fn of(entries: &[Entry<'_>]) -> Self {
        let rooms: std::collections::BTreeSet<_> = entries.iter().map(|e| e.room.id).collect();
        let total = totals(entries);
        let turns_all: BTreeMap<String, usize> =
            total.iter().map(|(m, t)| (m.clone(), t.turns)).collect();
        Self {
            sessions: entries.len(),
            rooms: rooms.len(),
            from: entries
                .iter()
                .map(|e| e.slot.start)
                .min()
                .map(when::rfc3339),
            to: entries.iter().map(|e| e.slot.end).max().map(when::rfc3339),
            by_modality: total
                .iter()
                .map(|(m, t)| {
                    let e = EventModality {
                        people: t.people,
                        turns: t.turns,
                        speaking_ms: t.spoken_ms,
                        mean_wait_ms: t.waited_ms.checked_div(t.waits as u64).unwrap_or(0),
                    };
                    (m.clone(), e)
                })
                .collect(),
            remote_share_pct: remote_share(&turns_all),
            entries: entries
                .iter()
                .map(|e| {
                    let people = |m: &str| e.report.attendance.get(m).map_or(0, |a| a.people);
                    let turns: BTreeMap<String, usize> = e
                        .report
                        .speaking
                        .iter()
                        .map(|(m, s)| (m.clone(), s.count))
                        .collect();
                    EventSession {
                        start: when::rfc3339(e.slot.start),
                        end: when::rfc3339(e.slot.end),
                        room: e.room.id,
                        room_name: e.room.name.clone(),
                        external_id: e.slot.external_id.clone(),
                        session: e.slot.session,
                        title: e.report.title.clone(),
                        onsite: people("onsite"),
                        online: people("online"),
                        hub: people("hub"),
                        turns: turns.values().sum(),
                        remote_share_pct: remote_share(&turns),
                    }
                })
                .collect(),
        }
    }

    /// The summary as Markdown: participation, turns and waits by modality over every session,
    /// then a line per session.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let w = &mut md;
        let _ = writeln!(w, "# Event report\n");
        let _ = writeln!(w, "{} sessions in {} rooms.", self.sessions, self.rooms);
        if let (Some(first), Some(last)) = (&self.from, &self.to) {
            let _ = writeln!(w, "From {first} to {last} (UTC).");
        }
        let _ = writeln!(
            w,
            "\n## Participation, turns and waits by modality\n\n| modality | people | turns | speaking time | mean wait |\n|---|---:|---:|---:|---:|"
        );
        for (m, t) in &self.by_modality {
            let _ = writeln!(
                w,
                "| {m} | {} | {} | {} | {} |",
                t.people,
                t.turns,
                mmss(t.speaking_ms),
                mmss(t.mean_wait_ms)
            );
        }
        let _ = writeln!(
            w,
            "\nRemote share of turns: {}.",
            pct(self.remote_share_pct)
        );
        let _ = writeln!(
            w,
            "\n## Sessions\n\n| start (UTC) | room | id | title | onsite | online | hubs | turns | remote share |\n|---|---|---|---|---:|---:|---:|---:|---:|"
        );
        for e in &self.entries {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                e.start,
                e.room_name.replace('|', "/"),
                e.external_id.replace('|', "/"),
                e.title.replace('|', "/"),
                e.onsite,
                e.online,
                e.hub,
                e.turns,
                pct(e.remote_share_pct)
            );
        }
        md
    }
}

/// The event's summary for the secretariat, as Markdown ([`EventSummary::markdown`]).
pub fn event_markdown(entries: &[Entry<'_>]) -> String {
    EventSummary::of(entries).markdown()
}
