//! Keeping a download's output for the version's next download after the
//! job has completed (see `download::run`), and making a download of the
//! same entry on this server wait for it rather than write the output
//! again. Another server does not wait: it writes its own output, which
//! costs time but is never wrong (an entry's bytes depend only on its key).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sds_store::PayloadStore;

/// Entries this process is storing, and a signal when one is done.
static KEEPING: Mutex<Option<HashSet<String>>> = Mutex::new(None);
static KEPT: Condvar = Condvar::new();

/// How long a download waits for another one's entry: a whole output
/// written to PostgreSQL at its ~100 MB/s here is well within this; past
/// it, the download writes its own output.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Returns once no download of this process is storing `entry` (or after
/// [`MAX_WAIT`]).
pub(super) fn wait_for(entry: &str) {
    let deadline = Instant::now() + MAX_WAIT;
    let mut keeping = KEEPING.lock().unwrap_or_else(PoisonError::into_inner);
    while keeping.as_ref().is_some_and(|entries| entries.contains(entry)) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else { return };
        keeping = KEPT.wait_timeout(keeping, left).unwrap_or_else(PoisonError::into_inner).0;
    }
}

/// An output to keep as `entry`, held under a second name until it is.
/// Dropped unfinished (the job failed), the second name goes and nothing
/// is kept.
pub(super) struct Keep {
    entry: String,
    file: PathBuf,
}

impl Keep {
    /// Gives `output` (a finished, synced file) a second name beside it,
    /// and marks `entry` as being kept; `None` when the link cannot be
    /// made (the output is then not kept, as when keeping fails).
    pub(super) fn start(entry: &str, output: &Path) -> Option<Keep> {
        let file = output.with_extension("keep.part");
        let _ = std::fs::remove_file(&file);
        if let Err(error) = std::fs::hard_link(output, &file) {
            tracing::warn!(%error, "could not keep the download output for the next download");
            return None;
        }
        let mut keeping = KEEPING.lock().unwrap_or_else(PoisonError::into_inner);
        keeping.get_or_insert_with(HashSet::new).insert(entry.to_owned());
        Some(Keep { entry: entry.to_owned(), file })
    }

    /// Stores the output as the entry (failures are logged: the next
    /// download writes the output again).
    pub(super) fn finish(self, payloads: &dyn PayloadStore) {
        if let Err(error) = payloads.keep_output(&self.entry, &self.file) {
            tracing::warn!(%error, "could not keep the download output for the next download");
        }
    }
}

impl Drop for Keep {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.file);
        let mut keeping = KEEPING.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entries) = keeping.as_mut() {
            entries.remove(&self.entry);
        }
        KEPT.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_download_waits_for_the_same_entry_being_kept() {
        let dir = tempfile::tempdir().unwrap();
        let output = dir.path().join("job.part");
        std::fs::write(&output, b"bytes").unwrap();
        let keep = Keep::start("r1-1-2-3-abc.xml", &output).unwrap();
        let second = dir.path().join("job.keep.part");
        assert_eq!(std::fs::read(&second).unwrap(), b"bytes");
        std::fs::remove_file(&output).unwrap();
        wait_for("r1-1-2-3-abc.csv");
        let started = Instant::now();
        let waiter = std::thread::spawn(|| wait_for("r1-1-2-3-abc.xml"));
        std::thread::sleep(Duration::from_millis(100));
        assert!(!waiter.is_finished(), "the same entry is waited for");
        drop(keep);
        waiter.join().unwrap();
        assert!(started.elapsed() >= Duration::from_millis(100));
        assert!(!second.exists(), "the second name goes with the keep");
    }
}
