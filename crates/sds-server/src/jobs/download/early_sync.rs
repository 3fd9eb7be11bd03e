//! A download output file that reaches the disk while it is written, so
//! that the `fsync` the job makes before it completes (the output must
//! survive a power cut once the client is told it exists) finds little
//! left to write.
//!
//! Without it the kernel holds the whole output in its page cache until
//! that last `fsync`, which then writes it all while the client waits:
//! 15 ms for the cities' 29 MB of XML, a fifth of the download. Here a
//! helper thread syncs the file every [`SYNC_EVERY`] bytes written, while
//! formatting goes on; the final sync writes only the tail. This is the
//! same idea as PostgreSQL's `backend_flush_after` and RocksDB's
//! `bytes_per_sync`, which use Linux's `sync_file_range`; the workspace
//! forbids `unsafe` code, and no maintained safe wrapper of that call
//! exists, so the helper uses `fdatasync` (`File::sync_data`) on a second
//! handle to the file, which std offers safely.

use std::fs::File;
use std::io::{self, Write};
use std::sync::mpsc;
use std::thread::JoinHandle;

/// Bytes written between two syncs by the helper.
const SYNC_EVERY: u64 = 4 << 20;

/// A file being written, synced on a helper thread as it grows. Finish it
/// with [`EarlySyncFile::finish`], which makes it durable.
pub(super) struct EarlySyncFile {
    file: File,
    unsynced: u64,
    /// Wakes the helper; `None` once it failed or was never started.
    wake: Option<mpsc::SyncSender<()>>,
    helper: Option<JoinHandle<io::Result<()>>>,
}

impl EarlySyncFile {
    /// Wraps a new (empty) file. Should the helper thread not start, the
    /// file is still written, and synced whole by [`Self::finish`].
    pub(super) fn new(file: File) -> EarlySyncFile {
        let mut early = EarlySyncFile { file, unsynced: 0, wake: None, helper: None };
        let Ok(second) = early.file.try_clone() else { return early };
        // One wake-up may wait: a sync asked for while one runs is made
        // after it, and further asks meanwhile add nothing.
        let (wake, woken) = mpsc::sync_channel::<()>(1);
        let spawned = std::thread::Builder::new().name("sds-output-sync".into()).spawn(move || {
            for () in woken {
                second.sync_data()?;
            }
            Ok(())
        });
        if let Ok(helper) = spawned {
            early.wake = Some(wake);
            early.helper = Some(helper);
        }
        early
    }

    /// Syncs what is left and returns the file, durable; the first error
    /// of any sync on the way is returned instead.
    pub(super) fn finish(mut self) -> io::Result<File> {
        drop(self.wake.take());
        // At once, not after the helper's sync in flight: the kernel
        // lets the two wait on the same writes.
        let synced = self.file.sync_all();
        if let Some(helper) = self.helper.take() {
            helper.join().map_err(|_| io::Error::other("the output's sync thread panicked"))??;
        }
        synced?;
        Ok(self.file)
    }
}

impl Write for EarlySyncFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let written = self.file.write(bytes)?;
        self.unsynced += written as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            if let Some(wake) = &self.wake {
                // Full: a sync is already due, which covers these bytes.
                if let Err(mpsc::TrySendError::Disconnected(())) = wake.try_send(()) {
                    // The helper stopped on an error: `finish` reports it.
                    self.wake = None;
                }
            }
        }
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_written_is_in_the_finished_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("output.xml");
        let mut file = EarlySyncFile::new(File::create(&path).unwrap());
        let chunk: Vec<u8> = (0..=255u8).cycle().take(1 << 20).collect();
        for _ in 0..9 {
            file.write_all(&chunk).unwrap();
        }
        file.write_all(b"tail").unwrap();
        let finished = file.finish().unwrap();
        assert_eq!(finished.metadata().unwrap().len(), 9 * (1 << 20) + 4);
        let read = std::fs::read(&path).unwrap();
        assert_eq!(&read[..1 << 20], &chunk[..]);
        assert!(read.ends_with(b"tail"));
    }
}
