//! Dataflow jobs. Only `Pending`, `Completed` and `Aborted` are ever stored:
//! progress of a running job lives in memory (in the server's job engine),
//! so a crash leaves the job `Pending` and it simply runs again.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AccessId, AccountId, JobId, KeyId, VersionId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobStatus {
    Pending,
    Completed,
    Aborted,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "Pending",
            JobStatus::Completed => "Completed",
            JobStatus::Aborted => "Aborted",
        }
    }
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobStatus {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [JobStatus::Pending, JobStatus::Completed, JobStatus::Aborted]
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or_else(|| format!("unknown job status '{text}'"))
    }
}

/// What a job does. `as_str` is the SDS job type name (the job list's
/// `description`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum JobKind {
    LoadComplete,
    LoadIncremental,
    LoadCompleteStaging,
    LoadIncrementalStaging,
    Download,
    PublishFromStaged,
    Rollback,
    Delete,
    Access,
}

impl JobKind {
    pub const ALL: [JobKind; 9] = [
        JobKind::LoadComplete,
        JobKind::LoadIncremental,
        JobKind::LoadCompleteStaging,
        JobKind::LoadIncrementalStaging,
        JobKind::Download,
        JobKind::PublishFromStaged,
        JobKind::Rollback,
        JobKind::Delete,
        JobKind::Access,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            JobKind::LoadComplete => "DataSourceComplete",
            JobKind::LoadIncremental => "DataSourceIncremental",
            JobKind::LoadCompleteStaging => "DataSourceCompleteStaging",
            JobKind::LoadIncrementalStaging => "DataSourceIncrementalStaging",
            JobKind::Download => "DataSourceDownload",
            JobKind::PublishFromStaged => "DataSourcePublishFromStaged",
            JobKind::Rollback => "DataSourceRollback",
            JobKind::Delete => "DataSourceDelete",
            JobKind::Access => "DataSourceAccess",
        }
    }

    pub fn for_load(operation: LoadOperation) -> JobKind {
        match operation {
            LoadOperation::Complete => JobKind::LoadComplete,
            LoadOperation::Incremental => JobKind::LoadIncremental,
            LoadOperation::CompleteStaging => JobKind::LoadCompleteStaging,
            LoadOperation::IncrementalStaging => JobKind::LoadIncrementalStaging,
        }
    }
}

impl fmt::Display for JobKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for JobKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        JobKind::ALL.into_iter().find(|kind| kind.as_str() == text).ok_or_else(|| format!("unknown job kind '{text}'"))
    }
}

/// The `loadOperation` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LoadOperation {
    Complete,
    Incremental,
    CompleteStaging,
    IncrementalStaging,
}

impl LoadOperation {
    /// Case-insensitive; the docs also spell the staging forms `…Staged`.
    pub fn parse(text: &str) -> Option<LoadOperation> {
        let operation = match text.to_ascii_lowercase().as_str() {
            "complete" => LoadOperation::Complete,
            "incremental" => LoadOperation::Incremental,
            "completestaging" | "completestaged" => LoadOperation::CompleteStaging,
            "incrementalstaging" | "incrementalstaged" => LoadOperation::IncrementalStaging,
            _ => return None,
        };
        Some(operation)
    }

    pub fn is_incremental(self) -> bool {
        matches!(self, LoadOperation::Incremental | LoadOperation::IncrementalStaging)
    }

    pub fn is_staging(self) -> bool {
        matches!(self, LoadOperation::CompleteStaging | LoadOperation::IncrementalStaging)
    }
}

/// The `input` parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InputFormat {
    Xml,
    Csv,
    Tab,
    Pipe,
    Kml,
    Shp,
    /// An extension: a GeoJSON FeatureCollection.
    GeoJson,
}

impl InputFormat {
    pub fn parse(text: &str) -> Option<InputFormat> {
        let format = match text.to_ascii_lowercase().as_str() {
            "xml" => InputFormat::Xml,
            "csv" => InputFormat::Csv,
            "tab" => InputFormat::Tab,
            "pipe" => InputFormat::Pipe,
            "kml" => InputFormat::Kml,
            "shp" => InputFormat::Shp,
            "geojson" => InputFormat::GeoJson,
            _ => return None,
        };
        Some(format)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Xml => "xml",
            InputFormat::Csv => "csv",
            InputFormat::Tab => "tab",
            InputFormat::Pipe => "pipe",
            InputFormat::Kml => "kml",
            InputFormat::Shp => "shp",
            InputFormat::GeoJson => "geojson",
        }
    }
}

/// What a load job was asked to do; persisted with the job so that a
/// restart re-runs it exactly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoadParams {
    pub operation: LoadOperation,
    pub input: InputFormat,
    /// `setPublic`, when given.
    pub set_public: Option<bool>,
    /// The query key to set, when given.
    pub query_key: Option<KeyId>,
    /// The `description` parameter, when given.
    pub description: Option<String>,
    /// The data source this load targets when it existed at submission
    /// (incremental loads must name an existing one).
    pub access_id: Option<AccessId>,
    /// Where to fetch the input from instead of the request body.
    #[serde(default)]
    pub data_location: Option<String>,
    /// GeoJSON: the feature property that holds the entity ID (default: the
    /// feature's `id`).
    #[serde(default)]
    pub id_property: Option<String>,
}

