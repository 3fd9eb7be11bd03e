//! The one error type of the HTTP layer. Handlers and the job submission
//! path return `ApiError`; `wire::codes` decides its HTTP status and
//! `authenticationResultCode`, and `wire::envelope` renders it.

use sds_store::StoreError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A bad or missing parameter, a bad body, a schema or data error.
    BadRequest,
    /// No `key` parameter.
    NoCredentials,
    /// A key that no account has.
    InvalidCredentials,
    /// A key that was revoked (`sds keys revoke`).
    CredentialsExpired,
    /// A valid key without rights on the resource.
    NotAuthorized,
    /// A data source, job, version or entity that does not exist.
    NotFound,
    /// A path this server does not know.
    UnknownResource,
    MethodNotAllowed,
    PayloadTooLarge,
    /// A request body that stopped arriving (`--body-idle-timeout-seconds`).
    RequestTimeout,
    /// An account quota (data sources): SDS answers 403.
    QuotaExceeded,
    /// A job quota: SDS answers 503.
    TooManyJobs,
    /// An identifier the request asks for is held by something else (an
    /// `accessId` adopted by a new data source): 409.
    Conflict,
    /// The store's database cannot be reached (PostgreSQL down, restarting
    /// or cut off): 503, try again (README, "Running on PostgreSQL").
    Unavailable,
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub kind: ErrorKind,
    /// Messages for the client: they name the problem, never a secret.
    pub details: Vec<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, detail: impl Into<String>) -> ApiError {
        ApiError { kind, details: vec![detail.into()] }
    }

    pub fn bad_request(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::BadRequest, detail)
    }

    pub fn not_found(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotFound, detail)
    }

    pub fn not_authorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::NotAuthorized, detail)
    }

    pub fn missing_parameter(name: &str) -> ApiError {
        ApiError::bad_request(format!("the '{name}' parameter is required"))
    }

    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(ErrorKind::Internal, "the server failed to process the request; it has been logged")
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> ApiError {
        match error {
            // Passes by itself: said as such, logged at warn (the cause
            // names the connection failure, never the URL's password).
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "the database is unavailable");
                ApiError::new(ErrorKind::Unavailable, UNAVAILABLE_MESSAGE)
            }
            error => ApiError::internal(&error),
        }
    }
}

/// What a client hears while the store's database cannot be reached.
pub const UNAVAILABLE_MESSAGE: &str = "the database is unavailable right now; try again in a few seconds";

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> ApiError {
        ApiError::internal(&error)
    }
}

impl From<std::io::Error> for ApiError {
    fn from(error: std::io::Error) -> ApiError {
        ApiError::internal(&error)
    }
}
