//! The dataflow job engine, after meilisearch's task queue: jobs are stored
//! `Pending` before the client hears of them ([`JobEngine::submit`], the one
//! way in), a loop picks pending jobs in creation order and runs a bounded
//! number at once on blocking threads, progress lives only in memory, and a
//! job's result commits in one store transaction. At start-up, half-written
//! versions are dropped and every job still `Pending` simply runs again:
//! runners are idempotent.
//!
//! Several servers may share one store. A job runs on the server that
//! claims it in the store (`Store::claim_job`, with a lease this engine
//! renews every third of `--job-lease-seconds`); its result commits only
//! while that claim holds (fencing), so a job taken over from a server that
//! stalled or died never completes twice. A dead server's jobs become
//! claimable when their leases run out; the loop looks for claimable jobs
//! every second besides being woken by local submits. Another server's
//! changes reach this one's caches through the store's change counter
//! ([`watch`]).
//!
//! On shutdown ([`JobEngine::stop`]) no job starts, and running loads and
//! downloads stop at their next batch (a safe point: nothing is committed
//! yet), drop what they wrote and stay `Pending`, so the next start runs
//! them again from their spooled input. Lifecycle jobs are one transaction
//! each and simply finish.
//!
//! Loads of the same data source run one at a time, in order, so an
//! incremental load always builds on the version before it.
//!
//! Accounts share the workers fairly: pending jobs are taken round-robin
//! by account (each account's first job, then each one's second…), and
//! one account runs at most `workers_per_account` jobs at once (by default
//! all workers but one), so however slow one account's jobs are (a
//! `dataLocation` server that dribbles), another account's job finds a
//! free worker at once.

mod addresses;
mod claims;
mod download;
pub mod fetch;
pub mod input;
mod lifecycle;
mod load;
mod load_table;
pub mod output_cache;
mod retention;
pub mod spool;
mod watch;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use sds_core::job::JobOutcome;
use sds_core::limits::Limits;
use sds_core::{AccountId, Job, JobId, JobParams, JobStatus, WorkerId};
use sds_store::{JobQuota, PayloadStore, QuotaRefusal, Store, StoreError};
use tokio::sync::Notify;

/// Why the engine could not start or run a job.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("file system error: {0}")]
    Io(#[from] std::io::Error),
    /// The server is shutting down: the job stopped at a safe point, wrote
    /// nothing that stays, and runs again at the next start.
    #[error("stopped for shutdown; the job runs again at the next start")]
    Stopped,
}

/// How often expired staged versions and download outputs are looked for.
const PURGE_INTERVAL: Duration = Duration::from_secs(3600);

/// How often the loop looks for claimable jobs without being woken: a job
/// submitted to another server, or one whose claim's lease ran out.
const POLL_INTERVAL: Duration = Duration::from_secs(1);

/// How old a stored input without a pending job must be before it is swept,
/// when servers share the store: another server stores an upload's input
/// just before it inserts the job.
const SHARED_ORPHAN_GRACE: Duration = Duration::from_secs(3600);

/// Where a download job writes its output locally before storing it.
fn partial_output_path(downloads_dir: &Path, job_id: &JobId) -> PathBuf {
    downloads_dir.join(format!("{job_id}.part"))
}

#[derive(Clone, Debug)]
pub struct EngineSettings {
    /// Local scratch folder for inputs being received or read.
    pub spool_dir: PathBuf,
    /// Local scratch folder for outputs being written.
    pub downloads_dir: PathBuf,
    /// How long this server's claim on a job lasts without renewal.
    pub lease: Duration,
    /// Whether this server is the only one using its store (SQLite, behind
    /// the data dir's lock): at start, every claim is then a dead run's and
    /// is released at once rather than waited out.
    pub sole_server: bool,
    pub limits: Limits,
    pub workers: usize,
    /// Jobs of one account that run at once (at least 1).
    pub workers_per_account: usize,
    /// How long a staged version may wait to be published.
    pub staged_retention: chrono::Duration,
    /// How long a download's output is kept; `None` keeps it.
    pub download_retention: Option<Duration>,
    /// What `dataLocation` may fetch.
    pub fetch: fetch::FetchPolicy,
    /// KML and Shapefile limits.
    pub file_limits: sds_formats::FileLimits,
}

