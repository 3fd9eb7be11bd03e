//! Table snapshots in the data dir (`tables/`), so the first query of a
//! version after a restart reads its table back instead of rebuilding it
//! from the store (issue 16, "fast cold tables"; the format is
//! `sds_query::table::snapshot`).
//!
//! - **Named by data source, version and the version's job**
//!   (`<data source id>-<version id>-<job id>.table`): versions are
//!   immutable, so a snapshot never goes stale. Store ids are never reused
//!   by one database, but a database restored from a dump (`pg_dump`, an
//!   older `sds.db`) hands its ids out again; the job id is random, so a
//!   snapshot of a version made before the restore never answers for the
//!   version that got its id after it. The header repeats both ids, the
//!   row count and the schema, and the reader checks them against the
//!   store's record of the version, so a file can never answer for another
//!   data source.
//! - **Written once the table is built** from the store (on its first
//!   query), in the background: to a temporary name, fsynced, renamed, and
//!   the directory fsynced. A `kill -9` leaves either the whole file or a
//!   temporary one, which the next start deletes.
//! - **Refused when damaged**: a torn, truncated or corrupted file fails
//!   its length or checksum test, is deleted (logged at warn) and the table
//!   is rebuilt from the store, which writes a fresh snapshot.
//! - **Deleted with their version**: after every job and purge (with the
//!   query cache's [`crate::jobs::StoreWatcher`] call) and at start-up,
//!   the snapshots of versions the store no longer holds for their data
//!   source (deleted data sources, pruned or dropped versions) are deleted.
//!   A snapshot renamed into place after its version went is deleted by
//!   its writer, which asks the store again once the file is in place.

use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use std::sync::Arc;

use sds_core::{DataSourceId, JobId, Schema, VersionId};
use sds_query::table::snapshot;
use sds_query::Table;
use sds_store::Store;

use crate::query_cache::TableKey;

/// The snapshots' folder inside the data dir.
pub const TABLES_DIR: &str = "tables";
const EXTENSION: &str = "table";
/// Marks a file still being written: `<name>.table.tmp-<pid>-<n>`.
const TEMPORARY: &str = ".tmp-";

pub struct Snapshots {
    dir: PathBuf,
    /// Asked for a version's job, which names its snapshot.
    store: Arc<dyn Store>,
    /// Numbers this process's temporary files.
    next_temporary: AtomicU64,
}

impl Snapshots {
    /// The snapshots in `dir` (created if needed). Temporary files left by
    /// an earlier process (killed while writing) are deleted: one server
    /// holds the data dir at a time, so none is still being written.
    pub fn open(dir: PathBuf, store: Arc<dyn Store>) -> std::io::Result<Snapshots> {
        std::fs::create_dir_all(&dir)?;
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.file_name().and_then(|name| name.to_str()).is_some_and(|name| name.contains(TEMPORARY)) {
                tracing::info!(path = %path.display(), "deleting an unfinished table snapshot");
                remove(&path);
            }
        }
        Ok(Snapshots { dir, store, next_temporary: AtomicU64::new(0) })
    }

    fn path(&self, key: TableKey, job: &JobId) -> PathBuf {
        self.dir.join(format!("{}-{}-{job}.{EXTENSION}", key.data_source.0, key.version.0))
    }

    /// The table of a version from its snapshot, when there is one and it
    /// is whole and of this version (`rows` entities of `schema`, from the
    /// store's record). A damaged or foreign one is deleted: `None`, and the
    /// caller builds the table from the store.
    pub fn load(&self, key: TableKey, schema: &Schema, rows: u64) -> Option<Table> {
        let job = stored_job(self.store.as_ref(), key)?;
        let path = self.path(key, &job);
        let started = Instant::now();
        let opened = File::open(&path).and_then(|file| Ok((file.metadata()?.len(), file)));
        let (length, file) = match opened {
            Ok(opened) => opened,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot read a table snapshot; building from the store");
                return None;
            }
        };
        let source = BufReader::with_capacity(1 << 20, file);
        match snapshot::read(source, length, key.data_source, key.version, rows, schema.clone()) {
            Ok(table) => {
                tracing::info!(
                    data_source = %key.data_source, version = %key.version, rows,
                    bytes = length, heap_bytes = table.heap_bytes(), millis = started.elapsed().as_millis() as u64,
                    "table read from its snapshot"
                );
                Some(table)
            }
            Err(error) => {
                tracing::warn!(
                    data_source = %key.data_source, version = %key.version, path = %path.display(), %error,
                    "discarding a damaged table snapshot; building from the store"
                );
                remove(&path);
                None
            }
        }
    }

    /// Writes a version's snapshot (see the module docs), unless the store
    /// no longer holds the version once the file is in place. Failures are
    /// logged: the table is served either way, and built again next time.
    pub fn save(&self, key: TableKey, table: &Table, store: &dyn Store) {
        let Some(job) = stored_job(store, key) else { return };
        let path = self.path(key, &job);
        let number = self.next_temporary.fetch_add(1, Ordering::Relaxed);
        let temporary = path.with_extension(format!("{EXTENSION}{TEMPORARY}{}-{number}", std::process::id()));
        let started = Instant::now();
        if let Err(error) = write(&temporary, &path, key, table) {
            tracing::warn!(path = %path.display(), %error, "cannot write a table snapshot");
            remove(&temporary);
            return;
        }
        if stored_job(store, key).as_ref() != Some(&job) {
            remove(&path);
            return;
        }
        tracing::info!(
            data_source = %key.data_source, version = %key.version, rows = table.len(),
            millis = started.elapsed().as_millis() as u64, "table snapshot written"
        );
    }

    /// Deletes the snapshots of versions the store no longer holds for
    /// their data source. A version the store cannot be asked about keeps
    /// its snapshot until the next sweep.
    pub fn sweep(&self, store: &dyn Store) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Some((data_source, version, job)) = parse_name(&path) else {
                continue;
            };
            match store.version(version) {
                Ok(Some(stored))
                    if stored.data_source_id == Some(data_source) && Some(&stored.job_id) == job.as_ref() => {}
                // Gone, another version's since a restore, or named as
                // before job ids were in names (never read again).
                Ok(_) => {
                    tracing::debug!(%data_source, %version, "deleting the snapshot of a version no longer stored");
                    remove(&path);
                }
                Err(error) => tracing::warn!(%data_source, %version, %error, "cannot check a table snapshot's version"),
            }
        }
    }
}

