//! `sds backup`: one consistent SQLite file of a data dir's store, made
//! while the server runs (it needs no lock on the data dir), and restored by
//! putting it as `sds.db` into a fresh data dir (README, "Backup and restore").
//!
//! What the file holds: the store as of one commit (see
//! [`SqliteStore::backup`]): accounts, keys, data sources with every kept
//! version, jobs. What it leaves out, and why:
//! - spooled uploads of loads still waiting or running: they sit outside
//!   the database, up to 300 MB each, and come and go with no transaction
//!   tying them to the snapshot; their data is not published yet and the
//!   client still has it. In the copy those jobs are marked `Aborted` with
//!   a message saying to upload again, so a restored server never runs a
//!   load whose input is gone. Loads from a `dataLocation` URL stay
//!   `Pending` (they fetch again), as do downloads and lifecycle jobs.
//! - download outputs: files made again by a new download job.

use std::path::{Path, PathBuf};

use chrono::Utc;
use sds_core::job::JobOutcome;
use sds_core::{JobParams, JobStatus};
use sds_store::{SqliteStore, Store, StoreError};

use crate::config::ServeConfig;
use crate::data_dir::{self, DataDirError};

/// Why a backup failed; nothing is left at the target then.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(transparent)]
    NoStore(#[from] DataDirError),
    #[error("the backup of {store} failed: {source}")]
    Store { store: PathBuf, source: StoreError },
    #[error("cannot write the backup {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// What [`backup`] made.
#[derive(Debug)]
pub struct BackupSummary {
    /// The backup file's size, bytes.
    pub bytes: u64,
    /// Loads whose spooled upload the backup does not hold, marked
    /// `Aborted` in the copy.
    pub uploads_left_out: usize,
}

/// The message a load left out of a backup ends with on a restored server.
pub const LEFT_OUT_MESSAGE: &str =
    "the upload was still waiting to run when the store was backed up, and backups hold no uploads; upload it again";

/// Copies the store of `config`'s data dir to `to` (replaced atomically if
/// it exists: the copy is written beside it and renamed when complete and
/// checked), then marks the loads whose upload it cannot hold `Aborted`
/// in the copy.
pub fn backup(config: &ServeConfig, to: &Path) -> Result<BackupSummary, BackupError> {
    data_dir::require_store(config)?;
    let store_path = config.store_path();
    let mut partial = to.as_os_str().to_owned();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    let write_error = |source| BackupError::Write { path: to.to_owned(), source };
    let store_error = |source| BackupError::Store { store: store_path.clone(), source };
    let _ = std::fs::remove_file(&partial);
    let made = SqliteStore::backup(&store_path, &partial)
        .map_err(store_error)
        .and_then(|()| leave_out_uploads(&partial).map_err(store_error));
    // The copy's log is folded in and empty now: only the main file moves.
    for side in ["-wal", "-shm"] {
        let mut name = partial.as_os_str().to_owned();
        name.push(side);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
    let uploads_left_out = match made {
        Ok(count) => count,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            return Err(error);
        }
    };
    std::fs::File::open(&partial).and_then(|file| file.sync_all()).map_err(write_error)?;
    std::fs::rename(&partial, to).map_err(write_error)?;
    let bytes = std::fs::metadata(to).map_err(write_error)?.len();
    Ok(BackupSummary { bytes, uploads_left_out })
}

/// Marks pending loads of an uploaded body `Aborted` in the copy at `path`.
fn leave_out_uploads(path: &Path) -> Result<usize, StoreError> {
    let copy = SqliteStore::open(path)?;
    // The running server's claims came along; nobody runs the copy's jobs.
    copy.release_all_claims()?;
    let mut count = 0;
    for job in copy.pending_jobs()? {
        if matches!(&job.params, JobParams::Load(load) if load.data_location.is_none()) {
            let outcome = JobOutcome {
                status: JobStatus::Aborted,
                completed: Utc::now(),
                total_entity_count: 0,
                processed_entity_count: 0,
                failed_entity_count: 0,
                error_message: Some(LEFT_OUT_MESSAGE.to_owned()),
            };
            copy.finish_job(&job.id, &outcome, &[], None)?;
            count += 1;
        }
    }
    // The marks went to the copy's write-ahead log; the file that is
    // renamed must hold them, or a restored store would miss them.
    copy.checkpoint()?;
    Ok(count)
}
