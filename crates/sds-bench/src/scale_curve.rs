//! `scale-curve`: how each cost grows with a data source's size (issue 16).
//!
//! For each size (10k, 100k, 1M and 5M synthetic points by default: an ID,
//! a Name string, a Rank integer and an Opened date, spread over the
//! contiguous United States; see `many_sources::synthetic_csv`), on a
//! fresh server with the entity and upload limits lifted:
//!
//! 1. load through the API (request to `Completed`): entities/s;
//! 2. the first query (nearby 5 km), which builds the table from the store and then
//!    writes its snapshot in the background (waited for in the log);
//! 3. restart the server (same data dir), and time the first query again:
//!    the table is read back from its snapshot;
//! 4. warm latency, sequential single requests (median of `--runs`):
//!    nearby (5 km, top 25), bbox (0.5°, top 25), and single-property
//!    filters with `$inlinecount` (Rank, Name and Opened in turn, so every
//!    index a filter builds is built);
//! 5. download (job creation to last byte): entities/s;
//! 6. memory: the server's resident set after the warm queries (and a 1 s
//!    pause) less its resident set just after the restart, per entity (it
//!    includes what the allocator keeps of freed memory); and the table's own
//!    heap accounting (`Table::heap_bytes`) with the same indexes built,
//!    from an in-process copy, per entity.

use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::many_sources::{synthetic_csv, synthetic_table, AREA};
use crate::Server;

/// A resident set figure of `/proc/<pid>/status` (`VmRSS`, `VmHWM`), in bytes.
fn status_bytes(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kilobytes| kilobytes * 1024.0)
}

/// Times one query (to the last byte); fails unless it answers 200.
fn timed_get(server: &Server, path_and_query: &str) -> Result<Duration> {
    let url = format!("{}{path_and_query}&$format=json&key={}", server.root.trim_end_matches("/REST/v1"), server.key);
    let started = Instant::now();
    let response = server.client.get(&url).send()?;
    let status = response.status();
    let body = response.text()?;
    let elapsed = started.elapsed();
    if status != 200 {
        bail!("{path_and_query}: {status} {body}");
    }
    Ok(elapsed)
}

fn median_ms(mut times: Vec<Duration>) -> f64 {
    times.sort_unstable();
    times[times.len() / 2].as_secs_f64() * 1000.0
}

fn wait_for_log(server: &Server, line: &str) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while !server.log().contains(line) {
        if Instant::now() > deadline {
            bail!("no '{line}' in the server log");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

struct Row {
    entities: usize,
    load_per_second: f64,
    first_from_store_ms: f64,
    first_after_restart_ms: f64,
    nearby_ms: f64,
    bbox_ms: f64,
    filter_ms: f64,
    download_per_second: f64,
    rss_per_entity: f64,
    heap_per_entity: f64,
}

fn measure(entities: usize, runs: usize) -> Result<Row> {
    let limit = (entities + 1).to_string();
    let flags = ["--max-entities", &limit, "--max-upload-bytes", "4000000000", "--query-cache-mb", "8192"];
    let mut server = Server::start_with(&flags)?;
    let body = synthetic_csv(0, entities);
    let started = Instant::now();
    let job = server.load("Scale", body)?;
    let load_per_second = entities as f64 / started.elapsed().as_secs_f64();
    let access_id = crate::access_id(&job)?;
    let base = format!("/REST/v1/data/{access_id}/Scale/Store?");
    // A spatial query: a filter would also build its property's index.
    let probe = format!("{base}spatialFilter=nearby(37.0,-95.0,5)&$top=25");

    let first_from_store_ms = timed_get(&server, &probe)?.as_secs_f64() * 1000.0;
    wait_for_log(&server, "table snapshot written")?;
    server.restart(&flags)?;
    let rss_before = status_bytes(server.child.id(), "VmRSS:");
    let first_after_restart_ms = timed_get(&server, &probe)?.as_secs_f64() * 1000.0;
    let log = server.log();
    let Some(read) = log.lines().find(|line| line.contains("table read from its snapshot")) else {
        bail!("the first query after the restart did not read the snapshot");
    };
    eprintln!("{entities}: {}", crate::many_sources::strip_ansi(read).trim());

    let mut rng = StdRng::seed_from_u64(16);
    let (south, west, north, east) = AREA;
    let mut point = || (rng.gen_range(south..north), rng.gen_range(west..east));
    let (mut nearby, mut bbox, mut filter) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..runs {
        let (latitude, longitude) = point();
        nearby
            .push(timed_get(&server, &format!("{base}spatialFilter=nearby({latitude:.4},{longitude:.4},5)&$top=25"))?);
        let (latitude, longitude) = point();
        bbox.push(timed_get(
            &server,
            &format!(
                "{base}spatialFilter=bbox({latitude:.4},{longitude:.4},{:.4},{:.4})&$top=25",
                latitude + 0.5,
                longitude + 0.5
            ),
        )?);
        let single = match run % 3 {
            0 => format!("Rank eq {}", run % 1000),
            1 => format!("Name eq 'Store {} of layer 0'", run * 7 % entities),
            _ => format!("Opened ge datetime'20{:02}-06-01T00:00:00Z'", run % 25),
        };
        filter.push(timed_get(&server, &format!("{base}$filter={single}&$inlinecount=allpages&$top=25"))?);
    }
    // The allocator gives back freed memory (index builds' scratch) lazily,
    // on later calls: pause, then query a little more before measuring.
    std::thread::sleep(Duration::from_secs(1));
    for _ in 0..20 {
        timed_get(&server, &probe)?;
    }
    let rss_after = status_bytes(server.child.id(), "VmRSS:");

    let started = Instant::now();
    server.download(&access_id, "Scale", "xml")?;
    let download_per_second = entities as f64 / started.elapsed().as_secs_f64();
    drop(server);

    // The same table in-process, with the indexes the filters built.
    let table = synthetic_table(entities)?;
    for column in 3..6 {
        table.text_index(column);
        table.column_index(column);
    }
    let heap_per_entity = table.heap_bytes() as f64 / entities as f64;
    Ok(Row {
        entities,
        load_per_second,
        first_from_store_ms,
        first_after_restart_ms,
        nearby_ms: median_ms(nearby),
        bbox_ms: median_ms(bbox),
        filter_ms: median_ms(filter),
        download_per_second,
        rss_per_entity: (rss_after - rss_before) / entities as f64,
        heap_per_entity,
    })
}

pub fn run(sizes: &[usize], runs: usize) -> Result<()> {
    println!(
        "| entities | load (entities/s) | first query, built from the store (ms) | first query after restart (ms) \
         | nearby p50 (ms) | bbox p50 (ms) | filter p50 (ms) | download (entities/s) \
         | resident bytes per entity | heap bytes per entity |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &entities in sizes {
        let row = measure(entities, runs)?;
        println!(
            "| {} | {:.0} | {:.0} | {:.1} | {:.2} | {:.2} | {:.2} | {:.0} | {:.0} | {:.0} |",
            row.entities,
            row.load_per_second,
            row.first_from_store_ms,
            row.first_after_restart_ms,
            row.nearby_ms,
            row.bbox_ms,
            row.filter_ms,
            row.download_per_second,
            row.rss_per_entity,
            row.heap_per_entity
        );
    }
    Ok(())
}
