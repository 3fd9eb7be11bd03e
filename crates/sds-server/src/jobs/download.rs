//! Running a download job: point at the version's kept output in that
//! format if there is one (see [`super::output_cache`]); else write the
//! version's entities into the format's file (written locally, synced,
//! stored as the job's output payload), complete, and then keep the file
//! for the next download (`keeping`). The entities come from the version's query table when
//! one is at hand (`from_table`: no decoding, two formatting threads), else
//! from the store, and then the table is built on the way and handed to
//! the query cache.

use std::fs::File;
use std::io::{self, BufWriter};
use std::time::Instant;

use chrono::Utc;
use sds_core::job::{DownloadParams, JobOutcome};
use sds_core::{DataSource, DownloadFormat, Entity, Job, JobStatus, VersionId, VersionState};
use sds_formats::geojson::GeoJsonWriter;
use sds_formats::text::CsvWriter;
use sds_formats::xml_dataset::DataSetWriter;
use sds_query::TableBuilder;

use super::load_table::BoundedTable;
use super::output_cache::OutputKey;
use super::{partial_output_path, EngineError, EngineInner};
use crate::query_cache::TableKey;

/// Entities handed from the reading thread to the writing one at a time.
const HANDOFF_BATCH: usize = 1024;

mod early_sync;
mod from_table;
mod keeping;

use early_sync::EarlySyncFile;

/// A version's entities in key order, read and decoded on a second thread
/// while `visit` formats them on this one (a download is otherwise half
/// reading, half writing, one after the other). At most four batches wait
/// between the two, so memory stays bounded whatever the version's size.
/// An error from `visit` stops the reader.
fn for_each_entity(
    store: &dyn sds_store::Store,
    version: VersionId,
    visit: &mut dyn FnMut(Entity) -> io::Result<()>,
) -> Result<u64, EngineError> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Vec<Entity>>(4);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(HANDOFF_BATCH);
            let stopped = || io::Error::other("the download writer stopped");
            let count = store.for_each_entity(version, &mut |entity| {
                batch.push(entity);
                if batch.len() == HANDOFF_BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(HANDOFF_BATCH));
                    sender.send(full).map_err(|_| stopped())?;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                sender.send(batch).map_err(|_| stopped())?;
            }
            Ok::<u64, EngineError>(count)
        });
        let mut written = Ok(());
        for batch in receiver.iter() {
            written = batch.into_iter().try_for_each(&mut *visit);
            if written.is_err() {
                break;
            }
        }
        // Dropping the receiver makes a reader still sending stop.
        drop(receiver);
        let read = reader.join().map_err(|_| io::Error::other("the download reader panicked"))?;
        written?;
        read
    })
}

pub(super) fn run(inner: &EngineInner, job: &Job, params: &DownloadParams) -> Result<(), EngineError> {
    let store = inner.store.as_ref();
    let finish = |status, total, error_message| JobOutcome {
        status,
        completed: Utc::now(),
        total_entity_count: total,
        processed_entity_count: 0,
        failed_entity_count: 0,
        error_message,
    };
    let source = store.data_source_by_access_id(&params.access_id)?;
    // The version must still belong to that data source.
    let version = store
        .version(params.version_id)?
        .filter(|version| source.as_ref().is_some_and(|source| version.data_source_id == Some(source.id)));
    let (Some(source), Some(version)) = (source, version) else {
        let message = "the data source version to download no longer exists".to_owned();
        store.finish_job(&job.id, &finish(JobStatus::Aborted, 0, Some(message)), &[], inner.claim())?;
        return Ok(());
    };
    let payloads = inner.payloads.as_ref();
    let extension = params.format.extension();
    let entry = OutputKey::new(&source, &version, params.format).name();
    // A Building version may still change: never kept (no download route
    // names one, but a job must not trust that).
    let keepable = version.state != VersionState::Building;
    if keepable {
        // A download of this server that completed a moment ago may still
        // be storing this entry (see below): wait for it rather than write
        // the same output again.
        keeping::wait_for(&entry);
    }
    if keepable && payloads.point_to_kept(&job.id, extension, &entry)? {
        tracing::info!(version = %version.id, format = extension, "download served from the kept output");
        store.finish_job(&job.id, &finish(JobStatus::Completed, version.entity_count, None), &[], inner.claim())?;
        return Ok(());
    }
    let partial = partial_output_path(&inner.settings.downloads_dir, &job.id);
    let written = write_output(inner, &partial, &source, &version, params.format);
    let (count, built) = match written {
        Ok(written) => written,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            // Stopped for shutdown: the job stays `Pending`.
            return Err(if inner.check_stop().is_err() { EngineError::Stopped } else { error });
        }
    };
    // The job's output is stored and the job completed first; the copy
    // kept for the version's next download is stored after, off the
    // client's path: with outputs in PostgreSQL that is a second whole
    // write of the bytes (about 300 ms for the cities' 29 MB of XML). A
    // second name for the file (a hard link, `{job}.keep.part`: a scratch
    // file, removed at start should the server die before it goes)
    // outlives `put_output`, which consumes the first. Either way an entry
    // appears whole or not at all (`PayloadStore::keep_output`).
    let keep = keepable.then(|| keeping::Keep::start(&entry, &partial)).flatten();
    let started = Instant::now();
    if let Err(error) = payloads.put_output(&job.id, extension, &partial) {
        let _ = std::fs::remove_file(&partial);
        return Err(error.into());
    }
    let stored = started.elapsed();
    store.finish_job(&job.id, &finish(JobStatus::Completed, count, None), &[], inner.claim())?;
    if let Some(keep) = keep {
        keep.finish(payloads);
    }
    tracing::info!(
        put_ms = stored.as_secs_f64() * 1e3,
        keep_ms = (started.elapsed() - stored).as_secs_f64() * 1e3,
        "download output stored"
    );
    // After the job completed: its client need not wait for this.
    if let Some(builder) = built {
        let table = builder.finish();
        // A snapshot is read back with the stored count (see routes/query).
        if table.len() as u64 == version.entity_count {
            let key = TableKey { data_source: source.id, version: version.id };
            inner.watcher.table_built(store, key, version.state == VersionState::Staged, table);
        }
    }
    Ok(())
}

