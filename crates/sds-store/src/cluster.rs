//! What several servers on one store need from it, beside the data: job
//! claims with leases (so each job runs on one server, and a dead server's
//! jobs are taken over), job inserts checked against the account's quotas
//! in the same transaction, and a change counter that tells every server
//! when data sources, versions or keys changed (see the `Store` methods
//! under "Several servers").
//!
//! The claim columns and the counter are plain rows; a backend serialises
//! the check-then-write steps with its own means: SQLite's one writer
//! (`BEGIN IMMEDIATE`), PostgreSQL's row locks and advisory locks (each
//! method's contract names the statement).

use std::fmt;

use chrono::{DateTime, Utc};
use sds_core::JobKind;

use crate::JobCounts;

/// The jobs that create a data source when its name has none (incremental
/// loads need one): only they count against
/// [`JobQuota::max_data_sources`].
pub(crate) const CREATING_KINDS: [JobKind; 2] = [JobKind::LoadComplete, JobKind::LoadCompleteStaging];

/// The account quotas a job insert is checked against, in the insert's
/// transaction ([`crate::Store::insert_job_within`]). `0` lifts a limit.
/// Downloads are never counted and a download job is inserted with
/// [`JobQuota::NONE`] (SDS exempts them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobQuota {
    /// Jobs of the account `Pending` at once, downloads excepted
    /// (`--max-jobs-in-process`).
    pub max_in_process: u32,
    /// Jobs of the account created at or after `since`, downloads
    /// excepted (`--max-jobs-per-day`, with `since` 24 hours ago).
    pub max_per_day: u32,
    pub since: DateTime<Utc>,
    /// Data sources of the account (`--max-data-sources`), checked only
    /// when the job would create one (a load of a name the account has no
    /// data source of). Counted: the account's data sources plus the
    /// distinct other names (folded as data source names are) of its
    /// `Pending` loads that would create one, so that two loads of new
    /// names cannot both pass the last free slot.
    pub max_data_sources: u32,
}

impl JobQuota {
    /// No limit at all (downloads; tools).
    pub const NONE: JobQuota =
        JobQuota { max_in_process: 0, max_per_day: 0, since: DateTime::<Utc>::UNIX_EPOCH, max_data_sources: 0 };

    /// The job quota an account with `counts` (counted from [`JobQuota::since`])
    /// is at, if any: jobs in process first, then jobs per day. Each store
    /// counts in its insert's transaction and asks this; the rule is one.
    pub(crate) fn job_refusal(&self, counts: JobCounts) -> Option<QuotaRefusal> {
        if self.max_in_process > 0 && counts.pending >= u64::from(self.max_in_process) {
            return Some(QuotaRefusal::InProcess { count: counts.pending, limit: self.max_in_process });
        }
        if self.max_per_day > 0 && counts.created_since >= u64::from(self.max_per_day) {
            return Some(QuotaRefusal::PerDay { count: counts.created_since, limit: self.max_per_day });
        }
        None
    }
}

/// Why [`crate::Store::insert_job_within`] did not insert a job: the quota
/// it hit, how many the account has, and the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaRefusal {
    /// `count` jobs in process, at the limit `limit`.
    InProcess { count: u64, limit: u32 },
    /// `count` jobs created since the quota's `since`.
    PerDay { count: u64, limit: u32 },
    /// `count` data sources (and pending creations).
    DataSources { count: u64, limit: u32 },
}

impl fmt::Display for QuotaRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            QuotaRefusal::InProcess { count, limit } => {
                write!(f, "{count} jobs in process, the limit is {limit}")
            }
            QuotaRefusal::PerDay { count, limit } => write!(f, "{count} jobs in 24 hours, the limit is {limit}"),
            QuotaRefusal::DataSources { count, limit } => write!(f, "{count} data sources, the limit is {limit}"),
        }
    }
}