/// Counts of a running job, shared with status requests.
#[derive(Debug, Default)]
pub struct Progress {
    pub processed: AtomicU64,
    pub failed: AtomicU64,
    /// Set once this server's claim on the job was granted: until then
    /// the job is only admitted here and may be another server's.
    claimed: AtomicBool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProgressSnapshot {
    pub processed: u64,
    pub failed: u64,
}

/// Told after a job or a purge changed the store, so that what is kept in
/// memory about versions and data sources that may be gone goes too (the
/// query cache). Runs on a blocking thread.
pub trait StoreWatcher: Send + Sync {
    fn stored_data_changed(&self, store: &dyn Store);

    /// The query table of a version of a data source, if one is at hand
    /// without reading the store (cached, or its snapshot on disk): a
    /// download writes from it. `rows` entities of `schema`, as the store
    /// records the version. `keep`: `Some(staged)` when the version is the
    /// data source's published (`false`) or staged (`true`) one, and a
    /// table read from its snapshot is then kept in the cache, as its first
    /// query would keep it; `None`: not kept (an older version must not
    /// take the current one's place).
    fn table_at_hand(
        &self,
        _key: crate::query_cache::TableKey,
        _keep: Option<bool>,
        _schema: &sds_core::Schema,
        _rows: u64,
    ) -> Option<Arc<sds_query::Table>> {
        None
    }

    /// A version's query table, built by a download that read the version
    /// from the store or by the load that wrote it (so that later
    /// downloads and queries need not); `staged` when the version is the
    /// staged one. Kept unless larger than the query cache's budget, and
    /// its snapshot written.
    fn table_built(
        &self,
        _store: &dyn Store,
        _key: crate::query_cache::TableKey,
        _staged: bool,
        _table: sds_query::Table,
    ) {
    }

    /// The bytes a table may hold to be kept by [`StoreWatcher::table_built`]
    /// (the query cache's budget); 0: none is kept, and a load need not
    /// build one.
    fn table_budget(&self) -> usize {
        0
    }
}

#[derive(Clone)]
pub struct JobEngine {
    inner: Arc<EngineInner>,
}

struct EngineInner {
    store: Arc<dyn Store>,
    payloads: Arc<dyn PayloadStore>,
    /// This server's name in job claims (random at each start).
    worker: WorkerId,
    settings: EngineSettings,
    wake: Notify,
    running: Mutex<Running>,
    /// Bumped whenever a job ends, and before and after each commit that
    /// changes a data source: data sources read before may have changed.
    generation: AtomicU64,
    /// Commits that change data sources under way (see [`JobEngine::generation`]).
    committing: AtomicUsize,
    watcher: Arc<dyn StoreWatcher>,
    /// Set once on shutdown: no job starts, running ones stop at a safe point.
    stopping: AtomicBool,
    /// Jobs that stopped at a safe point for shutdown (they stay Pending).
    stopped_for_shutdown: std::sync::atomic::AtomicUsize,
    /// Told when a job ends, for [`JobEngine::stop`].
    ended: Notify,
    /// Jobs this engine has started running (claimed), for tests.
    started: AtomicU64,
}

#[derive(Default)]
struct Running {
    jobs: HashMap<JobId, Arc<Progress>>,
    /// Data sources (account and lowercase name) with a load in progress.
    busy_sources: HashSet<String>,
    /// Running jobs per account.
    per_account: HashMap<AccountId, usize>,
}

/// Whether a pending job may start now.
#[derive(Debug, PartialEq, Eq)]
enum Admission {
    Start,
    /// Not now; a later job may.
    Skip,
    /// Every worker is busy.
    Full,
}

impl Running {
    /// Admits `job` (recording it as running) if a worker is free, its
    /// account is under its share, and its data source is not busy.
    fn admit(&mut self, job: &Job, progress: &Arc<Progress>, workers: usize, per_account: usize) -> Admission {
        if self.jobs.contains_key(&job.id) {
            return Admission::Skip;
        }
        if self.jobs.len() >= workers.max(1) {
            return Admission::Full;
        }
        if self.per_account.get(&job.account_id).copied().unwrap_or(0) >= per_account.max(1) {
            return Admission::Skip;
        }
        if let Some(key) = busy_key(job) {
            if !self.busy_sources.insert(key) {
                return Admission::Skip;
            }
        }
        *self.per_account.entry(job.account_id).or_default() += 1;
        self.jobs.insert(job.id.clone(), Arc::clone(progress));
        Admission::Start
    }

