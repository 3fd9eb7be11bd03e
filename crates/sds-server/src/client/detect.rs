//! What `sds upload` sends: the input format (`--format auto`) from the
//! file's first bytes and its extension, and whether to gzip it on the
//! way. Formats and content types as "Create a Load Data Source Job"
//! lists them: XML, CSV, tab- and pipe-delimited text (with or without
//! the `Bing Spatial Data Services, 1.0, EntityType` line), KML/KMZ, a
//! zipped Shapefile set; GeoJSON is an `sds` extension.
//!
//! Text is gzipped while it is read (the docs accept compressed data as
//! `application/octet-stream`); gzip, zip, KMZ and Shapefile zips go as
//! they are. A bare `.shp` is zipped with its sibling files into a
//! temporary file first, since SDS takes a Shapefile set only as a zip.

use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use sds_core::InputFormat;

use super::ClientError;

/// How many leading bytes detection reads.
const SNIFF_BYTES: usize = 8192;

/// The files of a Shapefile set that go into the zip (`.shp`, `.shx` and
/// `.dbf` are required).
const SHAPEFILE_PARTS: [(&str, bool); 5] =
    [("shp", true), ("shx", true), ("dbf", true), ("prj", false), ("cpg", false)];

/// A file ready to send.
pub struct Prepared {
    pub format: InputFormat,
    /// The file to stream (the temporary zip for a bare `.shp`).
    pub path: PathBuf,
    /// Its size in bytes, before any gzip.
    pub size: u64,
    /// Gzip it while sending (text that is not yet compressed).
    pub gzip: bool,
    /// Keeps the temporary zip until the upload ends.
    _temporary: Option<tempfile::TempPath>,
}

impl Prepared {
    /// The `Content-Type` of the request body.
    pub fn content_type(&self) -> &'static str {
        if self.gzip || !is_text(self.format) {
            return "application/octet-stream";
        }
        match self.format {
            InputFormat::Xml => "application/xml",
            InputFormat::Kml => "application/vnd.google-earth.kml+xml",
            InputFormat::GeoJson => "application/geo+json",
            _ => "text/plain",
        }
    }
}

fn is_text(format: InputFormat) -> bool {
    !matches!(format, InputFormat::Shp)
}

/// Decides the format (the one given, or detected) and how to send the
/// file. Errors: an unreadable file, a format that cannot be told (naming
/// what was looked at), a Shapefile set missing a required part.
pub fn prepare(file: &Path, given: Option<InputFormat>) -> Result<Prepared, ClientError> {
    let extension = extension_of(file);
    if extension == "shp" {
        let (temporary, size) = zip_shapefile_set(file)?;
        return Ok(Prepared {
            format: InputFormat::Shp,
            path: temporary.to_path_buf(),
            size,
            gzip: false,
            _temporary: Some(temporary),
        });
    }
    let unreadable = |error| ClientError::io(file.display().to_string(), error);
    let size = std::fs::metadata(file).map_err(unreadable)?.len();
    let head = read_head(File::open(file).map_err(unreadable)?).map_err(unreadable)?;
    let (format, gzip) = if head.starts_with(&[0x1f, 0x8b]) {
        // Already gzip: the format is that of what it holds.
        let inner = read_head(flate2::read::GzDecoder::new(File::open(file).map_err(unreadable)?))
            .map_err(|error| ClientError::io(format!("{}: not valid gzip", file.display()), error))?;
        let inner_extension = extension_of(&PathBuf::from(file.file_stem().unwrap_or_default()));
        (given.map_or_else(|| text_format(&inner, &inner_extension, file), Ok)?, false)
    } else if head.starts_with(b"PK\x03\x04") {
        (given.map_or_else(|| zip_format(file), Ok)?, false)
    } else {
        (given.map_or_else(|| text_format(&head, &extension, file), Ok)?, true)
    };
    Ok(Prepared { format, path: file.to_owned(), size, gzip: gzip && is_text(format), _temporary: None })
}

