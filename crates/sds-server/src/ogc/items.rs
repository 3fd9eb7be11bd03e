//! Features (OGC 17-069r4 §7.15–7.16) with Part 3 filtering (OGC 19-079r2).
//!
//! `/items` takes `limit` (default 100, at most 10,000: more is clamped,
//! as §7.15.3 asks), `offset` (the `next`/`prev` links carry it; rows are
//! in entity-ID order, so pages are stable for a version), `bbox`
//! (CRS84; `minx > maxx` crosses the antimeridian), `datetime` (on the
//! first DateTime property), `filter` (CQL2 text) and `{property}=value`
//! equality filters (§7.15.5). Everything becomes one query of the SDS
//! engine: the bbox its spatial filter, the rest one predicate.

use axum::response::Response;
use sds_core::{EdmType, Schema};
use sds_query::eval::{compile, Predicate};
use sds_query::filter::{CompareOp, Expr, Literal, Located};
use sds_query::{Query, QueryLimits, QueryOptions, SpatialFilter};

use super::collections::{encode_segment, resolve, temporal_property, version_query, Collection};
use super::features::write_feature;
use super::{html, respond, Format, OgcRequest, CRS84, GEOJSON, HTML};
use crate::error::ApiError;
use crate::state::AppState;

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;

/// Parameters that are not property filters.
const RESERVED: [&str; 13] = [
    "f",
    "key",
    "limit",
    "offset",
    "bbox",
    "bbox-crs",
    "datetime",
    "filter",
    "filter-lang",
    "filter-crs",
    "crs",
    "isstaging",
    "jobid",
];

/// The page of an items request.
pub struct Page<'a> {
    pub collection: &'a Collection,
    pub rows: Vec<u32>,
    pub matched: usize,
    pub offset: usize,
    /// `self`, `alternate`, `next`, `prev` and `collection` links.
    pub links: Vec<serde_json::Value>,
}

pub async fn items(state: &AppState, request: &OgcRequest<'_>, id: &str) -> Result<Response, ApiError> {
    let collection = resolve(state, request, id).await?;
    // What was asked (never the key), at debug level: a line per page
    // would cost more than the page. Operators (and the GDAL tests) turn it on
    // with `RUST_LOG=info,sds_server::ogc=debug` to see filters reach the server.
    if tracing::enabled!(tracing::Level::DEBUG) {
        let asked: Vec<String> = request
            .params
            .pairs()
            .filter(|(name, _)| *name != "key")
            .map(|(name, value)| format!("{name}={value}"))
            .collect();
        tracing::debug!(collection = %collection.id, query = %asked.join("&"), "ogc items");
    }
    let table = &collection.table;
    let schema = table.schema();
    let limits = QueryLimits {
        default_top: DEFAULT_LIMIT,
        max_top: MAX_LIMIT,
        max_shape_points: state.config.query_max_shape_points,
        ..QueryLimits::default()
    };
    // OGC 17-069r4 §7.15.3: a limit above the maximum is reduced to it.
    let limit = match request.params.get("limit").filter(|text| !text.is_empty()) {
        Some(text) => match text.trim().parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(ApiError::bad_request(format!(
                    "the 'limit' parameter '{text}' is invalid: use a whole number from 1 to {MAX_LIMIT} (a larger one is reduced to {MAX_LIMIT})"
                )))
            }
            Ok(limit) => limit.min(MAX_LIMIT),
        },
        None => DEFAULT_LIMIT,
    };
    let offset = match request.params.get("offset").filter(|text| !text.is_empty()) {
        Some(text) => count(text, "offset")?,
        None => 0,
    };
    let options = QueryOptions { inline_count: Some("allpages"), ..QueryOptions::default() };
    let mut query =
        Query::compile(schema, &options, &limits).map_err(|error| ApiError::bad_request(error.to_string()))?;
    query.spatial = bbox(request)?;
    query.predicate = predicate(request, schema, &limits)?;
    query.top = limit;
    query.skip = offset;
    let bytes_before = table.heap_bytes();
    let result = query.execute(table).map_err(|error| ApiError::bad_request(error.to_string()));
    // A string index built by this query makes the table bigger.
    let bytes_after = table.heap_bytes();
    if bytes_after != bytes_before {
        state.query_cache.measured(collection.table_key, bytes_after);
    }
    let result = result?;
    let matched = result.total.unwrap_or(result.hits.len());
    let rows: Vec<u32> = result.hits.iter().map(|hit| hit.row).collect();
    let links = page_links(request, &collection, offset, limit, rows.len(), matched);
    let page = Page { collection: &collection, rows, matched, offset, links };
    Ok(match request.format {
        Format::Json => respond(feature_collection(&page), GEOJSON),
        Format::Html => html::items(&page),
    })
}

