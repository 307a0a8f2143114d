//! The programme from an iCalendar file (RFC 5545), as event sites publish it, parsed with the
//! `icalendar` crate. Each `VEVENT` is a session: `UID` its external id, `SUMMARY` its title,
//! `LOCATION` its room, `DTSTART` and `DTEND` (or `DURATION`) its times. A `TZID` parameter
//! must name an IANA zone; a floating time is in the import's zone; a date without a time, or
//! a recurring event, is refused.

use icalendar::parser::{Component, Property, read_calendar, unfold};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::import::{MAX_ROWS, Refused, Row, policy};
use super::when;
use crate::queue::{Policy, Timestamp};

/// The deepest nesting of components accepted.
const MAX_DEPTH: usize = 8;

/// The sessions of an iCalendar file, each parsed or refused; `Err` when the file is not
/// iCalendar at all.
pub fn parse_ics(text: &str, tz: Option<&TimeZone>) -> Result<Vec<Result<Row, Refused>>, Refused> {
    let file = |msg: String| Refused::new("file", None, "bad_file", msg);
    if !text.trim_start().starts_with("BEGIN:VCALENDAR") {
        return Err(file(
            "not an iCalendar file: it does not begin with BEGIN:VCALENDAR".into(),
        ));
    }
    let unfolded = unfold(text);
    // The parser descends into nested components recursively: a file nested thousands deep
    // would overflow the stack and take the whole service down. Real calendars nest three deep
    // (VCALENDAR, VEVENT, VALARM; VTIMEZONE, STANDARD).
    let mut depth = 0usize;
    for line in unfolded.lines() {
        if line.starts_with("BEGIN:") {
            depth += 1;
            if depth > MAX_DEPTH {
                return Err(file(format!(
                    "components nested deeper than {MAX_DEPTH} (BEGIN: without END:)"
                )));
            }
        } else if line.starts_with("END:") {
            depth = depth.saturating_sub(1);
        }
    }
    let calendar = read_calendar(&unfolded).map_err(|e| {
        let first = e.lines().take(3).collect::<Vec<_>>().join(" ");
        file(format!("not valid iCalendar: {first}"))
    })?;
    let events: Vec<&Component<'_>> = calendar
        .components
        .iter()
        .filter(|c| c.name.as_str() == "VEVENT")
        .collect();
    if events.len() > MAX_ROWS {
        return Err(file(format!("more than {MAX_ROWS} events")));
    }
    Ok(events
        .iter()
        .enumerate()
        .map(|(i, e)| event(&format!("event {}", i + 1), e, tz))
        .collect())
}

fn event(at: &str, e: &Component<'_>, tz: Option<&TimeZone>) -> Result<Row, Refused> {
    let text = |name: &str| {
        e.find_prop(name)
            .map(|p| p.val.clone().unescape_text().as_str().trim().to_owned())
            .unwrap_or_default()
    };
    let id = text("UID");
    let refuse = |code, msg: String| Refused::new(at, Some(&id), code, msg);
    if e.find_prop("RRULE").is_some() || e.find_prop("RDATE").is_some() {
        return Err(refuse(
            "bad_row",
            "a recurring event: list each session once".into(),
        ));
    }
    let start_prop = e
        .find_prop("DTSTART")
        .ok_or_else(|| refuse("bad_time", "no DTSTART".into()))?;
    let start = time(start_prop, tz).map_err(|m| refuse("bad_time", format!("DTSTART: {m}")))?;
    let end = match (e.find_prop("DTEND"), e.find_prop("DURATION")) {
        (Some(p), _) => time(p, tz).map_err(|m| refuse("bad_time", format!("DTEND: {m}")))?,
        (None, Some(p)) => {
            let d: jiff::SignedDuration = p.val.as_str().trim().parse().map_err(|_| {
                refuse(
                    "bad_time",
                    format!("DURATION {:?} is not hours and minutes", p.val.as_str()),
                )
            })?;
            let ms = u64::try_from(d.as_millis()).unwrap_or(0);
            Timestamp(start.0.saturating_add(ms))
        }
        (None, None) => return Err(refuse("bad_time", "no DTEND or DURATION".into())),
    };
    let policy = match e.find_prop("X-ROSTRUM-POLICY") {
        Some(p) => policy(p.val.as_str()).map_err(|m| refuse("bad_policy", m))?,
        None => Policy::default(),
    };
    Ok(Row {
        at: at.to_owned(),
        external_id: id.clone(),
        title: text("SUMMARY"),
        room: text("LOCATION"),
        start,
        end,
        policy,
        agenda: Vec::new(),
    })
}