    fn release(&mut self, job: &Job) {
        self.jobs.remove(&job.id);
        if let Some(key) = busy_key(job) {
            self.busy_sources.remove(&key);
        }
        if let Some(count) = self.per_account.get_mut(&job.account_id) {
            *count -= 1;
            if *count == 0 {
                self.per_account.remove(&job.account_id);
            }
        }
    }
}

/// Pending jobs (oldest first) in round-robin order by account: every
/// account's oldest job, then every account's second oldest, and so on;
/// within one account, submission order is kept.
fn round_robin(pending: Vec<Job>) -> Vec<Job> {
    let mut taken: HashMap<AccountId, usize> = HashMap::new();
    let mut ranked: Vec<(usize, usize, Job)> = pending
        .into_iter()
        .enumerate()
        .map(|(position, job)| {
            let rank = taken.entry(job.account_id).or_default();
            *rank += 1;
            (*rank, position, job)
        })
        .collect();
    ranked.sort_by_key(|(rank, position, _)| (*rank, *position));
    ranked.into_iter().map(|(_, _, job)| job).collect()
}

impl JobEngine {
    /// Recovers from any crash, then starts the loop on the current runtime.
    pub fn start(
        store: Arc<dyn Store>,
        payloads: Arc<dyn PayloadStore>,
        settings: EngineSettings,
        watcher: Arc<dyn StoreWatcher>,
    ) -> Result<JobEngine, EngineError> {
        std::fs::create_dir_all(&settings.spool_dir)?;
        std::fs::create_dir_all(&settings.downloads_dir)?;
        if settings.sole_server {
            let released = store.release_all_claims()?;
            if released > 0 {
                tracing::info!(released, "released the claims of jobs a previous run left Pending");
            }
        }
        let dropped = store.discard_building_versions()?;
        if dropped > 0 {
            tracing::info!(dropped, "dropped versions left half-written by a crash");
        }
        remove_scratch_files(&settings);
        let grace = if settings.sole_server { Duration::ZERO } else { SHARED_ORPHAN_GRACE };
        remove_orphan_inputs(store.as_ref(), payloads.as_ref(), grace)?;
        let worker = WorkerId::generate();
        tracing::info!(%worker, lease_seconds = settings.lease.as_secs_f64(), "job engine started");
        let inner = Arc::new(EngineInner {
            store,
            payloads,
            worker,
            settings,
            wake: Notify::new(),
            running: Mutex::default(),
            generation: AtomicU64::new(0),
            committing: AtomicUsize::new(0),
            watcher,
            stopping: AtomicBool::new(false),
            stopped_for_shutdown: std::sync::atomic::AtomicUsize::new(0),
            ended: Notify::new(),
            started: AtomicU64::new(0),
        });
        // Before the first request: an expired output is never served.
        retention::sweep_downloads(&inner);
        tokio::spawn(run_loop(Arc::clone(&inner)));
        tokio::spawn(claims::renew_leases(Arc::clone(&inner)));
        if !inner.settings.sole_server {
            tokio::spawn(claims::publish_progress(Arc::clone(&inner)));
        }
        tokio::spawn(watch::watch_changes(Arc::clone(&inner)));
        Ok(JobEngine { inner })
    }

    /// Tells the loop that a job was stored.
    pub fn wake(&self) {
        self.inner.wake.notify_one();
    }

