//! [`SqliteStore`]: the store in one SQLite file, in WAL mode.
//!
//! All writes go through one connection behind a mutex: SQLite admits one
//! writer at a time anyway, and queueing in-process is cheaper and fairer
//! than retrying on `SQLITE_BUSY`. Reads use a small pool of their own
//! connections; in WAL mode a reader sees the last commit and never waits
//! for the writer, so a download streams while a load writes.

mod accounts;
mod backup;
mod cluster;
mod codec;
mod data_sources;
mod entities;
mod error;
mod jobs;
mod lifecycle;
mod migrations;
mod versions;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, Transaction, TransactionBehavior};
use sds_core::entity::BuiltRecord;
use sds_core::job::{FailedEntity, JobOutcome};
use sds_core::{
    AccessId, AccountId, DataSource, DataSourceId, Entity, Job, JobId, JobKind, KeyId, Schema, Version, VersionId,
    WorkerId,
};

use crate::{
    AccountRecord, DataSourceChange, JobCounts, JobQuota, KeyHash, KeyRecord, LoadCommit, QuotaRefusal, Revocation,
    Store, StoreError, StoreResult,
};

/// How often [`Store::wait_for_change`] reads the change counter: well
/// within the second in which another process's change (`sds keys revoke`)
/// must reach the server's caches, for one indexed read of one row.
const CHANGE_POLL: Duration = Duration::from_millis(50);

/// How long a statement waits for a lock held by another process (another
/// `sds` on the same file, or the `sqlite3` shell) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const READERS: u32 = 8;

pub struct SqliteStore {
    path: PathBuf,
    writer: Mutex<Writer>,
    readers: r2d2::Pool<SqliteConnectionManager>,
}

struct Writer {
    connection: Connection,
    /// The `synchronous` setting the connection has now, to change it only when needed.
    durability: Durability,
}

/// How hard a write commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Durability {
    /// Fsyncs the WAL at commit: for anything acknowledged to a client
    /// (accounts, keys, jobs, published loads), which then survives power
    /// loss and not only a killed process.
    Full,
    /// Fsyncs only at checkpoints: for writes to `Building` versions, which
    /// nobody has been told about and a restart discards anyway. In WAL
    /// mode this can lose the newest of these commits on power loss, never
    /// consistency; and the next `Full` commit's fsync covers the whole WAL,
    /// so a published load makes its batches durable with it. Saves one
    /// fsync per batch of a load.
    Normal,
}

impl Durability {
    fn pragma(self) -> &'static str {
        match self {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        }
    }
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
                StoreError::Backend(Box::new(io::Error::new(error.kind(), message)))
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
        let writer = Writer { connection: writer, durability: Durability::Full };
        Ok(SqliteStore { path: path.to_owned(), writer: Mutex::new(writer), readers })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in one IMMEDIATE transaction on the writer connection,
    /// committing only if it succeeds.
    fn write<T>(
        &self,
        durability: Durability,
        work: impl FnOnce(&Transaction<'_>) -> StoreResult<T>,
    ) -> StoreResult<T> {
        // A panic inside `work` drops its transaction, which rolls back, so
        // the connection behind a poisoned lock is clean and safe to reuse.
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if writer.durability != durability {
            writer.connection.pragma_update(None, "synchronous", durability.pragma())?;
            writer.durability = durability;
        }
        // IMMEDIATE takes the write lock up front: a deferred transaction
        // that reads first could fail to upgrade if another process writes.
        let transaction = writer.connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
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
    // No mmap: mapped database pages count as resident memory, and a 300 MB
    // load drove the server past its 300 MB budget with 256 MB mapped
    // (355 MB peak against 99 MB without), for no measurable speed gain.
    connection.pragma_update(None, "mmap_size", 0i64)?;
    connection.set_prepared_statement_cache_capacity(32);
    Ok(())
}

fn configure_writer(connection: &mut Connection) -> StoreResult<()> {
    // Only takes effect on a new, empty database: deleted data sources
    // then give their pages back to the file system (`incremental_vacuum`
    // after a delete) instead of leaving the file at its largest size.
    connection.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
    configure_common(connection, 64 << 10)?;
    let mode: String = connection.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Corrupt(format!("the database refused WAL mode (it is in {mode} mode)")));
    }
    connection.pragma_update(None, "synchronous", Durability::Full.pragma())?;
    // A load writes tens of MB; checkpointing every 4 MB (the default)
    // would copy pages back to the database file many times during it.
    connection.pragma_update(None, "wal_autocheckpoint", 16_384)?;
    // After a checkpoint the WAL is reused, not shrunk; this trims what a
    // big load leaves behind.
    connection.pragma_update(None, "journal_size_limit", 64i64 << 20)?;
    Ok(())
}

