//! [`PostgresStore`]: the store in a PostgreSQL database with PostGIS, for
//! any number of `sds` servers sharing it.
//!
//! The client is `postgres` (the synchronous face of `tokio-postgres`)
//! pooled by `r2d2_postgres`. The [`Store`] trait is synchronous and
//! called from blocking threads, so a synchronous pool fits without a
//! runtime inside the store or `block_on` per call; both crates come from
//! the maintainer of `tokio-postgres`, `r2d2` already pools the SQLite
//! store, and `postgres` has what loads and downloads need: binary `COPY`
//! (`BinaryCopyInWriter`) and rows streamed as they arrive (`query_raw`).
//!
//! Transactions. Every method is one transaction. Reads run `REPEATABLE
//! READ, READ ONLY`: one snapshot, as SQLite's read transactions. Writes
//! that change what other calls see (accounts, keys, jobs, commits,
//! discards) first take one transaction-level advisory lock, so they run
//! one at a time across every server, as SQLite's single writer does: the
//! rules written for SQLite (a commit reads a job's state, then changes
//! it; `published_seq` is the largest + 1; a data source is found or
//! created) stay true without retries. They are short; what is long is
//! writing entities, and batches into a `Building` version do not take the
//! lock, as nobody else writes that version.
//!
//! Unavailability. A call that cannot reach the database fails with
//! [`StoreError::Unavailable`] within [`CONNECT_TIMEOUT`]; the pool tests
//! each connection as it hands it out and drops broken ones, so after a
//! database restart the next calls connect anew, without restarting the
//! process.

mod accounts;
mod cluster;
mod codec;
mod data_sources;
mod entities;
mod error;
mod geo;
mod jobs;
mod lifecycle;
mod loading;
mod migrations;
mod partitions;
mod payloads;
mod versions;

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postgres::types::Type;
use postgres::{IsolationLevel, NoTls, Transaction};
use r2d2_postgres::PostgresConnectionManager;
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

pub use payloads::PostgresPayloads;

/// How long a call waits for a connection (new or pooled) before it
/// reports the database [`StoreError::Unavailable`].
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a call waits for a connection while the last attempt to get
/// one failed (an outage), instead of [`CONNECT_TIMEOUT`]: during an outage
/// requests get their 503 at once, and once the database is back the next
/// call connects within this (a connection on loopback or a LAN takes
/// milliseconds). The first success ends the outage.
const OUTAGE_WAIT: Duration = Duration::from_millis(250);
/// Connections per server: one per blocking store call in flight (HTTP
/// reads, running jobs, a streaming download each hold one).
const POOL_SIZE: u32 = 16;
/// The advisory lock key that serializes metadata writes ("SDS_WRIT").
const WRITE_LOCK: i64 = 0x5344_535f_5752_4954;

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;

/// How often a [`Store::wait_for_change`] that finds the listening
/// connection busy (another thread waits on it) reads the counter instead.
const CHANGE_POLL: Duration = Duration::from_millis(50);

