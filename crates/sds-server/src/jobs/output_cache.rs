//! Finished download outputs kept per version and format, so that a second
//! download of an unchanged version costs only the transfer.
//!
//! Versions are immutable once built, and a download's bytes depend only on
//! the data source (its name), the version (its schema and entities), the
//! format and the writers' code. An entry is therefore named by all of
//! them: the account, the data source row, the version row, the random id
//! of the job that made the version (so that even a store replaced under
//! the same data dir can never match an old entry), the format, and
//! [`REVISION`]. Nothing else answers from it: a job only looks up the key
//! of the version it was allowed to download.
//!
//! Entries are payloads (`sds_store::PayloadStore`'s kept outputs; with
//! files, `downloads/versions/`). The job that writes an output keeps it
//! as the entry (a hard link with files: no second copy on disk); a later
//! job of the same key only points at the entry
//! (`PayloadStore::point_to_kept`), and the output route follows the
//! pointer. An entry appears only whole (a link or rename of a finished,
//! synced file), never by writing in place.
//!
//! Entries go when their version or data source goes ([`sweep`], run after
//! every job that changes a data source, when the store's change counter
//! moves, at start and at each purge); a version holds at most one entry
//! per format, so they need no retention of their own. A job whose output
//! was a pointer then answers that its output is no longer available, as
//! after the download retention.

use sds_core::{AccountId, DataSource, DownloadFormat, Version};
use sds_store::{PayloadStore, Store};

use super::EngineError;

/// Bumped whenever a writer's output changes, so that entries written by
/// an older `sds` are never served (they no longer parse and are swept).
const REVISION: u32 = 1;

/// What one entry holds: a version of a data source in a format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OutputKey {
    account: AccountId,
    data_source: i64,
    version: i64,
    version_job: String,
    format: DownloadFormat,
}

impl OutputKey {
    pub(super) fn new(source: &DataSource, version: &Version, format: DownloadFormat) -> OutputKey {
        OutputKey {
            account: source.account_id,
            data_source: source.id.0,
            version: version.id.0,
            version_job: version.job_id.to_string(),
            format,
        }
    }

    /// The entry's name: `r{revision}-{account}-{dataSource}-{version}-{versionJob}.{ext}`.
    pub(super) fn name(&self) -> String {
        format!(
            "r{REVISION}-{}-{}-{}-{}.{}",
            self.account.0,
            self.data_source,
            self.version,
            self.version_job,
            self.format.extension()
        )
    }

    /// The key an entry's file name spells, if it is one of this revision.
    fn parse(file_name: &str) -> Option<OutputKey> {
        let (stem, extension) = file_name.split_once('.')?;
        let format = [DownloadFormat::Xml, DownloadFormat::GeoJson, DownloadFormat::Csv]
            .into_iter()
            .find(|format| format.extension() == extension)?;
        let mut parts = stem.split('-');
        if parts.next()? != format!("r{REVISION}") {
            return None;
        }
        let mut number = || parts.next()?.parse::<i64>().ok();
        let (account, data_source, version) = (number()?, number()?, number()?);
        let version_job = parts.next()?.to_owned();
        parts.next().is_none().then_some(OutputKey {
            account: AccountId(account),
            data_source,
            version,
            version_job,
            format,
        })
    }
}

/// Removes entries whose version or data source is gone (or moved to
/// another data source or account), entries of another revision, and
/// leftovers of writes cut short. Returns how many went.
pub(super) fn sweep(store: &dyn Store, payloads: &dyn PayloadStore) -> Result<u64, EngineError> {
    let mut removed = 0;
    for name in payloads.kept_entries()? {
        let stale = match OutputKey::parse(&name) {
            None => true,
            Some(key) => !still_current(store, &key)?,
        };
        if stale && payloads.remove_kept(&name).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Whether the key's version still exists, in the same data source of the
/// same account, made by the same job.
fn still_current(store: &dyn Store, key: &OutputKey) -> Result<bool, EngineError> {
    let Some(version) = store.version(sds_core::VersionId(key.version))? else { return Ok(false) };
    let Some(source_id) = version.data_source_id.filter(|id| id.0 == key.data_source) else { return Ok(false) };
    if version.job_id.to_string() != key.version_job {
        return Ok(false);
    }
    let sources = store.data_sources_of(key.account)?;
    Ok(sources.iter().any(|source| source.id == source_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_spell_their_whole_key_and_parse_back() {
        let key = OutputKey {
            account: AccountId(7),
            data_source: 12,
            version: 345,
            version_job: "0123456789abcdef0123456789abcdef".into(),
            format: DownloadFormat::GeoJson,
        };
        let name = key.name();
        assert_eq!(name, "r1-7-12-345-0123456789abcdef0123456789abcdef.geojson");
        assert_eq!(OutputKey::parse(&name), Some(key));
        assert_eq!(OutputKey::parse("r0-7-12-345-ab.xml"), None, "another revision");
        assert_eq!(OutputKey::parse("r1-7-12-345-ab.part"), None);
        assert_eq!(OutputKey::parse("r1-7-12-ab.csv"), None);
    }
}
