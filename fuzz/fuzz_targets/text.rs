#![no_main]
use libfuzzer_sys::fuzz_target;
use sds_formats::text::{Delimiter, TextReader};

#[path = "common.rs"]
mod common;

// The first byte picks the delimiter; the rest is the document.
fuzz_target!(|data: &[u8]| {
    let Some((&selector, document)) = data.split_first() else { return };
    let delimiter = match selector % 3 {
        0 => Delimiter::Comma,
        1 => Delimiter::Tab,
        _ => Delimiter::Pipe,
    };
    let input = Box::new(std::io::Cursor::new(document.to_vec()));
    common::drain(TextReader::new(input, delimiter).map(|reader| Box::new(reader) as _));
});
