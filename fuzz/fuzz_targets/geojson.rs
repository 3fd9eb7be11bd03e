#![no_main]
use libfuzzer_sys::fuzz_target;
use sds_formats::geojson::GeoJsonReader;
use sds_formats::PathReaderOptions;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let options = PathReaderOptions::new("Fuzz", 1 << 24);
    common::drain(GeoJsonReader::from_bytes(data, &options).map(|reader| Box::new(reader) as _));
});