fn configure_reader(connection: &mut Connection) -> rusqlite::Result<()> {
    configure_common(connection, 16 << 10)?;
    // Readers only read; this turns a stray write into an error.
    connection.pragma_update(None, "query_only", true)
}

impl Store for SqliteStore {
    fn ensure_account(&self, name: &str) -> StoreResult<AccountId> {
        self.write(Durability::Full, |tx| accounts::ensure_account(tx, name))
    }

    fn create_first_account(&self, name: &str, keys: &[(KeyHash, String)]) -> StoreResult<Option<AccountId>> {
        // The write transaction is SQLite's one writer: no other can run
        // between the check and the inserts.
        self.write(Durability::Full, |tx| {
            if tx.prepare_cached("SELECT 1 FROM accounts")?.exists([])? {
                return Ok(None);
            }
            let account = accounts::ensure_account(tx, name)?;
            for (hash, hint) in keys {
                accounts::add_key(tx, account, hash, hint)?;
            }
            Ok(Some(account))
        })
    }

    fn add_key(&self, account: AccountId, hash: &KeyHash, hint: &str) -> StoreResult<KeyId> {
        self.write(Durability::Full, |tx| accounts::add_key(tx, account, hash, hint))
    }

    fn add_labelled_key(
        &self,
        account: AccountId,
        hash: &KeyHash,
        hint: &str,
        label: Option<&str>,
    ) -> StoreResult<KeyId> {
        self.write(Durability::Full, |tx| {
            let id = accounts::add_key(tx, account, hash, hint)?;
            accounts::set_label(tx, id, label)?;
            Ok(id)
        })
    }

    fn key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<KeyRecord>> {
        self.read(|tx| accounts::key_by_hash(tx, hash))
    }

