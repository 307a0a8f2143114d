//! The embedded default store: one SQLite file, written by one thread with group commit.
//!
//! One writer thread owns the write connection. It blocks for a job, takes every job queued
//! behind it, and commits them in one transaction (each append in its own savepoint, so a stale
//! append fails alone), then answers each caller: under load, one fsync serves many commands.
//! Reads (loading a session, metadata) use separate connections on blocking threads; WAL lets
//! them run beside the writer.
//!
//! Every record carries a CRC-32 over its session, seq and body, and every session a head
//! (`head.rs`: its last seq, a running checksum of its records, its metadata's checksum). Loading
//! checks every checksum, that seqs run from 1 without a gap and that they reach the head; a
//! session that does not check out is refused (`StoreError::Damaged`), never served altered or
//! short. [`SqliteLog::repair`] cuts it back to its last valid record and bumps its epoch, on an
//! operator's explicit request. [`check_dir`] runs the same checks over a whole data directory
//! offline, read-only (`rostrum check`). The WAL is read before SQLite opens it (`wal.rs`), so a
//! damaged one stops the start instead of being cut without a word; `health.rs` bounds every wait
//! for the disk and tells `/readyz` whether the store can write.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::oneshot;

use super::{EventLog, Origin, Recorded, SessionMeta, StoreError, StoreFuture};
use crate::ids::SessionId;
use crate::queue::{Event, Timestamp};

mod check;
mod checkpointer;
mod head;
mod health;
mod jobs;
mod lock;
mod options;
mod readers;
mod rows;
mod wal;
mod writer;
pub use check::{DirCheck, check_dir};
pub use lock::{DirLock, LOCK_FILE, lock_dir};
pub use options::{Durability, SqliteOptions};
pub use wal::WalScan;

use jobs::{Job, Queued, Reply, commit};
use readers::Readers;
use rows::*;

use health::{Health, Ticket};
use writer::Writer;

/// The schema version this build writes (`PRAGMA user_version`).
const SCHEMA: i64 = 3;
/// How often an idle writer wakes: to checkpoint the WAL, or to probe a store that failed.
const TICK: Duration = Duration::from_secs(1);
/// Frames in the WAL that make the writer checkpoint (SQLite's own default threshold).
const CHECKPOINT_FRAMES: u32 = 1000;
/// Most jobs committed in one transaction.
const MAX_BATCH: usize = 1024;
/// The database file's name in the data directory.
pub const FILE: &str = "rostrum.db";

/// The SQLite event log.
pub struct SqliteLog {
    jobs: Option<mpsc::Sender<Queued>>,
    writer: Option<std::thread::JoinHandle<()>>,
    readers: Arc<Readers>,
    health: Arc<Health>,
    _lock: Option<DirLock>,
}

/// Closing the log lets the writer finish its batch, checkpoint the WAL into the database file
/// and truncate it, before the drop returns.
impl Drop for SqliteLog {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
    }
}

impl std::fmt::Debug for SqliteLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLog")
            .field("path", &self.readers.path)
            .finish()
    }
}

