//! The SDS delimited text forms (CSV, TAB, PIPE).
//!
//! Line 1 is the version line `Bing Spatial Data Services, 1.0, <EntityType>`;
//! line 2 declares the columns as `Name(Edm.Type)`, the key as
//! `Name(Edm.String,primaryKey)`; every later non-blank line is one entity.
//!
//! Choices where the format leaves room:
//! - The version line is read through the same tokenizer, and its cells are
//!   joined with commas before being split on commas: it is one cell in TAB
//!   and PIPE files and three in CSV, and either shape is accepted for every
//!   delimiter (as are trailing empty cells a spreadsheet adds).
//! - Empty cells (quoted or not) come back as `None`; lines whose cells
//!   are all empty are skipped like blank lines.
//! - Trailing empty cells beyond the declared columns are dropped (a
//!   trailing delimiter is common in PIPE files); any other extra cell makes
//!   the row fail through [`Record::problem`].

mod tokenizer;
mod writer;

pub use writer::{CsvRows, CsvWriter};

#[cfg(test)]
mod tests;

use std::io::BufRead;

use sds_core::{EdmType, Property, Schema, SchemaError};

use crate::{FormatError, Record, RecordReader};
use tokenizer::Tokenizer;

const SIGNATURE: &str = "Bing Spatial Data Services";
const VERSION: &str = "1.0";
const PRIMARY_KEY: &str = "primaryKey";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delimiter {
    Comma,
    Tab,
    Pipe,
}

impl Delimiter {
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Tab => b'\t',
            Delimiter::Pipe => b'|',
        }
    }
}

/// A streaming reader of one CSV, TAB or PIPE document.
pub struct TextReader {
    tokens: Tokenizer,
    schema: Schema,
    finished: bool,
}

impl TextReader {
    /// Reads the version and header lines; rows are read on demand.
    pub fn new(input: Box<dyn BufRead + Send>, delimiter: Delimiter) -> Result<Self, FormatError> {
        let mut tokens = Tokenizer::new(input, delimiter.byte());
        tokens.skip_bom()?;
        let entity_type = read_version_line(&mut tokens)?;
        let Some(line) = tokens.next_row()? else {
            return Err(FormatError::AtLine {
                line: tokens.line(),
                message: "the header line is missing: expected cells like Name(Edm.String)".into(),
            });
        };
        let cells = utf8_cells(&tokens, line)?;
        let (properties, key) = parse_headers(&cells, line)?;
        let schema = Schema::new(entity_type, properties, &key)?;
        Ok(TextReader { tokens, schema, finished: false })
    }

    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        let Some(line) = self.tokens.next_row()? else { return Ok(None) };
        let columns = self.schema.properties.len();
        let mut count = self.tokens.cell_count();
        while count > columns && self.tokens.cell(count - 1).is_empty() {
            count -= 1;
        }
        let mut cells = Vec::with_capacity(count);
        for index in 0..count {
            let bytes = self.tokens.cell(index);
            if bytes.is_empty() {
                cells.push(None);
            } else {
                cells.push(Some(utf8(bytes, line, index)?.to_owned()));
            }
        }
        let problem =
            (count > columns).then(|| format!("row has {count} cells but the header declares {columns} columns"));
        Ok(Some(Record { line, cells, problem }))
    }
}

impl RecordReader for TextReader {
    fn schema(&self) -> &Schema {
        &self.schema
    }

    fn next_record(&mut self) -> Option<Result<Record, FormatError>> {
        crate::next_until_done(self)
    }
}

impl crate::RecordSource for TextReader {
    fn read_record(&mut self) -> Result<Option<Record>, FormatError> {
        self.read_record()
    }

    fn finished(&mut self) -> &mut bool {
        &mut self.finished
    }
}

fn utf8(bytes: &[u8], line: u64, index: usize) -> Result<&str, FormatError> {
    std::str::from_utf8(bytes)
        .map_err(|_| FormatError::AtLine { line, message: format!("cell {} is not valid UTF-8", index + 1) })
}

fn utf8_cells(tokens: &Tokenizer, line: u64) -> Result<Vec<String>, FormatError> {
    (0..tokens.cell_count()).map(|index| utf8(tokens.cell(index), line, index).map(str::to_owned)).collect()
}

