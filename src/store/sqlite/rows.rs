//! The SQL of each operation: the schema and its migrations, records with their checksums,
//! answers, metadata, and a session's log read and verified against its head.

use rusqlite::{Connection, OptionalExtension, params};

use super::{SCHEMA, head};
use crate::ids::SessionId;
use crate::queue::{Event, ParticipantId, Timestamp};
use crate::store::{ANSWERS_KEPT_MS, Recorded, SessionMeta, StoreError};

/// A record as stored.
pub(super) struct Row {
    pub(super) seq: u64,
    pub(super) body: String,
    pub(super) checksum: u32,
}

pub(super) fn checksum(session: SessionId, seq: u64, body: &str) -> u32 {
    crate::store::checksum(session, seq, body.as_bytes())
}

pub(super) fn rows(session: SessionId, first_seq: u64, events: &[Event]) -> Vec<Row> {
    events
        .iter()
        .zip(first_seq..)
        .map(|(e, seq)| {
            let body = serde_json::to_string(e).expect("events serialize");
            Row {
                checksum: checksum(session, seq, &body),
                seq,
                body,
            }
        })
        .collect()
}

/// SQLite integers are signed; seqs, times and sizes never come near 2^63.
pub(super) fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

pub(super) fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(super) fn io(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> StoreError {
    StoreError::io_from(e)
}

/// The file's schema version (`PRAGMA user_version`).
pub(super) fn schema_version(conn: &Connection) -> Result<i64, StoreError> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(io)
}

pub(super) fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version = schema_version(conn)?;
    if version > SCHEMA {
        return Err(StoreError::io(format!(
            "the database has schema {version}, newer than this build's {SCHEMA}: upgrade rostrum"
        )));
    }
    if version < 1 {
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS sessions (
                 id TEXT PRIMARY KEY,
                 created_at INTEGER NOT NULL,
                 epoch INTEGER NOT NULL,
                 key_epoch INTEGER NOT NULL
             ) WITHOUT ROWID;
             CREATE TABLE IF NOT EXISTS events (
                 session TEXT NOT NULL,
                 seq INTEGER NOT NULL,
                 body TEXT NOT NULL,
                 checksum INTEGER NOT NULL,
                 PRIMARY KEY (session, seq)
             ) WITHOUT ROWID;
             PRAGMA user_version = 1;
             COMMIT;",
        )
        .map_err(io)?;
    }
    if version < 2 {
        // The answers to recent commands, recorded with their events so a resend after a
        // restart gets the original answer (`record_answer`). Keyed by the sender's opaque key.
        conn.execute_batch(
            "BEGIN;
             CREATE TABLE IF NOT EXISTS answers (
                 session TEXT NOT NULL,
                 sender TEXT NOT NULL,
                 req INTEGER NOT NULL,
                 seq INTEGER NOT NULL,
                 participant INTEGER,
                 at INTEGER NOT NULL,
                 PRIMARY KEY (session, sender, req)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS answers_by_time ON answers (session, at);
             PRAGMA user_version = 2;
             COMMIT;",
        )
        .map_err(io)?;
    }
    if version < 3 {
        // Heads: where each session ends, and its metadata's checksum (head.rs).
        let tx = conn.unchecked_transaction().map_err(io)?;
        tx.execute_batch(head::CREATE).map_err(io)?;
        head::backfill(&tx)?;
        tx.pragma_update(None, "user_version", 3).map_err(io)?;
        tx.commit().map_err(io)?;
    }
    Ok(())
}

/// A session's last seq (0 for none); `UnknownSession` if it does not exist.
pub(super) fn tip(c: &Connection, id: SessionId) -> Result<u64, StoreError> {
    let known: Option<i64> = c
        .query_row(
            "SELECT 1 FROM sessions WHERE id = ?1",
            params![id.to_string()],
            |r| r.get(0),
        )
        .optional()
        .map_err(io)?;
    if known.is_none() {
        return Err(StoreError::UnknownSession(id));
    }
    c.query_row(
        "SELECT COALESCE(MAX(seq), 0) FROM events WHERE session = ?1",
        params![id.to_string()],
        |r| r.get(0),
    )
    .map(uint)
    .map_err(io)
}

pub(super) fn insert(c: &Connection, id: SessionId, rows: &[Row]) -> Result<(), StoreError> {
    let mut stmt = c
        .prepare_cached("INSERT INTO events (session, seq, body, checksum) VALUES (?1, ?2, ?3, ?4)")
        .map_err(io)?;
    let session = id.to_string();
    for r in rows {
        stmt.execute(params![session, int(r.seq), r.body, r.checksum])
            .map_err(io)?;
    }
    Ok(())
}

