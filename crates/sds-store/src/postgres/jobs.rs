//! Jobs and the rows they skipped.

use postgres::{Row, Transaction};
use sds_core::job::{FailedEntity, JobOutcome, JobStatus};
use sds_core::{AccountId, DataSource, Job, JobId, JobKind, KeyId, WorkerId};

use super::codec::{
    count, count_at, get, instant_at, json, json_at, nanos, optional_instant_at, optional_parsed_at, parsed_at,
};
use super::error::is_unique_violation;
use crate::codec::{check_text, diagnostic_text};
use crate::{JobCounts, StoreError, StoreResult};

const JOB_COLUMNS: &str = "SELECT id, account_id, key_id, kind, status, data_source_name, params, created, completed,
            total, processed, failed, error_message, result_access_id
     FROM jobs";

pub(super) fn insert_job(tx: &mut Transaction<'_>, job: &Job) -> StoreResult<()> {
    check_text("data source name", &job.data_source_name)?;
    let mut savepoint = tx.savepoint("insert_job")?;
    let inserted = savepoint.execute(
        "INSERT INTO jobs (id, account_id, key_id, kind, status, data_source_name, name_key, params, created,
                           completed, total, processed, failed, error_message, result_access_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        &[
            &job.id.as_str(),
            &job.account_id.0,
            &job.key_id.0,
            &job.kind.as_str(),
            &job.status.as_str(),
            &job.data_source_name,
            &DataSource::name_key(&job.data_source_name),
            &json(&job.params)?,
            &nanos(job.created)?,
            &job.completed.map(nanos).transpose()?,
            &count(job.total_entity_count)?,
            &count(job.processed_entity_count)?,
            &count(job.failed_entity_count)?,
            &job.error_message.as_deref().map(diagnostic_text),
            &job.result_access_id.as_ref().map(|id| id.as_str()),
        ],
    );
    match inserted {
        Ok(_) => Ok(savepoint.commit()?),
        Err(error) if is_unique_violation(&error) => {
            Err(StoreError::Conflict(format!("job {} already exists", job.id)))
        }
        Err(error) => Err(error.into()),
    }
}

pub(super) fn job(tx: &mut Transaction<'_>, id: &JobId) -> StoreResult<Option<Job>> {
    tx.query_opt(&format!("{JOB_COLUMNS} WHERE id = $1"), &[&id.as_str()])?.map(|row| job_row(&row)).transpose()
}

pub(super) fn newest_job(
    tx: &mut Transaction<'_>,
    account: AccountId,
    kind: JobKind,
    data_source_name: &str,
) -> StoreResult<Option<Job>> {
    tx.query_opt(
        &format!("{JOB_COLUMNS} WHERE account_id = $1 AND kind = $2 AND name_key = $3 ORDER BY seq DESC LIMIT 1"),
        &[&account.0, &kind.as_str(), &DataSource::name_key(data_source_name)],
    )?
    .map(|row| job_row(&row))
    .transpose()
}

pub(super) fn pending_jobs(tx: &mut Transaction<'_>) -> StoreResult<Vec<Job>> {
    rows(tx.query(&format!("{JOB_COLUMNS} WHERE status = 'Pending' ORDER BY seq"), &[])?)
}

pub(super) fn account_jobs(tx: &mut Transaction<'_>, account: AccountId, since: i64) -> StoreResult<Vec<Job>> {
    rows(tx.query(
        &format!(
            "{JOB_COLUMNS} WHERE account_id = $1 AND kind <> 'DataSourceDownload' AND created >= $2
             ORDER BY status = 'Pending' DESC, seq DESC"
        ),
        &[&account.0, &since],
    )?)
}

pub(super) fn job_counts(tx: &mut Transaction<'_>, account: AccountId, since: i64) -> StoreResult<JobCounts> {
    let row = tx.query_one(
        "SELECT COUNT(*) FILTER (WHERE status = 'Pending'), COUNT(*) FILTER (WHERE created >= $2)
         FROM jobs WHERE account_id = $1 AND kind <> 'DataSourceDownload'",
        &[&account.0, &since],
    )?;
    let (pending, created_since): (i64, i64) = (row.get(0), row.get(1));
    Ok(JobCounts { pending: pending.max(0) as u64, created_since: created_since.max(0) as u64 })
}

