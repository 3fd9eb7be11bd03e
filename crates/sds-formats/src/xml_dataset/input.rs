//! The byte source under the XML parser. It counts lines as the parser
//! consumes bytes (quick-xml reports byte offsets only, and error messages
//! must name lines) and caps how much one parser event may consume, since
//! quick-xml buffers a whole text run or tag before handing it over.
//!
//! It keeps its own buffer rather than passing the caller's `BufRead`
//! through: counting needs the consumed bytes, and the parser consumes a
//! few bytes at a time, so going through a `dyn BufRead` twice per event
//! would cost more than one large copy per 64 KiB.

use std::io::{self, BufRead, ErrorKind, Read};

use crate::MAX_RECORD_BYTES;

const BUFFER_BYTES: usize = 64 * 1024;

pub(crate) struct Tracked {
    inner: Box<dyn BufRead + Send>,
    buffer: Box<[u8]>,
    /// The unconsumed part of `buffer`.
    start: usize,
    end: usize,
    /// The line of the next unconsumed byte.
    line: u64,
    /// Bytes consumed since [`Tracked::mark`].
    since_mark: usize,
    over_limit: bool,
}

impl Tracked {
    pub(crate) fn new(inner: Box<dyn BufRead + Send>) -> Tracked {
        Tracked {
            inner,
            buffer: vec![0; BUFFER_BYTES].into_boxed_slice(),
            start: 0,
            end: 0,
            line: 1,
            since_mark: 0,
            over_limit: false,
        }
    }

    pub(crate) fn line(&self) -> u64 {
        self.line
    }

    /// Starts a new event's byte budget.
    pub(crate) fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// Whether the last I/O error came from the byte budget, not the input.
    pub(crate) fn over_limit(&self) -> bool {
        self.over_limit
    }
}

impl Read for Tracked {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let amount = available.len().min(out.len());
        out[..amount].copy_from_slice(&available[..amount]);
        self.consume(amount);
        Ok(amount)
    }
}

impl BufRead for Tracked {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.since_mark > MAX_RECORD_BYTES {
            self.over_limit = true;
            return Err(io::Error::other(format!("an XML text or tag is longer than {MAX_RECORD_BYTES} bytes")));
        }
        if self.start == self.end {
            self.start = 0;
            self.end = loop {
                match self.inner.read(&mut self.buffer) {
                    Ok(read) => break read,
                    Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                    Err(error) => return Err(error),
                }
            };
        }
        Ok(&self.buffer[self.start..self.end])
    }

    fn consume(&mut self, amount: usize) {
        let amount = amount.min(self.end - self.start);
        let consumed = &self.buffer[self.start..self.start + amount];
        self.line += consumed.iter().filter(|&&byte| byte == b'\n').count() as u64;
        self.start += amount;
        self.since_mark += amount;
    }
}
