//! Issue 9 finding 6: `.prj` files in the ESRI dialect (as ArcGIS writes
//! them) and OGC WKT1 with a TOWGS84, each checked point by point against
//! PROJ. The fixtures are `tests/data/prj/*.prj` and `points.csv`, written
//! by `tests/data/prj/generate.py` with pyproj (see there for how the
//! expected values are computed).

use std::path::PathBuf;

use super::reprojection;

/// 1e-8 degree is 1.1 mm on the ground at most. The fixtures are exact to
/// 5e-11 degree (10 decimals), and proj4rs implements PROJ's formulas: the
/// largest difference measured over every fixture is 6.4e-11 degree, so
/// the bound leaves room for fixtures regenerated with another PROJ
/// version. Any mistake of kind is far above it: a US survey foot read as
/// an international foot is 2 ppm (about a metre, 1e-5 degree, at State
/// Plane offsets), a skipped TOWGS84 about 100 m, a wrong standard
/// parallel or origin kilometres.
const TOLERANCE_DEGREES: f64 = 1e-8;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/prj")
}

/// `(x, y, lon, lat)` rows of one case in `points.csv`.
fn points(case: &str) -> Vec<[f64; 4]> {
    let csv = std::fs::read_to_string(fixtures().join("points.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("case,x,y,lon,lat"));
    lines
        .map(|line| line.split(',').collect::<Vec<_>>())
        .filter(|cells| cells[0] == case)
        .map(|cells| std::array::from_fn(|index| cells[index + 1].parse::<f64>().unwrap()))
        .collect()
}

/// Reprojects every point of `case` from its `.prj` and returns the
/// largest difference from PROJ's value, in degrees.
fn check(case: &str) -> f64 {
    let prj = std::fs::read_to_string(fixtures().join(format!("{case}.prj"))).unwrap();
    let reprojection = reprojection(&prj).unwrap_or_else(|error| panic!("{case}: {error}")).expect(case);
    let points = points(case);
    assert!(points.len() >= 3, "{case} has {} points", points.len());
    let mut worst: f64 = 0.0;
    for [x, y, lon, lat] in points {
        let converted = reprojection.convert([x, y]).unwrap_or_else(|| panic!("{case}: ({x}, {y}) not converted"));
        let difference = (converted[0] - lon).abs().max((converted[1] - lat).abs());
        assert!(
            difference < TOLERANCE_DEGREES,
            "{case}: ({x}, {y}) -> {converted:?}, PROJ says ({lon}, {lat}); {reprojection:?}"
        );
        worst = worst.max(difference);
    }
    worst
}

#[test]
fn finding_6_esri_lambert_conformal_conic_state_plane() {
    // NAD83 / Washington North (ftUS), EPSG:2285, as ArcGIS writes it.
    check("wa_north_ftus_lcc_2sp");
}

#[test]
fn finding_6_esri_lambert_conformal_conic_one_standard_parallel() {
    check("jamaica_lcc_1sp");
}

#[test]
fn finding_6_esri_utm() {
    check("nad83_utm_10n");
    check("wgs84_utm_33n");
}

#[test]
fn finding_6_esri_transverse_mercator_in_international_feet_and_gauss_kruger() {
    check("arizona_central_ft_intl_tm");
    check("cgcs2000_gauss_kruger_cm_114e");
}

#[test]
fn finding_6_esri_albers_usa_contiguous() {
    check("usa_contiguous_albers");
}

#[test]
fn finding_6_esri_web_mercator_auxiliary_sphere() {
    check("wgs84_web_mercator_auxiliary_sphere");
}

#[test]
fn finding_6_esri_stereographic_polar_and_generic() {
    check("antarctic_polar_stereographic");
    check("nsidc_north_polar_stereographic");
    check("south_pole_stereographic");
}

#[test]
fn finding_6_towgs84_datum_shift_is_applied() {
    check("osgb36_british_national_grid_towgs84");
}

#[test]
fn finding_6_esri_datums_without_towgs84_get_the_shift_proj_uses() {
    check("osgb36_british_national_grid_esri");
    check("tm75_irish_grid_esri");
    check("amersfoort_rd_new_double_stereographic_esri");
}

/// Every fixture is checked (a case added to `generate.py` cannot be left
/// out), and the largest difference from PROJ is printed.
#[test]
fn finding_6_every_prj_fixture_agrees_with_proj() {
    let mut cases: Vec<String> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|name| name.strip_suffix(".prj").map(str::to_owned))
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "{cases:?}");
    for case in cases {
        let worst = check(&case);
        println!("{case}: largest difference from PROJ {worst:.1e} degree");
    }
}

#[test]
fn finding_6_unsupported_projections_and_datums_are_refused_by_name() {
    let gcs = r#"GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    let imaginary = format!(
        r#"PROJCS["x",{gcs},PROJECTION["Imaginary_Projection"],PARAMETER["False_Easting",0.0],UNIT["Meter",1.0]]"#
    );
    let error = reprojection(&imaginary).unwrap_err().to_string();
    assert!(error.contains("the projection \"Imaginary_Projection\" is not supported"), "{error}");
    assert!(error.contains("reproject the data to WGS 84"), "{error}");

    // ArcGIS's DHDN Gauss-Krueger zone 3: ESRI .prj files carry no TOWGS84,
    // and PROJ's shift for DHDN differs by region.
    let dhdn = r#"PROJCS["DHDN_3_Degree_Gauss_Zone_3",GEOGCS["GCS_Deutsches_Hauptdreiecksnetz",DATUM["D_Deutsches_Hauptdreiecksnetz",SPHEROID["Bessel_1841",6377397.155,299.1528128]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",3500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    let error = reprojection(dhdn).unwrap_err().to_string();
    assert!(error.contains("the datum \"D_Deutsches_Hauptdreiecksnetz\" is not WGS 84"), "{error}");
    // A known datum name on another ellipsoid is not trusted.
    let misnamed = std::fs::read_to_string(fixtures().join("osgb36_british_national_grid_esri.prj"))
        .unwrap()
        .replace("6377563.396", "6378388.0");
    let error = reprojection(&misnamed).unwrap_err().to_string();
    assert!(error.contains("the datum \"D_OSGB_1936\" is not WGS 84"), "{error}");
    let nad27 = r#"GEOGCS["GCS_North_American_1927",DATUM["D_North_American_1927",SPHEROID["Clarke_1866",6378206.4,294.9786982]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]]"#;
    let error = reprojection(nad27).unwrap_err().to_string();
    assert!(error.contains("the datum \"D_North_American_1927\" is not WGS 84"), "{error}");

    // Only the auxiliary sphere of WGS 84's semi-major axis is Web Mercator.
    let authalic = std::fs::read_to_string(fixtures().join("wgs84_web_mercator_auxiliary_sphere.prj"))
        .unwrap()
        .replace(r#"PARAMETER["Auxiliary_Sphere_Type",0.0]"#, r#"PARAMETER["Auxiliary_Sphere_Type",2.0]"#);
    let error = reprojection(&authalic).unwrap_err().to_string();
    assert!(error.contains("Auxiliary_Sphere_Type"), "{error}");
}
