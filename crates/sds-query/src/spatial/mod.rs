//! The `spatialFilter` parameter: `nearby`, `bbox`, `intersects` and
//! `nearRoute`, parsed and validated; shapes prepared once per query.

pub mod area;
pub mod reach;
pub mod shape;
pub mod sphere;

pub use shape::Shape;

use crate::QueryError;

/// Radius limits of `nearby`, in km. The docs give 0.16–1000 on one page
/// and 0.15–400 on another; the union is accepted.
pub const MIN_RADIUS_KM: f64 = 0.15;
pub const MAX_RADIUS_KM: f64 = 1000.0;
/// How far from a route `nearRoute` looks: one mile.
pub const ROUTE_BUFFER_KM: f64 = 1.609344;

#[derive(Clone, Debug, PartialEq)]
pub enum RouteEnd {
    Coordinates { latitude: f64, longitude: f64 },
    Address(String),
}

#[derive(Debug)]
pub enum SpatialFilter {
    Nearby {
        latitude: f64,
        longitude: f64,
        radius_km: f64,
    },
    /// Needs a geocoder to become [`SpatialFilter::Nearby`].
    NearbyAddress {
        address: String,
        radius_km: f64,
    },
    /// `west > east` means the box crosses the antimeridian.
    Bbox {
        south: f64,
        west: f64,
        north: f64,
        east: f64,
    },
    Intersects(Box<Shape>),
    /// Needs a router to become [`SpatialFilter::Route`].
    NearRoute {
        start: RouteEnd,
        end: RouteEnd,
    },
    /// A resolved route as (latitude, longitude) points: entities within
    /// [`ROUTE_BUFFER_KM`] of it match.
    Route {
        points: Vec<(f64, f64)>,
    },
}

impl SpatialFilter {
    /// Parses `nearby(…)`, `bbox(…)`, `intersects(…)` or `nearRoute(…)`;
    /// names in any case, a missing final `)` tolerated (a docs example
    /// has one). `max_shape_points` bounds the `intersects` geography.
    pub fn parse(text: &str, max_shape_points: usize) -> Result<SpatialFilter, QueryError> {
        let text = text.trim();
        let Some(open) = text.find('(') else {
            return Err(invalid(format!(
                "'{}' is not a spatial filter: use nearby(lat,lon,km), bbox(south,west,north,east), intersects('WKT') or nearRoute('start','end')",
                sds_core::value::excerpt(text)
            )));
        };
        let name = text[..open].trim().to_ascii_lowercase();
        let mut inner = &text[open + 1..];
        if let Some(stripped) = inner.trim_end().strip_suffix(')') {
            inner = stripped;
        }
        match name.as_str() {
            "nearby" => parse_nearby(inner),
            "bbox" => parse_bbox(inner),
            "intersects" => {
                let wkt = unquote(inner.trim());
                Ok(SpatialFilter::Intersects(Box::new(Shape::parse(&wkt, max_shape_points, "intersects")?)))
            }
            "nearroute" => parse_near_route(inner),
            _ => Err(invalid(format!(
                "unknown spatial filter '{}': use nearby, bbox, intersects or nearRoute",
                &text[..open]
            ))),
        }
    }

    /// Where `__Distance` is measured from, when it is a point.
    pub fn distance_origin(&self) -> Option<(f64, f64)> {
        match self {
            SpatialFilter::Nearby { latitude, longitude, .. } => Some((*latitude, *longitude)),
            SpatialFilter::Bbox { south, west, north, east } => {
                let east = if west > east { east + 360.0 } else { *east };
                let mut center_lon = (west + east) / 2.0;
                if center_lon > 180.0 {
                    center_lon -= 360.0;
                }
                Some(((south + north) / 2.0, center_lon))
            }
            _ => None,
        }
    }
}

fn invalid(message: String) -> QueryError {
    QueryError::Invalid(message)
}

/// Strips one pair of single quotes and unescapes `''`.
fn unquote(text: &str) -> String {
    match text.strip_prefix('\'') {
        Some(rest) => rest.strip_suffix('\'').unwrap_or(rest).replace("''", "'"),
        None => text.to_owned(),
    }
}