fn extension_of(path: &Path) -> String {
    path.extension().map(|extension| extension.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

fn read_head(reader: impl Read) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(SNIFF_BYTES);
    reader.take(SNIFF_BYTES as u64).read_to_end(&mut head)?;
    Ok(head)
}

/// A text format: by the extension when it says one, else by content.
fn text_format(head: &[u8], extension: &str, file: &Path) -> Result<InputFormat, ClientError> {
    let by_extension = match extension {
        "xml" => Some(InputFormat::Xml),
        "csv" => Some(InputFormat::Csv),
        "tab" | "tsv" => Some(InputFormat::Tab),
        "pipe" => Some(InputFormat::Pipe),
        "kml" => Some(InputFormat::Kml),
        "geojson" => Some(InputFormat::GeoJson),
        _ => None,
    };
    let text = String::from_utf8_lossy(head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if let Some(format) = by_extension {
        // KML is XML: a `.xml` file may hold either.
        let is_kml = format == InputFormat::Xml && text.contains("<kml");
        return Ok(if is_kml { InputFormat::Kml } else { format });
    }
    if text.starts_with('<') {
        return Ok(if text.contains("<kml") { InputFormat::Kml } else { InputFormat::Xml });
    }
    if text.starts_with('{') {
        return Ok(InputFormat::GeoJson);
    }
    // The schema line tells the delimiter: the line after the optional
    // `Bing Spatial Data Services, 1.0, Type` (which may use commas
    // whatever the file's delimiter), counted outside the parentheses of
    // `Name(Edm.String,primaryKey)`.
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let header = if first.starts_with("Bing Spatial Data Services") { lines.next().unwrap_or(first) } else { first };
    let delimiter = most_frequent_delimiter(header);
    match delimiter {
        Some(',') => Ok(InputFormat::Csv),
        Some('\t') => Ok(InputFormat::Tab),
        Some('|') => Ok(InputFormat::Pipe),
        _ => Err(ClientError::Usage(format!(
            "cannot tell the format of {}: not XML, KML, GeoJSON or delimited text; give --format",
            file.display()
        ))),
    }
}

/// The delimiter of `,`, tab and `|` found most often outside
/// parentheses, if any.
fn most_frequent_delimiter(line: &str) -> Option<char> {
    let mut counts = [(0usize, ','), (0, '\t'), (0, '|')];
    let mut depth = 0usize;
    for character in line.chars() {
        match character {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => {
                if let Some(entry) = counts.iter_mut().find(|(_, delimiter)| *delimiter == character) {
                    entry.0 += 1;
                }
            }
            _ => {}
        }
    }
    counts.into_iter().filter(|(count, _)| *count > 0).max_by_key(|(count, _)| *count).map(|(_, delimiter)| delimiter)
}

/// A zip: a Shapefile set (holds a `.shp`) or a KMZ (holds a `.kml`).
fn zip_format(file: &Path) -> Result<InputFormat, ClientError> {
    let archive = zip::ZipArchive::new(BufReader::new(
        File::open(file).map_err(|error| ClientError::io(file.display().to_string(), error))?,
    ))
    .map_err(|error| ClientError::Usage(format!("{}: not a readable zip ({error})", file.display())))?;
    let names: Vec<String> = archive.file_names().flatten().map(|name| name.to_ascii_lowercase()).collect();
    if names.iter().any(|name| name.ends_with(".shp")) {
        Ok(InputFormat::Shp)
    } else if names.iter().any(|name| name.ends_with(".kml")) {
        Ok(InputFormat::Kml)
    } else {
        Err(ClientError::Usage(format!(
            "cannot tell the format of {}: a zip with neither a .shp nor a .kml file; give --format",
            file.display()
        )))
    }
}

/// Zips `x.shp` with `x.shx`, `x.dbf` and, when present, `x.prj` and
/// `x.cpg` into a temporary file; returns it and its size.
fn zip_shapefile_set(shp: &Path) -> Result<(tempfile::TempPath, u64), ClientError> {
    let temporary = tempfile::Builder::new()
        .prefix("sds-upload-")
        .suffix(".zip")
        .tempfile()
        .map_err(|error| ClientError::io("creating a temporary zip", error))?;
    let mut writer =
        zip::ZipWriter::new(temporary.reopen().map_err(|e| ClientError::io("creating a temporary zip", e))?);
    let stem = shp.file_stem().unwrap_or_default().to_string_lossy().into_owned();
    for (extension, required) in SHAPEFILE_PARTS {
        let part = [extension.to_owned(), extension.to_ascii_uppercase()]
            .into_iter()
            .map(|extension| shp.with_extension(extension))
            .find(|path| path.is_file());
        let Some(part) = part else {
            if required {
                return Err(ClientError::Usage(format!(
                    "{} needs {}: a Shapefile set is .shp, .shx and .dbf (and .prj)",
                    shp.display(),
                    shp.with_extension(extension).display()
                )));
            }
            continue;
        };
        let mut input = File::open(&part).map_err(|error| ClientError::io(part.display().to_string(), error))?;
        let zip_error =
            |error: zip::result::ZipError| ClientError::Usage(format!("writing the temporary zip: {error}"));
        writer
            .start_file(format!("{stem}.{extension}"), zip::write::SimpleFileOptions::default())
            .map_err(zip_error)?;
        std::io::copy(&mut input, &mut writer).map_err(|error| ClientError::io(part.display().to_string(), error))?;
    }
    let mut file =
        writer.finish().map_err(|error| ClientError::Usage(format!("writing the temporary zip: {error}")))?;
    file.flush().map_err(|error| ClientError::io("writing the temporary zip", error))?;
    let size = file.metadata().map_err(|error| ClientError::io("writing the temporary zip", error))?.len();
    Ok((temporary.into_temp_path(), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(head: &str, extension: &str) -> Option<InputFormat> {
        text_format(head.as_bytes(), extension, Path::new("f")).ok()
    }

    #[test]
    fn text_formats_from_extension_then_content() {
        assert_eq!(detect("anything", "csv"), Some(InputFormat::Csv));
        assert_eq!(detect("<?xml version=\"1.0\"?><kml xmlns=\"x\">", "xml"), Some(InputFormat::Kml));
        assert_eq!(
            detect("Bing Spatial Data Services, 1.0, T\nA(Edm.String,primaryKey)|B", "txt"),
            Some(InputFormat::Pipe)
        );
        assert_eq!(detect("Bing Spatial Data Services\t1.0\tT\nA\tB(Edm.Int64)\tC", ""), Some(InputFormat::Tab));
        assert_eq!(detect("Id(Edm.String,primaryKey),Name\n", "txt"), Some(InputFormat::Csv));
        assert_eq!(detect("Id(Edm.String,primaryKey)|Name|Other,1\n", "txt"), Some(InputFormat::Pipe));
        assert_eq!(detect("\u{feff}<?xml version=\"1.0\"?><kml xmlns=\"x\">", "txt"), Some(InputFormat::Kml));
        assert_eq!(detect("<?xml version=\"1.0\"?><DataSet>", ""), Some(InputFormat::Xml));
        assert_eq!(detect(" {\"type\":\"FeatureCollection\"", "json"), Some(InputFormat::GeoJson));
        assert_eq!(detect("just words", ""), None);
    }
}