/// `/items/{featureId}`: one feature by entity ID.
pub async fn item(state: &AppState, request: &OgcRequest<'_>, id: &str, feature: &str) -> Result<Response, ApiError> {
    let collection = resolve(state, request, id).await?;
    let row = collection
        .table
        .find(feature)
        .ok_or_else(|| ApiError::not_found(format!("collection '{}' has no feature '{feature}'", collection.id)))?;
    let base = format!("{}/collections/{}", request.base, encode_segment(&collection.id));
    let version = version_query(request);
    let path = format!("{base}/items/{}", encode_segment(feature));
    let links = vec![
        super::link(
            format!("{path}?f=json{version}"),
            self_or_alternate(request, Format::Json),
            GEOJSON,
            "this feature",
        ),
        super::link(format!("{path}?f=html{version}"), self_or_alternate(request, Format::Html), HTML, "this feature"),
        super::link(format!("{base}?f=json{version}"), "collection", super::JSON, "the collection"),
    ];
    Ok(match request.format {
        Format::Json => {
            let mut out = Vec::with_capacity(1024);
            write_feature(&mut out, &collection.table, row);
            // Splice the links in before the closing brace.
            out.pop();
            out.extend_from_slice(b",\"links\":");
            out.extend_from_slice(serde_json::Value::from(links).to_string().as_bytes());
            out.push(b'}');
            respond(out, GEOJSON)
        }
        Format::Html => {
            let page = Page { collection: &collection, rows: vec![row], matched: 1, offset: 0, links };
            html::items(&page)
        }
    })
}

fn self_or_alternate(request: &OgcRequest<'_>, format: Format) -> &'static str {
    if request.format == format {
        "self"
    } else {
        "alternate"
    }
}

/// The FeatureCollection (OGC 17-069r4 §7.15.8).
fn feature_collection(page: &Page<'_>) -> Vec<u8> {
    let table = &page.collection.table;
    let mut out = Vec::with_capacity(256 + page.rows.len() * 400);
    out.extend_from_slice(b"{\"type\":\"FeatureCollection\",\"numberMatched\":");
    out.extend_from_slice(page.matched.to_string().as_bytes());
    out.extend_from_slice(b",\"numberReturned\":");
    out.extend_from_slice(page.rows.len().to_string().as_bytes());
    out.extend_from_slice(b",\"timeStamp\":\"");
    out.extend_from_slice(chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string().as_bytes());
    out.extend_from_slice(b"\",\"links\":");
    // Writing to a Vec cannot fail.
    drop(serde_json::to_writer(&mut out, &page.links));
    out.extend_from_slice(b",\"features\":[");
    prefetch(table, &page.rows);
    for (index, &row) in page.rows.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_feature(&mut out, table, row);
    }
    out.extend_from_slice(b"]}");
    out
}

/// Touches the page's IDs and strings in one tight pass before writing,
/// as the Query API's renderer does (`EntityPage::prefetch`): the loads are
/// independent, so their cache misses overlap instead of stalling the
/// writer one at a time.
fn prefetch(table: &sds_query::Table, rows: &[u32]) {
    let columns = table.schema().properties.len();
    let mut sum = 0usize;
    for &row in rows {
        sum = sum.wrapping_add(table.id(row).as_bytes().first().copied().unwrap_or(0) as usize);
        for column in 0..columns {
            if let sds_query::Cell::String(text) = table.cell(column, row) {
                sum = sum.wrapping_add(text.as_bytes().first().copied().unwrap_or(0) as usize);
            }
        }
    }
    std::hint::black_box(sum);
}

