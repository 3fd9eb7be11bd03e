//! Running a download job: stream the version's entities into an XML
//! DataSet file (written aside, synced, then renamed), then complete.

use std::fs::File;
use std::io::{self, BufWriter};

use chrono::Utc;
use sds_core::job::{DownloadParams, JobOutcome};
use sds_core::{DownloadFormat, Entity, Job, JobStatus};
use sds_formats::geojson::GeoJsonWriter;
use sds_formats::text::CsvWriter;
use sds_formats::xml_dataset::DataSetWriter;

use super::{download_path, EngineError, EngineInner};

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
        store.finish_job(&job.id, &finish(JobStatus::Aborted, 0, Some(message)), &[])?;
        return Ok(());
    };
    let target = download_path(&inner.settings.downloads_dir, &job.id, params.format);
    let partial = target.with_extension("part");
    let written = write_output(inner, &partial, &source.name, &version, params.format);
    let count = match written {
        Ok(count) => count,
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            // Stopped for shutdown: the job stays `Pending`.
            return Err(if inner.check_stop().is_err() { EngineError::Stopped } else { error });
        }
    };
    std::fs::rename(&partial, &target)?;
    let _ = File::open(&inner.settings.downloads_dir).and_then(|dir| dir.sync_all());
    store.finish_job(&job.id, &finish(JobStatus::Completed, count, None), &[])?;
    Ok(())
}

/// Writes the version's entities to `partial` in `format`, synced;
/// returns how many. Stops with an error on shutdown (checked every few
/// thousand entities).
fn write_output(
    inner: &EngineInner,
    partial: &std::path::Path,
    name: &str,
    version: &sds_core::Version,
    format: DownloadFormat,
) -> Result<u64, EngineError> {
    let store = inner.store.as_ref();
    let file = BufWriter::with_capacity(1 << 20, File::create(partial)?);
    let schema = &version.schema;
    // Checked every few thousand entities: on shutdown the partial file
    // goes and the job stays `Pending`, to run again at the next start.
    let mut seen = 0u32;
    let mut stop_point = move || {
        seen = seen.wrapping_add(1);
        if seen.is_multiple_of(4096) && inner.check_stop().is_err() {
            return Err(io::Error::other(EngineError::Stopped));
        }
        Ok(())
    };
    let mut visit = |visit: &mut dyn FnMut(Entity) -> io::Result<()>| {
        store.for_each_entity(version.id, &mut |entity| {
            stop_point()?;
            visit(entity)
        })
    };
    let (count, file) = match format {
        DownloadFormat::Xml => {
            let mut writer = DataSetWriter::new(file, name, schema)?;
            (visit(&mut |entity| writer.write_entity(&entity))?, writer.finish()?)
        }
        DownloadFormat::GeoJson => {
            let mut writer = GeoJsonWriter::new(file, name, schema)?;
            (visit(&mut |entity| writer.write_entity(&entity))?, writer.finish()?)
        }
        DownloadFormat::Csv => {
            let mut writer = CsvWriter::new(file, name, schema)?;
            (visit(&mut |entity| writer.write_entity(&entity))?, writer.finish()?)
        }
    };
    let file = file.into_inner().map_err(|error| error.into_error())?;
    file.sync_all()?;
    Ok(count)
}
