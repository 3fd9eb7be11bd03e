//! Which store the benchmarked servers use. By default each server gets
//! the SQLite store of its own temporary data dir. With
//! `SDS_BENCH_STORE=postgres`, each server gets a fresh database of its own
//! in a PostgreSQL cluster: the one at `SDS_BENCH_DATABASE_URL` (an admin
//! URL) if set, else a throw-away cluster this process starts once (as
//! [`Peer`] does; PostGIS must be installed) and stops in [`stop`].

use std::path::Path;
use std::process::Command;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};

use crate::peer::Peer;

/// The cluster this process started, if any (stopped by [`stop`]).
static CLUSTER: Mutex<Option<Peer>> = Mutex::new(None);

/// Debian's PostgreSQL binaries, for the throw-away cluster.
const PG_BIN: &str = "/usr/lib/postgresql/15/bin";

/// Whether the benchmarked servers run on PostgreSQL.
pub fn postgres() -> bool {
    std::env::var("SDS_BENCH_STORE").is_ok_and(|store| store == "postgres")
}

/// A database made for one benchmark server, dropped with it.
pub struct Database {
    admin_url: String,
    name: String,
    /// The URL the server is given (`--database-url`).
    pub url: String,
}

impl Database {
    /// A fresh database named after this process and a counter.
    pub fn create() -> Result<Database> {
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let admin_url = admin_url()?;
        let name =
            format!("sds_bench_{}_{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
        psql(&admin_url, &format!("CREATE DATABASE {name}"))?;
        let url = match admin_url.rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => bail!("the admin URL {admin_url} names no database"),
        };
        Ok(Database { admin_url, name, url })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = psql(&self.admin_url, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name));
    }
}

fn admin_url() -> Result<String> {
    if let Ok(url) = std::env::var("SDS_BENCH_DATABASE_URL") {
        return Ok(url);
    }
    let mut cluster = CLUSTER.lock().expect("the cluster lock");
    if cluster.is_none() {
        let peer = Peer::start_empty(Path::new(PG_BIN)).context("starting a PostgreSQL cluster for the servers")?;
        println!("store: PostgreSQL {} (a throw-away cluster)", peer.version());
        *cluster = Some(peer);
    }
    Ok(cluster.as_ref().expect("just started").admin_url())
}

/// Stops the cluster this process started, if any.
pub fn stop() {
    CLUSTER.lock().expect("the cluster lock").take();
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let output = Command::new("psql").args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]).output()?;
    if !output.status.success() {
        bail!("psql {sql}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}
