//! `load-download`: cities1000.csv loaded through the HTTP API, then
//! downloaded in each format, first (the job writes the output) and again
//! (the job copies the output kept for that version and format), timed
//! from job creation to the last byte read; beside the PostgreSQL peer's
//! `COPY … TO` of the same rows, run in the same process run (see
//! [`crate::peer`]) so that both sides share the machine's load.

use std::path::Path;
use std::time::Instant;

use anyhow::Result;

use crate::peer::Peer;
use crate::{access_id, cities_as_sds_csv, median, Server};

/// PostGIS on this machine, whole load job (COPY, 2 GiST and 2 b-tree
/// indexes, ANALYZE): ../shared/peer-postgis/RESULTS.md. The load is not
/// rerun here (the peer's load needs PostGIS).
const PEER_LOAD_ROWS_PER_SECOND: f64 = 117_000.0;
/// Issue 16: downloads at 1.5× the peer's export.
const DOWNLOAD_TARGET: f64 = 1.5;
const FORMATS: [&str; 3] = ["xml", "csv", "geojson"];

/// Seconds and bytes of each download of one format, over the runs.
#[derive(Default)]
struct Timings {
    first: Vec<(f64, u64)>,
    again: Vec<(f64, u64)>,
    /// Server CPU seconds of each first download.
    first_cpu: Vec<f64>,
    /// Of each first download, seconds until the job was seen
    /// `Completed`, and from then to the last byte.
    first_phases: Vec<(f64, f64)>,
}

