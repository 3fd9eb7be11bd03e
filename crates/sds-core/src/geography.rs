//! Edm.Geography values: WKT in `lon lat` order, validated the way SQL
//! Server's geography type (behind SDS) would refuse bad input: syntax,
//! coordinate ranges, closed rings and a point budget.

use std::str::FromStr;

use geo::{BoundingRect, Centroid};
use serde::{Deserialize, Serialize};

/// Most points one geography may hold.
pub const MAX_GEOGRAPHY_POINTS: usize = 100_000;

/// A longitude/latitude rectangle (degrees).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub min_longitude: f64,
    pub min_latitude: f64,
    pub max_longitude: f64,
    pub max_latitude: f64,
}

/// A parsed, validated geography.
#[derive(Clone, Debug)]
pub struct Geography {
    pub geometry: geo::Geometry<f64>,
    pub point_count: usize,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeographyError {
    #[error("{0}")]
    Syntax(String),
    #[error("the geography is empty")]
    Empty,
    #[error(
        "coordinate ({longitude} {latitude}) is out of range: longitude must be within ±180 and latitude within ±90"
    )]
    OutOfRange { longitude: f64, latitude: f64 },
    #[error("a polygon ring is not closed: its first and last points differ")]
    RingNotClosed,
    #[error("a polygon ring has {0} points; a ring needs at least 4")]
    RingTooShort(usize),
    #[error("the geography has more than {MAX_GEOGRAPHY_POINTS} points")]
    TooManyPoints,
}

impl Geography {
    pub fn parse(text: &str) -> Result<Geography, GeographyError> {
        let parsed =
            wkt::Wkt::<f64>::from_str(text.trim()).map_err(|error| GeographyError::Syntax(error.to_string()))?;
        let mut point_count = 0;
        check_wkt(&parsed, &mut point_count)?;
        if point_count == 0 {
            return Err(GeographyError::Empty);
        }
        let geometry =
            geo::Geometry::<f64>::try_from(parsed).map_err(|error| GeographyError::Syntax(error.to_string()))?;
        Ok(Geography { geometry, point_count })
    }

    /// The planar centroid (as SQL Server's `STCentroid` on the WKT), as
    /// `(latitude, longitude)`. Lines weigh by length, points by count.
    pub fn centroid(&self) -> (f64, f64) {
        let point = self.geometry.centroid().expect("a validated geography has at least one point");
        (point.y(), point.x())
    }

    pub fn bounds(&self) -> Bounds {
        let rect = self.geometry.bounding_rect().expect("a validated geography has at least one point");
        Bounds {
            min_longitude: rect.min().x,
            min_latitude: rect.min().y,
            max_longitude: rect.max().x,
            max_latitude: rect.max().y,
        }
    }
}

fn check_coords(coords: &[wkt::types::Coord<f64>], point_count: &mut usize) -> Result<(), GeographyError> {
    *point_count += coords.len();
    if *point_count > MAX_GEOGRAPHY_POINTS {
        return Err(GeographyError::TooManyPoints);
    }
    for coord in coords {
        let in_range = coord.x.is_finite()
            && coord.y.is_finite()
            && (-180.0..=180.0).contains(&coord.x)
            && (-90.0..=90.0).contains(&coord.y);
        if !in_range {
            return Err(GeographyError::OutOfRange { longitude: coord.x, latitude: coord.y });
        }
    }
    Ok(())
}

fn check_polygon(polygon: &wkt::types::Polygon<f64>, point_count: &mut usize) -> Result<(), GeographyError> {
    for ring in polygon.rings() {
        let coords = ring.coords();
        if coords.len() < 4 {
            return Err(GeographyError::RingTooShort(coords.len()));
        }
        let (first, last) = (&coords[0], &coords[coords.len() - 1]);
        if first.x != last.x || first.y != last.y {
            return Err(GeographyError::RingNotClosed);
        }
        check_coords(coords, point_count)?;
    }
    Ok(())
}

