//! Benchmarks of `sds` through its HTTP API, printed beside the PostGIS peer
//! (../shared/peer-postgis/RESULTS.md, measured on this machine).
//!
//! Run with `cargo run --release -p sds-bench -- load-download` (the release
//! `sds` binary must be built: `cargo build --release`).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use serde_json::Value;

mod filter_scale;
mod load_download;
mod many_sources;
mod ogc;
mod peer;
mod query;
mod scale_curve;
mod store;
mod two_servers;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// Load cities1000.csv through the API, then download it in each
    /// format twice (the second download of a version is the kept output),
    /// beside PostgreSQL's `COPY … TO` on the same rows in the same run.
    LoadDownload {
        #[arg(long, default_value = "../shared/data/cities1000.csv")]
        cities: PathBuf,
        /// Repetitions (the median is reported).
        #[arg(long, default_value_t = 3)]
        runs: usize,
        /// PostgreSQL's binaries (initdb, pg_ctl, psql) for the peer.
        #[arg(long, default_value = "/usr/lib/postgresql/15/bin")]
        pg_bin: PathBuf,
        /// Skip the PostgreSQL peer (no ratios printed).
        #[arg(long)]
        no_peer: bool,
    },
    /// Load an input of about 300 MB (195,000 entities with long strings)
    /// and report the server's peak RSS.
    BigLoad {
        #[arg(long, default_value_t = 300)]
        megabytes: usize,
    },
    /// The query engine in-process: nearby, bbox, intersects, filter.
    QueryEngine {
        #[arg(long, default_value = "../shared/data/cities1000.csv")]
        cities: PathBuf,
        #[arg(long, default_value = "../shared/data/naturalearth_lowres/naturalearth_lowres.shp")]
        countries: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Run only these queries (comma-separated: nearby,bbox,intersects,filter).
        #[arg(long)]
        only: Option<String>,
    },
    /// Single-property `$filter`s with `$inlinecount` on a synthetic table
    /// in-process: indexed query vs a plain scan.
    FilterScale {
        #[arg(long, default_value_t = 1_000_000)]
        entities: usize,
        /// Warm repetitions per filter (the median is reported).
        #[arg(long, default_value_t = 51)]
        runs: usize,
    },
    /// The Query API over HTTP with wrk (2 connections), JSON responses.
    QueryHttp {
        #[arg(long, default_value = "../shared/data/cities1000.csv")]
        cities: PathBuf,
        #[arg(long, default_value = "../shared/data/naturalearth_lowres/naturalearth_lowres.shp")]
        countries: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Run only these queries (comma-separated: nearby,bbox,intersects,filter).
        #[arg(long)]
        only: Option<String>,
        /// wrk threads driving the 2 connections (pgbench used 2; 1 leaves
        /// the server more of the 2 cores).
        #[arg(long, default_value_t = 2)]
        wrk_threads: usize,
        /// The server's `--worker-threads` (0: one per core).
        #[arg(long, default_value_t = 0)]
        server_workers: usize,
    },
    /// OGC API – Features vs the SDS Query API: a 25-entity bbox page
    /// (wrk, 2 connections) and the cities streamed through `next` links.
    Ogc {
        #[arg(long, default_value = "../shared/data/cities1000.csv")]
        cities: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        #[arg(long, default_value_t = 2)]
        wrk_threads: usize,
    },
    /// Many data sources of synthetic points queried round-robin over HTTP
    /// (wrk, 2 connections): throughput, p50/p99 and the cache budget.
    ManySources {
        #[arg(long, default_value_t = 25)]
        sources: usize,
        #[arg(long, default_value_t = 200_000)]
        entities: usize,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// The server's `--query-cache-mb` (default: the server's own).
        #[arg(long)]
        cache_mb: Option<u64>,
        #[arg(long, default_value_t = 2)]
        wrk_threads: usize,
    },
    /// Synthetic point sources of growing size: load rate, first query
    /// (from the store, then after a restart), warm nearby/bbox/filter
    /// latency, download rate and memory per entity, one table.
    ScaleCurve {
        /// Entity counts (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000,5000000")]
        sizes: Vec<usize>,
        /// Warm requests of each kind per size (the median is reported).
        #[arg(long, default_value_t = 101)]
        runs: usize,
    },
    /// Two servers on one PostgreSQL database, one HTTP shard each, against
    /// one server: nearby and bbox throughput over HTTP (wrk).
    TwoServers {
        #[arg(long, default_value = "../shared/data/cities1000.csv")]
        cities: PathBuf,
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

fn main() -> Result<()> {
    let result = run(Cli::parse().command);
    store::stop();
    result
}

fn run(command: Bench) -> Result<()> {
    if store::postgres() {
        println!("store: PostgreSQL (SDS_BENCH_STORE=postgres), a fresh database per server");
    }
    match command {
        Bench::LoadDownload { cities, runs, pg_bin, no_peer } => {
            load_download::run(&cities, runs, (!no_peer).then_some(pg_bin.as_path()))
        }
        Bench::BigLoad { megabytes } => big_load(megabytes),
        Bench::QueryEngine { cities, countries, seconds, threads, only } => {
            query::engine(&cities, &countries, seconds, threads, only.as_deref())
        }
        Bench::FilterScale { entities, runs } => filter_scale::run(entities, runs),
        Bench::QueryHttp { cities, countries, seconds, only, wrk_threads, server_workers } => {
            // Countries exceed SDS's 250-point intersects limit; PostGIS has none.
            let workers = server_workers.to_string();
            let server = Server::start_with(&["--query-max-shape-points", "1000000", "--worker-threads", &workers])?;
            println!("server --worker-threads {server_workers} (0: one per core)");
            query::http(&server, &cities, &countries, seconds, only.as_deref(), wrk_threads)
        }
        Bench::Ogc { cities, seconds, wrk_threads } => ogc::run(&cities, seconds, wrk_threads),
        Bench::ManySources { sources, entities, seconds, cache_mb, wrk_threads } => {
            many_sources::run(&many_sources::Settings { sources, entities, seconds, cache_mb, wrk_threads })
        }
        Bench::ScaleCurve { sizes, runs } => scale_curve::run(&sizes, runs),
        Bench::TwoServers { cities, seconds } => two_servers::run(&cities, seconds),
    }
}

/// The release `sds` binary next to this benchmark's own binary.
fn server_binary() -> Result<PathBuf> {
    let path = std::env::current_exe()?.with_file_name("sds");
    if !path.exists() {
        bail!("{} is missing: run `cargo build --release` first", path.display());
    }
    Ok(path)
}

struct Server {
    child: Child,
    root: String,
    key: String,
    client: reqwest::blocking::Client,
    _data: tempfile::TempDir,
    /// The server's own database when the benchmark runs on PostgreSQL
    /// (dropped after the server: fields drop in order, after `Drop`).
    database: Option<std::sync::Arc<store::Database>>,
}

impl Server {
    fn start() -> Result<Server> {
        Server::start_with(&[])
    }

    fn start_with(flags: &[&str]) -> Result<Server> {
        let database = if store::postgres() { Some(std::sync::Arc::new(store::Database::create()?)) } else { None };
        Server::start_on(database, flags)
    }

    /// A server on `database` (PostgreSQL; shared with other servers when
    /// the same one is given), else on its data dir's SQLite store.
    fn start_on(database: Option<std::sync::Arc<store::Database>>, flags: &[&str]) -> Result<Server> {
        let data = tempfile::tempdir()?;
        let log = std::fs::File::create(data.path().join("server.log"))?;
        let (child, base, key) = spawn(data.path(), database.as_deref(), flags, log)?;
        let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(600)).build()?;
        Ok(Server { child, root: format!("{base}/REST/v1"), key, client, _data: data, database })
    }

    /// Stops the server (SIGKILL) and starts it again on the same store.
    fn restart(&mut self, flags: &[&str]) -> Result<()> {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = std::fs::OpenOptions::new().append(true).open(self._data.path().join("server.log"))?;
        let (child, base, _) = spawn(self._data.path(), self.database.as_deref(), flags, log)?;
        self.child = child;
        self.root = format!("{base}/REST/v1");
        Ok(())
    }

    /// The server's log so far (its stderr).
    fn log(&self) -> String {
        std::fs::read_to_string(self._data.path().join("server.log")).unwrap_or_default()
    }

    /// CPU time the server has used so far (user + system, all threads),
    /// in seconds, from /proc/PID/stat (clock ticks of 10 ms).
    fn cpu_seconds(&self) -> f64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The fields after the command name, which is in parentheses.
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or_default().split_whitespace().collect();
        let ticks = |index: usize| fields.get(index).and_then(|field| field.parse::<f64>().ok()).unwrap_or(0.0);
        (ticks(11) + ticks(12)) / 100.0
    }

    /// Peak resident set size so far (VmHWM), in MB.
    fn peak_rss_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kilobytes| kilobytes / 1024.0)
    }

    fn wait(&self, status_url: &str) -> Result<Value> {
        loop {
            let body: Value =
                self.client.get(format!("{status_url}?output=json&key={}", self.key)).send()?.json_text()?;
            let job = body["resourceSets"][0]["resources"][0].clone();
            if job["status"] != "Pending" {
                return Ok(job);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    fn load(&self, name: &str, body: Vec<u8>) -> Result<Value> {
        let response = self
            .client
            .post(format!(
                "{}/Dataflows/LoadDataSource?dataSourceName={name}&loadOperation=complete&input=csv&output=json&key={}",
                self.root, self.key
            ))
            .body(body)
            .send()?;
        if response.status() != 201 {
            bail!("load refused: {}", response.text()?);
        }
        let location = header(&response, "location")?;
        let job = self.wait(&location)?;
        if job["status"] != "Completed" {
            bail!("load did not complete: {job}");
        }
        Ok(job)
    }

    /// Creates a download job (`format`: xml, csv or geojson) and reads
    /// the data to the last byte.
    fn download(&self, access_id: &str, name: &str, format: &str) -> Result<Download> {
        let started = Instant::now();
        let response = self
            .client
            .get(format!(
                "{}/Dataflows/DataSourceDownload/{access_id}/{name}?format={format}&output=json&key={}",
                self.root, self.key
            ))
            .send()?;
        let job = self.wait(&header(&response, "location")?)?;
        let completed = started.elapsed();
        let url = job["links"]
            .as_array()
            .and_then(|links| links.iter().find(|link| link["name"] == "succeeded"))
            .and_then(|link| link["url"].as_str())
            .context("no succeeded link")?
            .to_owned();
        let mut data = self.client.get(format!("{url}?key={}", self.key)).send()?;
        let bytes = std::io::copy(&mut data, &mut std::io::sink())?;
        Ok(Download { bytes, completed, finished: started.elapsed() })
    }
}

/// One download, timed from the job's creation.
struct Download {
    bytes: u64,
    /// Until the client saw the job `Completed` (polling every 5 ms).
    completed: Duration,
    /// Until the last byte was read.
    finished: Duration,
}

/// Starts `sds serve` on an ephemeral port; returns the child, its base URL
/// and the master key it printed (empty when the store already had keys).
fn spawn(
    data: &Path,
    database: Option<&store::Database>,
    flags: &[&str],
    log: std::fs::File,
) -> Result<(Child, String, String)> {
    let mut command = Command::new(server_binary()?);
    command.args(["serve", "--listen", "127.0.0.1:0", "--data-dir"]).arg(data);
    if let Some(database) = database {
        command.args(["--database-url", &database.url]);
    }
    let mut child = command.args(flags).stdout(Stdio::piped()).stderr(Stdio::from(log)).spawn()?;
    let mut lines = BufReader::new(child.stdout.take().context("server stdout")?).lines();
    let (mut key, mut base) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line?;
        if line.contains("master key") {
            key = line.rsplit(' ').next().unwrap_or_default().to_owned();
        } else if let Some(address) = line.strip_prefix("sds listening on ") {
            base = address.trim().to_owned();
            break;
        }
    }
    std::thread::spawn(move || for _ in lines {});
    if base.is_empty() {
        let _ = child.kill();
        bail!("the server did not start (see its log in {})", data.display());
    }
    Ok((child, base, key))
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

trait JsonText {
    fn json_text(self) -> Result<Value>;
}

impl JsonText for reqwest::blocking::Response {
    fn json_text(self) -> Result<Value> {
        Ok(serde_json::from_str(&self.text()?)?)
    }
}

fn header(response: &reqwest::blocking::Response, name: &str) -> Result<String> {
    Ok(response.headers().get(name).context("missing header")?.to_str()?.to_owned())
}

fn access_id(job: &Value) -> Result<String> {
    let url = job["links"]
        .as_array()
        .and_then(|links| links.iter().find(|link| link["role"] == "dataSource"))
        .and_then(|link| link["url"].as_str())
        .context("no dataSource link")?;
    Ok(url.split("/data/").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or_default().to_owned())
}

/// cities1000.csv in the SDS text schema: an ID per row, typed headers.
fn cities_as_sds_csv(path: &Path) -> Result<(Vec<u8>, usize)> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let mut out = csv::WriterBuilder::new().flexible(true).from_writer(Vec::new());
    out.write_record(["Bing Spatial Data Services", " 1.0", " City"])?;
    out.write_record([
        "CityId(Edm.String,primaryKey)",
        "Latitude(Edm.Double)",
        "Longitude(Edm.Double)",
        "Name(Edm.String)",
        "Admin1(Edm.String)",
        "Admin2(Edm.String)",
        "CountryCode(Edm.String)",
    ])?;
    let mut rows = 0;
    for record in reader.records() {
        let record = record?;
        rows += 1;
        let id = rows.to_string();
        let mut fields = vec![id.as_str()];
        fields.extend(record.iter());
        out.write_record(&fields)?;
    }
    Ok((out.into_inner()?, rows))
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn big_load(megabytes: usize) -> Result<()> {
    const ENTITIES: usize = 195_000;
    let filler_chars = (megabytes * 1_000_000 / ENTITIES).saturating_sub(60).min(2_500);
    let filler: String = "abcdefghij".chars().cycle().take(filler_chars).collect();
    let path = tempfile::NamedTempFile::new()?;
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path.path())?);
        writeln!(out, "Bing Spatial Data Services, 1.0, Big")?;
        writeln!(out, "Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Note(Edm.String)")?;
        for index in 0..ENTITIES {
            writeln!(out, "e{index},{},{},{filler}", (index % 170) as f64 - 85.0, (index % 350) as f64 - 175.0)?;
        }
    }
    let size = std::fs::metadata(path.path())?.len();
    println!("input: {ENTITIES} entities, {:.1} MB", size as f64 / 1e6);
    let server = Server::start()?;
    let started = Instant::now();
    let body = std::fs::read(path.path())?;
    let job = server.load("Big", body)?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "load: {:.1} s, {:.0} entities/s, {:.1} MB/s; job {}; server peak RSS {:.0} MB (target < 300 MB)",
        seconds,
        ENTITIES as f64 / seconds,
        size as f64 / 1e6 / seconds,
        job["status"],
        server.peak_rss_mb()
    );
    Ok(())
}
