//! How the PostgreSQL client's errors become [`StoreError`]s.
//!
//! "Cannot reach the database" is told apart from every other failure, so
//! that the server can answer 503 and retry later: a closed or failed
//! connection (the server restarted, the network dropped), SQLSTATE class
//! 08 (connection exception), 57P01–57P03 (the server shutting down or
//! starting) and 53300 (too many connections). Codes from
//! <https://www.postgresql.org/docs/15/errcodes-appendix.html>.

use std::error::Error as _;

use postgres::error::SqlState;

use crate::StoreError;

impl From<postgres::Error> for StoreError {
    fn from(error: postgres::Error) -> Self {
        if is_unavailable(&error) {
            return StoreError::Unavailable(describe(&error));
        }
        match error.code() {
            Some(code)
                if *code == SqlState::CHARACTER_NOT_IN_REPERTOIRE || *code == SqlState::UNTRANSLATABLE_CHARACTER =>
            {
                StoreError::Invalid(describe(&error))
            }
            _ => StoreError::Backend(describe(&error).into()),
        }
    }
}

/// The error with what the database server said: the client's own text
/// for a server error is only "db error", which tells an operator nothing
/// ("password authentication failed for user …", "database … does not
/// exist", "permission denied to create extension …" are in the source).
fn describe(error: &postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{}: {} (SQLSTATE {})", db.severity(), db.message(), db.code().code());
    }
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

fn is_unavailable(error: &postgres::Error) -> bool {
    if error.is_closed() {
        return true;
    }
    if let Some(code) = error.code() {
        let code = code.code();
        return code.starts_with("08") || matches!(code, "57P01" | "57P02" | "57P03" | "53300");
    }
    // No SQLSTATE: the client's own failures. An I/O error underneath is
    // the connection (refused, reset, timed out); anything else (a type
    // that does not convert, a protocol surprise) is not.
    let mut source = error.source();
    while let Some(cause) = source {
        if cause.is::<std::io::Error>() {
            return true;
        }
        source = cause.source();
    }
    error.to_string().contains("timeout")
}

/// Whether an insert failed on a unique constraint.
pub(super) fn is_unique_violation(error: &postgres::Error) -> bool {
    error.code() == Some(&SqlState::UNIQUE_VIOLATION)
}
