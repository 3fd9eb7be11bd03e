//! Versions: created `Building` by a job, published by `commit_load`,
//! demoted to rollback targets, and dropped with their entities.

use chrono::Utc;
use postgres::types::ToSql;
use postgres::{Row, Transaction};
use sds_core::{AccessId, DataSourceId, JobId, Schema, Version, VersionId, VersionState};

use super::codec::{count_at, get, instant_at, json, json_at, nanos, parsed_at};
use super::partitions;
use crate::{StoreError, StoreResult};

const VERSION_COLUMNS: &str =
    "SELECT v.id, v.data_source_id, v.job_id, v.schema, v.entity_count, v.state, v.created FROM versions v";

pub(super) fn version(tx: &mut Transaction<'_>, id: VersionId) -> StoreResult<Option<Version>> {
    tx.query_opt(&format!("{VERSION_COLUMNS} WHERE v.id = $1"), &[&id.0])?.map(|row| version_row(&row)).transpose()
}

pub(super) fn version_by_job(
    tx: &mut Transaction<'_>,
    data_source: &AccessId,
    job: &JobId,
) -> StoreResult<Option<Version>> {
    tx.query_opt(
        &format!(
            "{VERSION_COLUMNS} JOIN data_sources d ON d.id = v.data_source_id
             WHERE d.access_id = $1 AND v.job_id = $2
             ORDER BY v.id DESC LIMIT 1"
        ),
        &[&data_source.as_str(), &job.as_str()],
    )?
    .map(|row| version_row(&row))
    .transpose()
}

pub(super) fn begin_version(tx: &mut Transaction<'_>, job: &JobId, schema: &Schema) -> StoreResult<VersionId> {
    let row = tx.query_one(
        "INSERT INTO versions (job_id, schema, entity_count, state, created) VALUES ($1, $2, 0, $3, $4) RETURNING id",
        &[&job.as_str(), &json(schema)?, &VersionState::Building.as_str(), &nanos(Utc::now())?],
    )?;
    let version = VersionId(row.get(0));
    partitions::create(tx, version)?;
    Ok(version)
}

/// The state of a version, or `NotFound`.
pub(super) fn state(tx: &mut Transaction<'_>, id: VersionId) -> StoreResult<VersionState> {
    let row = tx.query_opt("SELECT state FROM versions WHERE id = $1", &[&id.0])?;
    let row = row.ok_or_else(|| StoreError::NotFound(format!("version {id}")))?;
    let text: &str = get(&row, "state")?;
    VersionState::parse(text).ok_or_else(|| StoreError::Corrupt(format!("version {id} has unknown state '{text}'")))
}

/// Refuses to change a version that is no longer being built: published
/// versions are immutable, and readers may be streaming them.
pub(super) fn require_building(tx: &mut Transaction<'_>, id: VersionId) -> StoreResult<()> {
    match state(tx, id)? {
        VersionState::Building => Ok(()),
        other => Err(StoreError::Conflict(format!("version {id} is {}, not building", other.as_str()))),
    }
}

