//! Versions: created `Building` by a job, published by `commit_load`,
//! demoted to rollback targets, and dropped with their entities.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension, Row};
use sds_core::{AccessId, DataSourceId, JobId, Schema, Version, VersionId, VersionState};

use super::codec::{count_at, instant_at, json, json_at, nanos, parsed_at};
use crate::{StoreError, StoreResult};

const VERSION_COLUMNS: &str =
    "SELECT v.id, v.data_source_id, v.job_id, v.schema, v.entity_count, v.state, v.created FROM versions v";

pub(super) fn version(connection: &Connection, id: VersionId) -> StoreResult<Option<Version>> {
    let found = connection
        .prepare_cached(&format!("{VERSION_COLUMNS} WHERE v.id = ?1"))?
        .query_row([id.0], version_row)
        .optional()?;
    Ok(found)
}

pub(super) fn version_by_job(
    connection: &Connection,
    data_source: &AccessId,
    job: &JobId,
) -> StoreResult<Option<Version>> {
    let found = connection
        .prepare_cached(&format!(
            "{VERSION_COLUMNS} JOIN data_sources d ON d.id = v.data_source_id
             WHERE d.access_id = ?1 AND v.job_id = ?2
             ORDER BY v.id DESC LIMIT 1"
        ))?
        .query_row([data_source.as_str(), job.as_str()], version_row)
        .optional()?;
    Ok(found)
}

pub(super) fn begin_version(connection: &Connection, job: &JobId, schema: &Schema) -> StoreResult<VersionId> {
    connection
        .prepare_cached(
            "INSERT INTO versions (job_id, schema, entity_count, state, created) VALUES (?1, ?2, 0, ?3, ?4)",
        )?
        .execute(params![job.as_str(), json(schema)?, VersionState::Building.as_str(), nanos(Utc::now())?])?;
    Ok(VersionId(connection.last_insert_rowid()))
}

/// The state of a version, or `NotFound`.
pub(super) fn state(connection: &Connection, id: VersionId) -> StoreResult<VersionState> {
    let text: Option<String> = connection
        .prepare_cached("SELECT state FROM versions WHERE id = ?1")?
        .query_row([id.0], |row| row.get(0))
        .optional()?;
    let text = text.ok_or_else(|| StoreError::NotFound(format!("version {id}")))?;
    VersionState::parse(&text).ok_or_else(|| StoreError::Corrupt(format!("version {id} has unknown state '{text}'")))
}

/// Refuses to change a version that is no longer being built: published
/// versions are immutable, and readers may be streaming them.
pub(super) fn require_building(connection: &Connection, id: VersionId) -> StoreResult<()> {
    match state(connection, id)? {
        VersionState::Building => Ok(()),
        other => Err(StoreError::Conflict(format!("version {id} is {}, not building", other.as_str()))),
    }
}

/// Drops the building versions whose job holds no live claim (see
/// [`crate::Store::discard_building_versions`]); `now` in nanoseconds.
pub(super) fn discard_building_versions(connection: &Connection, now: i64) -> StoreResult<u64> {
    let ids = ids(
        connection,
        "SELECT v.id FROM versions v
         WHERE v.state = 'building'
           AND NOT EXISTS (SELECT 1 FROM jobs j
                           WHERE j.id = v.job_id AND j.status = 'Pending'
                             AND j.claimed_by IS NOT NULL AND j.lease_until > ?1)",
        [now],
    )?;
    for &id in &ids {
        drop_version(connection, id)?;
    }
    Ok(ids.len() as u64)
}

/// Drops the building versions a job left (a dead run's); returns how many.
pub(super) fn drop_building_of_job(connection: &Connection, job: &JobId) -> StoreResult<u64> {
    let ids = ids(connection, "SELECT id FROM versions WHERE job_id = ?1 AND state = 'building'", [job.as_str()])?;
    for &id in &ids {
        drop_version(connection, id)?;
    }
    Ok(ids.len() as u64)
}