    fn revoke_key(&self, key: KeyId, replacement: Option<KeyId>) -> StoreResult<Revocation> {
        self.write(Durability::Full, |tx| accounts::revoke_key(tx, key, replacement))
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

    fn access_id_retired_by(&self, access_id: &AccessId) -> StoreResult<Option<AccountId>> {
        self.read(|tx| data_sources::retired_by(tx, access_id))
    }

    fn version(&self, id: VersionId) -> StoreResult<Option<Version>> {
        self.read(|tx| versions::version(tx, id))
    }

    fn version_by_job(&self, data_source: &AccessId, job: &JobId) -> StoreResult<Option<Version>> {
        self.read(|tx| versions::version_by_job(tx, data_source, job))
    }

    fn insert_job(&self, job: &Job) -> StoreResult<()> {
        self.write(Durability::Full, |tx| jobs::insert_job(tx, job))
    }

    fn job(&self, id: &JobId) -> StoreResult<Option<Job>> {
        self.read(|tx| jobs::job(tx, id))
    }

    fn newest_job(&self, account: AccountId, kind: JobKind, data_source_name: &str) -> StoreResult<Option<Job>> {
        self.read(|tx| jobs::newest_job(tx, account, kind, data_source_name))
    }

    fn ready(&self) -> StoreResult<()> {
        self.read(|tx| migrations::check_current(tx))
    }

    fn pending_jobs(&self) -> StoreResult<Vec<Job>> {
        self.read(|tx| jobs::pending_jobs(tx))
    }

    fn finish_job(
        &self,
        id: &JobId,
        outcome: &JobOutcome,
        failures: &[FailedEntity],
        worker: Option<&WorkerId>,
    ) -> StoreResult<()> {
        self.write(Durability::Full, |tx| jobs::finish_job(tx, id, outcome, failures, worker))
    }

    fn job_failures(&self, id: &JobId) -> StoreResult<Vec<FailedEntity>> {
        self.read(|tx| jobs::job_failures(tx, id))
    }

    fn begin_version(&self, job: &JobId, schema: &Schema) -> StoreResult<VersionId> {
        self.write(Durability::Normal, |tx| versions::begin_version(tx, job, schema))
    }

    fn copy_entities(&self, from: VersionId, to: VersionId) -> StoreResult<u64> {
        self.write(Durability::Normal, |tx| entities::copy_entities(tx, from, to))
    }

    fn write_entities(&self, version: VersionId, batch: &[BuiltRecord]) -> StoreResult<()> {
        self.write(Durability::Normal, |tx| entities::write_entities(tx, version, batch))
    }

    fn count_entities(&self, version: VersionId) -> StoreResult<u64> {
        self.read(|tx| entities::count_entities(tx, version))
    }

    fn commit_load(&self, commit: &LoadCommit<'_>) -> StoreResult<DataSource> {
        self.write(Durability::Full, |tx| data_sources::commit_load(tx, commit))
    }

    fn discard_version(&self, version: VersionId) -> StoreResult<()> {
        self.write(Durability::Normal, |tx| versions::discard_version(tx, version))
    }

    fn discard_building_versions(&self) -> StoreResult<u64> {
        let now = codec::nanos(chrono::Utc::now())?;
        self.write(Durability::Normal, |tx| versions::discard_building_versions(tx, now))
    }

    fn for_each_entity(&self, version: VersionId, visit: &mut dyn FnMut(Entity) -> io::Result<()>) -> StoreResult<u64> {
        self.read(|tx| entities::for_each_entity(tx, version, visit))
    }

    fn versions_of(&self, data_source: DataSourceId) -> StoreResult<Vec<Version>> {
        self.read(|tx| versions::versions_of(tx, data_source))
    }

    fn data_sources_of(&self, account: AccountId) -> StoreResult<Vec<DataSource>> {
        self.read(|tx| data_sources::of_account(tx, account))
    }

    fn public_data_sources(&self) -> StoreResult<Vec<DataSource>> {
        self.read(|tx| data_sources::public(tx))
    }

    fn commit_change(
        &self,
        job: &JobId,
        data_source: DataSourceId,
        change: &DataSourceChange,
        outcome: &JobOutcome,
        worker: Option<&WorkerId>,
    ) -> StoreResult<()> {
        self.write(Durability::Full, |tx| lifecycle::commit_change(tx, job, data_source, change, outcome, worker))?;
        if matches!(change, DataSourceChange::Delete | DataSourceChange::DeleteStaged) {
            // The pragma frees pages as it is stepped, so it must run to its end.
            self.write(Durability::Normal, |tx| {
                let mut statement = tx.prepare("PRAGMA incremental_vacuum")?;
                let mut rows = statement.query([])?;
                while rows.next()?.is_some() {}
                Ok(())
            })?;
        }
        Ok(())
    }

    fn drop_staged_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64> {
        self.write(Durability::Full, |tx| {
            let dropped = versions::drop_staged_before(tx, codec::nanos(cutoff)?)?;
            if dropped > 0 {
                cluster::bump_changes(tx)?;
            }
            Ok(dropped)
        })
    }

    fn account_jobs(&self, account: AccountId, since: DateTime<Utc>) -> StoreResult<Vec<Job>> {
        self.read(|tx| jobs::account_jobs(tx, account, codec::nanos(since)?))
    }

    fn job_counts(&self, account: AccountId, since: DateTime<Utc>) -> StoreResult<JobCounts> {
        self.read(|tx| jobs::job_counts(tx, account, codec::nanos(since)?))
    }

    fn claim_job(&self, job: &JobId, worker: &WorkerId, lease: Duration) -> StoreResult<bool> {
        self.write(Durability::Full, |tx| cluster::claim_job(tx, job, worker, lease))
    }

    fn renew_claims(&self, worker: &WorkerId, lease: Duration) -> StoreResult<Vec<JobId>> {
        self.write(Durability::Normal, |tx| cluster::renew_claims(tx, worker, lease))
    }

    fn release_claim(&self, job: &JobId, worker: &WorkerId) -> StoreResult<()> {
        self.write(Durability::Full, |tx| cluster::release_claim(tx, job, worker))
    }

    fn record_progress(&self, job: &JobId, worker: &WorkerId, processed: u64, failed: u64) -> StoreResult<()> {
        self.write(Durability::Normal, |tx| cluster::record_progress(tx, job, worker, processed, failed))
    }

    fn release_all_claims(&self) -> StoreResult<u64> {
        self.write(Durability::Full, |tx| cluster::release_all_claims(tx))
    }

    fn insert_job_within(&self, job: &Job, quota: &JobQuota) -> StoreResult<Result<(), QuotaRefusal>> {
        self.write(Durability::Full, |tx| cluster::insert_job_within(tx, job, quota))
    }

    fn change_counter(&self) -> StoreResult<u64> {
        self.read(|tx| cluster::change_counter(tx))
    }

    fn wait_for_change(&self, after: u64, timeout: Duration) -> StoreResult<u64> {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let counter = self.change_counter()?;
            let now = std::time::Instant::now();
            if counter > after || now >= deadline {
                return Ok(counter);
            }
            std::thread::sleep(CHANGE_POLL.min(deadline - now));
        }
    }
}
