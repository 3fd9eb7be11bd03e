//! OGC API – Features next to the SDS Query API on the same server and
//! data (issue #14's targets): (1) a 25-entity bbox page, both as JSON
//! with every property, driven by wrk (2 connections); (2) the whole
//! cities collection streamed through `next` links at the largest page.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::query::{lua_script, parse_wrk, read_cities};

pub fn run(cities_path: &Path, seconds: u64, wrk_threads: usize) -> Result<()> {
    if Command::new("wrk").arg("--version").output().is_err() {
        bail!("wrk is missing: apt-get install -y wrk");
    }
    let server = crate::Server::start()?;
    let cities = read_cities(cities_path)?;
    let (body, rows) = crate::cities_as_sds_csv(cities_path)?;
    let job = server.load("Cities", body)?;
    let access_id = crate::access_id(&job)?;
    let base = server.root.split("/REST/v1").next().unwrap_or_default().to_owned();
    let key = &server.key;
    println!("ogc: {rows} cities loaded through the API; wrk -t{wrk_threads} -c2 -d{seconds}s");

    // (1) The same 1° boxes, 25 entities, every property, JSON.
    let mut rng = StdRng::seed_from_u64(7);
    let boxes: Vec<(f64, f64, f64, f64)> = (0..5_000)
        .map(|_| {
            let city = &cities[rng.gen_range(0..cities.len())];
            let wrap = |lon: f64| {
                if lon > 180.0 {
                    lon - 360.0
                } else if lon < -180.0 {
                    lon + 360.0
                } else {
                    lon
                }
            };
            (
                wrap(city.longitude - 0.5),
                (city.latitude - 0.5).max(-90.0),
                wrap(city.longitude + 0.5),
                (city.latitude + 0.5).min(90.0),
            )
        })
        .collect();
    let sds: Vec<String> = boxes
        .iter()
        .map(|(west, south, east, north)| {
            format!(
                "/REST/v1/data/{access_id}/Cities/City?$format=json&$top=25&spatialFilter=bbox({south},{west},{north},{east})&key={key}"
            )
        })
        .collect();
    let ogc: Vec<String> = boxes
        .iter()
        .map(|(west, south, east, north)| {
            format!("/ogc/collections/{access_id}.Cities/items?f=json&limit=25&bbox={west},{south},{east},{north}&key={key}")
        })
        .collect();
    println!("| 25-entity bbox page | TPS | p99 ms | non-2xx |");
    println!("|---|---:|---:|---:|");
    let mut rates = Vec::new();
    for (label, paths) in [("SDS Query API, JSON", &sds), ("OGC API – Features, GeoJSON", &ogc)] {
        server.client.get(format!("{base}{}", paths[0])).send()?.error_for_status()?;
        let script = tempfile::NamedTempFile::new()?;
        std::fs::write(script.path(), lua_script(paths))?;
        let output = Command::new("wrk")
            .args([&format!("-t{wrk_threads}"), "-c2", &format!("-d{seconds}s"), "--latency", "-s"])
            .arg(script.path())
            .arg(&base)
            .output()?;
        let (rps, p99, errors) = parse_wrk(&String::from_utf8_lossy(&output.stdout))?;
        println!("| {label} | {rps:.0} | {p99:.2} | {errors} |");
        rates.push(rps);
    }
    println!("OGC / SDS throughput: {:.2}", rates[1] / rates[0]);

    // (2) Every feature through `next` links, pages of 10,000.
    let mut best = f64::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        let (features, bytes, pages) =
            stream(&server, &format!("{base}/ogc/collections/{access_id}.Cities/items?limit=10000"))?;
        let elapsed = started.elapsed().as_secs_f64();
        if features != rows {
            bail!("streamed {features} features of {rows}");
        }
        println!(
            "stream: {features} features in {pages} pages, {:.1} MB, {:.0} ms: {:.0} features/s",
            bytes as f64 / 1e6,
            elapsed * 1000.0,
            features as f64 / elapsed
        );
        best = best.min(elapsed);
    }
    println!("stream best: {:.0} features/s", rows as f64 / best);
    Ok(())
}

/// Follows `next` links from `url`; returns features, bytes and pages.
/// The body is scanned, not parsed, so the client costs little.
fn stream(server: &crate::Server, url: &str) -> Result<(usize, usize, usize)> {
    let (mut features, mut bytes, mut pages) = (0, 0, 0);
    let mut next = Some(url.to_owned());
    while let Some(url) = next.take() {
        let body = server.client.get(&url).header("X-Api-Key", &server.key).send()?.error_for_status()?.text()?;
        pages += 1;
        bytes += body.len();
        features += body.matches("{\"type\":\"Feature\"").count();
        // Links come before the features; the next link's href precedes its rel.
        let links_end = body.find("\"features\":").context("no features member")?;
        let links = &body[..links_end];
        if let Some(rel) = links.find("\"rel\":\"next\"") {
            let start = links[..rel].rfind("\"href\":\"").context("a next link without href")? + 8;
            let end = start + links[start..].find('"').context("an unterminated href")?;
            next = Some(links[start..end].to_owned());
        }
    }
    Ok((features, bytes, pages))
}
