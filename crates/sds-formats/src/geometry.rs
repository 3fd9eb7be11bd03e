//! Geometries as the non-WKT readers build them, and their WKT text
//! (`lon lat`, shortest round-trip numbers), plus the per-file polygon
//! limits.
//!
//! A longitude or latitude beyond ±180/±90 by less than 1e-9 degrees (a
//! rounding artefact of GIS exports: Natural Earth's Russia reaches
//! 180.00000000000006) is written as the bound itself.

use std::fmt::Write;

use crate::{FileLimits, FormatError};

pub(crate) type Coord = [f64; 2];
pub(crate) type Ring = Vec<Coord>;

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Geom {
    Point(Coord),
    MultiPoint(Vec<Coord>),
    Line(Vec<Coord>),
    MultiLine(Vec<Vec<Coord>>),
    /// Outer ring first, then holes.
    Polygon(Vec<Ring>),
    MultiPolygon(Vec<Vec<Ring>>),
    Collection(Vec<Geom>),
}

impl Geom {
    /// A collection of one member is that member; a collection of members
    /// of one kind is the matching MULTI type.
    pub(crate) fn collection(mut members: Vec<Geom>) -> Geom {
        if members.len() == 1 {
            return members.pop().expect("one member");
        }
        if !members.is_empty() && members.iter().all(|member| matches!(member, Geom::Point(_))) {
            return Geom::MultiPoint(
                members
                    .into_iter()
                    .filter_map(|member| if let Geom::Point(c) = member { Some(c) } else { None })
                    .collect(),
            );
        }
        if !members.is_empty() && members.iter().all(|member| matches!(member, Geom::Line(_))) {
            return Geom::MultiLine(
                members
                    .into_iter()
                    .filter_map(|member| if let Geom::Line(l) = member { Some(l) } else { None })
                    .collect(),
            );
        }
        if !members.is_empty() && members.iter().all(|member| matches!(member, Geom::Polygon(_))) {
            return Geom::MultiPolygon(
                members
                    .into_iter()
                    .filter_map(|member| if let Geom::Polygon(p) = member { Some(p) } else { None })
                    .collect(),
            );
        }
        Geom::Collection(members)
    }

    pub(crate) fn to_wkt(&self) -> String {
        let mut out = String::new();
        self.write_wkt(&mut out);
        out
    }

    fn write_wkt(&self, out: &mut String) {
        match self {
            Geom::Point(c) => {
                out.push_str("POINT(");
                coord(out, c);
                out.push(')');
            }
            Geom::MultiPoint(points) => {
                out.push_str("MULTIPOINT(");
                for (index, c) in points.iter().enumerate() {
                    if index > 0 {
                        out.push_str(", ");
                    }
                    out.push('(');
                    coord(out, c);
                    out.push(')');
                }
                out.push(')');
            }
            Geom::Line(line) => {
                out.push_str("LINESTRING");
                coords(out, line);
            }
            Geom::MultiLine(lines) => {
                out.push_str("MULTILINESTRING(");
                list(out, lines, |out, line| coords(out, line));
                out.push(')');
            }
            Geom::Polygon(rings) => {
                out.push_str("POLYGON");
                polygon(out, rings);
            }
            Geom::MultiPolygon(polygons) => {
                out.push_str("MULTIPOLYGON(");
                list(out, polygons, |out, rings| polygon(out, rings));
                out.push(')');
            }
            Geom::Collection(members) if members.is_empty() => out.push_str("GEOMETRYCOLLECTION EMPTY"),
            Geom::Collection(members) => {
                out.push_str("GEOMETRYCOLLECTION(");
                list(out, members, |out, member| member.write_wkt(out));
                out.push(')');
            }
        }
    }

    /// Checks the per-file polygon limits, counting this geometry's
    /// polygons into `polygons`.
    pub(crate) fn check_limits(
        &self,
        limits: &FileLimits,
        polygons: &mut u64,
        what: &dyn Fn() -> String,
    ) -> Result<(), FormatError> {
        let mut check = |rings: &[Ring]| {
            *polygons += 1;
            if *polygons > limits.max_polygons {
                return Err(FormatError::Document(format!(
                    "the file has more than {} polygons, the most one file may hold (at {})",
                    limits.max_polygons,
                    what()
                )));
            }
            let points: u64 = rings.iter().map(|ring| ring.len() as u64).sum();
            if points > limits.max_points_per_polygon {
                return Err(FormatError::Document(format!(
                    "a polygon at {} has {points} points; one polygon may have at most {}",
                    what(),
                    limits.max_points_per_polygon
                )));
            }
            Ok(())
        };
        match self {
            Geom::Polygon(rings) => check(rings),
            Geom::MultiPolygon(polygons) => polygons.iter().try_for_each(|rings| check(rings)),
            Geom::Collection(members) => {
                members.iter().try_for_each(|member| member.check_limits(limits, polygons, what))
            }
            _ => Ok(()),
        }
    }
}

