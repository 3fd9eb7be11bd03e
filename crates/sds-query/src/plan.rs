//! A query: the OData options and the spatial filter, validated and
//! compiled against a schema once ([`Query::compile`]), then run on a
//! [`Table`] ([`Query::execute`]).
//!
//! Execution picks its candidates from the cheapest source (for a spatial
//! filter, the point grid for entities without a geography and the R-tree
//! for those with one, which are tested through their geography, SPEC §5;
//! a string index for an `eq`/`in`/`startswith` conjunct of the filter, a
//! column index for comparisons on one other property (`column_index`);
//! else every row), tests the rest of the filter on each, then orders and
//! pages. With the default entity-ID order, rows streamed
//! in row order stop as soon as a page is full (unless a count is wanted).

use std::cmp::Ordering;

use sds_core::Schema;

use crate::collect::Collector;
use crate::eval::{compile, Predicate};
use crate::fields::Field;
use crate::filter;
use crate::options::{parse_count, parse_orderby, parse_select};
use crate::rowfilter::{RowFilter, Source};
use crate::spatial::reach;
pub use crate::spatial::reach::distance_to_route;
use crate::spatial::sphere::{circle_boxes, distance_km, lon_range_boxes, LonLatBox};
use crate::spatial::{Shape, SpatialFilter, ROUTE_BUFFER_KM};
use crate::table::{Cell, Table};
use crate::QueryError;

/// The limits SDS documents; configurable for benchmarks and tests.
#[derive(Clone, Copy, Debug)]
pub struct QueryLimits {
    pub default_top: usize,
    pub max_top: usize,
    pub max_orderby: usize,
    pub max_ids: usize,
    /// Points of an `intersects` or `intersection` geography.
    pub max_shape_points: usize,
}

impl Default for QueryLimits {
    fn default() -> Self {
        QueryLimits { default_top: 25, max_top: 250, max_orderby: 3, max_ids: 50, max_shape_points: 250 }
    }
}

/// The query options of a request, as sent.
#[derive(Clone, Copy, Debug, Default)]
pub struct QueryOptions<'a> {
    pub spatial_filter: Option<&'a str>,
    pub filter: Option<&'a str>,
    pub select: Option<&'a str>,
    pub orderby: Option<&'a str>,
    pub top: Option<&'a str>,
    pub skip: Option<&'a str>,
    pub inline_count: Option<&'a str>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OrderKey {
    pub field: Field,
    pub descending: bool,
}

#[derive(Debug)]
pub struct Query {
    /// Replace a `NearbyAddress` or `NearRoute` with its resolved form before executing.
    pub spatial: Option<SpatialFilter>,
    pub predicate: Option<Predicate>,
    pub select: Vec<Field>,
    /// The `intersection('WKT')` shape of `$select`.
    pub intersection: Option<Shape>,
    pub order: Vec<OrderKey>,
    pub top: usize,
    pub skip: usize,
    pub inline_count: bool,
}

/// One result row; `distance` is NaN when the query has no distance.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    pub row: u32,
    pub distance: f64,
}

#[derive(Debug, Default)]
pub struct QueryResult {
    pub hits: Vec<Hit>,
    /// Matches before paging, with `$inlinecount=allpages`.
    pub total: Option<usize>,
}

/// Candidates from more than one in this many rows are "dense": a page in
/// row order is likely found sooner by scanning rows in order than by
/// reading them all.
const DENSE_SHARE: usize = 8;

fn invalid(message: impl Into<String>) -> QueryError {
    QueryError::Invalid(message.into())
}