/// Writes the version's entities to `partial` in `format`, synced;
/// returns how many. From the version's query table when one is at hand
/// (cached or snapshotted, see [`from_table`]), else from the store, and
/// then, for the published or staged version, builds its table on the
/// way (returned), so that the next download in another format, and the
/// next query, need not read the store again. Stops with an error on
/// shutdown (checked every few thousand entities).
fn write_output(
    inner: &EngineInner,
    partial: &std::path::Path,
    source: &DataSource,
    version: &sds_core::Version,
    format: DownloadFormat,
) -> Result<(u64, Option<TableBuilder>), EngineError> {
    let started = Instant::now();
    let key = TableKey { data_source: source.id, version: version.id };
    // `Some(staged)` for the published or staged version, whose table is
    // kept for the next job and query; `None` for an older one.
    let keep = match version.state {
        VersionState::Published => Some(false),
        VersionState::Staged => Some(true),
        _ => None,
    };
    let table = inner.watcher.table_at_hand(key, keep, &version.schema, version.entity_count);
    let from = if table.is_some() { "table" } else { "store" };
    let file = EarlySyncFile::new(File::create(partial)?);
    let (count, file, built) = match table {
        Some(table) => (table.len() as u64, write_from_table(inner, file, &source.name, &table, format)?, None),
        None => {
            let budget = inner.watcher.table_budget();
            let table = keep.map(|_| BoundedTable::new(&version.schema, version.entity_count, budget));
            write_from_store(inner, file, &source.name, version, format, table)?
        }
    };
    let written = started.elapsed();
    file.finish()?;
    tracing::info!(
        from,
        format = format.extension(),
        entities = count,
        write_ms = written.as_secs_f64() * 1e3,
        sync_ms = (started.elapsed() - written).as_secs_f64() * 1e3,
        "download output written"
    );
    Ok((count, built))
}

/// The stop point for shutdown: on shutdown the partial file goes and the
/// job stays `Pending`, to run again at the next start.
fn check_stop(inner: &EngineInner) -> io::Result<()> {
    inner.check_stop().map_err(|_| io::Error::other(EngineError::Stopped))
}

fn write_from_table(
    inner: &EngineInner,
    file: EarlySyncFile,
    name: &str,
    table: &sds_query::Table,
    format: DownloadFormat,
) -> Result<EarlySyncFile, EngineError> {
    // Chunks of rows are larger than the buffer and go to the file as they
    // are; the buffer only gathers the head and the tail.
    let file = BufWriter::with_capacity(64 << 10, file);
    let schema = table.schema();
    let mut check = || check_stop(inner);
    let file = match format {
        DownloadFormat::Xml => {
            let mut writer = DataSetWriter::new(file, name, schema)?;
            let rows = writer.rows();
            from_table::write_rows(table, &rows, &mut check, &mut |text| writer.write_formatted(text))?;
            writer.finish()?
        }
        DownloadFormat::GeoJson => {
            let mut writer = GeoJsonWriter::new(file, name, schema)?;
            let rows = writer.rows();
            from_table::write_rows(table, &rows, &mut check, &mut |text| writer.write_formatted(text))?;
            writer.finish()?
        }
        DownloadFormat::Csv => {
            let mut writer = CsvWriter::new(file, name, schema)?;
            let rows = writer.rows();
            from_table::write_rows(table, &rows, &mut check, &mut |text| writer.write_formatted(text))?;
            writer.finish()?
        }
    };
    Ok(file.into_inner().map_err(|error| error.into_error())?)
}

fn write_from_store(
    inner: &EngineInner,
    file: EarlySyncFile,
    name: &str,
    version: &sds_core::Version,
    format: DownloadFormat,
    mut table: Option<BoundedTable>,
) -> Result<(u64, EarlySyncFile, Option<TableBuilder>), EngineError> {
    let store = inner.store.as_ref();
    let file = BufWriter::with_capacity(1 << 20, file);
    let schema = &version.schema;
    let mut seen = 0u32;
    let mut stop_point = move || {
        seen = seen.wrapping_add(1);
        if seen.is_multiple_of(4096) {
            check_stop(inner)?;
        }
        Ok::<(), io::Error>(())
    };
    let mut visit = |write: &mut dyn FnMut(&Entity) -> io::Result<()>| {
        for_each_entity(store, version.id, &mut |entity| {
            stop_point()?;
            write(&entity)?;
            if let Some(table) = &mut table {
                table.push(entity);
            }
            Ok(())
        })
    };
    let (count, file) = match format {
        DownloadFormat::Xml => {
            let mut writer = DataSetWriter::new(file, name, schema)?;
            (visit(&mut |entity| writer.write_entity(entity))?, writer.finish()?)
        }
        DownloadFormat::GeoJson => {
            let mut writer = GeoJsonWriter::new(file, name, schema)?;
            (visit(&mut |entity| writer.write_entity(entity))?, writer.finish()?)
        }
        DownloadFormat::Csv => {
            let mut writer = CsvWriter::new(file, name, schema)?;
            (visit(&mut |entity| writer.write_entity(entity))?, writer.finish()?)
        }
    };
    let builder = table.and_then(BoundedTable::into_builder);
    Ok((count, file.into_inner().map_err(|error| error.into_error())?, builder))
}
