//! One log line and two metrics per request.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use metrics::{Counter, Histogram};
use tracing::Instrument;

use super::metrics::{HTTP_DURATION, HTTP_REQUESTS};
use super::{RouteTemplate, TraceId, UNMATCHED};

/// Middleware around every route: gives the request its trace id, then
/// logs `method`, `route` (the template), `status`, `latency_ms` and
/// `trace_id` at info (at error for a 5xx other than 503, which `sds`
/// answers only for a refused quota), and counts it in
/// `sds_http_requests_total` and `sds_http_request_duration_seconds`.
pub async fn record(mut request: Request, next: Next) -> Response {
    let started = Instant::now();
    let trace_id = sds_core::JobId::generate().to_string();
    request.extensions_mut().insert(TraceId(trace_id.clone()));
    let method = method_label(request.method());
    let matched = request.extensions().get::<MatchedPath>().cloned();
    let span = tracing::debug_span!("request", %trace_id);
    let response = next.run(request).instrument(span).await;
    let latency = started.elapsed();
    let status = response.status();
    let route: metrics::SharedString = match (response.extensions().get::<RouteTemplate>(), matched) {
        (Some(RouteTemplate(template)), _) => (*template).into(),
        (None, Some(matched)) => matched.as_str().to_owned().into(),
        (None, None) => UNMATCHED.into(),
    };
    // Rounded to the microsecond: a float's binary noise
    // (`0.07609300000000001`) says nothing.
    let latency_ms = (latency.as_secs_f64() * 1_000_000.0).round() / 1000.0;
    if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        tracing::error!(%method, route = %&*route, status = status.as_u16(), latency_ms, %trace_id, "request failed");
    } else {
        tracing::info!(%method, route = %&*route, status = status.as_u16(), latency_ms, %trace_id, "request");
    }
    let (requests, duration) = handles(method, route, status);
    requests.increment(1);
    duration.record(latency.as_secs_f64());
    response
}

type HandleKey = (&'static str, metrics::SharedString, u16);

thread_local! {
    /// Each shard's handles by method, route and status: after the first
    /// request of a kind, recording is two atomic operations, with no
    /// label allocation, hashing of the registry or lock.
    static HANDLES: RefCell<HashMap<HandleKey, (Counter, Histogram)>> = RefCell::default();
}

fn handles(method: &'static str, route: metrics::SharedString, status: StatusCode) -> (Counter, Histogram) {
    HANDLES.with(|handles| {
        let key = (method, route, status.as_u16());
        if let Some(found) = handles.borrow().get(&key) {
            return found.clone();
        }
        let (method, route, _) = key.clone();
        let made = (
            metrics::counter!(HTTP_REQUESTS, "method" => method, "route" => route.clone(), "status" => status.as_str().to_owned()),
            metrics::histogram!(HTTP_DURATION, "method" => method, "route" => route),
        );
        handles.borrow_mut().insert(key, made.clone());
        made
    })
}

/// A bounded label: the methods `sds` answers, anything else `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}