pub struct PostgresStore {
    pool: Pool,
    /// The database's `geography` type, for binary `COPY` (an extension
    /// type: its oid differs between databases).
    geography: OnceLock<Type>,
    /// The URL without its password, for logs.
    shown: String,
    /// `Building` versions whose batches replace rows already there, so
    /// that they skip the copy-first attempt (`entities::write_entities`).
    slow_versions: Mutex<HashSet<VersionId>>,
    /// The `Building` versions this store began and wrote only through
    /// [`entities::append_entities`], each with the hashes of the keys
    /// written so far: a batch none of whose keys' hashes is among them
    /// cannot replace a row, so it is copied into the bare table without
    /// a primary key to check (`partitions.rs`). A version not here (an
    /// incremental load's, one whose batch met a known hash, one this
    /// process did not begin) goes through its primary key. A hash that
    /// two keys share only sends a version that way early.
    appending: Mutex<HashMap<VersionId, HashSet<u64>>>,
    /// A sweep left a table that was in use: sweep again after this
    /// store's next read of entities and its next lease renewal.
    sweep_pending: AtomicBool,
    /// The connection that `LISTEN`s for change notifications, made on the
    /// first [`Store::wait_for_change`] and again after it broke.
    listener: Mutex<Option<postgres::Client>>,
    config: postgres::Config,
    /// Why the last attempt to get a connection failed, cleared by the
    /// next that succeeds (see [`OUTAGE_WAIT`]).
    outage: Mutex<Option<String>>,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("database", &self.shown).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database[?options]`,
    /// libpq's URL and `key=value` forms,
    /// <https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING>),
    /// brings its schema up to date (creating the `postgis` extension if
    /// missing, which needs a role allowed to), and opens a pool.
    ///
    /// Errors: [`StoreError::Invalid`] for a malformed URL;
    /// [`StoreError::Unavailable`] when the database cannot be reached
    /// within [`CONNECT_TIMEOUT`]; [`StoreError::Backend`] when a migration
    /// fails (e.g. the role may not create the extension);
    /// [`StoreError::Corrupt`] for a schema newer than this build.
    pub fn connect(url: &str) -> StoreResult<PostgresStore> {
        let mut config: postgres::Config =
            url.parse().map_err(|error| StoreError::Invalid(format!("the database URL is invalid: {error}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        if config.get_application_name().is_none() {
            config.application_name("sds");
        }
        let shown = shown(&config);
        let mut client = config.connect(NoTls)?;
        migrations::migrate(&mut client)?;
        drop(client);

        let pool = r2d2::Pool::builder()
            .max_size(POOL_SIZE)
            .min_idle(Some(1))
            .connection_timeout(CONNECT_TIMEOUT)
            .build(PostgresConnectionManager::new(config.clone(), NoTls))?;
        tracing::info!(database = %shown, "opened the PostgreSQL store");
        Ok(PostgresStore {
            pool,
            geography: OnceLock::new(),
            shown,
            slow_versions: Mutex::default(),
            appending: Mutex::default(),
            sweep_pending: AtomicBool::new(false),
            listener: Mutex::new(None),
            config,
            outage: Mutex::new(None),
        })
    }

    /// Applies the migrations up to `target` to the database at `url` and
    /// no further (`sds_store::testing`: a database as an older build left it).
    #[cfg(feature = "test-support")]
    pub(crate) fn migrate_to(url: &str, target: i64) -> StoreResult<()> {
        let config: postgres::Config =
            url.parse().map_err(|error| StoreError::Invalid(format!("the database URL is invalid: {error}")))?;
        migrations::migrate_to(&mut config.connect(NoTls)?, target)
    }

    /// The payloads (spooled uploads, download outputs) of this store, in
    /// its database: every server sharing it reaches them.
    pub fn payloads(&self) -> PostgresPayloads {
        PostgresPayloads::new(self.pool.clone())
    }

    /// Waits on the listening connection: reads the counter, and until it
    /// is above `after`, one notification or the deadline at a time.
    fn wait_on_listener(
        &self,
        client: &mut Option<postgres::Client>,
        after: u64,
        deadline: Instant,
    ) -> StoreResult<u64> {
        if client.is_none() {
            let mut connected = self.config.connect(NoTls)?;
            connected.batch_execute(&format!("LISTEN {}", cluster::CHANGES_CHANNEL))?;
            *client = Some(connected);
        }
        let Some(listening) = client.as_mut() else { unreachable!("connected above") };
        loop {
            // Read after LISTEN took effect, so no commit falls between.
            let counter = cluster::change_counter(listening)?;
            let now = Instant::now();
            if counter > after || now >= deadline {
                return Ok(counter);
            }
            let mut notifications = listening.notifications();
            let mut waiting = notifications.timeout_iter(deadline - now);
            postgres::fallible_iterator::FallibleIterator::next(&mut waiting)?;
        }
    }

    fn connection(&self) -> StoreResult<r2d2::PooledConnection<PostgresConnectionManager<NoTls>>> {
        if let Some(connection) = self.pool.try_get() {
            return Ok(connection);
        }
        let outage = self.outage.lock().unwrap_or_else(PoisonError::into_inner).clone();
        let got = match &outage {
            Some(_) => self.pool.get_timeout(OUTAGE_WAIT),
            None => self.pool.get(),
        };
        let mut recorded = self.outage.lock().unwrap_or_else(PoisonError::into_inner);
        match got {
            Ok(connection) => {
                *recorded = None;
                Ok(connection)
            }
            Err(error) => {
                // r2d2's error after a short wait says only that it timed
                // out: the outage's first message says why.
                let message = match outage {
                    Some(message) => message,
                    None => error.to_string(),
                };
                *recorded = Some(message.clone());
                Err(StoreError::Unavailable(message))
            }
        }
    }

    /// Runs `work` in one transaction holding the write lock, committing
    /// only if it succeeds.
    fn write<T>(&self, work: impl FnOnce(&mut Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut connection = self.connection()?;
        let mut transaction = connection.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        let value = work(&mut transaction)?;
        transaction.commit()?;
        Ok(value)
    }

    /// Runs `work` in one transaction without the write lock, and without
    /// waiting for its commit to reach the disk: for writes to a `Building`
    /// version only, which nobody has been told about and a restart
    /// discards. As SQLite's `Durability::Normal`: a crash may lose the
    /// newest of these commits, never consistency, and the synchronous
    /// commit that publishes the version flushes the log up to itself,
    /// these batches included
    /// (<https://www.postgresql.org/docs/15/wal-async-commit.html>).
    fn write_unlocked<T>(&self, work: impl FnOnce(&mut Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut connection = self.connection()?;
        let mut transaction = connection.transaction()?;
        transaction.batch_execute("SET LOCAL synchronous_commit = off")?;
        let value = work(&mut transaction)?;
        transaction.commit()?;
        Ok(value)
    }

    /// Runs `work` in one read-only snapshot.
    fn read<T>(&self, work: impl FnOnce(&mut Transaction<'_>) -> StoreResult<T>) -> StoreResult<T> {
        let mut connection = self.connection()?;
        let mut transaction =
            connection.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start()?;
        let value = work(&mut transaction)?;
        transaction.commit()?;
        Ok(value)
    }

    /// The `geography` type of this database, looked up once.
    fn geography_type(&self, transaction: &mut Transaction<'_>) -> StoreResult<Type> {
        if let Some(found) = self.geography.get() {
            return Ok(found.clone());
        }
        let statement = transaction.prepare("SELECT NULL::geography")?;
        let found = statement.columns()[0].type_().clone();
        Ok(self.geography.get_or_init(|| found).clone())
    }
}

/// `user@host:port/database` of a config, never its password.
fn shown(config: &postgres::Config) -> String {
    let host = match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    format!(
        "{}@{host}:{port}/{}",
        config.get_user().unwrap_or("?"),
        config.get_dbname().unwrap_or(config.get_user().unwrap_or("?"))
    )
}

impl Store for PostgresStore {
    fn identity(&self) -> StoreResult<String> {
        let mut connection = self.pool.get()?;
        let row = connection.query_one("SELECT id FROM store_identity", &[])?;
        Ok(row.get(0))
    }

    fn ready(&self) -> StoreResult<()> {
        self.read(|tx| migrations::check_current(tx))
    }

    fn ensure_account(&self, name: &str) -> StoreResult<AccountId> {
        self.write(|tx| accounts::ensure_account(tx, name))
    }

    fn create_first_account(&self, name: &str, keys: &[(KeyHash, String)]) -> StoreResult<Option<AccountId>> {
        self.write(|tx| accounts::create_first_account(tx, name, keys))
    }

    fn add_key(&self, account: AccountId, hash: &KeyHash, hint: &str) -> StoreResult<KeyId> {
        self.write(|tx| accounts::add_key(tx, account, hash, hint, None))
    }

    fn add_labelled_key(
        &self,
        account: AccountId,
        hash: &KeyHash,
        hint: &str,
        label: Option<&str>,
    ) -> StoreResult<KeyId> {
        self.write(|tx| accounts::add_key(tx, account, hash, hint, label))
    }

    fn key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<KeyRecord>> {
        self.read(|tx| accounts::key_by_hash(tx, hash))
    }

    fn key(&self, id: KeyId) -> StoreResult<Option<KeyRecord>> {
        self.read(|tx| accounts::key(tx, id))
    }

    fn revoke_key(&self, key: KeyId, replacement: Option<KeyId>) -> StoreResult<Revocation> {
        self.write(|tx| accounts::revoke_key(tx, key, replacement))
    }

    fn accounts(&self) -> StoreResult<Vec<AccountRecord>> {
        self.read(accounts::accounts)
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

    fn versions_of(&self, data_source: DataSourceId) -> StoreResult<Vec<Version>> {
        self.read(|tx| versions::versions_of(tx, data_source))
    }

    fn data_sources_of(&self, account: AccountId) -> StoreResult<Vec<DataSource>> {
        self.read(|tx| data_sources::of_account(tx, account))
    }

    fn public_data_sources(&self) -> StoreResult<Vec<DataSource>> {
        self.read(data_sources::public)
    }

    fn commit_change(
        &self,
        job: &JobId,
        data_source: DataSourceId,
        change: &DataSourceChange,
        outcome: &JobOutcome,
        worker: Option<&WorkerId>,
    ) -> StoreResult<()> {
        self.write(|tx| lifecycle::commit_change(tx, job, data_source, change, outcome, worker))?;
        self.sweep();
        Ok(())
    }

    fn drop_staged_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64> {
        let cutoff = codec::nanos(cutoff)?;
        let dropped = self.write(|tx| {
            let dropped = versions::drop_staged_before(tx, cutoff)?;
            if dropped > 0 {
                cluster::bump_changes(tx)?;
            }
            Ok(dropped)
        })?;
        if dropped > 0 {
            self.sweep();
        }
        Ok(dropped)
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
        self.read(jobs::pending_jobs)
    }

    fn account_jobs(&self, account: AccountId, since: DateTime<Utc>) -> StoreResult<Vec<Job>> {
        let since = codec::nanos(since)?;
        self.read(|tx| jobs::account_jobs(tx, account, since))
    }

    fn job_counts(&self, account: AccountId, since: DateTime<Utc>) -> StoreResult<JobCounts> {
        let since = codec::nanos(since)?;
        self.read(|tx| jobs::job_counts(tx, account, since))
    }

    fn finish_job(
        &self,
        id: &JobId,
        outcome: &JobOutcome,
        failures: &[FailedEntity],
        worker: Option<&WorkerId>,
    ) -> StoreResult<()> {
        self.write(|tx| jobs::finish_job(tx, id, outcome, failures, worker))
    }

    fn job_failures(&self, id: &JobId) -> StoreResult<Vec<FailedEntity>> {
        self.read(|tx| jobs::job_failures(tx, id))
    }

    fn begin_version(&self, job: &JobId, schema: &Schema) -> StoreResult<VersionId> {
        let version = self.write_unlocked(|tx| versions::begin_version(tx, job, schema))?;
        let mut appending = self.appending.lock().unwrap_or_else(PoisonError::into_inner);
        // A hint only: a version forgotten here goes through its primary key.
        if appending.len() >= 64 {
            appending.clear();
        }
        appending.insert(version, HashSet::new());
        Ok(version)
    }

    fn copy_entities(&self, from: VersionId, to: VersionId) -> StoreResult<u64> {
        self.appending.lock().unwrap_or_else(PoisonError::into_inner).remove(&to);
        let copied = self.write_unlocked(|tx| entities::copy_entities(tx, from, to))?;
        if copied > 0 {
            // The batches of an incremental load mostly replace copied rows.
            self.slow_versions.lock().unwrap_or_else(PoisonError::into_inner).insert(to);
        }
        Ok(copied)
    }

    fn write_entities(&self, version: VersionId, batch: &[BuiltRecord]) -> StoreResult<()> {
        self.write_batch(version, batch)
    }

    fn count_entities(&self, version: VersionId) -> StoreResult<u64> {
        self.read(|tx| entities::count_entities(tx, version))
    }

    /// Seals the version (its indexes, attached: `partitions.rs`) first,
    /// outside the write lock, then commits under it.
    fn commit_load(&self, commit: &LoadCommit<'_>) -> StoreResult<DataSource> {
        self.seal(commit.version_id)?;
        let committed = self.write(|tx| data_sources::commit_load(tx, commit))?;
        self.sweep();
        Ok(committed)
    }

    fn discard_version(&self, version: VersionId) -> StoreResult<()> {
        self.appending.lock().unwrap_or_else(PoisonError::into_inner).remove(&version);
        self.write(|tx| versions::discard_version(tx, version))?;
        self.sweep();
        Ok(())
    }

    fn discard_building_versions(&self) -> StoreResult<u64> {
        let discarded = self.write(versions::discard_building_versions)?;
        self.sweep();
        Ok(discarded)
    }

    fn for_each_entity(&self, version: VersionId, visit: &mut dyn FnMut(Entity) -> io::Result<()>) -> StoreResult<u64> {
        let visited = self.read(|tx| entities::for_each_entity(tx, version, visit));
        // This scan may have held a dropped version's table.
        self.sweep_if_pending();
        visited
    }

    fn claim_job(&self, job: &JobId, worker: &WorkerId, lease: Duration) -> StoreResult<bool> {
        let claimed = self.write(|tx| cluster::claim_job(tx, job, worker, lease))?;
        if claimed {
            // A takeover drops the dead run's building versions.
            self.sweep();
        }
        Ok(claimed)
    }

    fn renew_claims(&self, worker: &WorkerId, lease: Duration) -> StoreResult<Vec<JobId>> {
        let held = self.write(|tx| cluster::renew_claims(tx, worker, lease))?;
        self.sweep_if_pending();
        Ok(held)
    }

    fn release_claim(&self, job: &JobId, worker: &WorkerId) -> StoreResult<()> {
        self.write(|tx| cluster::release_claim(tx, job, worker))
    }

    fn record_progress(&self, job: &JobId, worker: &WorkerId, processed: u64, failed: u64) -> StoreResult<()> {
        // One row, no write lock: it must never wait behind a publish.
        self.write_unlocked(|tx| cluster::record_progress(tx, job, worker, processed, failed))
    }

    fn release_all_claims(&self) -> StoreResult<u64> {
        self.write(cluster::release_all_claims)
    }

    fn insert_job_within(&self, job: &Job, quota: &JobQuota) -> StoreResult<Result<(), QuotaRefusal>> {
        self.write(|tx| cluster::insert_job_within(tx, job, quota))
    }

    fn change_counter(&self) -> StoreResult<u64> {
        self.read(|tx| cluster::change_counter(tx))
    }

    /// `LISTEN sds_changes` on a connection of its own, woken by the
    /// `NOTIFY` every counter bump sends at its commit; the counter is read
    /// after each wake-up, so a lost notification costs at most `timeout`.
    /// One thread waits on that connection at a time; another that comes
    /// meanwhile reads the counter every [`CHANGE_POLL`] instead.
    fn wait_for_change(&self, after: u64, timeout: Duration) -> StoreResult<u64> {
        let deadline = Instant::now() + timeout;
        if let Ok(mut listener) = self.listener.try_lock() {
            let had_one = listener.is_some();
            let mut waited = self.wait_on_listener(&mut listener, after, deadline);
            if waited.is_err() {
                // Broken (a restart, the network): connect anew, once now
                // if it was an old connection, else at the next call.
                *listener = None;
                if had_one {
                    waited = self.wait_on_listener(&mut listener, after, deadline);
                    if waited.is_err() {
                        *listener = None;
                    }
                }
            }
            return waited;
        }
        loop {
            let counter = self.change_counter()?;
            let now = Instant::now();
            if counter > after || now >= deadline {
                return Ok(counter);
            }
            std::thread::sleep(CHANGE_POLL.min(deadline - now));
        }
    }
}
