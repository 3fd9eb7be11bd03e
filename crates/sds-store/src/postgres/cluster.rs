//! Job claims, fencing, quota-checked inserts and the change counter (see
//! `crate::cluster`), under the store's write lock like every metadata
//! write (`postgres/mod.rs`): its check and its write see no other writer
//! between them, on any server. The job row is also locked `FOR UPDATE
//! SKIP LOCKED`, so that a claim never waits for another server's
//! transaction on the same job. Instants are the database's clock
//! (`clock_timestamp()`), so servers with skewed clocks agree on when a
//! lease runs out.

use std::time::Duration;

use postgres::Transaction;
use sds_core::{AccountId, DataSource, Job, JobId, JobKind, WorkerId};

use super::codec::nanos;
use super::{jobs, versions};
use crate::cluster::CREATING_KINDS;
use crate::codec::count;
use crate::{JobQuota, QuotaRefusal, StoreError, StoreResult};

/// The channel `NOTIFY` wakes [`crate::Store::wait_for_change`] on.
pub(super) const CHANGES_CHANNEL: &str = "sds_changes";

/// The database's now, in the store's instants (Unix nanoseconds).
fn now(tx: &mut Transaction<'_>) -> StoreResult<i64> {
    let row = tx.query_one("SELECT (extract(epoch FROM clock_timestamp()) * 1000000000)::bigint", &[])?;
    Ok(row.get(0))
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

/// The job's claim columns; with `lock`, the row locked `FOR UPDATE SKIP
/// LOCKED` (`None` also when another transaction holds it).
fn claim_row(tx: &mut Transaction<'_>, job: &JobId, lock: bool) -> StoreResult<Option<ClaimRow>> {
    let sql = format!(
        "SELECT seq, account_id, name_key, kind, status = 'Pending', claimed_by, lease_until FROM jobs WHERE id = $1{}",
        if lock { " FOR UPDATE SKIP LOCKED" } else { "" }
    );
    let row = tx.query_opt(&sql, &[&job.as_str()])?;
    Ok(row.map(|row| ClaimRow {
        seq: row.get(0),
        account_id: row.get(1),
        name_key: row.get(2),
        kind: row.get(3),
        pending: row.get(4),
        claimed_by: row.get(5),
        lease_until: row.get(6),
    }))
}

/// See [`crate::Store::claim_job`].
pub(super) fn claim_job(
    tx: &mut Transaction<'_>,
    job: &JobId,
    worker: &WorkerId,
    lease: Duration,
) -> StoreResult<bool> {
    let now = now(tx)?;
    let Some(row) = claim_row(tx, job, true)? else { return Ok(false) };
    if !row.pending {
        return Ok(false);
    }
    let renewal = row.claimed_by.as_deref() == Some(worker.as_str());
    let live = row.claimed_by.is_some() && row.lease_until.is_some_and(|until| until > now);
    if live && !renewal {
        return Ok(false);
    }
    if !renewal && row.kind != JobKind::Download.as_str() {
        let blocked = tx
            .query_opt(
                "SELECT 1 FROM jobs
                 WHERE account_id = $1 AND name_key = $2 AND status = 'Pending' AND kind <> $3 AND id <> $4
                   AND (seq < $5 OR (claimed_by IS NOT NULL AND lease_until > $6))
                 LIMIT 1",
                &[&row.account_id, &row.name_key, &JobKind::Download.as_str(), &job.as_str(), &row.seq, &now],
            )?
            .is_some();
        if blocked {
            return Ok(false);
        }
    }
    tx.execute(
        "UPDATE jobs SET claimed_by = $2, lease_until = $3 WHERE id = $1",
        &[&job.as_str(), &worker.as_str(), &until(now, lease)],
    )?;
    // Every claim starts the job clean, also this worker's own again: it
    // claims a job only when no run of its own is in flight, so what a run
    // before left `Building` (it failed while the database was away and
    // could not drop it) is dead.
    let leftovers = versions::drop_building_of_job(tx, job)?;
    if !renewal && (row.claimed_by.is_some() || leftovers > 0) {
        tracing::info!(job = %job, %worker, leftovers, "took over a job whose claim's lease ran out");
    } else if leftovers > 0 {
        tracing::info!(job = %job, leftovers, "dropped what an earlier run of this job left building");
    }
    Ok(true)
}

/// See [`crate::Store::renew_claims`].
pub(super) fn renew_claims(tx: &mut Transaction<'_>, worker: &WorkerId, lease: Duration) -> StoreResult<Vec<JobId>> {
    let now = now(tx)?;
    let rows = tx.query(
        "UPDATE jobs SET lease_until = $2 WHERE claimed_by = $1 AND status = 'Pending' RETURNING id, seq",
        &[&worker.as_str(), &until(now, lease)],
    )?;
    let mut held: Vec<(i64, String)> = rows.iter().map(|row| (row.get(1), row.get(0))).collect();
    held.sort();
    held.into_iter()
        .map(|(_, id)| id.parse().map_err(|_| StoreError::Corrupt(format!("job id '{id}' is not a job id"))))
        .collect()
}

/// See [`crate::Store::record_progress`].
pub(super) fn record_progress(
    tx: &mut Transaction<'_>,
    job: &JobId,
    worker: &WorkerId,
    processed: u64,
    failed: u64,
) -> StoreResult<()> {
    let (processed, failed) = (count(processed)?, count(failed)?);
    tx.execute(
        "UPDATE jobs SET total = $3, processed = $3, failed = $4 WHERE id = $1 AND claimed_by = $2 AND status = 'Pending'",
        &[&job.as_str(), &worker.as_str(), &processed, &failed],
    )?;
    Ok(())
}

/// See [`crate::Store::release_claim`].
pub(super) fn release_claim(tx: &mut Transaction<'_>, job: &JobId, worker: &WorkerId) -> StoreResult<()> {
    tx.execute(
        "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE id = $1 AND claimed_by = $2 AND status = 'Pending'",
        &[&job.as_str(), &worker.as_str()],
    )?;
    Ok(())
}

/// See [`crate::Store::release_all_claims`].
pub(super) fn release_all_claims(tx: &mut Transaction<'_>) -> StoreResult<u64> {
    Ok(tx.execute(
        "UPDATE jobs SET claimed_by = NULL, lease_until = NULL WHERE status = 'Pending' AND claimed_by IS NOT NULL",
        &[],
    )?)
}

/// The fence of `finish_job`, `commit_load` and `commit_change` (see
/// [`crate::Store::finish_job`]): `Err(ClaimLost)` unless `worker` holds
/// the job's claim (or, with no worker, nobody holds a live one).
pub(super) fn check_claim(tx: &mut Transaction<'_>, job: &JobId, worker: Option<&WorkerId>) -> StoreResult<()> {
    let now = now(tx)?;
    let Some(row) = claim_row(tx, job, false)? else {
        return Err(StoreError::NotFound(format!("job {job}")));
    };
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

/// Grows the change counter and notifies listeners, both at the caller's commit.
pub(super) fn bump_changes(tx: &mut Transaction<'_>) -> StoreResult<()> {
    tx.execute("UPDATE changes SET counter = counter + 1 WHERE id = 1", &[])?;
    tx.batch_execute(&format!("NOTIFY {CHANGES_CHANNEL}"))?;
    Ok(())
}

pub(super) fn change_counter(client: &mut impl postgres::GenericClient) -> StoreResult<u64> {
    let counter: i64 = client.query_one("SELECT counter FROM changes WHERE id = 1", &[])?.get(0);
    Ok(counter.max(0) as u64)
}

/// See [`crate::Store::insert_job_within`].
pub(super) fn insert_job_within(
    tx: &mut Transaction<'_>,
    job: &Job,
    quota: &JobQuota,
) -> StoreResult<Result<(), QuotaRefusal>> {
    if job.kind != JobKind::Download {
        if let Some(refusal) = job_quota_refusal(tx, job.account_id, quota)? {
            return Ok(Err(refusal));
        }
    }
    if quota.max_data_sources > 0 && CREATING_KINDS.contains(&job.kind) {
        if let Some(refusal) = data_source_refusal(tx, job, quota.max_data_sources)? {
            return Ok(Err(refusal));
        }
    }
    jobs::insert_job(tx, job)?;
    Ok(Ok(()))
}

fn job_quota_refusal(
    tx: &mut Transaction<'_>,
    account: AccountId,
    quota: &JobQuota,
) -> StoreResult<Option<QuotaRefusal>> {
    // `JobQuota::NONE` counts from the earliest instant, before what the store keeps.
    let since = nanos(quota.since).unwrap_or(i64::MIN);
    Ok(quota.job_refusal(jobs::job_counts(tx, account, since)?))
}

/// See the SQLite store's `data_source_refusal`: the account's data
/// sources plus the other new names its pending loads would create.
fn data_source_refusal(tx: &mut Transaction<'_>, job: &Job, limit: u32) -> StoreResult<Option<QuotaRefusal>> {
    let key = DataSource::name_key(&job.data_source_name);
    let exists = tx
        .query_opt("SELECT 1 FROM data_sources WHERE account_id = $1 AND name_key = $2", &[&job.account_id.0, &key])?
        .is_some();
    if exists {
        return Ok(None);
    }
    let count: i64 = tx
        .query_one(
            "SELECT (SELECT COUNT(*) FROM data_sources WHERE account_id = $1)
                  + (SELECT COUNT(DISTINCT j.name_key) FROM jobs j
                     WHERE j.account_id = $1 AND j.status = 'Pending' AND j.kind IN ($2, $3)
                       AND j.name_key <> $4
                       AND NOT EXISTS (SELECT 1 FROM data_sources d
                                       WHERE d.account_id = j.account_id AND d.name_key = j.name_key))",
            &[&job.account_id.0, &CREATING_KINDS[0].as_str(), &CREATING_KINDS[1].as_str(), &key],
        )?
        .get(0);
    let count = count.max(0) as u64;
    Ok((count >= u64::from(limit)).then_some(QuotaRefusal::DataSources { count, limit }))
}
