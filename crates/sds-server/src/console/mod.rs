//! The web console (issue #15): a single-page application served by `sds`
//! itself at `/` and `/console/…`, so a browser is enough to see and manage
//! what the server holds.
//!
//! The files live in `crates/sds-server/console/` and are embedded in the
//! binary ([`assets`]): the server may run air-gapped, so nothing is fetched
//! from a CDN or a tile server (the base map is Natural Earth 1:110m, shipped
//! as `countries-110m.geojson`). The console holds no server-side logic: it
//! calls the SDS REST API under `/REST/v1` like any client, with the key in
//! the query string, so it can do nothing a key could not do with curl.
//!
//! Every answer carries a strict Content-Security-Policy (scripts and styles
//! only from the console's own files, requests only to this origin, forms
//! never submitted: a sign-in form that some fault let the browser submit
//! would otherwise put the key in the page's URL) and a weak `ETag` with
//! `Cache-Control: no-cache`, so a browser revalidates and gets a 304 until
//! the binary changes. The ETag is weak because the compression layer may
//! gzip the body.

mod assets;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use assets::{Asset, ASSETS};

/// The policy of every console answer: scripts and styles only from the
/// console's files (no inline code), `connect-src 'self'` keeps every request
/// on this server, `img-src data:` is for the page's empty icon, and no form
/// is ever submitted nor the page framed.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The console's routes: `GET /` (the page) and `GET /console/{file}` (its
/// assets); `HEAD` too. Merged in front of the SDS dispatcher, which owns
/// every other path.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(index))
        .route("/console", get(to_index))
        .route("/console/", get(to_index))
        .route("/console/{*path}", get(asset))
}

async fn index(headers: HeaderMap) -> Response {
    serve(assets::find("index.html").expect("index.html is embedded"), &headers)
}

/// `/console` and `/console/` lead to the page: its assets and the REST
/// calls are addressed relative to `/`.
async fn to_index() -> Response {
    (StatusCode::PERMANENT_REDIRECT, [(header::LOCATION, "/")]).into_response()
}

async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match assets::find(&path) {
        Some(found) if path != "index.html" => serve(found, &headers),
        _ => not_found(&path),
    }
}

fn not_found(path: &str) -> Response {
    let mut response = (StatusCode::NOT_FOUND, format!("the console has no file '{path}'\n")).into_response();
    secure(response.headers_mut());
    response
}

/// The file, or 304 when the browser's `If-None-Match` names its ETag.
fn serve(found: &'static Asset, request: &HeaderMap) -> Response {
    let etag = found.etag();
    let fresh = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"));
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { found.bytes.into_response() };
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(found.content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    secure(headers);
    response
}

fn secure(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // The page's URL holds no key, but no referrer leaves the page either.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}