fn check_wkt(geometry: &wkt::Wkt<f64>, point_count: &mut usize) -> Result<(), GeographyError> {
    use wkt::Wkt;
    match geometry {
        Wkt::Point(point) => match point.coord() {
            Some(coord) => check_coords(std::slice::from_ref(coord), point_count),
            None => Ok(()),
        },
        Wkt::LineString(line) => check_coords(line.coords(), point_count),
        Wkt::Polygon(polygon) => check_polygon(polygon, point_count),
        Wkt::MultiPoint(points) => points.points().iter().try_for_each(|point| match point.coord() {
            Some(coord) => check_coords(std::slice::from_ref(coord), point_count),
            None => Ok(()),
        }),
        Wkt::MultiLineString(lines) => {
            lines.line_strings().iter().try_for_each(|line| check_coords(line.coords(), point_count))
        }
        Wkt::MultiPolygon(polygons) => {
            polygons.polygons().iter().try_for_each(|polygon| check_polygon(polygon, point_count))
        }
        Wkt::GeometryCollection(collection) => {
            collection.geometries().iter().try_for_each(|member| check_wkt(member, point_count))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn point_centroid_is_the_point_in_lat_lon_order() {
        let geography = Geography::parse("POINT(-122.13 47.64)").unwrap();
        assert_eq!(geography.centroid(), (47.64, -122.13));
        assert_eq!(geography.point_count, 1);
    }

    #[test]
    fn polygon_with_hole_has_area_centroid_and_bounds() {
        let geography = Geography::parse("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))").unwrap();
        let (latitude, longitude) = geography.centroid();
        // A 4x4 square minus a unit hole centred at (1.5, 1.5): the centroid
        // moves away from the hole: (16*2 - 1*1.5) / 15.
        let expected = (16.0 * 2.0 - 1.5) / 15.0;
        assert!((latitude - expected).abs() < 1e-12 && (longitude - expected).abs() < 1e-12);
        assert_eq!(
            geography.bounds(),
            Bounds { min_longitude: 0.0, min_latitude: 0.0, max_longitude: 4.0, max_latitude: 4.0 }
        );
    }

    #[test]
    fn line_centroid_weighs_by_length() {
        let geography = Geography::parse("LINESTRING(0 0, 10 0, 10 1)").unwrap();
        let (latitude, longitude) = geography.centroid();
        assert!((longitude - (10.0 * 5.0 + 1.0 * 10.0) / 11.0).abs() < 1e-12);
        assert!((latitude - (1.0 * 0.5) / 11.0).abs() < 1e-12);
    }

    #[test]
    fn bad_wkt_is_refused_with_the_reason() {
        assert!(matches!(Geography::parse("POINT(1)"), Err(GeographyError::Syntax(_))));
        assert!(matches!(Geography::parse("POLYGON((0 0, 1 0, 1 1, 0 0.5))"), Err(GeographyError::RingNotClosed)));
        assert!(matches!(Geography::parse("POLYGON((0 0, 1 0, 0 0))"), Err(GeographyError::RingTooShort(3))));
        assert!(matches!(Geography::parse("POINT(200 10)"), Err(GeographyError::OutOfRange { .. })));
        assert!(matches!(Geography::parse("POINT EMPTY"), Err(GeographyError::Empty)));
        assert!(matches!(Geography::parse("CIRCLE(1 2)"), Err(GeographyError::Syntax(_))));
    }

    #[test]
    fn multi_and_collection_types_parse() {
        for text in [
            "MULTIPOINT((-122.3 47),(-122.2 47.1))",
            "MULTILINESTRING((0 0, 1 1),(2 2, 3 3))",
            "MULTIPOLYGON(((0 0, 1 0, 1 1, 0 0)),((5 5, 6 5, 6 6, 5 5)))",
            "GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))",
        ] {
            assert!(Geography::parse(text).is_ok(), "{text}");
        }
    }
}
