//! One SDS endpoint (an `sds` server or Bing SDS) and the calls every
//! client command shares: building URLs with the key, reading envelopes,
//! creating a dataflow job and polling it until it ends. `sds migrate`
//! uses the same type.
//!
//! The URL templates are those of the SDS docs ("Create a Load Data Source
//! Job", "Get Load Data Source Status", "Create a Download Job", "Publish a
//! staged data source", "Rollback", "Make a Data Source Public",
//! "Delete a Data Source", "Get Job List", "Get Data Source Information");
//! the key travels as the `key` query parameter, so no URL that holds it is
//! ever shown: errors print the path without the query ([`redact`]).

use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder, Response};
use serde_json::Value;

use super::atom::{parse_service_document, SourceInfo};
use super::ClientError;

/// How long a job may stay `Pending` before a client gives up on it.
const JOB_TIMEOUT: Duration = Duration::from_secs(3600);

/// One endpoint and the key used on it.
pub struct Endpoint {
    /// `https://spatial.virtualearth.net` (no `/REST/v1`).
    base: String,
    key: String,
    http: Client,
}

/// A link of a job resource: `(role, name, url)`.
pub type Link = (String, Option<String>, String);

impl Endpoint {
    /// An endpoint at `base` (`http://127.0.0.1:8080`, with or without a
    /// trailing `/`; a trailing `/REST/v1` is accepted too).
    pub fn new(base: &str, key: &str) -> Result<Endpoint, ClientError> {
        let http = Client::builder()
            // Bounds a whole request, upload and download bodies included.
            .timeout(Duration::from_secs(3600))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| ClientError::transport("building an HTTP client", &error))?;
        Ok(Endpoint { base: base_url(base), key: key.to_owned(), http })
    }

    /// `{base}/REST/v1/{path}` (no key).
    pub fn url(&self, path: &str) -> String {
        format!("{}/REST/v1/{path}", self.base)
    }

    /// `url` with the parameters and this endpoint's key appended.
    pub fn with_query(&self, url: &str, pairs: &[(&str, &str)]) -> String {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        query.append_pair("key", &self.key);
        let separator = if url.contains('?') { '&' } else { '?' };
        format!("{url}{separator}{}", query.finish())
    }

    /// A GET of `url` with `pairs` and the key.
    pub fn get(&self, url: &str, pairs: &[(&str, &str)]) -> RequestBuilder {
        self.http.get(self.with_query(url, pairs))
    }

    /// A POST of `url` with `pairs` and the key.
    pub fn post(&self, url: &str, pairs: &[(&str, &str)]) -> RequestBuilder {
        self.http.post(self.with_query(url, pairs))
    }

    /// A DELETE of `url` with `pairs` and the key.
    pub fn delete(&self, url: &str, pairs: &[(&str, &str)]) -> RequestBuilder {
        self.http.delete(self.with_query(url, pairs))
    }

    /// Sends a request; a transport failure (refused, timed out) names
    /// `what` and the server, never the URL (it holds the key).
    pub fn send(&self, request: RequestBuilder, what: &str) -> Result<Response, ClientError> {
        request.send().map_err(|error| ClientError::transport(&format!("{what} ({})", self.base), &error))
    }

    /// Sends a request that creates a dataflow job (201 Created; SDS's
    /// publish answers 202 Accepted) and returns
    /// the job's status URL: the `Location` header, else the job's `self`
    /// link.
    pub fn create_job(&self, request: RequestBuilder, what: &str) -> Result<String, ClientError> {
        let response = self.send(request, what)?;
        let location = response.headers().get("location").and_then(|value| value.to_str().ok()).map(str::to_owned);
        let created = json(expect(response, &[200, 201, 202], what)?, what)?;
        location
            .or_else(|| link(&created["resourceSets"][0]["resources"][0], "self", None))
            .ok_or_else(|| ClientError::Protocol(format!("{what}: the answer has no job status URL")))
    }

    /// The account's data sources, from the AtomPub service document of
    /// "Get Data Source Information" (`GET /REST/v1/data`).
    pub fn data_sources(&self) -> Result<Vec<SourceInfo>, ClientError> {
        let what = "listing the data sources";
        let response = self.send(self.get(&self.url("data"), &[]), what)?;
        parse_service_document(&expect(response, &[200], what)?).map_err(ClientError::Protocol)
    }

    /// POSTs a body read from `body` (a blocking reader: a file, through
    /// gzip) and returns the created job's status URL, as
    /// [`Endpoint::create_job`] does. `length` gives a `Content-Length`;
    /// without it the body is chunked.
    ///
    /// This request uses reqwest's async client on a runtime of its own:
    /// a server that refuses a load (a bad name, a quota) answers before
    /// it reads the body, and the blocking client then reports only that
    /// its body could not be sent, where the async one hands back the
    /// answer, whose envelope says why.
    pub fn create_job_streaming(
        &self,
        url: &str,
        pairs: &[(&str, &str)],
        content_type: &str,
        body: impl std::io::Read + Send + 'static,
        length: Option<u64>,
        what: &str,
    ) -> Result<String, ClientError> {
        let what_with_server = format!("{what} ({})", self.base);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ClientError::io("starting the HTTP client", error))?;
        let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
        // The file is read (and gzipped) on a thread of its own; it stops
        // when the request no longer wants the body.
        let reader = std::thread::spawn(move || {
            let mut body = body;
            let mut buffer = vec![0; 1 << 16];
            loop {
                let chunk = match body.read(&mut buffer) {
                    Ok(0) => return,
                    Ok(count) => Ok(bytes::Bytes::copy_from_slice(&buffer[..count])),
                    Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(error) => Err(error),
                };
                let failed = chunk.is_err();
                if sender.blocking_send(chunk).is_err() || failed {
                    return;
                }
            }
        });
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        });
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(3600))
            .build()
            .map_err(|error| ClientError::transport("building an HTTP client", &error))?;
        let mut request = client
            .post(self.with_query(url, pairs))
            .header("content-type", content_type)
            .body(reqwest::Body::wrap_stream(stream));
        if let Some(length) = length {
            request = request.header("content-length", length);
        }
        let answer = runtime.block_on(async move {
            let response = request.send().await?;
            let status = response.status().as_u16();
            let location = response.headers().get("location").and_then(|value| value.to_str().ok()).map(str::to_owned);
            Ok::<_, reqwest::Error>((status, location, response.text().await?))
        });
        drop(runtime);
        let _ = reader.join();
        let (status, location, text) = answer.map_err(|error| ClientError::transport(&what_with_server, &error))?;
        let created = json(check(status, text, &[200, 201, 202], what)?, what)?;
        location
            .or_else(|| link(&created["resourceSets"][0]["resources"][0], "self", None))
            .ok_or_else(|| ClientError::Protocol(format!("{what}: the answer has no job status URL")))
    }

    /// Polls a job status URL (`output=json`) until the job is no longer
    /// `Pending`; `seen` gets each `Pending` job resource. Returns the final
    /// job resource.
    pub fn wait(&self, status_url: &str, seen: &dyn Fn(&Value)) -> Result<Value, ClientError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(20);
        let what = "waiting for the job";
        // The job is the server's: a lost connection loses only the wait.
        let lost = |error: ClientError| ClientError::Protocol(format!("{error}; the job goes on at the server"));
        loop {
            let response = self.send(self.get(status_url, &[("output", "json")]), what).map_err(lost)?;
            let body = json(expect(response, &[200], what).map_err(lost)?, what)?;
            let job = body["resourceSets"][0]["resources"][0].clone();
            if job["status"] != "Pending" {
                return Ok(job);
            }
            seen(&job);
            if started.elapsed() > JOB_TIMEOUT {
                return Err(ClientError::Protocol(format!(
                    "the job at {} is still Pending after {} s",
                    redact(status_url),
                    JOB_TIMEOUT.as_secs()
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(500));
        }
    }
}

/// A path segment, percent-encoded (a data source name may hold spaces).
pub fn encode(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A URL without its query string (where the key is) for messages.
pub fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// The body of a response whose status is one of `statuses`, or
/// [`ClientError::Server`] with the envelope's status code, description
/// and `errorDetails` (JSON or XML envelope, or the start of any other
/// body).
pub fn expect(response: Response, statuses: &[u16], what: &str) -> Result<String, ClientError> {
    let status = response.status().as_u16();
    let text = response.text().map_err(|error| ClientError::transport(what, &error))?;
    check(status, text, statuses, what)
}

/// `text` when `status` is one of `statuses`, else [`ClientError::Server`].
fn check(status: u16, text: String, statuses: &[u16], what: &str) -> Result<String, ClientError> {
    if statuses.contains(&status) {
        return Ok(text);
    }
    Err(ClientError::Server { what: what.to_owned(), status, message: envelope_error(&text) })
}

/// The error text of an SDS envelope: `errorDetails` joined by `; `
/// (JSON), or the `ErrorDetails/string` elements (XML); other text is
/// shortened to 200 characters.
pub fn envelope_error(text: &str) -> String {
    let from_json = serde_json::from_str::<Value>(text).ok().and_then(|body| {
        let details = body["errorDetails"].as_array()?;
        Some(details.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "))
    });
    let from_xml = || {
        let start = text.find("<ErrorDetails>")? + "<ErrorDetails>".len();
        let end = start + text[start..].find("</ErrorDetails>")?;
        let strings: Vec<String> = text[start..end]
            .split("<string>")
            .skip(1)
            .filter_map(|part| part.split("</string>").next())
            .map(|part| quick_xml::escape::unescape(part).map_or_else(|_| part.to_owned(), |text| text.into_owned()))
            .collect();
        Some(strings.join("; "))
    };
    from_json
        .or_else(from_xml)
        .filter(|details| !details.is_empty())
        .unwrap_or_else(|| text.trim().chars().take(200).collect())
}

/// Parses a JSON answer.
pub fn json(text: String, what: &str) -> Result<Value, ClientError> {
    serde_json::from_str(&text)
        .map_err(|error| ClientError::Protocol(format!("{what}: the answer is not JSON ({error})")))
}

/// The links of a job resource.
pub fn links(job: &Value) -> Vec<Link> {
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

/// The URL of a job's first link with this role (and this name, when given).
pub fn link(job: &Value, role: &str, name: Option<&str>) -> Option<String> {
    links(job)
        .into_iter()
        .find(|(link_role, link_name, _)| {
            link_role == role && name.is_none_or(|name| link_name.as_deref() == Some(name))
        })
        .map(|(_, _, url)| url)
}

/// The accessId in a `…/data/{accessId}/…` URL.
pub fn access_id_in(url: &str) -> Option<String> {
    let start = url.to_ascii_lowercase().find("/data/")? + "/data/".len();
    url[start..].split('/').next().filter(|id| !id.is_empty()).map(str::to_owned)
}

/// The server's root from a `--url`: without a trailing `/REST/v1`, and
/// with `http://` in front of a bare `host:port` (as `sds serve --listen`
/// takes one; without a scheme the request failed with "relative URL
/// without a base").
fn base_url(given: &str) -> String {
    let trimmed = given.trim().trim_end_matches('/');
    let trimmed = trimmed.strip_suffix("/REST/v1").or_else(|| trimmed.strip_suffix("/rest/v1")).unwrap_or(trimmed);
    if trimmed.contains("://") {
        trimmed.to_owned()
    } else {
        format!("http://{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_without_a_scheme_is_http() {
        assert_eq!(base_url("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(base_url("localhost:8080/REST/v1/"), "http://localhost:8080");
        assert_eq!(base_url("https://sds.example.org/rest/v1"), "https://sds.example.org");
        assert_eq!(base_url("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
    }

    #[test]
    fn envelope_errors_read_from_json_and_xml() {
        let json =
            r#"{"statusCode":401,"statusDescription":"Unauthorized","errorDetails":["the key is not valid","x"]}"#;
        assert_eq!(envelope_error(json), "the key is not valid; x");
        let xml = "<Response><StatusCode>400</StatusCode><ErrorDetails><string>bad &apos;input&apos;</string></ErrorDetails></Response>";
        assert_eq!(envelope_error(xml), "bad 'input'");
        assert_eq!(envelope_error("  plain text \n"), "plain text");
    }

    #[test]
    fn base_urls_lose_trailing_parts_and_messages_lose_the_key() {
        let endpoint = Endpoint::new("http://h:1/REST/v1/", "secret").unwrap();
        assert_eq!(endpoint.url("data"), "http://h:1/REST/v1/data");
        let url = endpoint.with_query(&endpoint.url("data"), &[("o", "json")]);
        assert!(url.ends_with("?o=json&key=secret"));
        assert_eq!(redact(&url), "http://h:1/REST/v1/data");
        assert_eq!(access_id_in("http://h/REST/v1/data/abc/Name").as_deref(), Some("abc"));
    }
}
