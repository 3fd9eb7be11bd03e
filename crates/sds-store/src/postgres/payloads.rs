//! [`PostgresPayloads`]: spooled uploads and download outputs in the
//! database, where every server reaches them (`crate::payload`).
//!
//! A payload is a row of `payloads` (kind, name, length, when written, and
//! for an output that points at a kept output, the entry's name) and its
//! bytes in `payload_chunks`, [`CHUNK`] bytes a row. It goes in from a
//! local file a chunk at a time in one transaction (so it appears whole or
//! not at all, and is durable at the commit), and comes out a chunk per
//! query, so neither direction holds more than one chunk in memory. Chunks
//! are stored uncompressed (`STORAGE EXTERNAL`): uploads are often zipped
//! already, and outputs are read far more often than written.
//!
//! With [`PostgresPayloads::with_local_copies`], the server that stored a
//! download output keeps its local file too (renamed into that folder once
//! the database holds the output), and serves the output from it while the
//! database still lists it with the same length: the client that created
//! the download job usually fetches the output from the server that ran
//! it, which then reads no chunk back (29 MB of XML for the 144,563 cities
//! took 80–100 ms to stream from the database here). The file was synced
//! before it was stored, so a copy that exists is whole; copies of outputs
//! the database no longer lists (another server's retention sweep) are
//! deleted when found, and by each [`PayloadStore::outputs`] listing.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use postgres::Transaction;
use sds_core::JobId;

use super::Pool;
use crate::payload::{plain_name, LocalFile, PayloadReader, PayloadStore, StoredOutput};
use crate::{StoreError, StoreResult};

/// Bytes per chunk row: large enough that a 100 MB upload is 100 inserts,
/// small enough to hold one in memory per reader.
const CHUNK: usize = 1 << 20;

const INPUT: &str = "input";
const OUTPUT: &str = "output";
const KEPT: &str = "kept";

/// The payloads of one PostgreSQL store (from [`super::PostgresStore::payloads`]).
#[derive(Clone)]
pub struct PostgresPayloads {
    pool: Pool,
    /// Where this server keeps the local files of the outputs it stored.
    local: Option<PathBuf>,
}

impl std::fmt::Debug for PostgresPayloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresPayloads").finish_non_exhaustive()
    }
}

fn io_error(error: StoreError) -> io::Error {
    let kind = match error {
        StoreError::Unavailable(_) => io::ErrorKind::ConnectionRefused,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, error)
}

fn to_io<T>(result: StoreResult<T>) -> io::Result<T> {
    result.map_err(io_error)
}

fn now_nanos() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |since| i64::try_from(since.as_nanos()).unwrap_or(i64::MAX))
}

