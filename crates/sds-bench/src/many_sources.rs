//! `many-sources`: many data sources queried round-robin over HTTP, the way
//! a store-locator page with several layers queries one account (issue 16).
//!
//! Loads `sources` data sources of `entities` synthetic points each through
//! the API (a string, an integer and a date property, points spread over the
//! contiguous United States), queries each once to build its table, then
//! drives `wrk` (2 connections) with a Lua script that walks a list of
//! nearby (5 km, top 25) and bbox (0.5°, top 25) requests interleaved across
//! the sources, so consecutive requests hit different tables. Prints the
//! query cache budget the server logged, the throughput, p50 and p99, and
//! how many tables the budget evicted while measuring.

use std::fmt::Write as _;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use sds_core::{EdmType, Entity, Property, Schema, Timestamp, Value};
use sds_query::{Table, TableBuilder};

use crate::Server;

/// The area the synthetic points fall in: (south, west, north, east).
pub(crate) const AREA: (f64, f64, f64, f64) = (25.0, -124.0, 49.0, -67.0);
/// Requests per source in the wrk script.
const REQUESTS_PER_SOURCE: usize = 200;

pub struct Settings {
    pub sources: usize,
    pub entities: usize,
    pub seconds: u64,
    pub cache_mb: Option<u64>,
    pub wrk_threads: usize,
}

/// One synthetic row: ID, latitude, longitude, Name, Rank, Opened.
type Row = (String, f64, f64, String, i64, String);

/// One source's rows, in ID order, the same on every run.
fn synthetic_rows(source: usize, entities: usize) -> impl Iterator<Item = Row> {
    let mut rng = StdRng::seed_from_u64(source as u64);
    let (south, west, north, east) = AREA;
    (0..entities).map(move |index| {
        (
            format!("s{source}e{index:07}"),
            rng.gen_range(south..north),
            rng.gen_range(west..east),
            format!("Store {index} of layer {source}"),
            (index % 1000) as i64,
            format!("20{:02}-{:02}-{:02}T00:00:00Z", index % 25, index % 12 + 1, index % 28 + 1),
        )
    })
}

/// One source's rows as SDS CSV.
pub(crate) fn synthetic_csv(source: usize, entities: usize) -> Vec<u8> {
    let mut text = String::with_capacity(entities * 80);
    text.push_str("Bing Spatial Data Services, 1.0, Store\n");
    text.push_str(
        "StoreId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),\
         Name(Edm.String),Rank(Edm.Int64),Opened(Edm.DateTime)\n",
    );
    for (id, latitude, longitude, name, rank, opened) in synthetic_rows(source, entities) {
        let _ = writeln!(text, "{id},{latitude:.6},{longitude:.6},{name},{rank},{opened}");
    }
    text.into_bytes()
}

/// The heap bytes one source's table counts against the budget, built
/// in-process from the same rows.
fn table_heap_bytes(entities: usize) -> Result<usize> {
    Ok(synthetic_table(entities)?.heap_bytes())
}

