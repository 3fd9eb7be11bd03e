//! The console's files, embedded at compile time from
//! `crates/sds-server/console/` (plain HTML, CSS and JavaScript modules: no
//! build step, so `cargo build` alone makes a complete binary).

use std::sync::OnceLock;

use sha2::{Digest, Sha256};

/// One embedded file: its path under `/console/`, its `Content-Type`, its bytes.
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub bytes: &'static [u8],
    etag: OnceLock<String>,
}

impl Asset {
    /// A weak ETag from the SHA-256 of the bytes (computed once).
    pub fn etag(&self) -> &str {
        self.etag.get_or_init(|| format!("W/\"{}\"", &hex::encode(Sha256::digest(self.bytes))[..32]))
    }
}

macro_rules! asset {
    ($path:literal, $content_type:expr) => {
        Asset {
            path: $path,
            content_type: $content_type,
            bytes: include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/console/", $path)),
            etag: OnceLock::new(),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file the console serves.
pub static ASSETS: [Asset; 16] = [
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("countries-110m.geojson", "application/geo+json"),
    asset!("js/boot.js", JS),
    asset!("js/app.js", JS),
    asset!("js/api.js", JS),
    asset!("js/dom.js", JS),
    asset!("js/envelope.js", JS),
    asset!("js/formats.js", JS),
    asset!("js/sources.js", JS),
    asset!("js/source.js", JS),
    asset!("js/jobs.js", JS),
    asset!("js/upload.js", JS),
    asset!("js/map.js", JS),
    asset!("js/mapview.js", JS),
    asset!("js/wkt.js", JS),
];

/// The file at `path` (relative to `/console/`), if embedded.
pub fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|asset| asset.path == path)
}
