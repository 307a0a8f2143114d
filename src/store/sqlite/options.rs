//! How the SQLite store is opened: its durability and limits, and the writer's connection.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use rusqlite::Connection;

use super::{CHECKPOINT_FRAMES, SCHEMA, int, io};
use crate::store::StoreError;

/// How hard a commit waits for the disk. Named `full` and `normal` ([`FromStr`](std::str::FromStr) and
/// [`Display`](std::fmt::Display)), which is all the command line needs of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=FULL`: an acknowledged command survives power loss.
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process, but the last commits may be lost
    /// on power loss.
    Normal,
}

impl Durability {
    /// Every durability, by name.
    pub const NAMES: [(&'static str, Durability); 2] =
        [("full", Durability::Full), ("normal", Durability::Normal)];

    /// SQLite's `synchronous` setting for it.
    pub(super) fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
}

impl std::str::FromStr for Durability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(s))
            .map(|&(_, d)| d)
            .ok_or_else(|| format!("`{s}` is not a durability: use full or normal"))
    }
}

impl std::fmt::Display for Durability {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = Self::NAMES.iter().find(|(_, d)| d == self).map(|(n, _)| *n);
        f.write_str(name.unwrap_or("full"))
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
    pub(super) fn wal_budget(&self) -> Option<u64> {
        self.max_bytes
            .map(|max| (max / 4).min(u64::from(CHECKPOINT_FRAMES) * (4096 + 24)))
    }
}

/// The write connection, set up; `true` with it if SQLite could only open the file read-only.
pub(super) fn connect(
    path: &Path,
    options: SqliteOptions,
    frames: &Arc<AtomicU32>,
) -> Result<(Connection, bool), StoreError> {
    let mut conn = Connection::open(path).map_err(|e| StoreError::io_at(path.display(), e))?;
    conn.busy_timeout(options.timeout).map_err(io)?;
    let readonly = conn.is_readonly("main").map_err(io)?;
    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(io)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::io(format!(
            "{}: could not switch to WAL (got {mode})",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", options.durability.pragma())
        .map_err(io)?;
    if readonly {
        let version = super::schema_version(&conn)?;
        if version != SCHEMA {
            return Err(StoreError::io(format!(
                "{} cannot be written and needs its schema upgraded ({version} to {SCHEMA}): make it writable",
                path.display()
            )));
        }
    } else {
        super::migrate(&conn)?;
    }
    if let Some(max) = options.max_bytes {
        let page: i64 = conn
            .pragma_query_value(None, "page_size", |r| r.get(0))
            .map_err(io)?;
        let budget = options.wal_budget().unwrap_or(0);
        let pages = (int(max.saturating_sub(budget)) / page.max(1)).max(1);
        conn.pragma_update(None, "max_page_count", pages)
            .map_err(io)?;
    }
    let count = frames.clone();
    conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages| {
        count.store(u32::try_from(pages).unwrap_or(0), Ordering::Relaxed);
        Ok(())
    }))
    .map_err(io)?;
    Ok((conn, readonly))
}
