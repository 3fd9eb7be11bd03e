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
pub mod table;
mod views;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;

use crate::error::{ApiError, ErrorKind};
use crate::observe::{RouteTemplate, TraceId, UNMATCHED};

/// The route template OGC API – Features requests are logged and counted
/// under (README, "Health and metrics"): one label for the whole API.
const OGC_ROUTES: &str = "/ogc/{path}";
use crate::state::AppState;
use crate::wire::{Envelope, JobType};
pub use lifecycle::PREVIOUS_VERSIONS_KEPT;
use params::Params;
use table::{Found, Route};

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
    // Made by the request layer, which logs it with the request.
    let trace_id =
        parts.extensions.get::<TraceId>().map_or_else(|| sds_core::JobId::generate().to_string(), |id| id.0.clone());
    let format_result = params.output_format();
    let envelope = Envelope {
        copyright: state.config.copyright.clone(),
        brand_logo_uri: state.config.brand_logo_uri.clone(),
        trace_id,
        format: format_result.clone().unwrap_or_default(),
    };
    let context = RequestContext {
        root: crate::base_url::root_url(&state.config, &parts.headers, parts.uri.authority().map(|a| a.as_str())),
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
        let mut response = crate::ogc::route(&state, &context, &parts.method, &segments[1..]).await;
        response.extensions_mut().insert(RouteTemplate(OGC_ROUTES));
        return response;
    }
    let (found, result) = route(&state, &context, &parts.method, &segments, body, format_result.err()).await;
    let mut response = result.unwrap_or_else(|error| envelope.error(&error));
    if response.status() == axum::http::StatusCode::METHOD_NOT_ALLOWED {
        // RFC 9110, section 15.5.6: a 405 lists the methods the path has.
        if let Some(allow) = found.and_then(|route| header::HeaderValue::from_str(&route.allow()).ok()) {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    // Named for the request log and metrics (`observe::requests`).
    response.extensions_mut().insert(RouteTemplate(found.map_or(UNMATCHED, Route::template)));
    response
}

async fn route(
    state: &AppState,
    context: &RequestContext,
    method: &Method,
    segments: &[String],
    body: Body,
    format_error: Option<ApiError>,
) -> (Option<Route>, Result<Response, ApiError>) {
    let lower: Vec<String> = segments.iter().map(|segment| segment.to_ascii_lowercase()).collect();
    let lower: Vec<&str> = lower.iter().map(String::as_str).collect();
    let found = match lower.as_slice() {
        ["rest", "v1", rest @ ..] => Route::find(method, rest),
        _ => Found::Nothing,
    };
    // An unreadable `output` is reported first, whatever the path (as
    // before routes were named), but counted under its route.
    if let Some(error) = format_error {
        let route = match found {
            Found::Route(route) | Found::WrongMethod(route) => Some(route),
            Found::Nothing => None,
        };
        return (route, Err(error));
    }
    let route = match found {
        Found::Route(route) => route,
        Found::WrongMethod(route) => {
            let error = ApiError::new(ErrorKind::MethodNotAllowed, format!("method {method} is not allowed here"));
            return (Some(route), Err(error));
        }
        Found::Nothing => return (None, Err(unknown_path())),
    };
    let rest = &lower[2..];
    let original = &segments[2..];
    let result = match route {
        Route::LoadCreate => load::create(state, context, body).await,
        Route::LoadStatus => load::status(state, context, &original[2]).await,
        Route::LoadFailedOutput => load::failed_output(state, context, &original[2]).await,
        Route::DownloadCreate => download::create(state, context, &original[2], &original[3]).await,
        Route::DownloadStatus => download::status(state, context, &original[2]).await,
        Route::DownloadOutput => download::output(state, context, &original[2], rest[4] == "succeeded").await,
        Route::Rollback => lifecycle::rollback(state, context, &original[2], &original[3]).await,
        Route::RollbackStatus => lifecycle::status(state, context, &original[2], true).await,
        Route::ListJobs => job_list::list(state, context).await,
        Route::Account => info::account(state, context).await,
        Route::AccountMetadata => info::account_metadata(state, context).await,
        Route::PublicList => info::public_list(state, context).await,
        Route::JobStatus => lifecycle::status(state, context, &original[2], false).await,
        Route::Delete => lifecycle::delete(state, context, &original[1], &original[2]).await,
        Route::Single => info::single(state, context, &original[1], &original[2]).await,
        Route::Metadata => info::metadata(state, context, &original[1], &original[2]).await,
        Route::Publish => lifecycle::publish(state, context, &original[1], &original[2]).await,
        Route::SetPublic => lifecycle::set_public(state, context, &original[1], &original[2]).await,
        Route::Query => query::query(state, context, &original[1], &original[2], &original[3]).await,
    };
    (Some(route), result)
}

fn unknown_path() -> ApiError {
    ApiError::new(ErrorKind::UnknownResource, "no resource exists at this path")
}

/// Path segments are percent-decoded once (a data source name may hold
/// `{`, `^`…); `+` stays a plus in a path.
fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment).decode_utf8_lossy().into_owned()
}
