//! Errors as OGC API exceptions (OGC 17-069r4 §7.5.1, the `exception.yaml`
//! schema): a JSON object with `code` and `description`, with the status
//! the SDS error table (`wire::codes`) gives the same error.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::{ApiError, ErrorKind};
use crate::wire::codes::http_status;

/// The exception code of an error kind.
fn code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::BadRequest => "InvalidParameterValue",
        ErrorKind::NoCredentials => "MissingCredentials",
        ErrorKind::InvalidCredentials | ErrorKind::CredentialsExpired => "InvalidCredentials",
        ErrorKind::NotAuthorized => "NotAuthorized",
        ErrorKind::NotFound | ErrorKind::UnknownResource => "NotFound",
        ErrorKind::MethodNotAllowed => "MethodNotAllowed",
        ErrorKind::PayloadTooLarge
        | ErrorKind::RequestTimeout
        | ErrorKind::QuotaExceeded
        | ErrorKind::TooManyJobs
        | ErrorKind::Conflict => "RequestRefused",
        ErrorKind::Unavailable | ErrorKind::Internal => "ServerError",
    }
}

pub fn response(error: &ApiError) -> Response {
    let body = serde_json::json!({
        "code": code(error.kind),
        "description": error.details.join("; "),
    });
    let mut response = (http_status(error.kind), body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(seconds) = crate::wire::codes::retry_after_seconds(error.kind) {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