/// Returns the entity type name the version line declares.
fn read_version_line(tokens: &mut Tokenizer) -> Result<String, FormatError> {
    let expected = format!("expected the version line '{SIGNATURE}, {VERSION}, <EntityTypeName>'");
    let Some(line) = tokens.next_row()? else {
        return Err(FormatError::AtLine { line: 1, message: format!("the document is empty: {expected}") });
    };
    let joined = utf8_cells(tokens, line)?.join(",");
    let mut parts: Vec<&str> = joined.split(',').map(str::trim).collect();
    while parts.last().is_some_and(|part| part.is_empty()) {
        parts.pop();
    }
    let fail = |message: String| Err(FormatError::AtLine { line, message });
    if !parts.first().is_some_and(|first| first.eq_ignore_ascii_case(SIGNATURE)) {
        return fail(format!("{expected}, found '{}'", sds_core::value::excerpt(&joined)));
    }
    match parts.as_slice() {
        [_, version, ..] if *version != VERSION => {
            fail(format!("version '{version}' is not supported: only {VERSION} is ({expected})"))
        }
        [_, _, entity_type] if !entity_type.is_empty() => Ok((*entity_type).to_owned()),
        [_, _, _, extra, ..] => fail(format!("unexpected '{extra}' after the entity type name ({expected})")),
        _ => fail(format!("the entity type name is missing ({expected})")),
    }
}

/// Turns the header cells into properties and the key's name.
fn parse_headers(cells: &[String], line: u64) -> Result<(Vec<Property>, String), FormatError> {
    let fail = |message: String| Err(FormatError::AtLine { line, message });
    let mut headers = rejoin_split_headers(cells);
    while headers.last().is_some_and(|header| header.trim().is_empty()) {
        headers.pop();
    }
    let mut properties = Vec::with_capacity(headers.len());
    let mut key: Option<String> = None;
    for (index, header) in headers.iter().enumerate() {
        let header = header.trim();
        if header.is_empty() {
            return fail(format!("column {} has no header: expected Name(Edm.Type)", index + 1));
        }
        let Some((name, rest)) = header.split_once('(') else {
            return fail(format!("header '{header}' has no type: expected Name(Edm.Type)"));
        };
        let Some(inner) = rest.trim_end().strip_suffix(')') else {
            return fail(format!("header '{header}' is not of the form Name(Edm.Type)"));
        };
        let mut parts = inner.split(',').map(str::trim);
        let type_name = parts.next().unwrap_or_default();
        let is_key = match (parts.next(), parts.next()) {
            (None, _) => false,
            (Some(flag), None) if flag.eq_ignore_ascii_case(PRIMARY_KEY) => true,
            _ => return fail(format!("header '{header}': expected Name(Edm.Type) or Name(Edm.String,primaryKey)")),
        };
        let Some(edm_type) = EdmType::from_edm_name(type_name) else {
            return fail(format!("header '{header}': {}", SchemaError::UnknownType(type_name.to_owned())));
        };
        let name = name.trim().to_owned();
        if is_key {
            if let Some(first) = &key {
                return Err(SchemaError::MultiplePrimaryKeys(first.clone(), name).into());
            }
            key = Some(name.clone());
        }
        properties.push(Property::new(name, edm_type));
    }
    let key = key.ok_or(SchemaError::NoPrimaryKey)?;
    Ok((properties, key))
}

/// An unquoted `Name(Edm.String,primaryKey)` reaches us as two cells, split
/// at its comma: glue cells back together while a parenthesis is open.
fn rejoin_split_headers(cells: &[String]) -> Vec<String> {
    let mut headers: Vec<String> = Vec::with_capacity(cells.len());
    let mut open = false;
    for cell in cells {
        match headers.last_mut() {
            Some(last) if open => {
                last.push(',');
                last.push_str(cell);
            }
            _ => headers.push(cell.clone()),
        }
        let last = headers.last().map(String::as_str).unwrap_or_default();
        open = last.matches('(').count() > last.matches(')').count();
    }
    headers
}
