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

/// Why an incremental load has nothing to apply to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "data source '{name}' has no published version: an incremental load (incremental or incrementalStaging) \
     applies to the published data; publish the staged version first, or load it with complete or completeStaging"
)]
pub struct NoPublishedVersion {
    pub name: String,
}

impl DataSource {
    /// The key under which an account's data source names are unique and
    /// jobs find their data source: SDS names match case-insensitively
    /// (Unicode lowercase, the same fold as [`crate::Entity::key_of`]; valid
    /// names are ASCII, where it is plain ASCII case folding). Every store
    /// keys names by this, so both backends agree on what is one name.
    pub fn name_key(name: &str) -> String {
        name.to_lowercase()
    }

    /// The version an incremental load (`incremental` or
    /// `incrementalStaging`) starts from: the published one. The load page
    /// defines `incremental` as editing "an existing data source" and
    /// `incrementalStaging` as the same operation with the result staged, so
    /// both build on the published data; a data source that has only a
    /// staged version (after `completeStaging`) has none to edit.
    pub fn incremental_base(&self) -> Result<VersionId, NoPublishedVersion> {
        self.published_version.ok_or_else(|| NoPublishedVersion { name: self.name.clone() })
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

    /// Tryout F7: an incremental load onto a staged-only data source has
    /// no base, and the reason says so.
    #[test]
    fn tryout_f7_incremental_base_is_the_published_version() {
        let mut source = DataSource {
            id: DataSourceId(1),
            access_id: AccessId::generate(),
            account_id: AccountId(1),
            name: "Shops".into(),
            description: None,
            master_key: KeyId(1),
            query_key: None,
            is_public: false,
            published_version: None,
            created: Utc::now(),
            updated: Utc::now(),
        };
        let error = source.incremental_base().unwrap_err();
        assert!(error.to_string().starts_with("data source 'Shops' has no published version"), "{error}");
        source.published_version = Some(VersionId(7));
        assert_eq!(source.incremental_base(), Ok(VersionId(7)));
    }
}
