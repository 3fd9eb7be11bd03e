//! Jobs and the rows they skipped.

use rusqlite::{params, Connection, OptionalExtension, Row};
use sds_core::job::{FailedEntity, JobOutcome, JobStatus};
use sds_core::{AccountId, Job, JobId, JobKind, KeyId, WorkerId};

use super::accounts::is_unique_violation;
use super::codec::{count, count_at, instant_at, json, json_at, nanos, optional_instant_at, parsed_at};
use crate::codec::{check_text, diagnostic_text};
use crate::{JobCounts, StoreError, StoreResult};

const JOB_COLUMNS: &str = "SELECT id, account_id, key_id, kind, status, data_source_name, params, created, completed,
            total, processed, failed, error_message, result_access_id
     FROM jobs";

/// The case-folded data source name that jobs and data sources are matched by.
pub(super) fn name_key(name: &str) -> String {
    sds_core::DataSource::name_key(name)
}

pub(super) fn insert_job(connection: &Connection, job: &Job) -> StoreResult<()> {
    check_text("data source name", &job.data_source_name)?;
    let inserted = connection
        .prepare_cached(
            "INSERT INTO jobs (id, account_id, key_id, kind, status, data_source_name, name_key, params, created,
                               completed, total, processed, failed, error_message, result_access_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )?
        .execute(params![
            job.id.as_str(),
            job.account_id.0,
            job.key_id.0,
            job.kind.as_str(),
            job.status.as_str(),
            job.data_source_name,
            name_key(&job.data_source_name),
            json(&job.params)?,
            nanos(job.created)?,
            job.completed.map(nanos).transpose()?,
            count(job.total_entity_count)?,
            count(job.processed_entity_count)?,
            count(job.failed_entity_count)?,
            job.error_message.as_deref().map(diagnostic_text),
            job.result_access_id.as_ref().map(|id| id.as_str()),
        ]);
    match inserted {
        Ok(_) => Ok(()),
        Err(error) if is_unique_violation(&error) => {
            Err(StoreError::Conflict(format!("job {} already exists", job.id)))
        }
        Err(error) => Err(error.into()),
    }
}

pub(super) fn job(connection: &Connection, id: &JobId) -> StoreResult<Option<Job>> {
    let found = connection
        .prepare_cached(&format!("{JOB_COLUMNS} WHERE id = ?1"))?
        .query_row([id.as_str()], job_row)
        .optional()?;
    Ok(found)
}

pub(super) fn newest_job(
    connection: &Connection,
    account: AccountId,
    kind: JobKind,
    data_source_name: &str,
) -> StoreResult<Option<Job>> {
    let found = connection
        .prepare_cached(&format!(
            "{JOB_COLUMNS} WHERE account_id = ?1 AND kind = ?2 AND name_key = ?3 ORDER BY seq DESC LIMIT 1"
        ))?
        .query_row(params![account.0, kind.as_str(), name_key(data_source_name)], job_row)
        .optional()?;
    Ok(found)
}

pub(super) fn pending_jobs(connection: &Connection) -> StoreResult<Vec<Job>> {
    let jobs = connection
        .prepare_cached(&format!("{JOB_COLUMNS} WHERE status = 'Pending' ORDER BY seq"))?
        .query_map([], job_row)?
        .collect::<Result<_, _>>()?;
    Ok(jobs)
}

pub(super) fn account_jobs(connection: &Connection, account: AccountId, since: i64) -> StoreResult<Vec<Job>> {
    let found = connection
        .prepare_cached(&format!(
            "{JOB_COLUMNS} WHERE account_id = ?1 AND kind != 'DataSourceDownload' AND created >= ?2
             ORDER BY status = 'Pending' DESC, seq DESC"
        ))?
        .query_map(params![account.0, since], job_row)?
        .collect::<Result<_, _>>()?;
    Ok(found)
}

