//! The `.dbf` attribute table (dBase III and later): field descriptors,
//! then fixed-width rows, one per shape, in the same order.
//!
//! Types: `C` → Edm.String (trailing blanks dropped); `N`/`F` without
//! decimals and at most 18 digits wide → Edm.Int64, other `N`/`F` →
//! Edm.Double; `L` → Edm.Boolean (`T`/`Y` true, `F`/`N` false, `?` or
//! blank null); `D` (`YYYYMMDD`) → Edm.DateTime at midnight UTC; `I`
//! (binary int32) → Edm.Int64; `O` (binary double) → Edm.Double. Other
//! field types (memo, general, binary, timestamps) are left out of the
//! schema. Deleted rows (`*`) are skipped with their shapes.
//!
//! Code page: the `.cpg` file when present (UTF-8, ISO-8859-1/Latin-1,
//! Windows code pages and the other labels `encoding_rs` knows, as names
//! or numbers), else the language driver byte of the header; without
//! either, text is UTF-8 when it is valid UTF-8 and Windows-1252
//! otherwise. OEM (DOS) code pages — 437, 850, 852 and the others
//! `oem_cp` has tables for — are decoded. A language driver byte nothing
//! here knows is accepted while the text is ASCII; a row with other bytes
//! fails with the reason. Invalid
//! UTF-8 in a UTF-8 file (often a character cut by the field width) is
//! replaced by U+FFFD.

use std::io::Read;

use encoding_rs::Encoding;
use oem_cp::code_table::DECODING_TABLE_CP_MAP;
use oem_cp::code_table_type::TableType;
use sds_core::EdmType;

use crate::FormatError;

