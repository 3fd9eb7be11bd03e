#![no_main]
use libfuzzer_sys::fuzz_target;

// The `$filter` parser: any text must parse or fail with an error, never
// panic or recurse without bound.
fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = sds_query::filter::parse(text);
});