pub(super) fn finish_job(
    tx: &mut Transaction<'_>,
    id: &JobId,
    outcome: &JobOutcome,
    failures: &[FailedEntity],
    worker: Option<&WorkerId>,
) -> StoreResult<()> {
    super::cluster::check_claim(tx, id, worker)?;
    record_outcome(tx, id, outcome.status, outcome, None)?;
    replace_failures(tx, id, failures)
}

/// Stores how a job ended; shared by `finish_job` and the commits.
pub(super) fn record_outcome(
    tx: &mut Transaction<'_>,
    id: &JobId,
    status: JobStatus,
    outcome: &JobOutcome,
    result_access_id: Option<&str>,
) -> StoreResult<()> {
    let updated = tx.execute(
        "UPDATE jobs SET status = $2, completed = $3, total = $4, processed = $5, failed = $6,
                         error_message = $7, result_access_id = COALESCE($8, result_access_id)
         WHERE id = $1",
        &[
            &id.as_str(),
            &status.as_str(),
            &nanos(outcome.completed)?,
            &count(outcome.total_entity_count)?,
            &count(outcome.processed_entity_count)?,
            &count(outcome.failed_entity_count)?,
            &outcome.error_message.as_deref().map(diagnostic_text),
            &result_access_id,
        ],
    )?;
    if updated == 0 {
        return Err(StoreError::NotFound(format!("job {id}")));
    }
    Ok(())
}

/// Replaces a job's failures (one statement over arrays, however many),
/// so finishing a job twice does not list them twice.
pub(super) fn replace_failures(tx: &mut Transaction<'_>, id: &JobId, failures: &[FailedEntity]) -> StoreResult<()> {
    tx.execute("DELETE FROM job_failures WHERE job_id = $1", &[&id.as_str()])?;
    if failures.is_empty() {
        return Ok(());
    }
    let lines = failures.iter().map(|failure| count(failure.line)).collect::<StoreResult<Vec<i64>>>()?;
    let entity_ids: Vec<Option<String>> = failures
        .iter()
        .map(|failure| failure.entity_id.as_deref().map(|id| diagnostic_text(id).into_owned()))
        .collect();
    let reasons: Vec<String> = failures.iter().map(|failure| diagnostic_text(&failure.reason).into_owned()).collect();
    tx.execute(
        "INSERT INTO job_failures (job_id, ordinal, line, entity_id, reason)
         SELECT $1, ordinality - 1, line, entity_id, reason
         FROM unnest($2::bigint[], $3::text[], $4::text[]) WITH ORDINALITY AS f(line, entity_id, reason, ordinality)",
        &[&id.as_str(), &lines, &entity_ids, &reasons],
    )?;
    Ok(())
}

pub(super) fn job_failures(tx: &mut Transaction<'_>, id: &JobId) -> StoreResult<Vec<FailedEntity>> {
    tx.query("SELECT line, entity_id, reason FROM job_failures WHERE job_id = $1 ORDER BY ordinal", &[&id.as_str()])?
        .iter()
        .map(|row| {
            Ok(FailedEntity {
                line: count_at(row, "line")?,
                entity_id: get(row, "entity_id")?,
                reason: get(row, "reason")?,
            })
        })
        .collect()
}

fn rows(rows: Vec<Row>) -> StoreResult<Vec<Job>> {
    rows.iter().map(job_row).collect()
}

pub(super) fn job_row(row: &Row) -> StoreResult<Job> {
    Ok(Job {
        id: parsed_at(row, "id")?,
        account_id: AccountId(get(row, "account_id")?),
        key_id: KeyId(get(row, "key_id")?),
        kind: parsed_at(row, "kind")?,
        status: parsed_at(row, "status")?,
        data_source_name: get(row, "data_source_name")?,
        params: json_at(row, "params")?,
        created: instant_at(row, "created")?,
        completed: optional_instant_at(row, "completed")?,
        total_entity_count: count_at(row, "total")?,
        processed_entity_count: count_at(row, "processed")?,
        failed_entity_count: count_at(row, "failed")?,
        error_message: get(row, "error_message")?,
        result_access_id: optional_parsed_at(row, "result_access_id")?,
    })
}
