//! `dataLocation`: fetching a load's input over HTTP(S) into the spool.
//!
//! Fetching URLs that a client names is a server-side request forgery
//! risk, so every address the fetch would reach, including each redirect's,
//! must be public (see `addresses`; or the host explicitly allowed), only
//! http and https are spoken, redirects are bounded and the size limit
//! applies while streaming. The resolved address is pinned for the
//! connection, so the name cannot resolve elsewhere between the check and
//! the request.
//!
//! A fetch holds a job worker, so a slow or stalled server must not hold
//! it for long: the whole fetch has a deadline (`--data-location-timeout-seconds`),
//! and every [`RATE_WINDOW`] of it must bring at least the minimum rate
//! (`--data-location-min-bytes-per-second`); the response headers must come
//! within the first window. A server that sends a few bytes and then one a
//! second is cut off after one window.

use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use reqwest::Url;
use tokio::time::{timeout_at, Instant};

use super::addresses;

const MAX_REDIRECTS: usize = 5;
/// The span over which the minimum transfer rate is measured.
pub const RATE_WINDOW: Duration = Duration::from_secs(10);
/// Default of `--data-location-timeout-seconds`: 300 MB, the upload limit,
/// at 1/3 MB/s.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(900);
/// Default of `--data-location-min-bytes-per-second`.
pub const DEFAULT_MIN_BYTES_PER_SECOND: u64 = 4096;

#[derive(Clone, Debug)]
pub struct FetchPolicy {
    /// Hosts that may be fetched; empty: any host whose addresses are public.
    pub allowed_hosts: Vec<String>,
    /// Whether loopback, private and link-local addresses may be reached.
    pub allow_private: bool,
    pub max_bytes: u64,
    /// How long a whole fetch may take, redirects included.
    pub deadline: Duration,
    /// Bytes per second that each [`RATE_WINDOW`] must bring on average.
    pub min_bytes_per_second: u64,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            allowed_hosts: Vec::new(),
            allow_private: false,
            max_bytes: sds_core::limits::Limits::default().max_upload_bytes,
            deadline: DEFAULT_DEADLINE,
            min_bytes_per_second: DEFAULT_MIN_BYTES_PER_SECOND,
        }
    }
}

