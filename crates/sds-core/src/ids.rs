//! Identifiers. Public ones (access ids, job ids) are 32 lowercase hex digits,
//! random, so they cannot be guessed; internal ones are store row numbers.

use std::fmt;
use std::str::FromStr;

use rand::RngCore;
use serde::{Deserialize, Serialize};

macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

row_id!(
    /// An account: owns keys and data sources.
    AccountId
);
impl AccountId {
    /// The key under which account names are unique: ASCII letters fold
    /// to lowercase, every other character is kept as is ("ACME" and
    /// "acme" are one account, "Ärger" and "ärger" are two). This is
    /// SQLite's `NOCASE`, which the first stores used for the column, so
    /// existing stores keep their accounts; every store keys names by it.
    pub fn name_key(name: &str) -> String {
        name.to_ascii_lowercase()
    }
}

row_id!(
    /// A key, by its store row; the key text itself is never stored.
    KeyId
);
row_id!(
    /// A data source, by its store row.
    DataSourceId
);
row_id!(
    /// One immutable version of a data source's entities.
    VersionId
);

/// Error for a text that is not 32 hex digits.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("'{0}' is not a 32-digit hexadecimal id")]
pub struct InvalidHexId(pub String);

fn random_hex32() -> String {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

fn parse_hex32(text: &str) -> Result<String, InvalidHexId> {
    if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(text.to_ascii_lowercase())
    } else {
        Err(InvalidHexId(text.chars().take(64).collect()))
    }
}

macro_rules! hex_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// A new random id.
            pub fn generate() -> Self {
                Self(random_hex32())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = InvalidHexId;

            /// Accepts either case; the id is kept in lowercase so that
            /// lookups match case-insensitively.
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                parse_hex32(text).map(Self)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidHexId;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

hex_id!(
    /// The public id of a data source, stable across overwrites.
    AccessId
);
hex_id!(
    /// The id of a dataflow job; a version is named by the job that made it.
    JobId
);
hex_id!(
    /// One running server's name in job claims: random at each start, so
    /// that a restarted server never takes a dead one's claims for its own.
    WorkerId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_32_lowercase_hex_and_distinct() {
        let first = JobId::generate();
        let second = JobId::generate();
        assert_eq!(first.as_str().len(), 32);
        assert!(first.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_ne!(first, second);
    }

    #[test]
    fn parsing_is_case_insensitive_and_strict_on_length() {
        let id: AccessId = "20181F26D9E94C81ACDF9496133D4F23".parse().unwrap();
        assert_eq!(id.as_str(), "20181f26d9e94c81acdf9496133d4f23");
        assert!("20181f26".parse::<AccessId>().is_err());
        assert!("g0181f26d9e94c81acdf9496133d4f23".parse::<AccessId>().is_err());
    }
}
