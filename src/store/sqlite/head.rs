//! Where each session ends: its **head**, one row per session in `heads`, written in the same
//! transaction as the records it covers. A head holds the session's last seq, a running
//! checksum (a chain of CRC-32s: each record's checksum folded into the one before) over every
//! record from seq 1, the metadata row's checksum, and a checksum of its own.
//!
//! Each record's own checksum catches a record that was altered; it cannot catch records that
//! are simply gone. A bit flipped in a B-tree page can make SQLite return a clean-looking,
//! shorter list of rows: loading compares that list with the head, so a session is served
//! whole or refused as `damaged`, never served short.

use rusqlite::{Connection, OptionalExtension, params};

use super::{Row, int, io, uint};
use crate::ids::SessionId;
use crate::store::{SessionMeta, StoreError};

/// A session's head as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Head {
    /// The last seq appended.
    pub seq: u64,
    /// The running checksum of records 1..=seq.
    pub chain: u32,
    /// The metadata row's checksum.
    pub meta: u32,
}

impl Head {
    fn checksum(&self, id: SessionId) -> u32 {
        let mut h = crc32fast::Hasher::new();
        h.update(b"head");
        h.update(id.0.as_bytes());
        h.update(&self.seq.to_le_bytes());
        h.update(&self.chain.to_le_bytes());
        h.update(&self.meta.to_le_bytes());
        h.finalize()
    }
}

/// The running checksum after one more record whose own checksum is `record`.
pub(super) fn chain(prev: u32, record: u32) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&prev.to_le_bytes());
    h.update(&record.to_le_bytes());
    h.finalize()
}

/// The metadata row's checksum: every field of it.
pub(super) fn meta_checksum(m: &SessionMeta) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(b"meta");
    h.update(m.id.0.as_bytes());
    h.update(&m.created_at.0.to_le_bytes());
    h.update(&m.epoch.to_le_bytes());
    h.update(&m.key_epoch.to_le_bytes());
    h.finalize()
}

/// The schema step that adds heads (3), computing one for every session already stored. A
/// session already damaged keeps its damage visible: its head covers the records as they are,
/// and the records' own checksums still fail.
pub(super) const CREATE: &str = "CREATE TABLE IF NOT EXISTS heads (
        session TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        chain INTEGER NOT NULL,
        meta INTEGER NOT NULL,
        checksum INTEGER NOT NULL
    ) WITHOUT ROWID;";

