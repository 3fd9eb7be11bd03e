//! Operating the server: health and readiness probes, Prometheus metrics,
//! and the one log line per request.
//!
//! Requests are named by route template (`/REST/v1/data/{accessId}/…`),
//! never by their path or query string: paths hold names and ids, query
//! strings hold keys. The SDS dispatcher names its template on the response
//! ([`RouteTemplate`]); axum routes (the probes) by their `MatchedPath`.

pub mod health;
pub mod metrics;
pub mod requests;

/// The route template that answered, set on the response by the SDS
/// dispatcher ([`crate::routes::table::Route::template`]).
#[derive(Clone, Copy, Debug)]
pub struct RouteTemplate(pub &'static str);

/// The template of a request no route matched (a 404 or an unreadable
/// output format), so that scanners cannot mint label values.
pub const UNMATCHED: &str = "unmatched";

/// The request's trace id, set on the request by [`requests::record`]:
/// the envelope's `traceId`, and the `trace_id` of its log line, so that
/// a user's error report finds the line.
#[derive(Clone, Debug)]
pub struct TraceId(pub String);