#[derive(Clone, Copy, Debug)]
pub(crate) enum CodePage {
    Utf8,
    Latin1,
    Encoding(&'static Encoding),
    /// UTF-8 if valid, else Windows-1252.
    Unspecified,
    /// An OEM (DOS) code page, by its `oem_cp` table.
    Oem(&'static TableType),
    /// A language driver byte nothing here knows: ASCII only.
    UnknownDriver(u8),
}

impl CodePage {
    /// From a `.cpg` file's text.
    pub(crate) fn from_cpg(text: &str) -> Result<CodePage, FormatError> {
        let label = text.trim_start_matches('\u{FEFF}').trim();
        let upper = label.to_ascii_uppercase();
        if let Some(table) = oem_table(&upper) {
            return Ok(CodePage::Oem(table));
        }
        let page = match upper.as_str() {
            "" => CodePage::Unspecified,
            "UTF-8" | "UTF8" | "65001" => CodePage::Utf8,
            "ISO-8859-1" | "ISO8859-1" | "ISO_8859_1" | "8859_1" | "88591" | "28591" | "LATIN1" | "LATIN-1" => {
                CodePage::Latin1
            }
            _ => {
                let digits = upper.trim_start_matches("ANSI ").trim_start_matches("CP").trim_start_matches("OEM ");
                let numbered = match digits {
                    "1250" | "1251" | "1252" | "1253" | "1254" | "1255" | "1256" | "1257" | "1258" | "874" => {
                        Some(format!("windows-{digits}"))
                    }
                    "866" => Some("ibm866".into()),
                    "932" => Some("shift_jis".into()),
                    "936" => Some("gbk".into()),
                    "949" => Some("euc-kr".into()),
                    "950" => Some("big5".into()),
                    _ if digits.starts_with("8859") => {
                        Some(format!("iso-8859-{}", digits.trim_start_matches("8859").trim_start_matches(['_', '-'])))
                    }
                    _ => None,
                };
                let encoding =
                    Encoding::for_label(numbered.as_deref().unwrap_or(label).as_bytes()).ok_or_else(|| {
                        FormatError::Document(format!(
                            "the .cpg names code page '{}', which is not supported (use UTF-8 or a Windows code page)",
                            sds_core::value::excerpt(label)
                        ))
                    })?;
                if encoding == encoding_rs::UTF_8 {
                    CodePage::Utf8
                } else {
                    CodePage::Encoding(encoding)
                }
            }
        };
        Ok(page)
    }

    /// From the DBF header's language driver ID.
    pub(crate) fn from_language_driver(id: u8) -> CodePage {
        let encoding = |encoding| CodePage::Encoding(encoding);
        match id {
            0x00 => CodePage::Unspecified,
            // The DOS (OEM) drivers, by the code page they name.
            0x01 | 0x09 | 0x0B | 0x0D | 0x0F | 0x11 | 0x15 | 0x18 | 0x19 | 0x1B => oem(437),
            0x02 | 0x0A | 0x0E | 0x10 | 0x12 | 0x14 | 0x16 | 0x1A | 0x1D | 0x25 | 0x37 => oem(850),
            0x1F | 0x22 | 0x23 | 0x40 | 0x64 | 0x87 => oem(852),
            0x08 | 0x17 | 0x66 => oem(865),
            0x6A | 0x86 => oem(737),
            0x6B | 0x88 => oem(857),
            0x1C | 0x6C => oem(863),
            0x24 => oem(860),
            0x67 => oem(861),
            0x03 | 0x57 | 0x58 | 0x59 => encoding(encoding_rs::WINDOWS_1252),
            0x26 | 0x65 => encoding(encoding_rs::IBM866),
            0x13 | 0x7B => encoding(encoding_rs::SHIFT_JIS),
            0x4D | 0x7A => encoding(encoding_rs::GBK),
            0x4E | 0x79 => encoding(encoding_rs::EUC_KR),
            0x4F | 0x78 => encoding(encoding_rs::BIG5),
            0x50 | 0x7C => encoding(encoding_rs::WINDOWS_874),
            0x7D => encoding(encoding_rs::WINDOWS_1255),
            0x7E => encoding(encoding_rs::WINDOWS_1256),
            0xC8 => encoding(encoding_rs::WINDOWS_1250),
            0xC9 => encoding(encoding_rs::WINDOWS_1251),
            0xCA => encoding(encoding_rs::WINDOWS_1254),
            0xCB => encoding(encoding_rs::WINDOWS_1253),
            0xCC => encoding(encoding_rs::WINDOWS_1257),
            other => CodePage::UnknownDriver(other),
        }
    }

    fn decode(self, bytes: &[u8]) -> Result<String, String> {
        Ok(match self {
            CodePage::Utf8 => String::from_utf8_lossy(bytes).into_owned(),
            CodePage::Latin1 => bytes.iter().map(|&byte| char::from(byte)).collect(),
            CodePage::Encoding(encoding) => encoding.decode_without_bom_handling(bytes).0.into_owned(),
            CodePage::Unspecified => match std::str::from_utf8(bytes) {
                Ok(text) => text.to_owned(),
                Err(_) => encoding_rs::WINDOWS_1252.decode_without_bom_handling(bytes).0.into_owned(),
            },
            CodePage::Oem(table) => table.decode_string_lossy(bytes),
            CodePage::UnknownDriver(id) => {
                if !bytes.is_ascii() {
                    return Err(format!(
                        "the DBF's language driver 0x{id:02X} is not supported: only ASCII text can be read (add a .cpg file naming the code page)"
                    ));
                }
                String::from_utf8_lossy(bytes).into_owned()
            }
        })
    }
}

/// `437`, `CP850`, `IBM852`, `OEM 866`…: the table of an OEM code page
/// `oem_cp` can decode. (866 is also in `encoding_rs`; either decodes it
/// the same.)
fn oem_table(upper_label: &str) -> Option<&'static TableType> {
    let digits =
        ["IBM", "CP", "OEM ", "OEM"].iter().fold(upper_label, |label, prefix| label.trim_start_matches(prefix));
    DECODING_TABLE_CP_MAP.get(&digits.parse::<u16>().ok()?)
}

/// The table of an OEM code page a DBF language driver names.
fn oem(page: u16) -> CodePage {
    CodePage::Oem(DECODING_TABLE_CP_MAP.get(&page).expect("oem_cp has a table for every page the driver table names"))
}

#[derive(Clone, Debug)]
pub(crate) struct Field {
    /// The raw name from the descriptor.
    pub(crate) name: String,
    kind: u8,
    offset: usize,
    length: usize,
    /// `None`: the field is not a column.
    pub(crate) edm_type: Option<EdmType>,
}

pub(crate) struct Dbf {
    input: Box<dyn Read + Send>,
    pub(crate) fields: Vec<Field>,
    pub(crate) row_count: u32,
    rows_read: u32,
    record: Vec<u8>,
    code_page: CodePage,
}

pub(crate) enum Row {
    /// Cells of the columns, in field order (only fields with a type).
    Cells(Vec<Option<String>>, Option<String>),
    Deleted,
}

fn dbf_error(message: impl Into<String>) -> FormatError {
    FormatError::Document(format!("the .dbf file is invalid: {}", message.into()))
}

impl Dbf {
    pub(crate) fn new(mut input: Box<dyn Read + Send>, cpg: Option<&str>) -> Result<Dbf, FormatError> {
        let mut header = [0u8; 32];
        if super::read_up_to(&mut input, &mut header)? < 32 {
            return Err(dbf_error("it is shorter than its 32-byte header"));
        }
        let row_count = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        let header_length = usize::from(u16::from_le_bytes([header[8], header[9]]));
        let record_length = usize::from(u16::from_le_bytes([header[10], header[11]]));
        if header_length < 33 {
            return Err(dbf_error(format!("its header length {header_length} is too small")));
        }
        if record_length == 0 {
            return Err(dbf_error("its record length is 0"));
        }
        let code_page = match cpg {
            Some(text) => CodePage::from_cpg(text)?,
            None => CodePage::from_language_driver(header[29]),
        };
        let mut rest = vec![0u8; header_length - 32];
        if super::read_up_to(&mut input, &mut rest)? < rest.len() {
            return Err(dbf_error("it is truncated inside its header"));
        }
        let mut fields = Vec::new();
        let mut offset = 1;
        for descriptor in rest.chunks(32) {
            if descriptor[0] == 0x0D || descriptor.len() < 32 {
                break;
            }
            let name_bytes = &descriptor[..11];
            let name_end = name_bytes.iter().position(|&byte| byte == 0).unwrap_or(11);
            let name = code_page.decode(&name_bytes[..name_end]).unwrap_or_else(|_| "Field".into()).trim().to_owned();
            let kind = descriptor[11].to_ascii_uppercase();
            let length = usize::from(descriptor[16]);
            let decimals = descriptor[17];
            let edm_type = match kind {
                b'C' => Some(EdmType::String),
                b'N' | b'F' if decimals == 0 && length <= 18 => Some(EdmType::Int64),
                b'N' | b'F' => Some(EdmType::Double),
                b'L' => Some(EdmType::Boolean),
                b'D' => Some(EdmType::DateTime),
                b'I' if length == 4 => Some(EdmType::Int64),
                b'O' if length == 8 => Some(EdmType::Double),
                _ => None,
            };
            fields.push(Field { name, kind, offset, length, edm_type });
            offset += length;
        }
        if offset > record_length {
            return Err(dbf_error(format!(
                "its fields take {offset} bytes but its header says a row has {record_length}"
            )));
        }
        Ok(Dbf { input, fields, row_count, rows_read: 0, record: vec![0; record_length], code_page })
    }