fn system_time(nanos: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

impl PostgresPayloads {
    pub(super) fn new(pool: Pool) -> PostgresPayloads {
        PostgresPayloads { pool, local: None }
    }

    /// Keeps the local files of the outputs this server stores in `dir`
    /// (created; on the file system of the files handed to
    /// [`PayloadStore::put_output`], which are renamed into it), and serves
    /// those outputs from them (see the module docs).
    pub fn with_local_copies(mut self, dir: PathBuf) -> io::Result<PostgresPayloads> {
        std::fs::create_dir_all(&dir)?;
        self.local = Some(dir);
        Ok(self)
    }

    fn local_copy(&self, job: &JobId, extension: &str) -> Option<PathBuf> {
        Some(self.local.as_ref()?.join(format!("{job}.{extension}")))
    }

    /// Deletes the local copies of outputs not in `listed`.
    fn prune_local_copies(&self, listed: &[StoredOutput]) {
        let Some(dir) = &self.local else { return };
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        let names: std::collections::HashSet<String> =
            listed.iter().map(|output| format!("{}.{}", output.job, output.extension)).collect();
        for entry in entries.flatten() {
            if !entry.file_name().to_str().is_some_and(|name| names.contains(name)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn transaction<T>(&self, work: impl FnOnce(&mut Transaction<'_>) -> io::Result<T>) -> io::Result<T> {
        let mut connection = self.pool.get().map_err(|error| io_error(error.into()))?;
        let mut transaction = to_io(connection.transaction().map_err(StoreError::from))?;
        let value = work(&mut transaction)?;
        to_io(transaction.commit().map_err(StoreError::from))?;
        Ok(value)
    }

    /// Stores `file`'s bytes as the payload (kind, name, extension),
    /// replacing any; returns its row id.
    fn put(&self, kind: &str, name: &str, extension: &str, file: &Path, replace: bool) -> io::Result<bool> {
        let mut source = File::open(file)?;
        self.transaction(|tx| {
            if replace {
                delete(tx, kind, name, extension)?;
            } else if find(tx, kind, name, extension)?.is_some() {
                return Ok(false);
            }
            let id: i64 = to_io(
                tx.query_one(
                    "INSERT INTO payloads (kind, name, extension, length, written) VALUES ($1, $2, $3, 0, $4)
                     RETURNING id",
                    &[&kind, &name, &extension, &now_nanos()],
                )
                .map_err(StoreError::from),
            )?
            .get(0);
            let mut buffer = vec![0; CHUNK];
            let (mut seq, mut length) = (0i32, 0i64);
            loop {
                let filled = fill(&mut source, &mut buffer)?;
                if filled == 0 {
                    break;
                }
                to_io(
                    tx.execute(
                        "INSERT INTO payload_chunks (payload_id, seq, data) VALUES ($1, $2, $3)",
                        &[&id, &seq, &&buffer[..filled]],
                    )
                    .map_err(StoreError::from),
                )?;
                seq += 1;
                length += filled as i64;
            }
            to_io(
                tx.execute("UPDATE payloads SET length = $2 WHERE id = $1", &[&id, &length]).map_err(StoreError::from),
            )?;
            Ok(true)
        })
    }

    fn remove(&self, kind: &str, name: &str, extension: &str) -> io::Result<()> {
        self.transaction(|tx| delete(tx, kind, name, extension))
    }

    fn names(&self, kind: &str) -> io::Result<Vec<(String, String, SystemTime)>> {
        let mut connection = self.pool.get().map_err(|error| io_error(error.into()))?;
        let rows = to_io(
            connection
                .query("SELECT name, extension, written FROM payloads WHERE kind = $1 ORDER BY id", &[&kind])
                .map_err(StoreError::from),
        )?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1), system_time(row.get(2)))).collect())
    }

    /// The payload (kind, name, extension) as a stream with its length.
    fn open(&self, kind: &str, name: &str, extension: &str) -> io::Result<Option<(u64, ChunkReader)>> {
        let mut connection = self.pool.get().map_err(|error| io_error(error.into()))?;
        let row = to_io(
            connection
                .query_opt(
                    "SELECT p.id, p.length, p.kept_entry, k.id AS kept_id, k.length AS kept_length
                     FROM payloads p LEFT JOIN payloads k ON k.kind = 'kept' AND k.name = p.kept_entry
                     WHERE p.kind = $1 AND p.name = $2 AND p.extension = $3",
                    &[&kind, &name, &extension],
                )
                .map_err(StoreError::from),
        )?;
        let Some(row) = row else { return Ok(None) };
        let (id, length): (i64, i64) = match row.get::<_, Option<String>>("kept_entry") {
            // A pointer whose kept output went is no output.
            Some(_) => match (row.get::<_, Option<i64>>("kept_id"), row.get::<_, Option<i64>>("kept_length")) {
                (Some(id), Some(length)) => (id, length),
                _ => return Ok(None),
            },
            None => (row.get("id"), row.get("length")),
        };
        let length = u64::try_from(length).unwrap_or(0);
        Ok(Some((length, ChunkReader { pool: self.pool.clone(), id, seq: 0, chunk: Vec::new(), at: 0, left: length })))
    }
}

fn find(tx: &mut Transaction<'_>, kind: &str, name: &str, extension: &str) -> io::Result<Option<i64>> {
    let row = to_io(
        tx.query_opt(
            "SELECT id FROM payloads WHERE kind = $1 AND name = $2 AND extension = $3",
            &[&kind, &name, &extension],
        )
        .map_err(StoreError::from),
    )?;
    Ok(row.map(|row| row.get(0)))
}

fn delete(tx: &mut Transaction<'_>, kind: &str, name: &str, extension: &str) -> io::Result<()> {
    to_io(
        tx.execute(
            "DELETE FROM payloads WHERE kind = $1 AND name = $2 AND extension = $3",
            &[&kind, &name, &extension],
        )
        .map_err(StoreError::from),
    )?;
    Ok(())
}

/// Reads until `buffer` is full or the source ends; returns how much.
fn fill(source: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match source.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(read) => filled += read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

/// A payload's bytes, one chunk query at a time.
struct ChunkReader {
    pool: Pool,
    id: i64,
    seq: i32,
    chunk: Vec<u8>,
    at: usize,
    /// Bytes not yet returned; a chunk missing before this reaches 0 means
    /// the payload was removed while being read.
    left: u64,
}

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.at == self.chunk.len() {
            if self.left == 0 {
                return Ok(0);
            }
            let mut connection = self.pool.get().map_err(|error| io_error(error.into()))?;
            let row = to_io(
                connection
                    .query_opt(
                        "SELECT data FROM payload_chunks WHERE payload_id = $1 AND seq = $2",
                        &[&self.id, &self.seq],
                    )
                    .map_err(StoreError::from),
            )?;
            let Some(row) = row else {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the payload was removed while being read"));
            };
            self.chunk = row.get(0);
            self.at = 0;
            self.seq += 1;
            if self.chunk.is_empty() {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "a payload chunk is empty"));
            }
        }
        let count = out.len().min(self.chunk.len() - self.at);
        out[..count].copy_from_slice(&self.chunk[self.at..self.at + count]);
        self.at += count;
        self.left = self.left.saturating_sub(count as u64);
        Ok(count)
    }
}

