//! `rostrum check`: the data directory verified offline and read-only. The write-ahead log
//! first, read the way SQLite replays it (`wal.rs`: does SQLite drop commits?), then SQLite's own
//! integrity check of the file, then every session exactly as loading checks it (checksums, seqs
//! from 1 without a gap, bodies that decode, the records reaching the session's head and adding
//! up to its running checksum, the metadata's checksum), all in one read transaction so a
//! running service's appends cannot tear the picture. Records or heads that belong to no
//! session are reported too: nothing serves them, and their presence means the file was altered.

use std::fmt;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::wal::{self, WalScan};
use super::{FILE, SCHEMA, head, io, load_in};
use crate::ids::SessionId;
use crate::store::StoreError;

/// Most lines of `PRAGMA integrity_check` kept.
const INTEGRITY_LINES: usize = 100;

/// What `rostrum check` found in a data directory.
#[derive(Debug)]
pub struct DirCheck {
    /// The database file checked.
    pub path: PathBuf,
    /// Its write-ahead log, compared with what SQLite replays from it.
    pub wal: WalScan,
    /// SQLite's `PRAGMA integrity_check` findings: empty when the file is sound.
    pub integrity: Vec<String>,
    /// Every session, oldest first: the number of events, or where its log stops checking out.
    pub sessions: Vec<(SessionId, Result<u64, StoreError>)>,
    /// Anything else that is wrong: records of no session, malformed session ids.
    pub problems: Vec<String>,
}

impl DirCheck {
    /// Whether everything checked out.
    pub fn is_sound(&self) -> bool {
        self.integrity.is_empty()
            && !self.wal.is_damaged()
            && self.problems.is_empty()
            && self.sessions.iter().all(|(_, r)| r.is_ok())
    }

    /// How many sessions do not check out.
    pub fn damaged(&self) -> usize {
        self.sessions.iter().filter(|(_, r)| r.is_err()).count()
    }
}

/// A line per session, then the file's findings and a verdict, with what to do about damage.
impl fmt::Display for DirCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wal.is_damaged() {
            writeln!(
                f,
                "{}-wal: DAMAGED: {}; {} commits would be lost. Copy the directory somewhere \
                 safe; then, with the service stopped, `rostrum repair --wal` keeps what SQLite \
                 replays (the sessions below are as SQLite reads them now)",
                self.path.display(),
                self.wal,
                self.wal.commits_at_risk()
            )?;
        } else {
            writeln!(f, "{}-wal: ok, {}", self.path.display(), self.wal)?;
        }
        if self.integrity.is_empty() {
            writeln!(f, "{}: integrity ok", self.path.display())?;
        } else {
            writeln!(f, "{}: integrity check failed:", self.path.display())?;
            for line in &self.integrity {
                writeln!(f, "  {line}")?;
            }
        }
        for (id, r) in &self.sessions {
            match r {
                Ok(n) => writeln!(f, "{id}: ok, {n} events")?,
                Err(StoreError::Damaged { seq: 0, reason, .. }) => writeln!(
                    f,
                    "{id}: damaged: {reason}; after checking it and taking a backup, stop the \
                     service and run `rostrum repair {id}` to accept the metadata as it is"
                )?,
                Err(StoreError::Damaged { seq, reason, .. }) => writeln!(
                    f,
                    "{id}: damaged at seq {seq} ({reason}); after checking it and taking a backup, \
                     stop the service and run `rostrum repair {id}` to keep events 1..={}",
                    seq - 1
                )?,
                Err(e) => writeln!(f, "{id}: unreadable: {e}")?,
            }
        }
        for p in &self.problems {
            writeln!(f, "{p}")?;
        }
        let n = self.sessions.len();
        if self.is_sound() {
            writeln!(f, "{n} sessions, all ok")
        } else {
            write!(f, "{n} sessions, {} damaged", self.damaged())?;
            if self.wal.is_damaged() {
                write!(f, "; the write-ahead log is damaged")?;
            }
            if !self.integrity.is_empty() || !self.problems.is_empty() {
                write!(
                    f,
                    "; the file itself is damaged: restore it from a backup (`rostrum backup`)"
                )?;
            }
            writeln!(f)
        }
    }
}

