//! The programme as CSV: the import's columns, and the export with every session's links.
//!
//! Columns (a header row, any order, case ignored; others are ignored, so an export imports
//! back): `id`, `title`, `room`, `start`, `end` required; `timezone`, `policy`, `agenda`,
//! `roster` optional.

use jiff::tz::TimeZone;

use super::import::{MAX_ROWS, Refused, Row, agenda, cell_check, policy};
use super::{Programme, Slot, when};

const REQUIRED: [&str; 5] = ["id", "title", "room", "start", "end"];

/// The rows of a CSV programme, each parsed or refused; `Err` when the file as a whole is not
/// one (no header, a required column missing, too many rows). Times without an offset are in
/// the row's `timezone`, else in `tz`.
pub fn parse_csv(text: &str, tz: Option<&TimeZone>) -> Result<Vec<Result<Row, Refused>>, Refused> {
    let file = |msg: String| Refused::new("file", None, "bad_file", msg);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| file(format!("no header row: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect::<Vec<_>>();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let missing: Vec<&str> = REQUIRED.into_iter().filter(|c| col(c).is_none()).collect();
    if !missing.is_empty() {
        return Err(file(format!(
            "the header row lacks the column(s) {}; it needs {}",
            missing.join(", "),
            REQUIRED.join(", ")
        )));
    }
    let cols = Columns {
        id: col("id").unwrap_or_default(),
        title: col("title").unwrap_or_default(),
        room: col("room").unwrap_or_default(),
        start: col("start").unwrap_or_default(),
        end: col("end").unwrap_or_default(),
        timezone: col("timezone"),
        policy: col("policy"),
        agenda: col("agenda"),
        roster: col("roster"),
    };
    let mut rows = Vec::new();
    for (i, record) in reader.records().enumerate() {
        if i >= MAX_ROWS {
            return Err(file(format!("more than {MAX_ROWS} rows")));
        }
        let at = record.as_ref().ok().and_then(|r| r.position()).map_or_else(
            || format!("row {}", i + 1),
            |p| format!("line {}", p.line()),
        );
        rows.push(match record {
            Ok(r) => row(&at, &r, &cols, tz),
            Err(e) => Err(Refused::new(at, None, "bad_row", format!("not CSV: {e}"))),
        });
    }
    Ok(rows)
}

struct Columns {
    id: usize,
    title: usize,
    room: usize,
    start: usize,
    end: usize,
    timezone: Option<usize>,
    policy: Option<usize>,
    agenda: Option<usize>,
    roster: Option<usize>,
}

fn row(
    at: &str,
    r: &csv::StringRecord,
    c: &Columns,
    tz: Option<&TimeZone>,
) -> Result<Row, Refused> {
    let cell = |i: usize| r.get(i).unwrap_or("");
    let opt = |i: Option<usize>| i.map_or("", cell);
    let id = cell(c.id);
    for (name, i) in [
        ("agenda", c.agenda),
        ("roster", c.roster),
        ("policy", c.policy),
    ] {
        cell_check(at, Some(id), name, opt(i))?;
    }
    let zone = match opt(c.timezone) {
        "" => None,
        name => Some(when::zone(name).map_err(|m| Refused::new(at, Some(id), "bad_time", m))?),
    };
    let tz = zone.as_ref().or(tz);
    let time = |column: &str, i: usize| {
        when::parse(cell(i), tz)
            .map_err(|m| Refused::new(at, Some(id), "bad_time", format!("{column}: {m}")))
    };
    Ok(Row {
        at: at.to_owned(),
        external_id: id.to_owned(),
        title: cell(c.title).to_owned(),
        room: cell(c.room).to_owned(),
        start: time("start", c.start)?,
        end: time("end", c.end)?,
        policy: policy(opt(c.policy)).map_err(|m| Refused::new(at, Some(id), "bad_policy", m))?,
        agenda: agenda(opt(c.agenda), opt(c.roster)),
    })
}

/// The programme as CSV, one row per entry with its session's role links (`links` gives
/// chair, online moderator, participant, display and public, in that order).
pub fn export_csv(programme: &Programme, links: impl Fn(&Slot) -> [String; 5]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "id",
        "title",
        "room",
        "start",
        "end",
        "session",
        "chair",
        "online_moderator",
        "participant",
        "display",
        "public",
    ];
    // Writing to a Vec cannot fail.
    w.write_record(header).ok();
    for slot in &programme.slots {
        let room = programme.room(slot.room).map_or("", |r| r.name.as_str());
        let [chair, moderator, participant, display, public] = links(slot);
        w.write_record([
            defused(&slot.external_id),
            defused(&slot.title),
            defused(room),
            when::rfc3339(slot.start),
            when::rfc3339(slot.end),
            slot.session.to_string(),
            chair,
            moderator,
            participant,
            display,
            public,
        ])
        .ok();
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// A cell a spreadsheet would not run as a formula. Imported cells never start so (they are
/// refused), but the export does not rely on that.
fn defused(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_columns_and_the_file_refused_as_a_whole() {
        let text = "ID,Title,Room,Start,End,Timezone,Policy,Agenda,Roster,extra\n\
            ws1,Open data,Room 1,2026-11-26 09:00,2026-11-26 10:00,Europe/Berlin,alternate,A|B,X (Y),z\n\
            ws2,Closed data,Room 1,2026-11-26T10:00:00Z,nonsense,,,,,\n\
            ws3,Mars,Room 1,2026-11-26 09:00,2026-11-26 10:00,Mars/Base,,,,\n\
            ws4,@SUM,Room 1,2026-11-26T10:00:00Z,2026-11-26T11:00:00Z,,,=1+1,,\n";
        let rows = parse_csv(text, None).unwrap();
        let first = rows[0].as_ref().unwrap();
        assert_eq!(first.at, "line 2");
        assert_eq!(when::rfc3339(first.start), "2026-11-26T08:00:00Z");
        assert_eq!(first.agenda.len(), 2);
        assert_eq!(rows[1].as_ref().unwrap_err().code, "bad_time");
        assert_eq!(rows[2].as_ref().unwrap_err().code, "bad_time");
        assert_eq!(rows[3].as_ref().unwrap_err().code, "formula_cell");
        let no_end = parse_csv("id,title,room,start\n", None).unwrap_err();
        assert!(no_end.message.contains("end"), "{}", no_end.message);
    }
}