impl PayloadStore for PostgresPayloads {
    fn put_input(&self, job: &JobId, file: &Path) -> io::Result<()> {
        self.put(INPUT, job.as_str(), "", file, true)?;
        std::fs::remove_file(file)
    }

    fn input_file(&self, job: &JobId, scratch_dir: &Path) -> io::Result<Option<LocalFile>> {
        let Some((_, mut reader)) = self.open(INPUT, job.as_str(), "")? else { return Ok(None) };
        std::fs::create_dir_all(scratch_dir)?;
        let path = scratch_dir.join(format!("{job}.input.{}-{}", std::process::id(), now_nanos()));
        let copy = LocalFile::temporary(path.clone());
        let mut file = File::create(&path)?;
        io::copy(&mut reader, &mut file)?;
        file.flush()?;
        Ok(Some(copy))
    }

    fn discard_input(&self, job: &JobId) -> io::Result<()> {
        self.remove(INPUT, job.as_str(), "")
    }

    fn inputs(&self) -> io::Result<Vec<(JobId, SystemTime)>> {
        Ok(self
            .names(INPUT)?
            .into_iter()
            .filter_map(|(name, _, written)| name.parse().ok().map(|job| (job, written)))
            .collect())
    }

    fn put_output(&self, job: &JobId, extension: &str, file: &Path) -> io::Result<()> {
        let extension = plain_name(extension)?;
        self.put(OUTPUT, job.as_str(), extension, file, true)?;
        match self.local_copy(job, extension) {
            // Only once the database holds it: a copy is never an output
            // the database does not list.
            Some(copy) => std::fs::rename(file, copy).or_else(|_| std::fs::remove_file(file)),
            None => std::fs::remove_file(file),
        }
    }

    fn open_output(&self, job: &JobId, extension: &str) -> io::Result<Option<(u64, PayloadReader)>> {
        let extension = plain_name(extension)?;
        let Some((length, reader)) = self.open(OUTPUT, job.as_str(), extension)? else {
            if let Some(copy) = self.local_copy(job, extension) {
                let _ = std::fs::remove_file(copy);
            }
            return Ok(None);
        };
        if let Some(copy) = self.local_copy(job, extension) {
            if let Ok(file) = File::open(&copy) {
                if file.metadata().is_ok_and(|metadata| metadata.len() == length) {
                    return Ok(Some((length, PayloadReader::File(file))));
                }
                let _ = std::fs::remove_file(copy);
            }
        }
        Ok(Some((length, PayloadReader::Stream(Box::new(reader)))))
    }

    fn outputs(&self) -> io::Result<Vec<StoredOutput>> {
        let listed: Vec<StoredOutput> = self
            .names(OUTPUT)?
            .into_iter()
            .filter_map(|(name, extension, written)| {
                name.parse().ok().map(|job| StoredOutput { job, extension, written })
            })
            .collect();
        self.prune_local_copies(&listed);
        Ok(listed)
    }

    fn remove_output(&self, job: &JobId, extension: &str) -> io::Result<()> {
        let extension = plain_name(extension)?;
        self.remove(OUTPUT, job.as_str(), extension)?;
        if let Some(copy) = self.local_copy(job, extension) {
            let _ = std::fs::remove_file(copy);
        }
        Ok(())
    }

    fn keep_output(&self, entry: &str, file: &Path) -> io::Result<()> {
        self.put(KEPT, plain_name(entry)?, "", file, false).map(|_| ())
    }

    fn point_to_kept(&self, job: &JobId, extension: &str, entry: &str) -> io::Result<bool> {
        let (extension, entry) = (plain_name(extension)?, plain_name(entry)?);
        self.transaction(|tx| {
            let kept = to_io(
                tx.query_opt("SELECT length FROM payloads WHERE kind = 'kept' AND name = $1 FOR SHARE", &[&entry])
                    .map_err(StoreError::from),
            )?;
            let Some(kept) = kept else { return Ok(false) };
            let length: i64 = kept.get(0);
            delete(tx, OUTPUT, job.as_str(), extension)?;
            to_io(
                tx.execute(
                    "INSERT INTO payloads (kind, name, extension, kept_entry, length, written)
                     VALUES ('output', $1, $2, $3, $4, $5)",
                    &[&job.as_str(), &extension, &entry, &length, &now_nanos()],
                )
                .map_err(StoreError::from),
            )?;
            Ok(true)
        })
    }

    fn kept_entries(&self) -> io::Result<Vec<String>> {
        Ok(self.names(KEPT)?.into_iter().map(|(name, _, _)| name).collect())
    }

    fn remove_kept(&self, entry: &str) -> io::Result<()> {
        self.remove(KEPT, entry, "")
    }
}
