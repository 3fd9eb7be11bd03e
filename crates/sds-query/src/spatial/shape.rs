//! An `intersects`/`intersection` geography, parsed and prepared once per
//! query: its bounding box for the index, and the polygon part prepared for
//! fast point-in-polygon tests.

use geo::{BooleanOps, BoundingRect, Geometry, Intersects};
use sds_core::Geography;

use super::area::PreparedArea;
use super::sphere::LonLatBox;
use crate::QueryError;

pub struct Shape {
    pub geometry: Geometry<f64>,
    pub bounds: LonLatBox,
    area: Option<PreparedArea>,
    /// Whether the shape has parts other than polygons (points, lines).
    has_other_parts: bool,
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shape").field("bounds", &self.bounds).finish_non_exhaustive()
    }
}

impl Shape {
    /// Parses WKT (validated as uploads are) with at most `max_points` points.
    pub fn parse(wkt: &str, max_points: usize, what: &str) -> Result<Shape, QueryError> {
        let geography = Geography::parse(wkt)
            .map_err(|error| QueryError::Invalid(format!("{what}: the geography is not valid WKT: {error}")))?;
        if geography.point_count > max_points {
            return Err(QueryError::Invalid(format!(
                "{what}: the geography has {} points; the limit is {max_points}",
                geography.point_count
            )));
        }
        Ok(Shape::new(geography.geometry))
    }

    pub fn new(geometry: Geometry<f64>) -> Shape {
        let rect = geometry.bounding_rect().unwrap_or_else(|| geo::Rect::new((0.0, 0.0), (0.0, 0.0)));
        let bounds =
            LonLatBox { min_lon: rect.min().x, min_lat: rect.min().y, max_lon: rect.max().x, max_lat: rect.max().y };
        let area = PreparedArea::new(&geometry);
        let has_other_parts = has_non_polygon_parts(&geometry);
        Shape { geometry, bounds, area, has_other_parts }
    }

    /// The bounding box of each part (each polygon of a multipolygon), for
    /// index lookups that stay tight around scattered parts.
    pub fn part_bounds(&self) -> Vec<LonLatBox> {
        fn rect_box(rect: geo::Rect<f64>) -> LonLatBox {
            LonLatBox { min_lon: rect.min().x, min_lat: rect.min().y, max_lon: rect.max().x, max_lat: rect.max().y }
        }
        match &self.geometry {
            Geometry::MultiPolygon(polygons) if polygons.0.len() > 1 => {
                polygons.0.iter().filter_map(|polygon| polygon.bounding_rect().map(rect_box)).collect()
            }
            _ => vec![self.bounds],
        }
    }

    /// Whether a point (an entity without geography) touches the shape.
    pub fn intersects_point(&self, longitude: f64, latitude: f64) -> bool {
        if !self.bounds.contains(longitude, latitude) {
            return false;
        }
        if let Some(area) = &self.area {
            if area.contains(longitude, latitude) {
                return true;
            }
        }
        self.has_other_parts && self.geometry.intersects(&geo::Point::new(longitude, latitude))
    }

    /// Whether every point of a rectangle touches the shape (`Some(true)`),
    /// none does (`Some(false)`), or it depends on the point (`None`).
    pub fn classify_rect(&self, rect: &LonLatBox) -> Option<bool> {
        match self.area.as_ref()?.classify(rect)? {
            true => Some(true),
            // Lines and points of the shape may still cross an area-free rectangle.
            false => (!self.has_other_parts).then_some(false),
        }
    }

    /// Whether an entity's geography touches the shape.
    pub fn intersects_geometry(&self, geometry: &Geometry<f64>) -> bool {
        if let Geometry::Point(point) = geometry {
            return self.intersects_point(point.x(), point.y());
        }
        self.geometry.intersects(geometry)
    }

    /// The part of `geometry` inside the shape, as WKT; `GEOMETRYCOLLECTION
    /// EMPTY` when they are disjoint.
    pub fn intersection_wkt(&self, geometry: &Geometry<f64>) -> String {
        const EMPTY: &str = "GEOMETRYCOLLECTION EMPTY";
        if !self.intersects_geometry(geometry) {
            return EMPTY.to_owned();
        }
        let shape_polygons = polygons_of(&self.geometry);
        let result: Option<Geometry<f64>> = match geometry {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Some(geometry.clone()),
            Geometry::LineString(line) if !shape_polygons.0.is_empty() => Some(Geometry::MultiLineString(
                shape_polygons.clip(&geo::MultiLineString::new(vec![line.clone()]), false),
            )),
            Geometry::MultiLineString(lines) if !shape_polygons.0.is_empty() => {
                Some(Geometry::MultiLineString(shape_polygons.clip(lines, false)))
            }
            Geometry::Polygon(_) | Geometry::MultiPolygon(_) if !shape_polygons.0.is_empty() => {
                Some(Geometry::MultiPolygon(polygons_of(geometry).intersection(&shape_polygons)))
            }
            // Line with line and other mixes: the entity's own geography
            // stands for the intersection (it touches the shape).
            _ => Some(geometry.clone()),
        };
        result.map_or_else(|| EMPTY.to_owned(), |geometry| simplify_multi(geometry).to_wkt_text())
    }
}

