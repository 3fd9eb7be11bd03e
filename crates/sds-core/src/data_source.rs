//! Data sources and their immutable versions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::ids::{AccessId, AccountId, DataSourceId, JobId, KeyId, VersionId};
use crate::schema::{Schema, MAX_NAME_CHARS};

#[derive(Clone, Debug, PartialEq)]
pub struct DataSource {
    pub id: DataSourceId,
    pub access_id: AccessId,
    pub account_id: AccountId,
    pub name: String,
    pub description: Option<String>,
    pub master_key: KeyId,
    pub query_key: Option<KeyId>,
    pub is_public: bool,
    pub published_version: Option<VersionId>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum VersionState {
    /// Being written by a running job; invisible, dropped at start-up.
    Building,
    Published,
    /// A former published version, kept as a rollback target.
    Previous,
    Staged,
}

impl VersionState {
    pub fn as_str(self) -> &'static str {
        match self {
            VersionState::Building => "building",
            VersionState::Published => "published",
            VersionState::Previous => "previous",
            VersionState::Staged => "staged",
        }
    }

    pub fn parse(text: &str) -> Option<VersionState> {
        [VersionState::Building, VersionState::Published, VersionState::Previous, VersionState::Staged]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// One version of a data source, named by the job that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct Version {
    pub id: VersionId,
    pub data_source_id: Option<DataSourceId>,
    pub job_id: JobId,
    pub schema: Schema,
    pub entity_count: u64,
    pub state: VersionState,
    pub created: DateTime<Utc>,
}

/// Why a data source name is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("data source name '{name}' is invalid: {reason}")]
pub struct InvalidDataSourceName {
    pub name: String,
    pub reason: &'static str,
}

/// At most 50 of `A-Za-z0-9` and `` ~ ` ! $ ^ _ = { } ``, plus `-`, which
/// the toolkit allows.
pub fn check_data_source_name(name: &str) -> Result<(), InvalidDataSourceName> {
    let invalid = |reason| Err(InvalidDataSourceName { name: crate::value::excerpt(name), reason });
    if name.is_empty() {
        return invalid("it is empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return invalid("it is longer than 50 characters");
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || "~`!$^_={}-".contains(c)) {
        return invalid("only letters, digits and ~ ` ! $ ^ _ = { } - are allowed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_source_names_follow_the_sds_alphabet() {
        assert!(check_data_source_name("FourthCoffeeSample").is_ok());
        assert!(check_data_source_name("my-shops_2{x}").is_ok());
        assert!(check_data_source_name("").is_err());
        assert!(check_data_source_name("has space").is_err());
        assert!(check_data_source_name("a/b").is_err());
        assert!(check_data_source_name(&"n".repeat(51)).is_err());
    }
}
