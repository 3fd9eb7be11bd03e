//! Uploads on disk: gzip and zip recognized by their magic bytes, and
//! decompressed into a temporary directory under an uncompressed-size
//! budget (a zip bomb stops at the budget, not at the end of its data).
//! Zip entry names are never used as paths: entries are written as
//! `entry<N>` inside the directory, so `../` names cannot escape it.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use tempfile::TempDir;

use crate::{FormatError, Record, RecordReader};

const GZIP_MAGIC: &[u8] = &[0x1F, 0x8B];
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Magic {
    Gzip,
    Zip,
    Plain,
}

pub(crate) fn sniff(path: &Path) -> Result<Magic, FormatError> {
    let mut head = [0u8; 4];
    let mut file = File::open(path)?;
    let mut filled = 0;
    while filled < head.len() {
        match file.read(&mut head[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    let head = &head[..filled];
    Ok(if head.starts_with(GZIP_MAGIC) {
        Magic::Gzip
    } else if head.starts_with(ZIP_MAGIC) || head == b"PK\x05\x06" {
        Magic::Zip
    } else {
        Magic::Plain
    })
}

fn too_large(limit: u64) -> FormatError {
    FormatError::Document(format!("the uncompressed data is larger than the limit of {limit} bytes"))
}

/// Copies at most `budget` bytes; more is an error.
fn copy_limited(mut from: impl Read, to: &mut impl Write, budget: &mut u64, limit: u64) -> Result<(), FormatError> {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        let read = match from.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) if error.kind() == io::ErrorKind::InvalidData || error.kind() == io::ErrorKind::InvalidInput => {
                return Err(FormatError::Document(format!("the compressed data is corrupt: {error}")))
            }
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(FormatError::Document(format!("the compressed data is truncated: {error}")))
            }
            Err(error) => return Err(FormatError::Io(error)),
        };
        if read as u64 > *budget {
            return Err(too_large(limit));
        }
        *budget -= read as u64;
        to.write_all(&buffer[..read])?;
    }
}

fn zip_error(error: zip::result::ZipError) -> FormatError {
    FormatError::Document(format!("the zip archive cannot be read: {error}"))
}

/// A zip's file entries: their names and where they were extracted.
pub(crate) struct Extracted {
    pub(crate) dir: TempDir,
    /// `(name in the archive, extracted path)`, in archive order.
    pub(crate) entries: Vec<(String, PathBuf)>,
}

/// Extracts the file entries `wanted` accepts (by name), all together
/// within `limit` uncompressed bytes.
pub(crate) fn extract_zip(path: &Path, limit: u64, wanted: &dyn Fn(&str) -> bool) -> Result<Extracted, FormatError> {
    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(zip_error)?;
    let dir = tempfile::tempdir()?;
    let mut entries = Vec::new();
    let mut budget = limit;
    for index in 0..archive.len() {
        let mut entry = archive.by_index(index).map_err(zip_error)?;
        if entry.is_dir() {
            continue;
        }
        let name = entry.name().map_err(zip_error)?.to_string();
        if !wanted(&name) {
            continue;
        }
        let target = dir.path().join(format!("entry{index}"));
        let mut out = io::BufWriter::new(File::create(&target)?);
        copy_limited(&mut entry, &mut out, &mut budget, limit)?;
        out.flush()?;
        entries.push((name, target));
    }
    Ok(Extracted { dir, entries })
}

/// One document to read, possibly decompressed into a temporary file.
pub(crate) struct Source {
    _dir: Option<TempDir>,
    path: PathBuf,
}

impl Source {
    /// Plain files are read in place; gzip is decompressed; from a zip,
    /// the first file entry whose name ends with one of `extensions`
    /// (any entry when `extensions` is empty, or when none matches) is
    /// extracted.
    pub(crate) fn open(path: &Path, limit: u64, extensions: &[&str]) -> Result<Source, FormatError> {
        match sniff(path)? {
            Magic::Plain => Ok(Source { _dir: None, path: path.to_owned() }),
            Magic::Gzip => {
                let dir = tempfile::tempdir()?;
                let target = dir.path().join("gunzipped");
                let mut out = io::BufWriter::new(File::create(&target)?);
                let mut budget = limit;
                copy_limited(
                    flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path)?)),
                    &mut out,
                    &mut budget,
                    limit,
                )?;
                out.flush()?;
                Ok(Source { _dir: Some(dir), path: target })
            }
            Magic::Zip => {
                let matches = |name: &str| {
                    let lower = name.to_ascii_lowercase();
                    extensions.iter().any(|extension| lower.ends_with(extension))
                };
                let mut names = Vec::new();
                {
                    let mut archive = zip::ZipArchive::new(BufReader::new(File::open(path)?)).map_err(zip_error)?;
                    for index in 0..archive.len() {
                        let entry = archive.by_index_raw(index).map_err(zip_error)?;
                        if !entry.is_dir() {
                            names.push(entry.name().map_err(zip_error)?.to_string());
                        }
                    }
                }
                let chosen = names
                    .iter()
                    .find(|name| matches(name))
                    .or(names.first())
                    .cloned()
                    .ok_or_else(|| FormatError::Document("the zip archive holds no file".into()))?;
                let mut extracted = extract_zip(path, limit, &|name| name == chosen.as_str())?;
                let (_, target) = extracted.entries.swap_remove(0);
                Ok(Source { _dir: Some(extracted.dir), path: target })
            }
        }
    }

    /// A fresh buffered reader from the start of the document.
    pub(crate) fn reader(&self) -> Result<Box<dyn BufRead + Send>, FormatError> {
        Ok(Box::new(BufReader::with_capacity(64 * 1024, File::open(&self.path)?)))
    }
}

/// A reader that keeps its temporary files alive.
pub(crate) struct Owning {
    pub(crate) reader: Box<dyn RecordReader>,
    pub(crate) _source: Source,
}

impl RecordReader for Owning {
    fn schema(&self) -> &sds_core::Schema {
        self.reader.schema()
    }

    fn next_record(&mut self) -> Option<Result<Record, FormatError>> {
        self.reader.next_record()
    }
}
