//! A consistent copy of a store that a server may be writing, with SQLite's
//! online backup API (<https://www.sqlite.org/backup.html>).

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{SqliteStore, BUSY_TIMEOUT};
use crate::{StoreError, StoreResult};

impl SqliteStore {
    /// Copies the store file at `source` to `destination` (created or
    /// overwritten) as one snapshot: every page in a single backup step,
    /// that is one read transaction, so the copy is the store as of one
    /// commit even while a server writes. In WAL mode the read never blocks
    /// the server's writer. Needs no lock on the data dir. The copy is
    /// checked with `PRAGMA quick_check`.
    ///
    /// Errors: [`StoreError::Database`] when `source` is missing or not a
    /// store, or `destination` cannot be written; [`StoreError::Corrupt`]
    /// when the copy fails its check.
    pub fn backup(source: &Path, destination: &Path) -> StoreResult<()> {
        // Read-write without create: a wrong path fails instead of making an
        // empty database, and WAL readers need to write the shared-memory file.
        let from =
            Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
        from.busy_timeout(BUSY_TIMEOUT)?;
        from.pragma_update(None, "query_only", true)?;
        let mut to = Connection::open(destination)?;
        {
            let backup = Backup::new(&from, &mut to)?;
            let deadline = Instant::now() + BUSY_TIMEOUT;
            loop {
                match backup.step(-1)? {
                    StepResult::Done => break,
                    // A writer's lock of the moment (rare in WAL mode): retry.
                    _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
                    other => {
                        return Err(StoreError::Conflict(format!("the store stayed busy for the backup ({other:?})")));
                    }
                }
            }
        }
        let check: String = to.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        if check != "ok" {
            return Err(StoreError::Corrupt(format!("the backup copy failed its check: {check}")));
        }
        Ok(())
    }

    /// Folds the write-ahead log into the database file
    /// (`wal_checkpoint(TRUNCATE)`), so that the file alone holds every
    /// commit so far. Run on a backup copy after its last change, before it
    /// is renamed: a rename moves only the main file, not its `-wal`.
    ///
    /// Errors: a reader kept the log from being folded in whole
    /// ([`StoreError::Conflict`]), or SQLite's.
    pub fn checkpoint(&self) -> StoreResult<()> {
        let writer = self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let busy: i64 = writer.connection.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))?;
        if busy != 0 {
            return Err(StoreError::Conflict("the store's log could not be folded in: a reader held it".into()));
        }
        Ok(())
    }
}
