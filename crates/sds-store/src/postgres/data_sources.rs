//! Data sources, and the commit that publishes a load into one.

use postgres::{Row, Transaction};
use sds_core::job::JobStatus;
use sds_core::{AccessId, AccountId, DataSource, DataSourceId, KeyId, VersionId, VersionState};

use super::codec::{get, instant_at, nanos, parsed_at};
use super::error::is_unique_violation;
use super::{jobs, versions};
use crate::codec::{check_optional_text, check_text};
use crate::{LoadCommit, StoreError, StoreResult};

const DATA_SOURCE_COLUMNS: &str = "SELECT id, access_id, account_id, name, description, master_key_id, query_key_id,
            is_public, published_version_id, created, updated
     FROM data_sources";

pub(super) fn by_name(tx: &mut Transaction<'_>, account: AccountId, name: &str) -> StoreResult<Option<DataSource>> {
    tx.query_opt(
        &format!("{DATA_SOURCE_COLUMNS} WHERE account_id = $1 AND name_key = $2"),
        &[&account.0, &DataSource::name_key(name)],
    )?
    .map(|row| data_source_row(&row))
    .transpose()
}

pub(super) fn by_access_id(tx: &mut Transaction<'_>, access_id: &AccessId) -> StoreResult<Option<DataSource>> {
    tx.query_opt(&format!("{DATA_SOURCE_COLUMNS} WHERE access_id = $1"), &[&access_id.as_str()])?
        .map(|row| data_source_row(&row))
        .transpose()
}

pub(super) fn retired_by(tx: &mut Transaction<'_>, access_id: &AccessId) -> StoreResult<Option<AccountId>> {
    let row = tx.query_opt("SELECT account_id FROM retired_access_ids WHERE access_id = $1", &[&access_id.as_str()])?;
    Ok(row.map(|row| AccountId(row.get(0))))
}

/// See [`crate::Store::commit_load`]; the same steps as the SQLite store's
/// (`sqlite/data_sources.rs`), under the write lock.
pub(super) fn commit_load(tx: &mut Transaction<'_>, commit: &LoadCommit<'_>) -> StoreResult<DataSource> {
    check_text("data source name", commit.data_source_name)?;
    check_optional_text("description", commit.description)?;
    let version = versions::version(tx, commit.version_id)?
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
    let job = jobs::job(tx, commit.job_id)?.ok_or_else(|| StoreError::NotFound(format!("job {}", commit.job_id)))?;
    if job.status != JobStatus::Pending {
        return Err(StoreError::Conflict(format!("job {} has already ended ({})", job.id, job.status)));
    }
    super::cluster::check_claim(tx, commit.job_id, commit.worker)?;
    super::cluster::bump_changes(tx)?;

    let now = nanos(commit.outcome.completed)?;
    let data_source = match by_name(tx, commit.account_id, commit.data_source_name)? {
        Some(existing) => existing,
        None => create(tx, commit, now)?,
    };

    if commit.stage {
        versions::drop_staged(tx, data_source.id)?;
        set_state(tx, commit.version_id, data_source.id, VersionState::Staged)?;
    } else {
        if let Some(published) = data_source.published_version {
            tx.execute("UPDATE versions SET state = 'previous' WHERE id = $1", &[&published.0])?;
        }
        set_state(tx, commit.version_id, data_source.id, VersionState::Published)?;
    }
    let published_version = if commit.stage { data_source.published_version } else { Some(commit.version_id) };

    tx.execute(
        "UPDATE data_sources
         SET published_version_id = $2, updated = $3,
             query_key_id = COALESCE($4, query_key_id),
             is_public = COALESCE($5, is_public),
             description = COALESCE($6, description)
         WHERE id = $1",
        &[
            &data_source.id.0,
            &published_version.map(|version| version.0),
            &now,
            &commit.query_key.map(|key| key.0),
            &commit.set_public,
            &commit.description,
        ],
    )?;
    versions::prune_previous(tx, data_source.id, commit.previous_versions_kept)?;
    jobs::record_outcome(
        tx,
        commit.job_id,
        JobStatus::Completed,
        commit.outcome,
        Some(data_source.access_id.as_str()),
    )?;
    jobs::replace_failures(tx, commit.job_id, commit.failures)?;

    by_access_id(tx, &data_source.access_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("data source {} vanished during its commit", data_source.access_id)))
}

