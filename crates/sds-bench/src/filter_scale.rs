//! `filter-scale`: single-property `$filter`s with `$inlinecount=allpages`
//! on a large synthetic table, in-process (issue 16, "filters that do not
//! scan"). For each filter it prints the first query (which builds the
//! property's sorted index when it is the first on that property), the
//! median of warm queries (compile + execute, top 25 with the count), and
//! the median of a plain scan: the evaluator on every row, which is what
//! the plan did before column indexes and what it still does for a filter
//! no index answers.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sds_core::{EdmType, Entity, Property, Schema, Timestamp, Value};
use sds_query::{Query, QueryLimits, QueryOptions, Table, TableBuilder};

/// 2000-01-01T00:00:00Z and 2025-01-01T00:00:00Z.
const FIRST_SECOND: i64 = 946_684_800;
const LAST_SECOND: i64 = 1_735_689_600;

/// The filters timed, one property each.
const FILTERS: [&str; 17] = [
    "Rank gt 990",
    "Rank eq 500",
    "Rank gt 10",
    "Rank gt 10 and Rank le 20",
    "Rank ne 5",
    "Rank in (1, 2, 3)",
    "Rank eq null",
    "not (Rank lt 500)",
    "Score lt -0.5",
    "Score eq 0",
    "Score ge -0.001 and Score le 0.001",
    "Opened ge datetime'2024-01-01T00:00:00Z'",
    "IsOpen eq true",
    "IsOpen ne null",
    // Seq ascends with the row: the matches bunch up at the table's end.
    "Seq gt 870000",
    "Seq ge 400000",
    "Seq lt 1000 or Seq gt 999000",
];

/// Points with a Rank (0..=999), a Score (-1..1 in steps of 0.001), an
/// Opened date (2000–2024), an IsOpen flag, each null one time in fifty,
/// and Seq, the row number (never null).
fn table(entities: usize) -> Table {
    let schema = Schema::new(
        "Place",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Rank", EdmType::Int64),
            Property::new("Score", EdmType::Double),
            Property::new("Opened", EdmType::DateTime),
            Property::new("IsOpen", EdmType::Boolean),
            Property::new("Seq", EdmType::Int64),
        ],
        "Id",
    )
    .expect("a valid schema");
    let mut rng = StdRng::seed_from_u64(16);
    let mut builder = TableBuilder::new(schema, entities);
    for row in 0..entities {
        // Zero-padded, so the IDs' text order is the row order.
        let id = format!("{row:09}");
        let (latitude, longitude) = (rng.gen_range(-60.0..70.0), rng.gen_range(-180.0..180.0));
        let rank = Value::Int64(rng.gen_range(0..1000));
        let score = Value::Double(f64::from(rng.gen_range(-1000..=1000)) / 1000.0);
        let opened = Value::DateTime(Timestamp { seconds: rng.gen_range(FIRST_SECOND..LAST_SECOND), nanos: 0 });
        let is_open = Value::Boolean(rng.gen_bool(0.5));
        let [rank, score, opened, is_open] =
            [rank, score, opened, is_open].map(|value| if rng.gen_range(0..50) == 0 { Value::Null } else { value });
        builder.push(Entity {
            id: id.clone(),
            latitude,
            longitude,
            bounds: None,
            values: vec![
                Value::String(id),
                Value::Double(latitude),
                Value::Double(longitude),
                rank,
                score,
                opened,
                is_open,
                Value::Int64(row as i64),
            ],
        });
    }
    builder.finish()
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort_unstable();
    times[times.len() / 2]
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Compiles and runs one filter, top 25 with the count: (time, count).
fn query(table: &Table, filter: &str) -> Result<(Duration, usize)> {
    let options = QueryOptions { filter: Some(filter), inline_count: Some("allpages"), ..QueryOptions::default() };
    let started = Instant::now();
    let result = Query::compile(table.schema(), &options, &QueryLimits::default())?.execute(table)?;
    let elapsed = started.elapsed();
    Ok((elapsed, result.total.unwrap_or_default()))
}

/// The evaluator on every row, as a plan without an index: (time, count).
fn scan(table: &Table, filter: &str) -> Result<(Duration, usize)> {
    let options = QueryOptions { filter: Some(filter), ..QueryOptions::default() };
    let started = Instant::now();
    let compiled = Query::compile(table.schema(), &options, &QueryLimits::default())?;
    let predicate = compiled.predicate.as_ref().expect("a filter");
    let count = (0..table.len() as u32).filter(|&row| predicate.matches(table, row)).count();
    Ok((started.elapsed(), count))
}

pub fn run(entities: usize, runs: usize) -> Result<()> {
    let started = Instant::now();
    let table = table(entities);
    println!("{entities} entities built in memory in {:.1} s", started.elapsed().as_secs_f64());
    println!("each filter: top 25 with $inlinecount=allpages, single thread; warm = median of {runs} runs");
    println!();
    println!("| filter | matches | first query ms | warm ms | plain scan ms | scan / warm |");
    println!("|---|---:|---:|---:|---:|---:|");
    for filter in FILTERS {
        let (first, count) = query(&table, filter)?;
        let warm = median((0..runs).map(|_| query(&table, filter).map(|(time, _)| time)).collect::<Result<_>>()?);
        let mut scans = Vec::new();
        for _ in 0..5 {
            let (time, scanned) = scan(&table, filter)?;
            ensure!(scanned == count, "{filter}: the index counts {count}, a scan {scanned}");
            scans.push(time);
        }
        let scanned = median(scans);
        println!(
            "| `{filter}` | {count} | {:.2} | {:.3} | {:.1} | {:.0}× |",
            millis(first),
            millis(warm),
            millis(scanned),
            scanned.as_secs_f64() / warm.as_secs_f64()
        );
    }
    // Rank, Score, Opened, IsOpen, Seq: the columns the filters built indexes for.
    println!();
    for column in 3..8 {
        let bytes = table.column_index(column).map_or(0, |index| index.heap_bytes());
        println!(
            "{} index: {:.1} MB, {:.1} bytes per entity",
            table.schema().properties[column].name,
            bytes as f64 / 1e6,
            bytes as f64 / entities as f64
        );
    }
    Ok(())
}
