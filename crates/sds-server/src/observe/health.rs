//! `GET /healthz` and `GET /readyz` (README, "Health and metrics").

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::state::AppState;

/// Liveness: 200 `{"status":"ok"}` whenever the process serves HTTP; it
/// touches nothing else, so a busy store never gets a live server killed.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Readiness: 200 `{"status":"ready"}` when the store answers a read and
/// its schema is the one this binary migrates to; otherwise 503
/// `{"status":"unavailable","reason":…}` (a load balancer then sends
/// traffic elsewhere).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = std::sync::Arc::clone(&state.store);
    // Not `store_call`: that hides the cause, which is the answer here.
    let checked = tokio::task::spawn_blocking(move || store.ready().map_err(|error| error.to_string())).await;
    match checked.unwrap_or_else(|panic| Err(panic.to_string())) {
        Ok(()) => Json(json!({ "status": "ready" })).into_response(),
        Err(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "unavailable", "reason": reason })))
                .into_response()
        }
    }
}
