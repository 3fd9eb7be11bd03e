//! The base of every link in a response (`{scheme}://{host}{prefix}/REST/v1`)
//! and the path prefix the server also answers under.
//!
//! `--public-url` wins. Otherwise the link repeats the request's own host
//! (`Host`, or HTTP/2's `:authority`) and the connection's scheme (https
//! with `--tls-cert`). Behind a reverse proxy with `--trust-proxy-headers`,
//! the proxy's view wins: RFC 7239 `Forwarded` (`host=` and `proto=` of the
//! first element, the one the client-facing proxy added), else
//! `X-Forwarded-Host` and `X-Forwarded-Proto` (their first values). Without
//! that flag these headers are ignored: any client can send them, and a
//! link pointing elsewhere is a phishing aid (a `Location` header sends
//! the client's key to whatever host it names).

use axum::http::uri::Authority;
use axum::http::{header, HeaderMap};

use crate::config::ServeConfig;

/// `{scheme}://{host}{prefix}/REST/v1`, from the settings and request
/// headers as the module describes; `authority` is the request URI's
/// (HTTP/2 carries the host there rather than in `Host`).
pub fn root_url(config: &ServeConfig, headers: &HeaderMap, authority: Option<&str>) -> String {
    if let Some(public_url) = &config.public_url {
        return format!("{}/REST/v1", public_url.trim_end_matches('/'));
    }
    let mut scheme = if config.tls_cert.is_some() { "https" } else { "http" };
    let mut host = header_str(headers, header::HOST.as_str())
        .or(authority)
        .filter(|host| valid_host(host))
        .map_or_else(|| config.listen.to_string(), str::to_owned);
    if config.trust_proxy_headers {
        let forwarded = headers.get(header::FORWARDED).and_then(|value| value.to_str().ok()).map(forwarded_first);
        let (forwarded_host, forwarded_proto) = match forwarded {
            Some(element) => (element.host, element.proto),
            None => (
                first_value(headers, "x-forwarded-host").map(str::to_owned),
                first_value(headers, "x-forwarded-proto").map(str::to_owned),
            ),
        };
        if let Some(forwarded_host) = forwarded_host.filter(|host| valid_host(host)) {
            host = forwarded_host;
        }
        match forwarded_proto.as_deref() {
            Some(proto) if proto.eq_ignore_ascii_case("https") => scheme = "https",
            Some(proto) if proto.eq_ignore_ascii_case("http") => scheme = "http",
            _ => {}
        }
    }
    format!("{scheme}://{host}/REST/v1")
}

/// The path of `--public-url` without its trailing slash (`/sds` for
/// `https://example.com/sds/`), when it has one: the server answers under
/// it as well as at the root, so the proxy may forward either.
pub fn path_prefix(public_url: Option<&str>) -> Option<String> {
    let uri: axum::http::Uri = public_url?.parse().ok()?;
    let path = uri.path().trim_end_matches('/');
    (!path.is_empty()).then(|| path.to_owned())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok()).map(str::trim).filter(|value| !value.is_empty())
}

/// The first of a comma-separated header's values (the client-facing
/// proxy's; later ones were appended by proxies nearer the server).
fn first_value<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    header_str(headers, name)?.split(',').next().map(str::trim).filter(|value| !value.is_empty())
}

/// A host with an optional port and nothing else, so that a header cannot
/// put a path, user info or spaces into links.
fn valid_host(host: &str) -> bool {
    host.parse::<Authority>().is_ok_and(|authority| !authority.as_str().contains('@'))
}

/// The `host` and `proto` parameters of a `Forwarded` header's first
/// element (RFC 7239 section 4: elements separated by commas, parameters
/// by semicolons, values a token or a quoted string).
#[derive(Debug, Default, PartialEq, Eq)]
struct ForwardedElement {
    host: Option<String>,
    proto: Option<String>,
}

