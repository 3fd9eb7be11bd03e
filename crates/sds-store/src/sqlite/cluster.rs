//! Job claims, fencing, quota-checked inserts and the change counter (see
//! `crate::cluster`). Every function runs inside the writer's IMMEDIATE
//! transaction, so its check and its write see no other writer between
//! them: SQLite's one writer is the lock.

use std::time::Duration;

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};
use sds_core::{AccountId, Job, JobId, JobKind, WorkerId};

use super::codec::{count, nanos};
use super::jobs::{self, name_key};
use super::versions;
use crate::cluster::CREATING_KINDS;
use crate::{JobQuota, QuotaRefusal, StoreError, StoreResult};

/// Now, in the store's instants (Unix nanoseconds).
fn now() -> StoreResult<i64> {
    nanos(Utc::now())
}

/// `now` plus a lease, saturating.
fn until(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_nanos()).unwrap_or(i64::MAX))
}

struct ClaimRow {
    seq: i64,
    account_id: i64,
    name_key: String,
    kind: String,
    pending: bool,
    claimed_by: Option<String>,
    lease_until: Option<i64>,
}

fn claim_row(connection: &Connection, job: &JobId) -> StoreResult<Option<ClaimRow>> {
    let row = connection
        .prepare_cached(
            "SELECT seq, account_id, name_key, kind, status = 'Pending', claimed_by, lease_until
             FROM jobs WHERE id = ?1",
        )?
        .query_row([job.as_str()], |row| {
            Ok(ClaimRow {
                seq: row.get(0)?,
                account_id: row.get(1)?,
                name_key: row.get(2)?,
                kind: row.get(3)?,
                pending: row.get(4)?,
                claimed_by: row.get(5)?,
                lease_until: row.get(6)?,
            })
        })
        .optional()?;
    Ok(row)
}

/// See [`crate::Store::claim_job`].
pub(super) fn claim_job(connection: &Connection, job: &JobId, worker: &WorkerId, lease: Duration) -> StoreResult<bool> {
    let now = now()?;
    let Some(row) = claim_row(connection, job)? else { return Ok(false) };
    if !row.pending {
        return Ok(false);
    }
    let renewal = row.claimed_by.as_deref() == Some(worker.as_str());
    let live = row.claimed_by.is_some() && row.lease_until.is_some_and(|until| until > now);
    if live && !renewal {
        return Ok(false);
    }
    if !renewal && row.kind != JobKind::Download.as_str() {
        let blocked = connection
            .prepare_cached(
                "SELECT 1 FROM jobs
                 WHERE account_id = ?1 AND name_key = ?2 AND status = 'Pending' AND kind != ?3 AND id != ?4
                   AND (seq < ?5 OR (claimed_by IS NOT NULL AND lease_until > ?6))
                 LIMIT 1",
            )?
            .exists(params![row.account_id, row.name_key, JobKind::Download.as_str(), job.as_str(), row.seq, now])?;
        if blocked {
            return Ok(false);
        }
    }
    connection.prepare_cached("UPDATE jobs SET claimed_by = ?2, lease_until = ?3 WHERE id = ?1")?.execute(params![
        job.as_str(),
        worker.as_str(),
        until(now, lease)
    ])?;
    // Every claim starts the job clean, also this worker's own again: it
    // claims a job only when no run of its own is in flight, so what a run
    // before left `Building` (it failed while the database was away and
    // could not drop it) is dead.
    let leftovers = versions::drop_building_of_job(connection, job)?;
    if !renewal && (row.claimed_by.is_some() || leftovers > 0) {
        tracing::info!(job = %job, %worker, leftovers, "took over a job whose claim's lease ran out");
    } else if leftovers > 0 {
        tracing::info!(job = %job, leftovers, "dropped what an earlier run of this job left building");
    }
    Ok(true)
}

