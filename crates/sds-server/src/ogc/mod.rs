//! OGC API – Features under `/ogc`: every data source a key may query, as
//! a feature collection read from the same cached tables, with the same
//! keys and rights, as the SDS Query API (`routes::query`).
//!
//! Standards: OGC 17-069r4 (Part 1: Core; classes core, geojson, html,
//! oas30) and OGC 19-079r2 (Part 3: Filtering; filter, features-filter)
//! with CQL2 text (OGC 21-065: basic-cql2, advanced comparison operators,
//! basic spatial functions), parsed by `sds_query::cql2` onto the `$filter`
//! syntax tree.
//!
//! A request names its key as `key=` or in an `X-Api-Key` header; links
//! this API writes never carry the key (GDAL and QGIS send their header
//! again with every request). Rights are checked before anything of a data
//! source is revealed, in the Query API's order: key, data source, rights,
//! version, table. OGC spellings live in this module; SDS ones stay in
//! `wire/`.

mod collections;
mod errors;
mod features;
mod html;
mod items;
mod landing;
mod openapi;

use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use sds_store::KeyRecord;

use crate::error::{ApiError, ErrorKind};
use crate::routes::params::Params;
use crate::routes::RequestContext;
use crate::state::AppState;

/// The media types this API answers with.
pub const GEOJSON: &str = "application/geo+json";
pub const JSON: &str = "application/json";
pub const HTML: &str = "text/html";
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";
pub const CRS84: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// What a response is rendered as: `f=json|html`, else the `Accept` header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

/// A request to this API, as its handlers see it.
pub struct OgcRequest<'a> {
    pub params: &'a Params,
    pub headers: &'a HeaderMap,
    /// `{scheme}://{host}/ogc`: the base of every link (without the key).
    pub base: String,
    pub format: Format,
}

impl OgcRequest<'_> {
    /// The key: `key=` or the `X-Api-Key` header (which wins).
    fn key_text(&self) -> Option<&str> {
        self.headers
            .get("x-api-key")
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|key| !key.is_empty())
            .or_else(|| self.params.get("key"))
    }

    /// Authenticates the key with the Query API's rules and cache.
    pub async fn authenticate(&self, state: &AppState) -> Result<KeyRecord, ApiError> {
        crate::routes::query::authenticate_key(state, self.key_text()).await.map_err(|error| {
            if error.kind == ErrorKind::NoCredentials {
                ApiError::new(ErrorKind::NoCredentials, "a key is required: the 'key' parameter or an X-Api-Key header")
            } else {
                error
            }
        })
    }
}

/// `/ogc/…` after the `ogc` segment.
pub async fn route(state: &AppState, context: &RequestContext, method: &Method, segments: &[String]) -> Response {
    let request = match OgcRequest::new(context) {
        Ok(request) => request,
        Err(error) => return errors::response(&error),
    };
    let mut response = if *method != Method::GET && *method != Method::HEAD {
        let mut refused = errors::response(&ApiError::new(
            ErrorKind::MethodNotAllowed,
            format!("method {method} is not allowed here"),
        ));
        // RFC 9110 §15.5.6: a 405 names the methods the resource has.
        refused.headers_mut().insert(axum::http::header::ALLOW, axum::http::HeaderValue::from_static("GET, HEAD"));
        refused
    } else {
        let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
        let result = match segments.as_slice() {
            [] => landing::landing(&request).await,
            ["conformance"] => landing::conformance(&request).await,
            ["api"] => Ok(openapi::document(state, &request).await),
            ["collections"] => collections::list(state, &request).await,
            ["collections", id] => collections::one(state, &request, id).await,
            ["collections", id, "queryables"] => collections::queryables(state, &request, id).await,
            ["collections", id, "items"] => items::items(state, &request, id).await,
            ["collections", id, "items", feature] => items::item(state, &request, id, feature).await,
            _ => Err(ApiError::new(ErrorKind::UnknownResource, "no resource exists at this path")),
        };
        result.unwrap_or_else(|error| errors::response(&error))
    };
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

impl<'a> OgcRequest<'a> {
    fn new(context: &'a RequestContext) -> Result<OgcRequest<'a>, ApiError> {
        let format = match context.params.get("f").map(str::to_ascii_lowercase).as_deref() {
            Some("json" | "geojson") => Format::Json,
            Some("html") => Format::Html,
            Some(other) => {
                return Err(ApiError::bad_request(format!("the 'f' parameter '{other}' is invalid: use json or html")))
            }
            None => negotiate(&context.headers),
        };
        let site = context.root.strip_suffix("/REST/v1").unwrap_or(&context.root);
        Ok(OgcRequest { params: &context.params, headers: &context.headers, base: format!("{site}/ogc"), format })
    }
}

/// HTML when the client prefers it to JSON (a browser), else JSON.
fn negotiate(headers: &HeaderMap) -> Format {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|value| value.to_str().ok()) else {
        return Format::Json;
    };
    let position = |needle: &str| accept.find(needle);
    match (position("text/html"), position("json")) {
        (Some(html), Some(json)) if html < json => Format::Html,
        (Some(_), None) => Format::Html,
        _ => Format::Json,
    }
}

/// A 200 response with a body and a content type.
pub fn respond(body: impl Into<axum::body::Body>, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body.into()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A JSON value as a response of this type.
pub fn respond_json(value: &serde_json::Value, content_type: &'static str) -> Response {
    respond(value.to_string(), content_type)
}

/// A link object (OGC 17-069r4 §7.2, RFC 8288 relations).
pub fn link(href: impl Into<String>, rel: &str, media_type: &str, title: &str) -> serde_json::Value {
    serde_json::json!({ "href": href.into(), "rel": rel, "type": media_type, "title": title })
}

/// `self` and `alternate` links of a resource at `path` (under the base),
/// for its JSON (`json_type`) and HTML forms.
pub fn self_links(request: &OgcRequest<'_>, path: &str, json_type: &str) -> Vec<serde_json::Value> {
    let url = format!("{}{path}", request.base);
    let (json_rel, html_rel) = match request.format {
        Format::Json => ("self", "alternate"),
        Format::Html => ("alternate", "self"),
    };
    vec![
        link(format!("{url}?f=json"), json_rel, json_type, "this document as JSON"),
        link(format!("{url}?f=html"), html_rel, HTML, "this document as HTML"),
    ]
}