impl Query {
    pub fn compile(schema: &Schema, options: &QueryOptions<'_>, limits: &QueryLimits) -> Result<Query, QueryError> {
        let spatial = match options.spatial_filter.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => Some(SpatialFilter::parse(text, limits.max_shape_points)?),
            None => None,
        };
        let predicate = match options.filter.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => {
                let expr = filter::parse(text).map_err(|error| invalid(error.to_string()))?;
                Some(compile(&expr, schema, text, limits.max_ids).map_err(|error| invalid(error.to_string()))?)
            }
            None => None,
        };
        let has_distance = matches!(
            spatial,
            Some(
                SpatialFilter::Nearby { .. }
                    | SpatialFilter::NearbyAddress { .. }
                    | SpatialFilter::Bbox { .. }
                    | SpatialFilter::NearRoute { .. }
                    | SpatialFilter::Route { .. }
            )
        );
        let (select, intersection) = parse_select(schema, options.select, has_distance, limits)?;
        let order = parse_orderby(schema, options.orderby, has_distance, limits)?;
        let top = match options.top.map(str::trim).filter(|text| !text.is_empty()) {
            // More than the maximum is clamped: the toolkit sends larger values.
            Some(text) => parse_count(text, "$top")?.min(limits.max_top),
            None => limits.default_top,
        };
        let skip = match options.skip.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => parse_count(text, "$skip")?,
            None => 0,
        };
        let inline_count = match options.inline_count.map(|text| text.trim().to_ascii_lowercase()).as_deref() {
            None | Some("") | Some("none") => false,
            Some("allpages") => true,
            Some(other) => return Err(invalid(format!("$inlinecount '{other}' is invalid: use allpages or none"))),
        };
        Ok(Query { spatial, predicate, select, intersection, order, top, skip, inline_count })
    }

    /// Runs the query. A `NearbyAddress` or `NearRoute` that was not
    /// resolved is an error.
    pub fn execute(&self, table: &Table) -> Result<QueryResult, QueryError> {
        let wanted = self.skip.saturating_add(self.top);
        let mut hits = Vec::new();
        let row_order = self.order.is_empty()
            && !matches!(self.spatial, Some(SpatialFilter::Nearby { .. } | SpatialFilter::Route { .. }));
        let filter = RowFilter::new(table, self.predicate.as_ref(), self.spatial.is_none());
        match &self.spatial {
            None => {
                let stop_early = row_order && !self.inline_count;
                let collect_all = !self.order.is_empty();
                let mut total = 0;
                let mut visit = |row: u32| {
                    total += 1;
                    if collect_all || hits.len() < wanted {
                        hits.push(Hit { row, distance: f64::NAN });
                    }
                    !(stop_early && hits.len() >= wanted)
                };
                match &filter.source {
                    // Every listed row matches: count them without visiting.
                    Some(Source::Sorted(rows)) if filter.complete && !collect_all => {
                        total = rows.len();
                        hits.extend(rows.iter().take(wanted).map(|&row| Hit { row, distance: f64::NAN }));
                    }
                    Some(Source::Sorted(rows)) => {
                        for &row in *rows {
                            if filter.matches(row) && !visit(row) {
                                break;
                            }
                        }
                    }
                    Some(Source::Slices(slices)) => {
                        let candidates: usize = slices.iter().map(|slice| slice.len()).sum();
                        let mut done = false;
                        // Many candidates, a page in row order and no count
                        // to make (or one the index gives): a scan in row
                        // order usually fills the page after a few rows. It
                        // gives up after a quarter as many rows as there are
                        // candidates (the matches bunch up at the end), and
                        // the candidates are read instead.
                        if row_order
                            && (filter.complete || !self.inline_count)
                            && candidates.saturating_mul(DENSE_SHARE) > table.len()
                        {
                            let limit = (candidates / 4).min(table.len());
                            for row in 0..limit as u32 {
                                if hits.len() >= wanted {
                                    break;
                                }
                                if filter.matches_all(row) {
                                    hits.push(Hit { row, distance: f64::NAN });
                                }
                            }
                            done = hits.len() >= wanted || limit == table.len();
                            total = candidates;
                        }
                        if !done {
                            // `page` orders what is kept, so no sort here.
                            let mut collector = if row_order { Collector::smallest(wanted) } else { Collector::all() };
                            let mut matching = 0;
                            for &row in slices.iter().flat_map(|slice| slice.iter()) {
                                // A complete source needs no test; a count needs every test.
                                let keep = if filter.complete {
                                    collector.admits(row)
                                } else {
                                    (self.inline_count || collector.admits(row)) && filter.matches(row)
                                };
                                if keep {
                                    matching += 1;
                                    collector.push(Hit { row, distance: f64::NAN });
                                }
                            }
                            total = if filter.complete { candidates } else { matching };
                            hits = collector.into_hits();
                        }
                    }
                    None => {
                        for row in 0..table.len() as u32 {
                            if filter.matches(row) && !visit(row) {
                                break;
                            }
                        }
                    }
                }
                if self.order.is_empty() {
                    return Ok(self.page(hits, self.inline_count.then_some(total), |_, _| Ordering::Equal));
                }
            }
            Some(SpatialFilter::Nearby { latitude, longitude, radius_km }) => {
                let boxes = circle_boxes(*latitude, *longitude, *radius_km);
                for area in &boxes {
                    table.point_cells(area, |cell| {
                        for index in 0..cell.rows.len() {
                            let (lon, lat) = (cell.longitudes[index], cell.latitudes[index]);
                            if !cell.inside && !area.contains(lon, lat) {
                                continue;
                            }
                            let distance = distance_km(*latitude, *longitude, lat, lon);
                            if distance <= *radius_km && filter.matches(cell.rows[index]) {
                                hits.push(Hit { row: cell.rows[index], distance });
                            }
                        }
                    });
                }
                // Entities with a geography: 0 inside it, else to its nearest edge.
                for row in table.shapes_meeting_any(&boxes) {
                    let Some(geometry) = table.geometry(row) else { continue };
                    let distance = reach::point_distance_km(geometry, *latitude, *longitude);
                    if distance <= *radius_km && filter.matches(row) {
                        hits.push(Hit { row, distance });
                    }
                }
            }
            Some(SpatialFilter::Bbox { south, west, north, east }) => {
                let east = if west > east { east + 360.0 } else { *east };
                let origin = self.spatial.as_ref().and_then(SpatialFilter::distance_origin);
                let wants_distance = self.uses_distance();
                // A count in entity-ID order tests every row in the box but
                // keeps only the page's smallest rows: no vector of every
                // match to fill and sort (an OGC API – Features page always
                // counts its `numberMatched`).
                let counting = self.inline_count && row_order;
                let mut collector =
                    if counting { Collector::smallest(wanted) } else { self.collector(row_order, wanted) };
                let mut matched = 0;
                let passes_all = filter.passes_all();
                let boxes = lon_range_boxes(*west, east, *south, *north);
                for area in &boxes {
                    table.point_cells(area, |cell| {
                        // A cell inside the box, with no filter: all its rows
                        // count, and only the page's smallest need a visit.
                        let counted_whole = counting && cell.inside && passes_all;
                        if counted_whole {
                            matched += cell.rows.len();
                        }
                        for index in 0..cell.rows.len() {
                            let (lon, lat, row) = (cell.longitudes[index], cell.latitudes[index], cell.rows[index]);
                            // A cell's rows ascend: none after this one can enter.
                            if (!counting || counted_whole) && !collector.admits(row) {
                                break;
                            }
                            if counted_whole {
                                let distance = match origin {
                                    Some((origin_lat, origin_lon)) if wants_distance => {
                                        distance_km(origin_lat, origin_lon, lat, lon)
                                    }
                                    _ => f64::NAN,
                                };
                                collector.push(Hit { row, distance });
                                continue;
                            }
                            if (cell.inside || area.contains(lon, lat)) && filter.matches(row) {
                                matched += 1;
                                if !collector.admits(row) {
                                    continue;
                                }
                                let distance = match origin {
                                    Some((origin_lat, origin_lon)) if wants_distance => {
                                        distance_km(origin_lat, origin_lon, lat, lon)
                                    }
                                    _ => f64::NAN,
                                };
                                collector.push(Hit { row, distance });
                            }
                        }
                    });
                }
                // Entities with a geography that touches the box; `__Distance`
                // from the box's centre to it.
                for row in table.shapes_meeting_any(&boxes) {
                    // Candidates ascend: none after this one can enter.
                    if !counting && !collector.admits(row) {
                        break;
                    }
                    let Some(geometry) = table.geometry(row) else { continue };
                    if reach::touches_boxes(geometry, &boxes) && filter.matches(row) {
                        matched += 1;
                        if !collector.admits(row) {
                            continue;
                        }
                        let distance = match origin {
                            Some((origin_lat, origin_lon)) if wants_distance => {
                                reach::point_distance_km(geometry, origin_lat, origin_lon)
                            }
                            _ => f64::NAN,
                        };
                        collector.push(Hit { row, distance });
                    }
                }
                hits = collector.into_hits();
                if counting {
                    return Ok(self.page(hits, Some(matched), |_, _| Ordering::Equal));
                }
            }
            Some(SpatialFilter::Intersects(shape)) => {
                let mut collector = self.collector(row_order, wanted);
                // Each part's own box: a country with islands on both sides
                // of the antimeridian would otherwise span the whole globe.
                let part_boxes = shape.part_bounds();
                for (part_index, part) in part_boxes.iter().enumerate() {
                    // A point belongs to the first part box holding it, so
                    // overlapping boxes never report it twice.
                    let owns = |lon: f64, lat: f64| {
                        part.contains(lon, lat) && !part_boxes[..part_index].iter().any(|box_| box_.contains(lon, lat))
                    };
                    table.point_cells(part, |cell| {
                        // Rows ascend in a cell: skip it whole when its first can't enter.
                        if !collector.admits(cell.rows[0]) {
                            return;
                        }
                        // A cell wholly inside or outside the shape needs no
                        // per-point test (worth it only for a few points).
                        let class = if cell.rows.len() >= 4 { shape.classify_rect(&widen(&cell.rect)) } else { None };
                        if class == Some(false) {
                            return;
                        }
                        for index in 0..cell.rows.len() {
                            let (lon, lat, row) = (cell.longitudes[index], cell.latitudes[index], cell.rows[index]);
                            if !collector.admits(row) {
                                break;
                            }
                            // (Entities with a geography are not in the grid: see below.)
                            if !owns(lon, lat) {
                                continue;
                            }
                            let touches = class == Some(true) || shape.intersects_point(lon, lat);
                            if touches && filter.matches(row) {
                                collector.push(Hit { row, distance: f64::NAN });
                            }
                        }
                    });
                }
                table.shapes_meeting(&shape.bounds, &mut |row| {
                    if collector.admits(row)
                        && table.geometry(row).is_some_and(|geometry| shape.intersects_geometry(geometry))
                        && filter.matches(row)
                    {
                        collector.push(Hit { row, distance: f64::NAN });
                    }
                });
                hits = collector.into_hits();
            }
            Some(SpatialFilter::Route { points }) => {
                let boxes = route_boxes(points);
                for area in &boxes {
                    table.points_in(area, &mut |row| {
                        let distance = distance_to_route(points, table.latitude(row), table.longitude(row));
                        if distance <= ROUTE_BUFFER_KM && filter.matches(row) {
                            hits.push(Hit { row, distance });
                        }
                    });
                }
                for row in table.shapes_meeting_any(&boxes) {
                    let Some(geometry) = table.geometry(row) else { continue };
                    let distance = reach::route_distance_km(geometry, points);
                    if distance <= ROUTE_BUFFER_KM && filter.matches(row) {
                        hits.push(Hit { row, distance });
                    }
                }
                // Boxes may overlap: keep one hit per row.
                hits.sort_unstable_by_key(|hit| hit.row);
                hits.dedup_by_key(|hit| hit.row);
            }
            Some(SpatialFilter::NearbyAddress { .. } | SpatialFilter::NearRoute { .. }) => {
                return Err(invalid("the spatial filter needs a geocoder or router, which is not configured"));
            }
        }
        let total = self.inline_count.then_some(hits.len());
        // nearRoute lists its matches in entity-ID order, as both of the
        // docs' route examples do (query-near-route.md, and
        // traffic-incident-data-source.md); only nearby sorts by distance.
        let by_distance = matches!(self.spatial, Some(SpatialFilter::Nearby { .. }));
        if !self.order.is_empty() {
            let order = &self.order;
            // Equal `$orderby` keys keep the filter's own order: the
            // query-by-property page's examples list them nearest first.
            return Ok(self.page(hits, total, |a, b| {
                let by_keys = compare_keys(table, order, a, b);
                if by_distance {
                    by_keys.then(a.distance.total_cmp(&b.distance))
                } else {
                    by_keys
                }
            }));
        }
        if by_distance {
            return Ok(self.page(hits, total, |a, b| a.distance.total_cmp(&b.distance)));
        }
        Ok(self.page(hits, total, |_, _| Ordering::Equal))
    }

    /// In entity-ID order without a count, only the `wanted` smallest rows
    /// are kept (and scans stop early); otherwise every match.
    fn collector(&self, row_order: bool, wanted: usize) -> Collector {
        if row_order && !self.inline_count {
            Collector::smallest(wanted)
        } else {
            Collector::all()
        }
    }

    fn uses_distance(&self) -> bool {
        self.select.contains(&Field::Distance) || self.order.iter().any(|key| key.field == Field::Distance)
    }

    /// Orders by `compare` then row, keeps `skip..skip+top`.
    fn page(&self, mut hits: Vec<Hit>, total: Option<usize>, compare: impl Fn(&Hit, &Hit) -> Ordering) -> QueryResult {
        let full = |a: &Hit, b: &Hit| compare(a, b).then(a.row.cmp(&b.row));
        let wanted = self.skip.saturating_add(self.top);
        if hits.len() > wanted && wanted > 0 {
            hits.select_nth_unstable_by(wanted - 1, full);
        }
        hits.truncate(wanted);
        hits.sort_unstable_by(full);
        let hits = if self.skip >= hits.len() { Vec::new() } else { hits.split_off(self.skip) };
        QueryResult { hits, total }
    }
}

