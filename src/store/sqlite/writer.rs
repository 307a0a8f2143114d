//! The writer thread: group commit, the WAL kept short, and the store's health.
//!
//! It blocks for a job, takes every job queued behind it (skipping those whose callers gave up,
//! see `health.rs`), commits them in one transaction and answers each caller. After each commit
//! it records the WAL's state in the mark (`wal.rs`). SQLite's own automatic checkpoint is
//! replaced (the WAL hook that counts frames turns it off): the writer checkpoints when the WAL
//! reaches its threshold, truncates it once it has been idle for a second, and again when it
//! stops, so a clean shutdown leaves everything in the database file.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Instant;

use rusqlite::Connection;

use super::checkpointer::Checkpointer;
use super::health::Health;
use super::options::connect;
use super::wal::Marker;
use super::{CHECKPOINT_FRAMES, Job, MAX_BATCH, Queued, Readers, SCHEMA, SqliteOptions, TICK, io};
use crate::ids::SessionId;
use crate::store::StoreError;

/// How the writer checkpoints.
#[derive(Debug, Clone, Copy)]
enum Checkpoint {
    /// Copy what readers allow, never waiting (what the checkpointer's thread left, or all of
    /// it when that thread fell behind).
    Passive,
    /// Copy and truncate if no reader is in the way now (idle, or past the size cap).
    Truncate,
    /// Copy and truncate, waiting for readers up to the busy timeout (at shutdown).
    TruncateWaiting,
}

pub(super) struct Writer {
    conn: Connection,
    path: PathBuf,
    options: SqliteOptions,
    health: Arc<Health>,
    marker: Marker,
    /// Checkpoints at the threshold, on their own thread (`checkpointer.rs`); gone at close.
    checkpointer: Option<Checkpointer>,
    /// The salts of the WAL that thread last copied.
    copied: Option<[u32; 2]>,
    /// Frames in the WAL after the last commit, as SQLite's WAL hook reports them.
    frames: Arc<AtomicU32>,
    /// Whether the connection could only be opened read-only (the file's mode or owner).
    readonly: bool,
    tips: HashMap<SessionId, u64>,
    last_write: Instant,
    last_probe: Instant,
    readers: Arc<Readers>,
}

