//! A client of any SDS endpoint (Bing SDS or `sds`): the calls `sds
//! migrate` makes, with the URL templates of the SDS docs ("Get data
//! source information", "Download a data source", "Load data source",
//! "Get data source job status").

use std::time::{Duration, Instant};

use bytes::Bytes;
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

use super::atom::{parse_service_document, SourceInfo};

/// How long a job may stay `Pending` before the migration gives up on it.
const JOB_TIMEOUT: Duration = Duration::from_secs(3600);

/// One endpoint and the key used on it.
pub struct Endpoint {
    /// `https://spatial.virtualearth.net` (no `/REST/v1`).
    base: String,
    key: String,
    http: Client,
}

/// A finished load job on the target.
#[derive(Clone, Debug)]
pub struct LoadResult {
    pub access_id: Option<String>,
    pub entities: u64,
    pub failed: u64,
}

impl Endpoint {
    pub fn new(base: &str, key: &str) -> Result<Endpoint, String> {
        let http = Client::builder()
            .timeout(Duration::from_secs(600))
            .build()
            .map_err(|error| format!("cannot build an HTTP client: {error}"))?;
        Ok(Endpoint { base: base.trim_end_matches('/').to_owned(), key: key.to_owned(), http })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/REST/v1/{path}", self.base)
    }

    /// `url` with the parameters and this endpoint's key appended.
    fn with_query(&self, url: &str, pairs: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        query.append_pair("key", &self.key);
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{}", query.finish())
    }

    fn get(&self, url: &str, pairs: &[(&str, &str)]) -> RequestBuilder {
        self.http.get(self.with_query(url, pairs))
    }

    fn send(&self, request: RequestBuilder, what: &str) -> Result<Response, String> {
        request.send().map_err(|error| format!("{what}: {error}"))
    }

    /// The account's data sources (`GET /REST/v1/data?key=`).
    pub fn data_sources(&self) -> Result<Vec<SourceInfo>, String> {
        let response = self.send(self.get(&self.url("data"), &[]), "listing the data sources")?;
        let text = expect(response, 200, "listing the data sources")?;
        parse_service_document(&text)
    }

    /// Every kept version of one data source (`showAllVersions=1`); `None`
    /// when there is no such data source (404).
    pub fn versions(&self, access_id: &str, name: &str) -> Result<Option<Vec<SourceInfo>>, String> {
        let url = self.url(&format!("data/{access_id}/{}", encode(name)));
        let response = self.send(self.get(&url, &[("showAllVersions", "1")]), "reading data source information")?;
        if response.status() == 404 {
            return Ok(None);
        }
        let text = expect(response, 200, &format!("reading the information of '{name}'"))?;
        parse_service_document(&text).map(Some)
    }

    /// Downloads the published (or staged) version as an XML DataSet: a
    /// download job, polled until it ends, then its `succeeded` output.
    pub fn download(&self, access_id: &str, name: &str, staged: bool) -> Result<Bytes, String> {
        let url = self.url(&format!("Dataflows/DataSourceDownload/{access_id}/{}", encode(name)));
        let pairs: &[(&str, &str)] =
            if staged { &[("output", "json"), ("isStaging", "1")] } else { &[("output", "json")] };
        let request = self.get(&url, pairs);
        let response = self.send(request, "creating a download job")?;
        let location = location(&response);
        let created = json(expect(response, 201, &format!("creating a download job for '{name}'"))?)?;
        let location = location.or_else(|| status_link(&created)).ok_or("the download job has no status URL")?;
        let job = self.wait(&location, &|_| {})?;
        if job["status"] != "Completed" {
            return Err(format!("the download job of '{name}' ended {}: {}", job["status"], job["errorMessage"]));
        }
        let output = links(&job)
            .into_iter()
            .find(|(role, link_name, _)| role == "output" && link_name.as_deref() != Some("failed"))
            .map(|(_, _, url)| url)
            .ok_or_else(|| format!("the download job of '{name}' has no output link"))?;
        let response = self.send(self.get(&output, &[]), "fetching the downloaded data")?;
        if response.status() != 200 {
            return Err(format!("fetching the downloaded data of '{name}' answered {}", response.status()));
        }
        response.bytes().map_err(|error| format!("fetching the downloaded data of '{name}': {error}"))
    }