    /// The one way a job enters the engine: stores `job` (`Pending`) if the
    /// account is within `quota`, checked in the insert's transaction on
    /// any number of servers (`Store::insert_job_within`), then logs and
    /// counts it and wakes the loop. `Ok(Err(refusal))` stored nothing.
    pub async fn submit(&self, job: &Job, quota: JobQuota) -> Result<Result<(), QuotaRefusal>, EngineError> {
        let (store, stored) = (Arc::clone(&self.inner.store), job.clone());
        let inserted = tokio::task::spawn_blocking(move || store.insert_job_within(&stored, &quota))
            .await
            .map_err(std::io::Error::other)??;
        if inserted.is_ok() {
            tracing::info!(
                job = %job.id, kind = %job.kind, data_source = %job.data_source_name, state = "Pending", "job queued"
            );
            metrics::counter!(crate::observe::metrics::JOBS_SUBMITTED, "kind" => job.kind.as_str()).increment(1);
            self.wake();
        }
        Ok(inserted)
    }

    /// Where spooled inputs and download outputs are stored.
    pub fn payloads(&self) -> &Arc<dyn PayloadStore> {
        &self.inner.payloads
    }

    /// This server's name in job claims.
    pub fn worker(&self) -> &WorkerId {
        &self.inner.worker
    }

    /// Changes whenever a job ends or changes a data source, so that caches
    /// of data sources know when to read them again; `None` while such a
    /// change is being committed, when nothing read may be trusted or
    /// cached. A value read before a commit began therefore differs from
    /// every value after it: a client that saw a delete complete never gets
    /// the deleted data source from a cache.
    pub fn generation(&self) -> Option<u64> {
        if self.inner.committing.load(Ordering::SeqCst) > 0 {
            return None;
        }
        Some(self.inner.generation.load(Ordering::SeqCst))
    }

    /// What `dataLocation` may fetch.
    pub fn fetch_policy(&self) -> &fetch::FetchPolicy {
        &self.inner.settings.fetch
    }

    /// How many running jobs stopped at a safe point for shutdown; they
    /// stay `Pending` and run again at the next start.
    pub fn stopped_for_shutdown(&self) -> usize {
        self.inner.stopped_for_shutdown.load(Ordering::SeqCst)
    }

    /// Starts stopping: no pending job starts any more, and running loads
    /// and downloads stop at their next safe point, staying `Pending`.
    pub fn begin_stop(&self) {
        self.inner.stopping.store(true, Ordering::SeqCst);
        self.inner.wake.notify_one();
    }

    /// [`JobEngine::begin_stop`], then waits until no job runs or `deadline`
    /// passes; returns how many jobs still ran then. A job still running at
    /// exit is safe too: its result commits in one transaction or not at
    /// all, and it is `Pending` until then.
    pub async fn stop(&self, deadline: tokio::time::Instant) -> usize {
        self.begin_stop();
        loop {
            let ended = self.inner.ended.notified();
            let running = self.inner.running.lock().expect("the engine lock is never poisoned").jobs.len();
            if running == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return self.inner.running.lock().expect("the engine lock is never poisoned").jobs.len();
            }
        }
    }

    /// Live counts of a running job.
    pub fn progress(&self, job_id: &JobId) -> Option<ProgressSnapshot> {
        let running = self.inner.running.lock().expect("the engine lock is never poisoned");
        running.jobs.get(job_id).map(|progress| ProgressSnapshot {
            processed: progress.processed.load(Ordering::Relaxed),
            failed: progress.failed.load(Ordering::Relaxed),
        })
    }
}

impl EngineInner {
    /// The worker whose claim fences this engine's commits.
    fn claim(&self) -> Option<&WorkerId> {
        Some(&self.worker)
    }

