//! Programme times: an instant with its offset, or a wall-clock time in a named (IANA) zone.
//! A wall-clock time that a daylight-saving change skips or repeats is refused, not guessed.

use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::queue::Timestamp;

/// The earliest and latest years a programme may use: anything else is a typo.
const YEARS: std::ops::RangeInclusive<i16> = 2000..=2100;

/// The IANA zone `name`, or why not.
pub fn zone(name: &str) -> Result<TimeZone, String> {
    TimeZone::get(name.trim()).map_err(|_| {
        format!(
            "unknown time zone {:?}: use an IANA name such as Europe/Berlin or UTC",
            name.trim()
        )
    })
}

/// Parse `text`: RFC 3339 with an offset (`2026-11-26T09:00:00+01:00`, `…Z`), or a wall-clock
/// date and time (`2026-11-26 09:00`, `2026-11-26T09:00`) in `tz`.
pub fn parse(text: &str, tz: Option<&TimeZone>) -> Result<Timestamp, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("no time given".into());
    }
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return checked(ts);
    }
    let civil = text
        .parse::<DateTime>()
        .map_err(|_| format!("{text:?} is not a date and time (use 2026-11-26 09:00)"))?;
    let tz = tz.ok_or_else(|| {
        format!("{text:?} has no offset and no time zone was given (a timezone column or ?tz=)")
    })?;
    in_zone(civil, tz)
}

/// The instant of wall-clock time `civil` in `tz`, refused in a daylight-saving gap or fold.
pub fn in_zone(civil: DateTime, tz: &TimeZone) -> Result<Timestamp, String> {
    let ts = tz
        .to_ambiguous_timestamp(civil)
        .unambiguous()
        .map_err(|_| {
            format!(
                "{civil} does not exist once in {}: a daylight-saving change skips or repeats it",
                tz.iana_name().unwrap_or("this zone")
            )
        })?;
    checked(ts)
}

fn checked(ts: jiff::Timestamp) -> Result<Timestamp, String> {
    let year = TimeZone::UTC.to_datetime(ts).year();
    if !YEARS.contains(&year) {
        return Err(format!("{ts} is not in the years 2000 to 2100"));
    }
    u64::try_from(ts.as_millisecond())
        .map(Timestamp)
        .map_err(|_| format!("{ts} is before 1970"))
}

/// `at` as RFC 3339 in UTC, as exports write it.
pub fn rfc3339(at: Timestamp) -> String {
    i64::try_from(at.0)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(String::new, |ts| ts.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_zones_and_daylight_saving_gaps() {
        let berlin = zone("Europe/Berlin").unwrap();
        let utc = parse("2026-11-26T08:00:00Z", None).unwrap();
        assert_eq!(parse("2026-11-26T09:00:00+01:00", None).unwrap(), utc);
        assert_eq!(parse("2026-11-26 09:00", Some(&berlin)).unwrap(), utc);
        assert_eq!(rfc3339(utc), "2026-11-26T08:00:00Z");
        assert!(
            parse("2026-11-26 09:00", None)
                .unwrap_err()
                .contains("no time zone")
        );
        // 02:30 does not exist in Berlin on 29 March 2026; it happens twice on 25 October.
        assert!(parse("2026-03-29 02:30", Some(&berlin)).is_err());
        assert!(parse("2026-10-25 02:30", Some(&berlin)).is_err());
        assert!(parse("tomorrow", Some(&berlin)).is_err());
        assert!(parse("1900-01-01T00:00:00Z", None).is_err());
        assert!(zone("Mars/Olympus").is_err());
    }
}