impl FetchPolicy {
    /// Checks what can be checked without the network: scheme and host.
    pub fn check_url(&self, text: &str) -> Result<Url, String> {
        let url = Url::parse(text).map_err(|error| format!("dataLocation '{text}' is not a valid URL: {error}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!("dataLocation must be an http or https URL, not {}", url.scheme()));
        }
        let host = url.host_str().ok_or_else(|| format!("dataLocation '{text}' has no host"))?;
        if !self.host_allowed(host) {
            return Err(format!("dataLocation host '{host}' is not one this server may fetch from"));
        }
        Ok(url)
    }

    fn host_allowed(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.allowed_hosts.is_empty()
            || self.allowed_hosts.iter().any(|allowed| {
                let allowed = allowed.trim().to_ascii_lowercase();
                match allowed.strip_prefix('.') {
                    Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
                    None => host == allowed,
                }
            })
    }

    /// Resolves a URL's host to an address this policy lets us reach.
    fn resolve(&self, url: &Url) -> Result<SocketAddr, String> {
        let host = url.host_str().ok_or("the URL has no host")?;
        let port = url.port_or_known_default().ok_or("the URL has no port")?;
        let addresses: Vec<SocketAddr> = (host.trim_start_matches('[').trim_end_matches(']'), port)
            .to_socket_addrs()
            .map_err(|error| format!("dataLocation host '{host}' cannot be resolved: {error}"))?
            .collect();
        if !self.allow_private {
            if let Some((private, range)) =
                addresses.iter().find_map(|address| addresses::not_public(address.ip()).map(|range| (address, range)))
            {
                return Err(format!(
                    "dataLocation host '{host}' resolves to {}, a loopback, private or reserved address ({range}) this server does not fetch from (the server's --data-location-allow-private lets it)",
                    private.ip()
                ));
            }
        }
        addresses.into_iter().next().ok_or_else(|| format!("dataLocation host '{host}' has no address"))
    }

    /// Fetches `url` into `path` (created anew), following at most five
    /// redirects, each checked like the first URL; returns the bytes saved.
    /// Runs its own small runtime: it is called from a job's blocking thread.
    pub fn fetch(&self, url: &str, path: &Path) -> Result<u64, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("dataLocation cannot be fetched: {error}"))?;
        runtime.block_on(self.fetch_async(url, path))
    }

    async fn fetch_async(&self, url: &str, path: &Path) -> Result<u64, String> {
        let deadline = Instant::now() + self.deadline;
        let mut url = self.check_url(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let address = self.resolve(&url)?;
            let host = url.host_str().unwrap_or_default().to_owned();
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .resolve(&host, address)
                .build()
                .map_err(|error| format!("dataLocation cannot be fetched: {error}"))?;
            let asked = Instant::now();
            let headers_by = deadline.min(asked + RATE_WINDOW);
            let response = match timeout_at(headers_by, client.get(url.clone()).send()).await {
                Ok(sent) => sent.map_err(|error| format!("fetching dataLocation failed: {error}"))?,
                Err(_) => {
                    let waited = headers_by.saturating_duration_since(asked).as_secs();
                    return Err(format!("dataLocation sent no response within {waited} seconds"));
                }
            };
            let status = response.status();
            if status.is_redirection() {
                let target = response
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .ok_or_else(|| format!("dataLocation answered {status} without a Location"))?;
                let next =
                    url.join(target).map_err(|error| format!("dataLocation redirects to an invalid URL: {error}"))?;
                url = self.check_url(next.as_str())?;
                continue;
            }
            if !status.is_success() {
                return Err(format!("fetching dataLocation returned HTTP {status}"));
            }
            return self.save(response, path, deadline).await;
        }
        Err(format!("dataLocation redirects more than {MAX_REDIRECTS} times"))
    }

    /// Streams the body into `path`, enforcing the size limit, the deadline
    /// and the minimum rate per window.
    async fn save(&self, mut response: reqwest::Response, path: &Path, deadline: Instant) -> Result<u64, String> {
        let fail = |error: std::io::Error| format!("saving the dataLocation input failed: {error}");
        let mut file = std::fs::File::create(path).map_err(fail)?;
        let mut written: u64 = 0;
        let mut window_start = Instant::now();
        let mut window_bytes: u64 = 0;
        let window_minimum = self.min_bytes_per_second.saturating_mul(RATE_WINDOW.as_secs());
        loop {
            let wait_until = deadline.min(window_start + RATE_WINDOW);
            match timeout_at(wait_until, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    written += chunk.len() as u64;
                    window_bytes += chunk.len() as u64;
                    if written > self.max_bytes {
                        return Err(format!(
                            "the dataLocation input is larger than the limit of {} bytes",
                            self.max_bytes
                        ));
                    }
                    file.write_all(&chunk).map_err(fail)?;
                }
                Ok(Ok(None)) => break,
                Ok(Err(error)) => return Err(format!("reading dataLocation failed: {error}")),
                // Time to check the deadline and the rate.
                Err(_) => {}
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(format!(
                    "fetching dataLocation took longer than the limit of {} seconds ({written} bytes arrived)",
                    self.deadline.as_secs()
                ));
            }
            if now >= window_start + RATE_WINDOW {
                if window_bytes < window_minimum {
                    return Err(format!(
                        "dataLocation sent {window_bytes} bytes in {} seconds, below the minimum of {} bytes per second",
                        RATE_WINDOW.as_secs(),
                        self.min_bytes_per_second
                    ));
                }
                window_start = now;
                window_bytes = 0;
            }
        }
        file.sync_all().map_err(fail)?;
        if written == 0 {
            return Err("the dataLocation input is empty".into());
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_checked_for_scheme_and_host() {
        let open = FetchPolicy { max_bytes: 10, ..FetchPolicy::default() };
        assert!(open.check_url("https://example.com/data.csv").is_ok());
        assert!(open.check_url("ftp://example.com/data.csv").unwrap_err().contains("http or https"));
        assert!(open.check_url("file:///etc/passwd").is_err());
        assert!(open.check_url("not a url").is_err());
        let restricted = FetchPolicy { allowed_hosts: vec![".example.com".into()], ..open };
        assert!(restricted.check_url("https://data.example.com/x").is_ok());
        assert!(restricted.check_url("https://example.com/x").is_ok());
        assert!(restricted.check_url("https://evil.com/x").unwrap_err().contains("not one this server may fetch from"));
        assert!(restricted.check_url("https://notexample.com/x").is_err());
    }

    #[test]
    fn private_addresses_are_refused_unless_allowed() {
        let policy = FetchPolicy { max_bytes: 10, ..FetchPolicy::default() };
        let url = Url::parse("http://127.0.0.1:9/x").unwrap();
        let nat64 = Url::parse("http://[64:ff9b::7f00:1]:9/x").unwrap();
        assert!(policy.resolve(&nat64).unwrap_err().contains("NAT64"), "the issue's address");
        let six_to_four = Url::parse("http://[2002:7f00:1::]:9/x").unwrap();
        assert!(policy.resolve(&six_to_four).unwrap_err().contains("6to4"), "the issue's address");
        assert!(policy.resolve(&url).unwrap_err().contains("reserved address (loopback (RFC 1122))"));
        let relaxed = FetchPolicy { allow_private: true, ..policy };
        assert!(relaxed.resolve(&url).is_ok());
    }
}
