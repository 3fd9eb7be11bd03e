//! The data dir: one server at a time, and no store made by mistake.
//!
//! `sds serve` holds an OS lock (`flock` on Unix, `LockFileEx` on Windows,
//! through std's `File::try_lock`) on `sds.lock` in the data dir for its
//! whole life, and writes its PID there. A second server on the same dir
//! would share the SQLite file, run the same pending jobs twice and serve
//! from caches the other one makes stale, so it is refused, naming the
//! holder. With a PostgreSQL store (`--database-url`) the dir still holds
//! one server's own files (query table snapshots, temporary files), so
//! each server of a deployment has a dir of its own and the lock stays.
//! The OS drops the lock when the process ends, however it ends
//! (`kill -9` included), so a crash never leaves the dir locked. The
//! `sds keys` commands take no lock: they change the store in single
//! transactions, which SQLite serialises with the server's.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::config::ServeConfig;

/// The lock file's name inside the data dir.
pub const LOCK_FILE: &str = "sds.lock";

#[derive(Debug, thiserror::Error)]
pub enum DataDirError {
    #[error(
        "the data dir {dir} is in use by another sds server (PID {pid}): stop it, or give this one another --data-dir"
    )]
    InUse { dir: PathBuf, pid: String },
    #[error("cannot lock the data dir {dir}: {source}")]
    Lock { dir: PathBuf, source: std::io::Error },
    #[error(
        "the data dir {dir} holds no store ({file} does not exist there): give the server's data dir with --data-dir or SDS_DATA_DIR"
    )]
    NoStore { dir: PathBuf, file: String },
}

/// Held while the server runs; dropping it (or the process ending) unlocks.
#[derive(Debug)]
pub struct DataDirLock {
    _file: File,
}

/// Locks the data dir for this process, creating it if needed; refuses
/// with [`DataDirError::InUse`] (naming the holder's PID) when another
/// process holds it.
pub fn lock(config: &ServeConfig) -> Result<DataDirLock, DataDirError> {
    let dir = &config.data_dir;
    let failed = |source| DataDirError::Lock { dir: dir.clone(), source };
    std::fs::create_dir_all(dir).map_err(failed)?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(failed)?;
            file.seek(SeekFrom::Start(0)).map_err(failed)?;
            writeln!(file, "{}", std::process::id()).map_err(failed)?;
            file.sync_all().map_err(failed)?;
            Ok(DataDirLock { _file: file })
        }
        Err(TryLockError::WouldBlock) => {
            let mut pid = String::new();
            // The holder may not have written its PID yet.
            let _ = file.read_to_string(&mut pid);
            let pid = match pid.trim() {
                "" => "unknown".to_owned(),
                written => written.to_owned(),
            };
            Err(DataDirError::InUse { dir: dir.clone(), pid })
        }
        Err(TryLockError::Error(source)) => Err(failed(source)),
    }
}

/// For commands that only read or change an existing store (`sds keys
/// list`, `sds keys revoke`): an error naming the data dir when it holds
/// no store, rather than an empty store made in the wrong folder.
pub fn require_store(config: &ServeConfig) -> Result<(), DataDirError> {
    let store = config.store_path();
    if store.is_file() {
        Ok(())
    } else {
        let file = store.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        Err(DataDirError::NoStore { dir: absolute(&config.data_dir), file })
    }
}

/// The directory as the user should read it: absolute when it can be.
fn absolute(dir: &Path) -> PathBuf {
    std::path::absolute(dir).unwrap_or_else(|_| dir.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder_and_a_released_one_is_free() {
        let temp = tempfile::tempdir().unwrap();
        let config = ServeConfig::with_data_dir(temp.path().join("data"));
        let held = lock(&config).unwrap();
        let refused = lock(&config).unwrap_err();
        let message = refused.to_string();
        assert!(message.contains(&format!("PID {}", std::process::id())), "{message}");
        assert!(message.contains(&config.data_dir.display().to_string()), "{message}");
        drop(held);
        lock(&config).expect("free again once released");
    }

    #[test]
    fn a_dir_without_a_store_is_named_and_left_alone() {
        let temp = tempfile::tempdir().unwrap();
        let config = ServeConfig::with_data_dir(temp.path().join("elsewhere"));
        let message = require_store(&config).unwrap_err().to_string();
        assert!(message.contains("elsewhere"), "{message}");
        assert!(!config.data_dir.exists(), "nothing was created");
    }
}