fn has_non_polygon_parts(geometry: &Geometry<f64>) -> bool {
    match geometry {
        Geometry::Polygon(_) | Geometry::MultiPolygon(_) | Geometry::Rect(_) | Geometry::Triangle(_) => false,
        Geometry::GeometryCollection(collection) => collection.iter().any(has_non_polygon_parts),
        _ => true,
    }
}

fn polygons_of(geometry: &Geometry<f64>) -> geo::MultiPolygon<f64> {
    let mut polygons = Vec::new();
    fn walk(geometry: &Geometry<f64>, polygons: &mut Vec<geo::Polygon<f64>>) {
        match geometry {
            Geometry::Polygon(polygon) => polygons.push(polygon.clone()),
            Geometry::MultiPolygon(multi) => polygons.extend(multi.0.iter().cloned()),
            Geometry::Rect(rect) => polygons.push(rect.to_polygon()),
            Geometry::GeometryCollection(collection) => collection.iter().for_each(|member| walk(member, polygons)),
            _ => {}
        }
    }
    walk(geometry, &mut polygons);
    geo::MultiPolygon::new(polygons)
}

/// A one-member multi geometry written as its single member.
fn simplify_multi(geometry: Geometry<f64>) -> Geometry<f64> {
    match geometry {
        Geometry::MultiPolygon(mut multi) if multi.0.len() == 1 => Geometry::Polygon(multi.0.remove(0)),
        Geometry::MultiLineString(mut multi) if multi.0.len() == 1 => Geometry::LineString(multi.0.remove(0)),
        Geometry::MultiPolygon(multi) if multi.0.is_empty() => Geometry::GeometryCollection(Default::default()),
        Geometry::MultiLineString(multi) if multi.0.is_empty() => Geometry::GeometryCollection(Default::default()),
        other => other,
    }
}

trait ToWktText {
    fn to_wkt_text(&self) -> String;
}

impl ToWktText for Geometry<f64> {
    fn to_wkt_text(&self) -> String {
        if let Geometry::GeometryCollection(collection) = self {
            if collection.0.is_empty() {
                return "GEOMETRYCOLLECTION EMPTY".to_owned();
            }
        }
        wkt::ToWkt::wkt_string(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn geometry(text: &str) -> Geometry<f64> {
        wkt::Wkt::from_str(text).unwrap().try_into().unwrap()
    }

    #[test]
    fn points_lines_and_polygons_intersect_a_polygon() {
        let shape = Shape::parse("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", 250, "intersects").unwrap();
        assert!(shape.intersects_point(5.0, 5.0));
        assert!(shape.intersects_point(10.0, 5.0), "boundary");
        assert!(!shape.intersects_point(11.0, 5.0));
        assert!(shape.intersects_geometry(&geometry("LINESTRING(-5 5, 5 5)")));
        assert!(!shape.intersects_geometry(&geometry("LINESTRING(-5 -5, -1 20)")));
        assert!(shape.intersects_geometry(&geometry("POLYGON((9 9, 20 9, 20 20, 9 9))")));
        assert!(
            shape.intersects_geometry(&geometry("POLYGON((-5 -5, 20 -5, 20 20, -5 20, -5 -5))")),
            "contains the shape"
        );
    }

    #[test]
    fn line_shapes_intersect_points_on_them_and_crossing_polygons() {
        let shape = Shape::parse("LINESTRING(0 0, 10 10)", 250, "intersects").unwrap();
        assert!(shape.intersects_point(5.0, 5.0));
        assert!(!shape.intersects_point(5.0, 6.0));
        assert!(!shape.intersects_geometry(&geometry("POLYGON((4 0, 6 0, 6 2, 4 2, 4 0))")));
        assert!(shape.intersects_geometry(&geometry("POLYGON((4 3, 6 3, 6 6, 4 6, 4 3))")));
    }

    #[test]
    fn intersections_are_clipped_or_empty() {
        let shape = Shape::parse("POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", 250, "intersection").unwrap();
        assert_eq!(shape.intersection_wkt(&geometry("POINT(1 2)")), "POINT(1 2)");
        assert_eq!(shape.intersection_wkt(&geometry("POINT(20 2)")), "GEOMETRYCOLLECTION EMPTY");
        assert_eq!(shape.intersection_wkt(&geometry("LINESTRING(-5 5,5 5)")), "LINESTRING(0 5,5 5)");
        let clipped = shape.intersection_wkt(&geometry("POLYGON((5 5, 15 5, 15 15, 5 15, 5 5))"));
        assert!(clipped.starts_with("POLYGON("), "{clipped}");
        let clipped_shape = geometry(&clipped);
        assert!((geo::Area::unsigned_area(&clipped_shape) - 25.0).abs() < 1e-9);
    }
}