fn create(tx: &mut Transaction<'_>, commit: &LoadCommit<'_>, now: i64) -> StoreResult<DataSource> {
    if retired_by(tx, commit.new_access_id)?.is_some_and(|holder| holder != commit.account_id) {
        return Err(StoreError::Conflict(format!(
            "access id {} was held by a data source of another account",
            commit.new_access_id
        )));
    }
    let mut savepoint = tx.savepoint("create_data_source")?;
    let inserted = savepoint.execute(
        "INSERT INTO data_sources (access_id, account_id, name, name_key, description, master_key_id,
                                   query_key_id, is_public, created, updated)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
        &[
            &commit.new_access_id.as_str(),
            &commit.account_id.0,
            &commit.data_source_name,
            &DataSource::name_key(commit.data_source_name),
            &commit.description,
            &commit.master_key.0,
            &commit.query_key.map(|key| key.0),
            &commit.set_public.unwrap_or(false),
            &now,
        ],
    );
    match inserted {
        Ok(_) => savepoint.commit()?,
        Err(error) if is_unique_violation(&error) => {
            return Err(StoreError::Conflict(format!("access id {} is taken", commit.new_access_id)))
        }
        Err(error) => return Err(error.into()),
    }
    by_access_id(tx, commit.new_access_id)?
        .ok_or_else(|| StoreError::Corrupt(format!("data source {} vanished after its insert", commit.new_access_id)))
}

/// Makes a version the staged or (newest in publish order) published one
/// of a data source, with its entity count.
pub(super) fn set_state(
    tx: &mut Transaction<'_>,
    version: VersionId,
    data_source: DataSourceId,
    state: VersionState,
) -> StoreResult<()> {
    let published = state == VersionState::Published;
    tx.execute(
        &format!(
            "UPDATE versions
         SET data_source_id = $2, state = $3,
             entity_count = (SELECT COUNT(*) FROM {}),
             published_seq = CASE WHEN $4 THEN (SELECT COALESCE(MAX(published_seq), 0) + 1 FROM versions)
                                  ELSE published_seq END
         WHERE id = $1",
            super::partitions::table(version)
        ),
        &[&version.0, &data_source.0, &state.as_str(), &published],
    )
    .map_err(super::partitions::missing_table_is_not_found(version))?;
    Ok(())
}

pub(super) fn of_account(tx: &mut Transaction<'_>, account: AccountId) -> StoreResult<Vec<DataSource>> {
    tx.query(&format!("{DATA_SOURCE_COLUMNS} WHERE account_id = $1 ORDER BY name_key"), &[&account.0])?
        .iter()
        .map(data_source_row)
        .collect()
}

pub(super) fn public(tx: &mut Transaction<'_>) -> StoreResult<Vec<DataSource>> {
    tx.query(&format!("{DATA_SOURCE_COLUMNS} WHERE is_public ORDER BY name_key, access_id"), &[])?
        .iter()
        .map(data_source_row)
        .collect()
}

pub(super) fn data_source_row(row: &Row) -> StoreResult<DataSource> {
    Ok(DataSource {
        id: DataSourceId(get(row, "id")?),
        access_id: parsed_at(row, "access_id")?,
        account_id: AccountId(get(row, "account_id")?),
        name: get(row, "name")?,
        description: get(row, "description")?,
        master_key: KeyId(get(row, "master_key_id")?),
        query_key: get::<Option<i64>>(row, "query_key_id")?.map(KeyId),
        is_public: get(row, "is_public")?,
        published_version: get::<Option<i64>>(row, "published_version_id")?.map(VersionId),
        created: instant_at(row, "created")?,
        updated: instant_at(row, "updated")?,
    })
}