/// Record a command's answer beside its events, and drop the session's answers that left the
/// window (by the index on time: no event is touched).
pub(super) fn record_answer(c: &Connection, id: SessionId, a: &Recorded) -> Result<(), StoreError> {
    let session = id.to_string();
    c.prepare_cached(
        "INSERT OR REPLACE INTO answers (session, sender, req, seq, participant, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut s| {
        s.execute(params![
            session,
            a.sender,
            int(a.req),
            int(a.seq),
            a.participant.map(|p| p.0),
            int(a.at.0)
        ])
    })
    .map_err(io)?;
    c.prepare_cached("DELETE FROM answers WHERE session = ?1 AND at < ?2")
        .and_then(|mut s| {
            s.execute(params![
                session,
                int(a.at.0.saturating_sub(ANSWERS_KEPT_MS))
            ])
        })
        .map_err(io)?;
    Ok(())
}

pub(super) fn read_answers(
    c: &Connection,
    id: SessionId,
    since: Timestamp,
) -> Result<Vec<Recorded>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT sender, req, seq, participant, at FROM answers WHERE session = ?1 AND at >= ?2 ORDER BY at, seq",
        )
        .map_err(io)?;
    let rows = stmt
        .query_map(params![id.to_string(), int(since.0)], |r| {
            Ok(Recorded {
                sender: r.get(0)?,
                req: uint(r.get(1)?),
                seq: uint(r.get(2)?),
                participant: r.get::<_, Option<u32>>(3)?.map(ParticipantId),
                at: Timestamp(uint(r.get(4)?)),
            })
        })
        .map_err(io)?;
    rows.collect::<Result<_, _>>().map_err(io)
}

pub(super) fn read_rows(c: &Connection, id: SessionId, after: u64) -> Result<Vec<Row>, StoreError> {
    let mut stmt = c
        .prepare_cached(
            "SELECT seq, body, checksum FROM events WHERE session = ?1 AND seq > ?2 ORDER BY seq",
        )
        .map_err(io)?;
    let rows = stmt
        .query_map(params![id.to_string(), int(after)], |r| {
            Ok(Row {
                seq: uint(r.get(0)?),
                body: r.get(1)?,
                checksum: r.get(2)?,
            })
        })
        .map_err(io)?;
    rows.collect::<Result<_, _>>().map_err(io)
}

/// The events of `rows`, if every record checks out and the seqs run on from `after`.
pub(super) fn verify(id: SessionId, after: u64, rows: Vec<Row>) -> Result<Vec<Event>, StoreError> {
    let damaged = |seq, reason: &str| StoreError::Damaged {
        session: id,
        seq,
        reason: reason.to_owned(),
    };
    let mut events = Vec::with_capacity(rows.len());
    for (expected, row) in (after + 1..).zip(rows) {
        if row.seq != expected {
            return Err(damaged(expected, "missing record"));
        }
        if checksum(id, row.seq, &row.body) != row.checksum {
            return Err(damaged(row.seq, "checksum mismatch"));
        }
        let event =
            serde_json::from_str(&row.body).map_err(|_| damaged(row.seq, "unreadable record"))?;
        events.push(event);
    }
    Ok(events)
}

pub(super) fn meta_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, u64, u32, u32)> {
    Ok((r.get(0)?, uint(r.get(1)?), r.get(2)?, r.get(3)?))
}

pub(super) fn to_meta(
    (id, created_at, epoch, key_epoch): (String, u64, u32, u32),
) -> Result<SessionMeta, StoreError> {
    let id = id
        .parse()
        .map_err(|_| StoreError::io(format!("a stored session id is malformed: {id}")))?;
    Ok(SessionMeta {
        id,
        created_at: Timestamp(created_at),
        epoch,
        key_epoch,
    })
}

/// A session's metadata row, `None` if there is none.
pub(super) fn read_meta(c: &Connection, id: SessionId) -> Result<Option<SessionMeta>, StoreError> {
    c.query_row(
        "SELECT id, created_at, epoch, key_epoch FROM sessions WHERE id = ?1",
        params![id.to_string()],
        meta_row,
    )
    .optional()
    .map_err(io)?
    .map(to_meta)
    .transpose()
}

/// The events after seq `after`, every record checked, and the whole against the session's
/// head, all in one read transaction (a snapshot: an append meanwhile cannot tear it).
pub(super) fn load_checked(
    c: &Connection,
    id: SessionId,
    after: u64,
) -> Result<Vec<Event>, StoreError> {
    let tx = c.unchecked_transaction().map_err(io)?;
    load_in(&tx, id, after)
}

/// `load_checked` inside a transaction the caller holds (`rostrum check` holds one for all).
pub(super) fn load_in(c: &Connection, id: SessionId, after: u64) -> Result<Vec<Event>, StoreError> {
    let meta = read_meta(c, id)?.ok_or(StoreError::UnknownSession(id))?;
    let rows = read_rows(c, id, after)?;
    let last = rows.last().map_or(after, |r| r.seq);
    let chain = (after == 0).then(|| rows.iter().fold(0, |h, r| head::chain(h, r.checksum)));
    let events = verify(id, after, rows)?;
    head::verify(c, &meta, last, chain)?;
    Ok(events)
}