    /// What a change to data sources, versions or keys asks of this
    /// server, whether a job here made it or the change counter showed it:
    /// data sources read before are read again (the generation), and the
    /// caches drop what the store no longer holds.
    fn stored_data_changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.watcher.stored_data_changed(self.store.as_ref());
    }

    /// `Err(Stopped)` once shutdown began: runners call it between batches,
    /// where stopping leaves nothing half-done.
    fn check_stop(&self) -> Result<(), EngineError> {
        if self.stopping.load(Ordering::Relaxed) {
            Err(EngineError::Stopped)
        } else {
            Ok(())
        }
    }

    /// Runs a store commit that changes a data source, with the generation
    /// bumped before and after and readers told not to trust caches while
    /// it runs (see [`JobEngine::generation`]).
    fn committing<T>(&self, commit: impl FnOnce() -> T) -> T {
        self.committing.fetch_add(1, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
        let result = commit();
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.committing.fetch_sub(1, Ordering::SeqCst);
        result
    }
}

/// Local files a run of this server left half-written (at start, when it
/// runs nothing): partial uploads and outputs, unzipped and fetched inputs,
/// and local copies of inputs kept in a database (`{job}.input.{pid}-{n}`;
/// the file store's own inputs are `{job}.input`, never matched).
fn remove_scratch_files(settings: &EngineSettings) {
    for dir in [&settings.spool_dir, &settings.downloads_dir] {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let scratch = [".part", ".unzipped", ".fetched"].iter().any(|suffix| name.ends_with(suffix))
                || name.contains(".input.");
            if scratch && entry.file_type().is_ok_and(|kind| kind.is_file()) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// Stored inputs older than `grace` that no pending job will read.
fn remove_orphan_inputs(store: &dyn Store, payloads: &dyn PayloadStore, grace: Duration) -> Result<(), EngineError> {
    let pending: HashSet<JobId> = store.pending_jobs()?.into_iter().map(|job| job.id).collect();
    let cutoff = std::time::SystemTime::now().checked_sub(grace);
    for (job, written) in payloads.inputs()? {
        if !pending.contains(&job) && cutoff.is_some_and(|cutoff| written <= cutoff) {
            if let Err(error) = payloads.discard_input(&job) {
                tracing::warn!(job = %job, %error, "could not remove an orphaned spooled input");
            }
        }
    }
    Ok(())
}

async fn run_loop(inner: Arc<EngineInner>) {
    let mut next_purge = tokio::time::Instant::now();
    loop {
        if let Err(error) = schedule(&inner).await {
            tracing::error!(%error, "the job engine could not read pending jobs");
        }
        if tokio::time::Instant::now() >= next_purge {
            next_purge += PURGE_INTERVAL;
            let purger = Arc::clone(&inner);
            let _ = tokio::task::spawn_blocking(move || {
                retention::drop_expired_staged(&purger);
                retention::sweep_downloads(&purger);
                let grace = if purger.settings.sole_server { Duration::ZERO } else { SHARED_ORPHAN_GRACE };
                if let Err(error) = remove_orphan_inputs(purger.store.as_ref(), purger.payloads.as_ref(), grace) {
                    tracing::error!(%error, "could not sweep orphaned spooled inputs");
                }
                purger.stored_data_changed();
            })
            .await;
        }
        // Jobs stored here wake the loop at once; the timer finds jobs
        // submitted to other servers and claims whose leases ran out.
        tokio::select! {
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep(POLL_INTERVAL) => {}
        }
    }
}

fn busy_key(job: &Job) -> Option<String> {
    job.params.changes_data_source().then(|| format!("{}:{}", job.account_id, job.data_source_name.to_lowercase()))
}

async fn schedule(inner: &Arc<EngineInner>) -> Result<(), EngineError> {
    let store = Arc::clone(&inner.store);
    let pending = tokio::task::spawn_blocking(move || store.pending_jobs()).await.map_err(std::io::Error::other)??;
    let settings = &inner.settings;
    for job in round_robin(pending) {
        if inner.stopping.load(Ordering::SeqCst) {
            break;
        }
        let progress = Arc::new(Progress::default());
        let admission = inner.running.lock().expect("the engine lock is never poisoned").admit(
            &job,
            &progress,
            settings.workers,
            settings.workers_per_account,
        );
        match admission {
            Admission::Start => {
                // Locally admitted; now the store decides whether this
                // server runs it (another may hold it, or an older job of
                // its data source still waits there).
                let claimer = Arc::clone(inner);
                let id = job.id.clone();
                let claimed = tokio::task::spawn_blocking(move || {
                    claimer.store.claim_job(&id, &claimer.worker, claimer.settings.lease)
                })
                .await
                .map_err(std::io::Error::other)?;
                match claimed {
                    Ok(true) => {
                        progress.claimed.store(true, Ordering::SeqCst);
                        tokio::spawn(run_job(Arc::clone(inner), job, progress));
                    }
                    Ok(false) => inner.running.lock().expect("the engine lock is never poisoned").release(&job),
                    Err(error) => {
                        inner.running.lock().expect("the engine lock is never poisoned").release(&job);
                        return Err(error.into());
                    }
                }
            }
            Admission::Skip => continue,
            Admission::Full => break,
        }
    }
    Ok(())
}

async fn run_job(inner: Arc<EngineInner>, job: Job, progress: Arc<Progress>) {
    inner.started.fetch_add(1, Ordering::SeqCst);
    let span = tracing::info_span!("job", id = %job.id, kind = %job.kind);
    let started = std::time::Instant::now();
    tracing::info!(parent: &span, data_source = %job.data_source_name, state = "running", "job started");
    let ended_span = span.clone();
    let worker = Arc::clone(&inner);
    let worker_job = job.clone();
    let result = tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        match &worker_job.params {
            JobParams::Load(params) => load::run(&worker, &worker_job, params, &progress),
            JobParams::Download(params) => download::run(&worker, &worker_job, params),
            _ => lifecycle::run(&worker, &worker_job),
        }
    })
    .await;
    let stopped = matches!(result, Ok(Err(EngineError::Stopped)));
    let lost = matches!(result, Ok(Err(EngineError::Store(StoreError::ClaimLost { .. }))));
    let failure = match result {
        Ok(Ok(())) => None,
        Ok(Err(EngineError::Stopped)) => {
            tracing::info!(job = %job.id, data_source = %job.data_source_name, "job stopped for shutdown; it stays Pending and runs again at the next start");
            inner.stopped_for_shutdown.fetch_add(1, Ordering::SeqCst);
            // Any server may run it at once, not only after the lease.
            let (releaser, id) = (Arc::clone(&inner), job.id.clone());
            let _ = tokio::task::spawn_blocking(move || releaser.store.release_claim(&id, &releaser.worker)).await;
            None
        }
        Ok(Err(EngineError::Store(StoreError::ClaimLost { .. }))) => {
            tracing::warn!(job = %job.id, data_source = %job.data_source_name, "another server took this job over while it ran here; this run's result is dropped");
            None
        }
        Ok(Err(error)) => Some(format!("the job failed: {error}")),
        Err(panic) => Some(format!("the job failed unexpectedly: {panic}")),
    };
    let mut lost = lost;
    if let Some(message) = failure {
        // Never leave a job Pending for ever: a job that keeps failing
        // would otherwise run again at every start.
        let store = Arc::clone(&inner.store);
        let id = job.id.clone();
        let outcome = aborted(message.clone());
        let worker = inner.worker.clone();
        let finished = tokio::task::spawn_blocking(move || store.finish_job(&id, &outcome, &[], Some(&worker))).await;
        if let Ok(Err(StoreError::ClaimLost { .. })) = finished {
            // The run failed because another server had taken the job over
            // (its version dropped under it): that server's run counts.
            tracing::warn!(job = %job.id, data_source = %job.data_source_name, %message, "another server took this job over while it ran here; this run's result is dropped");
            lost = true;
        } else {
            tracing::error!(job = %job.id, %message, "job failed");
        }
    }
    let store = Arc::clone(&inner.store);
    let id = job.id.clone();
    // A job stopped for shutdown has not ended: it stays Pending; nor has
    // one another server took over.
    if let (false, Ok(Ok(Some(ended)))) = (stopped || lost, tokio::task::spawn_blocking(move || store.job(&id)).await) {
        ended_span.in_scope(|| record_end(&ended, started.elapsed()));
    }
    if job.params.changes_data_source() {
        // The job may have dropped versions (a delete, a publish pruning
        // rollback targets, a load replacing the staged version).
        let sweeper = Arc::clone(&inner);
        let _ = tokio::task::spawn_blocking(move || retention::sweep_kept_outputs(&sweeper)).await;
    }
    let watched = Arc::clone(&inner);
    let _ = tokio::task::spawn_blocking(move || watched.stored_data_changed()).await;
    inner.running.lock().expect("the engine lock is never poisoned").release(&job);
    inner.wake.notify_one();
    inner.ended.notify_waiters();
}

