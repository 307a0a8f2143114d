//! The WAL checkpointed at its threshold on a thread and a connection of its own, so that copying
//! it into the database file (and the syncs that go with it) never holds up a commit.
//!
//! SQLite lets a checkpoint run beside the writer in WAL mode: a passive one copies what was
//! committed when it began and never waits. The writer asks for one (at most one asked or
//! running at a time) and records its outcome in the mark (`wal.rs`) when it next looks, but
//! only if the WAL is still the one that was copied (the same salts): a WAL restarted meanwhile
//! has its own count. The connection is opened for each checkpoint and closed after it, so no
//! connection outlives a reopening of the file (`Readers::close_idle`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;

use rusqlite::Connection;

use super::{SqliteOptions, wal};

/// What a checkpoint did to one WAL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Outcome {
    /// The salts of the WAL it copied.
    pub(super) salts: [u32; 2],
    /// Frames in that WAL when it ran.
    pub(super) frames: u32,
    /// Frames copied into the database file.
    pub(super) backfilled: u32,
}

pub(super) struct Checkpointer {
    ask: Option<mpsc::SyncSender<()>>,
    told: mpsc::Receiver<Outcome>,
    busy: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    pub(super) fn start(db: &Path, options: SqliteOptions) -> std::io::Result<Self> {
        let (ask, asked) = mpsc::sync_channel::<()>(1);
        let (tell, told) = mpsc::channel();
        let busy = Arc::new(AtomicBool::new(false));
        let (db, done) = (db.to_path_buf(), busy.clone());
        let thread = std::thread::Builder::new()
            .name("rostrum-checkpoint".into())
            .spawn(move || {
                for () in asked {
                    match checkpoint(&db, options) {
                        Ok(Some(outcome)) => {
                            let _ = tell.send(outcome);
                        }
                        Ok(None) => {}
                        Err(e) => tracing::warn!(error = %e, "checkpoint failed"),
                    }
                    done.store(false, Ordering::Release);
                }
            })?;
        Ok(Self {
            ask: Some(ask),
            told,
            busy,
            thread: Some(thread),
        })
    }

    /// Ask for a checkpoint, unless one is asked for or running already.
    pub(super) fn ask(&self) {
        if !self.busy.swap(true, Ordering::AcqRel)
            && let Some(ask) = &self.ask
            && ask.try_send(()).is_err()
        {
            self.busy.store(false, Ordering::Release);
        }
    }

    /// The outcomes of the checkpoints done since the last call.
    pub(super) fn outcomes(&self) -> impl Iterator<Item = Outcome> + '_ {
        self.told.try_iter()
    }
}

/// Stopping waits for a checkpoint under way.
impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.ask.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// One passive checkpoint of the WAL beside `db`; none if there is no WAL.
fn checkpoint(db: &Path, options: SqliteOptions) -> rusqlite::Result<Option<Outcome>> {
    // The salts before the checkpoint: a WAL restarts only once a checkpoint has copied all of
    // it, so these name the WAL this checkpoint copies, or an older one (then the outcome is
    // dropped, which only leaves the mark's count of copied frames behind).
    let Some(salts) = wal::salts(&wal::wal_path(db)) else {
        return Ok(None);
    };
    let conn = Connection::open(db)?;
    conn.busy_timeout(options.timeout)?;
    // The checkpoint syncs as the writer's commits do.
    conn.pragma_update(None, "synchronous", options.durability.pragma())?;
    let (_busy, frames, backfilled): (i64, i64, i64) =
        conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(Some(Outcome {
        salts,
        frames: u32::try_from(frames).unwrap_or(0),
        backfilled: u32::try_from(backfilled).unwrap_or(0),
    }))
}
