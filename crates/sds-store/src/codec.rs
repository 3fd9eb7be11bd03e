//! How domain values become stored values and back, the same for every
//! backend (each backend's own `codec.rs` only adds its row readers).
//!
//! - Instants are `i64` nanoseconds since the Unix epoch, so a
//!   `DateTime<Utc>` round-trips exactly on every store (jobs are compared
//!   for equality; PostgreSQL's `timestamptz` would keep only
//!   microseconds). That covers 1677–2262; anything outside is refused
//!   ([`StoreError::Invalid`]) rather than clamped.
//! - Counts are `u64` in the domain and `i64` in the databases.
//! - Job parameters and schemas are JSON text, kept byte for byte (not
//!   PostgreSQL `jsonb`, which reorders keys and refuses `\u0000`), readable
//!   from SQL, and tolerant of field additions with `#[serde(default)]`.
//! - An entity's exact form is the postcard encoding of the whole
//!   [`Entity`] (id, location, bounds, values): what a read returns, so
//!   decoding needs no other column. Postcard is not self-describing:
//!   changing `Entity` or `Value` incompatibly needs a migration that
//!   re-encodes the blobs.
//! - Text: PostgreSQL's `text` cannot hold U+0000 (SQLite's can). So that
//!   both stores give back the same thing, names, labels and descriptions
//!   holding U+0000 are refused by both ([`check_text`]), and diagnostic
//!   text (a job's error message, a failed row's ID and reason, which
//!   quote the input) has U+0000 replaced by U+FFFD by both
//!   ([`diagnostic_text`]): a finished job must never fail to be stored
//!   because of what its input held.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use sds_core::Entity;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{StoreError, StoreResult};

/// Nanoseconds since the Unix epoch; [`StoreError::Invalid`] outside 1677–2262.
pub(crate) fn nanos(instant: DateTime<Utc>) -> StoreResult<i64> {
    instant
        .timestamp_nanos_opt()
        .ok_or_else(|| StoreError::Invalid(format!("the instant {instant} is outside 1677–2262")))
}

pub(crate) fn instant(nanos: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_nanos(nanos)
}

/// A count as the databases' `i64`; [`StoreError::Invalid`] beyond it.
pub(crate) fn count(value: u64) -> StoreResult<i64> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("the count {value} is too large to store")))
}

/// A stored count back; a negative one is corrupt.
pub(crate) fn stored_count(value: i64, what: &str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what} is negative ({value})")))
}

pub(crate) fn json<T: Serialize>(value: &T) -> StoreResult<String> {
    serde_json::to_string(value).map_err(|error| StoreError::Invalid(format!("a value cannot be stored: {error}")))
}

pub(crate) fn from_json<T: DeserializeOwned>(text: &str, what: &str) -> StoreResult<T> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("{what} does not decode: {error}")))
}

/// Refuses text that not every store can keep: U+0000 (see the module doc).
pub(crate) fn check_text(what: &str, text: &str) -> StoreResult<()> {
    if text.contains('\0') {
        return Err(StoreError::Invalid(format!("the {what} holds U+0000, which the store cannot keep")));
    }
    Ok(())
}

/// [`check_text`] for an optional value.
pub(crate) fn check_optional_text(what: &str, text: Option<&str>) -> StoreResult<()> {
    text.map_or(Ok(()), |text| check_text(what, text))
}

/// Diagnostic text as every store keeps it: U+0000 becomes U+FFFD.
pub(crate) fn diagnostic_text(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Encodes an entity into `buffer` (cleared first), so a batch reuses one allocation.
pub(crate) fn encode_entity(entity: &Entity, buffer: &mut Vec<u8>) -> StoreResult<()> {
    buffer.clear();
    let taken = std::mem::take(buffer);
    *buffer = postcard::to_extend(entity, taken)
        .map_err(|error| StoreError::Corrupt(format!("entity '{}' cannot be encoded: {error}", entity.id)))?;
    Ok(())
}

pub(crate) fn decode_entity(data: &[u8]) -> StoreResult<Entity> {
    postcard::from_bytes(data).map_err(|error| StoreError::Corrupt(format!("an entity blob does not decode: {error}")))
}

#[cfg(test)]
mod tests {
    use sds_core::{Bounds, Timestamp, Value};

    use super::*;

    #[test]
    fn instants_round_trip_to_the_nanosecond() {
        let now = Utc::now();
        assert_eq!(instant(nanos(now).unwrap()), now);
        let far = DateTime::parse_from_rfc3339("3000-01-01T00:00:00Z").unwrap().with_timezone(&Utc);
        assert!(matches!(nanos(far), Err(StoreError::Invalid(_))));
    }

    #[test]
    fn text_with_nul_is_refused_or_replaced() {
        assert!(check_text("name", "a\0b").is_err());
        assert!(check_text("name", "ab").is_ok());
        assert_eq!(diagnostic_text("a\0b"), "a\u{FFFD}b");
        assert!(matches!(diagnostic_text("ab"), Cow::Borrowed("ab")));
    }

    #[test]
    fn entities_round_trip_through_postcard() {
        let entity = Entity {
            id: "Ab-1".into(),
            latitude: 47.5,
            longitude: -122.25,
            bounds: Some(Bounds { min_longitude: -1.0, min_latitude: -2.0, max_longitude: 3.0, max_latitude: 4.0 }),
            values: vec![
                Value::String("Ab-1".into()),
                Value::Null,
                Value::Int64(-7),
                Value::Boolean(true),
                Value::Double(0.1),
                Value::DateTime(Timestamp { seconds: 1_700_000_000, nanos: 100 }),
                Value::Geography("POINT(1 2)".into()),
            ],
        };
        let mut buffer = vec![9, 9, 9];
        encode_entity(&entity, &mut buffer).unwrap();
        assert_eq!(decode_entity(&buffer).unwrap(), entity);
        assert!(decode_entity(&buffer[..buffer.len() - 3]).is_err());
    }
}