/// Compute and store a head for every session that has none (the migration to schema 3).
pub(super) fn backfill(c: &Connection) -> Result<(), StoreError> {
    let metas: Vec<SessionMeta> = c
        .prepare(
            "SELECT id, created_at, epoch, key_epoch FROM sessions \
             WHERE id NOT IN (SELECT session FROM heads)",
        )
        .and_then(|mut s| {
            s.query_map([], super::meta_row)?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(io)?
        .into_iter()
        .filter_map(|raw| super::to_meta(raw).ok())
        .collect();
    for m in metas {
        let rows = super::read_rows(c, m.id, 0)?;
        let head = Head {
            seq: rows.last().map_or(0, |r| r.seq),
            chain: rows.iter().fold(0, |h, r| chain(h, r.checksum)),
            meta: meta_checksum(&m),
        };
        write(c, m.id, head)?;
    }
    Ok(())
}

/// A session's head, `None` if it has none; `Damaged` if the head does not check out.
pub(super) fn read(c: &Connection, id: SessionId) -> Result<Option<Head>, StoreError> {
    let row: Option<(i64, u32, u32, u32)> = c
        .prepare_cached("SELECT seq, chain, meta, checksum FROM heads WHERE session = ?1")
        .map_err(io)?
        .query_row(params![id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()
        .map_err(io)?;
    let Some((seq, chain, meta, checksum)) = row else {
        return Ok(None);
    };
    let head = Head {
        seq: uint(seq),
        chain,
        meta,
    };
    if head.checksum(id) != checksum {
        return Err(StoreError::Damaged {
            session: id,
            seq: head.seq.max(1),
            reason: "its head record (where the log ends) does not check out".into(),
        });
    }
    Ok(Some(head))
}

fn write(c: &Connection, id: SessionId, head: Head) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO heads (session, seq, chain, meta, checksum) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (session) DO UPDATE SET seq = ?2, chain = ?3, meta = ?4, checksum = ?5",
    )
    .map_err(io)?
    .execute(params![
        id.to_string(),
        int(head.seq),
        head.chain,
        head.meta,
        head.checksum(id)
    ])
    .map_err(io)?;
    Ok(())
}

/// Inside a new session's transaction: its head after its first records.
pub(super) fn created(c: &Connection, meta: &SessionMeta, rows: &[Row]) -> Result<(), StoreError> {
    let head = Head {
        seq: rows.last().map_or(0, |r| r.seq),
        chain: rows.iter().fold(0, |h, r| chain(h, r.checksum)),
        meta: meta_checksum(meta),
    };
    write(c, meta.id, head)
}

/// Inside an append's savepoint: move the head past `rows`, which follow seq `expected`. A
/// head that is missing, or not at `expected`, means the session is damaged: nothing is
/// appended to it.
pub(super) fn advance(
    c: &Connection,
    id: SessionId,
    expected: u64,
    rows: &[Row],
) -> Result<(), StoreError> {
    let damaged = |reason: String| StoreError::Damaged {
        session: id,
        seq: expected + 1,
        reason,
    };
    let head = read(c, id)?.ok_or_else(|| damaged("it has no head record".into()))?;
    if head.seq != expected {
        return Err(damaged(format!(
            "its records end at seq {expected} but its head says {}",
            head.seq
        )));
    }
    let next = Head {
        seq: rows.last().map_or(head.seq, |r| r.seq),
        chain: rows.iter().fold(head.chain, |h, r| chain(h, r.checksum)),
        meta: head.meta,
    };
    write(c, id, next)
}

/// Inside a repair's savepoint: the head rewritten for records 1..=keep as they are now, and the
/// metadata as it is now (its epoch just bumped).
pub(super) fn reset(c: &Connection, id: SessionId, keep: u64) -> Result<(), StoreError> {
    let rows = super::read_rows(c, id, 0)?;
    let meta = c
        .query_row(
            "SELECT id, created_at, epoch, key_epoch FROM sessions WHERE id = ?1",
            params![id.to_string()],
            super::meta_row,
        )
        .map_err(io)
        .and_then(super::to_meta)?;
    let kept = rows.iter().take_while(|r| r.seq <= keep);
    let head = Head {
        seq: keep,
        chain: kept.fold(0, |h, r| chain(h, r.checksum)),
        meta: meta_checksum(&meta),
    };
    write(c, id, head)
}

/// The session's head, checked against its metadata: `Damaged` if either does not check out.
fn checked(c: &Connection, meta: &SessionMeta, last: u64) -> Result<Head, StoreError> {
    let id = meta.id;
    let head = read(c, id)?.ok_or_else(|| StoreError::Damaged {
        session: id,
        seq: last + 1,
        reason: "it has no head record (where the log ends)".into(),
    })?;
    if head.meta != meta_checksum(meta) {
        return Err(StoreError::Damaged {
            session: id,
            seq: 0,
            reason: "its metadata (created at, epoch, key epoch) does not match its checksum"
                .into(),
        });
    }
    Ok(head)
}

/// Check the metadata row against its checksum in the head.
pub(super) fn verify_meta(c: &Connection, meta: &SessionMeta) -> Result<(), StoreError> {
    checked(c, meta, 0).map(|_| ())
}

/// Check the metadata and the loaded records against the session's head: the records must end
/// at `last`, the head's seq, and, when loaded from seq 1, fold to its running checksum
/// (`chain`).
pub(super) fn verify(
    c: &Connection,
    meta: &SessionMeta,
    last: u64,
    chain: Option<u32>,
) -> Result<(), StoreError> {
    let head = checked(c, meta, last)?;
    let damaged = |seq: u64, reason: String| StoreError::Damaged {
        session: meta.id,
        seq,
        reason,
    };
    if last < head.seq {
        return Err(damaged(
            last + 1,
            format!(
                "records {}..={} are missing: the log ends at seq {last} but was written up to seq {}",
                last + 1,
                head.seq,
                head.seq
            ),
        ));
    }
    if last > head.seq {
        return Err(damaged(
            head.seq + 1,
            format!("records past its head (seq {}) are present", head.seq),
        ));
    }
    if chain.is_some_and(|chain| chain != head.chain) {
        return Err(damaged(
            last.max(1),
            "its records do not add up to the running checksum of its head".into(),
        ));
    }
    Ok(())
}

/// Every head whose session is gone (its metadata row lost): the ids, as stored.
pub(super) fn orphans(c: &Connection) -> Result<Vec<(String, u64)>, StoreError> {
    c.prepare("SELECT session, seq FROM heads WHERE session NOT IN (SELECT id FROM sessions)")
        .and_then(|mut s| {
            s.query_map([], |r| Ok((r.get(0)?, uint(r.get(1)?))))?
                .collect()
        })
        .map_err(io)
}
