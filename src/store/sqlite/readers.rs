//! The read connections: opened on demand beside the writer (WAL lets them run while it
//! commits), kept idle for the next read.

use std::path::PathBuf;
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use super::io;
use crate::store::StoreError;

/// Idle read connections, opened on demand.
pub(super) struct Readers {
    pub(super) path: PathBuf,
    pub(super) idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Close every idle connection. SQLite shares a file's WAL index among the connections of
    /// a process, opened the way the first one could: a writer reopened after the file became
    /// writable needs the read-only ones gone first.
    pub(super) fn close_idle(&self) {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clear();
    }

    pub(super) fn with<T>(
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
