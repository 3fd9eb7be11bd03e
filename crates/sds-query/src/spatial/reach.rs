//! How far an entity's geography is from the query's point, box or route,
//! in km on the SDS sphere ([`super::sphere`]). SPEC §5: every spatial
//! filter tests an entity's geography when it has one (SDS ran on SQL
//! Server `geography`, whose `STDistance` is 0 for a point inside a
//! polygon and otherwise the distance to its nearest edge).
//!
//! Geographies are read as `intersects` reads them (`shape.rs`): edges are
//! straight in longitude/latitude, containment and touching are planar
//! (`geo`), so that an entity `intersects` finds with a point is also at
//! distance 0 from it. The distance to an edge is the great-circle
//! distance to the edge's point nearest the query point in an
//! equirectangular frame centred on it, which is exact along the edge's
//! direction for the short distances the filters allow (≤ 1000 km) and
//! never smaller than the true distance.

use geo::{CoordsIter, Geometry, Intersects, LineString, Point, Rect};

use super::sphere::{distance_km, LonLatBox, EARTH_RADIUS_KM};

/// Distance in km from (`latitude`, `longitude`) to a geography: 0 when a
/// polygon of it contains the point (boundary included), else the distance
/// to its nearest point, edge or vertex.
pub fn point_distance_km(geometry: &Geometry<f64>, latitude: f64, longitude: f64) -> f64 {
    if covers_point(geometry, latitude, longitude) {
        return 0.0;
    }
    let mut best = f64::INFINITY;
    for_each_segment(geometry, &mut |start, end| {
        best = best.min(segment_distance_km(latitude, longitude, start, end));
    });
    best
}

/// Whether a geography touches any of the boxes (a bbox split at the
/// antimeridian is two boxes).
pub fn touches_boxes(geometry: &Geometry<f64>, boxes: &[LonLatBox]) -> bool {
    boxes.iter().any(|area| geometry.intersects(&Rect::new((area.min_lon, area.min_lat), (area.max_lon, area.max_lat))))
}

/// Distance in km from a route, as (latitude, longitude) points, to a
/// geography: 0 when the route touches it, else the smallest distance
/// between a vertex of one and the other (for segments that do not cross,
/// the closest pair always has a vertex in it).
pub fn route_distance_km(geometry: &Geometry<f64>, points: &[(f64, f64)]) -> f64 {
    let route = LineString::from(points.iter().map(|&(lat, lon)| (lon, lat)).collect::<Vec<_>>());
    let touches = match points {
        [] => return f64::INFINITY,
        [(lat, lon)] => geometry.intersects(&Point::new(*lon, *lat)),
        _ => geometry.intersects(&route),
    };
    if touches {
        return 0.0;
    }
    let from_route = points.iter().map(|&(lat, lon)| point_distance_km(geometry, lat, lon));
    let from_geometry = geometry.coords_iter().map(|coord| distance_to_route(points, coord.y, coord.x));
    from_route.chain(from_geometry).fold(f64::INFINITY, f64::min)
}

/// Shortest distance in km from a point to a polyline of (latitude,
/// longitude) points, on the sphere (cross-track distance where the foot
/// falls inside a segment, else the nearer end).
pub fn distance_to_route(points: &[(f64, f64)], latitude: f64, longitude: f64) -> f64 {
    let mut best = f64::INFINITY;
    for (index, &(lat, lon)) in points.iter().enumerate() {
        best = best.min(distance_km(lat, lon, latitude, longitude));
        if let Some(&(next_lat, next_lon)) = points.get(index + 1) {
            best = best.min(cross_track_km((lat, lon), (next_lat, next_lon), (latitude, longitude)));
        }
    }
    best
}

fn cross_track_km(a: (f64, f64), b: (f64, f64), p: (f64, f64)) -> f64 {
    const R: f64 = EARTH_RADIUS_KM;
    let d_ap = distance_km(a.0, a.1, p.0, p.1) / R;
    let d_ab = distance_km(a.0, a.1, b.0, b.1) / R;
    if d_ab == 0.0 {
        return d_ap * R;
    }
    let bearing = |from: (f64, f64), to: (f64, f64)| {
        let (phi1, phi2) = (from.0.to_radians(), to.0.to_radians());
        let d_lambda = (to.1 - from.1).to_radians();
        (d_lambda.sin() * phi2.cos()).atan2(phi1.cos() * phi2.sin() - phi1.sin() * phi2.cos() * d_lambda.cos())
    };
    let cross_track = (d_ap.sin() * (bearing(a, p) - bearing(a, b)).sin()).asin();
    let along_track = (d_ap.cos() / cross_track.cos()).clamp(-1.0, 1.0).acos();
    if (bearing(a, p) - bearing(a, b)).cos() < 0.0 || along_track > d_ab {
        return f64::INFINITY;
    }
    cross_track.abs() * R
}

/// Whether a polygon of the geography contains the point, or a point or
/// line of it passes through it.
fn covers_point(geometry: &Geometry<f64>, latitude: f64, longitude: f64) -> bool {
    geometry.intersects(&Point::new(longitude, latitude))
}

