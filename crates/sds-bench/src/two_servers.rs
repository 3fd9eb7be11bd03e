//! Two `sds serve` processes on one PostgreSQL database, one HTTP shard
//! (`--worker-threads 1`) each, against one server with one shard and one
//! with two: nearby and bbox throughput over HTTP, driven by `wrk` (one
//! process per server, 2 connections in all).
//!
//! The cities are loaded through server A; B starts afterwards on the same
//! database and answers with A's key (keys live in the database). Each
//! server builds its own in-memory table on its first query (versions are
//! immutable, so both serve the same version). On this 2-core machine the
//! servers and `wrk` share the cores: the CPU each used is printed beside
//! the throughput, which shows what limits it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;

use anyhow::{bail, Result};
use rand::rngs::StdRng;
use rand::SeedableRng;

use crate::query::{lua_script, parse_wrk, read_cities, request_paths};
use crate::{store, Server};

pub fn run(cities_path: &Path, seconds: u64) -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is missing: apt-get install -y wrk");
    }
    let cities = read_cities(cities_path)?;
    let database = Arc::new(store::Database::create()?);
    let one_shard = ["--worker-threads", "1"];
    let a = Server::start_on(Some(Arc::clone(&database)), &one_shard)?;
    let (body, rows) = crate::cities_as_sds_csv(cities_path)?;
    let job = a.load("Cities", body)?;
    let access_id = crate::access_id(&job)?;
    let mut b = Server::start_on(Some(Arc::clone(&database)), &one_shard)?;
    b.key.clone_from(&a.key);
    let mut both = Server::start_on(Some(Arc::clone(&database)), &["--worker-threads", "2"])?;
    both.key.clone_from(&a.key);
    println!("two-servers: {rows} cities loaded through A; wrk {seconds} s per run, 2 connections in all");
    println!("| query | A alone, 1 shard (req/s) | A + B, 1 shard each (req/s) | one server, 2 shards (req/s) | CPU s A / B / wrk in A + B |");
    println!("|---|---:|---:|---:|---|");
    let mut rng = StdRng::seed_from_u64(11);
    for kind in ["nearby", "bbox"] {
        let paths = request_paths(kind, 5_000, &mut rng, &cities, &[], &access_id, &a.key);
        let script = tempfile::NamedTempFile::new()?;
        std::fs::write(script.path(), lua_script(&paths))?;
        for server in [&a, &b, &both] {
            // Each server builds its table on its first query.
            server.client.get(format!("{}{}", base(server), paths[0])).send()?.error_for_status()?;
        }
        let alone = wrk(&[(&a, 2)], script.path(), seconds)?;
        let (cpu_a, cpu_b) = (a.cpu_seconds(), b.cpu_seconds());
        let started = std::time::Instant::now();
        let pair = wrk(&[(&a, 1), (&b, 1)], script.path(), seconds)?;
        let wall = started.elapsed().as_secs_f64();
        let (used_a, used_b) = (a.cpu_seconds() - cpu_a, b.cpu_seconds() - cpu_b);
        let two_shards = wrk(&[(&both, 2)], script.path(), seconds)?;
        println!(
            "| {kind} | {alone:.0} | {pair:.0} | {two_shards:.0} | {used_a:.1} / {used_b:.1} / {:.1} of {:.1} wall × 2 cores |",
            (2.0 * wall - used_a - used_b).max(0.0),
            wall
        );
    }
    Ok(())
}

fn base(server: &Server) -> String {
    server.root.split("/REST/v1").next().unwrap_or_default().to_owned()
}

/// Runs one `wrk` per (server, connections) at once; returns the summed
/// requests per second, failing on any non-2xx answer.
fn wrk(targets: &[(&Server, usize)], script: &Path, seconds: u64) -> Result<f64> {
    let children: Vec<_> = targets
        .iter()
        .map(|(server, connections)| {
            Command::new("wrk")
                .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s"), "--latency", "-s"])
                .arg(script)
                .arg(base(server))
                .stdout(Stdio::piped())
                .spawn()
        })
        .collect::<Result<_, _>>()?;
    let mut total = 0.0;
    for child in children {
        let output = child.wait_with_output()?;
        let (rps, _, errors) = parse_wrk(&String::from_utf8_lossy(&output.stdout))?;
        if errors > 0 {
            bail!("{errors} requests failed");
        }
        total += rps;
    }
    Ok(total)
}
