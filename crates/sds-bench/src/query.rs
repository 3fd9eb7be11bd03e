//! Query API benchmarks against the PostGIS peer's four queries
//! (../shared/peer-postgis/pgbench/*.sql), with the same parameter choice:
//! a random city's coordinates for nearby (5 km, top 25) and bbox (1×1°,
//! top 25), a random Natural Earth country for intersects (top 250), and a
//! random city's country code with a `San` prefix for the filter (top 25).
//!
//! - `query-engine`: the engine in-process (compile + execute), 2 threads.
//! - `query-http`: the release server loaded through the API, driven by
//!   `wrk` with 2 connections and a Lua script picking random requests,
//!   JSON responses.
//!
//! The countries' polygons exceed SDS's 250-point `intersects` limit, as
//! PostGIS has none; both benchmarks raise the limit.

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sds_core::{EdmType, Entity, Property, Schema, Value};
use sds_query::{Query, QueryLimits, QueryOptions, Table, TableBuilder};

/// PostGIS at 2 clients on this machine (RESULTS.md): TPS and p99 ms.
pub const PEER: [(&str, f64, f64); 4] = [
    ("nearby", 33_740.0, 0.125),
    ("bbox", 37_597.0, 0.090),
    ("intersects", 4_287.0, 1.359),
    ("filter", 10_078.0, 0.555),
];

pub struct City {
    pub latitude: f64,
    pub longitude: f64,
    pub name: String,
    pub country: String,
}

pub fn read_cities(path: &Path) -> Result<Vec<City>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let mut cities = Vec::new();
    for record in reader.records() {
        let record = record?;
        cities.push(City {
            latitude: record[0].parse()?,
            longitude: record[1].parse()?,
            name: record[2].to_owned(),
            country: record[5].to_owned(),
        });
    }
    Ok(cities)
}