/// The job's end: one log line naming its data source and state, and its
/// metrics (README, "Health and metrics").
fn record_end(job: &Job, took: Duration) {
    use crate::observe::metrics::{ENTITIES_DOWNLOADED, ENTITIES_LOADED, JOBS_FINISHED, JOB_DURATION};
    let (kind, state) = (job.kind.as_str(), job.status.as_str());
    tracing::info!(
        data_source = %job.data_source_name,
        state,
        total = job.total_entity_count,
        processed = job.processed_entity_count,
        failed = job.failed_entity_count,
        seconds = took.as_secs_f64(),
        "job ended"
    );
    metrics::counter!(JOBS_FINISHED, "kind" => kind, "state" => state).increment(1);
    metrics::histogram!(JOB_DURATION, "kind" => kind, "state" => state).record(took.as_secs_f64());
    if job.status == JobStatus::Completed {
        match job.params {
            JobParams::Load(_) => metrics::counter!(ENTITIES_LOADED)
                .increment(job.processed_entity_count.saturating_sub(job.failed_entity_count)),
            JobParams::Download(_) => metrics::counter!(ENTITIES_DOWNLOADED).increment(job.total_entity_count),
            _ => {}
        }
    }
}

fn aborted(message: String) -> JobOutcome {
    JobOutcome {
        status: JobStatus::Aborted,
        completed: Utc::now(),
        total_entity_count: 0,
        processed_entity_count: 0,
        failed_entity_count: 0,
        error_message: Some(message),
    }
}

