//! Splits delimited text into rows of cells by the quoting rules SDS and its
//! toolkit share: blanks before a cell's data are dropped, even before an
//! opening quote (`1, "Seattle, WA"` is two cells); a quoted cell may hold
//! delimiters, newlines and `""`; text after a closing quote is kept as data.
//!
//! This is hand-written rather than built on the `csv` crate because that
//! crate cannot drop the blank before an opening quote (it then reads the
//! quote as data and splits the cell at its comma) and does not say whether
//! a cell was quoted, so blanks could only be trimmed from every cell,
//! including the significant ones inside quotes.

use std::io::{BufRead, ErrorKind};

use crate::{FormatError, MAX_RECORD_BYTES};

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    /// At the start of a cell, dropping blanks.
    BeforeData,
    Unquoted,
    Quoted,
    /// Just after a quote inside a quoted cell: `""` or the closing quote.
    QuoteInQuoted,
}

/// Reads one row at a time into a reused buffer, so memory is bounded by
/// the longest row, whatever the input size.
pub(super) struct Tokenizer {
    input: Box<dyn BufRead + Send>,
    delimiter: u8,
    /// The line of the next unread byte.
    line: u64,
    /// The last row ended on CR: an LF right after it is the same line break.
    after_cr: bool,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Tokenizer {
    pub(super) fn new(input: Box<dyn BufRead + Send>, delimiter: u8) -> Tokenizer {
        Tokenizer { input, delimiter, line: 1, after_cr: false, bytes: Vec::new(), ends: Vec::new() }
    }

    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Drops a UTF-8 byte order mark, which spreadsheet tools like to write.
    pub(super) fn skip_bom(&mut self) -> Result<(), FormatError> {
        const BOM: &[u8] = b"\xEF\xBB\xBF";
        if self.input.fill_buf()?.starts_with(BOM) {
            self.input.consume(BOM.len());
        }
        Ok(())
    }

    /// Reads the next row that holds any data; returns the line it starts
    /// on. Rows of empty cells only (`,,,` as spreadsheets export below the
    /// data) count as blank lines.
    pub(super) fn next_row(&mut self) -> Result<Option<u64>, FormatError> {
        loop {
            let Some(line) = self.read_row()? else { return Ok(None) };
            if !self.bytes.is_empty() {
                return Ok(Some(line));
            }
        }
    }

    pub(super) fn cell_count(&self) -> usize {
        self.ends.len()
    }

    pub(super) fn cell(&self, index: usize) -> &[u8] {
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        &self.bytes[start..self.ends[index]]
    }

    fn read_row(&mut self) -> Result<Option<u64>, FormatError> {
        self.bytes.clear();
        self.ends.clear();
        let start_line = self.line;
        let delimiter = self.delimiter;
        let mut state = State::BeforeData;
        let mut started = false;
        loop {
            let buf = match self.input.fill_buf() {
                Ok(buf) => buf,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error.into()),
            };
            if buf.is_empty() {
                if !started {
                    return Ok(None);
                }
                if matches!(state, State::Quoted) {
                    return Err(FormatError::AtLine {
                        line: start_line,
                        message: "a quoted cell is not closed before the end of the input".into(),
                    });
                }
                self.ends.push(self.bytes.len());
                return Ok(Some(start_line));
            }

            let mut at = 0;
            if std::mem::take(&mut self.after_cr) && buf[0] == b'\n' {
                at = 1;
            }
            let mut row_done = false;
            while at < buf.len() {
                started = true;
                match state {
                    State::BeforeData => match buf[at] {
                        b' ' => at += 1,
                        b'"' => {
                            state = State::Quoted;
                            at += 1;
                        }
                        _ => state = State::Unquoted,
                    },
                    State::Unquoted => {
                        let rest = &buf[at..];
                        let Some(run) = rest.iter().position(|&b| b == delimiter || b == b'\n' || b == b'\r') else {
                            self.bytes.extend_from_slice(rest);
                            at = buf.len();
                            continue;
                        };
                        self.bytes.extend_from_slice(&rest[..run]);
                        let stop = rest[run];
                        at += run + 1;
                        self.ends.push(self.bytes.len());
                        if stop == delimiter {
                            state = State::BeforeData;
                        } else {
                            self.line += 1;
                            self.after_cr = stop == b'\r';
                            row_done = true;
                            break;
                        }
                    }
                    State::Quoted => {
                        let rest = &buf[at..];
                        let run = rest.iter().position(|&b| b == b'"').unwrap_or(rest.len());
                        let data = &rest[..run];
                        self.line += data.iter().filter(|&&b| b == b'\n').count() as u64;
                        self.bytes.extend_from_slice(data);
                        at += run;
                        if at < buf.len() {
                            at += 1;
                            state = State::QuoteInQuoted;
                        }
                    }
                    State::QuoteInQuoted => {
                        if buf[at] == b'"' {
                            self.bytes.push(b'"');
                            at += 1;
                            state = State::Quoted;
                        } else {
                            state = State::Unquoted;
                        }
                    }
                }
            }
            self.input.consume(at);
            if self.bytes.len() > MAX_RECORD_BYTES {
                return Err(FormatError::AtLine {
                    line: start_line,
                    message: format!("the row is longer than {MAX_RECORD_BYTES} bytes"),
                });
            }
            if row_done {
                return Ok(Some(start_line));
            }
        }
    }
}
