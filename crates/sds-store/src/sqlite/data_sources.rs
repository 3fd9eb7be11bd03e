//! Data sources, and the commit that publishes a load into one.

use rusqlite::{params, Connection, OptionalExtension, Row};
use sds_core::job::JobStatus;
use sds_core::{AccessId, AccountId, DataSource, DataSourceId, KeyId, VersionId, VersionState};

use super::accounts::is_unique_violation;
use super::codec::{instant_at, nanos, parsed_at};
use super::jobs::{self, name_key};
use super::versions;
use crate::codec::{check_optional_text, check_text};
use crate::{LoadCommit, StoreError, StoreResult};

const DATA_SOURCE_COLUMNS: &str = "SELECT id, access_id, account_id, name, description, master_key_id, query_key_id,
            is_public, published_version_id, created, updated
     FROM data_sources";

pub(super) fn by_name(connection: &Connection, account: AccountId, name: &str) -> StoreResult<Option<DataSource>> {
    let found = connection
        .prepare_cached(&format!("{DATA_SOURCE_COLUMNS} WHERE account_id = ?1 AND name_key = ?2"))?
        .query_row(params![account.0, name_key(name)], data_source_row)
        .optional()?;
    Ok(found)
}

pub(super) fn by_access_id(connection: &Connection, access_id: &AccessId) -> StoreResult<Option<DataSource>> {
    let found = connection
        .prepare_cached(&format!("{DATA_SOURCE_COLUMNS} WHERE access_id = ?1"))?
        .query_row([access_id.as_str()], data_source_row)
        .optional()?;
    Ok(found)
}

/// The account whose deleted data source held `access_id`, if any.
pub(super) fn retired_by(connection: &Connection, access_id: &AccessId) -> StoreResult<Option<AccountId>> {
    let found = connection
        .prepare_cached("SELECT account_id FROM retired_access_ids WHERE access_id = ?1")?
        .query_row([access_id.as_str()], |row| row.get::<_, i64>(0))
        .optional()?;
    Ok(found.map(AccountId))
}

/// See [`crate::Store::commit_load`]. The data source's `updated` (and
/// `created`, when new) is the job's completion instant, so the job and the
/// data source agree on when the load happened.
pub(super) fn commit_load(connection: &Connection, commit: &LoadCommit<'_>) -> StoreResult<DataSource> {
    check_text("data source name", commit.data_source_name)?;
    check_optional_text("description", commit.description)?;
    let version = versions::version(connection, commit.version_id)?
        .ok_or_else(|| StoreError::NotFound(format!("version {}", commit.version_id)))?;
    if version.state != VersionState::Building {
        return Err(StoreError::Conflict(format!(
            "version {} is {}, not building",
            version.id,
            version.state.as_str()
        )));
    }
    if &version.job_id != commit.job_id {
        return Err(StoreError::Conflict(format!(
            "version {} was built by job {}, not {}",
            version.id, version.job_id, commit.job_id
        )));
    }
    let job =
        jobs::job(connection, commit.job_id)?.ok_or_else(|| StoreError::NotFound(format!("job {}", commit.job_id)))?;
    if job.status != JobStatus::Pending {
        return Err(StoreError::Conflict(format!("job {} has already ended ({})", job.id, job.status)));
    }
    super::cluster::check_claim(connection, commit.job_id, commit.worker)?;
    super::cluster::bump_changes(connection)?;

    let now = nanos(commit.outcome.completed)?;
    let data_source = match by_name(connection, commit.account_id, commit.data_source_name)? {
        Some(existing) => existing,
        None => create(connection, commit, now)?,
    };

    if commit.stage {
        // One staged version at most: a new staging replaces the old one.
        versions::drop_staged(connection, data_source.id)?;
        stage(connection, commit.version_id, data_source.id)?;
    } else {
        if let Some(published) = data_source.published_version {
            connection
                .prepare_cached("UPDATE versions SET state = 'previous' WHERE id = ?1")?
                .execute([published.0])?;
        }
        publish(connection, commit.version_id, data_source.id)?;
    }
    let published_version = if commit.stage { data_source.published_version } else { Some(commit.version_id) };

    connection
        .prepare_cached(
            "UPDATE data_sources
             SET published_version_id = ?2, updated = ?3,
                 query_key_id = COALESCE(?4, query_key_id),
                 is_public = COALESCE(?5, is_public),
                 description = COALESCE(?6, description)
             WHERE id = ?1",
        )?
        .execute(params![
            data_source.id.0,
            published_version.map(|version| version.0),
            now,
            commit.query_key.map(|key| key.0),
            commit.set_public,
            commit.description,
        ])?;

    // After the data source points at the new version, so that no dropped
    // version is still referenced.
    versions::prune_previous(connection, data_source.id, commit.previous_versions_kept)?;

    // The job's own status is not taken from the outcome: publishing is
    // exactly what makes a load Completed.
    jobs::record_outcome(
        connection,
        commit.job_id,
        JobStatus::Completed,
        commit.outcome,
        Some(data_source.access_id.as_str()),
    )?;
    jobs::replace_failures(connection, commit.job_id, commit.failures)?;

    by_access_id(connection, &data_source.access_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("data source {} vanished during its commit", data_source.access_id)))
}