impl SqliteLog {
    /// Open (creating and migrating as needed) the database in `dir`, and start its writer.
    ///
    /// A WAL that SQLite would cut short (see `wal.rs`) stops the opening with the steps to take;
    /// nothing is changed. A database file that cannot be written (its mode, its owner) opens
    /// anyway, serving reads, with the store marked failing until it can be written.
    pub fn open(dir: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::io_at(dir.display(), e))?;
        // SQLite would quietly open a write-protected file read-only; say so up front instead.
        let probe = dir.join(".rostrum-write-probe");
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|e| {
                StoreError::io(format!(
                    "the data directory {} is not writable: {e}",
                    dir.display()
                ))
            })?;
        let lock = options.lock.then(|| lock_dir(dir)).transpose()?;
        let path = dir.join(FILE);
        let scan = wal::scan(&path).map_err(|e| StoreError::io_at(path.display(), e))?;
        if scan.is_damaged() {
            return Err(StoreError::io(wal_damage_message(dir, &scan)));
        }
        Self::open_unchecked(dir, options, lock)
    }

    fn open_unchecked(
        dir: &Path,
        options: SqliteOptions,
        lock: Option<DirLock>,
    ) -> Result<Self, StoreError> {
        let path = dir.join(FILE);
        let health = Arc::new(Health::new(options.timeout));
        let readers = Arc::new(Readers {
            path: path.clone(),
            idle: Mutex::new(Vec::new()),
        });
        let writer = Writer::open(&path, options, health.clone(), readers.clone())?;
        let (tx, rx) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("rostrum-sqlite-writer".into())
            .spawn(move || writer.run(&rx))
            .map_err(io)?;
        Ok(Self {
            jobs: Some(tx),
            writer: Some(writer),
            readers,
            health,
            _lock: lock,
        })
    }

    /// Accept the loss of what a damaged WAL holds past the point SQLite replays: the WAL is
    /// copied aside (`rostrum.db-wal.damaged-SECS`), SQLite replays the valid prefix and the WAL
    /// is checkpointed, every session's epoch is bumped (clients resync) and the mark reset.
    /// Returns the scan and where the copy is. For `rostrum repair --wal`, service stopped.
    pub fn repair_wal(dir: &Path) -> Result<(WalScan, PathBuf), StoreError> {
        let lock = lock_dir(dir)?;
        let path = dir.join(FILE);
        let scan = wal::scan(&path).map_err(io)?;
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut kept = wal::wal_path(&path).into_os_string();
        kept.push(format!(".damaged-{secs}"));
        let kept = PathBuf::from(kept);
        if scan.bytes > 0 {
            std::fs::copy(wal::wal_path(&path), &kept).map_err(io)?;
        }
        // SQLite replays the valid prefix as it opens; then everything goes into the file.
        let mut conn = Connection::open(&path).map_err(io)?;
        conn.busy_timeout(Duration::from_secs(5)).map_err(io)?;
        migrate(&conn)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(io)?;
        let tx = conn.transaction().map_err(io)?;
        let ids: Vec<String> = tx
            .prepare("SELECT id FROM sessions")
            .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
            .map_err(io)?;
        for raw in ids {
            let Ok(id) = raw.parse::<SessionId>() else {
                continue;
            };
            let keep = head::read(&tx, id)
                .ok()
                .flatten()
                .map_or(u64::MAX, |h| h.seq);
            tx.execute(
                "UPDATE sessions SET epoch = epoch + 1 WHERE id = ?1",
                params![raw],
            )
            .map_err(io)?;
            head::reset(&tx, id, keep)?;
        }
        tx.commit().map_err(io)?;
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .map_err(io)?;
        drop(conn);
        match std::fs::remove_file(wal::mark_path(&path)) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
        drop(lock);
        Ok((scan, kept))
    }

    /// Queue a job for the writer and wait for its answer, at most the store timeout unless the
    /// writer has already taken it (then the commit it is in decides).
    fn submit(&self, job: impl FnOnce(Reply) -> Job) -> StoreFuture<'_, u64> {
        let health = self.health.clone();
        if let Some(why) = health.stuck() {
            return Box::pin(std::future::ready(Err(StoreError::Unavailable(why))));
        }
        let (reply, mut rx) = oneshot::channel();
        let ticket = Ticket::default();
        let sent = self.jobs.as_ref().map(|jobs| {
            jobs.send(Queued {
                ticket: ticket.clone(),
                job: job(reply),
            })
        });
        Box::pin(async move {
            sent.and_then(Result::ok)
                .ok_or_else(|| StoreError::io("the writer has stopped"))?;
            let stopped = |_| StoreError::io("the writer has stopped");
            match tokio::time::timeout(health.timeout, &mut rx).await {
                Ok(r) => r.map_err(stopped)?,
                Err(_) if ticket.abandon() => Err(StoreError::Unavailable(format!(
                    "the disk did not take the write within {:.1} s; nothing was applied",
                    health.timeout.as_secs_f64()
                ))),
                Err(_) => rx.await.map_err(stopped)?,
            }
        })
    }

    /// `Ok` while the store can write; else why not (a failed or stuck commit).
    pub fn ready(&self) -> Result<(), String> {
        self.health.ready()
    }

    fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> StoreFuture<'_, T> {
        let readers = self.readers.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || readers.with(f))
                .await
                .map_err(io)?
        })
    }

    /// Every session's log checked; `Err` for each that does not check out.
    pub async fn check(&self) -> Result<Vec<(SessionMeta, Result<u64, StoreError>)>, StoreError> {
        let metas = self.list().await?;
        let mut out = Vec::with_capacity(metas.len());
        for meta in metas {
            let r = self
                .load(meta.id, 0)
                .await
                .map(|events| events.len() as u64);
            out.push((meta, r));
        }
        Ok(out)
    }

    /// Cut a damaged session back to its last valid record and bump its epoch (so clients
    /// resync). Returns the seq kept. Run it with the server stopped: it is an operator's call,
    /// since it discards the damaged record and everything after it.
    pub async fn repair(&self, id: SessionId) -> Result<u64, StoreError> {
        // The longest run of records from seq 1 that each check out; the head and the metadata's
        // checksum are rewritten for what is kept.
        let keep = self
            .read(move |c| {
                tip(c, id)?;
                let rows = read_rows(c, id, 0)?;
                let mut keep = 0;
                for row in rows {
                    if row.seq != keep + 1 || verify(id, keep, vec![row]).is_err() {
                        break;
                    }
                    keep += 1;
                }
                Ok(keep)
            })
            .await?;
        self.submit(|reply| Job::Truncate { id, keep, reply }).await
    }

    /// A consistent copy of the whole database, taken while it is in use.
    pub async fn backup(&self, to: &Path) -> Result<(), StoreError> {
        let to = to.to_path_buf();
        self.read(move |c| {
            c.execute("VACUUM INTO ?1", params![to.to_string_lossy()])
                .map_err(io)?;
            Ok(())
        })
        .await
    }
}

