//! Point-in-polygon for a polygon prepared once per query: its edges are
//! bucketed into horizontal bands, so a test only looks at the few edges
//! that span the point's latitude instead of every edge.

use geo::{CoordsIter, Geometry};

use super::sphere::LonLatBox;

/// The polygonal part of a shape (polygons and multipolygons, holes
/// included), under the even-odd rule.
pub struct PreparedArea {
    /// Edges as (x1, y1, x2, y2).
    edges: Vec<[f64; 4]>,
    /// Edge indexes per band of height `band_height` starting at `min_y`.
    bands: Vec<Vec<u32>>,
    min_y: f64,
    band_height: f64,
    /// The edges' bounding box, as (min_x, max_x, max_y).
    min_x: f64,
    max_x: f64,
    max_y: f64,
}

impl PreparedArea {
    /// Prepares the polygons of a geometry; `None` when it has none.
    pub fn new(geometry: &Geometry<f64>) -> Option<PreparedArea> {
        let mut edges = Vec::new();
        collect_edges(geometry, &mut edges);
        if edges.is_empty() {
            return None;
        }
        let min_y = edges.iter().map(|edge| edge[1].min(edge[3])).fold(f64::INFINITY, f64::min);
        let max_y = edges.iter().map(|edge| edge[1].max(edge[3])).fold(f64::NEG_INFINITY, f64::max);
        // About two bands per edge keeps both the build and each test short.
        let band_count = (edges.len() * 2).clamp(1, 8192);
        let band_height = ((max_y - min_y) / band_count as f64).max(f64::MIN_POSITIVE);
        let mut bands = vec![Vec::new(); band_count];
        for (index, edge) in edges.iter().enumerate() {
            let low = band_of(edge[1].min(edge[3]), min_y, band_height, band_count);
            let high = band_of(edge[1].max(edge[3]), min_y, band_height, band_count);
            for band in &mut bands[low..=high] {
                band.push(index as u32);
            }
        }
        let min_x = edges.iter().map(|edge| edge[0].min(edge[2])).fold(f64::INFINITY, f64::min);
        let max_x = edges.iter().map(|edge| edge[0].max(edge[2])).fold(f64::NEG_INFINITY, f64::max);
        Some(PreparedArea { edges, bands, min_y, band_height, min_x, max_x, max_y })
    }

    /// Whether (x, y) is inside or on the boundary.
    pub fn contains(&self, x: f64, y: f64) -> bool {
        if y < self.min_y {
            return false;
        }
        let band = ((y - self.min_y) / self.band_height) as usize;
        let Some(edge_indexes) = self.bands.get(band).or_else(|| {
            // The top edge itself belongs to the last band.
            (band == self.bands.len()).then(|| &self.bands[band - 1])
        }) else {
            return false;
        };
        let mut inside = false;
        for &index in edge_indexes {
            let [x1, y1, x2, y2] = self.edges[index as usize];
            // Most edges of a band miss the point's latitude: both tests
            // below need it within the edge's span.
            if (y < y1 && y < y2) || (y > y1 && y > y2) {
                continue;
            }
            if on_segment(x, y, x1, y1, x2, y2) {
                return true;
            }
            if (y1 > y) != (y2 > y) {
                let crossing_x = x1 + (y - y1) * (x2 - x1) / (y2 - y1);
                if x < crossing_x {
                    inside = !inside;
                }
            }
        }
        inside
    }
}

