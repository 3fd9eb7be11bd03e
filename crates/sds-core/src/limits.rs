//! Account limits; defaults are the SDS Enterprise values. For the three
//! account quotas (jobs in process, jobs a day, data sources) 0 means no
//! limit.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Largest uncompressed upload, in bytes (300 MB).
    pub max_upload_bytes: u64,
    /// Most entities in one data source.
    pub max_entities_per_data_source: u64,
    /// Most jobs of one account running at once; 0: no limit.
    pub max_jobs_in_process: u32,
    /// Most jobs of one account in a rolling 24 hours (downloads excepted); 0: no limit.
    pub max_jobs_per_day: u32,
    /// Most data sources of one account; 0: no limit.
    pub max_data_sources: u32,
    /// Most failed rows listed at a job's `failed` output (all are counted).
    pub max_failures_listed: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_upload_bytes: 300 * 1000 * 1000,
            max_entities_per_data_source: 200_000,
            max_jobs_in_process: 10,
            max_jobs_per_day: 50,
            max_data_sources: 25,
            max_failures_listed: 10_000,
        }
    }
}
