//! The calls `sds migrate` makes on the shared SDS client
//! ([`crate::client::endpoint`]), with the URL templates of the SDS docs
//! ("Get data source information", "Download a data source", "Load data
//! source", "Get data source job status"). Errors are strings: migrate
//! reports each data source's failure in its table.

use bytes::Bytes;

use crate::client::atom::{parse_service_document, SourceInfo};
pub use crate::client::endpoint::Endpoint;
use crate::client::endpoint::{access_id_in, encode, expect, link, links};

/// A finished load job on the target.
#[derive(Clone, Debug)]
pub struct LoadResult {
    pub access_id: Option<String>,
    pub entities: u64,
    pub failed: u64,
}

/// What to load into the target for one data source.
pub struct LoadRequest<'a> {
    pub name: &'a str,
    pub access_id: &'a str,
    pub description: Option<&'a str>,
    pub is_public: bool,
    pub staged: bool,
    pub query_key: Option<&'a str>,
}

/// An endpoint for `base` with `key`.
pub fn endpoint(base: &str, key: &str) -> Result<Endpoint, String> {
    Endpoint::new(base, key).map_err(|error| error.to_string())
}

/// The account's data sources (`GET /REST/v1/data?key=`).
pub fn data_sources(endpoint: &Endpoint) -> Result<Vec<SourceInfo>, String> {
    endpoint.data_sources().map_err(|error| error.to_string())
}

/// Every kept version of one data source (`showAllVersions=1`); `None`
/// when there is no such data source (404).
pub fn versions(endpoint: &Endpoint, access_id: &str, name: &str) -> Result<Option<Vec<SourceInfo>>, String> {
    let url = endpoint.url(&format!("data/{access_id}/{}", encode(name)));
    let what = "reading data source information";
    let response = endpoint.send(endpoint.get(&url, &[("showAllVersions", "1")]), what).map_err(|e| e.to_string())?;
    if response.status() == 404 {
        return Ok(None);
    }
    let text = expect(response, &[200], &format!("reading the information of '{name}'")).map_err(|e| e.to_string())?;
    parse_service_document(&text).map(Some)
}

/// Downloads the published (or staged) version as an XML DataSet: a
/// download job, polled until it ends, then its `succeeded` output.
pub fn download(endpoint: &Endpoint, access_id: &str, name: &str, staged: bool) -> Result<Bytes, String> {
    let url = endpoint.url(&format!("Dataflows/DataSourceDownload/{access_id}/{}", encode(name)));
    let pairs: &[(&str, &str)] = if staged { &[("output", "json"), ("isStaging", "1")] } else { &[("output", "json")] };
    let what = format!("creating a download job for '{name}'");
    let location = endpoint.create_job(endpoint.get(&url, pairs), &what).map_err(|e| e.to_string())?;
    let job = endpoint.wait(&location, &|_| {}).map_err(|e| e.to_string())?;
    if job["status"] != "Completed" {
        return Err(format!("the download job of '{name}' ended {}: {}", job["status"], job["errorMessage"]));
    }
    let output = links(&job)
        .into_iter()
        .find(|(role, link_name, _)| role == "output" && link_name.as_deref() != Some("failed"))
        .map(|(_, _, url)| url)
        .ok_or_else(|| format!("the download job of '{name}' has no output link"))?;
    let what = format!("fetching the downloaded data of '{name}'");
    let response = endpoint.send(endpoint.get(&output, &[]), &what).map_err(|e| e.to_string())?;
    if response.status() != 200 {
        return Err(format!("{what} answered {}", response.status()));
    }
    response.bytes().map_err(|error| format!("{what}: {}", error.without_url()))
}

/// Loads an XML DataSet (`input=xml`) and waits for the job; `progress`
/// sees the processed entity count while it runs.
pub fn load(
    endpoint: &Endpoint,
    load: &LoadRequest<'_>,
    body: Bytes,
    progress: &dyn Fn(u64),
) -> Result<LoadResult, String> {
    let mut query: Vec<(&str, &str)> = vec![
        ("dataSourceName", load.name),
        ("loadOperation", if load.staged { "completeStaging" } else { "complete" }),
        ("input", "xml"),
        ("output", "json"),
        ("accessId", load.access_id),
    ];
    if let Some(description) = load.description {
        query.push(("description", description));
    }
    if !load.staged {
        query.push(("setPublic", if load.is_public { "1" } else { "0" }));
    }
    if let Some(query_key) = load.query_key {
        query.push(("queryKey", query_key));
    }
    let request = endpoint
        .post(&endpoint.url("Dataflows/LoadDataSource"), &query)
        .header("content-type", "application/xml")
        .body(body);
    let location = endpoint.create_job(request, &format!("loading '{}'", load.name)).map_err(|e| e.to_string())?;
    let job = endpoint
        .wait(&location, &|job| progress(job["processedEntityCount"].as_u64().unwrap_or(0)))
        .map_err(|e| e.to_string())?;
    if job["status"] != "Completed" {
        return Err(format!("the load of '{}' ended {}: {}", load.name, job["status"], job["errorMessage"]));
    }
    let access_id = link(&job, "dataSource", None).as_deref().and_then(access_id_in);
    let processed = job["processedEntityCount"].as_u64().unwrap_or(0);
    let failed = job["failedEntityCount"].as_u64().unwrap_or(0);
    Ok(LoadResult { access_id, entities: processed.saturating_sub(failed), failed })
}