fn create(connection: &Connection, commit: &LoadCommit<'_>, now: i64) -> StoreResult<DataSource> {
    if retired_by(connection, commit.new_access_id)?.is_some_and(|holder| holder != commit.account_id) {
        return Err(StoreError::Conflict(format!(
            "access id {} was held by a data source of another account",
            commit.new_access_id
        )));
    }
    let inserted = connection
        .prepare_cached(
            "INSERT INTO data_sources (access_id, account_id, name, name_key, description, master_key_id,
                                       query_key_id, is_public, created, updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?
        .execute(params![
            commit.new_access_id.as_str(),
            commit.account_id.0,
            commit.data_source_name,
            name_key(commit.data_source_name),
            commit.description,
            commit.master_key.0,
            commit.query_key.map(|key| key.0),
            commit.set_public.unwrap_or(false),
            now,
        ]);
    match inserted {
        Ok(_) => {}
        Err(error) if is_unique_violation(&error) => {
            return Err(StoreError::Conflict(format!("access id {} is taken", commit.new_access_id)))
        }
        Err(error) => return Err(error.into()),
    }
    by_access_id(connection, commit.new_access_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("data source {} vanished after its insert", commit.new_access_id)))
}

fn stage(connection: &Connection, version: VersionId, data_source: DataSourceId) -> StoreResult<()> {
    connection
        .prepare_cached(
            "UPDATE versions
             SET data_source_id = ?2, state = 'staged',
                 entity_count = (SELECT COUNT(*) FROM entities WHERE version_id = ?1)
             WHERE id = ?1",
        )?
        .execute(params![version.0, data_source.0])?;
    Ok(())
}

/// Makes a version of a data source the published one, newest in publish order.
pub(super) fn publish(connection: &Connection, version: VersionId, data_source: DataSourceId) -> StoreResult<()> {
    connection
        .prepare_cached(
            "UPDATE versions
             SET data_source_id = ?2, state = 'published',
                 entity_count = (SELECT COUNT(*) FROM entities WHERE version_id = ?1),
                 published_seq = (SELECT COALESCE(MAX(published_seq), 0) + 1 FROM versions)
             WHERE id = ?1",
        )?
        .execute(params![version.0, data_source.0])?;
    Ok(())
}

pub(super) fn of_account(connection: &Connection, account: AccountId) -> StoreResult<Vec<DataSource>> {
    let found = connection
        .prepare_cached(&format!("{DATA_SOURCE_COLUMNS} WHERE account_id = ?1 ORDER BY name_key"))?
        .query_map([account.0], data_source_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn public(connection: &Connection) -> StoreResult<Vec<DataSource>> {
    let found = connection
        .prepare_cached(&format!("{DATA_SOURCE_COLUMNS} WHERE is_public = 1 ORDER BY name_key, access_id"))?
        .query_map([], data_source_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn data_source_row(row: &Row<'_>) -> rusqlite::Result<DataSource> {
    Ok(DataSource {
        id: DataSourceId(row.get("id")?),
        access_id: parsed_at(row, "access_id")?,
        account_id: AccountId(row.get("account_id")?),
        name: row.get("name")?,
        description: row.get("description")?,
        master_key: KeyId(row.get("master_key_id")?),
        query_key: row.get::<_, Option<i64>>("query_key_id")?.map(KeyId),
        is_public: row.get("is_public")?,
        published_version: row.get::<_, Option<i64>>("published_version_id")?.map(VersionId),
        created: instant_at(row, "created")?,
        updated: instant_at(row, "updated")?,
    })
}
