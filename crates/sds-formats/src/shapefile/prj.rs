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
//! - GDAL's WKT1 of Web Mercator (`Mercator_1SP` named `Pseudo-Mercator`
//!   or with `AUTHORITY["EPSG","3857"]`): inverse spherical Mercator;
//! - anything else the `proj4wkt` crate turns into a PROJ string that
//!   `proj4rs` accepts: reprojected with `proj4rs`. `proj4wkt` reads OGC
//!   WKT1 (GDAL), WKT2 and the ESRI dialect that ArcGIS writes into
//!   `.prj` files (issue 9 finding 6): ESRI projection names
//!   (`Lambert_Conformal_Conic` with one standard parallel and a
//!   `Scale_Factor`, or two; `Albers`; `Transverse_Mercator`,
//!   `Gauss_Kruger`; `Mercator`; `Mercator_Auxiliary_Sphere` (Web
//!   Mercator, `Auxiliary_Sphere_Type` 0 only); `Stereographic`, `Double_Stereographic`,
//!   `Stereographic_North_Pole`/`_South_Pole`; `Lambert_Azimuthal_Equal_Area`;
//!   `Equidistant_Conic`, `Cassini`, `Polyconic`, `Hotine_Oblique_Mercator_…`,
//!   `Krovak`, ...), ESRI parameter names (`False_Easting`,
//!   `Central_Meridian`, `Standard_Parallel_1`, `Scale_Factor`,
//!   `Latitude_Of_Origin`, `Auxiliary_Sphere_Type`, ...), linear units by
//!   their factor (`Foot_US` 0.3048006096012192, `Foot` 0.3048, `Meter`),
//!   angular units and prime meridians;
//! - the datum: a datum on the WGS 84 or GRS 1980 ellipsoid without a
//!   `TOWGS84` is taken as WGS 84 (D_WGS_1984, D_North_American_1983,
//!   D_ETRS_1989, CGCS2000, ...: within about a metre, as PROJ's null
//!   transformations say); a `TOWGS84[dx,dy,dz(,rx,ry,rz,ds)]` is applied
//!   (position vector, as PROJ does); ESRI `.prj` files never carry a
//!   `TOWGS84`, so a few datums get the shift PROJ itself would use
//!   (`datums`: OSGB 1936, TM65/TM75, Amersfoort); any other datum (e.g.
//!   `D_North_American_1927`, `D_Deutsches_Hauptdreiecksnetz`) is refused
//!   naming it, because converting it as if it were WGS 84 would put every
//!   shape tens to hundreds of metres off without a word;
//! - otherwise (an unknown projection, a broken `.prj`) the upload fails
//!   with a message naming the projection and asking for WGS 84 data.
//!
//! Accuracy: checked against PROJ 9.5 (pyproj) on the `.prj` files of
//! `tests/data/prj` (see `generate.py` there): within 1e-10 degree.

mod datums;

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
///
/// Errors: [`FormatError::Document`] naming the projection or datum that
/// cannot be converted (or saying why the `.prj` cannot be read).
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
    // GDAL's WKT1 of EPSG:3857 says `Mercator_1SP` on the WGS 84 ellipsoid
    // (the sphere is only in its PROJ4 extension), so it is caught by its
    // name or code; ESRI's `Mercator_Auxiliary_Sphere` and the WKT2 method
    // are read by proj4wkt like the rest.
    let gdal_web_mercator = keyword == "PROJCS"
        && quoted_after(text, &["PROJECTION"]).is_some_and(|method| method.eq_ignore_ascii_case("Mercator_1SP"))
        && (upper.contains("PSEUDO_MERCATOR")
            || upper.contains("PSEUDO-MERCATOR")
            || upper.contains("\"EPSG\",\"3857\"]]"));
    if gdal_web_mercator {
        let from = "+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +no_defs";
        let to = "+proj=longlat +a=6378137 +b=6378137 +no_defs";
        return Ok(Some(Reprojection {
            from: Proj::from_proj_string(from).map_err(|error| refuse(error.to_string()))?,
            to: Proj::from_proj_string(to).map_err(|error| refuse(error.to_string()))?,
            source_is_geographic: false,
            description: "Web Mercator".into(),
        }));
    }
    let mut proj_string = proj4wkt::wkt_to_projstring(text).map_err(|error| {
        let error = error.to_string();
        match quoted_after(text, &["PROJECTION", "METHOD"]) {
            Some(projection) if error.contains("No projection mapping") => {
                refuse(format!("the projection \"{projection}\" is not supported"))
            }
            _ => refuse(error),
        }
    })?;
    // proj4wkt writes a +towgs84 for a datum on the WGS 84 or GRS 1980
    // ellipsoid and for one with a TOWGS84; without one proj4rs would
    // skip the datum shift silently.
    if !proj_string.contains("+towgs84=") {
        let datum = quoted_after(text, &["DATUM", "GEODETICDATUM", "TRF"]).unwrap_or("unnamed");
        let semi_major_axis = proj_parameter(&proj_string, "a").unwrap_or(f64::NAN);
        let Some(towgs84) = datums::known_towgs84(datum, semi_major_axis) else {
            return Err(refuse(format!(
                "the datum \"{datum}\" is not WGS 84 and the .prj gives no TOWGS84 shift to WGS 84"
            )));
        };
        proj_string = format!("{proj_string} +towgs84={towgs84}");
    }
    let from = Proj::from_proj_string(&proj_string).map_err(|error| refuse(format!("{proj_string}: {error}")))?;
    let to = Proj::from_proj_string(WGS84).map_err(|error| refuse(error.to_string()))?;
    let source_is_geographic = from.is_latlong();
    Ok(Some(Reprojection { from, to, source_is_geographic, description: proj_string }))
}

/// The value of `+name=` in a PROJ string.
fn proj_parameter(proj_string: &str, name: &str) -> Option<f64> {
    proj_string
        .split_whitespace()
        .find_map(|token| token.strip_prefix('+')?.strip_prefix(name)?.strip_prefix('=')?.parse().ok())
}

/// The first quoted name after the first of `keywords` (`KEYWORD["name"`).
fn quoted_after<'a>(text: &'a str, keywords: &[&str]) -> Option<&'a str> {
    // ASCII upper-casing keeps byte offsets, so they index `text` too.
    let upper = text.to_ascii_uppercase();
    let start = keywords.iter().find_map(|keyword| {
        upper.match_indices(keyword).find_map(|(at, _)| {
            let rest = upper[at + keyword.len()..].trim_start();
            (rest.starts_with('[') || rest.starts_with('(')).then_some(at + keyword.len())
        })
    })?;
    let open = start + text[start..].find('"')? + 1;
    let close = open + text[open..].find('"')?;
    Some(&text[open..close])
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

#[cfg(test)]
mod tests;