fn forwarded_first(value: &str) -> ForwardedElement {
    let mut element = ForwardedElement::default();
    for pair in split_unquoted(first_element(value), ';') {
        let Some((name, value)) = pair.split_once('=') else { continue };
        let value = unquote(value.trim());
        match name.trim().to_ascii_lowercase().as_str() {
            "host" => element.host = Some(value),
            "proto" => element.proto = Some(value),
            _ => {}
        }
    }
    element
}

fn first_element(value: &str) -> &str {
    split_unquoted(value, ',').into_iter().next().unwrap_or_default()
}

/// Splits at `separator` outside double quotes (a quoted value may hold it).
fn split_unquoted(value: &str, separator: char) -> Vec<&str> {
    let (mut parts, mut start, mut quoted, mut escaped) = (Vec::new(), 0, false, false);
    for (index, character) in value.char_indices() {
        match character {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            _ if character == separator && !quoted => {
                parts.push(&value[start..index]);
                start = index + character.len_utf8();
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

/// A token as is; a quoted string without its quotes and escapes.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"').and_then(|rest| rest.strip_suffix('"')) else {
        return value.to_owned();
    };
    let mut unquoted = String::with_capacity(inner.len());
    let mut characters = inner.chars();
    while let Some(character) = characters.next() {
        unquoted.push(if character == '\\' { characters.next().unwrap_or('\\') } else { character });
    }
    unquoted
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(flags: &[&str]) -> ServeConfig {
        let mut config = ServeConfig::with_data_dir("unused".into());
        config.trust_proxy_headers = flags.contains(&"trust");
        config
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, value.parse().unwrap());
        }
        headers
    }

    #[test]
    fn forwarded_headers_count_only_when_trusted() {
        let sent =
            headers(&[("host", "10.0.0.5:8080"), ("x-forwarded-proto", "https"), ("x-forwarded-host", "evil.example")]);
        assert_eq!(root_url(&config(&[]), &sent, None), "http://10.0.0.5:8080/REST/v1");
        assert_eq!(root_url(&config(&["trust"]), &sent, None), "https://evil.example/REST/v1");
    }

    #[test]
    fn rfc7239_first_element_wins_over_x_forwarded() {
        let sent = headers(&[
            ("host", "10.0.0.5:8080"),
            (
                "forwarded",
                r#"for=192.0.2.60;proto=https;host="sds.example.com:8443", for=10.1.1.1;host=inner;proto=http"#,
            ),
            ("x-forwarded-host", "other.example"),
        ]);
        assert_eq!(root_url(&config(&["trust"]), &sent, None), "https://sds.example.com:8443/REST/v1");
        let partial = headers(&[("host", "10.0.0.5:8080"), ("forwarded", "for=192.0.2.60;Proto=HTTPS")]);
        assert_eq!(root_url(&config(&["trust"]), &partial, None), "https://10.0.0.5:8080/REST/v1");
    }

    #[test]
    fn a_host_that_is_not_a_host_is_ignored() {
        let sent = headers(&[
            ("host", "sds.local"),
            ("x-forwarded-host", "evil.example/path"),
            ("x-forwarded-proto", "gopher"),
        ]);
        assert_eq!(root_url(&config(&["trust"]), &sent, None), "http://sds.local/REST/v1");
        let user_info = headers(&[("host", "sds.local"), ("forwarded", "host=\"me@evil.example\"")]);
        assert_eq!(root_url(&config(&["trust"]), &user_info, None), "http://sds.local/REST/v1");
    }

    #[test]
    fn http2_authority_stands_in_for_host() {
        assert_eq!(root_url(&config(&[]), &HeaderMap::new(), Some("sds.local:9")), "http://sds.local:9/REST/v1");
    }

    #[test]
    fn the_public_url_path_is_a_prefix() {
        assert_eq!(path_prefix(Some("https://example.com/sds/")).as_deref(), Some("/sds"));
        assert_eq!(path_prefix(Some("https://example.com/a/b")).as_deref(), Some("/a/b"));
        assert_eq!(path_prefix(Some("https://example.com/")), None);
        assert_eq!(path_prefix(Some("https://example.com")), None);
        assert_eq!(path_prefix(None), None);
    }
}
