//! Reading PostgreSQL rows into domain values; the conversions are the
//! backend-neutral ones of `crate::codec`, and every column type matches
//! the SQLite store's (instants as `bigint` nanoseconds, JSON as `text`).

use chrono::{DateTime, Utc};
use postgres::types::FromSql;
use postgres::Row;

use crate::codec::stored_count;
pub(super) use crate::codec::{count, from_json, instant, json, nanos};
use crate::{StoreError, StoreResult};

pub(super) fn get<'a, T: FromSql<'a>>(row: &'a Row, column: &str) -> StoreResult<T> {
    row.try_get(column).map_err(|error| StoreError::Corrupt(format!("column {column}: {error}")))
}

pub(super) fn instant_at(row: &Row, column: &str) -> StoreResult<DateTime<Utc>> {
    get::<i64>(row, column).map(instant)
}

pub(super) fn optional_instant_at(row: &Row, column: &str) -> StoreResult<Option<DateTime<Utc>>> {
    get::<Option<i64>>(row, column).map(|nanos| nanos.map(instant))
}

pub(super) fn count_at(row: &Row, column: &str) -> StoreResult<u64> {
    stored_count(get(row, column)?, column)
}

pub(super) fn json_at<T: serde::de::DeserializeOwned>(row: &Row, column: &str) -> StoreResult<T> {
    from_json(get::<&str>(row, column)?, column)
}

/// Reads a text column through `FromStr` (ids, enum names).
pub(super) fn parsed_at<T>(row: &Row, column: &str) -> StoreResult<T>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let text: &str = get(row, column)?;
    text.parse().map_err(|error: T::Err| StoreError::Corrupt(format!("column {column}: '{text}': {error}")))
}

pub(super) fn optional_parsed_at<T>(row: &Row, column: &str) -> StoreResult<Option<T>>
where
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    match get::<Option<&str>>(row, column)? {
        Some(_) => parsed_at(row, column).map(Some),
        None => Ok(None),
    }
}
