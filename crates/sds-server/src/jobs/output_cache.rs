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
//! Entries live in `downloads/versions/`. The job that writes an output
//! hard-links it as the entry (no second copy on disk); a later job of
//! the same key only writes a pointer to the entry ([`pointer_path`]),
//! which the output route follows. An entry appears only by an atomic
//! link (or rename) of a finished, synced file, never by writing in
//! place: a crash leaves at most a `.part` file, which is not an entry and
//! is swept.
//!
//! Entries go when their version or data source goes ([`sweep`], run after
//! every job that changes a data source, at start and at each purge); a
//! version holds at most one entry per format, so they need no retention
//! of their own. A job whose output was a pointer then answers that its
//! output is no longer available, as after the download retention.

use std::io::Write;
use std::path::{Path, PathBuf};

use sds_core::{AccountId, DataSource, DownloadFormat, JobId, Version};
use sds_store::Store;

use super::EngineError;

/// Bumped whenever a writer's output changes, so that entries written by
/// an older `sds` are never served (they no longer parse and are swept).
const REVISION: u32 = 1;

/// The folder of entries, inside the downloads folder.
pub(super) fn dir(downloads_dir: &Path) -> PathBuf {
    downloads_dir.join("versions")
}

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

    /// The entry's path: `r{revision}-{account}-{dataSource}-{version}-{versionJob}.{ext}`.
    pub(super) fn path(&self, downloads_dir: &Path) -> PathBuf {
        dir(downloads_dir).join(format!(
            "r{REVISION}-{}-{}-{}-{}.{}",
            self.account.0,
            self.data_source,
            self.version,
            self.version_job,
            self.format.extension()
        ))
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

/// Where a job whose output is a kept entry says which entry it is:
/// `{jobId}.{ext}.kept`, holding the entry's file name. The job outputs'
/// retention sweep treats it as the job's output (by its job id and its
/// own modification time).
pub fn pointer_path(downloads_dir: &Path, job_id: &JobId, format: DownloadFormat) -> PathBuf {
    downloads_dir.join(format!("{job_id}.{}.kept", format.extension()))
}

/// The entry a pointer file names, if the name is an entry's (a pointer
/// never leads outside the folder of entries).
pub fn entry_named(downloads_dir: &Path, pointer_text: &str) -> Option<PathBuf> {
    let name = pointer_text.trim();
    OutputKey::parse(name).map(|_| dir(downloads_dir).join(name))
}

/// Makes the job's output the entry, if the entry exists, by writing the
/// job's pointer file (whole or absent, synced); `Ok(false)` when there
/// is no entry (then the caller writes the output). A pointer rather than
/// a link or a copy: a copy costs a pass over the file and its sync, and a
/// link would share one modification time between jobs, which the
/// download retention counts from.
pub(super) fn hand_out(entry: &Path, pointer: &Path) -> std::io::Result<bool> {
    if !entry.exists() {
        return Ok(false);
    }
    let name = entry.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = pointer.with_extension("part");
    let mut file = std::fs::File::create(&partial)?;
    file.write_all(name.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&partial, pointer)?;
    Ok(true)
}

/// Keeps a finished, synced output (still at its `.part` name) as the
/// entry. Losing a race to another job writing the same entry is fine:
/// both hold the same bytes.
pub(super) fn keep(finished: &Path, entry: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(entry.parent().unwrap_or(Path::new(".")))?;
    match std::fs::hard_link(finished, entry) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(_) => copy_atomically(finished, entry),
    }
}

/// Copies through a synced `.part` file and renames, so `to` is whole or
/// absent, even after a power cut.
fn copy_atomically(from: &Path, to: &Path) -> std::io::Result<()> {
    let partial = to.with_extension("part");
    let copied = std::fs::copy(from, &partial).and_then(|_| std::fs::File::open(&partial)?.sync_all());
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, to)
}

/// Removes entries whose version or data source is gone (or moved to
/// another data source or account), entries of another revision, and
/// `.part` leftovers. Returns how many files went.
pub(super) fn sweep(store: &dyn Store, downloads_dir: &Path) -> Result<u64, EngineError> {
    let entries = match std::fs::read_dir(dir(downloads_dir)) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(error) => return Err(error.into()),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let stale = match OutputKey::parse(&name) {
            None => true,
            Some(key) => !still_current(store, &key)?,
        };
        if stale && std::fs::remove_file(entry.path()).is_ok() {
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
        let path = key.path(Path::new("/d"));
        let name = path.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, "r1-7-12-345-0123456789abcdef0123456789abcdef.geojson");
        assert_eq!(OutputKey::parse(name), Some(key));
        assert_eq!(OutputKey::parse("r0-7-12-345-ab.xml"), None, "another revision");
        assert_eq!(OutputKey::parse("r1-7-12-345-ab.part"), None);
        assert_eq!(OutputKey::parse("r1-7-12-ab.csv"), None);
    }
}