/// Closes a ring whose last point differs from its first.
pub(crate) fn close_ring(ring: &mut Ring) {
    if let (Some(first), Some(last)) = (ring.first().copied(), ring.last().copied()) {
        if first != last {
            ring.push(first);
        }
    }
}

fn coord(out: &mut String, c: &Coord) {
    let _ = write!(out, "{} {}", snap(c[0], 180.0), snap(c[1], 90.0));
}

fn snap(value: f64, bound: f64) -> f64 {
    const EPSILON: f64 = 1e-9;
    if value > bound && value - bound < EPSILON {
        bound
    } else if value < -bound && -bound - value < EPSILON {
        -bound
    } else {
        value
    }
}

fn coords(out: &mut String, line: &[Coord]) {
    out.push('(');
    for (index, c) in line.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        coord(out, c);
    }
    out.push(')');
}

fn polygon(out: &mut String, rings: &[Ring]) {
    out.push('(');
    list(out, rings, |out, ring| coords(out, ring));
    out.push(')');
}

fn list<T>(out: &mut String, items: &[T], mut write: impl FnMut(&mut String, &T)) {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push_str(", ");
        }
        write(out, item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wkt_text_parses_back_as_a_geography() {
        let square = vec![[0.0, 0.0], [4.0, 0.0], [4.0, 4.0], [0.0, 4.0], [0.0, 0.0]];
        let hole = vec![[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 1.0], [1.0, 1.0]];
        let cases = [
            (Geom::Point([-122.5, 47.25]), "POINT(-122.5 47.25)"),
            (Geom::Line(vec![[0.0, 0.0], [1.0, 1.5]]), "LINESTRING(0 0, 1 1.5)"),
            (Geom::Polygon(vec![square.clone(), hole.clone()]), ""),
            (Geom::collection(vec![Geom::Point([1.0, 2.0]), Geom::Point([3.0, 4.0])]), "MULTIPOINT((1 2), (3 4))"),
            (Geom::collection(vec![Geom::Polygon(vec![square.clone()]), Geom::Polygon(vec![hole.clone()])]), ""),
            (Geom::collection(vec![Geom::Point([1.0, 2.0]), Geom::Line(vec![[0.0, 0.0], [1.0, 1.0]])]), ""),
            (
                Geom::collection(vec![
                    Geom::Line(vec![[0.0, 0.0], [1.0, 1.0]]),
                    Geom::Line(vec![[2.0, 2.0], [1.0, 1.0]]),
                ]),
                "",
            ),
        ];
        for (geom, expected) in cases {
            let wkt = geom.to_wkt();
            if !expected.is_empty() {
                assert_eq!(wkt, expected);
            }
            sds_core::Geography::parse(&wkt).unwrap_or_else(|error| panic!("{wkt}: {error}"));
        }
        assert!(matches!(Geom::collection(vec![Geom::Point([1.0, 2.0])]), Geom::Point(_)));
        assert_eq!(Geom::Point([180.00000000000006, -90.0000000001]).to_wkt(), "POINT(180 -90)");
        assert_eq!(Geom::Point([180.1, 0.0]).to_wkt(), "POINT(180.1 0)");
    }

    #[test]
    fn limits_count_polygons_and_points() {
        let ring = vec![[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]];
        let limits = FileLimits { max_polygons: 2, max_points_per_polygon: 4 };
        let mut count = 0;
        let what = || "record 1".to_string();
        Geom::Polygon(vec![ring.clone()]).check_limits(&limits, &mut count, &what).unwrap();
        let two = Geom::MultiPolygon(vec![vec![ring.clone()], vec![ring.clone()]]);
        let error = two.check_limits(&limits, &mut count, &what).unwrap_err();
        assert!(error.to_string().contains("more than 2 polygons"), "{error}");
        let mut count = 0;
        let error = Geom::Polygon(vec![ring.clone(), ring]).check_limits(&limits, &mut count, &what).unwrap_err();
        assert!(error.to_string().contains("8 points"), "{error}");
    }
}
