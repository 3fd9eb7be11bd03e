//! Server settings, from flags or `SDS_*` environment variables.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use sds_core::limits::Limits;

#[derive(Args, Clone, Debug)]
pub struct ServeConfig {
    /// Where the store, spooled uploads and downloads live.
    #[arg(long, env = "SDS_DATA_DIR", default_value = "./sds-data")]
    pub data_dir: PathBuf,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "SDS_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Base URL that links in responses use, e.g. `https://sds.example.com`
    /// behind a TLS-terminating proxy. Default: the request's scheme and host.
    #[arg(long, env = "SDS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Jobs that run at once across all accounts.
    #[arg(long, env = "SDS_JOB_WORKERS", default_value_t = 2)]
    pub job_workers: usize,
    /// Largest uncompressed upload, in bytes.
    #[arg(long, env = "SDS_MAX_UPLOAD_BYTES", default_value_t = Limits::default().max_upload_bytes)]
    pub max_upload_bytes: u64,
    /// Most entities in one data source.
    #[arg(long, env = "SDS_MAX_ENTITIES", default_value_t = Limits::default().max_entities_per_data_source)]
    pub max_entities: u64,
    /// Copyright text of every response envelope.
    #[arg(long, env = "SDS_COPYRIGHT", default_value = "Copyright © 2026 sds. All rights reserved.")]
    pub copyright: String,
    /// Brand logo URL of every response envelope.
    #[arg(
        long,
        env = "SDS_BRAND_LOGO_URI",
        default_value = "http://dev.virtualearth.net/Branding/logo_powered_by.png"
    )]
    pub brand_logo_uri: String,
}

impl ServeConfig {
    /// Settings for tests and embedding: defaults with the given directory.
    pub fn with_data_dir(data_dir: PathBuf) -> ServeConfig {
        ServeConfig {
            data_dir,
            listen: "127.0.0.1:0".parse().expect("a valid socket address"),
            public_url: None,
            job_workers: 2,
            max_upload_bytes: Limits::default().max_upload_bytes,
            max_entities: Limits::default().max_entities_per_data_source,
            copyright: "Copyright © 2026 sds. All rights reserved.".into(),
            brand_logo_uri: "http://dev.virtualearth.net/Branding/logo_powered_by.png".into(),
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_upload_bytes: self.max_upload_bytes,
            max_entities_per_data_source: self.max_entities,
            ..Limits::default()
        }
    }

    pub fn store_path(&self) -> PathBuf {
        self.data_dir.join("sds.db")
    }

    pub fn spool_dir(&self) -> PathBuf {
        self.data_dir.join("spool")
    }

    pub fn downloads_dir(&self) -> PathBuf {
        self.data_dir.join("downloads")
    }
}
