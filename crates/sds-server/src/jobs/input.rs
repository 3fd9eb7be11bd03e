//! Opening a spooled upload: compression is detected by magic bytes,
//! whatever the Content-Type said (the toolkit sends gzip as
//! `application/octet-stream`), and the decompressed size is bounded.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use flate2::read::MultiGzDecoder;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZIP_MAGIC: [u8; 4] = [0x50, 0x4b, 0x03, 0x04];
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// Opens the input for a reader. A zip's first file is extracted next to
/// the spool file (`scratch`) first, because zip entries cannot be read
/// without the archive borrowed.
pub fn open_input(path: &Path, scratch: &Path, max_bytes: u64) -> io::Result<Box<dyn BufRead + Send>> {
    let mut file = File::open(path)?;
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..])? {
            0 => break,
            read => filled += read,
        }
    }
    file.seek(SeekFrom::Start(0))?;
    let reader: Box<dyn Read + Send> = if filled >= 2 && magic[..2] == GZIP_MAGIC {
        Box::new(Labelled { inner: MultiGzDecoder::new(BufReader::new(file)), label: "gzip" })
    } else if filled == 4 && magic == ZIP_MAGIC {
        extract_first_entry(file, scratch, max_bytes)?;
        Box::new(File::open(scratch)?)
    } else {
        Box::new(file)
    };
    Ok(Box::new(BufReader::with_capacity(
        READ_BUFFER_BYTES,
        Limited { inner: reader, remaining: max_bytes, limit: max_bytes },
    )))
}

fn extract_first_entry(file: File, scratch: &Path, max_bytes: u64) -> io::Result<()> {
    let corrupt = |error: zip::result::ZipError| {
        io::Error::new(io::ErrorKind::InvalidData, format!("the zip archive is invalid: {error}"))
    };
    let mut archive = zip::ZipArchive::new(file).map_err(corrupt)?;
    let index = (0..archive.len())
        .find(|&index| archive.by_index(index).is_ok_and(|entry| entry.is_file()))
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "the zip archive holds no file"))?;
    let entry = archive.by_index(index).map_err(corrupt)?;
    let mut limited =
        Limited { inner: Labelled { inner: entry, label: "zip" }, remaining: max_bytes, limit: max_bytes };
    let mut out = File::create(scratch)?;
    io::copy(&mut limited, &mut out)?;
    Ok(())
}

/// Fails once more than `limit` bytes come out: a bomb stops here.
struct Limited<R> {
    inner: R,
    remaining: u64,
    limit: u64,
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let read = self.inner.read(buffer)?;
        if read as u64 > self.remaining {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the uncompressed input is larger than the limit of {} bytes (the server's --max-upload-bytes)",
                    self.limit
                ),
            ));
        }
        self.remaining -= read as u64;
        Ok(read)
    }
}

/// Names the compression in decoder errors (a truncated gzip says so).
struct Labelled<R> {
    inner: R,
    label: &'static str,
}

impl<R: Read> Read for Labelled<R> {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buffer).map_err(|error| {
            io::Error::new(error.kind(), format!("the {} data is corrupt or truncated ({error})", self.label))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(path: &Path, dir: &Path, max: u64) -> io::Result<String> {
        let mut text = String::new();
        open_input(path, &dir.join("scratch"), max)?.read_to_string(&mut text)?;
        Ok(text)
    }

    #[test]
    fn plain_gzip_and_zip_inputs_read_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let text = "Bing Spatial Data Services, 1.0, Shops\n";
        let plain = dir.path().join("plain");
        std::fs::write(&plain, text).unwrap();
        let gzip = dir.path().join("gzip");
        let mut encoder = flate2::write::GzEncoder::new(File::create(&gzip).unwrap(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap();
        let zipped = dir.path().join("zip");
        let mut writer = zip::ZipWriter::new(File::create(&zipped).unwrap());
        writer.start_file("data.csv", zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
        writer.finish().unwrap();
        for path in [plain, gzip, zipped] {
            assert_eq!(read_all(&path, dir.path(), 1000).unwrap(), text, "{}", path.display());
        }
    }

    #[test]
    fn truncated_gzip_and_bombs_fail_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(&vec![b'a'; 100_000]).unwrap();
        let compressed = encoder.finish().unwrap();
        let bomb = dir.path().join("bomb");
        std::fs::write(&bomb, &compressed).unwrap();
        let error = read_all(&bomb, dir.path(), 10_000).unwrap_err();
        assert!(error.to_string().contains("larger than the limit of 10000 bytes"), "{error}");
        let truncated = dir.path().join("truncated");
        std::fs::write(&truncated, &compressed[..compressed.len() / 2]).unwrap();
        let error = read_all(&truncated, dir.path(), 1_000_000).unwrap_err();
        assert!(error.to_string().contains("gzip data is corrupt or truncated"), "{error}");
    }
}
