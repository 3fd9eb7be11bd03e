//! Routing. SDS paths are matched case-insensitively (the docs and clients
//! spell them `Dataflows`, `dataflows`, `LoadDatasource`…) and carry names
//! that keep their case, so one dispatcher matches lowercased segments and
//! hands the original ones to the handlers.

pub mod download;
mod info;
mod job_list;
mod lifecycle;
pub mod load;
pub mod params;
pub mod query;
mod sources;
mod views;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;

use crate::config::ServeConfig;
use crate::error::{ApiError, ErrorKind};
use crate::state::AppState;
use crate::wire::{Envelope, JobType};
pub use lifecycle::PREVIOUS_VERSIONS_KEPT;
use params::Params;

/// What a handler knows about its request besides the body.
pub struct RequestContext {
    pub params: Params,
    /// `{scheme}://{host}/REST/v1`: the base of every link.
    pub root: String,
    pub envelope: Envelope,
    pub headers: HeaderMap,
    /// The JSON type of `$getstatus` answers (a setting).
    pub getstatus_type: JobType,
}

pub async fn dispatch(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let params = Params::parse(parts.uri.query());
    let trace_id = sds_core::JobId::generate().to_string();
    let format_result = params.output_format();
    let envelope = Envelope {
        copyright: state.config.copyright.clone(),
        brand_logo_uri: state.config.brand_logo_uri.clone(),
        trace_id,
        format: format_result.clone().unwrap_or_default(),
    };
    let context = RequestContext {
        root: root_url(&state.config, &parts.headers),
        params,
        envelope: envelope.clone(),
        headers: parts.headers,
        getstatus_type: if state.config.getstatus_type == "dataservice" {
            JobType::DataServiceJob
        } else {
            JobType::DataflowJob
        },
    };
    let segments: Vec<String> =
        parts.uri.path().split('/').filter(|segment| !segment.is_empty()).map(decode_segment).collect();
    // OGC API – Features has its own formats and error bodies.
    if segments.first().is_some_and(|first| first.eq_ignore_ascii_case("ogc")) {
        return crate::ogc::route(&state, &context, &parts.method, &segments[1..]).await;
    }
    let result = match format_result {
        Ok(_) => route(&state, &context, &parts.method, &segments, body).await,
        Err(error) => Err(error),
    };
    result.unwrap_or_else(|error| envelope.error(&error))
}

async fn route(
    state: &AppState,
    context: &RequestContext,
    method: &Method,
    segments: &[String],
    body: Body,
) -> Result<Response, ApiError> {
    let lower: Vec<String> = segments.iter().map(|segment| segment.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let ["rest", "v1", rest @ ..] = lower.as_slice() else {
        return Err(unknown_path());
    };
    let original = &segments[2..];
    let is_get = *method == Method::GET || *method == Method::HEAD;
    let require = |allowed: bool| {
        if allowed {
            Ok(())
        } else {
            Err(ApiError::new(ErrorKind::MethodNotAllowed, format!("method {method} is not allowed here")))
        }
    };
    match rest {
        ["dataflows", "loaddatasource"] => {
            require(*method == Method::POST)?;
            load::create(state, context, body).await
        }
        ["dataflows", "loaddatasource", _] => {
            require(is_get)?;
            load::status(state, context, &original[2]).await
        }
        ["dataflows", "loaddatasource", _, "output", "failed"] => {
            require(is_get)?;
            load::failed_output(state, context, &original[2]).await
        }
        ["dataflows" | "data", "datasourcedownload", _, _] => {
            require(is_get)?;
            download::create(state, context, &original[2], &original[3]).await
        }
        ["dataflows", "datasourcedownload" | "download", _] => {
            require(is_get)?;
            download::status(state, context, &original[2]).await
        }
        ["dataflows", "datasourcedownload" | "download", _, "output" | "ouput", which @ ("succeeded" | "failed")] => {
            require(is_get)?;
            download::output(state, context, &original[2], which == &"succeeded").await
        }
        ["dataflows", "datasourcerollback", _, _] => {
            require(is_get)?;
            lifecycle::rollback(state, context, &original[2], &original[3]).await
        }
        ["dataflows", "datasourcerollback", _] => {
            require(is_get)?;
            lifecycle::status(state, context, &original[2], true).await
        }
        ["dataflows", "listjobs"] => {
            require(is_get)?;
            job_list::list(state, context).await
        }
        ["data"] => {
            require(is_get)?;
            info::account(state, context).await
        }
        ["data", "$metadata"] => {
            require(is_get)?;
            info::account_metadata(state, context).await
        }
        ["data", "$getpublicdatasourcelist"] => {
            require(is_get)?;
            info::public_list(state, context).await
        }
        ["data", "jobs", _, "$getstatus"] => {
            require(is_get)?;
            lifecycle::status(state, context, &original[2], false).await
        }
        ["data", _, _] if *method == Method::DELETE => {
            lifecycle::delete(state, context, &original[1], &original[2]).await
        }
        ["data", _, _] => {
            require(is_get)?;
            info::single(state, context, &original[1], &original[2]).await
        }
        ["data", _, _, "$metadata"] => {
            require(is_get)?;
            info::metadata(state, context, &original[1], &original[2]).await
        }
        ["data", _, _, "$commit"] => {
            require(is_get)?;
            lifecycle::publish(state, context, &original[1], &original[2]).await
        }
        ["data", _, _, "$updatedatasource"] => {
            require(is_get)?;
            lifecycle::set_public(state, context, &original[1], &original[2]).await
        }
        ["data", access_id, _, entity] if !entity.starts_with('$') && *access_id != "jobs" => {
            require(is_get)?;
            query::query(state, context, &original[1], &original[2], &original[3]).await
        }
        _ => Err(unknown_path()),
    }
}

fn unknown_path() -> ApiError {
    ApiError::new(ErrorKind::UnknownResource, "no resource exists at this path")
}

/// Links use the configured public URL, else the request's own scheme and
/// host (a TLS-terminating proxy says https with `X-Forwarded-Proto`).
fn root_url(config: &ServeConfig, headers: &HeaderMap) -> String {
    if let Some(public_url) = &config.public_url {
        return format!("{}/REST/v1", public_url.trim_end_matches('/'));
    }
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| !host.is_empty())
        .map_or_else(|| config.listen.to_string(), str::to_owned);
    let scheme = headers
        .get("x-forwarded-proto")
        .and_then(|value| value.to_str().ok())
        .filter(|scheme| scheme.eq_ignore_ascii_case("https"))
        .map_or("http", |_| "https");
    format!("{scheme}://{host}/REST/v1")
}

/// Path segments are percent-decoded once (a data source name may hold
/// `{`, `^`…); `+` stays a plus in a path.
fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}
