//! Running a download job: point at the version's kept output in that
//! format if there is one (see [`super::output_cache`]); else stream the
//! version's entities into the format's file (written aside, synced, kept
//! for the next download, then renamed), then complete.

use std::fs::File;
use std::io::{self, BufWriter};

use chrono::Utc;
use sds_core::job::{DownloadParams, JobOutcome};
use sds_core::{DownloadFormat, Entity, Job, JobStatus, VersionState};
use sds_formats::geojson::GeoJsonWriter;
use sds_formats::text::CsvWriter;
use sds_formats::xml_dataset::DataSetWriter;

use super::output_cache::{self, OutputKey};
use super::{download_path, EngineError, EngineInner};

/// Makes a new name in the folder survive a power loss; best effort.
fn sync_dir(dir: &std::path::Path) {
    let _ = File::open(dir).and_then(|dir| dir.sync_all());
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
        store.finish_job(&job.id, &finish(JobStatus::Aborted, 0, Some(message)), &[])?;
        return Ok(());
    };
    let downloads_dir = &inner.settings.downloads_dir;
    let target = download_path(downloads_dir, &job.id, params.format);
    let entry = OutputKey::new(&source, &version, params.format).path(downloads_dir);
    // A Building version may still change: never kept (no download route
    // names one, but a job must not trust that).
    let keepable = version.state != VersionState::Building;
    let pointer = output_cache::pointer_path(downloads_dir, &job.id, params.format);
    if keepable && output_cache::hand_out(&entry, &pointer)? {
        tracing::info!(version = %version.id, format = params.format.extension(), "download served from the kept output");
        sync_dir(downloads_dir);
        store.finish_job(&job.id, &finish(JobStatus::Completed, version.entity_count, None), &[])?;
        return Ok(());
    }
    let partial = target.with_extension("part");
    let file = BufWriter::with_capacity(1 << 20, File::create(&partial)?);
    let (name, schema) = (source.name.as_str(), &version.schema);
    let visit = |visit: &mut dyn FnMut(Entity) -> io::Result<()>| store.for_each_entity(version.id, visit);
    let (count, file) = match params.format {
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
    drop(file);
    if keepable {
        // Kept before the rename, so a crash never leaves a torn entry:
        // the link appears whole or not at all.
        if let Err(error) = output_cache::keep(&partial, &entry) {
            tracing::warn!(%error, "could not keep the download output for the next download");
        }
    }
    std::fs::rename(&partial, &target)?;
    sync_dir(downloads_dir);
    store.finish_job(&job.id, &finish(JobStatus::Completed, count, None), &[])?;
    Ok(())
}