/// `self`/`alternate` for this page, `next` while matches remain, `prev`
/// after the first page: the request's parameters without the key.
fn page_links(
    request: &OgcRequest<'_>,
    collection: &Collection,
    offset: usize,
    limit: usize,
    returned: usize,
    matched: usize,
) -> Vec<serde_json::Value> {
    let mut kept = String::new();
    for (name, value) in request.params.pairs() {
        if matches!(name, "key" | "offset" | "f" | "limit") {
            continue;
        }
        kept.push('&');
        kept.extend(form_urlencoded::byte_serialize(name.as_bytes()));
        kept.push('=');
        kept.extend(form_urlencoded::byte_serialize(value.as_bytes()));
    }
    let items = format!("{}/collections/{}/items", request.base, encode_segment(&collection.id));
    let at = |offset: usize, format: &str| format!("{items}?f={format}&limit={limit}&offset={offset}{kept}");
    let format_name = match request.format {
        Format::Json => "json",
        Format::Html => "html",
    };
    let page_type = match request.format {
        Format::Json => GEOJSON,
        Format::Html => HTML,
    };
    let mut links = vec![
        super::link(at(offset, "json"), self_or_alternate(request, Format::Json), GEOJSON, "this page"),
        super::link(at(offset, "html"), self_or_alternate(request, Format::Html), HTML, "this page"),
    ];
    if offset + returned < matched {
        links.push(super::link(at(offset + returned, format_name), "next", page_type, "the next page"));
    }
    if offset > 0 {
        links.push(super::link(at(offset.saturating_sub(limit), format_name), "prev", page_type, "the previous page"));
    }
    let version = version_query(request);
    links.push(super::link(
        format!("{}/collections/{}?f=json{version}", request.base, encode_segment(&collection.id)),
        "collection",
        super::JSON,
        "the collection",
    ));
    links
}

fn count(text: &str, name: &str) -> Result<usize, ApiError> {
    text.trim().parse::<usize>().map_err(|_| {
        ApiError::bad_request(format!("the '{name}' parameter '{text}' is invalid: use a whole number of 0 or more"))
    })
}

/// `bbox=minx,miny,maxx,maxy` (or the 6-number 3D form) in CRS84.
fn bbox(request: &OgcRequest<'_>) -> Result<Option<SpatialFilter>, ApiError> {
    // Output is CRS84 only (Part 2's other CRSs are not offered).
    if let Some(crs) = request.params.get("crs").filter(|crs| *crs != CRS84) {
        return Err(ApiError::bad_request(format!("the 'crs' '{crs}' is not supported: use {CRS84}")));
    }
    if let Some(crs) = request.params.get("bbox-crs").filter(|crs| *crs != CRS84) {
        return Err(ApiError::bad_request(format!("the 'bbox-crs' '{crs}' is not supported: use {CRS84}")));
    }
    let Some(text) = request.params.get("bbox").filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    let invalid = |why: &str| ApiError::bad_request(format!("the 'bbox' parameter '{text}' is invalid: {why}"));
    let numbers: Vec<f64> = text
        .split(',')
        .map(|part| part.trim().parse::<f64>().ok().filter(|number| number.is_finite()))
        .collect::<Option<_>>()
        .ok_or_else(|| invalid("it takes 4 (or 6) numbers"))?;
    let (west, south, east, north) = match numbers[..] {
        [west, south, east, north] | [west, south, _, east, north, _] => (west, south, east, north),
        _ => return Err(invalid("it takes 4 (or 6) numbers")),
    };
    if !(-90.0..=90.0).contains(&south) || !(-90.0..=90.0).contains(&north) || south > north {
        return Err(invalid("latitudes must lie in -90..90, the lower one first"));
    }
    if !(-180.0..=180.0).contains(&west) || !(-180.0..=180.0).contains(&east) {
        return Err(invalid("longitudes must lie in -180..180"));
    }
    Ok(Some(SpatialFilter::Bbox { south, west, north, east }))
}

