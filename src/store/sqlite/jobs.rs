//! The writer's jobs and how a batch of them commits: each in its own savepoint of one
//! transaction, so a stale append fails alone and one fsync serves them all.

use std::collections::HashMap;

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::head;
use super::health::Ticket;
use super::io;
use super::rows::*;
use crate::ids::SessionId;
use crate::store::{Recorded, SessionMeta, StoreError};

pub(super) type Reply = oneshot::Sender<Result<u64, StoreError>>;

pub(super) enum Job {
    Create {
        meta: SessionMeta,
        rows: Vec<Row>,
        reply: Reply,
    },
    Append {
        id: SessionId,
        expected: u64,
        rows: Vec<Row>,
        /// The command's answer, recorded in the same transaction as its events.
        answer: Option<Recorded>,
        reply: Reply,
    },
    Truncate {
        id: SessionId,
        keep: u64,
        reply: Reply,
    },
    /// Copy the WAL into the database file and truncate it (at shutdown).
    Checkpoint { reply: Reply },
}

/// A job with its claim (see `health.rs`).
pub(super) struct Queued {
    pub(super) ticket: Ticket,
    pub(super) job: Job,
}

impl Job {
    pub(super) fn reply(self, r: Result<u64, StoreError>) {
        let (Job::Create { reply, .. }
        | Job::Append { reply, .. }
        | Job::Truncate { reply, .. }
        | Job::Checkpoint { reply }) = self;
        // The caller may have gone (its connection closed); the commit stands regardless.
        let _ = reply.send(r);
    }
}

pub(super) fn commit(
    conn: &mut Connection,
    tips: &mut HashMap<SessionId, u64>,
    batch: &[Job],
) -> Result<Vec<Result<u64, StoreError>>, StoreError> {
    let mut tx = conn.transaction().map_err(io)?;
    let mut staged: HashMap<SessionId, u64> = HashMap::new();
    let mut results = Vec::with_capacity(batch.len());
    for job in batch {
        let sp = tx.savepoint().map_err(io)?;
        match run(&sp, tips, &staged, job) {
            Ok((id, tip)) => {
                sp.commit().map_err(io)?;
                staged.insert(id, tip);
                results.push(Ok(tip));
            }
            // Some failures (a full disk) make SQLite roll back the whole transaction: then no
            // job of the batch is stored, and every one gets this error.
            Err(e) if sp.is_autocommit() => return Err(e),
            Err(e) => {
                drop(sp); // rolls this job back alone
                results.push(Err(e));
            }
        }
    }
    tx.commit().map_err(io)?;
    tips.extend(staged);
    Ok(results)
}

/// One job inside its savepoint: the session and its new last seq, or why not.
pub(super) fn run(
    c: &Connection,
    tips: &HashMap<SessionId, u64>,
    staged: &HashMap<SessionId, u64>,
    job: &Job,
) -> Result<(SessionId, u64), StoreError> {
    match job {
        Job::Create { meta, rows, .. } => {
            let inserted = c
                .execute(
                    "INSERT OR IGNORE INTO sessions (id, created_at, epoch, key_epoch) VALUES (?1, ?2, ?3, ?4)",
                    params![meta.id.to_string(), int(meta.created_at.0), meta.epoch, meta.key_epoch],
                )
                .map_err(io)?;
            if inserted == 0 {
                return Err(StoreError::Exists(meta.id));
            }
            insert(c, meta.id, rows)?;
            head::created(c, meta, rows)?;
            Ok((meta.id, rows.len() as u64))
        }
        Job::Append {
            id,
            expected,
            rows,
            answer,
            ..
        } => {
            let actual = match staged.get(id).or_else(|| tips.get(id)) {
                Some(t) => *t,
                None => tip(c, *id)?,
            };
            if actual != *expected {
                return Err(StoreError::Conflict {
                    expected: *expected,
                    actual,
                });
            }
            insert(c, *id, rows)?;
            head::advance(c, *id, *expected, rows)?;
            if let Some(answer) = answer {
                record_answer(c, *id, answer)?;
            }
            Ok((*id, expected + rows.len() as u64))
        }
        Job::Truncate { id, keep, .. } => {
            tip(c, *id)?;
            c.execute(
                "DELETE FROM events WHERE session = ?1 AND seq > ?2",
                params![id.to_string(), int(*keep)],
            )
            .map_err(io)?;
            // An answer naming a seq that is gone would acknowledge what the log no longer holds.
            c.execute(
                "DELETE FROM answers WHERE session = ?1 AND seq > ?2",
                params![id.to_string(), int(*keep)],
            )
            .map_err(io)?;
            c.execute(
                "UPDATE sessions SET epoch = epoch + 1 WHERE id = ?1",
                params![id.to_string()],
            )
            .map_err(io)?;
            head::reset(c, *id, *keep)?;
            Ok((*id, *keep))
        }
        Job::Checkpoint { .. } => unreachable!("the writer runs checkpoints itself"),
    }
}
