//! Checks on the text people type: names, notes, titles, links. Text is NFC-normalized and
//! trimmed; control characters, direction overrides and over-long text are refused with a field
//! name, never silently cut. Names are also refused invisible characters, so two names that
//! look the same are the same text.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use super::{Modality, Profile, Refusal};

/// Longest display name, in characters.
pub const NAME_MAX: usize = 80;
/// Longest affiliation.
pub const AFFILIATION_MAX: usize = 120;
/// Longest note on a spoken request.
pub const NOTE_MAX: usize = 280;
/// Longest text of a text intervention.
pub const TEXT_MAX: usize = 2_000;
/// Longest title (session, agenda item, link) or reason.
pub const TITLE_MAX: usize = 200;
/// Longest URL.
pub const URL_MAX: usize = 2_048;
/// Longest "key takeaways" text of the report.
pub const TAKEAWAYS_MAX: usize = 10_000;
/// Most bytes one accepted character takes in a JSON message: four for a character outside the
/// Basic Multilingual Plane (an emoji, a rare Chinese character) sent as UTF-8, three for the
/// rest of Chinese, two for Arabic or Russian, or for an escaped quote, backslash, tab or line
/// break. (Other control characters, which JSON escapes in six bytes, are refused.)
pub const WIRE_BYTES_PER_CHAR: usize = 4;

/// Room for a message's JSON around its longest text: the type, `req`, field names.
pub const ENVELOPE_BYTES: usize = 1024;

/// The smallest WebSocket message limit that carries every text the core accepts, written in
/// any script: the longest field, the takeaways, at four bytes a character, plus its envelope.
/// The service refuses to start with a smaller `--max-message-bytes`, so no text that passes
/// the core's limit (and the pages' `maxlength`, which are the same numbers, see
/// [`PAGE_FIELDS`]) can close the socket.
pub const MESSAGE_MIN_BYTES: usize = WIRE_BYTES_PER_CHAR * TAKEAWAYS_MAX + ENVELOPE_BYTES;

/// The pages' text inputs (by element id) and the limit in characters each must carry as its
/// `maxlength`: one table, checked against `web/pages` by a test. (`maxlength` counts UTF-16
/// units, so a page never lets through more characters than the core accepts.)
pub const PAGE_FIELDS: &[(&str, usize)] = &[
    ("name", NAME_MAX),
    ("relay-name", NAME_MAX),
    ("proxy-name", NAME_MAX),
    ("affiliation", AFFILIATION_MAX),
    ("relay-aff", AFFILIATION_MAX),
    ("proxy-aff", AFFILIATION_MAX),
    ("note", NOTE_MAX),
    ("proxy-note", NOTE_MAX),
    ("relay-text", TEXT_MAX),
    // The report's text sections, a box each; the core counts them together.
    ("takeaways-questions", TAKEAWAYS_MAX),
    ("takeaways-summary", TAKEAWAYS_MAX),
    ("takeaways-recommendations", TAKEAWAYS_MAX),
    ("takeaways-initiatives", TAKEAWAYS_MAX),
    ("takeaways-progress", TAKEAWAYS_MAX),
    ("takeaways-gender", TAKEAWAYS_MAX),
    ("takeaways-outputs", TAKEAWAYS_MAX),
    ("agenda-items", TAKEAWAYS_MAX),
    ("link-title", TITLE_MAX),
    ("title", TITLE_MAX),
    ("link-url", URL_MAX),
];

/// Largest hub head count.
pub const HEAD_COUNT_MAX: u32 = 100_000;

/// A trimmed, checked copy of `s`.
pub(crate) fn required(field: &'static str, s: &str, max: usize) -> Result<String, Refusal> {
    let s: String = s.nfc().collect();
    let t = s.trim();
    if t.is_empty() {
        return Err(Refusal::invalid(field, "must not be empty"));
    }
    checked(field, t, max)
}

/// A trimmed, checked copy of `s`, or `None` when it is absent or blank.
pub(crate) fn optional(
    field: &'static str,
    s: Option<&str>,
    max: usize,
) -> Result<Option<String>, Refusal> {
    match s.map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => required(field, t, max).map(Some),
    }
}

