//! Readers and writers for the entity data formats of SDS.
//!
//! A reader takes a buffered byte stream (already decompressed), reads the
//! schema part eagerly, then yields one [`Record`] of raw text cells per
//! entity, streaming: memory stays bounded whatever the input size. Typing
//! the cells is not the reader's job: `sds_core::EntityBuilder` does that
//! the same way for every format.
//!
//! Errors: a [`FormatError`] ends the whole document (malformed XML, a bad
//! header, bytes that are not UTF-8); a problem confined to one row (say, an
//! unknown child element in one XML row) comes back as
//! [`Record::problem`], and the job counts that row as failed and goes on.
//!
//! Formats that need random access or two passes (KML/KMZ, zipped
//! shapefiles, GeoJSON) are opened from a file with [`open_path_reader`];
//! they have no entity type of their own and take the hint given (the data
//! source name). Their mapping to SDS entities is documented in
//! [`kml`], [`shapefile`] and [`geojson`]. Downloads are written by
//! [`xml_dataset::DataSetWriter`] (SDS), [`geojson::GeoJsonWriter`] and
//! [`text::CsvWriter`] (extensions), all with the same streaming shape.

mod archive;
pub mod geojson;
mod geometry;
pub mod kml;
mod names;
pub mod shapefile;
pub mod text;
pub mod xml_dataset;

#[cfg(test)]
mod fuzz_regressions;

use std::io::BufRead;
use std::path::Path;

use sds_core::{InputFormat, Schema, ValueRef};

/// Most bytes one row (text) or one value or markup item (XML) may take.
/// The largest legitimate value is a 100,000-point WKT (about 4 MB with
/// full-precision coordinates); the bound keeps a hostile or broken input
/// from growing a reader's buffer without limit.
pub const MAX_RECORD_BYTES: usize = 16 * 1024 * 1024;

/// One entity's raw cells, in the order of the reader's schema columns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// 1-based line of the input where the entity starts.
    pub line: u64,
    /// `None` for an absent cell; the builder treats empty text as null too.
    pub cells: Vec<Option<String>>,
    /// A row-level problem that makes this row fail (cells may be partial).
    pub problem: Option<String>,
}

/// A document-level error: the job aborts with this message.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    #[error("line {line}: {message}")]
    AtLine { line: u64, message: String },
    #[error("{0}")]
    Document(String),
    #[error("the schema is invalid: {0}")]
    Schema(#[from] sds_core::SchemaError),
    #[error("input format '{0}' is not supported by this reader")]
    Unsupported(&'static str),
    #[error("reading the input failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A streaming reader of entity records.
pub trait RecordReader: Send {
    /// The schema the document declares (including `__deleteEntity` when present).
    fn schema(&self) -> &Schema;
    /// The next record; `None` at the end of the document.
    fn next_record(&mut self) -> Option<Result<Record, FormatError>>;
}

/// How a reader produces records; [`next_until_done`] turns it into
/// `RecordReader::next_record`.
pub(crate) trait RecordSource {
    /// The next record, `Ok(None)` at the end of the document.
    fn read_record(&mut self) -> Result<Option<Record>, FormatError>;
    /// Set once the reader has ended.
    fn finished(&mut self) -> &mut bool;
}

/// Every reader stops for good at the end of its document or at its first
/// document error, so a caller that keeps calling gets `None` instead of
/// reading on past a broken spot.
pub(crate) fn next_until_done(reader: &mut impl RecordSource) -> Option<Result<Record, FormatError>> {
    if *reader.finished() {
        return None;
    }
    let result = reader.read_record().transpose();
    if !matches!(result, Some(Ok(_))) {
        *reader.finished() = true;
    }
    result
}

/// One entity as the download writers read it: a decoded [`sds_core::Entity`],
/// or a row of a query table (which keeps columns, not entities), so that
/// a download can be written from either without building entities.
pub trait EntityRow {
    fn id(&self) -> &str;
    fn latitude(&self) -> f64;
    fn longitude(&self) -> f64;
    /// The value of the schema's property `index` (below the schema's
    /// property count; callers check the count once).
    fn value(&self, index: usize) -> ValueRef<'_>;
}

impl EntityRow for sds_core::Entity {
    fn id(&self) -> &str {
        &self.id
    }

    fn latitude(&self) -> f64 {
        self.latitude
    }

    fn longitude(&self) -> f64 {
        self.longitude
    }

    fn value(&self, index: usize) -> ValueRef<'_> {
        self.values[index].borrowed()
    }
}

/// The rows of one download document, formatted apart from the document
/// (its head and tail): shared by threads that format chunks of rows at
/// once, whose texts are then written in row order. Appending to a `Vec`
/// cannot fail, so neither can formatting.
pub trait RowFormat: Clone + Send + Sync {
    /// Appends `row`'s text; `first` when it is the document's first row
    /// (a separator may go before every other row).
    fn format_row(&self, out: &mut Vec<u8>, row: &impl EntityRow, first: bool);
}

/// Writers refuse an entity whose values do not follow their schema.
pub(crate) fn check_value_count(entity: &sds_core::Entity, properties: usize) -> std::io::Result<()> {
    if entity.values.len() == properties {
        return Ok(());
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("entity '{}' has {} values but the schema has {properties} properties", entity.id, entity.values.len()),
    ))
}

