//! `rostrum report` in the IGF's templates: one session placed in the programme, or the whole
//! event, offline from the data directory.

use rostrum::programme::igf::{EventSummary, IgfReport};

/// One of the two reports in the IGF's templates, as data.
pub enum Igf {
    /// One session.
    Session(Box<IgfReport>),
    /// The whole event.
    Event(EventSummary),
}

impl Igf {
    /// As Markdown, as the API's `.md` answers.
    pub fn markdown(&self) -> String {
        match self {
            Self::Session(r) => r.markdown(),
            Self::Event(e) => e.markdown(),
        }
    }

    /// As JSON, as the API's `.json` answers (pretty-printed).
    pub fn json(&self) -> serde_json::Result<String> {
        match self {
            Self::Session(r) => serde_json::to_string_pretty(r),
            Self::Event(e) => serde_json::to_string_pretty(e),
        }
    }
}

/// `rostrum report --event` (the event's summary; `session` is `None`) and `rostrum report ID
/// --format igf` (one session in the IGF template), offline from the data directory.
pub async fn igf(
    log: &rostrum::store::SqliteLog,
    dir: &std::path::Path,
    session: Option<rostrum::ids::SessionId>,
) -> anyhow::Result<Igf> {
    use rostrum::store::EventLog;
    let p = rostrum::programme::ProgrammeStore::sqlite(dir)?.load()?;
    let report_of = |meta: rostrum::store::SessionMeta, events: &[rostrum::queue::Event]| {
        rostrum::report::Report::of(meta.id, meta.created_at, events)
    };
    if let Some(id) = session {
        let meta = log
            .meta(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("no session {id} in this data directory"))?;
        let events = log.load(id, 0).await?;
        let placed = p
            .slots
            .iter()
            .find(|s| s.session == id)
            .and_then(|s| Some((s, p.room(s.room)?)));
        return Ok(Igf::Session(Box::new(IgfReport::of(
            &report_of(meta, &events),
            &events,
            placed,
        ))));
    }
    let mut entries = Vec::new();
    for slot in &p.slots {
        let (Some(room), Some(meta)) = (p.room(slot.room), log.meta(slot.session).await?) else {
            continue;
        };
        let events = log.load(slot.session, 0).await?;
        entries.push(rostrum::programme::igf::Entry {
            slot,
            room,
            report: report_of(meta, &events),
        });
    }
    Ok(Igf::Event(EventSummary::of(&entries)))
}