/// A checked copy of several lines of text (line breaks and tabs allowed; empty is fine).
pub(crate) fn multiline(field: &'static str, s: &str, max: usize) -> Result<String, Refusal> {
    let s: String = s.nfc().collect::<String>().replace("\r\n", "\n");
    checked_allowing(field, s.trim(), max, &['\n', '\t'])
}

/// Characters that reorder the text around them (embeddings, overrides, isolates): they can make
/// a name or note display as something else, so they are refused everywhere.
fn reorders(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Line and paragraph separators: they break a line where only `\n` may (and nowhere in a
/// single-line text), so they are refused everywhere.
fn separates(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Most combining marks on one character. Vietnamese stacks two, some Indic and Thai text three;
/// more is "Zalgo" text drawn over the lines around it.
pub const MARKS_MAX: usize = 4;

/// Characters that show nothing: Unicode's default-ignorable code points (zero-width spaces, word
/// joiners, the combining grapheme joiner, byte-order marks, soft hyphens, direction marks,
/// Hangul fillers, unassigned format characters, variation selectors 1-14, tags). Some stay,
/// because real names need them: the zero-width joiner and non-joiner (emoji, Persian, Indic),
/// the emoji and text presentation selectors (U+FE0E, U+FE0F), the tags of flag emoji and the
/// ideographic variation selectors of Japanese names' kanji.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180E}'
            | '\u{200B}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0D}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E001F}'
            | '\u{E0080}'..='\u{E00FF}'
            | '\u{E01F0}'..='\u{E0FFF}'
    )
}

/// Whether some character of `t` carries more than [`MARKS_MAX`] combining marks.
fn overloaded(t: &str) -> bool {
    let mut run = 0;
    t.chars().any(|c| {
        run = if is_combining_mark(c) { run + 1 } else { 0 };
        run > MARKS_MAX
    })
}

/// `t` with every run of white space (spaces, tabs, no-break and ideographic spaces) made one
/// space: "Ana  Lima" is "Ana Lima".
fn one_space(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn checked(field: &'static str, t: &str, max: usize) -> Result<String, Refusal> {
    checked_allowing(field, t, max, &[])
}

/// `t` if it has no control characters (but `allowed`), no direction overrides, and at most
/// `max` characters.
fn checked_allowing(
    field: &'static str,
    t: &str,
    max: usize,
    allowed: &[char],
) -> Result<String, Refusal> {
    if t.chars().any(|c| c.is_control() && !allowed.contains(&c)) {
        return Err(Refusal::invalid(
            field,
            "control characters are not allowed",
        ));
    }
    if t.chars().any(reorders) {
        return Err(Refusal::invalid(
            field,
            "direction-override characters are not allowed",
        ));
    }
    if t.chars().any(separates) {
        return Err(Refusal::invalid(
            field,
            "line and paragraph separators are not allowed",
        ));
    }
    if overloaded(t) {
        return Err(Refusal::invalid(
            field,
            "at most 4 accents or marks on one letter",
        ));
    }
    if t.chars().count() > max {
        return Err(Refusal::invalid(field, "too long"));
    }
    Ok(t.to_owned())
}

/// A checked copy of a profile.
pub(crate) fn profile(p: &Profile) -> Result<Profile, Refusal> {
    let head_count = match p.modality {
        Modality::Hub if (1..=HEAD_COUNT_MAX).contains(&p.head_count) => p.head_count,
        Modality::Hub => return Err(Refusal::invalid("head_count", "out of range")),
        _ if p.head_count == 1 => 1,
        _ => {
            return Err(Refusal::invalid(
                "head_count",
                "only a hub speaks for more than one person",
            ));
        }
    };
    let language = match p.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) if l.len() <= 35 && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {
            Some(l.to_owned())
        }
        Some(_) => return Err(Refusal::invalid("language", "not a language tag")),
    };
    let name = one_space(&required("name", &p.name, NAME_MAX)?);
    if name.chars().any(invisible) {
        return Err(Refusal::invalid(
            "name",
            "invisible characters are not allowed",
        ));
    }
    if !name.chars().any(char::is_alphanumeric) {
        return Err(Refusal::invalid("name", "must contain a letter or digit"));
    }
    Ok(Profile {
        name,
        affiliation: optional("affiliation", Some(&p.affiliation), AFFILIATION_MAX)?
            .map(|a| one_space(&a))
            .unwrap_or_default(),
        modality: p.modality,
        head_count,
        stakeholder: p.stakeholder,
        gender: p.gender,
        language,
    })
}

