//! `dataLocation`: fetching a load's input over HTTP(S) into the spool.
//!
//! Fetching URLs that a client names is a server-side request forgery
//! risk, so every address the fetch would reach, including each redirect's,
//! must be public (or the host explicitly allowed), only http and https are
//! spoken, redirects are bounded and the size limit applies while streaming.
//! The resolved address is pinned for the connection, so the name cannot
//! resolve elsewhere between the check and the request.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use reqwest::Url;

const MAX_REDIRECTS: usize = 5;
const TIMEOUT: Duration = Duration::from_secs(300);

#[derive(Clone, Debug, Default)]
pub struct FetchPolicy {
    /// Hosts that may be fetched; empty: any host whose addresses are public.
    pub allowed_hosts: Vec<String>,
    /// Whether loopback, private and link-local addresses may be reached.
    pub allow_private: bool,
    pub max_bytes: u64,
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
            if let Some(private) = addresses.iter().find(|address| !is_public(address.ip())) {
                return Err(format!(
                    "dataLocation host '{host}' resolves to {}, a loopback, private or reserved address this server does not fetch from",
                    private.ip()
                ));
            }
        }
        addresses.into_iter().next().ok_or_else(|| format!("dataLocation host '{host}' has no address"))
    }

    /// Fetches `url` into `path` (created anew), following at most five
    /// redirects, each checked like the first URL.
    pub fn fetch(&self, url: &str, path: &Path) -> Result<u64, String> {
        let mut url = self.check_url(url)?;
        for _ in 0..=MAX_REDIRECTS {
            let address = self.resolve(&url)?;
            let host = url.host_str().unwrap_or_default().to_owned();
            let client = reqwest::blocking::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(TIMEOUT)
                .resolve(&host, address)
                .build()
                .map_err(|error| format!("dataLocation cannot be fetched: {error}"))?;
            let response =
                client.get(url.clone()).send().map_err(|error| format!("fetching dataLocation failed: {error}"))?;
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
            return self.save(response, path);
        }
        Err(format!("dataLocation redirects more than {MAX_REDIRECTS} times"))
    }

    fn save(&self, mut response: reqwest::blocking::Response, path: &Path) -> Result<u64, String> {
        let fail = |error: std::io::Error| format!("saving the dataLocation input failed: {error}");
        let mut file = std::fs::File::create(path).map_err(fail)?;
        let mut buffer = vec![0u8; 256 * 1024];
        let mut written: u64 = 0;
        loop {
            let read = response.read(&mut buffer).map_err(|error| format!("reading dataLocation failed: {error}"))?;
            if read == 0 {
                break;
            }
            written += read as u64;
            if written > self.max_bytes {
                return Err(format!("the dataLocation input is larger than the limit of {} bytes", self.max_bytes));
            }
            file.write_all(&buffer[..read]).map_err(fail)?;
        }
        file.sync_all().map_err(fail)?;
        if written == 0 {
            return Err("the dataLocation input is empty".into());
        }
        Ok(written)
    }
}

/// Whether an address is on the public internet: not loopback, private,
/// link-local, shared (CGNAT), multicast, documentation or unspecified.
fn is_public(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

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
        assert!(policy.resolve(&url).unwrap_err().contains("loopback, private or reserved"));
        let relaxed = FetchPolicy { allow_private: true, ..policy };
        assert!(relaxed.resolve(&url).is_ok());
    }
}
