//! [`SqliteStore`]: the store in one SQLite file, in WAL mode.
//!
//! All writes go through one connection behind a mutex: SQLite admits one
//! writer at a time anyway, and queueing in-process is cheaper and fairer
//! than retrying on `SQLITE_BUSY`. Reads use a small pool of their own
//! connections; in WAL mode a reader sees the last commit and never waits
//! for the writer, so a download streams while a load writes.

mod accounts;
mod codec;
mod data_sources;
mod entities;
mod jobs;
mod migrations;
mod versions;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sds_core::entity::BuiltRecord;
use sds_core::job::{FailedEntity, JobOutcome};
use sds_core::{AccessId, AccountId, DataSource, Entity, Job, JobId, JobKind, KeyId, Schema, Version, VersionId};

use crate::{AccountRecord, KeyHash, KeyRecord, LoadCommit, Store, StoreError, StoreResult};

/// How long a statement waits for a lock held by another process (another
/// `sds` on the same file, or the `sqlite3` shell) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 8;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("path", &self.path).finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the store at `path`, creating the file and its directories,
    /// and brings its schema up to date.
    pub fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(parent) = path.parent().filter(|parent| !parent.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|error| {
                let message = format!("cannot create the directory {}: {error}", parent.display());
                rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN), Some(message))
            })?;
        }
        let mut writer = Connection::open(path)?;
        configure_writer(&mut writer)?;
        migrations::migrate(&mut writer)?;

        let manager = SqliteConnectionManager::file(path).with_init(configure_reader);
        let readers = r2d2::Pool::builder()
            .max_size(READERS)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(30))
            .build(manager)?;
        Ok(SqliteStore { path: path.to_owned(), writer: Mutex::new(writer), readers })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one IMMEDIATE transaction on the writer connection,
    /// committing only if it succeeds.
    fn write<T>(&self, work: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        // A panic inside `work` drops its transaction, which rolls back, so
        // the connection behind a poisoned lock is clean and safe to reuse.
        let mut connection = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        // IMMEDIATE takes the write lock up front: a deferred transaction
        // that reads first could fail to upgrade if another process writes.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }

    /// Runs `work` in one read transaction, so it sees a single snapshot.
    fn read<T>(&self, work: impl FnOnce(&Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut connection = self.readers.get()?;
        let transaction = connection.transaction()?;
        let value = work(&transaction)?;
        transaction.commit()?;
        Ok(value)
    }
}

fn configure_common(connection: &Connection, cache_kib: i64) -> rusqlite::Result<()> {
    connection.busy_timeout(BUSY_TIMEOUT)?;
    connection.pragma_update(None, "foreign_keys", true)?;
    // Negative: KiB rather than pages.
    connection.pragma_update(None, "cache_size", -cache_kib)?;
    connection.pragma_update(None, "temp_store", "MEMORY")?;
    connection.pragma_update(None, "mmap_size", 256i64 << 20)?;
    connection.set_prepared_statement_cache_capacity(32);
    Ok(())
}

fn configure_writer(connection: &mut Connection) -> StoreResult<()> {
    configure_common(connection, 64 << 10)?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!("the database refused WAL mode (it is in {mode} mode)")));
    }
    // FULL syncs the WAL on every commit: an acknowledged job or load then
    // survives power loss, not only a killed process (which NORMAL already
    // survives). The cost is one fsync per commit, small next to a batch.
    connection.pragma_update(None, "synchronous", std::env::var("SDS_SYNC").unwrap_or("FULL".into()))?;
    // A load writes tens of MB; checkpointing every 4 MB (the default)
    // would copy pages back to the database file many times during it.
    connection.pragma_update(None, "wal_autocheckpoint", std::env::var("SDS_CKPT").map(|v| v.parse::<i64>().unwrap()).unwrap_or(16_384))?;
    Ok(())
}

fn configure_reader(connection: &mut Connection) -> rusqlite::Result<()> {
    configure_common(connection, 16 << 10)?;
    // Readers only read; this turns a stray write into an error.
    connection.pragma_update(None, "query_only", true)
}

