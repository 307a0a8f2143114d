//! The data directory's lock: one service, or one repair, at a time.
//!
//! `rostrum serve` and `rostrum repair` take an exclusive advisory lock (`flock`) on
//! `rostrum.lock` in the data directory for as long as they run; the kernel drops it when the
//! process dies, even by SIGKILL, so a crash never leaves a stale lock behind. Reading commands
//! (`check`, `export`, `report`, `backup`) do not take it: SQLite's own locking keeps them safe
//! beside a running service.

use std::fs::{File, OpenOptions};

use rustix::fs::{FlockOperation, flock};
use std::path::Path;

use crate::store::StoreError;

/// The lock file's name in the data directory.
pub const LOCK_FILE: &str = "rostrum.lock";

/// Held while a service or a repair uses the data directory.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Take the data directory's lock, or say who has it.
pub fn lock_dir(dir: &Path) -> Result<DirLock, StoreError> {
    let path = dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| StoreError::io_at(path.display(), e))?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(e) if e == rustix::io::Errno::WOULDBLOCK => Err(StoreError::io(format!(
            "{} is in use by another rostrum (a running service or a repair): stop it first",
            dir.display()
        ))),
        Err(e) => Err(StoreError::io_at(path.display(), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_dir(dir.path()).unwrap();
        let e = lock_dir(dir.path()).unwrap_err();
        assert!(e.to_string().contains("in use by another rostrum"), "{e}");
        drop(held);
        lock_dir(dir.path()).unwrap();
    }
}
