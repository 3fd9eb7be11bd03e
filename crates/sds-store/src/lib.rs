//! Storage for `sds`: the [`Store`] trait the server and job engine use,
//! its embedded SQLite implementation ([`SqliteStore`], the default) and
//! its PostgreSQL + PostGIS one ([`PostgresStore`], for several servers
//! over one database). Both pass one test suite (`tests/suite/`).
//!
//! The trait is synchronous: the server calls it from blocking tasks. A
//! load writes a new version in `Building` state in batches (other writers
//! interleave between batches), then [`Store::commit_load`] publishes it and
//! completes the job in one transaction. A crash before that commit leaves
//! only a `Building` version, which [`Store::discard_building_versions`]
//! drops at start-up (or [`Store::claim_job`] when another server takes the
//! job over) before the job runs again.
//!
//! Several servers may share one store: jobs are claimed with leases and
//! results are fenced by the claim, quotas are checked in the insert's
//! transaction, and a change counter tells servers when to drop their
//! caches (see [`cluster`] and the "Several servers" methods). Spooled
//! uploads and download outputs go through a [`PayloadStore`].

pub mod cluster;
mod codec;
mod error;
pub mod payload;
mod postgres;
mod sqlite;
#[cfg(feature = "test-support")]
pub mod testing;

use std::io;
use std::time::Duration;

use chrono::{DateTime, Utc};
use sds_core::entity::BuiltRecord;
use sds_core::job::{FailedEntity, JobOutcome};
use sds_core::{
    AccessId, AccountId, DataSource, DataSourceId, Entity, Job, JobId, JobKind, KeyId, Schema, Version, VersionId,
};

pub use cluster::{JobQuota, QuotaRefusal};
pub use error::{StoreError, StoreResult};
pub use payload::{FilePayloads, LocalFile, PayloadReader, PayloadStore, StoredOutput};
pub use postgres::{PostgresPayloads, PostgresStore, CONNECT_TIMEOUT as POSTGRES_CONNECT_TIMEOUT};
pub use sds_core::WorkerId;
pub use sqlite::SqliteStore;

/// SHA-256 of a key's text: all the store keeps of a key.
pub type KeyHash = [u8; 32];

#[derive(Clone, Debug, PartialEq)]
pub struct KeyRecord {
    pub id: KeyId,
    pub account_id: AccountId,
    pub account_name: String,
    pub hash: KeyHash,
    /// The key's first characters, to tell keys apart in listings.
    pub hint: String,
    pub created: DateTime<Utc>,
    /// When the key was revoked; a revoked key opens nothing.
    pub revoked: Option<DateTime<Utc>>,
    /// Free text given at `sds keys import --label`, to tell keys apart.
    pub label: Option<String>,
}

/// What revoking a key did to the data sources it administered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Revocation {
    /// Data sources whose master or query key is now the replacement key.
    pub transferred: u64,
    /// Data sources left with a revoked master key (no replacement given):
    /// they can still be queried, but no longer managed.
    pub without_master: u64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct AccountRecord {
    pub id: AccountId,
    pub name: String,
    pub created: DateTime<Utc>,
    pub keys: Vec<KeyRecord>,
}

/// Everything that changes when a load job completes, applied atomically.
#[derive(Clone, Debug)]
pub struct LoadCommit<'a> {
    pub job_id: &'a JobId,
    /// The `Building` version the job wrote.
    pub version_id: VersionId,
    pub account_id: AccountId,
    pub data_source_name: &'a str,
    /// The access id to give the data source if it does not exist yet.
    pub new_access_id: &'a AccessId,
    /// The master key of the data source if it does not exist yet.
    pub master_key: KeyId,
    /// Replaces the query key when given.
    pub query_key: Option<KeyId>,
    /// Changes visibility when given.
    pub set_public: Option<bool>,
    /// Replaces the description when given.
    pub description: Option<&'a str>,
    /// Stage the version instead of publishing it: it replaces any staged
    /// version, and the published version is untouched.
    pub stage: bool,
    /// Older published versions kept as rollback targets (SDS keeps 2).
    pub previous_versions_kept: usize,
    pub outcome: &'a JobOutcome,
    pub failures: &'a [FailedEntity],
    /// The worker that ran the job: the commit succeeds only while it holds
    /// the job's claim (see [`Store::finish_job`] for the exact rule).
    pub worker: Option<&'a WorkerId>,
}

