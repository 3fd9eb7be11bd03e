//! The real stores the job engine's tests run on (`engine_tests`,
//! `load_table_tests`): SQLite and file payloads in a temp dir, with one
//! account and one key, and engine settings for a server of them.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sds_core::{AccountId, KeyId};
use sds_store::{FilePayloads, PayloadStore, SqliteStore, Store};
use tempfile::TempDir;

use super::EngineSettings;

pub(super) struct TestStores {
    pub(super) dir: TempDir,
    pub(super) store: Arc<dyn Store>,
    pub(super) payloads: Arc<dyn PayloadStore>,
    pub(super) account: AccountId,
    pub(super) key: KeyId,
}

impl TestStores {
    pub(super) fn open() -> TestStores {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("sds.db")).unwrap());
        let payloads: Arc<dyn PayloadStore> =
            Arc::new(FilePayloads::open(&dir.path().join("spool"), &dir.path().join("downloads")).unwrap());
        let account = store.ensure_account("Contoso").unwrap();
        let key = store.add_key(account, &[1; 32], "abc").unwrap();
        TestStores { dir, store, payloads, account, key }
    }
}

/// A server's settings, its scratch folders under `scratch`, claims held
/// for `lease`; the default limits, two workers.
pub(super) fn settings(scratch: &Path, lease: Duration) -> EngineSettings {
    EngineSettings {
        spool_dir: scratch.join("spool"),
        downloads_dir: scratch.join("downloads"),
        lease,
        sole_server: false,
        limits: sds_core::limits::Limits::default(),
        workers: 2,
        workers_per_account: 2,
        staged_retention: chrono::Duration::days(30),
        download_retention: None,
        fetch: super::fetch::FetchPolicy {
            allowed_hosts: Vec::new(),
            allow_private: false,
            max_bytes: 1 << 20,
            deadline: Duration::from_secs(5),
            min_bytes_per_second: 0,
        },
        file_limits: sds_formats::FileLimits::default(),
    }
}