/// Opens a reader for a format; reads up to and including the schema.
///
/// Errors: [`FormatError::Document`] "the document is UTF-16; SDS accepts
/// UTF-8 only" for UTF-16 input (see [`refuse_utf16`]), otherwise the
/// format reader's own errors.
pub fn open_reader(format: InputFormat, input: Box<dyn BufRead + Send>) -> Result<Box<dyn RecordReader>, FormatError> {
    let input = refuse_utf16(input, format == InputFormat::Xml)?;
    match format {
        InputFormat::Xml => Ok(Box::new(xml_dataset::DataSetReader::new(input)?)),
        InputFormat::Csv => Ok(Box::new(text::TextReader::new(input, text::Delimiter::Comma)?)),
        InputFormat::Tab => Ok(Box::new(text::TextReader::new(input, text::Delimiter::Tab)?)),
        InputFormat::Pipe => Ok(Box::new(text::TextReader::new(input, text::Delimiter::Pipe)?)),
        // These need random access or two passes: see [`open_path_reader`].
        InputFormat::Kml => Err(FormatError::Unsupported("kml")),
        InputFormat::Shp => Err(FormatError::Unsupported("shp")),
        InputFormat::GeoJson => Err(FormatError::Unsupported("geojson")),
    }
}

/// Refuses UTF-16 input with a clear reason instead of the parse error its
/// NUL bytes would cause: SDS accepts UTF-8 only (the load page; the schema
/// page's samples declare `encoding="UTF-8"`). UTF-16 is recognised by its
/// byte order mark (`FF FE`, `FE FF`) and, for XML, which must start with
/// `<` (XML 1.0 §4.3.3, Appendix F), by a `<` paired with a NUL byte. The
/// bytes peeked at are handed on, so the returned input is whole.
pub fn refuse_utf16(mut input: Box<dyn BufRead + Send>, is_xml: bool) -> Result<Box<dyn BufRead + Send>, FormatError> {
    use std::io::Read;
    let mut prefix = Vec::with_capacity(2);
    input.by_ref().take(2).read_to_end(&mut prefix)?;
    let utf16 = match prefix.as_slice() {
        [0xFF, 0xFE] | [0xFE, 0xFF] => true,
        [b'<', 0] | [0, b'<'] => is_xml,
        _ => false,
    };
    if utf16 {
        return Err(FormatError::Document("the document is UTF-16; SDS accepts UTF-8 only".into()));
    }
    Ok(Box::new(std::io::Cursor::new(prefix).chain(input)))
}

/// The per-file limits SDS documents for KML and shapefile uploads
/// (`geocode-and-data-source-limits.md`); the default is the Enterprise
/// tier (Basic: 50 polygons of at most 250 points). A file over either
/// limit fails as a whole, with a [`FormatError`] naming the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileLimits {
    /// Most polygons in one file (a MULTIPOLYGON counts each member).
    pub max_polygons: u64,
    /// Most points in one polygon, all its rings together.
    pub max_points_per_polygon: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        FileLimits { max_polygons: 200_000, max_points_per_polygon: 100_000 }
    }
}

/// Everything [`open_path_reader_with`] can be told.
#[derive(Clone, Debug)]
pub struct PathReaderOptions {
    /// The entity type name for formats that have none (KML, SHP,
    /// GeoJSON): SPEC says the data source name. Characters a name may not
    /// hold become `_` (see [`entity_type_name`]).
    pub entity_type_hint: String,
    /// Most bytes any decompression (gzip, a zip entry, all zip entries
    /// together) may produce.
    pub max_uncompressed_bytes: u64,
    pub limits: FileLimits,
    /// GeoJSON: where the entity ID comes from (see [`geojson::IdSource`]).
    pub geojson_id: geojson::IdSource,
}

impl PathReaderOptions {
    pub fn new(entity_type_hint: &str, max_uncompressed_bytes: u64) -> Self {
        PathReaderOptions {
            entity_type_hint: entity_type_hint.to_owned(),
            max_uncompressed_bytes,
            limits: FileLimits::default(),
            geojson_id: geojson::IdSource::default(),
        }
    }
}