/// Source 0's table built in-process from the rows the CSV holds
/// (coordinates rounded as in the CSV).
pub(crate) fn synthetic_table(entities: usize) -> Result<Table> {
    let schema = Schema::new(
        "Store",
        vec![
            Property::new("StoreId", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Name", EdmType::String),
            Property::new("Rank", EdmType::Int64),
            Property::new("Opened", EdmType::DateTime),
        ],
        "StoreId",
    )?;
    let mut builder = TableBuilder::new(schema, entities);
    for (id, latitude, longitude, name, rank, opened) in synthetic_rows(0, entities) {
        let (latitude, longitude) = ((latitude * 1e6).round() / 1e6, (longitude * 1e6).round() / 1e6);
        builder.push(Entity {
            id: id.clone(),
            latitude,
            longitude,
            bounds: None,
            values: vec![
                Value::String(id),
                Value::Double(latitude),
                Value::Double(longitude),
                Value::String(name),
                Value::Int64(rank),
                Value::DateTime(Timestamp::parse(&opened).context("a synthetic date")?),
            ],
        });
    }
    Ok(builder.finish())
}

/// A wrk Lua script walking `paths` in order, each thread from its own
/// offset; requests are formatted once, in `init` (see `query::lua_script`).
fn round_robin_script(paths: &[String]) -> String {
    let mut script = String::from("local paths = {\n");
    for path in paths {
        let _ = writeln!(script, "  {path:?},");
    }
    script.push_str(
        "}\nlocal requests = {}\nlocal counter = 0\nlocal threads = 0\n\
         setup = function(thread)\n  thread:set(\"offset\", threads * 97)\n  threads = threads + 1\nend\n\
         init = function(args)\n  for i, path in ipairs(paths) do requests[i] = wrk.format(\"GET\", path) end\n  \
         counter = (offset or 0) % #requests\nend\n\
         request = function()\n  counter = counter % #requests + 1\n  return requests[counter]\nend\n",
    );
    script
}

/// A latency percentile line of wrk's `--latency` output (`50%`, `99%`), in ms.
fn percentile_ms(output: &str, label: &str) -> f64 {
    output
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .map(|value| {
            let value = value.trim();
            let (number, factor) = if let Some(us) = value.strip_suffix("us") {
                (us, 0.001)
            } else if let Some(ms) = value.strip_suffix("ms") {
                (ms, 1.0)
            } else if let Some(s) = value.strip_suffix('s') {
                (s, 1000.0)
            } else {
                (value, 1.0)
            };
            number.parse::<f64>().unwrap_or(f64::NAN) * factor
        })
        .unwrap_or(f64::NAN)
}

fn wrk_value(output: &str, label: &str) -> Option<f64> {
    output.lines().find_map(|line| line.trim().strip_prefix(label)).and_then(|value| value.trim().parse().ok())
}

pub fn run(settings: &Settings) -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is missing: apt-get install -y wrk");
    }
    let Settings { sources, entities, seconds, cache_mb, wrk_threads } = *settings;
    let (max_entities, max_sources) = (entities.max(200_000).to_string(), sources.max(25).to_string());
    let mut flags = vec!["--max-entities", &max_entities, "--max-data-sources", &max_sources];
    let cache_mb_text = cache_mb.map(|megabytes| megabytes.to_string());
    if let Some(megabytes) = &cache_mb_text {
        flags.extend(["--query-cache-mb", megabytes]);
    }
    let server = Server::start_with(&flags)?;

    let started = Instant::now();
    let mut access_ids = Vec::with_capacity(sources);
    for source in 0..sources {
        let job = server.load(&format!("Layer{source}"), synthetic_csv(source, entities))?;
        access_ids.push(crate::access_id(&job)?);
    }
    let load_seconds = started.elapsed().as_secs_f64();
    println!(
        "many-sources: {sources} data sources × {entities} points loaded through the API in {load_seconds:.1} s \
         ({:.0} entities/s)",
        (sources * entities) as f64 / load_seconds
    );
    let log = server.log();
    let budget = log.lines().find(|line| line.contains("query cache budget")).map(strip_ansi);
    println!("server log: {}", budget.as_deref().unwrap_or("(no query cache budget line)").trim());

    let mut rng = StdRng::seed_from_u64(16);
    let table_bytes = table_heap_bytes(entities)?;
    println!(
        "one table counts {:.1} MB against the budget ({:.0} bytes per entity; {sources} tables: {:.0} MB)",
        table_bytes as f64 / 1e6,
        table_bytes as f64 / entities as f64,
        (table_bytes * sources) as f64 / 1e6
    );
    let (south, west, north, east) = AREA;
    let mut paths = Vec::with_capacity(sources * REQUESTS_PER_SOURCE);
    for request in 0..REQUESTS_PER_SOURCE {
        for (source, access_id) in access_ids.iter().enumerate() {
            let (latitude, longitude) = (rng.gen_range(south..north), rng.gen_range(west..east));
            let spatial = if (request + source) % 2 == 0 {
                format!("nearby({latitude:.4},{longitude:.4},5)")
            } else {
                format!("bbox({latitude:.4},{longitude:.4},{:.4},{:.4})", latitude + 0.5, longitude + 0.5)
            };
            paths.push(format!(
                "/REST/v1/data/{access_id}/Layer{source}/Store?spatialFilter={spatial}&$top=25&$format=json&key={}",
                server.key
            ));
        }
    }
    let base = server.root.split("/REST/v1").next().unwrap_or_default().to_owned();
    // Build every table (one first query per source) before measuring.
    let started = Instant::now();
    for path in &paths[..sources] {
        server.client.get(format!("{base}{path}")).send()?.error_for_status()?;
    }
    let first_queries = started.elapsed().as_secs_f64();
    println!("first query of every source (tables built): {:.2} s in all", first_queries);

    let script = tempfile::NamedTempFile::new()?;
    std::fs::write(script.path(), round_robin_script(&paths))?;
    let wrk = |duration: u64| -> Result<String> {
        let output = Command::new("wrk")
            .args([&format!("-t{wrk_threads}"), "-c2", &format!("-d{duration}s"), "--latency", "-s"])
            .arg(script.path())
            .arg(&base)
            .output()?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    };
    // A short warm run, so the measured one starts with a settled cache.
    wrk(2)?;
    let evicted_before = server.log().matches("evicted a cached table").count();
    let output = wrk(seconds)?;
    let evicted = server.log().matches("evicted a cached table").count() - evicted_before;
    let rps = wrk_value(&output, "Requests/sec:").unwrap_or(f64::NAN);
    let errors = wrk_value(&output, "Non-2xx or 3xx responses:").unwrap_or(0.0);
    println!("wrk -t{wrk_threads} -c2 -d{seconds}s, round-robin nearby/bbox over {sources} sources");
    println!("| sources × entities | requests/s | p50 ms | p99 ms | non-2xx | tables evicted | server peak RSS MB |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {sources} × {entities} | {rps:.0} | {:.2} | {:.2} | {errors:.0} | {evicted} | {:.0} |",
        percentile_ms(&output, "50%"),
        percentile_ms(&output, "99%"),
        server.peak_rss_mb()
    );
    Ok(())
}

/// A log line without its terminal colour codes.
pub(crate) fn strip_ansi(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(character) = chars.next() {
        if character == '\u{1b}' {
            for code in chars.by_ref() {
                if code.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(character);
        }
    }
    out
}
