#![no_main]
use libfuzzer_sys::fuzz_target;

// The `spatialFilter` parser (nearby, bbox, intersects with WKT, nearRoute).
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = sds_query::SpatialFilter::parse(text, 250);
});
