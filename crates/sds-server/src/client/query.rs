//! `sds query NAME [SPATIAL FILTER]`: the Query API
//! (`GET /REST/v1/data/{accessId}/{name}/{entityType}?spatialFilter=&
//! $filter=&$select=&$top=&$format=json&key=`, "Query by Area" and
//! "Query by Property"), printed as a table, the results as JSON, a
//! GeoJSON FeatureCollection, or CSV.

use clap::{Args, ValueEnum};
use serde_json::Value;

use super::endpoint::{encode, expect};
use super::manage::find_source;
use super::output::{cell, print_json, table};
use super::{settings, ClientError, Connection};

#[derive(Args, Clone, Debug)]
pub struct QueryArgs {
    /// The data source's name.
    pub name: String,
    /// A spatial filter: `nearby(lat,lon,km)`, `bbox(s,w,n,e)`,
    /// `intersects('WKT')`… (the Query API's `spatialFilter`).
    pub spatial_filter: Option<String>,
    /// An OData `$filter`, e.g. `Seats gt 20`.
    #[arg(long)]
    pub filter: Option<String>,
    /// The properties to return (`$select`), comma-separated.
    #[arg(long)]
    pub select: Option<String>,
    /// At most this many results (`$top`; SDS allows up to 250).
    #[arg(long)]
    pub top: Option<u32>,
    /// Query the staged version (`isStaging=1`).
    #[arg(long)]
    pub staged: bool,
    /// How to print the results (`--json` means `json`).
    #[arg(long, value_enum, default_value = "table")]
    pub format: QueryFormat,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryFormat {
    Table,
    Json,
    Geojson,
    Csv,
}

/// Results of a query without `$top`, and the most one query returns
/// (SDS's Query API: docs page "Query API", `$top`).
const DEFAULT_TOP: u32 = 25;
const MAX_TOP: u32 = 250;

pub fn run(args: &QueryArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let source = find_source(&endpoint, &args.name)?;
    let top = args.top.map(|top| top.to_string());
    let mut pairs = vec![("$format", "json")];
    let optional = [
        ("spatialFilter", args.spatial_filter.as_deref()),
        ("$filter", args.filter.as_deref()),
        ("$select", args.select.as_deref()),
        ("$top", top.as_deref()),
        ("isStaging", args.staged.then_some("1")),
    ];
    pairs.extend(optional.into_iter().filter_map(|(name, value)| value.map(|value| (name, value))));
    let path = format!("data/{}/{}/{}", source.access_id, encode(&source.name), encode(&source.entity_type));
    let what = format!("querying '{}'", source.name);
    let response = endpoint.send(endpoint.get(&endpoint.url(&path), &pairs), &what)?;
    let answer: Answer = serde_json::from_str(&expect(response, &[200], &what)?)
        .map_err(|error| ClientError::Protocol(format!("{what}: the answer has no d.results ({error})")))?;
    let results: Vec<Row> = answer
        .d
        .results
        .into_iter()
        .map(|mut result| {
            result.shift_remove("__metadata");
            result
        })
        .collect();
    // A full page may not be everything: say so (on stderr, so that the
    // printed results stay as they are), as a user may not know `$top`.
    let page = args.top.unwrap_or(DEFAULT_TOP).min(MAX_TOP);
    if results.len() as u32 >= page {
        eprintln!(
            "sds: {} results, as many as one query returns with --top {page} (the Query API's default is {DEFAULT_TOP}, its most {MAX_TOP}); there may be more: narrow the query, or `sds download {}` for every entity",
            results.len(),
            source.name
        );
    }
    let format = if args.connection.json { QueryFormat::Json } else { args.format };
    match format {
        QueryFormat::Json => print_json(&Value::Array(results.into_iter().map(object).collect())),
        QueryFormat::Table => print!("{}", as_table(&results)),
        QueryFormat::Csv => print!("{}", as_csv(&results)?),
        QueryFormat::Geojson => print_json(&as_geojson(&source.name, results)),
    }
    Ok(())
}

/// One result's properties in the order the server sent them (the
/// schema's, or `$select`'s); `serde_json`'s `Map` would sort them.
type Row = indexmap::IndexMap<String, Value>;

/// The Query API's JSON answer: `{"d": {"results": [...]}}`.
#[derive(serde::Deserialize)]
struct Answer {
    d: Results,
}

#[derive(serde::Deserialize)]
struct Results {
    results: Vec<Row>,
}

fn object(row: Row) -> Value {
    Value::Object(row.into_iter().collect())
}

/// The property names in the order the server sent them, as first seen.
fn columns(results: &[Row]) -> Vec<String> {
    let mut columns: Vec<String> = Vec::new();
    for result in results {
        for name in result.keys() {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    columns
}

fn as_table(results: &[Row]) -> String {
    let columns = columns(results);
    let headers: Vec<&str> = columns.iter().map(String::as_str).collect();
    let rows: Vec<Vec<String>> = results
        .iter()
        .map(|result| columns.iter().map(|column| result.get(column).map(cell).unwrap_or_default()).collect())
        .collect();
    table(&headers, &rows)
}

fn as_csv(results: &[Row]) -> Result<String, ClientError> {
    let columns = columns(results);
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |error: csv::Error| ClientError::Protocol(format!("writing CSV: {error}"));
    writer.write_record(&columns).map_err(failed)?;
    for result in results {
        writer
            .write_record(columns.iter().map(|column| result.get(column).map(cell).unwrap_or_default()))
            .map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|error| ClientError::Protocol(format!("writing CSV: {error}")))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// A FeatureCollection: each result's geometry is its first property
/// holding WKT that parses as a geography, else the point at its
/// `Latitude`/`Longitude`; the other properties stay properties.
fn as_geojson(name: &str, results: Vec<Row>) -> Value {
    let features: Vec<Value> = results
        .into_iter()
        .map(|mut properties| {
            let geography = properties.iter().find_map(|(column, value)| {
                let geography = sds_core::Geography::parse(value.as_str()?).ok()?;
                Some((column.clone(), geography))
            });
            let geometry = match geography {
                Some((column, geography)) => {
                    properties.shift_remove(&column);
                    let mut out = Vec::new();
                    sds_formats::geojson::write_geometry(&mut out, &geography.geometry)
                        .ok()
                        .and_then(|()| serde_json::from_slice(&out).ok())
                        .unwrap_or(Value::Null)
                }
                None => match (properties.get("Longitude"), properties.get("Latitude")) {
                    (Some(longitude), Some(latitude)) => {
                        serde_json::json!({"type": "Point", "coordinates": [longitude, latitude]})
                    }
                    _ => Value::Null,
                },
            };
            serde_json::json!({"type": "Feature", "geometry": geometry, "properties": object(properties)})
        })
        .collect();
    serde_json::json!({"type": "FeatureCollection", "name": name, "features": features})
}
