//! `rostrum report` in the IGF's templates: one session placed in the programme, or the whole
//! event, offline from the data directory.

/// `rostrum report --event` (the event's summary; `session` is `None`) and `rostrum report ID
/// --format igf` (one session in the IGF template), offline from the data directory.
pub async fn igf(
    log: &rostrum::store::SqliteLog,
    dir: &std::path::Path,
    session: Option<rostrum::ids::SessionId>,
) -> anyhow::Result<String> {
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
        return Ok(rostrum::programme::igf::session_markdown(
            &report_of(meta, &events),
            &events,
            placed,
        ));
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
    Ok(rostrum::programme::igf::event_markdown(&entries))
}