    /// Rows left according to the header.
    pub(crate) fn remaining(&self) -> u32 {
        self.row_count - self.rows_read
    }

    /// The next row; `None` once the header's row count is read.
    pub(crate) fn next_row(&mut self) -> Result<Option<Row>, FormatError> {
        if self.rows_read >= self.row_count {
            return Ok(None);
        }
        let read = super::read_up_to(&mut self.input, &mut self.record)?;
        if read < self.record.len() || self.record[0] == 0x1A {
            return Err(FormatError::Document(format!(
                "the .dbf file is truncated: its header declares {} rows but it holds only {}",
                self.row_count, self.rows_read
            )));
        }
        self.rows_read += 1;
        if self.record[0] == b'*' {
            return Ok(Some(Row::Deleted));
        }
        let mut cells = Vec::with_capacity(self.fields.len());
        let mut problem = None;
        for field in &self.fields {
            let Some(edm_type) = field.edm_type else { continue };
            let bytes = &self.record[field.offset..field.offset + field.length];
            match self.cell(field, edm_type, bytes) {
                Ok(cell) => cells.push(cell),
                Err(message) => {
                    problem.get_or_insert_with(|| format!("field '{}': {message}", field.name));
                    cells.push(None);
                }
            }
        }
        Ok(Some(Row::Cells(cells, problem)))
    }

    fn cell(&self, field: &Field, edm_type: EdmType, bytes: &[u8]) -> Result<Option<String>, String> {
        let binary = |length: usize| bytes.len() == length;
        match field.kind {
            b'I' if binary(4) => {
                return Ok(Some(i32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]).to_string()))
            }
            b'O' if binary(8) => {
                let mut array = [0u8; 8];
                array.copy_from_slice(bytes);
                return Ok(Some(f64::from_le_bytes(array).to_string()));
            }
            _ => {}
        }
        let text = self.code_page.decode(bytes)?;
        let text = text.trim_end_matches([' ', '\0']);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let cell = match edm_type {
            EdmType::String => text.to_owned(),
            EdmType::Int64 => {
                if trimmed.bytes().all(|byte| byte == b'*') {
                    return Ok(None);
                }
                // Some writers put `12.000` or `1e+05` in integer fields.
                match trimmed.parse::<f64>() {
                    Ok(number) if trimmed.parse::<i64>().is_err() && number.fract() == 0.0 && number.abs() < 9.0e15 => {
                        format!("{}", number as i64)
                    }
                    _ => trimmed.to_owned(),
                }
            }
            EdmType::Double => {
                if trimmed.bytes().all(|byte| byte == b'*') {
                    return Ok(None);
                }
                trimmed.to_owned()
            }
            EdmType::Boolean => match trimmed {
                "T" | "t" | "Y" | "y" => "true".to_owned(),
                "F" | "f" | "N" | "n" => "false".to_owned(),
                "?" => return Ok(None),
                other => other.to_owned(),
            },
            EdmType::DateTime => {
                if trimmed.bytes().all(|byte| byte == b'0') {
                    return Ok(None);
                }
                if trimmed.len() == 8 && trimmed.bytes().all(|byte| byte.is_ascii_digit()) {
                    format!("{}-{}-{}", &trimmed[..4], &trimmed[4..6], &trimmed[6..])
                } else {
                    trimmed.to_owned()
                }
            }
            EdmType::Geography => return Err("unexpected geography".into()),
        };
        Ok(Some(cell))
    }
}