impl LoadParams {
    /// A load of `input` by `operation`, with none of the optional
    /// parameters (`setPublic`, `queryKey`, `description`, …).
    pub fn plain(operation: LoadOperation, input: InputFormat) -> LoadParams {
        LoadParams {
            operation,
            input,
            set_public: None,
            query_key: None,
            description: None,
            access_id: None,
            data_location: None,
            id_property: None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DownloadParams {
    pub access_id: AccessId,
    /// The version to download, fixed when the job is created.
    pub version_id: VersionId,
    /// What to write; SDS only had the XML DataSet.
    #[serde(default)]
    pub format: DownloadFormat,
}

/// The `format` of a download job: the SDS XML DataSet, or (extensions)
/// GeoJSON and the SDS CSV text schema.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DownloadFormat {
    #[default]
    Xml,
    GeoJson,
    Csv,
}

impl DownloadFormat {
    pub fn parse(text: &str) -> Option<DownloadFormat> {
        let format = match text.to_ascii_lowercase().as_str() {
            "xml" => DownloadFormat::Xml,
            "geojson" => DownloadFormat::GeoJson,
            "csv" => DownloadFormat::Csv,
            _ => return None,
        };
        Some(format)
    }

    /// The output file's extension.
    pub fn extension(self) -> &'static str {
        match self {
            DownloadFormat::Xml => "xml",
            DownloadFormat::GeoJson => "geojson",
            DownloadFormat::Csv => "csv",
        }
    }
}

/// Which data source a lifecycle job changes, fixed when it is created.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetParams {
    pub access_id: AccessId,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JobParams {
    Load(LoadParams),
    Download(DownloadParams),
    /// Publish the staged version.
    Publish(TargetParams),
    /// Make the version that `version_job` produced the published one.
    Rollback {
        target: TargetParams,
        version_job: JobId,
    },
    /// Make the data source public or private.
    Access {
        target: TargetParams,
        public: bool,
    },
    /// Delete the data source, or only its staged version.
    Delete {
        target: TargetParams,
        staged_only: bool,
    },
}

impl JobParams {
    /// The data source a job changes or reads, when it existed at submission.
    pub fn access_id(&self) -> Option<&AccessId> {
        match self {
            JobParams::Load(params) => params.access_id.as_ref(),
            JobParams::Download(params) => Some(&params.access_id),
            JobParams::Publish(target)
            | JobParams::Rollback { target, .. }
            | JobParams::Access { target, .. }
            | JobParams::Delete { target, .. } => Some(&target.access_id),
        }
    }

    /// Whether the job changes its data source (and so must run alone on it).
    pub fn changes_data_source(&self) -> bool {
        !matches!(self, JobParams::Download(_))
    }
}

/// A job as stored.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub account_id: AccountId,
    /// The key that created it: it becomes the master key of a new data source.
    pub key_id: KeyId,
    pub kind: JobKind,
    pub status: JobStatus,
    pub data_source_name: String,
    pub params: JobParams,
    pub created: DateTime<Utc>,
    pub completed: Option<DateTime<Utc>>,
    pub total_entity_count: u64,
    pub processed_entity_count: u64,
    pub failed_entity_count: u64,
    pub error_message: Option<String>,
    /// Set on completed loads: the access id of the data source it loaded.
    pub result_access_id: Option<AccessId>,
}

impl Job {
    /// A new job as it is submitted: a fresh random id, `Pending`, created
    /// now, no counts, no outcome.
    pub fn pending(
        account_id: AccountId,
        key_id: KeyId,
        kind: JobKind,
        data_source_name: impl Into<String>,
        params: JobParams,
    ) -> Job {
        Job {
            id: JobId::generate(),
            account_id,
            key_id,
            kind,
            status: JobStatus::Pending,
            data_source_name: data_source_name.into(),
            params,
            created: Utc::now(),
            completed: None,
            total_entity_count: 0,
            processed_entity_count: 0,
            failed_entity_count: 0,
            error_message: None,
            result_access_id: None,
        }
    }
}

/// One row a load skipped, as listed at the job's `failed` output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailedEntity {
    /// 1-based line (text formats) or entity position (XML) in the input.
    pub line: u64,
    pub entity_id: Option<String>,
    pub reason: String,
}

/// How a job ended, with its counts.
#[derive(Clone, Debug, PartialEq)]
pub struct JobOutcome {
    pub status: JobStatus,
    pub completed: DateTime<Utc>,
    pub total_entity_count: u64,
    pub processed_entity_count: u64,
    pub failed_entity_count: u64,
    pub error_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_round_trip() {
        for kind in JobKind::ALL {
            assert_eq!(kind.as_str().parse::<JobKind>().unwrap(), kind);
        }
        assert_eq!("Aborted".parse::<JobStatus>().unwrap(), JobStatus::Aborted);
    }

    #[test]
    fn load_operation_is_case_insensitive_with_doc_aliases() {
        assert_eq!(LoadOperation::parse("Complete"), Some(LoadOperation::Complete));
        assert_eq!(LoadOperation::parse("INCREMENTAL"), Some(LoadOperation::Incremental));
        assert_eq!(LoadOperation::parse("completeStaged"), Some(LoadOperation::CompleteStaging));
        assert_eq!(LoadOperation::parse("replace"), None);
        assert_eq!(InputFormat::parse("CSV"), Some(InputFormat::Csv));
        assert_eq!(InputFormat::parse("json"), None);
    }
}