    /// Loads an XML DataSet (`input=xml`) and waits for the job; `progress`
    /// sees the processed entity count while it runs.
    pub fn load(&self, load: &LoadRequest<'_>, body: Bytes, progress: &dyn Fn(u64)) -> Result<LoadResult, String> {
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
        let request = self
            .http
            .post(self.with_query(&self.url("Dataflows/LoadDataSource"), &query))
            .header("content-type", "application/xml")
            .body(body);
        let response = self.send(request, "creating a load job")?;
        let location = location(&response);
        let created = json(expect(response, 201, &format!("loading '{}'", load.name))?)?;
        let location = location.or_else(|| status_link(&created)).ok_or("the load job has no status URL")?;
        let job = self.wait(&location, &|job| progress(job["processedEntityCount"].as_u64().unwrap_or(0)))?;
        if job["status"] != "Completed" {
            return Err(format!("the load of '{}' ended {}: {}", load.name, job["status"], job["errorMessage"]));
        }
        let access_id = links(&job).into_iter().find(|(role, _, _)| role == "dataSource").and_then(|(_, _, url)| {
            let start = url.to_ascii_lowercase().find("/data/")? + "/data/".len();
            url[start..].split('/').next().map(str::to_owned)
        });
        let processed = job["processedEntityCount"].as_u64().unwrap_or(0);
        let failed = job["failedEntityCount"].as_u64().unwrap_or(0);
        Ok(LoadResult { access_id, entities: processed.saturating_sub(failed), failed })
    }

    /// Polls a job status URL until the job is no longer `Pending`.
    fn wait(&self, status_url: &str, seen: &dyn Fn(&Value)) -> Result<Value, String> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        loop {
            let response = self.send(self.get(status_url, &[("output", "json")]), "polling a job")?;
            let body = json(expect(response, 200, "polling a job")?)?;
            let job = body["resourceSets"][0]["resources"][0].clone();
            if job["status"] != "Pending" {
                return Ok(job);
            }
            seen(&job);
            if started.elapsed() > JOB_TIMEOUT {
                return Err(format!("the job at {status_url} is still Pending after {} s", JOB_TIMEOUT.as_secs()));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_secs(2));
        }
    }
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

fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn location(response: &Response) -> Option<String> {
    response.headers().get("location").and_then(|value| value.to_str().ok()).map(str::to_owned)
}

/// The body of a response with the expected status, or an error naming
/// the status and the envelope's `errorDetails`.
fn expect(response: Response, status: u16, what: &str) -> Result<String, String> {
    let actual = response.status();
    let text = response.text().map_err(|error| format!("{what}: {error}"))?;
    if actual.as_u16() == status {
        return Ok(text);
    }
    let details = serde_json::from_str::<Value>(&text)
        .ok()
        .and_then(|body| body["errorDetails"].as_array().cloned())
        .map(|details| details.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
        .filter(|details| !details.is_empty())
        .unwrap_or_else(|| text.chars().take(200).collect());
    Err(format!("{what} answered {actual}: {details}"))
}

fn json(text: String) -> Result<Value, String> {
    serde_json::from_str(&text).map_err(|error| format!("the answer is not JSON ({error})"))
}

fn links(job: &Value) -> Vec<(String, Option<String>, String)> {
    job["links"]
        .as_array()
        .map(|links| {
            links
                .iter()
                .map(|link| {
                    (
                        link["role"].as_str().unwrap_or_default().to_owned(),
                        link["name"].as_str().map(str::to_owned),
                        link["url"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn status_link(created: &Value) -> Option<String> {
    links(&created["resourceSets"][0]["resources"][0])
        .into_iter()
        .find(|(role, _, _)| role == "self")
        .map(|(_, _, url)| url)
}