/// Drops one building version. A version already gone is not an error,
/// so cleanup after a failure can run twice; anything but a building
/// version is refused, since it may be published or a rollback target.
pub(super) fn discard_version(connection: &Connection, id: VersionId) -> StoreResult<()> {
    match state(connection, id) {
        Err(StoreError::NotFound(_)) => Ok(()),
        Err(error) => Err(error),
        Ok(VersionState::Building) => drop_version(connection, id),
        Ok(other) => Err(StoreError::Conflict(format!("version {id} is {}, not building", other.as_str()))),
    }
}

/// Every kept version of a data source: published, staged, then rollback
/// targets from the most recently published.
pub(super) fn versions_of(connection: &Connection, data_source: DataSourceId) -> StoreResult<Vec<Version>> {
    let found = connection
        .prepare_cached(&format!(
            "{VERSION_COLUMNS} WHERE v.data_source_id = ?1 AND v.state != 'building'
             ORDER BY CASE v.state WHEN 'published' THEN 0 WHEN 'staged' THEN 1 ELSE 2 END,
                      v.published_seq DESC, v.id DESC"
        ))?
        .query_map([data_source.0], version_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

/// Drops the staged version of a data source, if any.
pub(super) fn drop_staged(connection: &Connection, data_source: DataSourceId) -> StoreResult<()> {
    let staged =
        ids(connection, "SELECT id FROM versions WHERE data_source_id = ?1 AND state = 'staged'", [data_source.0])?;
    for id in staged {
        drop_version(connection, id)?;
    }
    Ok(())
}

/// Drops staged versions created before `cutoff` (nanoseconds).
pub(super) fn drop_staged_before(connection: &Connection, cutoff: i64) -> StoreResult<u64> {
    let expired = ids(connection, "SELECT id FROM versions WHERE state = 'staged' AND created < ?1", [cutoff])?;
    for &id in &expired {
        drop_version(connection, id)?;
    }
    Ok(expired.len() as u64)
}

/// Drops the rollback targets of a data source beyond the newest `kept`.
pub(super) fn prune_previous(connection: &Connection, data_source: DataSourceId, kept: usize) -> StoreResult<()> {
    let ids = ids(
        connection,
        "SELECT id FROM versions WHERE data_source_id = ?1 AND state = 'previous'
         ORDER BY published_seq DESC LIMIT -1 OFFSET ?2",
        params![data_source.0, i64::try_from(kept).unwrap_or(i64::MAX)],
    )?;
    for id in ids {
        drop_version(connection, id)?;
    }
    Ok(())
}

/// Deletes a version and its entities. Callers make sure it is not published.
pub(super) fn drop_version(connection: &Connection, id: VersionId) -> StoreResult<()> {
    connection.prepare_cached("DELETE FROM entities WHERE version_id = ?1")?.execute([id.0])?;
    connection.prepare_cached("DELETE FROM versions WHERE id = ?1")?.execute([id.0])?;
    tracing::debug!(version = id.0, "dropped version");
    Ok(())
}

fn ids(connection: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<Vec<VersionId>> {
    let ids = connection
        .prepare_cached(sql)?
        .query_map(params, |row| row.get(0).map(VersionId))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

fn version_row(row: &Row<'_>) -> rusqlite::Result<Version> {
    let state: String = row.get("state")?;
    let state = VersionState::parse(&state).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            5,
            rusqlite::types::Type::Text,
            format!("unknown state '{state}'").into(),
        )
    })?;
    Ok(Version {
        id: VersionId(row.get("id")?),
        data_source_id: row.get::<_, Option<i64>>("data_source_id")?.map(DataSourceId),
        job_id: parsed_at(row, "job_id")?,
        schema: json_at(row, "schema")?,
        entity_count: count_at(row, "entity_count")?,
        state,
        created: instant_at(row, "created")?,
    })
}