/// See [`crate::Store::renew_claims`].
pub(super) fn renew_claims(connection: &Connection, worker: &WorkerId, lease: Duration) -> StoreResult<Vec<JobId>> {
    let now = now()?;
    let held: Vec<String> = connection
        .prepare_cached("SELECT id FROM jobs WHERE claimed_by = ?1 AND status = 'Pending' ORDER BY seq")?
        .query_map([worker.as_str()], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    connection
        .prepare_cached("UPDATE jobs SET lease_until = ?2 WHERE claimed_by = ?1 AND status = 'Pending'")?
        .execute(params![worker.as_str(), until(now, lease)])?;
    held.iter()
        .map(|id| id.parse().map_err(|_| StoreError::Corrupt(format!("job id '{id}' is not a job id"))))
        .collect()
}

/// See [`crate::Store::record_progress`].
pub(super) fn record_progress(
    connection: &Connection,
    job: &JobId,
    worker: &WorkerId,
    processed: u64,
    failed: u64,
) -> StoreResult<()> {
    let (processed, failed) = (count(processed)?, count(failed)?);
    connection
        .prepare_cached(
            "UPDATE jobs SET total = ?3, processed = ?3, failed = ?4
             WHERE id = ?1 AND claimed_by = ?2 AND status = 'Pending'",
        )?
        .execute(params![job.as_str(), worker.as_str(), processed, failed])?;
    Ok(())
}

/// See [`crate::Store::release_claim`].
pub(super) fn release_claim(connection: &Connection, job: &JobId, worker: &WorkerId) -> StoreResult<()> {
    connection
        .prepare_cached(
            "UPDATE jobs SET claimed_by = NULL, lease_until = NULL
             WHERE id = ?1 AND claimed_by = ?2 AND status = 'Pending'",
        )?
        .execute(params![job.as_str(), worker.as_str()])?;
    Ok(())
}

/// See [`crate::Store::release_all_claims`].
pub(super) fn release_all_claims(connection: &Connection) -> StoreResult<u64> {
    let released = connection
        .prepare_cached(
            "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE status = 'Pending' AND claimed_by IS NOT NULL",
        )?
        .execute([])?;
    Ok(released as u64)
}

/// The fence of `finish_job`, `commit_load` and `commit_change` (see
/// [`crate::Store::finish_job`]): `Err(ClaimLost)` unless `worker` holds
/// the job's claim (or, with no worker, nobody holds a live one).
pub(super) fn check_claim(connection: &Connection, job: &JobId, worker: Option<&WorkerId>) -> StoreResult<()> {
    let Some(row) = claim_row(connection, job)? else {
        return Err(StoreError::NotFound(format!("job {job}")));
    };
    let now = now()?;
    let held = match worker {
        Some(worker) => row.claimed_by.as_deref() == Some(worker.as_str()),
        None => row.claimed_by.is_none() || row.lease_until.is_none_or(|until| until <= now),
    };
    if held {
        Ok(())
    } else {
        Err(StoreError::ClaimLost { job: job.to_string() })
    }
}

/// Grows the change counter (in the caller's transaction).
pub(super) fn bump_changes(connection: &Connection) -> StoreResult<()> {
    connection.prepare_cached("UPDATE changes SET counter = counter + 1 WHERE id = 1")?.execute([])?;
    Ok(())
}

pub(super) fn change_counter(connection: &Connection) -> StoreResult<u64> {
    let counter: i64 =
        connection.prepare_cached("SELECT counter FROM changes WHERE id = 1")?.query_row([], |row| row.get(0))?;
    Ok(counter.max(0) as u64)
}

/// See [`crate::Store::insert_job_within`].
pub(super) fn insert_job_within(
    connection: &Connection,
    job: &Job,
    quota: &JobQuota,
) -> StoreResult<Result<(), QuotaRefusal>> {
    let counted = quota.max_in_process > 0 || quota.max_per_day > 0;
    if counted && job.kind != JobKind::Download {
        if let Some(refusal) = job_quota_refusal(connection, job.account_id, quota)? {
            return Ok(Err(refusal));
        }
    }
    if quota.max_data_sources > 0 && CREATING_KINDS.contains(&job.kind) {
        if let Some(refusal) = data_source_refusal(connection, job, quota.max_data_sources)? {
            return Ok(Err(refusal));
        }
    }
    jobs::insert_job(connection, job)?;
    Ok(Ok(()))
}

fn job_quota_refusal(
    connection: &Connection,
    account: AccountId,
    quota: &JobQuota,
) -> StoreResult<Option<QuotaRefusal>> {
    // `JobQuota::NONE` counts from the earliest instant, before what the store keeps.
    let since = nanos(quota.since).unwrap_or(i64::MIN);
    Ok(quota.job_refusal(jobs::job_counts(connection, account, since)?))
}

/// A load of a name the account has no data source of would create one:
/// refused when the account's data sources, plus the other new names its
/// pending loads would create, reach the limit.
fn data_source_refusal(connection: &Connection, job: &Job, limit: u32) -> StoreResult<Option<QuotaRefusal>> {
    let key = name_key(&job.data_source_name);
    let exists = connection
        .prepare_cached("SELECT 1 FROM data_sources WHERE account_id = ?1 AND name_key = ?2")?
        .exists(params![job.account_id.0, key])?;
    if exists {
        return Ok(None);
    }
    let count: i64 = connection
        .prepare_cached(
            "SELECT (SELECT COUNT(*) FROM data_sources WHERE account_id = ?1)
                  + (SELECT COUNT(DISTINCT j.name_key) FROM jobs j
                     WHERE j.account_id = ?1 AND j.status = 'Pending' AND j.kind IN (?2, ?3)
                       AND j.name_key != ?4
                       AND NOT EXISTS (SELECT 1 FROM data_sources d
                                       WHERE d.account_id = j.account_id AND d.name_key = j.name_key))",
        )?
        .query_row(params![job.account_id.0, CREATING_KINDS[0].as_str(), CREATING_KINDS[1].as_str(), key], |row| {
            row.get(0)
        })?;
    let count = count.max(0) as u64;
    Ok((count >= u64::from(limit)).then_some(QuotaRefusal::DataSources { count, limit }))
}
