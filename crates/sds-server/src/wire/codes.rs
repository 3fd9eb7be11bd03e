//! The error table: each [`ErrorKind`] with its HTTP status and
//! `authenticationResultCode` (SPEC §7), and the status descriptions the
//! envelopes carry.

use axum::http::StatusCode;

use crate::error::ErrorKind;

pub fn http_status(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
        ErrorKind::NoCredentials
        | ErrorKind::InvalidCredentials
        | ErrorKind::CredentialsExpired
        | ErrorKind::NotAuthorized => StatusCode::UNAUTHORIZED,
        ErrorKind::NotFound | ErrorKind::UnknownResource => StatusCode::NOT_FOUND,
        ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
        ErrorKind::QuotaExceeded => StatusCode::FORBIDDEN,
        ErrorKind::TooManyJobs | ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Conflict => StatusCode::CONFLICT,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// `None` where no credentials were looked at (unknown path or method,
/// internal failure); `ValidCredentials` wherever the key was accepted.
pub fn authentication_result_code(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::NoCredentials => "NoCredentials",
        ErrorKind::InvalidCredentials => "InvalidCredentials",
        ErrorKind::CredentialsExpired => "CredentialsExpired",
        ErrorKind::NotAuthorized => "NotAuthorized",
        ErrorKind::BadRequest
        | ErrorKind::NotFound
        | ErrorKind::PayloadTooLarge
        | ErrorKind::RequestTimeout
        | ErrorKind::QuotaExceeded
        | ErrorKind::TooManyJobs
        | ErrorKind::Conflict => "ValidCredentials",
        // The key may not have been looked at: its lookup needs the store.
        ErrorKind::UnknownResource | ErrorKind::MethodNotAllowed | ErrorKind::Unavailable | ErrorKind::Internal => {
            "None"
        }
    }
}

/// The `Retry-After` seconds (RFC 9110 §10.2.3) of an error that passes
/// by itself: the store's database coming back.
pub fn retry_after_seconds(kind: ErrorKind) -> Option<u32> {
    match kind {
        ErrorKind::Unavailable => Some(5),
        _ => None,
    }
}

/// The `statusDescription` text: the HTTP reason phrase.
pub fn status_description(status: StatusCode) -> &'static str {
    status.canonical_reason().unwrap_or("Unknown")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_matches_the_sds_error_codes() {
        assert_eq!(http_status(ErrorKind::NoCredentials), StatusCode::UNAUTHORIZED);
        assert_eq!(authentication_result_code(ErrorKind::InvalidCredentials), "InvalidCredentials");
        assert_eq!(http_status(ErrorKind::CredentialsExpired), StatusCode::UNAUTHORIZED);
        assert_eq!(authentication_result_code(ErrorKind::CredentialsExpired), "CredentialsExpired");
        assert_eq!(http_status(ErrorKind::QuotaExceeded), StatusCode::FORBIDDEN);
        assert_eq!(http_status(ErrorKind::TooManyJobs), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(http_status(ErrorKind::Conflict), StatusCode::CONFLICT);
        assert_eq!(http_status(ErrorKind::Unavailable), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(retry_after_seconds(ErrorKind::Unavailable), Some(5));
        assert_eq!(retry_after_seconds(ErrorKind::TooManyJobs), None, "a quota does not pass in seconds");
        assert_eq!(authentication_result_code(ErrorKind::NotFound), "ValidCredentials");
        assert_eq!(status_description(StatusCode::CREATED), "Created");
        assert_eq!(status_description(StatusCode::BAD_REQUEST), "Bad Request");
    }
}
