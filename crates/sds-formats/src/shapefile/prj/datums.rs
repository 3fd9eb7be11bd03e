//! Datum shifts to WGS 84 for `.prj` files that name a datum but give no
//! `TOWGS84`: every `.prj` in the ESRI dialect (ArcGIS never writes one).
//!
//! Why a table: `proj4wkt` and `proj4rs` have no EPSG database, and PROJ's
//! choice of transformation depends on it. Only datums for which PROJ
//! (9.5, without transformation grids) picks one Helmert transformation
//! over the whole area of use are listed, with that transformation's
//! parameters, so that `sds` lands where PROJ does (checked point by point
//! by `tests/data/prj/generate.py` and the fixtures' test). Datums whose
//! best shift is a grid or differs by region (NAD27, ED50, DHDN, Tokyo,
//! AGD66, ...) are not listed and stay refused: one set of parameters for
//! them would be metres to tens of metres off in places, silently.

/// One datum: its names (ESRI's without the `D_` prefix, and OGC's), the
/// semi-major axis of its ellipsoid in metres (a `.prj` naming the datum
/// on another ellipsoid is not trusted), and the PROJ `+towgs84` value
/// (position vector convention: metres, arc-seconds, ppm).
struct KnownShift {
    names: &'static [&'static str],
    semi_major_axis: f64,
    towgs84: &'static str,
}

/// Sources: EPSG transformation codes, as PROJ 9.5 lists them.
const KNOWN_SHIFTS: &[KnownShift] = &[
    // EPSG:1314 "OSGB36 to WGS 84 (6)", 2 m, Great Britain.
    KnownShift {
        names: &["OSGB_1936", "Ordnance_Survey_of_Great_Britain_1936", "OSGB36"],
        semi_major_axis: 6_377_563.396,
        towgs84: "446.448,-125.157,542.06,0.15,0.247,0.842,-20.489",
    },
    // EPSG:1641 "TM65 to WGS 84 (2)" and EPSG:1954 "TM75 to WGS 84 (2)",
    // 1 m, Ireland (Irish Grid).
    KnownShift {
        names: &["TM65", "TM75", "Geodetic_Datum_of_1965"],
        semi_major_axis: 6_377_340.189,
        towgs84: "482.5,-130.6,564.6,-1.042,-0.214,-0.631,8.15",
    },
    // EPSG:4833 "Amersfoort to WGS 84 (4)", 1 m, the Netherlands (RD New);
    // EPSG gives it in the coordinate frame convention, so the rotations
    // change sign here.
    KnownShift {
        names: &["Amersfoort"],
        semi_major_axis: 6_377_397.155,
        towgs84: "565.4171,50.3319,465.5524,-0.398957388243134,0.343987817378283,-1.87740163998045,4.0725",
    },
];

/// The `+towgs84` value for the datum named `datum` (with or without
/// ESRI's `D_` prefix, any case, spaces as underscores) on an ellipsoid of
/// semi-major axis `semi_major_axis` metres; `None` when it is not known.
pub(super) fn known_towgs84(datum: &str, semi_major_axis: f64) -> Option<&'static str> {
    let name = datum.replace(' ', "_");
    let name = name.strip_prefix("D_").or_else(|| name.strip_prefix("d_")).unwrap_or(&name);
    KNOWN_SHIFTS
        .iter()
        .find(|shift| {
            shift.names.iter().any(|known| known.eq_ignore_ascii_case(name))
                && (shift.semi_major_axis - semi_major_axis).abs() < 0.01
        })
        .map(|shift| shift.towgs84)
}
