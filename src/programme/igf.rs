//! The official report in the IGF's template, per session ([`IgfReport`]), and the event's
//! summary for the secretariat ([`EventSummary`]): data (the API's JSON) and their Markdown,
//! written from the data. The figures come from the session's log (through
//! [`crate::report::Report`]); the text sections from the rapporteur's takeaways, split at
//! Markdown headings that name a section (`## Policy recommendations`, `## Other initiatives`
//! ...), as the console's boxes write them (`web/lib/sections.js`). Text before any heading is
//! the summary of issues discussed (so takeaways written as one box land there). The session's
//! report is `igf/session.rs`, the event's summary `igf/event.rs`.

mod event;
mod session;

pub use event::{Entry, EventModality, EventSession, EventSummary, event_markdown};
pub use session::{
    Counted, IgfParticipation, IgfPlacement, IgfReport, IgfText, ModalityTurns, RemoteQuestions,
    RequestsTurns, session_markdown,
};

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

fn mmss(ms: u64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::event::remote_share;
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
