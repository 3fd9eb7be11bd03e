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

pub mod text;
pub mod xml_dataset;

use std::io::BufRead;

use sds_core::{InputFormat, Schema};

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

/// Opens a reader for a format; reads up to and including the schema.
pub fn open_reader(format: InputFormat, input: Box<dyn BufRead + Send>) -> Result<Box<dyn RecordReader>, FormatError> {
    match format {
        InputFormat::Xml => Ok(Box::new(xml_dataset::DataSetReader::new(input)?)),
        InputFormat::Csv => Ok(Box::new(text::TextReader::new(input, text::Delimiter::Comma)?)),
        InputFormat::Tab => Ok(Box::new(text::TextReader::new(input, text::Delimiter::Tab)?)),
        InputFormat::Pipe => Ok(Box::new(text::TextReader::new(input, text::Delimiter::Pipe)?)),
        InputFormat::Kml => Err(FormatError::Unsupported("kml")),
        InputFormat::Shp => Err(FormatError::Unsupported("shp")),
        InputFormat::GeoJson => Err(FormatError::Unsupported("geojson")),
    }
}
