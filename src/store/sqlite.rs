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

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use tokio::sync::oneshot;

use super::{ANSWERS_KEPT_MS, EventLog, Origin, Recorded, SessionMeta, StoreError, StoreFuture};
use crate::auth::SessionId;
use crate::queue::{Event, ParticipantId, Timestamp};

mod check;
mod head;
mod health;
mod lock;
mod wal;
mod writer;
pub use check::{DirCheck, check_dir};
pub use lock::{DirLock, LOCK_FILE, lock_dir};
pub use wal::WalScan;

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

/// How hard a commit waits for the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Durability {
    /// `synchronous=FULL`: an acknowledged command survives power loss.
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, but the last commits may be lost
    /// on power loss.
    Normal,
}

/// A record as stored.
struct Row {
    seq: u64,
    body: String,
    checksum: u32,
}

fn checksum(session: SessionId, seq: u64, body: &str) -> u32 {
    super::checksum(session, seq, body.as_bytes())
}

fn rows(session: SessionId, first_seq: u64, events: &[Event]) -> Vec<Row> {
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

type Reply = oneshot::Sender<Result<u64, StoreError>>;

enum Job {
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
struct Queued {
    ticket: Ticket,
    job: Job,
}

impl Job {
    fn reply(self, r: Result<u64, StoreError>) {
        let (Job::Create { reply, .. }
        | Job::Append { reply, .. }
        | Job::Truncate { reply, .. }
        | Job::Checkpoint { reply }) = self;
        // The caller may have gone (its connection closed); the commit stands regardless.
        let _ = reply.send(r);
    }
}

/// SQLite integers are signed; seqs, times and sizes never come near 2^63.
fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn uint(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn io(e: impl std::fmt::Display) -> StoreError {
    StoreError::Io(e.to_string())
}

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

/// How the database is opened.
#[derive(Debug, Clone, Copy)]
pub struct SqliteOptions {
    /// How hard a commit waits for the disk.
    pub durability: Durability,
    /// Largest size the database and its WAL may grow to together, in bytes; past it, appends
    /// fail as on a full disk.
    pub max_bytes: Option<u64>,
    /// Longest wait for the disk: a command not written by then is answered `unavailable`
    /// (nothing applied), and `/readyz` fails while a commit takes longer.
    pub timeout: Duration,
    /// Hold the data directory's lock (`rostrum.lock`) while open: a service, or a repair.
    pub lock: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            durability: Durability::Full,
            max_bytes: None,
            timeout: Duration::from_secs(5),
            lock: false,
        }
    }
}

impl SqliteOptions {
    /// The WAL's share of `max_bytes`: a quarter, at most 1,000 frames of 4 KiB.
    fn wal_budget(&self) -> Option<u64> {
        self.max_bytes
            .map(|max| (max / 4).min(u64::from(CHECKPOINT_FRAMES) * (4096 + 24)))
    }
}

impl std::fmt::Debug for SqliteLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteLog")
            .field("path", &self.readers.path)
            .finish()
    }
}

/// Idle read connections, opened on demand.
struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Close every idle connection. SQLite shares a file's WAL index among the connections of
    /// a process, opened the way the first one could: a writer reopened after the file became
    /// writable needs the read-only ones gone first.
    fn close_idle(&self) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => {
                let c = Connection::open_with_flags(
                    &self.path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )
                .map_err(io)?;
                c.busy_timeout(std::time::Duration::from_secs(5))
                    .map_err(io)?;
                c
            }
        };
        let r = f(&conn);
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(conn);
        r
    }
}

impl SqliteLog {
    /// Open (creating and migrating as needed) the database in `dir`, and start its writer.
    ///
    /// A WAL that SQLite would cut short (see `wal.rs`) stops the opening with the steps to take;
    /// nothing is changed. A database file that cannot be written (its mode, its owner) opens
    /// anyway, serving reads, with the store marked failing until it can be written.
    pub fn open(dir: &Path, options: SqliteOptions) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Io(format!("{}: {e}", dir.display())))?;
        // SQLite would quietly open a write-protected file read-only; say so up front instead.
        let probe = dir.join(".rostrum-write-probe");
        std::fs::write(&probe, b"")
            .and_then(|()| std::fs::remove_file(&probe))
            .map_err(|e| {
                StoreError::Io(format!(
                    "the data directory {} is not writable: {e}",
                    dir.display()
                ))
            })?;
        let lock = options.lock.then(|| lock_dir(dir)).transpose()?;
        let path = dir.join(FILE);
        let scan =
            wal::scan(&path).map_err(|e| StoreError::Io(format!("{}: {e}", path.display())))?;
        if scan.is_damaged() {
            return Err(StoreError::Io(wal_damage_message(dir, &scan)));
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
                .ok_or_else(|| StoreError::Io("the writer has stopped".into()))?;
            let stopped = |_| StoreError::Io("the writer has stopped".into());
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

fn migrate(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(io)?;
    if version > SCHEMA {
        return Err(StoreError::Io(format!(
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

fn commit(
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
fn run(
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

/// A session's last seq (0 for none); `UnknownSession` if it does not exist.
fn tip(c: &Connection, id: SessionId) -> Result<u64, StoreError> {
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

fn insert(c: &Connection, id: SessionId, rows: &[Row]) -> Result<(), StoreError> {
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
fn record_answer(c: &Connection, id: SessionId, a: &Recorded) -> Result<(), StoreError> {
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

fn read_answers(
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

fn read_rows(c: &Connection, id: SessionId, after: u64) -> Result<Vec<Row>, StoreError> {
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
fn verify(id: SessionId, after: u64, rows: Vec<Row>) -> Result<Vec<Event>, StoreError> {
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

fn meta_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(String, u64, u32, u32)> {
    Ok((r.get(0)?, uint(r.get(1)?), r.get(2)?, r.get(3)?))
}

fn to_meta(
    (id, created_at, epoch, key_epoch): (String, u64, u32, u32),
) -> Result<SessionMeta, StoreError> {
    let id = id
        .parse()
        .map_err(|_| StoreError::Io(format!("a stored session id is malformed: {id}")))?;
    Ok(SessionMeta {
        id,
        created_at: Timestamp(created_at),
        epoch,
        key_epoch,
    })
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

/// A session's metadata row, `None` if there is none.
fn read_meta(c: &Connection, id: SessionId) -> Result<Option<SessionMeta>, StoreError> {
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
fn load_checked(c: &Connection, id: SessionId, after: u64) -> Result<Vec<Event>, StoreError> {
    let tx = c.unchecked_transaction().map_err(io)?;
    load_in(&tx, id, after)
}

/// `load_checked` inside a transaction the caller holds (`rostrum check` holds one for all).
fn load_in(c: &Connection, id: SessionId, after: u64) -> Result<Vec<Event>, StoreError> {
    let meta = read_meta(c, id)?.ok_or(StoreError::UnknownSession(id))?;
    let rows = read_rows(c, id, after)?;
    let last = rows.last().map_or(after, |r| r.seq);
    let chain = (after == 0).then(|| rows.iter().fold(0, |h, r| head::chain(h, r.checksum)));
    let events = verify(id, after, rows)?;
    head::verify(c, &meta, last, chain)?;
    Ok(events)
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
