//! Running a load job: read the spooled input as a stream, type each row,
//! write a new version in batches, then publish it and complete the job in
//! one transaction. Row problems are counted and listed; document problems
//! abort the job, and an aborted job never touches the published version.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use chrono::Utc;
use sds_core::entity::BuiltRecord;
use sds_core::job::{FailedEntity, JobOutcome};
use sds_core::{AccessId, EntityBuilder, EntityError, InputFormat, Job, JobStatus, LoadParams, VersionId};
use sds_formats::PathReaderOptions;
use sds_formats::Record;
use sds_store::{LoadCommit, StoreError};

use super::load_table::{self, Gathered};
use super::{input, EngineError, EngineInner, Progress};
use crate::query_cache::TableKey;
use crate::routes::PREVIOUS_VERSIONS_KEPT;

/// Entities written per store transaction.
const BATCH_SIZE: usize = 5_000;

enum LoadError {
    /// The job ends `Aborted` with this message.
    Abort(String),
    Store(StoreError),
    /// Shutdown: the job stays `Pending` and its input spooled.
    Stopped,
}

impl From<StoreError> for LoadError {
    fn from(error: StoreError) -> Self {
        LoadError::Store(error)
    }
}

struct LoadRun<'a> {
    inner: &'a EngineInner,
    job: &'a Job,
    params: &'a LoadParams,
    progress: &'a Progress,
    version: Option<VersionId>,
    processed: u64,
    failed: u64,
    failures: Vec<FailedEntity>,
    /// Entity keys met in this upload: a second row with the same ID fails.
    /// foldhash's seeded quality hasher: several times SipHash's speed on
    /// short keys, still seeded per process against crafted collisions.
    seen: HashSet<String, foldhash::quality::RandomState>,
    upserts: u64,
    /// The new version's query table, built once its entities are written
    /// (see `load_table`), on a thread of its own while the store commits
    /// the version; handed to the query cache once it is committed.
    table: Option<VersionTable>,
}

pub(super) fn run(inner: &EngineInner, job: &Job, params: &LoadParams, progress: &Progress) -> Result<(), EngineError> {
    // Local scratch files: a fetched `dataLocation` input, an unzipped one.
    let fetched = inner.settings.spool_dir.join(format!("{}.fetched", job.id));
    let scratch = inner.settings.spool_dir.join(format!("{}.unzipped", job.id));
    let mut run = LoadRun {
        inner,
        job,
        params,
        progress,
        version: None,
        processed: 0,
        failed: 0,
        failures: Vec::new(),
        seen: HashSet::default(),
        upserts: 0,
        table: None,
    };
    let result = run.execute(&fetched, &scratch);
    let _ = std::fs::remove_file(&scratch);
    let _ = std::fs::remove_file(&fetched);
    let store = inner.store.as_ref();
    match result {
        Ok(version) => {
            let outcome = run.outcome(JobStatus::Completed, None);
            // A new data source adopts the load's accessId when it gave one
            // (checked unused when the job was created); an existing one
            // keeps its own, which the route already matched.
            let new_access_id = params.access_id.clone().unwrap_or_else(AccessId::generate);
            let commit = LoadCommit {
                job_id: &job.id,
                version_id: version,
                account_id: job.account_id,
                data_source_name: &job.data_source_name,
                new_access_id: &new_access_id,
                master_key: job.key_id,
                query_key: params.query_key,
                set_public: params.set_public,
                description: params.description.as_deref(),
                stage: params.operation.is_staging(),
                previous_versions_kept: PREVIOUS_VERSIONS_KEPT,
                outcome: &outcome,
                failures: &run.failures,
                worker: inner.claim(),
            };
            let source = match inner.committing(|| store.commit_load(&commit)) {
                Ok(source) => source,
                // Another data source took the adopted accessId while this
                // job ran: abort cleanly instead of failing the job.
                Err(StoreError::Conflict(_)) if params.access_id.is_some() => {
                    let message = format!(
                        "the accessId {new_access_id} was taken by another data source while the load ran; nothing was published"
                    );
                    tracing::info!(%message, "load aborted");
                    store.finish_job(
                        &job.id,
                        &run.outcome(JobStatus::Aborted, Some(message)),
                        &run.failures,
                        inner.claim(),
                    )?;
                    store.discard_version(version)?;
                    discard_input(inner, job);
                    return Ok(());
                }
                Err(error) => {
                    // Refused (the claim was lost, say): the version stays
                    // Building and nobody else's; drop it now.
                    let _ = store.discard_version(version);
                    return Err(error.into());
                }
            };
            tracing::info!(access_id = %source.access_id, entities = run.processed - run.failed, failed = run.failed, "load completed");
            // Only now that the version is committed (and its data source,
            // maybe new, has its id): an aborted or refused load keeps no
            // table and writes no snapshot.
            if let Some(table) = run.table.take().and_then(VersionTable::finish) {
                let key = TableKey { data_source: source.id, version };
                inner.watcher.table_built(store, key, params.operation.is_staging(), table);
            }
        }
        Err(LoadError::Abort(message)) => {
            tracing::info!(%message, "load aborted");
            let outcome = run.outcome(JobStatus::Aborted, Some(message));
            // Dropped first: if the claim was lost, the job's end is
            // refused, and the version must not stay behind either.
            if let Some(version) = run.version {
                store.discard_version(version)?;
            }
            store.finish_job(&job.id, &outcome, &run.failures, inner.claim())?;
        }
        Err(LoadError::Store(error)) => {
            if let Some(version) = run.version {
                let _ = store.discard_version(version);
            }
            return Err(error.into());
        }
        Err(LoadError::Stopped) => {
            // The version was never published; the spooled input stays for
            // the next start.
            if let Some(version) = run.version {
                store.discard_version(version)?;
            }
            return Err(EngineError::Stopped);
        }
    }
    discard_input(inner, job);
    Ok(())
}