/// Each country of the shapefile as WKT (a MULTIPOLYGON; inner rings
/// attach to the outer ring before them, as the format orders them).
pub fn read_countries(path: &Path) -> Result<Vec<String>> {
    let polygons = shapefile::read_shapes_as::<_, shapefile::Polygon>(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let mut countries = Vec::new();
    for polygon in polygons {
        let mut parts: Vec<Vec<String>> = Vec::new();
        for ring in polygon.rings() {
            let mut text = String::from("(");
            for (index, point) in ring.points().iter().enumerate() {
                if index > 0 {
                    text.push_str(", ");
                }
                // Natural Earth has longitudes like 180.00000000000006.
                let _ = write!(text, "{} {}", point.x.clamp(-180.0, 180.0), point.y.clamp(-90.0, 90.0));
            }
            text.push(')');
            match ring {
                shapefile::PolygonRing::Outer(_) => parts.push(vec![text]),
                shapefile::PolygonRing::Inner(_) => match parts.last_mut() {
                    Some(last) => last.push(text),
                    None => parts.push(vec![text]),
                },
            }
        }
        let polygons: Vec<String> = parts.iter().map(|rings| format!("({})", rings.join(", "))).collect();
        countries.push(format!("MULTIPOLYGON({})", polygons.join(", ")));
    }
    Ok(countries)
}

fn cities_table(cities: &[City]) -> Table {
    let schema = Schema::new(
        "City",
        vec![
            Property::new("CityId", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Name", EdmType::String),
            Property::new("CountryCode", EdmType::String),
        ],
        "CityId",
    )
    .expect("a valid schema");
    // IDs 1..n as the HTTP load numbers them, in the store's (text) order.
    let mut order: Vec<(String, usize)> = (0..cities.len()).map(|index| ((index + 1).to_string(), index)).collect();
    order.sort();
    let mut builder = TableBuilder::new(schema, cities.len());
    for (id, index) in order {
        let city = &cities[index];
        builder.push(Entity {
            id: id.clone(),
            latitude: city.latitude,
            longitude: city.longitude,
            bounds: None,
            values: vec![
                Value::String(id),
                Value::Double(city.latitude),
                Value::Double(city.longitude),
                Value::String(city.name.clone()),
                Value::String(city.country.clone()),
            ],
        });
    }
    builder.finish()
}

/// The four workloads as query strings: (spatialFilter, $filter, $top).
pub fn workload(
    kind: &str,
    rng: &mut StdRng,
    cities: &[City],
    countries: &[String],
) -> (Option<String>, Option<String>, &'static str) {
    let city = &cities[rng.gen_range(0..cities.len())];
    match kind {
        "nearby" => (Some(format!("nearby({},{},5)", city.latitude, city.longitude)), None, "25"),
        "bbox" => (
            Some(format!(
                "bbox({},{},{},{})",
                (city.latitude - 0.5).max(-90.0),
                city.longitude - 0.5,
                (city.latitude + 0.5).min(90.0),
                city.longitude + 0.5
            )),
            None,
            "25",
        ),
        "intersects" => (Some(format!("intersects('{}')", countries[rng.gen_range(0..countries.len())])), None, "250"),
        _ => (None, Some(format!("CountryCode eq '{}' and startswith(Name,'San') eq true", city.country)), "25"),
    }
}

/// The columns the peer's SQL returns for each workload, as `$select`, so
/// that both render the same data (id, name, lat, lon; nearby adds the
/// distance and the filter the country code).
fn peer_columns(kind: &str) -> &'static str {
    match kind {
        "nearby" => "CityId,Name,Latitude,Longitude,__Distance",
        "filter" => "CityId,Name,Latitude,Longitude,CountryCode",
        _ => "CityId,Name,Latitude,Longitude",
    }
}

/// Wraps a longitude into ±180 (a 1° box around a city near the antimeridian).
fn wrap_bbox(spatial: String) -> String {
    if let Some(inner) = spatial.strip_prefix("bbox(").and_then(|rest| rest.strip_suffix(')')) {
        let values: Vec<f64> = inner.split(',').filter_map(|part| part.parse().ok()).collect();
        if values.len() == 4 {
            let wrap = |lon: f64| {
                if lon > 180.0 {
                    lon - 360.0
                } else if lon < -180.0 {
                    lon + 360.0
                } else {
                    lon
                }
            };
            return format!("bbox({},{},{},{})", values[0], wrap(values[1]), values[2], wrap(values[3]));
        }
    }
    spatial
}

/// Whether `kind` is among the comma-separated `only` (all when `None`).
fn selected(only: Option<&str>, kind: &str) -> bool {
    only.is_none_or(|list| list.split(',').any(|name| name.trim() == kind))
}

pub fn engine(
    cities_path: &Path,
    countries_path: &Path,
    seconds: u64,
    threads: usize,
    only: Option<&str>,
) -> Result<()> {
    let cities = read_cities(cities_path)?;
    let countries = read_countries(countries_path)?;
    let started = Instant::now();
    let table = Arc::new(cities_table(&cities));
    println!(
        "engine: {} cities, {} countries; table built in {:.0} ms; {threads} threads, {seconds} s per query",
        table.len(),
        countries.len(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    let (cities, countries) = (Arc::new(cities), Arc::new(countries));
    let limits = QueryLimits { max_shape_points: 1_000_000, ..QueryLimits::default() };
    println!("| query | sds TPS | PostGIS TPS (2 clients) | ratio | mean rows |");
    println!("|---|---:|---:|---:|---:|");
    for (kind, peer_tps, _) in PEER.into_iter().filter(|(kind, ..)| selected(only, kind)) {
        let deadline = Instant::now() + Duration::from_secs(seconds);
        let workers: Vec<_> = (0..threads)
            .map(|thread| {
                let (table, cities, countries) = (Arc::clone(&table), Arc::clone(&cities), Arc::clone(&countries));
                std::thread::spawn(move || -> Result<(u64, u64)> {
                    let mut rng = StdRng::seed_from_u64(thread as u64 + 1);
                    // Query strings are made up front, so the figure is the
                    // engine's (parse, compile, execute), not the formatting of floats.
                    let requests: Vec<_> = (0..4096)
                        .map(|_| {
                            let (spatial, filter, top) = workload(kind, &mut rng, &cities, &countries);
                            (spatial.map(wrap_bbox), filter, top)
                        })
                        .collect();
                    let mut next = requests.iter().cycle();
                    let (mut done, mut rows) = (0u64, 0u64);
                    while Instant::now() < deadline {
                        for _ in 0..16 {
                            let (spatial, filter, top) = next.next().expect("a cycle never ends");
                            let options = QueryOptions {
                                spatial_filter: spatial.as_deref(),
                                filter: filter.as_deref(),
                                top: Some(*top),
                                ..QueryOptions::default()
                            };
                            let query = Query::compile(table.schema(), &options, &limits)
                                .map_err(|error| anyhow::anyhow!("{error}: {options:?}"))?;
                            rows += query.execute(&table)?.hits.len() as u64;
                            done += 1;
                        }
                    }
                    Ok((done, rows))
                })
            })
            .collect();
        let (mut done, mut rows) = (0, 0);
        for worker in workers {
            let (worker_done, worker_rows) = worker.join().expect("a benchmark thread")?;
            done += worker_done;
            rows += worker_rows;
        }
        let tps = done as f64 / seconds as f64;
        println!(
            "| {kind} | {tps:.0} | {peer_tps:.0} | {:.1}× | {:.2} |",
            tps / peer_tps,
            rows as f64 / done.max(1) as f64
        );
    }
    Ok(())
}

/// A wrk Lua script that picks one of `paths` at random per request. The
/// requests are formatted once, in `init`: the load generator shares the
/// two cores with the server, and `wrk.format` per request costs it (and
/// so the server) CPU that pgbench does not spend.
pub fn lua_script(paths: &[String]) -> String {
    let mut script = String::from("local paths = {\n");
    for path in paths {
        let _ = writeln!(script, "  {:?},", path);
    }
    script.push_str(
        "}\nlocal requests = {}\n\
         init = function(args)\n  for i, path in ipairs(paths) do requests[i] = wrk.format(\"GET\", path) end\nend\n\
         math.randomseed(os.time())\n\
         request = function()\n  return requests[math.random(#requests)]\nend\n",
    );
    script
}

fn encode(text: &str) -> String {
    form_urlencoded_component(text)
}

fn form_urlencoded_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~(),'".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// `count` random Query API requests (path and query) of one workload on
/// the data source `access_id`, with the peer's columns, JSON responses.
pub fn request_paths(
    kind: &str,
    count: usize,
    rng: &mut StdRng,
    cities: &[City],
    countries: &[String],
    access_id: &str,
    key: &str,
) -> Vec<String> {
    (0..count)
        .map(|_| {
            let (spatial, filter, top) = workload(kind, rng, cities, countries);
            let mut path = format!(
                "/REST/v1/data/{access_id}/Cities/City?$format=json&$top={top}&$select={}&key={key}",
                peer_columns(kind)
            );
            if let Some(spatial) = spatial.map(wrap_bbox) {
                let _ = write!(path, "&spatialFilter={}", encode(&spatial));
            }
            if let Some(filter) = filter {
                let _ = write!(path, "&$filter={}", encode(&filter));
            }
            path
        })
        .collect()
}

/// Requests/sec and p99 latency (ms) from wrk's `--latency` output.
pub fn parse_wrk(output: &str) -> Result<(f64, f64, u64)> {
    let rps = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("Requests/sec:"))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .context("no Requests/sec in wrk output")?;
    let p99 = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("99%"))
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
        .unwrap_or(f64::NAN);
    let errors = output
        .lines()
        .find_map(|line| line.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|value| value.trim().parse::<u64>().ok())
        .unwrap_or(0);
    Ok((rps, p99, errors))
}

pub fn http(
    server: &crate::Server,
    cities_path: &Path,
    countries_path: &Path,
    seconds: u64,
    only: Option<&str>,
    wrk_threads: usize,
) -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is missing: apt-get install -y wrk");
    }
    let cities = read_cities(cities_path)?;
    let countries = read_countries(countries_path)?;
    let (body, rows) = crate::cities_as_sds_csv(cities_path)?;
    let job = server.load("Cities", body)?;
    let access_id = crate::access_id(&job)?;
    println!(
        "http: loaded {rows} cities through the API; wrk -t{wrk_threads} -c2 -d{seconds}s, JSON responses with the peer's columns"
    );
    let base = server.root.split("/REST/v1").next().unwrap_or_default().to_owned();
    let mut rng = StdRng::seed_from_u64(7);
    println!("| query | sds TPS | p99 ms | PostGIS TPS (2 clients) | ratio | PostGIS p99 ms | non-2xx | server CPU µs/request |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for (kind, peer_tps, peer_p99) in PEER.into_iter().filter(|(kind, ..)| selected(only, kind)) {
        let count = if kind == "intersects" { countries.len() * 2 } else { 5_000 };
        let paths = request_paths(kind, count, &mut rng, &cities, &countries, &access_id, &server.key);
        // Warm the table (built on the first query) before measuring.
        server.client.get(format!("{base}{}", paths[0])).send()?.error_for_status()?;
        let script = tempfile::NamedTempFile::new()?;
        std::fs::write(script.path(), lua_script(&paths))?;
        // The server's CPU per request does not depend on how busy the
        // machine is (the rate does): it compares two builds or two stores
        // measured at different moments on a shared machine.
        let (cpu_before, started) = (server.cpu_seconds(), Instant::now());
        let output = Command::new("wrk")
            .args([&format!("-t{wrk_threads}"), "-c2", &format!("-d{seconds}s"), "--latency", "-s"])
            .arg(script.path())
            .arg(&base)
            .output()?;
        let text = String::from_utf8_lossy(&output.stdout);
        let (rps, p99, errors) = parse_wrk(&text)?;
        let requests = rps * started.elapsed().as_secs_f64().min(seconds as f64);
        let cpu_per_request = (server.cpu_seconds() - cpu_before) / requests.max(1.0) * 1e6;
        println!(
            "| {kind} | {rps:.0} | {p99:.2} | {peer_tps:.0} | {:.2}× | {peer_p99:.3} | {errors} | {cpu_per_request:.1} |",
            rps / peer_tps
        );
    }
    Ok(())
}