fn number(text: &str, what: &str) -> Result<f64, QueryError> {
    let trimmed = text.trim();
    trimmed.parse::<f64>().ok().filter(|value| value.is_finite()).ok_or_else(|| {
        invalid(format!("spatialFilter: {what} '{}' is not a number", sds_core::value::excerpt(trimmed)))
    })
}

fn latitude(text: &str, what: &str) -> Result<f64, QueryError> {
    let value = number(text, what)?;
    if !(-90.0..=90.0).contains(&value) {
        return Err(invalid(format!("spatialFilter: {what} {value} is out of range: it must be within -90 and 90")));
    }
    Ok(value)
}

fn longitude(text: &str, what: &str) -> Result<f64, QueryError> {
    let value = number(text, what)?;
    if !(-180.0..=180.0).contains(&value) {
        return Err(invalid(format!("spatialFilter: {what} {value} is out of range: it must be within -180 and 180")));
    }
    Ok(value)
}

fn radius(text: &str) -> Result<f64, QueryError> {
    let value = number(text, "the distance")?;
    if !(MIN_RADIUS_KM..=MAX_RADIUS_KM).contains(&value) {
        return Err(invalid(format!(
            "spatialFilter: the distance {value} km is out of range: it must be within {MIN_RADIUS_KM} and {MAX_RADIUS_KM} km"
        )));
    }
    Ok(value)
}

fn parse_nearby(inner: &str) -> Result<SpatialFilter, QueryError> {
    let trimmed = inner.trim();
    if trimmed.starts_with('\'') {
        // nearby('address', km): the address may hold commas.
        let Some(comma) = trimmed.rfind(',') else {
            return Err(invalid("spatialFilter: nearby('address',km) needs a distance".into()));
        };
        let address = unquote(trimmed[..comma].trim());
        if address.trim().is_empty() {
            return Err(invalid("spatialFilter: the address of nearby is empty".into()));
        }
        return Ok(SpatialFilter::NearbyAddress { address, radius_km: radius(&trimmed[comma + 1..])? });
    }
    let parts: Vec<&str> = trimmed.split(',').collect();
    if parts.len() != 3 {
        return Err(invalid(format!(
            "spatialFilter: nearby takes 3 values (latitude,longitude,distance in km), not {}",
            parts.len()
        )));
    }
    Ok(SpatialFilter::Nearby {
        latitude: latitude(parts[0], "latitude")?,
        longitude: longitude(parts[1], "longitude")?,
        radius_km: radius(parts[2])?,
    })
}

fn parse_bbox(inner: &str) -> Result<SpatialFilter, QueryError> {
    let parts: Vec<&str> = inner.split(',').collect();
    if parts.len() != 4 {
        return Err(invalid(format!(
            "spatialFilter: bbox takes 4 values (south,west,north,east), not {}",
            parts.len()
        )));
    }
    let south = latitude(parts[0], "south latitude")?;
    let west = longitude(parts[1], "west longitude")?;
    let north = latitude(parts[2], "north latitude")?;
    let east = longitude(parts[3], "east longitude")?;
    if south > north {
        return Err(invalid(format!(
            "spatialFilter: the south latitude {south} is north of the north latitude {north}"
        )));
    }
    Ok(SpatialFilter::Bbox { south, west, north, east })
}

