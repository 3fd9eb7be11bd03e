#![no_main]
use std::io::Write;

use libfuzzer_sys::fuzz_target;
use sds_core::InputFormat;
use sds_formats::shapefile::ShapefileReader;
use sds_formats::PathReaderOptions;

#[path = "common.rs"]
mod common;

// Input starting with `PK`: a whole zip upload, through open_path_reader.
// Otherwise: a 2-byte little-endian length of the .shp part, the .shp
// bytes, then the .dbf bytes; a .prj when the length's top bit is set
// (then the last 200 bytes, at most, are the .prj text).
fuzz_target!(|data: &[u8]| {
    let options = PathReaderOptions::new("Fuzz", 1 << 24);
    if data.starts_with(b"PK") {
        let Ok(mut file) = tempfile::NamedTempFile::new() else { return };
        if file.write_all(data).is_err() {
            return;
        }
        common::drain(sds_formats::open_path_reader_with(InputFormat::Shp, file.path(), &options));
        return;
    }
    if data.len() < 2 {
        return;
    }
    let header = u16::from_le_bytes([data[0], data[1]]);
    let with_prj = header & 0x8000 != 0;
    let rest = &data[2..];
    let (rest, prj) = if with_prj {
        let cut = rest.len().saturating_sub(200);
        (&rest[..cut], Some(String::from_utf8_lossy(&rest[cut..]).into_owned()))
    } else {
        (rest, None)
    };
    let split = usize::from(header & 0x7FFF).min(rest.len());
    let (shp, dbf) = rest.split_at(split);
    let reader = ShapefileReader::from_readers(
        Box::new(std::io::Cursor::new(shp.to_vec())),
        Box::new(std::io::Cursor::new(dbf.to_vec())),
        prj.as_deref(),
        None,
        &options,
    );
    common::drain(reader.map(|reader| Box::new(reader) as _));
});