/// A cell's rectangle grown by a hair, so that rounding in the grid's
/// arithmetic cannot leave one of its points outside when it is classified.
fn widen(rect: &LonLatBox) -> LonLatBox {
    const SLACK: f64 = 1e-9;
    LonLatBox {
        min_lon: rect.min_lon - SLACK,
        min_lat: rect.min_lat - SLACK,
        max_lon: rect.max_lon + SLACK,
        max_lat: rect.max_lat + SLACK,
    }
}

fn compare_keys(table: &Table, order: &[OrderKey], a: &Hit, b: &Hit) -> Ordering {
    for key in order {
        let ordering = match key.field {
            Field::Distance => a.distance.total_cmp(&b.distance),
            Field::Property(column) => compare_cells(table.cell(column, a.row), table.cell(column, b.row)),
            Field::Latitude => table.latitude(a.row).total_cmp(&table.latitude(b.row)),
            Field::Longitude => table.longitude(a.row).total_cmp(&table.longitude(b.row)),
            Field::IntersectedGeom => Ordering::Equal,
        };
        let ordering = if key.descending { ordering.reverse() } else { ordering };
        if ordering.is_ne() {
            return ordering;
        }
    }
    Ordering::Equal
}

/// Nulls first, strings case-insensitively.
fn compare_cells(a: Cell<'_>, b: Cell<'_>) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Less,
        (_, Cell::Null) => Ordering::Greater,
        (Cell::String(x), Cell::String(y)) => crate::fold::fold(x).cmp(&crate::fold::fold(y)),
        (Cell::Int64(x), Cell::Int64(y)) => x.cmp(&y),
        (Cell::Double(x), Cell::Double(y)) => x.total_cmp(&y),
        (Cell::Boolean(x), Cell::Boolean(y)) => x.cmp(&y),
        (Cell::DateTime(x), Cell::DateTime(y)) => x.cmp(&y),
        _ => Ordering::Equal,
    }
}

/// Boxes around each route segment (or the single point), widened by the buffer.
fn route_boxes(points: &[(f64, f64)]) -> Vec<LonLatBox> {
    let pad_lat = (ROUTE_BUFFER_KM / crate::spatial::sphere::EARTH_RADIUS_KM).to_degrees();
    let segments: Vec<((f64, f64), (f64, f64))> = match points {
        [] => Vec::new(),
        [single] => vec![(*single, *single)],
        _ => points.windows(2).map(|pair| (pair[0], pair[1])).collect(),
    };
    let mut boxes = Vec::new();
    for ((lat_a, lon_a), (lat_b, lon_b)) in segments {
        let max_abs_lat = lat_a.abs().max(lat_b.abs()) + pad_lat;
        let pad_lon = if max_abs_lat >= 89.0 { 360.0 } else { pad_lat / max_abs_lat.to_radians().cos() };
        let (south, north) = ((lat_a.min(lat_b) - pad_lat).max(-90.0), (lat_a.max(lat_b) + pad_lat).min(90.0));
        boxes.extend(lon_range_boxes(lon_a.min(lon_b) - pad_lon, lon_a.max(lon_b) + pad_lon, south, north));
    }
    boxes
}