/// The job ended: its stored input is read no more.
fn discard_input(inner: &EngineInner, job: &Job) {
    if let Err(error) = inner.payloads.discard_input(&job.id) {
        tracing::warn!(job = %job.id, %error, "could not remove the spooled input");
    }
}

impl LoadRun<'_> {
    fn outcome(&self, status: JobStatus, error_message: Option<String>) -> JobOutcome {
        JobOutcome {
            status,
            completed: Utc::now(),
            total_entity_count: self.processed,
            processed_entity_count: self.processed,
            failed_entity_count: self.failed,
            error_message,
        }
    }

    fn execute(&mut self, fetched: &std::path::Path, scratch: &std::path::Path) -> Result<VersionId, LoadError> {
        let store = self.inner.store.as_ref();
        let settings = &self.inner.settings;
        let limits = &settings.limits;
        // Held until the load ends: a copy made for this run is removed on drop.
        let stored;
        let spooled = match &self.params.data_location {
            Some(location) => {
                // Fetched on every run: a crash before the commit leaves no
                // trusted copy, and the URL is what the client acknowledged.
                settings.fetch.fetch(location, fetched).map_err(LoadError::Abort)?;
                fetched
            }
            None => {
                stored = self
                    .inner
                    .payloads
                    .input_file(&self.job.id, &settings.spool_dir)
                    .map_err(|error| LoadError::Abort(format!("the input cannot be read: {error}")))?
                    .ok_or_else(|| LoadError::Abort("the job's spooled input is missing".into()))?;
                stored.path()
            }
        };
        self.stop_point()?;
        let mut reader = match self.params.input {
            InputFormat::Kml | InputFormat::Shp | InputFormat::GeoJson => {
                let mut options = PathReaderOptions::new(&self.job.data_source_name, limits.max_upload_bytes);
                options.limits = settings.file_limits;
                if let Some(property) = &self.params.id_property {
                    options.geojson_id = sds_formats::geojson::IdSource::Property(property.clone());
                }
                sds_formats::open_path_reader_with(self.params.input, spooled, &options)
            }
            InputFormat::Xml | InputFormat::Csv | InputFormat::Tab | InputFormat::Pipe => {
                let input = input::open_input(spooled, scratch, limits.max_upload_bytes)
                    .map_err(|error| LoadError::Abort(format!("the input cannot be read: {error}")))?;
                sds_formats::open_reader(self.params.input, input)
            }
        }
        .map_err(|error| LoadError::Abort(error.to_string()))?;
        let upload = reader.schema().clone();
        let (builder, base) = if self.params.operation.is_incremental() {
            let abort = || LoadError::Abort(format!("data source '{}' no longer exists", self.job.data_source_name));
            let source =
                store.data_source_by_name(self.job.account_id, &self.job.data_source_name)?.ok_or_else(abort)?;
            // Checked at submit too; a rollback or delete may have run since.
            let published = source.incremental_base().map_err(|error| LoadError::Abort(error.to_string()))?;
            let base = store.version(published)?.ok_or_else(abort)?;
            let builder = EntityBuilder::for_incremental(upload, base.schema.clone())
                .map_err(|error| LoadError::Abort(error.to_string()))?;
            (builder, Some((source.id, base)))
        } else {
            (EntityBuilder::for_complete(upload), None)
        };
        let version = store.begin_version(&self.job.id, builder.target_schema())?;
        self.version = Some(version);
        if let Some((_, base)) = &base {
            store.copy_entities(base.id, version)?;
        }

        // The store writes each batch on a second thread while this one
        // reads and types the next: a load is otherwise about half parsing
        // and half inserting, one after the other. At most one batch waits.
        // The writer also gathers the written entities for the version's
        // table (moving them costs it nothing beside the insert).
        let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<BuiltRecord>>(1);
        let budget = self.inner.watcher.table_budget();
        let gathered = std::thread::scope(|scope| {
            let writer = scope.spawn(move || -> Result<Gathered, StoreError> {
                let mut gathered = Gathered::new(budget);
                for batch in receiver {
                    store.write_entities(version, &batch)?;
                    gathered.take(batch);
                }
                Ok(gathered)
            });
            let read = self.read_records(reader.as_mut(), &builder, base.is_none(), sender);
            let written = writer.join().map_err(|_| LoadError::Abort("the load's store writer failed".into()))?;
            // A store error explains a stopped reader better than the stop.
            let gathered = written?;
            read.map(|()| gathered)
        })?;
        self.stop_point()?;
        let mut count = None;
        if base.is_some() {
            let stored = store.count_entities(version)?;
            if stored > limits.max_entities_per_data_source {
                return Err(self.over_entity_limit(stored));
            }
            count = Some(stored);
        }
        if self.processed == 0 {
            return Err(LoadError::Abort("the input holds no entities".into()));
        }
        if self.failed == self.processed {
            let first = self.failures.first().map_or_else(String::new, |failure| {
                format!("; the first, at line {}: {}", failure.line, failure.reason)
            });
            return Err(LoadError::Abort(format!("none of the {} entities could be loaded{first}", self.processed)));
        }
        self.table = Some(match base {
            // Built while the store seals and commits the version (a
            // PostgreSQL store builds its primary key then, 0.1–0.2 s for
            // the cities): the table is needed only once it is committed.
            None => {
                let schema = builder.target_schema().clone();
                VersionTable::Building(std::thread::spawn(move || {
                    built(std::time::Instant::now(), gathered.complete(&schema))
                }))
            }
            Some(_) => VersionTable::Built(
                self.version_table(gathered, builder.target_schema(), version, base.as_ref(), count)?.map(Box::new),
            ),
        });
        Ok(version)
    }

    /// The written version's query table (see `load_table`), unless it is
    /// too large for the query cache.
    fn version_table(
        &self,
        gathered: Gathered,
        schema: &sds_core::Schema,
        version: VersionId,
        base: Option<&(sds_core::DataSourceId, sds_core::Version)>,
        count: Option<u64>,
    ) -> Result<Option<sds_query::Table>, LoadError> {
        let started = std::time::Instant::now();
        let table = match base {
            None => gathered.complete(schema),
            Some(_) if !gathered.kept() => None,
            Some((data_source, base)) => {
                let key = TableKey { data_source: *data_source, version: base.id };
                match self.inner.watcher.table_at_hand(key, None, &base.schema, base.entity_count) {
                    Some(base_table) => gathered.over(&base_table, schema),
                    None => {
                        let rows = count.unwrap_or_default();
                        Some(load_table::from_store(self.inner.store.as_ref(), version, schema, rows)?)
                    }
                }
            }
        };
        Ok(built(started, table))
    }

    /// Between batches: stops here on shutdown.
    fn stop_point(&self) -> Result<(), LoadError> {
        self.inner.check_stop().map_err(|_| LoadError::Stopped)
    }

    /// Reads and types every record, sending full batches to the store
    /// writer; stops at a document error or the entity limit, or when the
    /// writer stopped (its error is then the job's).
    fn read_records(
        &mut self,
        reader: &mut dyn sds_formats::RecordReader,
        builder: &EntityBuilder,
        complete: bool,
        sender: std::sync::mpsc::SyncSender<Vec<BuiltRecord>>,
    ) -> Result<(), LoadError> {
        let limits = &self.inner.settings.limits;
        let stopped = || LoadError::Abort("the load's store writer stopped".into());
        let mut batch = Vec::with_capacity(BATCH_SIZE);
        while let Some(record) = reader.next_record() {
            let record = record.map_err(|error| LoadError::Abort(error.to_string()))?;
            self.processed += 1;
            match self.type_record(builder, &record) {
                Ok(built) => {
                    if matches!(built, BuiltRecord::Upsert(_)) {
                        self.upserts += 1;
                    }
                    batch.push(built);
                }
                Err(reason) => self.fail(builder, &record, reason),
            }
            if self.processed.is_multiple_of(1024) {
                self.progress.processed.store(self.processed, Ordering::Relaxed);
                self.progress.failed.store(self.failed, Ordering::Relaxed);
            }
            if complete && self.upserts > limits.max_entities_per_data_source {
                return Err(self.over_entity_limit(self.upserts));
            }
            if batch.len() >= BATCH_SIZE {
                self.stop_point()?;
                let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_SIZE));
                sender.send(full).map_err(|_| stopped())?;
            }
        }
        if !batch.is_empty() {
            sender.send(batch).map_err(|_| stopped())?;
        }
        Ok(())
    }

    fn over_entity_limit(&self, count: u64) -> LoadError {
        LoadError::Abort(format!(
            "the data source would hold {count} entities, more than the limit of {} (the server's --max-entities)",
            self.inner.settings.limits.max_entities_per_data_source
        ))
    }

    fn type_record(&mut self, builder: &EntityBuilder, record: &Record) -> Result<BuiltRecord, String> {
        if let Some(problem) = &record.problem {
            return Err(problem.clone());
        }
        let built = builder.build(&record.cells).map_err(|error| error.to_string())?;
        if !self.seen.insert(sds_core::Entity::key_of(built.id())) {
            return Err(EntityError::DuplicateId(built.id().to_owned()).to_string());
        }
        Ok(built)
    }

    fn fail(&mut self, builder: &EntityBuilder, record: &Record, reason: String) {
        self.failed += 1;
        if self.failures.len() < self.inner.settings.limits.max_failures_listed as usize {
            let key_index = builder.upload_schema().key_index;
            let entity_id = record.cells.get(key_index).cloned().flatten().filter(|id| !id.is_empty());
            self.failures.push(FailedEntity { line: record.line, entity_id, reason });
        }
    }
}

/// Logs a version table the load built since `started`.
fn built(started: std::time::Instant, table: Option<sds_query::Table>) -> Option<sds_query::Table> {
    if let Some(table) = &table {
        tracing::info!(
            rows = table.len(),
            millis = started.elapsed().as_secs_f64() * 1e3,
            "the load built its version's query table"
        );
    }
    table
}

/// A load's version table: still being built on a thread of its own (a
/// complete load's, while the store commits), or built.
enum VersionTable {
    Building(std::thread::JoinHandle<Option<sds_query::Table>>),
    Built(Option<Box<sds_query::Table>>),
}

impl VersionTable {
    /// The table, once built; `None` when there is none (too large for the
    /// cache, or its builder failed).
    fn finish(self) -> Option<sds_query::Table> {
        match self {
            VersionTable::Building(thread) => thread.join().ok().flatten(),
            VersionTable::Built(table) => table.map(|table| *table),
        }
    }
}