pub(super) fn job_counts(connection: &Connection, account: AccountId, since: i64) -> StoreResult<JobCounts> {
    let (pending, created_since): (i64, i64) = connection
        .prepare_cached(
            "SELECT COALESCE(SUM(status = 'Pending'), 0), COALESCE(SUM(created >= ?2), 0)
             FROM jobs WHERE account_id = ?1 AND kind != 'DataSourceDownload'",
        )?
        .query_row(params![account.0, since], |row| Ok((row.get(0)?, row.get(1)?)))?;
    Ok(JobCounts { pending: pending.max(0) as u64, created_since: created_since.max(0) as u64 })
}

pub(super) fn finish_job(
    connection: &Connection,
    id: &JobId,
    outcome: &JobOutcome,
    failures: &[FailedEntity],
    worker: Option<&WorkerId>,
) -> StoreResult<()> {
    super::cluster::check_claim(connection, id, worker)?;
    record_outcome(connection, id, outcome.status, outcome, None)?;
    replace_failures(connection, id, failures)
}

/// Stores how a job ended; shared by `finish_job` and `commit_load`.
pub(super) fn record_outcome(
    connection: &Connection,
    id: &JobId,
    status: JobStatus,
    outcome: &JobOutcome,
    result_access_id: Option<&str>,
) -> StoreResult<()> {
    let updated = connection
        .prepare_cached(
            "UPDATE jobs SET status = ?2, completed = ?3, total = ?4, processed = ?5, failed = ?6,
                             error_message = ?7, result_access_id = COALESCE(?8, result_access_id)
             WHERE id = ?1",
        )?
        .execute(params![
            id.as_str(),
            status.as_str(),
            nanos(outcome.completed)?,
            count(outcome.total_entity_count)?,
            count(outcome.processed_entity_count)?,
            count(outcome.failed_entity_count)?,
            outcome.error_message.as_deref().map(diagnostic_text),
            result_access_id,
        ])?;
    if updated == 0 {
        return Err(StoreError::NotFound(format!("job {id}")));
    }
    Ok(())
}

/// Replaces a job's failures, so finishing a job twice does not list them twice.
pub(super) fn replace_failures(connection: &Connection, id: &JobId, failures: &[FailedEntity]) -> StoreResult<()> {
    connection.prepare_cached("DELETE FROM job_failures WHERE job_id = ?1")?.execute([id.as_str()])?;
    let mut insert = connection.prepare_cached(
        "INSERT INTO job_failures (job_id, ordinal, line, entity_id, reason) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (ordinal, failure) in failures.iter().enumerate() {
        insert.execute(params![
            id.as_str(),
            ordinal as i64,
            count(failure.line)?,
            failure.entity_id.as_deref().map(diagnostic_text),
            diagnostic_text(&failure.reason),
        ])?;
    }
    Ok(())
}

pub(super) fn job_failures(connection: &Connection, id: &JobId) -> StoreResult<Vec<FailedEntity>> {
    let failures = connection
        .prepare_cached("SELECT line, entity_id, reason FROM job_failures WHERE job_id = ?1 ORDER BY ordinal")?
        .query_map([id.as_str()], |row| {
            Ok(FailedEntity {
                line: count_at(row, "line")?,
                entity_id: row.get("entity_id")?,
                reason: row.get("reason")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(failures)
}

fn job_row(row: &Row<'_>) -> rusqlite::Result<Job> {
    let result_access_id: Option<String> = row.get("result_access_id")?;
    Ok(Job {
        id: parsed_at(row, "id")?,
        account_id: AccountId(row.get("account_id")?),
        key_id: KeyId(row.get("key_id")?),
        kind: parsed_at(row, "kind")?,
        status: parsed_at(row, "status")?,
        data_source_name: row.get("data_source_name")?,
        params: json_at(row, "params")?,
        created: instant_at(row, "created")?,
        completed: optional_instant_at(row, "completed")?,
        total_entity_count: count_at(row, "total")?,
        processed_entity_count: count_at(row, "processed")?,
        failed_entity_count: count_at(row, "failed")?,
        error_message: row.get("error_message")?,
        result_access_id: match result_access_id {
            Some(_) => Some(parsed_at(row, "result_access_id")?),
            None => None,
        },
    })
}