/// The job of the version `key` names, if the store holds it for that
/// data source (a version the store cannot be asked about has none now).
fn stored_job(store: &dyn Store, key: TableKey) -> Option<JobId> {
    match store.version(key.version) {
        Ok(Some(stored)) if stored.data_source_id == Some(key.data_source) => Some(stored.job_id),
        _ => None,
    }
}

/// `<data source>-<version>-<job>.table`, or without the job as named
/// before (`None`).
fn parse_name(path: &Path) -> Option<(DataSourceId, VersionId, Option<JobId>)> {
    let stem = path.file_name()?.to_str()?.strip_suffix(".table")?;
    let mut parts = stem.splitn(3, '-');
    let data_source = DataSourceId(parts.next()?.parse().ok()?);
    let version = VersionId(parts.next()?.parse().ok()?);
    let job = match parts.next() {
        Some(job) => Some(job.parse().ok()?),
        None => None,
    };
    Some((data_source, version, job))
}

fn write(temporary: &Path, path: &Path, key: TableKey, table: &Table) -> std::io::Result<()> {
    let file = File::create_new(temporary)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    snapshot::write(table, key.data_source, key.version, &mut out)?;
    let file = out.into_inner().map_err(|error| error.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(temporary, path)?;
    // The rename is durable once the directory is (POSIX); Windows cannot
    // open a directory as a file, and commits renames with the file system.
    #[cfg(unix)]
    File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all()?;
    Ok(())
}

fn remove(path: &Path) {
    if let Err(error) = std::fs::remove_file(path) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(path = %path.display(), %error, "cannot delete a table snapshot");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_data_source_the_version_and_its_job() {
        let job = JobId::generate();
        let name = format!("/d/tables/12-345-{job}.table");
        assert_eq!(parse_name(Path::new(&name)), Some((DataSourceId(12), VersionId(345), Some(job))));
        assert_eq!(parse_name(Path::new("/d/tables/12-345.table")), Some((DataSourceId(12), VersionId(345), None)));
        assert_eq!(parse_name(Path::new("/d/tables/12-345-nothex.table")), None);
        assert_eq!(parse_name(Path::new("/d/tables/12-345.table.tmp-9-0")), None);
        assert_eq!(parse_name(Path::new("/d/tables/12.table")), None);
        assert_eq!(parse_name(Path::new("/d/tables/x-1.table")), None);
    }
}
