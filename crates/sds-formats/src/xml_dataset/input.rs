//! The byte source under the XML parser. It counts lines as the parser
//! consumes bytes (quick-xml reports byte offsets only, and error messages
//! must name lines) and caps how much one parser event may consume, since
//! quick-xml buffers a whole text run or tag before handing it over.

use std::io::{self, BufRead, Read};

use crate::MAX_RECORD_BYTES;

pub(super) struct Tracked {
    inner: Box<dyn BufRead + Send>,
    /// The line of the next unconsumed byte.
    line: u64,
    /// Bytes consumed since [`Tracked::mark`].
    since_mark: usize,
    over_limit: bool,
}

impl Tracked {
    pub(super) fn new(inner: Box<dyn BufRead + Send>) -> Tracked {
        Tracked { inner, line: 1, since_mark: 0, over_limit: false }
    }

    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Starts a new event's byte budget.
    pub(super) fn mark(&mut self) {
        self.since_mark = 0;
    }

    /// Whether the last I/O error came from the byte budget, not the input.
    pub(super) fn over_limit(&self) -> bool {
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
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        // A second fill_buf without consume returns the same buffered bytes
        // and does no I/O, so the consumed bytes can be inspected here.
        if let Ok(buffered) = self.inner.fill_buf() {
            let consumed = &buffered[..amount.min(buffered.len())];
            self.line += consumed.iter().filter(|&&byte| byte == b'\n').count() as u64;
        }
        self.since_mark += amount;
        self.inner.consume(amount);
    }
}