/// Check the database in `dir` without writing to it. `Err` only when it cannot be read at all
/// (no database, another schema, an I/O error); damage is in the answer.
pub fn check_dir(dir: &Path) -> Result<DirCheck, StoreError> {
    let path = dir.join(FILE);
    if !path.is_file() {
        return Err(StoreError::io(format!("no database at {}", path.display())));
    }
    // Before SQLite opens anything: what it is about to replay, against what the WAL holds. A
    // running service may have truncated the WAL a moment before it reset the mark: damage is
    // only reported if a second look, a moment later, still finds it.
    let scan = || wal::scan(&path).map_err(|e| StoreError::io_at(path.display(), e));
    let mut wal = scan()?;
    if wal.is_damaged() {
        std::thread::sleep(std::time::Duration::from_millis(200));
        wal = scan()?;
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::io_at(path.display(), e))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(io)?;
    let version = super::schema_version(&conn)?;
    if version != SCHEMA {
        return Err(StoreError::io(format!(
            "{} has schema {version}; this build checks schema {SCHEMA}",
            path.display()
        )));
    }
    // One snapshot for everything below, even while a service appends.
    conn.execute_batch("BEGIN").map_err(io)?;
    let mut integrity = Vec::new();
    {
        let mut stmt = conn.prepare("PRAGMA integrity_check").map_err(io)?;
        let mut rows = stmt.query([]).map_err(io)?;
        while let Some(row) = rows.next().map_err(io)? {
            let line: String = row.get(0).map_err(io)?;
            if line != "ok" && integrity.len() < INTEGRITY_LINES {
                integrity.push(line);
            }
        }
    }
    let ids: Vec<String> = conn
        .prepare("SELECT id FROM sessions ORDER BY created_at, id")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .map_err(io)?;
    let mut sessions = Vec::with_capacity(ids.len());
    let mut problems = Vec::new();
    for raw in ids {
        let Ok(id) = raw.parse::<SessionId>() else {
            problems.push(format!("a session id is malformed: {raw:?}"));
            continue;
        };
        let r = load_in(&conn, id, 0).map(|events| events.len() as u64);
        sessions.push((id, r));
    }
    let orphans: Vec<(String, i64)> = conn
        .prepare(
            "SELECT session, COUNT(*) FROM events WHERE session NOT IN (SELECT id FROM sessions) \
             GROUP BY session ORDER BY session",
        )
        .and_then(|mut s| s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect())
        .map_err(io)?;
    for (session, n) in orphans {
        problems.push(format!("{session}: {n} records of no known session"));
    }
    for (session, seq) in head::orphans(&conn)? {
        problems.push(format!(
            "{session}: its metadata is gone, but its head says it had {seq} events"
        ));
    }
    Ok(DirCheck {
        path,
        wal,
        integrity,
        sessions,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::super::tests::{damage, meta, open, session_events};
    use super::*;
    use crate::store::EventLog;

    #[tokio::test]
    async fn a_sound_directory_checks_out_and_damage_is_named_with_its_seq() {
        let dir = tempfile::tempdir().unwrap();
        let log = open(dir.path());
        let (good, bad) = (meta(), meta());
        log.create(&good, &session_events(2)).await.unwrap();
        log.create(&bad, &session_events(5)).await.unwrap();
        let sound = check_dir(dir.path()).unwrap();
        assert!(sound.is_sound(), "{sound}");
        assert!(
            sound.to_string().ends_with("2 sessions, all ok\n"),
            "{sound}"
        );

        damage(
            dir.path(),
            bad.id,
            4,
            "UPDATE events SET body = replace(body, 'Speaker', 'Speakes') WHERE session = ?1 AND seq = ?2",
        );
        let found = check_dir(dir.path()).unwrap();
        assert!(!found.is_sound());
        assert_eq!(found.damaged(), 1);
        let text = found.to_string();
        assert!(
            text.contains(&format!("{}: ok, 5 events", good.id)),
            "{text}"
        );
        assert!(
            text.contains(&format!(
                "{}: damaged at seq 4 (checksum mismatch); after checking it",
                bad.id
            )),
            "{text}"
        );
        assert!(
            text.contains(&format!("rostrum repair {}", bad.id)),
            "{text}"
        );
        drop(log);
    }

    #[test]
    fn a_directory_without_a_database_is_an_error_not_a_pass() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_dir(dir.path()).unwrap_err();
        assert!(e.to_string().contains("no database at"), "{e}");
        assert!(!dir.path().join(FILE).exists(), "checking creates nothing");
    }
}