impl Writer {
    pub(super) fn open(
        path: &Path,
        options: SqliteOptions,
        health: Arc<Health>,
        readers: Arc<Readers>,
    ) -> Result<Self, StoreError> {
        let frames = Arc::new(AtomicU32::new(0));
        let (conn, readonly) = connect(path, options, &frames)?;
        let marker = Marker::open(path).map_err(|e| StoreError::io_at(path.display(), e))?;
        if readonly {
            health.failed(&format!(
                "{} can only be opened read-only (its mode or owner): reads are served, writes are not",
                path.display()
            ));
        }
        for (session, seq) in super::head::orphans(&conn)? {
            tracing::error!(
                session,
                events = seq,
                "a session's metadata is gone but its head says it had events: the file is damaged; run `rostrum check`"
            );
        }
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            options,
            health,
            marker,
            checkpointer: Some(Checkpointer::start(path, options).map_err(io)?),
            copied: None,
            frames,
            readonly,
            tips: HashMap::new(),
            last_write: Instant::now(),
            last_probe: Instant::now(),
            readers,
        })
    }

    /// Group commit until every sender is gone, then checkpoint and truncate the WAL.
    pub(super) fn run(mut self, jobs: &mpsc::Receiver<Queued>) {
        loop {
            let first = match jobs.recv_timeout(TICK) {
                Ok(q) => q,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.idle();
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            // A read-only connection fails every job until it is reopened: with commands
            // coming all the time the writer is never idle, so it probes here too.
            if self.readonly && self.last_probe.elapsed() >= TICK {
                self.idle();
            }
            let mut batch = Vec::new();
            let mut checkpoints = Vec::new();
            for q in std::iter::once(first).chain(jobs.try_iter().take(MAX_BATCH - 1)) {
                // An abandoned job's caller was told nothing was applied: so nothing is.
                if !q.ticket.take() {
                    continue;
                }
                match q.job {
                    job @ Job::Checkpoint { .. } => checkpoints.push(job),
                    job => batch.push(job),
                }
            }
            if !batch.is_empty() {
                self.commit(batch);
            }
            for job in checkpoints {
                let r = self.checkpoint(Checkpoint::TruncateWaiting);
                job.reply(r.map(|()| 0));
            }
        }
        // A checkpoint under way finishes first.
        drop(self.checkpointer.take());
        if let Err(e) = self.checkpoint(Checkpoint::TruncateWaiting) {
            tracing::warn!(error = %e, "could not checkpoint the WAL at close");
        }
    }

    fn commit(&mut self, batch: Vec<Job>) {
        self.health.begin();
        let r = super::commit(&mut self.conn, &mut self.tips, &batch);
        self.health.end();
        self.last_write = Instant::now();
        match r {
            Ok(results) => {
                self.committed();
                // A job that failed alone for want of storage (a lock held elsewhere, a
                // read-only file) is a store failure too, not a refusal of that job.
                let failure = results.iter().find_map(|r| match r {
                    Err(StoreError::Io { what, .. }) => Some(what.clone()),
                    _ => None,
                });
                match &failure {
                    Some(why) => {
                        self.health.failed(why);
                        self.tips.clear();
                    }
                    None => self.health.recovered(),
                }
                for (job, r) in batch.into_iter().zip(results) {
                    job.reply(match r {
                        Err(StoreError::Io { what, .. }) => Err(StoreError::Unavailable(what)),
                        r => r,
                    });
                }
            }
            Err(e) => {
                // Nothing of the batch is stored: every caller is told so, and the cached tips
                // are re-read next time. Why is logged once, by the health.
                let why = match &e {
                    StoreError::Io { what, .. } => what.clone(),
                    e => e.to_string(),
                };
                self.health.failed(&why);
                tracing::debug!(error = %e, jobs = batch.len(), "commit failed");
                self.tips.clear();
                for job in batch {
                    job.reply(Err(StoreError::Unavailable(why.clone())));
                }
            }
        }
    }

    /// After a commit: the mark, and a checkpoint if the WAL reached its threshold.
    fn committed(&mut self) {
        let frames = self.frames.load(Ordering::Relaxed);
        if let Err(e) = self.marker.committed(frames) {
            tracing::warn!(error = %e, "could not record the WAL's state in its mark");
        }
        self.checkpoints_done();
        let threshold = self.options.wal_budget().map_or(CHECKPOINT_FRAMES, |b| {
            u32::try_from(b / (4096 + 24)).unwrap_or(CHECKPOINT_FRAMES)
        });
        // Under a size cap the file itself must shrink: truncate, here. Otherwise the
        // checkpointer's thread copies the WAL, and SQLite restarts it at the first commit after
        // a checkpoint that copied all of it. What was committed while that thread copied, the
        // writer copies itself, between commits: little, so the WAL restarts at the next one.
        // So it does when that thread has not kept up (four times the threshold).
        let how = match frames {
            f if f < threshold.max(1) || self.readonly => return,
            _ if self.options.max_bytes.is_some() => Checkpoint::Truncate,
            f if f >= threshold.saturating_mul(4) => Checkpoint::Passive,
            _ if self.copied == Some(self.marker.recorded_salts()) => Checkpoint::Passive,
            _ => {
                if let Some(c) = &self.checkpointer {
                    c.ask();
                }
                return;
            }
        };
        if let Err(e) = self.checkpoint(how) {
            tracing::warn!(error = %e, "checkpoint failed");
        }
    }

    /// Record in the mark what the checkpointer's thread copied, if the WAL is still the one it
    /// copied.
    fn checkpoints_done(&mut self) {
        // The mark holds the salts of the WAL as it is now: only the writer restarts it. Of
        // several outcomes for it, the last copied the most.
        let now = self.marker.recorded_salts();
        let Some(done) = self
            .checkpointer
            .as_ref()
            .and_then(|c| c.outcomes().filter(|o| o.salts == now).last())
        else {
            return;
        };
        self.copied = Some(done.salts);
        if let Err(e) = self
            .marker
            .checkpointed(done.frames.max(1), done.backfilled)
        {
            tracing::warn!(error = %e, "could not record the WAL's state in its mark");
        }
    }

    /// Copy the WAL into the database file, and with a truncating checkpoint also empty the
    /// WAL file.
    fn checkpoint(&mut self, how: Checkpoint) -> Result<(), StoreError> {
        if self.readonly {
            return Ok(());
        }
        let (sql, wait) = match how {
            Checkpoint::Passive => ("PRAGMA wal_checkpoint(PASSIVE)", true),
            Checkpoint::Truncate => ("PRAGMA wal_checkpoint(TRUNCATE)", false),
            Checkpoint::TruncateWaiting => ("PRAGMA wal_checkpoint(TRUNCATE)", true),
        };
        // A truncating checkpoint waits for readers (another process's `rostrum check` may read
        // for seconds); while commands may come, it does not wait: it copies what it can now
        // and tries again later.
        if !wait {
            self.conn
                .busy_timeout(std::time::Duration::ZERO)
                .map_err(io)?;
        }
        let r = self
            .conn
            .query_row(sql, [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)));
        if !wait {
            self.conn.busy_timeout(self.options.timeout).map_err(io)?;
        }
        let (busy, log, done): (i64, i64, i64) = r.map_err(io)?;
        let truncate = !matches!(how, Checkpoint::Passive);
        let (log, done) = (
            u32::try_from(log).unwrap_or(0),
            u32::try_from(done).unwrap_or(0),
        );
        if truncate && busy == 0 {
            self.frames.store(0, Ordering::Relaxed);
            self.marker.checkpointed(0, 0).map_err(io)?;
        } else {
            self.marker.checkpointed(log.max(1), done).map_err(io)?;
        }
        Ok(())
    }

    /// Nothing to commit for a while: probe a failing store, or truncate a quiet WAL.
    fn idle(&mut self) {
        self.checkpoints_done();
        if self.readonly || self.health.is_failing() {
            self.last_probe = Instant::now();
            match self.probe() {
                Ok(()) => self.health.recovered(),
                Err(why) => self.health.failed(&why),
            }
        } else if self.frames.load(Ordering::Relaxed) > 0
            && self.last_write.elapsed() >= TICK
            && let Err(e) = self.checkpoint(Checkpoint::Truncate)
        {
            tracing::debug!(error = %e, "idle checkpoint failed");
        }
    }

    /// Try a real write: reopen a read-only connection, then commit a transaction that writes
    /// the database's first page (its schema version, unchanged).
    fn probe(&mut self) -> Result<(), String> {
        if self.readonly {
            let writable = std::fs::OpenOptions::new()
                .write(true)
                .open(&self.path)
                .is_ok();
            if !writable {
                return Err(format!(
                    "{} can only be opened read-only (its mode or owner)",
                    self.path.display()
                ));
            }
            // Every connection of this process to the file goes first (see `close_idle`).
            self.readers.close_idle();
            drop(std::mem::replace(
                &mut self.conn,
                Connection::open_in_memory().map_err(|e| e.to_string())?,
            ));
            // SQLite created the WAL and its index with the database file's mode, read-only
            // then: they follow the file's mode now, as SQLite would have made them.
            let mode = std::fs::metadata(&self.path)
                .map_err(|e| e.to_string())?
                .permissions();
            for side in ["-wal", "-shm"] {
                let mut p = self.path.clone().into_os_string();
                p.push(side);
                let writable = std::fs::OpenOptions::new().write(true).open(&p).is_ok();
                if !writable && std::path::Path::new(&p).exists() {
                    std::fs::set_permissions(&p, mode.clone())
                        .map_err(|e| format!("{}: {e}", std::path::Path::new(&p).display()))?;
                }
            }
            let (conn, readonly) =
                connect(&self.path, self.options, &self.frames).map_err(|e| e.to_string())?;
            self.conn = conn;
            self.readonly = readonly;
            self.tips.clear();
            if readonly {
                return Err(format!(
                    "{} can only be opened read-only (its mode or owner)",
                    self.path.display()
                ));
            }
        }
        self.health.begin();
        let r = self.conn.execute_batch(&format!(
            "BEGIN IMMEDIATE; PRAGMA user_version = {SCHEMA}; COMMIT;"
        ));
        self.health.end();
        if let Err(e) = r {
            if !self.conn.is_autocommit() {
                let _ = self.conn.execute_batch("ROLLBACK");
            }
            return Err(e.to_string());
        }
        self.committed();
        if self.at_cap().unwrap_or(false) {
            return Err("the database is at its --max-db-mb cap".into());
        }
        Ok(())
    }

    fn at_cap(&self) -> rusqlite::Result<bool> {
        if self.options.max_bytes.is_none() {
            return Ok(false);
        }
        let q = |p: &str| {
            self.conn
                .pragma_query_value(None, p, |r| r.get::<_, i64>(0))
        };
        Ok(q("page_count")? >= q("max_page_count")? && q("freelist_count")? == 0)
    }
}