/// Calls `visit` with each edge of the geography as ((lon, lat), (lon, lat));
/// a point is an edge of length 0.
fn for_each_segment(geometry: &Geometry<f64>, visit: &mut impl FnMut((f64, f64), (f64, f64))) {
    let mut line = |line_string: &LineString<f64>| {
        if line_string.0.len() == 1 {
            let only = line_string.0[0];
            visit((only.x, only.y), (only.x, only.y));
        }
        for segment in line_string.lines() {
            visit((segment.start.x, segment.start.y), (segment.end.x, segment.end.y));
        }
    };
    match geometry {
        Geometry::Point(point) => visit((point.x(), point.y()), (point.x(), point.y())),
        Geometry::MultiPoint(points) => {
            points.iter().for_each(|point| visit((point.x(), point.y()), (point.x(), point.y())))
        }
        Geometry::Line(segment) => visit((segment.start.x, segment.start.y), (segment.end.x, segment.end.y)),
        Geometry::LineString(line_string) => line(line_string),
        Geometry::MultiLineString(lines) => lines.iter().for_each(line),
        Geometry::Polygon(polygon) => {
            line(polygon.exterior());
            polygon.interiors().iter().for_each(line);
        }
        Geometry::MultiPolygon(polygons) => {
            for polygon in polygons {
                line(polygon.exterior());
                polygon.interiors().iter().for_each(&mut line);
            }
        }
        Geometry::Rect(rect) => for_each_segment(&Geometry::Polygon(rect.to_polygon()), visit),
        Geometry::Triangle(triangle) => for_each_segment(&Geometry::Polygon(triangle.to_polygon()), visit),
        Geometry::GeometryCollection(members) => members.iter().for_each(|member| for_each_segment(member, visit)),
    }
}

/// Great-circle distance in km from (latitude, longitude) to the point of
/// a lon/lat edge nearest to it in an equirectangular frame centred on it.
fn segment_distance_km(latitude: f64, longitude: f64, start: (f64, f64), end: (f64, f64)) -> f64 {
    // Move the edge a whole turn east or west when that brings it next to
    // the point (an edge at 179.9° is near a point at -179.9°).
    let shift = (((start.0 + end.0) / 2.0 - longitude) / 360.0).round() * 360.0;
    let (x1, x2) = (start.0 - shift, end.0 - shift);
    let scale = latitude.to_radians().cos().max(1e-9);
    let (ax, ay) = ((x1 - longitude) * scale, start.1 - latitude);
    let (dx, dy) = ((x2 - x1) * scale, end.1 - start.1);
    let length_squared = dx * dx + dy * dy;
    let t = if length_squared > 0.0 { (-(ax * dx + ay * dy) / length_squared).clamp(0.0, 1.0) } else { 0.0 };
    distance_km(latitude, longitude, start.1 + t * (end.1 - start.1), x1 + t * (x2 - x1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn geometry(text: &str) -> Geometry<f64> {
        wkt::Wkt::from_str(text).unwrap().try_into().unwrap()
    }

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "{actual} vs {expected}");
    }

    #[test]
    fn inside_a_polygon_is_zero_outside_is_the_nearest_edge() {
        let square = geometry("POLYGON((0 0, 2 0, 2 2, 0 2, 0 0), (0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5))");
        assert_eq!(point_distance_km(&square, 0.25, 1.0), 0.0, "inside");
        assert_eq!(point_distance_km(&square, 0.0, 1.0), 0.0, "on the boundary");
        // In the hole: 0.5° of longitude at 1°N to its west (and east) edge,
        // a little nearer than 0.5° of latitude to its south edge.
        close(point_distance_km(&square, 1.0, 1.0), distance_km(1.0, 1.0, 1.0, 0.5), 1e-9);
        assert!(distance_km(1.0, 1.0, 1.0, 0.5) < EARTH_RADIUS_KM * 0.5f64.to_radians());
        // West of the square on the equator: 1° of longitude to the west edge.
        close(point_distance_km(&square, 1.0, -1.0), distance_km(1.0, -1.0, 1.0, 0.0), 1e-9);
        // South-west of it: the corner is the nearest point.
        close(point_distance_km(&square, -1.0, -1.0), distance_km(-1.0, -1.0, 0.0, 0.0), 1e-9);
    }

    #[test]
    fn lines_points_and_the_antimeridian() {
        let line = geometry("LINESTRING(10 10, 12 10)");
        close(point_distance_km(&line, 10.5, 11.0), EARTH_RADIUS_KM * 0.5f64.to_radians(), 1e-6);
        assert_eq!(point_distance_km(&geometry("POINT(3 4)"), 4.0, 3.0), 0.0);
        let east = geometry("POLYGON((179 -1, 180 -1, 180 1, 179 1, 179 -1))");
        close(point_distance_km(&east, 0.0, -179.5), distance_km(0.0, -179.5, 0.0, 180.0), 1e-9);
    }

    #[test]
    fn boxes_touch_polygons_that_contain_cross_or_hold_them() {
        let boxed = |min_lon, min_lat, max_lon, max_lat| vec![LonLatBox { min_lon, min_lat, max_lon, max_lat }];
        let square = geometry("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))");
        assert!(touches_boxes(&square, &boxed(4.0, 4.0, 5.0, 5.0)), "box inside");
        assert!(touches_boxes(&square, &boxed(-5.0, -5.0, 20.0, 20.0)), "box around");
        assert!(touches_boxes(&square, &boxed(9.0, 9.0, 11.0, 11.0)), "crossing");
        assert!(!touches_boxes(&square, &boxed(11.0, 0.0, 12.0, 1.0)));
        let diagonal = geometry("LINESTRING(0 0, 10 10)");
        assert!(!touches_boxes(&diagonal, &boxed(6.0, 0.0, 10.0, 4.0)), "inside the line's box, off the line");
    }

    #[test]
    fn routes_reach_polygons_they_cross_or_pass() {
        let square = geometry("POLYGON((0 0, 1 0, 1 1, 0 1, 0 0))");
        assert_eq!(route_distance_km(&square, &[(0.5, -1.0), (0.5, 2.0)]), 0.0, "crosses");
        // Passing 0.01° south of the square's south edge.
        close(route_distance_km(&square, &[(-0.01, -1.0), (-0.01, 2.0)]), EARTH_RADIUS_KM * 0.01f64.to_radians(), 1e-3);
    }
}