pub fn run(cities: &Path, runs: usize, pg_bin: Option<&Path>) -> Result<()> {
    let (body, rows) = cities_as_sds_csv(cities)?;
    println!("input: {rows} entities, {:.1} MB of SDS CSV; {runs} runs, medians", body.len() as f64 / 1e6);
    let peer = pg_bin.map(|bin| Peer::start(bin, cities)).transpose()?;
    if let Some(peer) = &peer {
        println!("peer: PostgreSQL {} on 127.0.0.1, {} rows", peer.version(), peer.rows);
    }
    let (mut load_rates, mut load_cpu_rates, mut rss, mut exports) = (vec![], vec![], vec![], vec![]);
    let mut timings: Vec<Timings> = FORMATS.iter().map(|_| Timings::default()).collect();
    for run in 0..runs {
        let server = Server::start()?;
        let (started, cpu) = (Instant::now(), server.cpu_seconds());
        let job = server.load("Cities", body.clone())?;
        let load_seconds = started.elapsed().as_secs_f64();
        load_rates.push(rows as f64 / load_seconds);
        load_cpu_rates.push(rows as f64 / (server.cpu_seconds() - cpu).max(0.01));
        let access_id = access_id(&job)?;
        let mut line = format!("run {}: load {:.0} ms", run + 1, load_seconds * 1000.0);
        // The peer before and after the downloads, so a burst of load from
        // elsewhere on the machine falls on both sides alike.
        if let Some(peer) = &peer {
            exports.push(peer.copy_to()?);
        }
        for (format, timing) in FORMATS.iter().zip(&mut timings) {
            for kept in [false, true] {
                let cpu = server.cpu_seconds();
                let download = server.download(&access_id, "Cities", format)?;
                let seconds = download.finished.as_secs_f64();
                let completed = download.completed.as_secs_f64();
                if !kept {
                    timing.first_cpu.push(server.cpu_seconds() - cpu);
                    timing.first_phases.push((completed, seconds - completed));
                }
                if kept { &mut timing.again } else { &mut timing.first }.push((seconds, download.bytes));
                line += &format!(
                    ", {format}{} {:.0} ms (Completed at {:.0})",
                    if kept { " again" } else { "" },
                    seconds * 1000.0,
                    completed * 1000.0
                );
            }
        }
        if let Some(peer) = &peer {
            exports.push(peer.copy_to()?);
            let last = &exports[exports.len() - 2..];
            line += &format!(", peer COPY TO {:.0}/{:.0} ms", last[0].0 * 1000.0, last[1].0 * 1000.0);
        }
        rss.push(server.peak_rss_mb());
        println!("{line}, peak RSS {:.0} MB", rss[run]);
        if run == 0 {
            // Where the server says the time went (the load's table build
            // and snapshot, each output's write and sync).
            let log = server.log();
            let timed = [
                "built its version's query table",
                "table snapshot written",
                "download output written",
                "download output stored",
                "job ended",
            ];
            for logged in log.lines().filter(|line| timed.iter().any(|text| line.contains(text))) {
                println!("  server: {}", logged.trim());
            }
        }
    }

    let peer_rate = peer.as_ref().map(|peer| {
        let mut rates: Vec<f64> = exports.iter().map(|(seconds, _)| peer.rows as f64 / seconds).collect();
        let mut megabytes: Vec<f64> = exports.iter().map(|(seconds, bytes)| *bytes as f64 / 1e6 / seconds).collect();
        (median(&mut rates), median(&mut megabytes))
    });
    let load = median(&mut load_rates);
    println!();
    println!("| measure | sds | PostgreSQL peer | ratio | target |");
    println!("|---|---:|---:|---:|---|");
    println!(
        "| load, request to `Completed` (entities/s) | {load:.0} | {PEER_LOAD_ROWS_PER_SECOND:.0} (RESULTS.md) | {:.2}× | ≥ 300,000 entities/s {} |",
        load / PEER_LOAD_ROWS_PER_SECOND,
        mark(load >= 300_000.0)
    );
    for (format, timing) in FORMATS.iter().zip(&mut timings) {
        for (label, samples) in [("first", &timing.first), ("again (kept output)", &timing.again)] {
            let mut rates: Vec<f64> = samples.iter().map(|(seconds, _)| rows as f64 / seconds).collect();
            let mut megabytes: Vec<f64> =
                samples.iter().map(|(seconds, bytes)| *bytes as f64 / 1e6 / seconds).collect();
            let (rate, mbps) = (median(&mut rates), median(&mut megabytes));
            let (peer_cell, ratio_cell, target_cell) = match peer_rate {
                Some((peer_rate, peer_mbps)) => (
                    format!("{peer_rate:.0} ({peer_mbps:.0} MB/s)"),
                    format!("{:.2}×", rate / peer_rate),
                    format!("≥ {DOWNLOAD_TARGET}× {}", mark(rate / peer_rate >= DOWNLOAD_TARGET)),
                ),
                None => ("not run".into(), String::new(), String::new()),
            };
            println!(
                "| download {format}, {label}, job creation to last byte (entities/s) | {rate:.0} ({mbps:.0} MB/s) | {peer_cell} | {ratio_cell} | {target_cell} |"
            );
        }
    }
    println!("| server peak RSS (MB) | {:.0} | | | |", median(&mut rss));
    println!();
    println!("Server CPU time (user + system, all threads; independent of how busy the machine is):");
    println!("- load: {:.0} entities per CPU-second", median(&mut load_cpu_rates));
    for (format, timing) in FORMATS.iter().zip(&mut timings) {
        println!("- first {format} download: {:.0} ms of CPU", median(&mut timing.first_cpu) * 1000.0);
    }
    println!();
    println!("First downloads, where the time went (medians; the client polls the job every 5 ms):");
    for (format, timing) in FORMATS.iter().zip(&mut timings) {
        let mut until_completed: Vec<f64> = timing.first_phases.iter().map(|phases| phases.0).collect();
        let mut transfer: Vec<f64> = timing.first_phases.iter().map(|phases| phases.1).collect();
        println!(
            "- {format}: job creation until seen `Completed` {:.1} ms, then the output's transfer {:.1} ms",
            median(&mut until_completed) * 1000.0,
            median(&mut transfer) * 1000.0
        );
    }
    if peer.is_some() {
        println!();
        println!(
            "peer: `psql -X -c \"COPY cities (id, lat, lon, name, admin1, admin2, cc) TO STDOUT WITH (FORMAT csv, HEADER true)\" > file`, psql start to exit, twice per run"
        );
    }
    Ok(())
}

fn mark(met: bool) -> &'static str {
    if met {
        "✔"
    } else {
        "✘"
    }
}