impl PreparedArea {
    /// Whether a whole rectangle is inside (`Some(true)`) or outside
    /// (`Some(false)`) the area; `None` when an edge may cross it. Lets a
    /// query take or skip a grid cell's points without testing each one.
    pub fn classify(&self, rect: &LonLatBox) -> Option<bool> {
        if rect.max_lat < self.min_y
            || rect.min_lat > self.max_y
            || rect.max_lon < self.min_x
            || rect.min_lon > self.max_x
        {
            return Some(false);
        }
        let count = self.bands.len();
        let low = band_of(rect.min_lat.max(self.min_y), self.min_y, self.band_height, count);
        let high = band_of(rect.max_lat.min(self.max_y), self.min_y, self.band_height, count);
        for band in &self.bands[low..=high] {
            for &index in band {
                let [x1, y1, x2, y2] = self.edges[index as usize];
                if x1.max(x2) >= rect.min_lon
                    && x1.min(x2) <= rect.max_lon
                    && y1.max(y2) >= rect.min_lat
                    && y1.min(y2) <= rect.max_lat
                {
                    return None;
                }
            }
        }
        // No edge meets the rectangle: all of it is on the centre's side.
        Some(self.contains((rect.min_lon + rect.max_lon) / 2.0, (rect.min_lat + rect.max_lat) / 2.0))
    }
}

fn band_of(y: f64, min_y: f64, band_height: f64, band_count: usize) -> usize {
    (((y - min_y) / band_height) as usize).min(band_count - 1)
}

fn on_segment(x: f64, y: f64, x1: f64, y1: f64, x2: f64, y2: f64) -> bool {
    let cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
    cross.abs() <= 1e-12 && x >= x1.min(x2) && x <= x1.max(x2) && y >= y1.min(y2) && y <= y1.max(y2)
}

fn collect_edges(geometry: &Geometry<f64>, edges: &mut Vec<[f64; 4]>) {
    match geometry {
        Geometry::Polygon(polygon) => {
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                for line in ring.lines() {
                    edges.push([line.start.x, line.start.y, line.end.x, line.end.y]);
                }
            }
        }
        Geometry::MultiPolygon(polygons) => {
            for polygon in polygons {
                collect_edges(&Geometry::Polygon(polygon.clone()), edges);
            }
        }
        Geometry::Rect(rect) => collect_edges(&Geometry::Polygon(rect.to_polygon()), edges),
        Geometry::GeometryCollection(collection) => {
            for member in collection {
                collect_edges(member, edges);
            }
        }
        _ => {}
    }
}

/// Number of vertices of a geometry.
pub fn point_count(geometry: &Geometry<f64>) -> usize {
    geometry.coords_count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn area(text: &str) -> PreparedArea {
        let geometry: Geometry<f64> = wkt::Wkt::from_str(text).unwrap().try_into().unwrap();
        PreparedArea::new(&geometry).unwrap()
    }

    #[test]
    fn inside_outside_boundary_and_holes() {
        let square = area("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))");
        assert!(square.contains(3.0, 3.0));
        assert!(!square.contains(1.5, 1.5), "in the hole");
        assert!(square.contains(0.0, 2.0), "on the boundary");
        assert!(square.contains(4.0, 4.0), "a corner");
        assert!(!square.contains(5.0, 2.0));
        assert!(!square.contains(2.0, -0.1));
        assert!(!square.contains(2.0, 4.1));
    }

    #[test]
    fn rectangles_are_inside_outside_or_crossed() {
        let square = area("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))");
        let rect = |min_lon, min_lat, max_lon, max_lat| LonLatBox { min_lon, min_lat, max_lon, max_lat };
        assert_eq!(square.classify(&rect(2.5, 2.5, 3.5, 3.5)), Some(true));
        assert_eq!(square.classify(&rect(1.2, 1.2, 1.8, 1.8)), Some(false), "in the hole");
        assert_eq!(square.classify(&rect(5.0, 0.0, 6.0, 1.0)), Some(false));
        assert_eq!(square.classify(&rect(3.5, 3.5, 4.5, 4.5)), None, "crosses the outline");
        assert_eq!(square.classify(&rect(0.5, 0.5, 1.5, 1.5)), None, "crosses the hole");
    }

    #[test]
    fn concave_and_multi_polygons() {
        let shapes = area("MULTIPOLYGON(((0 0, 10 0, 10 10, 5 2, 0 10, 0 0)), ((20 20, 21 20, 21 21, 20 20)))");
        assert!(shapes.contains(1.0, 5.0));
        assert!(!shapes.contains(5.0, 8.0), "in the notch");
        assert!(shapes.contains(20.9, 20.5));
        assert!(!shapes.contains(20.1, 20.9));
    }
}