/// The `filter`, `datetime` and property-equality conditions as one predicate.
fn predicate(request: &OgcRequest<'_>, schema: &Schema, limits: &QueryLimits) -> Result<Option<Predicate>, ApiError> {
    let mut parts = Vec::new();
    if let Some(text) = request.params.get("filter").filter(|text| !text.trim().is_empty()) {
        match request.params.get("filter-lang").map(str::to_ascii_lowercase).as_deref() {
            // `cql-text`: the draft's name, which GDAL's OAPIF driver sends.
            None | Some("cql2-text" | "cql-text") => {}
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "the 'filter-lang' '{other}' is not supported: use cql2-text"
                )))
            }
        }
        if let Some(crs) = request.params.get("filter-crs").filter(|crs| *crs != CRS84) {
            return Err(ApiError::bad_request(format!("the 'filter-crs' '{crs}' is not supported: use {CRS84}")));
        }
        let compiled = sds_query::cql2::compile(text, schema, limits)
            .map_err(|error| ApiError::bad_request(format!("filter: {error}")))?;
        parts.push(compiled);
    }
    if let Some(text) = request.params.get("datetime").filter(|text| !text.is_empty()) {
        parts.push(datetime(text, schema)?);
    }
    for (name, value) in request.params.pairs() {
        if RESERVED.contains(&name) {
            continue;
        }
        let Some(index) = schema.property_index(name) else {
            return Err(ApiError::bad_request(format!(
                "unknown parameter '{name}': it is neither a parameter of this API nor a property of the collection"
            )));
        };
        let property = &schema.properties[index];
        let literal = match property.edm_type {
            EdmType::String => Literal::String(value.to_owned()),
            EdmType::Int64 | EdmType::Double => Literal::Number(value.to_owned()),
            EdmType::Boolean => match value.to_ascii_lowercase().as_str() {
                "true" => Literal::Boolean(true),
                "false" => Literal::Boolean(false),
                _ => Literal::String(value.to_owned()),
            },
            EdmType::DateTime => Literal::DateTime(value.to_owned()),
            EdmType::Geography => {
                return Err(ApiError::bad_request(format!("'{}' is a geography: filter it with bbox", property.name)))
            }
        };
        let expr = Expr::Compare {
            property: Located { value: property.name.clone(), span: 0..0 },
            op: CompareOp::Eq,
            literal: Located { value: literal, span: 0..0 },
        };
        let compiled = compile(&expr, schema, value, limits.max_ids)
            .map_err(|error| ApiError::bad_request(format!("the '{}' parameter: {}", property.name, error.message)))?;
        parts.push(compiled);
    }
    Ok(match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Predicate::And(
            parts
                .into_iter()
                .flat_map(|part| match part {
                    Predicate::And(inner) => inner,
                    other => vec![other],
                })
                .collect(),
        )),
    })
}

/// `datetime` (OGC 17-069r4 §7.15.4): an instant or an interval
/// `start/end` with `..` (or nothing) for an open end, on the first
/// DateTime property; a date alone is that day's first instant (UTC).
fn datetime(text: &str, schema: &Schema) -> Result<Predicate, ApiError> {
    let column = temporal_property(schema).ok_or_else(|| {
        ApiError::bad_request("the 'datetime' parameter needs a DateTime property, and this collection has none")
    })?;
    let name = schema.properties[column].name.clone();
    let instant = |value: &str| {
        let value = value.trim();
        if value.len() == 10 {
            format!("{value}T00:00:00Z")
        } else {
            value.to_owned()
        }
    };
    let compare = |op: CompareOp, value: &str| Expr::Compare {
        property: Located { value: name.clone(), span: 0..0 },
        op,
        literal: Located { value: Literal::DateTime(instant(value)), span: 0..0 },
    };
    let open = |value: &str| value.trim().is_empty() || value.trim() == "..";
    let expr = match text.split_once('/') {
        None => compare(CompareOp::Eq, text),
        Some((start, end)) => match (open(start), open(end)) {
            (true, true) => return Err(ApiError::bad_request("the 'datetime' interval '../..' has no end at all")),
            (false, true) => compare(CompareOp::Ge, start),
            (true, false) => compare(CompareOp::Le, end),
            (false, false) => Expr::And(Box::new(compare(CompareOp::Ge, start)), Box::new(compare(CompareOp::Le, end))),
        },
    };
    compile(&expr, schema, text, 0)
        .map_err(|error| ApiError::bad_request(format!("the 'datetime' parameter '{text}': {}", error.message)))
}