/// A checked http(s) URL.
pub(crate) fn url(s: &str) -> Result<String, Refusal> {
    let t = required("url", s, URL_MAX)?;
    let lower = t.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !t.chars().any(char::is_whitespace) => Ok(t),
        _ => Err(Refusal::invalid("url", "must be an http or https address")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_close_the_second_rounds_holes() {
        let p = |name: &str| Profile::new(name, "", Modality::Online);
        // A line separator anywhere, a combining grapheme joiner (and other default-ignorables)
        // in names, and a letter under more than four marks are refused.
        for bad in [
            "Ana\u{2028}Lima",
            "An\u{034F}a",
            "Ana\u{FE00}",
            "Ana\u{E0001}",
            &format!("A{}na", "\u{0301}".repeat(79)),
        ] {
            assert_eq!(profile(&p(bad)).unwrap_err().code(), "invalid", "{bad:?}");
        }
        assert!(required("note", "x\u{2029}y", 100).is_err());
        // White space runs become one space; Vietnamese marks and emoji stay.
        assert_eq!(profile(&p("Ana \u{3000} Lima")).unwrap().name, "Ana Lima");
        for fine in ["Nguyễn Thị Ánh", "Ana ❤\u{FE0F}", "Zoë", "علی\u{200C}رضا"] {
            assert!(profile(&p(fine)).is_ok(), "{fine}");
        }
    }

    #[test]
    fn text_is_trimmed_and_checked() {
        assert_eq!(required("name", "  Ana  ", 10).unwrap(), "Ana");
        assert_eq!(required("name", "   ", 10).unwrap_err().code(), "invalid");
        assert_eq!(
            required("name", "a\u{7}b", 10).unwrap_err().code(),
            "invalid"
        );
        assert!(
            required("name", "ééééé", 5).is_ok(),
            "limits count characters, not bytes"
        );
        assert!(required("name", "éééééé", 5).is_err());
        assert_eq!(optional("note", Some("  "), 5).unwrap(), None);
    }

    #[test]
    fn text_is_normalized_and_cannot_reorder_itself() {
        // "é" typed as e + combining acute is stored precomposed.
        assert_eq!(required("name", "Jose\u{301}", 10).unwrap(), "Jos\u{e9}");
        for sneaky in ["Ana\u{202E}evil", "x\u{2066}y", "\u{202D}Chair"] {
            assert!(required("note", sneaky, 50).is_err(), "{sneaky:?}");
        }
        let mut p = Profile::new("Ana\u{200B}", "", Modality::Online);
        assert!(profile(&p).is_err(), "zero-width space in a name");
        p.name = "\u{200D}\u{200D}".into();
        assert!(profile(&p).is_err(), "a name of joiners only");
        p.name = "👩\u{200D}💻 Ana".into();
        assert!(profile(&p).is_ok(), "emoji sequences keep their joiner");
    }

    #[test]
    fn several_lines_keep_their_breaks_and_nothing_else() {
        assert_eq!(
            multiline("takeaways", " a\r\nb\tc \n", 10).unwrap(),
            "a\nb\tc"
        );
        assert!(multiline("takeaways", "a\u{7}", 10).is_err());
        assert!(multiline("takeaways", "a\u{202E}b", 10).is_err());
        assert_eq!(multiline("takeaways", "", 10).unwrap(), "");
        assert!(
            required("name", "a\nb", 10).is_err(),
            "one-line fields refuse breaks"
        );
    }

    #[test]
    fn profiles_keep_head_counts_for_hubs_only() {
        let mut p = Profile::new("Dakar hub", "Senegal IGF", Modality::Hub);
        p.head_count = 40;
        assert_eq!(profile(&p).unwrap().head_count, 40);
        p.modality = Modality::Online;
        assert!(profile(&p).is_err());
        p.head_count = 1;
        p.language = Some("fr; drop".into());
        assert!(profile(&p).is_err());
    }

    #[test]
    fn urls_must_be_http() {
        assert!(url("https://igf.example/session/12").is_ok());
        assert!(url("javascript:alert(1)").is_err());
        assert!(url("https://").is_err());
        assert!(url("https://a b").is_err());
    }
}