/// Opens a reader over a file on disk, for every format, including those
/// that need random access or two passes (KML, SHP, GeoJSON). The file may
/// be the upload as received: gzip (`1F 8B`) and zip (`50 4B 03 04`) are
/// recognized by their magic bytes, whatever the format (a KMZ is a zip, a
/// shapefile upload must be one); extracted or decompressed data goes to a
/// temporary directory the reader owns and removes when dropped.
pub fn open_path_reader(
    format: InputFormat,
    path: &Path,
    entity_type_hint: &str,
    max_uncompressed_bytes: u64,
) -> Result<Box<dyn RecordReader>, FormatError> {
    open_path_reader_with(format, path, &PathReaderOptions::new(entity_type_hint, max_uncompressed_bytes))
}

/// [`open_path_reader`] with every option.
pub fn open_path_reader_with(
    format: InputFormat,
    path: &Path,
    options: &PathReaderOptions,
) -> Result<Box<dyn RecordReader>, FormatError> {
    match format {
        InputFormat::Kml => Ok(Box::new(kml::KmlReader::open(path, options)?)),
        InputFormat::Shp => Ok(Box::new(shapefile::ShapefileReader::open(path, options)?)),
        InputFormat::GeoJson => Ok(Box::new(geojson::GeoJsonReader::open(path, options)?)),
        InputFormat::Xml | InputFormat::Csv | InputFormat::Tab | InputFormat::Pipe => {
            let source = archive::Source::open(path, options.max_uncompressed_bytes, &[])?;
            let reader = open_reader(format, source.reader()?)?;
            Ok(Box::new(archive::Owning { reader, _source: source }))
        }
    }
}

/// The entity type name a hint (the data source name) becomes: characters
/// outside `[A-Za-z0-9_]` become `_`, a leading digit gets a `_` before it,
/// at most 50 characters are kept, and an empty hint gives `Entity`.
pub fn entity_type_name(hint: &str) -> String {
    names::entity_type_name(hint)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn geojson_is_an_input_format() {
        assert_eq!(InputFormat::parse("GeoJSON"), Some(InputFormat::GeoJson));
        assert_eq!(InputFormat::GeoJson.as_str(), "geojson");
        assert!(matches!(
            open_reader(InputFormat::GeoJson, Box::new(std::io::Cursor::new(Vec::new()))),
            Err(FormatError::Unsupported("geojson"))
        ));
    }

    fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
        let mut bytes = Vec::new();
        let units = bom.then_some(0xFEFF).into_iter().chain(text.encode_utf16());
        for unit in units {
            bytes.extend(if big_endian { unit.to_be_bytes() } else { unit.to_le_bytes() });
        }
        bytes
    }

    /// Tryout F8: UTF-16 input is refused as UTF-16, for XML with or
    /// without a BOM and for text with one; UTF-8 input reads unchanged.
    #[test]
    fn tryout_f8_utf16_input_is_named() {
        let xml = r#"<?xml version="1.0" encoding="utf-16"?><Root/>"#;
        let csv = "Bing Spatial Data Services, 1.0, T\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,2,3\n";
        let mut cases = Vec::new();
        for big_endian in [false, true] {
            cases.push((InputFormat::Xml, utf16(xml, big_endian, true)));
            cases.push((InputFormat::Xml, utf16(xml, big_endian, false)));
            for format in [InputFormat::Csv, InputFormat::Tab, InputFormat::Pipe] {
                cases.push((format, utf16(csv, big_endian, true)));
            }
        }
        for (format, bytes) in cases {
            let error = open_reader(format, Box::new(std::io::Cursor::new(bytes))).err().map(|e| e.to_string());
            assert_eq!(error.as_deref(), Some("the document is UTF-16; SDS accepts UTF-8 only"), "{format:?}");
        }
        let mut reader =
            open_reader(InputFormat::Csv, Box::new(std::io::Cursor::new(csv.as_bytes().to_vec()))).unwrap();
        assert_eq!(reader.next_record().unwrap().unwrap().cells[0].as_deref(), Some("1"));
        assert!(open_reader(InputFormat::Csv, Box::new(std::io::Cursor::new(Vec::new()))).is_err());
    }

    #[test]
    fn path_readers_decompress_text_formats_too() {
        let csv = "Bing Spatial Data Services, 1.0, T\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,2,3\n";
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(csv.as_bytes()).unwrap();
        let gzip = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(gzip.path(), encoder.finish().unwrap()).unwrap();
        let zip = crate::shapefile::tests::zip_file(&[("data.txt", csv.as_bytes().to_vec())]);
        for path in [gzip.path(), zip.path()] {
            let mut reader = open_path_reader(InputFormat::Csv, path, "ignored", 1 << 20).unwrap();
            assert_eq!(reader.schema().entity_type_name, "T");
            assert_eq!(reader.next_record().unwrap().unwrap().cells[0].as_deref(), Some("1"));
            assert!(reader.next_record().is_none());
        }
        let error = open_path_reader(InputFormat::Csv, gzip.path(), "ignored", 10).err().unwrap();
        assert!(error.to_string().contains("larger than the limit of 10 bytes"), "{error}");
    }
}