impl EventLog for SqliteLog {
    fn create<'a>(&'a self, meta: &'a SessionMeta, events: &'a [Event]) -> StoreFuture<'a, ()> {
        let (meta, rows) = (meta.clone(), rows(meta.id, 1, events));
        let fut = self.submit(|reply| Job::Create { meta, rows, reply });
        Box::pin(async move { fut.await.map(|_| ()) })
    }

    fn meta(&self, id: SessionId) -> StoreFuture<'_, Option<SessionMeta>> {
        self.read(move |c| {
            let tx = c.unchecked_transaction().map_err(io)?;
            let Some(meta) = read_meta(&tx, id)? else {
                // A head with no metadata: the session existed, its row is gone.
                return match head::read(&tx, id)? {
                    Some(h) => Err(StoreError::Damaged {
                        session: id,
                        seq: 0,
                        reason: format!("its metadata is gone (its head says {} events)", h.seq),
                    }),
                    None => Ok(None),
                };
            };
            head::verify_meta(&tx, &meta)?;
            Ok(Some(meta))
        })
    }

    fn list(&self) -> StoreFuture<'_, Vec<SessionMeta>> {
        self.read(|c| {
            let mut stmt = c
                .prepare_cached(
                    "SELECT id, created_at, epoch, key_epoch FROM sessions ORDER BY created_at, id",
                )
                .map_err(io)?;
            let rows = stmt.query_map([], meta_row).map_err(io)?;
            rows.map(|r| r.map_err(io).and_then(to_meta)).collect()
        })
    }

    fn append<'a>(
        &'a self,
        id: SessionId,
        expected: u64,
        origin: &'a Origin,
        events: &'a [Event],
    ) -> StoreFuture<'a, u64> {
        let rows = rows(id, expected + 1, events);
        let answer = Recorded::of(origin, expected + 1, events);
        self.submit(|reply| Job::Append {
            id,
            expected,
            rows,
            answer,
            reply,
        })
    }

    fn load(&self, id: SessionId, after: u64) -> StoreFuture<'_, Vec<Event>> {
        self.read(move |c| load_checked(c, id, after))
    }

    fn answers(&self, id: SessionId, since: Timestamp) -> StoreFuture<'_, Vec<Recorded>> {
        self.read(move |c| read_answers(c, id, since))
    }

    fn ready(&self) -> Result<(), String> {
        self.health.ready()
    }

    fn close(&self) -> StoreFuture<'_, ()> {
        let done = self.submit(|reply| Job::Checkpoint { reply });
        Box::pin(async move { done.await.map(|_| ()) })
    }
}

/// What `open` says when the WAL would be cut: what, how much, and the steps.
fn wal_damage_message(dir: &Path, scan: &WalScan) -> String {
    let d = dir.display();
    format!(
        "the write-ahead log {d}/{FILE}-wal is damaged: {scan}. SQLite would replay only part of \
         it, and {} acknowledged commits would be lost without a word. Nothing was changed. Run \
         `rostrum check --data-dir {d}` to see it, copy the directory somewhere safe, then \
         `rostrum repair --wal --data-dir {d}` to keep what can be replayed (the damaged log is \
         kept beside it) and start again",
        scan.commits_at_risk()
    )
}

#[cfg(test)]
mod tests;