/// A `DTSTART`/`DTEND` value: `20261126T090000Z`, or local with `TZID=`, or floating.
fn time(p: &Property<'_>, tz: Option<&TimeZone>) -> Result<Timestamp, String> {
    let param = |key: &str| {
        p.params
            .iter()
            .find(|q| q.key.as_str().eq_ignore_ascii_case(key))
            .and_then(|q| q.val.as_ref())
            .map(|v| v.as_str().trim_matches('"').to_owned())
    };
    let value = p.val.as_str().trim();
    if param("VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE")) || value.len() == 8 {
        return Err(format!("{value:?} is a whole day, not a time"));
    }
    let (local, utc) = match value.strip_suffix('Z') {
        Some(v) => (v, true),
        None => (value, false),
    };
    let civil =
        basic(local).ok_or_else(|| format!("{value:?} is not a date-time like 20261126T090000"))?;
    if utc {
        return when::in_zone(civil, &TimeZone::UTC);
    }
    match param("TZID") {
        Some(name) => when::in_zone(civil, &when::zone(&name)?),
        None => when::in_zone(
            civil,
            tz.ok_or("a floating time and no time zone was given (?tz=)")?,
        ),
    }
}

/// `YYYYMMDDTHHMMSS`.
fn basic(v: &str) -> Option<DateTime> {
    let b = v.as_bytes();
    if b.len() != 15 || b[8] != b'T' || !v.is_char_boundary(8) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| v.get(r)?.parse::<i16>().ok();
    let i8_ = |r: std::ops::Range<usize>| n(r).and_then(|x| i8::try_from(x).ok());
    DateTime::new(
        n(0..4)?,
        i8_(4..6)?,
        i8_(6..8)?,
        i8_(9..11)?,
        i8_(11..13)?,
        i8_(13..15)?,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ICS: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
BEGIN:VEVENT\r\nUID:ws1@igf\r\nSUMMARY:Open data\\, for all\r\nLOCATION:Room 1\r\n\
DTSTART;TZID=Europe/Berlin:20261126T090000\r\nDTEND;TZID=Europe/Berlin:20261126T100000\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:ws2@igf\r\nSUMMARY:Long title that is fol\r\n ded\r\nLOCATION:Room 2\r\n\
DTSTART:20261126T080000Z\r\nDURATION:PT1H30M\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:ws3@igf\r\nSUMMARY:All day\r\nLOCATION:Room 2\r\nDTSTART;VALUE=DATE:20261126\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:ws4@igf\r\nSUMMARY:Weekly\r\nLOCATION:Room 2\r\nDTSTART:20261126T080000Z\r\n\
DTEND:20261126T090000Z\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:ws5@igf\r\nSUMMARY:Floating\r\nLOCATION:Room 2\r\nDTSTART:20261127T080000\r\n\
DTEND:20261127T090000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

    #[test]
    fn events_become_rows_and_what_is_not_a_session_is_refused() {
        let rows = parse_ics(ICS, None).unwrap();
        let ws1 = rows[0].as_ref().unwrap();
        assert_eq!(ws1.title, "Open data, for all");
        assert_eq!(when::rfc3339(ws1.start), "2026-11-26T08:00:00Z");
        let ws2 = rows[1].as_ref().unwrap();
        assert_eq!(ws2.title, "Long title that is folded");
        assert_eq!(ws2.end.0 - ws2.start.0, 90 * 60_000);
        assert_eq!(rows[2].as_ref().unwrap_err().code, "bad_time");
        assert_eq!(rows[3].as_ref().unwrap_err().code, "bad_row");
        assert!(rows[4].as_ref().unwrap_err().message.contains("floating"));
        let utc = parse_ics(ICS, Some(&TimeZone::UTC)).unwrap();
        assert!(utc[4].is_ok());
        assert_eq!(parse_ics("junk", None).unwrap_err().code, "bad_file");
        let deep = format!("BEGIN:VCALENDAR\r\n{}", "BEGIN:VEVENT\r\n".repeat(10_000));
        assert!(
            parse_ics(&deep, None)
                .unwrap_err()
                .message
                .contains("nested")
        );
    }
}