impl Store for SqliteStore {
    fn ensure_account(&self, name: &str) -> StoreResult<AccountId> {
        self.write(|tx| accounts::ensure_account(tx, name))
    }

    fn add_key(&self, account: AccountId, hash: &KeyHash, hint: &str) -> StoreResult<KeyId> {
        self.write(|tx| accounts::add_key(tx, account, hash, hint))
    }

    fn key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<KeyRecord>> {
        self.read(|tx| accounts::key_by_hash(tx, hash))
    }

    fn key(&self, id: KeyId) -> StoreResult<Option<KeyRecord>> {
        self.read(|tx| accounts::key(tx, id))
    }

    fn accounts(&self) -> StoreResult<Vec<AccountRecord>> {
        self.read(|tx| accounts::accounts(tx))
    }

    fn data_source_by_name(&self, account: AccountId, name: &str) -> StoreResult<Option<DataSource>> {
        self.read(|tx| data_sources::by_name(tx, account, name))
    }

    fn data_source_by_access_id(&self, access_id: &AccessId) -> StoreResult<Option<DataSource>> {
        self.read(|tx| data_sources::by_access_id(tx, access_id))
    }

    fn version(&self, id: VersionId) -> StoreResult<Option<Version>> {
        self.read(|tx| versions::version(tx, id))
    }

    fn version_by_job(&self, data_source: &AccessId, job: &JobId) -> StoreResult<Option<Version>> {
        self.read(|tx| versions::version_by_job(tx, data_source, job))
    }

    fn insert_job(&self, job: &Job) -> StoreResult<()> {
        self.write(|tx| jobs::insert_job(tx, job))
    }

    fn job(&self, id: &JobId) -> StoreResult<Option<Job>> {
        self.read(|tx| jobs::job(tx, id))
    }

    fn newest_job(&self, account: AccountId, kind: JobKind, data_source_name: &str) -> StoreResult<Option<Job>> {
        self.read(|tx| jobs::newest_job(tx, account, kind, data_source_name))
    }

    fn pending_jobs(&self) -> StoreResult<Vec<Job>> {
        self.read(|tx| jobs::pending_jobs(tx))
    }

    fn finish_job(&self, id: &JobId, outcome: &JobOutcome, failures: &[FailedEntity]) -> StoreResult<()> {
        self.write(|tx| jobs::finish_job(tx, id, outcome, failures))
    }

    fn job_failures(&self, id: &JobId) -> StoreResult<Vec<FailedEntity>> {
        self.read(|tx| jobs::job_failures(tx, id))
    }

    fn begin_version(&self, job: &JobId, schema: &Schema) -> StoreResult<VersionId> {
        self.write(|tx| versions::begin_version(tx, job, schema))
    }

    fn copy_entities(&self, from: VersionId, to: VersionId) -> StoreResult<u64> {
        self.write(|tx| entities::copy_entities(tx, from, to))
    }

    fn write_entities(&self, version: VersionId, batch: &[BuiltRecord]) -> StoreResult<()> {
        self.write(|tx| entities::write_entities(tx, version, batch))
    }

    fn count_entities(&self, version: VersionId) -> StoreResult<u64> {
        self.read(|tx| entities::count_entities(tx, version))
    }

    fn commit_load(&self, commit: &LoadCommit<'_>) -> StoreResult<DataSource> {
        self.write(|tx| data_sources::commit_load(tx, commit))
    }

    fn discard_version(&self, version: VersionId) -> StoreResult<()> {
        self.write(|tx| versions::discard_version(tx, version))
    }

    fn discard_building_versions(&self) -> StoreResult<u64> {
        self.write(|tx| versions::discard_building_versions(tx))
    }

    fn for_each_entity(&self, version: VersionId, visit: &mut dyn FnMut(Entity) -> io::Result<()>) -> StoreResult<u64> {
        self.read(|tx| entities::for_each_entity(tx, version, visit))
    }
}
