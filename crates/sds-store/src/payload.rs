//! Payloads: the bytes jobs read and write beside the store's rows, after
//! meilisearch's `file-store` (a task holds a name, the bytes live apart,
//! written aside and persisted whole). Three kinds:
//!
//! - a load job's *input* (the spooled upload), stored before the job is
//!   acknowledged and read when it runs, on whichever server claims it;
//! - a download job's *output*, stored when the job completes and streamed
//!   by the output route of any server;
//! - *kept* outputs, one per version and format (`jobs/output_cache.rs` in
//!   the server names them), which later download jobs point at instead of
//!   writing their own.
//!
//! Every payload goes in from a finished, synced local file and comes out as
//! a stream or a local file, never whole in memory. A payload appears whole
//! or not at all. [`FilePayloads`] keeps them in the data dir (a store that
//! one server uses, SQLite); a store shared by servers keeps them where
//! every server reaches them (PostgreSQL: in the database, chunked).

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sds_core::JobId;

/// A payload being read: a local file (which the HTTP layer can stream
/// without a blocking thread), or any other stream.
pub enum PayloadReader {
    File(File),
    Stream(Box<dyn Read + Send>),
}

impl PayloadReader {
    pub fn into_read(self) -> Box<dyn Read + Send> {
        match self {
            PayloadReader::File(file) => Box::new(file),
            PayloadReader::Stream(stream) => stream,
        }
    }
}

impl std::fmt::Debug for PayloadReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PayloadReader::File(file) => f.debug_tuple("File").field(file).finish(),
            PayloadReader::Stream(_) => f.write_str("Stream"),
        }
    }
}

/// A payload as a local file, for readers that seek (zip archives,
/// shapefiles): the stored file itself, or a temporary copy that is removed
/// when this value drops.
#[derive(Debug)]
pub struct LocalFile {
    path: PathBuf,
    temporary: bool,
}

impl LocalFile {
    /// The stored file itself: left in place on drop.
    pub fn stored(path: PathBuf) -> LocalFile {
        LocalFile { path, temporary: false }
    }

    /// A copy made for the reader: removed on drop.
    pub fn temporary(path: PathBuf) -> LocalFile {
        LocalFile { path, temporary: true }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LocalFile {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A download job's stored output, for the retention sweep.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredOutput {
    pub job: JobId,
    /// The format's file extension (`xml`, `geojson`, `csv`).
    pub extension: String,
    /// When it was stored (the retention counts from here).
    pub written: SystemTime,
}

/// Where payloads live. Every method blocks (call it from a blocking
/// thread); names given in (`extension`, kept `entry`) are checked to be
/// plain file names (letters, digits, `-`, `_`, `.`, not starting with `.`):
/// anything else is `InvalidInput`.
pub trait PayloadStore: Send + Sync + 'static {
    /// Stores the finished, synced local file `file` as `job`'s input; the
    /// input is durable when this returns. `file` is consumed (renamed into
    /// place, or copied and removed). A second call replaces the input.
    fn put_input(&self, job: &JobId, file: &Path) -> io::Result<()>;
    /// `job`'s input as a local file, `Ok(None)` when it has none. A copy,
    /// when one is needed, is written in `scratch_dir`.
    fn input_file(&self, job: &JobId, scratch_dir: &Path) -> io::Result<Option<LocalFile>>;
    /// Removes `job`'s input; nothing when it has none.
    fn discard_input(&self, job: &JobId) -> io::Result<()>;
    /// The jobs that have an input, with when each was stored: to sweep
    /// those no pending job reads. An input is stored before its job is
    /// inserted, so a sweep spares inputs younger than a grace period.
    fn inputs(&self) -> io::Result<Vec<(JobId, SystemTime)>>;

    /// Stores the finished, synced local file `file` as `job`'s output in
    /// the format `extension`; consumed as in [`PayloadStore::put_input`].
    fn put_output(&self, job: &JobId, extension: &str, file: &Path) -> io::Result<()>;
    /// `job`'s output and its length in bytes, following a pointer to a
    /// kept output ([`PayloadStore::point_to_kept`]); `Ok(None)` when there
    /// is none (never stored, swept, or the kept output it points at went).
    fn open_output(&self, job: &JobId, extension: &str) -> io::Result<Option<(u64, PayloadReader)>>;
    /// Every stored output and pointer to a kept output.
    fn outputs(&self) -> io::Result<Vec<StoredOutput>>;
    /// Removes `job`'s output or pointer; nothing when it has none.
    fn remove_output(&self, job: &JobId, extension: &str) -> io::Result<()>;

    /// Keeps the finished, synced local file `file` (which stays where it
    /// is) as the kept output `entry`. An entry that exists already is
    /// left as it is (it holds the same bytes: its name says what it holds).
    fn keep_output(&self, entry: &str, file: &Path) -> io::Result<()>;
    /// Makes the kept output `entry` `job`'s output, durably; `Ok(false)`
    /// when there is no such entry (the caller then writes the output).
    fn point_to_kept(&self, job: &JobId, extension: &str, entry: &str) -> io::Result<bool>;
    /// The names of every kept output.
    fn kept_entries(&self) -> io::Result<Vec<String>>;
    /// Removes a kept output; nothing when it does not exist.
    fn remove_kept(&self, entry: &str) -> io::Result<()>;
}

/// Payloads as files in the data dir, in the layout `sds` has always used,
/// so that existing data dirs keep working: inputs are
/// `{spool}/{jobId}.input`, outputs `{downloads}/{jobId}.{ext}`, pointers to
/// kept outputs `{downloads}/{jobId}.{ext}.kept` (holding the entry's name)
/// and kept outputs `{downloads}/versions/{entry}`. Files arrive by rename
/// (or hard link) of a synced file, then the directory is synced: whole or
/// absent, even after a power cut.
#[derive(Clone, Debug)]
pub struct FilePayloads {
    spool_dir: PathBuf,
    downloads_dir: PathBuf,
}

impl FilePayloads {
    /// Payloads under these folders, created when missing.
    pub fn open(spool_dir: &Path, downloads_dir: &Path) -> io::Result<FilePayloads> {
        std::fs::create_dir_all(spool_dir)?;
        std::fs::create_dir_all(downloads_dir)?;
        Ok(FilePayloads { spool_dir: spool_dir.to_owned(), downloads_dir: downloads_dir.to_owned() })
    }

