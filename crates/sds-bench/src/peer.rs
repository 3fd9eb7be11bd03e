//! The PostgreSQL peer of `load-download`, run in the same process run so
//! that both sides see the same load on a shared machine.
//!
//! A throw-away cluster, as ../shared/peer-postgis/setup.sh makes one: a
//! temporary data directory, `initdb` with trust auth, the peer's settings
//! (sql/postgresql.peer.conf, listening on 127.0.0.1 only, no Unix socket),
//! run as the `postgres` OS user when this benchmark runs as root (the
//! server refuses root). The cities table has the peer's columns (without
//! the PostGIS `geog` column, which `COPY … TO` does not export, so that
//! PostGIS need not be installed). The export is the peer's command, timed
//! the way run.sh times it: `psql` start to exit, output to a file.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

/// The peer's export, as in ../shared/peer-postgis/run.sh.
const EXPORT_SQL: &str =
    "COPY cities (id, lat, lon, name, admin1, admin2, cc) TO STDOUT WITH (FORMAT csv, HEADER true)";

const PEER_CONF: &str = "listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 50
shared_buffers = 2GB
effective_cache_size = 12GB
work_mem = 16MB
maintenance_work_mem = 1GB
max_wal_size = 4GB
random_page_cost = 1.1
jit = off
logging_collector = off
";

pub struct Peer {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    root_dir: tempfile::TempDir,
    as_postgres: bool,
    pub rows: u64,
}

impl Peer {
    /// Creates and starts the cluster and loads `cities` (cities1000.csv).
    pub fn start(bin: &Path, cities: &Path) -> Result<Peer> {
        let mut peer = Peer::start_empty(bin)?;
        peer.psql(&[
            "-c",
            "CREATE TABLE cities (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, \
             lat double precision NOT NULL, lon double precision NOT NULL, name text, \
             admin1 text, admin2 text, cc text NOT NULL)",
        ])?;
        let input = std::fs::File::open(cities).with_context(|| format!("reading {}", cities.display()))?;
        let status = peer
            .client()
            .args([
                "-c",
                "\\copy cities (lat, lon, name, admin1, admin2, cc) FROM pstdin WITH (FORMAT csv, HEADER true)",
            ])
            .stdin(input)
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("loading the cities into the peer failed");
        }
        peer.psql(&["-c", "VACUUM ANALYZE cities"])?;
        let count = peer.psql(&["-tAc", "SELECT count(*) FROM cities"])?;
        peer.rows = count.trim().parse().context("counting the peer's rows")?;
        Ok(peer)
    }

    /// Creates and starts an empty cluster (the `postgres` database only).
    pub fn start_empty(bin: &Path) -> Result<Peer> {
        if !bin.join("initdb").exists() {
            bail!("no {}/initdb: install postgresql, or pass --pg-bin (or --no-peer)", bin.display());
        }
        let as_postgres = is_root();
        let root_dir = tempfile::Builder::new().prefix("sds-bench-peer").tempdir()?;
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(root_dir.path()))?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let peer =
            Peer { bin: bin.to_owned(), data: root_dir.path().join("data"), port, root_dir, as_postgres, rows: 0 };
        run(peer.server_tool("initdb").arg("-D").arg(&peer.data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
        ]))?;
        let conf = format!("{PEER_CONF}port = {port}\n");
        let conf_path = peer.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&conf_path).context("reading the new cluster's postgresql.conf")?;
        text.push_str(&conf);
        std::fs::write(&conf_path, text)?;
        let log = peer.root_dir.path().join("server.log");
        run(peer.server_tool("pg_ctl").arg("-D").arg(&peer.data).arg("-l").arg(log).args(["-w", "start"]))?;
        Ok(peer)
    }

    /// One export, `psql` start to exit, into a file; returns seconds and bytes.
    pub fn copy_to(&self) -> Result<(f64, u64)> {
        let out = self.root_dir.path().join("export.csv");
        let file = std::fs::File::create(&out)?;
        let started = Instant::now();
        let status = self.client().args(["-c", EXPORT_SQL]).stdout(file).status()?;
        let seconds = started.elapsed().as_secs_f64();
        if !status.success() {
            bail!("the peer's COPY … TO failed");
        }
        let bytes = std::fs::metadata(&out)?.len();
        std::fs::remove_file(&out)?;
        Ok((seconds, bytes))
    }

    /// The cluster's admin URL (trust auth on loopback).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The PostgreSQL server version, for the report.
    pub fn version(&self) -> String {
        self.psql(&["-tAc", "SHOW server_version"]).map(|text| text.trim().to_owned()).unwrap_or_default()
    }

    fn client(&self) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres"])
            .arg("-p")
            .arg(self.port.to_string());
        command
    }

    fn psql(&self, args: &[&str]) -> Result<String> {
        let output = self.client().args(args).output()?;
        if !output.status.success() {
            bail!("psql {args:?}: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8(output.stdout)?)
    }

    /// A server-side tool, run as `postgres` when we are root.
    fn server_tool(&self, name: &str) -> Command {
        let tool = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(tool);
            command
        } else {
            Command::new(tool)
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self
            .server_tool("pg_ctl")
            .arg("-D")
            .arg(&self.data)
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .status();
    }
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|output| output.stdout.starts_with(b"0\n"))
}

fn run(command: &mut Command) -> Result<()> {
    let output = command.output()?;
    if !output.status.success() {
        bail!("{command:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    Ok(())
}
