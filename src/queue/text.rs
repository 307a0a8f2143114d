//! Checks on the text people type: names, notes, titles, links. Text is trimmed; control
//! characters and over-long text are refused with a field name, never silently cut.

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
/// Largest hub head count.
pub const HEAD_COUNT_MAX: u32 = 100_000;

/// A trimmed, checked copy of `s`.
pub(crate) fn required(field: &'static str, s: &str, max: usize) -> Result<String, Refusal> {
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
        Some(t) => checked(field, t, max).map(Some),
    }
}

fn checked(field: &'static str, t: &str, max: usize) -> Result<String, Refusal> {
    if t.chars().any(char::is_control) {
        return Err(Refusal::invalid(
            field,
            "control characters are not allowed",
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
    Ok(Profile {
        name: required("name", &p.name, NAME_MAX)?,
        affiliation: optional("affiliation", Some(&p.affiliation), AFFILIATION_MAX)?
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
