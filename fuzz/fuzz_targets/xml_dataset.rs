#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let input = Box::new(std::io::Cursor::new(data.to_vec()));
    common::drain(sds_formats::xml_dataset::DataSetReader::new(input).map(|reader| Box::new(reader) as _));
});