/// Drops the building versions whose job holds no live claim (see
/// [`crate::Store::discard_building_versions`]), by the database's clock.
pub(super) fn discard_building_versions(tx: &mut Transaction<'_>) -> StoreResult<u64> {
    let ids = ids(
        tx,
        "SELECT v.id FROM versions v
         WHERE v.state = 'building'
           AND NOT EXISTS (SELECT 1 FROM jobs j
                           WHERE j.id = v.job_id AND j.status = 'Pending' AND j.claimed_by IS NOT NULL
                             AND j.lease_until > (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint)",
        &[],
    )?;
    drop_versions(tx, &ids)?;
    Ok(ids.len() as u64)
}

/// Drops the building versions a job left (a dead run's); returns how many.
pub(super) fn drop_building_of_job(tx: &mut Transaction<'_>, job: &JobId) -> StoreResult<u64> {
    let ids = ids(tx, "SELECT id FROM versions WHERE job_id = $1 AND state = 'building'", &[&job.as_str()])?;
    drop_versions(tx, &ids)?;
    Ok(ids.len() as u64)
}

/// Drops one building version; one already gone is not an error, anything
/// but a building version is refused.
pub(super) fn discard_version(tx: &mut Transaction<'_>, id: VersionId) -> StoreResult<()> {
    match state(tx, id) {
        Err(StoreError::NotFound(_)) => Ok(()),
        Err(error) => Err(error),
        Ok(VersionState::Building) => drop_versions(tx, &[id]),
        Ok(other) => Err(StoreError::Conflict(format!("version {id} is {}, not building", other.as_str()))),
    }
}

/// Every kept version of a data source: published, staged, then rollback
/// targets from the most recently published (NULLS LAST: SQLite's order).
pub(super) fn versions_of(tx: &mut Transaction<'_>, data_source: DataSourceId) -> StoreResult<Vec<Version>> {
    tx.query(
        &format!(
            "{VERSION_COLUMNS} WHERE v.data_source_id = $1 AND v.state <> 'building'
             ORDER BY CASE v.state WHEN 'published' THEN 0 WHEN 'staged' THEN 1 ELSE 2 END,
                      v.published_seq DESC NULLS LAST, v.id DESC"
        ),
        &[&data_source.0],
    )?
    .iter()
    .map(version_row)
    .collect()
}

/// Drops the staged version of a data source, if any.
pub(super) fn drop_staged(tx: &mut Transaction<'_>, data_source: DataSourceId) -> StoreResult<()> {
    let staged = ids(tx, "SELECT id FROM versions WHERE data_source_id = $1 AND state = 'staged'", &[&data_source.0])?;
    drop_versions(tx, &staged)
}

/// Drops staged versions created before `cutoff` (nanoseconds).
pub(super) fn drop_staged_before(tx: &mut Transaction<'_>, cutoff: i64) -> StoreResult<u64> {
    let expired = ids(tx, "SELECT id FROM versions WHERE state = 'staged' AND created < $1", &[&cutoff])?;
    drop_versions(tx, &expired)?;
    Ok(expired.len() as u64)
}

/// Drops the rollback targets of a data source beyond the newest `kept`.
pub(super) fn prune_previous(tx: &mut Transaction<'_>, data_source: DataSourceId, kept: usize) -> StoreResult<()> {
    let ids = ids(
        tx,
        "SELECT id FROM versions WHERE data_source_id = $1 AND state = 'previous'
         ORDER BY published_seq DESC OFFSET $2",
        &[&data_source.0, &i64::try_from(kept).unwrap_or(i64::MAX)],
    )?;
    drop_versions(tx, &ids)
}

/// Deletes versions; their entities go with their tables, which the
/// store's next sweep drops once this commits (`partitions.rs`). Callers
/// make sure none is published.
pub(super) fn drop_versions(tx: &mut Transaction<'_>, ids: &[VersionId]) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = ids.iter().map(|id| id.0).collect();
    tx.execute("DELETE FROM versions WHERE id = ANY($1)", &[&ids])?;
    tracing::debug!(versions = ?ids, "dropped versions");
    Ok(())
}

fn ids(tx: &mut Transaction<'_>, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<VersionId>> {
    Ok(tx.query(sql, params)?.iter().map(|row| VersionId(row.get(0))).collect())
}

fn version_row(row: &Row) -> StoreResult<Version> {
    let state: &str = get(row, "state")?;
    let state =
        VersionState::parse(state).ok_or_else(|| StoreError::Corrupt(format!("unknown version state '{state}'")))?;
    Ok(Version {
        id: VersionId(get(row, "id")?),
        data_source_id: get::<Option<i64>>(row, "data_source_id")?.map(DataSourceId),
        job_id: parsed_at(row, "job_id")?,
        schema: json_at(row, "schema")?,
        entity_count: count_at(row, "entity_count")?,
        state,
        created: instant_at(row, "created")?,
    })
}