    fn input_path(&self, job: &JobId) -> PathBuf {
        self.spool_dir.join(format!("{job}.input"))
    }

    fn output_path(&self, job: &JobId, extension: &str) -> io::Result<PathBuf> {
        Ok(self.downloads_dir.join(format!("{job}.{}", plain_name(extension)?)))
    }

    fn pointer_path(&self, job: &JobId, extension: &str) -> io::Result<PathBuf> {
        Ok(self.downloads_dir.join(format!("{job}.{}.kept", plain_name(extension)?)))
    }

    fn kept_dir(&self) -> PathBuf {
        self.downloads_dir.join("versions")
    }

    fn kept_path(&self, entry: &str) -> io::Result<PathBuf> {
        Ok(self.kept_dir().join(plain_name(entry)?))
    }
}

/// `name` if it is a plain file name (see [`PayloadStore`]).
pub(crate) fn plain_name(name: &str) -> io::Result<&str> {
    let plain = !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.'));
    if plain {
        Ok(name)
    } else {
        Err(io::Error::new(io::ErrorKind::InvalidInput, format!("'{name}' is not a plain payload name")))
    }
}

/// Moves `from` to `to` (a rename; a copy through a synced `.part` file when
/// they are on different file systems), then syncs `to`'s folder.
fn move_into_place(from: &Path, to: &Path) -> io::Result<()> {
    if std::fs::rename(from, to).is_err() {
        copy_atomically(from, to)?;
        std::fs::remove_file(from)?;
    }
    sync_parent(to)
}

/// Copies through a synced `.part` file and renames, so `to` is whole or
/// absent, even after a power cut.
fn copy_atomically(from: &Path, to: &Path) -> io::Result<()> {
    let partial = to.with_extension("part");
    let copied = std::fs::copy(from, &partial).and_then(|_| File::open(&partial)?.sync_all());
    if let Err(error) = copied {
        let _ = std::fs::remove_file(&partial);
        return Err(error);
    }
    std::fs::rename(&partial, to)
}

/// Makes a new name in a folder survive a power loss.
fn sync_parent(path: &Path) -> io::Result<()> {
    match path.parent() {
        Some(dir) => File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

fn remove_if_present(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

fn open_if_present(path: &Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error),
    }
}

impl PayloadStore for FilePayloads {
    fn put_input(&self, job: &JobId, file: &Path) -> io::Result<()> {
        move_into_place(file, &self.input_path(job))
    }

    fn input_file(&self, job: &JobId, _scratch_dir: &Path) -> io::Result<Option<LocalFile>> {
        let path = self.input_path(job);
        Ok(path.exists().then(|| LocalFile::stored(path)))
    }

    fn discard_input(&self, job: &JobId) -> io::Result<()> {
        remove_if_present(&self.input_path(job))
    }

    fn inputs(&self) -> io::Result<Vec<(JobId, SystemTime)>> {
        let mut jobs = Vec::new();
        for entry in std::fs::read_dir(&self.spool_dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(job) = name.strip_suffix(".input").and_then(|stem| stem.parse().ok()) else { continue };
            let Ok(written) = entry.metadata().and_then(|metadata| metadata.modified()) else { continue };
            jobs.push((job, written));
        }
        Ok(jobs)
    }

    fn put_output(&self, job: &JobId, extension: &str, file: &Path) -> io::Result<()> {
        move_into_place(file, &self.output_path(job, extension)?)
    }

    fn open_output(&self, job: &JobId, extension: &str) -> io::Result<Option<(u64, PayloadReader)>> {
        let file = match open_if_present(&self.output_path(job, extension)?)? {
            Some(file) => Some(file),
            None => match std::fs::read_to_string(self.pointer_path(job, extension)?) {
                // A pointer never leads outside the folder of kept outputs.
                Ok(entry) => match self.kept_path(entry.trim()) {
                    Ok(kept) => open_if_present(&kept)?,
                    Err(_) => None,
                },
                Err(error) if error.kind() == io::ErrorKind::NotFound => None,
                Err(error) => return Err(error),
            },
        };
        match file {
            Some(file) => Ok(Some((file.metadata()?.len(), PayloadReader::File(file)))),
            None => Ok(None),
        }
    }

    fn outputs(&self) -> io::Result<Vec<StoredOutput>> {
        let mut outputs = Vec::new();
        for entry in std::fs::read_dir(&self.downloads_dir)?.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some((stem, extension)) = name.split_once('.') else { continue };
            let extension = extension.strip_suffix(".kept").unwrap_or(extension);
            if extension.contains('.') || extension == "part" {
                continue;
            }
            let Ok(job) = stem.parse::<JobId>() else { continue };
            let Ok(written) = entry.metadata().and_then(|metadata| metadata.modified()) else { continue };
            outputs.push(StoredOutput { job, extension: extension.to_owned(), written });
        }
        Ok(outputs)
    }

    fn remove_output(&self, job: &JobId, extension: &str) -> io::Result<()> {
        remove_if_present(&self.output_path(job, extension)?)?;
        remove_if_present(&self.pointer_path(job, extension)?)
    }

    fn keep_output(&self, entry: &str, file: &Path) -> io::Result<()> {
        let kept = self.kept_path(entry)?;
        std::fs::create_dir_all(self.kept_dir())?;
        // A hard link: no second copy on disk.
        match std::fs::hard_link(file, &kept) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
            Err(_) => copy_atomically(file, &kept)?,
        }
        sync_parent(&kept)
    }

    fn point_to_kept(&self, job: &JobId, extension: &str, entry: &str) -> io::Result<bool> {
        if !self.kept_path(entry)?.exists() {
            return Ok(false);
        }
        // A pointer rather than a link: a link would share one modification
        // time between jobs, which the output retention counts from.
        let pointer = self.pointer_path(job, extension)?;
        let partial = pointer.with_extension("part");
        let mut file = File::create(&partial)?;
        std::io::Write::write_all(&mut file, entry.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&partial, &pointer)?;
        sync_parent(&pointer)?;
        Ok(true)
    }

    fn kept_entries(&self) -> io::Result<Vec<String>> {
        let entries = match std::fs::read_dir(self.kept_dir()) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        Ok(entries.flatten().map(|entry| entry.file_name().to_string_lossy().into_owned()).collect())
    }

    fn remove_kept(&self, entry: &str) -> io::Result<()> {
        // Leftovers that are not plain names (none are written) go too.
        remove_if_present(&self.kept_dir().join(Path::new(entry).file_name().unwrap_or_default()))
    }
}