/// A change to a data source made by a lifecycle job; applied together
/// with the job's completion in [`Store::commit_change`].
#[derive(Clone, Debug, PartialEq)]
pub enum DataSourceChange {
    /// The staged version becomes the published one; the published one
    /// becomes a rollback target.
    PublishStaged {
        previous_versions_kept: usize,
    },
    /// A rollback target becomes the published version; the published one
    /// becomes a rollback target.
    Rollback {
        target: VersionId,
        previous_versions_kept: usize,
    },
    SetPublic(bool),
    /// Deletes the data source with every version and entity.
    Delete,
    /// Deletes only the staged version.
    DeleteStaged,
}

/// How many jobs (downloads excepted) an account has, for its quotas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JobCounts {
    pub pending: u64,
    pub created_since: u64,
}

/// The storage operations of `sds`. Every method is one transaction.
pub trait Store: Send + Sync + 'static {
    /// Whether the store answers a read and its schema is fully migrated
    /// (for `GET /readyz`); the error says what is wrong.
    fn ready(&self) -> StoreResult<()>;

    /// A name for this store's data that no other store shares (hex digits,
    /// or empty for a store that lives in the server's own data dir, as the
    /// SQLite store does): files a server keeps about a store's versions
    /// outside it (table snapshots) are kept under it, so a data dir pointed
    /// at another database never reads another database's tables back.
    fn identity(&self) -> StoreResult<String> {
        Ok(String::new())
    }

    // Accounts and keys.

    /// Finds or creates an account by name.
    fn ensure_account(&self, name: &str) -> StoreResult<AccountId>;
    /// Creates the account `name` with `keys` (hash, hint) only while the
    /// store has no account at all, in one transaction that excludes every
    /// other such call: of several servers started at once on one empty
    /// database, exactly one gets `Some` (and shows its keys), the others
    /// `None`.
    fn create_first_account(&self, name: &str, keys: &[(KeyHash, String)]) -> StoreResult<Option<AccountId>>;
    fn add_key(&self, account: AccountId, hash: &KeyHash, hint: &str) -> StoreResult<KeyId>;
    /// [`Store::add_key`] with a label, in one transaction. A hash some
    /// key of any account already has is [`StoreError::Conflict`], whose
    /// message names no account.
    fn add_labelled_key(
        &self,
        account: AccountId,
        hash: &KeyHash,
        hint: &str,
        label: Option<&str>,
    ) -> StoreResult<KeyId>;
    fn key_by_hash(&self, hash: &KeyHash) -> StoreResult<Option<KeyRecord>>;
    fn key(&self, id: KeyId) -> StoreResult<Option<KeyRecord>>;
    /// Revokes a key. With `replacement` (another active key of the same
    /// account), the data sources it was the master or query key of pass
    /// to that key, in the same transaction.
    /// Bumps the change counter, so that servers drop the key from their caches.
    fn revoke_key(&self, key: KeyId, replacement: Option<KeyId>) -> StoreResult<Revocation>;
    /// Every account with its keys, by name.
    fn accounts(&self) -> StoreResult<Vec<AccountRecord>>;

    // Data sources and versions.

    /// By account and name; names match case-insensitively.
    fn data_source_by_name(&self, account: AccountId, name: &str) -> StoreResult<Option<DataSource>>;
    fn data_source_by_access_id(&self, access_id: &AccessId) -> StoreResult<Option<DataSource>>;
    /// The account whose deleted data source held `access_id`, if one did:
    /// such an id is never adopted by another account's new data source.
    fn access_id_retired_by(&self, access_id: &AccessId) -> StoreResult<Option<AccountId>>;
    fn version(&self, id: VersionId) -> StoreResult<Option<Version>>;
    /// The version of a data source that a given job produced, if still kept.
    fn version_by_job(&self, data_source: &AccessId, job: &JobId) -> StoreResult<Option<Version>>;
    /// Every kept version of a data source: published, staged, and rollback
    /// targets, newest first within each state.
    fn versions_of(&self, data_source: DataSourceId) -> StoreResult<Vec<Version>>;
    /// The data sources of an account, by name.
    fn data_sources_of(&self, account: AccountId) -> StoreResult<Vec<DataSource>>;
    /// Every public data source, by name.
    fn public_data_sources(&self) -> StoreResult<Vec<DataSource>>;

    /// Applies a lifecycle change and completes its job in one transaction,
    /// bumping the change counter. Fenced by `worker` as
    /// [`Store::finish_job`] is.
    fn commit_change(
        &self,
        job: &JobId,
        data_source: DataSourceId,
        change: &DataSourceChange,
        outcome: &JobOutcome,
        worker: Option<&WorkerId>,
    ) -> StoreResult<()>;
    /// Drops staged versions staged before `cutoff`; returns how many. Bumps
    /// the change counter when it dropped any.
    fn drop_staged_before(&self, cutoff: DateTime<Utc>) -> StoreResult<u64>;

    // Jobs.

    fn insert_job(&self, job: &Job) -> StoreResult<()>;
    fn job(&self, id: &JobId) -> StoreResult<Option<Job>>;
    /// The newest job of a kind for a data source name (case-insensitive) of an account.
    fn newest_job(&self, account: AccountId, kind: JobKind, data_source_name: &str) -> StoreResult<Option<Job>>;
    /// Every `Pending` job, oldest first.
    fn pending_jobs(&self) -> StoreResult<Vec<Job>>;
    /// An account's jobs created since `since`, downloads excepted: pending
    /// ones first, then newest first.
    fn account_jobs(&self, account: AccountId, since: DateTime<Utc>) -> StoreResult<Vec<Job>>;
    /// An account's pending jobs and jobs created since `since`, downloads excepted.
    fn job_counts(&self, account: AccountId, since: DateTime<Utc>) -> StoreResult<JobCounts>;
    /// Ends a job that publishes nothing (a download, or any aborted job).
    ///
    /// Fencing (also for [`Store::commit_load`] and [`Store::commit_change`]):
    /// with `Some(worker)`, succeeds only while the job's claim is
    /// `worker`'s (`claimed_by = worker`; a lease that ran out but was not
    /// taken over still counts, as nobody else runs the job); with `None`,
    /// only while no worker holds a live claim on it (tools, tests).
    /// Otherwise [`StoreError::ClaimLost`] and nothing changes: a server
    /// whose job was taken over can never complete it a second time.
    /// PostgreSQL: `SELECT claimed_by, lease_until FROM jobs WHERE id = $1
    /// FOR UPDATE` first, in the same transaction.
    fn finish_job(
        &self,
        id: &JobId,
        outcome: &JobOutcome,
        failures: &[FailedEntity],
        worker: Option<&WorkerId>,
    ) -> StoreResult<()>;
    /// The rows a job skipped, in input order.
    fn job_failures(&self, id: &JobId) -> StoreResult<Vec<FailedEntity>>;

    // Writing a version.

    /// Starts an invisible `Building` version for a job.
    fn begin_version(&self, job: &JobId, schema: &Schema) -> StoreResult<VersionId>;
    /// Copies every entity of `from` into `to` (the base of an incremental load).
    fn copy_entities(&self, from: VersionId, to: VersionId) -> StoreResult<u64>;
    /// Applies a batch in one transaction: upserts replace an entity with the
    /// same ID (case-insensitively), deletes remove it if present.
    fn write_entities(&self, version: VersionId, batch: &[BuiltRecord]) -> StoreResult<()>;
    fn count_entities(&self, version: VersionId) -> StoreResult<u64>;
    /// Publishes a built version and completes its job, in one transaction:
    /// creates the data source if needed (else keeps its access id), demotes
    /// the published version to a rollback target, drops the rollback targets
    /// beyond `previous_versions_kept` with their entities, records the job's
    /// counts and failures; bumps the change counter. Fenced by
    /// `commit.worker` as [`Store::finish_job`] is.
    fn commit_load(&self, commit: &LoadCommit<'_>) -> StoreResult<DataSource>;
    /// Drops one `Building` version and its entities (an aborted load's).
    fn discard_version(&self, version: VersionId) -> StoreResult<()>;
    /// Drops every `Building` version (and its entities) whose job holds no
    /// live claim: the job is not `Pending`, or unclaimed, or its lease ran
    /// out. Run at a server's start; a version another server is still
    /// building is left alone. Returns how many were dropped.
    fn discard_building_versions(&self) -> StoreResult<u64>;

    // Reading a version.

    /// Visits every entity of a version in entity-ID order, streaming; stops
    /// at the visitor's first error. Returns how many were visited.
    fn for_each_entity(&self, version: VersionId, visit: &mut dyn FnMut(Entity) -> io::Result<()>) -> StoreResult<u64>;

    // Several servers (see the `cluster` module). Instants are the store's
    // clock (SQLite: the process's; PostgreSQL: `now()`), so servers
    // with skewed clocks agree on when a lease runs out.

    /// Claims a `Pending` job for `worker` until `lease` from now; `true`
    /// when `worker` holds the claim afterwards. Claimable: a job nobody
    /// claimed, or whose claim's lease ran out (`lease_until <= now`), or
    /// that `worker` already holds (the lease is then renewed). A job that
    /// changes a data source (any kind but `DataSourceDownload`) is not
    /// claimed while another job of the same account and data source name
    /// (folded as [`Store::data_source_by_name`] folds it) that changes a
    /// data source is `Pending` and either older (lower submission order)
    /// or under a live claim: such jobs run one at a time, in submission
    /// order, across servers. On every claim the job's own leftover
    /// `Building` versions (a dead server's half-written load, or this
    /// server's own run that failed while the database was away) are
    /// dropped in the same transaction, so the job starts clean. A server
    /// claims a job only when it runs none of it itself.
    ///
    /// PostgreSQL: one transaction: for a data-source job,
    /// `pg_advisory_xact_lock(account_id, hashtext(name_key))` so two
    /// servers cannot both pass the one-at-a-time check; then `SELECT …
    /// FROM jobs WHERE id = $1 AND status = 'Pending' FOR UPDATE SKIP
    /// LOCKED` (a row another server is claiming is simply not claimable
    /// now), the check, `UPDATE jobs SET claimed_by = $2, lease_until =
    /// now() + $3`, and the `DELETE` of its building versions.
    fn claim_job(&self, job: &JobId, worker: &WorkerId, lease: Duration) -> StoreResult<bool>;
    /// Extends to `lease` from now the lease of every `Pending` job that
    /// `worker` holds, and returns those jobs' ids (a running job missing
    /// from the list was taken over: its commit will be refused). An expired
    /// lease not yet taken over is renewed too. PostgreSQL: `UPDATE jobs SET
    /// lease_until = now() + $2 WHERE claimed_by = $1 AND status = 'Pending'
    /// RETURNING id`.
    fn renew_claims(&self, worker: &WorkerId, lease: Duration) -> StoreResult<Vec<JobId>>;
    /// Gives up `worker`'s claim on a `Pending` job (shutdown: the job stays
    /// `Pending` and any server may claim it at once). Nothing happens when
    /// `worker` does not hold it.
    fn release_claim(&self, job: &JobId, worker: &WorkerId) -> StoreResult<()>;
    /// Records a running job's counts so far (total = processed, as a
    /// running job's status shows them), so that a status request on
    /// another server shows them too. Only while `worker` holds the claim
    /// and the job is `Pending`; otherwise nothing happens. Advisory: not
    /// synced to disk, and the job's end overwrites them.
    fn record_progress(&self, job: &JobId, worker: &WorkerId, processed: u64, failed: u64) -> StoreResult<()>;
    /// Releases every claim, whoever holds it; returns how many. Only for a
    /// store that one server uses at a time (SQLite, behind the data dir's
    /// lock): at its start, every claim is a dead run's, and waiting for
    /// their leases would only delay recovery. A server sharing its store
    /// never calls it.
    fn release_all_claims(&self) -> StoreResult<u64>;

    /// [`Store::insert_job`] if the account is within `quota`, checked in
    /// the insert's transaction (see [`JobQuota`] for what is counted), so
    /// that concurrent submits on any number of servers never pass a limit
    /// together; `Ok(Err(refusal))` inserts nothing. PostgreSQL:
    /// `pg_advisory_xact_lock(account_id)` (serialises one account's
    /// inserts), then the counts and the `INSERT`, in one transaction.
    fn insert_job_within(&self, job: &Job, quota: &JobQuota) -> StoreResult<Result<(), QuotaRefusal>>;

    /// The change counter: a number that grows (by one or more) in the same
    /// transaction as every commit that changes what a server caches: data
    /// sources and their published, staged or kept versions, visibility,
    /// master and query keys, and keys themselves ([`Store::commit_load`],
    /// [`Store::commit_change`], [`Store::drop_staged_before`] when it
    /// drops one, [`Store::revoke_key`], [`Store::add_key`] and
    /// [`Store::add_labelled_key`]). Never decreases.
    /// PostgreSQL: a one-row table bumped with `UPDATE … SET counter =
    /// counter + 1`, and `NOTIFY sds_changes` in the same transaction.
    fn change_counter(&self) -> StoreResult<u64>;
    /// Waits until the change counter is above `after` or `timeout` passed,
    /// and returns the counter then (`<= after` on timeout). SQLite polls
    /// the counter every few tens of milliseconds; PostgreSQL `LISTEN
    /// sds_changes` and reads the counter on a notification or the timeout
    /// (a lost notification then costs at most `timeout`).
    fn wait_for_change(&self, after: u64, timeout: Duration) -> StoreResult<u64>;
}