#[cfg(test)]
mod engine_tests;
#[cfg(test)]
mod load_table_tests;
#[cfg(test)]
mod test_stores;

#[cfg(test)]
mod tests {
    use super::*;
    use sds_core::{AccessId, DownloadParams, JobKind, VersionId};

    fn download(account: i64) -> Job {
        let params = JobParams::Download(DownloadParams {
            access_id: AccessId::generate(),
            version_id: VersionId(1),
            format: sds_core::DownloadFormat::Xml,
        });
        Job::pending(AccountId(account), sds_core::KeyId(account), JobKind::Download, "Shops", params)
    }

    #[test]
    fn pending_jobs_are_taken_round_robin_by_account() {
        let jobs = [download(1), download(1), download(1), download(2), download(3), download(2)];
        let order: Vec<i64> = round_robin(jobs.to_vec()).iter().map(|job| job.account_id.0).collect();
        assert_eq!(order, [1, 2, 3, 1, 2, 1]);
        let firsts: Vec<JobId> =
            round_robin(jobs.to_vec()).into_iter().filter(|job| job.account_id.0 == 1).map(|job| job.id).collect();
        assert_eq!(firsts, [jobs[0].id.clone(), jobs[1].id.clone(), jobs[2].id.clone()], "order kept within one");
    }

    #[test]
    fn one_account_never_takes_the_last_worker() {
        let mut running = Running::default();
        let progress = Arc::new(Progress::default());
        let (first, second, other) = (download(1), download(1), download(2));
        assert_eq!(running.admit(&first, &progress, 2, 1), Admission::Start);
        assert_eq!(running.admit(&second, &progress, 2, 1), Admission::Skip, "account 1 has its share");
        assert_eq!(running.admit(&other, &progress, 2, 1), Admission::Start, "account 2 finds a worker");
        assert_eq!(running.admit(&download(3), &progress, 2, 1), Admission::Full);
        running.release(&first);
        assert_eq!(running.admit(&second, &progress, 2, 1), Admission::Start);
    }
}
