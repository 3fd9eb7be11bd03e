//! The `.prj` of a shapefile: its coordinate system, and the conversion
//! to WGS 84 longitude/latitude.
//!
//! SDS's documentation says nothing about `.prj` files (the load pages
//! only say a shapefile upload is a zip of .shp, .shx and .dbf); SPEC
//! §4 \[REC\] says to reproject to WGS 84. So:
//! - no `.prj`, or an empty one: the coordinates are taken as WGS 84
//!   longitude/latitude (out-of-range values then fail their rows);
//! - a geographic system on WGS 84 or a datum within about a metre of it
//!   (NAD83, ETRS89, GRS 1980 based), Greenwich meridian, degrees: used
//!   as is;
//! - Web Mercator (EPSG:3857, ESRI's `Mercator_Auxiliary_Sphere`,
//!   `Popular_Visualisation_Pseudo_Mercator`): inverse spherical Mercator;
//! - anything else the `proj4wkt` crate can turn into a PROJ string that
//!   `proj4rs` accepts (UTM and other Transverse Mercator, Lambert
//!   conformal conic, Albers, stereographic, other datums with TOWGS84,
//!   ...): reprojected with `proj4rs`;
//! - otherwise the upload fails with a message asking for WGS 84 data.

use proj4rs::proj::Proj;

use crate::geometry::Coord;
use crate::FormatError;

const MAX_PRJ_BYTES: usize = 64 * 1024;
const MAX_NESTING: usize = 64;
const WGS84: &str = "+proj=longlat +datum=WGS84 +no_defs";

/// A conversion from the shapefile's system to WGS 84 longitude/latitude.
pub(crate) struct Reprojection {
    from: Proj,
    to: Proj,
    source_is_geographic: bool,
    description: String,
}

impl std::fmt::Debug for Reprojection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

fn refuse(reason: String) -> FormatError {
    FormatError::Document(format!(
        "the shapefile's .prj coordinate system cannot be converted to WGS 84 longitude/latitude ({reason}); \
         reproject the data to WGS 84 (EPSG:4326) and upload it again"
    ))
}

/// `None`: the coordinates are WGS 84 longitude/latitude already.
pub(crate) fn reprojection(prj: &str) -> Result<Option<Reprojection>, FormatError> {
    let text = prj.trim_start_matches('\u{FEFF}').trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > MAX_PRJ_BYTES {
        return Err(refuse(format!("the .prj is longer than {MAX_PRJ_BYTES} bytes")));
    }
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '[' | '(' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(refuse("the .prj is nested too deeply".into()));
                }
            }
            ']' | ')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    let upper = text.to_ascii_uppercase();
    let keyword = upper.split(['[', '(']).next().unwrap_or_default().trim().to_owned();
    if matches!(keyword.as_str(), "GEOGCS" | "GEOGCRS" | "GEODCRS" | "GEOGRAPHICCRS") && is_wgs84_like(&upper) {
        return Ok(None);
    }
    if upper.contains("MERCATOR_AUXILIARY_SPHERE")
        || upper.contains("PSEUDO_MERCATOR")
        || upper.contains("PSEUDO-MERCATOR")
        || upper.contains("\"EPSG\",\"3857\"]]") && keyword == "PROJCS"
    {
        let from = "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +no_defs";
        let to = "+proj=longlat +a=6378137 +b=6378137 +no_defs";
        return Ok(Some(Reprojection {
            from: Proj::from_proj_string(from).map_err(|error| refuse(error.to_string()))?,
            to: Proj::from_proj_string(to).map_err(|error| refuse(error.to_string()))?,
            source_is_geographic: false,
            description: "Web Mercator".into(),
        }));
    }
    let proj_string = proj4wkt::wkt_to_projstring(text).map_err(|error| refuse(error.to_string()))?;
    let from = Proj::from_proj_string(&proj_string).map_err(|error| refuse(format!("{proj_string}: {error}")))?;
    let to = Proj::from_proj_string(WGS84).map_err(|error| refuse(error.to_string()))?;
    let source_is_geographic = from.is_latlong();
    Ok(Some(Reprojection { from, to, source_is_geographic, description: proj_string }))
}

fn is_wgs84_like(upper: &str) -> bool {
    let datum_ok = [
        "WGS_1984",
        "WGS84",
        "WGS 84",
        "WGS_84",
        "NORTH_AMERICAN_1983",
        "NORTH_AMERICAN_DATUM_1983",
        "NAD83",
        "ETRS_1989",
        "ETRS89",
        "EUROPEAN_TERRESTRIAL_REFERENCE_SYSTEM_1989",
    ]
    .iter()
    .any(|name| upper.contains(name));
    let meridian_ok = match upper.find("PRIMEM[") {
        None => true,
        Some(at) => {
            let rest = &upper[at..];
            let value = rest.split(',').nth(1).unwrap_or_default();
            value.trim().trim_end_matches(']').trim().parse::<f64>().is_ok_and(|value| value == 0.0)
        }
    };
    let no_shift = !upper.contains("TOWGS84[") || upper.contains("TOWGS84[0,0,0");
    datum_ok && meridian_ok && no_shift
}

impl Reprojection {
    /// Converts one coordinate; `None` when it has no WGS 84 image.
    pub(crate) fn convert(&self, coord: Coord) -> Option<Coord> {
        let mut point = if self.source_is_geographic {
            (coord[0].to_radians(), coord[1].to_radians(), 0.0)
        } else {
            (coord[0], coord[1], 0.0)
        };
        proj4rs::transform::transform(&self.from, &self.to, &mut point).ok()?;
        let converted = [point.0.to_degrees(), point.1.to_degrees()];
        (converted[0].is_finite() && converted[1].is_finite()).then_some(converted)
    }
}
