//! A session's record for people and tools: the event log as NDJSON, and the turns as CSV
//! (who, affiliation, modality, kind, requested, granted, waited, spoke).
//!
//! Exports use the moderators' view of events: self-declared gender never leaves the service
//! per person (it is reported in aggregate only).

use std::time::{Duration, UNIX_EPOCH};

use crate::protocol::{Audience, event_json};
use crate::queue::{Event, Modality, RequestKind, State, Timestamp};

/// One JSON object per line, each with its `seq`.
pub fn ndjson(events: &[Event]) -> String {
    let mut out = String::new();
    for (seq, e) in (1..).zip(events) {
        if let Some(v) = event_json(seq, e, Audience::Moderator) {
            out.push_str(&v.to_string());
            out.push('\n');
        }
    }
    out
}

fn time(t: Timestamp) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(t.0)).to_string()
}

fn seconds(ms: u64) -> String {
    format!("{:.1}", ms as f64 / 1000.0)
}

fn label<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// A typed text as a spreadsheet cell: one that begins with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be read as a formula by Excel, LibreOffice or Google Sheets (a name like
/// `=HYPERLINK(...)` becomes a link, or worse), so it is prefixed with `'`, as OWASP's "CSV
/// injection" page advises; spreadsheets show the text as typed. Quotes and commas are the csv
/// writer's to quote.
fn cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_owned(),
    }
}

/// One row per turn, in order. A turn still running has no `spoke` yet.
pub fn turns_csv(events: &[Event]) -> String {
    let state = State::replay(events);
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "turn",
        "who",
        "affiliation",
        "modality",
        "kind",
        "requested",
        "granted",
        "waited_s",
        "spoke_s",
        "agenda_item",
    ];
    w.write_record(header).expect("writing to memory");
    for t in state.turns() {
        let p = &state.participants()[t.participant.0 as usize].profile;
        let r = &state.requests()[t.request.0 as usize];
        let modality: Modality = p.modality;
        let kind: RequestKind = t.kind;
        w.write_record([
            (t.id.0 + 1).to_string(),
            cell(&p.name),
            cell(&p.affiliation),
            label(modality),
            label(kind),
            time(r.requested_at),
            time(t.granted_at),
            seconds(t.waited_ms),
            t.ended_at
                .map(|_| seconds(t.spoken_ms(t.granted_at)))
                .unwrap_or_default(),
            t.item.map(|i| (i + 1).to_string()).unwrap_or_default(),
        ])
        .expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("csv of strings is UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::testkit::Sim;
    use crate::queue::{Actor, Command, FloorSeen, Order};

    #[test]
    fn the_csv_lists_each_turn_with_its_wait_and_speaking_time() {
        let mut sim = Sim::new(Order::Fifo);
        let (_, _) = sim.queue_up("Ana, \"the\" delegate", Modality::Online);
        sim.tick(4_000);
        sim.grant_next();
        sim.tick(65_500);
        sim.end();
        sim.queue_up("Bo", Modality::Onsite);
        sim.grant_next();
        sim.ok(
            Actor::Chair,
            Command::PauseClock {
                seen: FloorSeen::Any,
            },
        );
        let csv = turns_csv(&sim.log);
        let mut rows = csv::Reader::from_reader(csv.as_bytes());
        let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(&rows[0][1], "Ana, \"the\" delegate", "quoted, not split");
        assert_eq!((&rows[0][3], &rows[0][4]), ("online", "intervention"));
        assert_eq!((&rows[0][7], &rows[0][8]), ("4.0", "65.5"));
        assert!(
            rows[0][5].ends_with('Z') && rows[0][5].contains('T'),
            "RFC 3339: {}",
            &rows[0][5]
        );
        assert_eq!(&rows[1][8], "", "still speaking");
    }

    #[test]
    fn cells_that_a_spreadsheet_would_run_are_neutralised() {
        for bad in ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(cell(bad), format!("'{bad}"));
        }
        for fine in ["Ana", "Ana-Maria", "1+1", "", "'quoted"] {
            assert_eq!(cell(fine), fine);
        }
    }

    #[test]
    fn ndjson_has_one_event_per_line_with_its_seq() {
        let mut sim = Sim::new(Order::Fifo);
        sim.queue_up("Ana", Modality::Online);
        let text = ndjson(&sim.log);
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), sim.log.len());
        assert_eq!(lines[0]["seq"], 1);
        assert_eq!(lines[0]["type"], "session_opened");
        assert_eq!(lines.last().unwrap()["type"], "hand_raised");
    }
}