fn parse_near_route(inner: &str) -> Result<SpatialFilter, QueryError> {
    // Two quoted ends; each is 'lat,lon' or an address.
    let mut ends = Vec::new();
    let mut rest = inner.trim();
    while !rest.is_empty() {
        let Some(body) = rest.strip_prefix('\'') else {
            return Err(invalid("spatialFilter: nearRoute takes two quoted ends: nearRoute('start','end')".into()));
        };
        let mut end = None;
        let bytes = body.as_bytes();
        let mut index = 0;
        while index < bytes.len() {
            if bytes[index] == b'\'' {
                if bytes.get(index + 1) == Some(&b'\'') {
                    index += 2;
                    continue;
                }
                end = Some(index);
                break;
            }
            index += 1;
        }
        let end = end.ok_or_else(|| invalid("spatialFilter: a nearRoute end is missing its closing quote".into()))?;
        ends.push(body[..end].replace("''", "'"));
        rest = body[end + 1..].trim_start().trim_start_matches(',').trim_start();
    }
    if ends.len() != 2 {
        return Err(invalid(format!("spatialFilter: nearRoute takes 2 ends, not {}", ends.len())));
    }
    let end_of = |text: &str| -> Result<RouteEnd, QueryError> {
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() == 2 && parts.iter().all(|part| part.trim().parse::<f64>().is_ok()) {
            return Ok(RouteEnd::Coordinates {
                latitude: latitude(parts[0], "route latitude")?,
                longitude: longitude(parts[1], "route longitude")?,
            });
        }
        if text.trim().is_empty() {
            return Err(invalid("spatialFilter: a nearRoute end is empty".into()));
        }
        Ok(RouteEnd::Address(text.trim().to_owned()))
    };
    Ok(SpatialFilter::NearRoute { start: end_of(&ends[0])?, end: end_of(&ends[1])? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SpatialFilter, QueryError> {
        SpatialFilter::parse(text, 250)
    }

    #[test]
    fn nearby_with_coordinates_or_an_address() {
        assert!(matches!(
            parse("nearby(47.6,-122.3,50.0)").unwrap(),
            SpatialFilter::Nearby { latitude, longitude, radius_km } if latitude == 47.6 && longitude == -122.3 && radius_km == 50.0
        ));
        assert!(matches!(
            parse("NearBy('1 Microsoft Way,Redmond,WA 98052',50)").unwrap(),
            SpatialFilter::NearbyAddress { address, .. } if address == "1 Microsoft Way,Redmond,WA 98052"
        ));
        for (text, message) in [
            ("nearby(91,0,5)", "latitude 91 is out of range"),
            ("nearby(0,181,5)", "longitude 181"),
            ("nearby(0,0,1001)", "distance 1001"),
            ("nearby(0,0,0.1)", "distance 0.1"),
            ("nearby(0,0)", "3 values"),
            ("nearby(a,0,5)", "'a' is not a number"),
            ("circle(1,2)", "unknown spatial filter"),
            ("nowhere", "not a spatial filter"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(message), "{text}: {error}");
        }
    }

    #[test]
    fn bbox_checks_its_corners_and_may_cross_the_antimeridian() {
        assert!(matches!(parse("bbox(47.5,-122.4,47.7,-122.2)").unwrap(), SpatialFilter::Bbox { .. }));
        let crossing = parse("BBOX(-10,170,10,-170)").unwrap();
        let (lat, lon) = crossing.distance_origin().unwrap();
        assert_eq!((lat, lon), (0.0, 180.0));
        assert!(parse("bbox(10,0,5,1)").unwrap_err().to_string().contains("north of"));
        assert!(parse("bbox(1,2,3)").is_err());
    }

    #[test]
    fn intersects_with_or_without_quotes_and_final_paren() {
        for text in [
            "intersects('POLYGON((0 0, 1 0, 1 1, 0 0))')",
            "intersects(POLYGON((0 0, 1 0, 1 1, 0 0)))",
            "intersects('POLYGON((0 0, 1 0, 1 1, 0 0))'",
            "Intersects('LINESTRING(0 0, 1 1)')",
            "intersects('POINT(1 1)')",
        ] {
            assert!(matches!(parse(text), Ok(SpatialFilter::Intersects(_))), "{text}");
        }
        assert!(parse("intersects('POLYGON((0 0, 1 0))')").unwrap_err().to_string().contains("ring"));
        let many: Vec<String> = (0..300).map(|i| format!("{} 0", i as f64 / 10.0)).collect();
        let error = parse(&format!("intersects('LINESTRING({})')", many.join(","))).unwrap_err();
        assert!(error.to_string().contains("250"), "{error}");
    }

    #[test]
    fn near_route_ends_are_coordinates_or_addresses() {
        let SpatialFilter::NearRoute { start, end } = parse("nearRoute('47.6,-122.3','Seattle, WA')").unwrap() else {
            panic!()
        };
        assert_eq!(start, RouteEnd::Coordinates { latitude: 47.6, longitude: -122.3 });
        assert_eq!(end, RouteEnd::Address("Seattle, WA".into()));
        assert!(parse("nearRoute('a')").is_err());
    }
}
