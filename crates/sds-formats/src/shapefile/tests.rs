use std::io::Write;
use std::path::{Path, PathBuf};

use sds_core::{BuiltRecord, EdmType, Entity, EntityBuilder, InputFormat, Value};

use super::*;
use crate::{open_path_reader, open_path_reader_with};

pub(crate) fn data_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(name)
}

pub(crate) fn zip_file(entries: &[(&str, Vec<u8>)]) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    let mut zip = zip::ZipWriter::new(file.reopen().unwrap());
    for (name, bytes) in entries {
        zip.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap();
    file
}

fn zip_dataset(name: &str) -> tempfile::NamedTempFile {
    let dir = data_dir(name);
    let entries: Vec<(String, Vec<u8>)> = ["shp", "shx", "dbf", "prj", "cpg"]
        .iter()
        .map(|extension| {
            (format!("{name}/{name}.{extension}"), std::fs::read(dir.join(format!("{name}.{extension}"))).unwrap())
        })
        .collect();
    let borrowed: Vec<(&str, Vec<u8>)> = entries.iter().map(|(name, bytes)| (name.as_str(), bytes.clone())).collect();
    zip_file(&borrowed)
}

pub(crate) fn entities(reader: &mut dyn RecordReader) -> (Vec<Entity>, Vec<String>) {
    let builder = EntityBuilder::for_complete(reader.schema().clone());
    let (mut built, mut failed) = (Vec::new(), Vec::new());
    while let Some(record) = reader.next_record() {
        let record = record.unwrap();
        if let Some(problem) = record.problem {
            failed.push(problem);
            continue;
        }
        match builder.build(&record.cells) {
            Ok(BuiltRecord::Upsert(entity)) => built.push(entity),
            Ok(other) => panic!("{other:?}"),
            Err(error) => failed.push(error.to_string()),
        }
    }
    (built, failed)
}

fn drain_error(mut reader: Box<dyn RecordReader>) -> FormatError {
    while let Some(record) = reader.next_record() {
        if let Err(error) = record {
            return error;
        }
    }
    panic!("expected an error");
}

#[test]
fn natural_earth_countries_load_with_latin1_names() {
    let zip = zip_dataset("naturalearth_lowres");
    let mut reader = open_path_reader(InputFormat::Shp, zip.path(), "Countries", 300_000_000).unwrap();
    let schema = reader.schema().clone();
    assert_eq!(schema.entity_type_name, "Countries");
    let types: Vec<(&str, EdmType)> = schema.properties.iter().map(|p| (p.name.as_str(), p.edm_type)).collect();
    assert_eq!(
        types,
        [
            ("EntityID", EdmType::String),
            ("pop_est", EdmType::Double),
            ("continent", EdmType::String),
            ("name", EdmType::String),
            ("iso_a3", EdmType::String),
            ("gdp_md_est", EdmType::Int64),
            ("Geom", EdmType::Geography),
        ]
    );
    let (built, failed) = entities(reader.as_mut());
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(built.len(), 177);
    assert_eq!(built[0].id, "1");
    let name = schema.property_index("name").unwrap();
    let names: Vec<&str> = built.iter().filter_map(|entity| entity.values[name].as_str()).collect();
    assert!(names.contains(&"Côte d'Ivoire"), "{names:?}");
    let multipolygons = built.iter().filter(|e| e.values[6].as_str().unwrap().starts_with("MULTIPOLYGON")).count();
    assert!(multipolygons > 10, "{multipolygons}");
    let canada = built.iter().find(|e| e.values[4] == Value::String("CAN".into())).unwrap();
    assert!(canada.latitude > 50.0 && canada.latitude < 70.0 && canada.longitude < -80.0, "{canada:?}");
}

#[test]
fn natural_earth_cities_are_points() {
    let zip = zip_dataset("naturalearth_cities");
    let mut reader = open_path_reader(InputFormat::Shp, zip.path(), "Cities", 300_000_000).unwrap();
    let (built, failed) = entities(reader.as_mut());
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(built.len(), 243);
    assert!(built.iter().all(|entity| entity.values[2].as_str().unwrap().starts_with("POINT(")));
}

// --- small synthetic shapefiles ---

fn record(number: i32, content: &[u8]) -> Vec<u8> {
    let mut bytes = number.to_be_bytes().to_vec();
    bytes.extend(((content.len() / 2) as i32).to_be_bytes());
    bytes.extend(content);
    bytes
}

pub(crate) fn shp(shape_type: i32, contents: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for (index, content) in contents.iter().enumerate() {
        body.extend(record(index as i32 + 1, content));
    }
    let mut header = vec![0u8; 100];
    header[..4].copy_from_slice(&9994i32.to_be_bytes());
    header[24..28].copy_from_slice(&(((100 + body.len()) / 2) as i32).to_be_bytes());
    header[28..32].copy_from_slice(&1000i32.to_le_bytes());
    header[32..36].copy_from_slice(&shape_type.to_le_bytes());
    header.extend(body);
    header
}

pub(crate) fn point(shape_type: i32, x: f64, y: f64) -> Vec<u8> {
    let mut bytes = shape_type.to_le_bytes().to_vec();
    bytes.extend(x.to_le_bytes());
    bytes.extend(y.to_le_bytes());
    if shape_type == 11 {
        bytes.extend(5.0f64.to_le_bytes());
    }
    if shape_type == 11 || shape_type == 21 {
        bytes.extend(7.0f64.to_le_bytes());
    }
    bytes
}

pub(crate) fn parts(shape_type: i32, parts: &[&[[f64; 2]]]) -> Vec<u8> {
    let mut bytes = shape_type.to_le_bytes().to_vec();
    bytes.extend([0u8; 32]);
    let count: usize = parts.iter().map(|part| part.len()).sum();
    bytes.extend((parts.len() as i32).to_le_bytes());
    bytes.extend((count as i32).to_le_bytes());
    let mut start = 0;
    for part in parts {
        bytes.extend((start as i32).to_le_bytes());
        start += part.len();
    }
    for part in parts {
        for c in *part {
            bytes.extend(c[0].to_le_bytes());
            bytes.extend(c[1].to_le_bytes());
        }
    }
    if shape_type == 15 {
        bytes.extend([0u8; 16]);
        bytes.extend(vec![0u8; 8 * count]);
    }
    bytes
}

/// Fields: (name, type, length, decimals).
pub(crate) fn dbf(fields: &[(&str, u8, u8, u8)], rows: &[Vec<&[u8]>], declared_rows: Option<u32>, ldid: u8) -> Vec<u8> {
    let record_length: usize = 1 + fields.iter().map(|field| usize::from(field.2)).sum::<usize>();
    let header_length = 32 + 32 * fields.len() + 1;
    let mut bytes = vec![0u8; 32];
    bytes[0] = 3;
    bytes[4..8].copy_from_slice(&declared_rows.unwrap_or(rows.len() as u32).to_le_bytes());
    bytes[8..10].copy_from_slice(&(header_length as u16).to_le_bytes());
    bytes[10..12].copy_from_slice(&(record_length as u16).to_le_bytes());
    bytes[29] = ldid;
    for (name, kind, length, decimals) in fields {
        let mut descriptor = [0u8; 32];
        descriptor[..name.len()].copy_from_slice(name.as_bytes());
        descriptor[11] = *kind;
        descriptor[16] = *length;
        descriptor[17] = *decimals;
        bytes.extend(descriptor);
    }
    bytes.push(0x0D);
    for row in rows {
        bytes.push(b' ');
        for (value, field) in row.iter().zip(fields) {
            let mut cell = value.to_vec();
            cell.resize(usize::from(field.2), b' ');
            bytes.extend(cell);
        }
    }
    bytes.push(0x1A);
    bytes
}

fn reader_of(shp_bytes: Vec<u8>, dbf_bytes: Vec<u8>, prj: Option<&str>) -> Result<ShapefileReader, FormatError> {
    ShapefileReader::from_readers(
        Box::new(std::io::Cursor::new(shp_bytes)),
        Box::new(std::io::Cursor::new(dbf_bytes)),
        prj,
        None,
        &PathReaderOptions::new("T", 1 << 30),
    )
}

fn one_field_dbf(count: usize) -> Vec<u8> {
    let rows: Vec<Vec<&[u8]>> = (0..count).map(|_| vec![&b"x"[..]]).collect();
    dbf(&[("NAME", b'C', 10, 0)], &rows, None, 0)
}

#[test]
fn dbf_types_and_code_pages() {
    let fields = [
        ("NAME", b'C', 12, 0),
        ("COUNT", b'N', 10, 0),
        ("RATIO", b'N', 12, 4),
        ("OK", b'L', 1, 0),
        ("DAY", b'D', 8, 0),
        ("BIG", b'N', 20, 0),
    ];
    let rows = vec![
        vec![&b"Z\xfcrich"[..], b"42", b"0.5000", b"T", b"20240131", b"12345678901234567890"],
        vec![&b"  "[..], b"", b"", b"?", b"        ", b""],
    ];
    let shapes = vec![point(1, 8.5, 47.4), point(1, 1.0, 2.0)];
    let mut reader = reader_of(shp(1, &shapes), dbf(&fields, &rows, None, 0x57), None).unwrap();
    let types: Vec<EdmType> = reader.schema().properties.iter().map(|p| p.edm_type).collect();
    use EdmType::*;
    assert_eq!(types, [String, String, Int64, Double, Boolean, DateTime, Double, Geography]);
    let (built, failed) = entities(&mut reader);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(built[0].values[1], Value::String("Zürich".into()));
    assert_eq!(built[0].values[2], Value::Int64(42));
    assert_eq!(built[0].values[3], Value::Double(0.5));
    assert_eq!(built[0].values[4], Value::Boolean(true));
    assert_eq!(built[0].values[5].to_string(), "2024-01-31T00:00:00Z");
    assert_eq!(built[0].values[7], Value::Geography("POINT(8.5 47.4)".into()));
    assert_eq!((built[0].latitude, built[0].longitude), (47.4, 8.5));
    // A blank character field is the empty string (Edm.String is never null); the others are null.
    assert_eq!(built[1].values[1], Value::String(std::string::String::new()));
    assert!(built[1].values[2..7].iter().all(Value::is_null), "{:?}", built[1].values);

    // UTF-8 by .cpg; the same bytes would be Windows-1252 by the driver byte.
    let utf8 = dbf(&[("NAME", b'C', 12, 0)], &[vec!["Zürich".as_bytes()]], None, 0x57);
    let mut reader = ShapefileReader::from_readers(
        Box::new(std::io::Cursor::new(shp(1, &[point(1, 1.0, 1.0)]))),
        Box::new(std::io::Cursor::new(utf8)),
        None,
        Some("UTF-8\n"),
        &PathReaderOptions::new("T", 1 << 30),
    )
    .unwrap();
    let (built, _) = entities(&mut reader);
    assert_eq!(built[0].values[1], Value::String("Zürich".into()));
}

#[test]
fn oem_code_pages_are_decoded() {
    let name_of = |name: &[u8], ldid: u8, cpg: Option<&str>| {
        let mut reader = ShapefileReader::from_readers(
            Box::new(std::io::Cursor::new(shp(1, &[point(1, 1.0, 1.0)]))),
            Box::new(std::io::Cursor::new(dbf(&[("NAME", b'C', 12, 0)], &[vec![name]], None, ldid))),
            None,
            cpg,
            &PathReaderOptions::new("T", 1 << 30),
        )
        .unwrap();
        let (built, failed) = entities(&mut reader);
        match built.first() {
            Some(entity) => Ok(entity.values[1].to_string()),
            None => Err(failed.join("; ")),
        }
    };
    // "Zürich" in DOS code page 437 (ü = 0x81) and "Łódź" in 852.
    assert_eq!(name_of(b"Z\x81rich", 0x01, None).unwrap(), "Zürich");
    assert_eq!(name_of(b"Z\x81rich", 0x00, Some("CP437")).unwrap(), "Zürich");
    assert_eq!(name_of(b"\x9d\xa2d\xab", 0x64, None).unwrap(), "Łódź");
    assert_eq!(name_of(b"\x9d\xa2d\xab", 0x00, Some("852")).unwrap(), "Łódź");
    // Every driver byte maps to something (the OEM ones to a table oem_cp has).
    for id in 0..=u8::MAX {
        super::dbf::CodePage::from_language_driver(id);
    }
    // A driver byte nobody documents: ASCII reads, anything else fails the row.
    assert_eq!(name_of(b"Zurich", 0xF0, None).unwrap(), "Zurich");
    let error = name_of(b"Z\x81rich", 0xF0, None).unwrap_err();
    assert!(error.contains("language driver 0xF0"), "{error}");
}

#[test]
fn every_shape_type_becomes_wkt() {
    let square: &[[f64; 2]] = &[[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0], [0.0, 0.0]]; // clockwise
    let hole: &[[f64; 2]] = &[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0], [1.0, 1.0]]; // counter-clockwise
    let far: &[[f64; 2]] = &[[10.0, 10.0], [10.0, 11.0], [11.0, 11.0], [11.0, 10.0], [10.0, 10.0]];
    let cases: Vec<(i32, Vec<u8>, &str)> = vec![
        (1, point(1, 1.0, 2.0), "POINT(1 2)"),
        (11, point(11, 1.0, 2.0), "POINT(1 2)"),
        (21, point(21, 1.0, 2.0), "POINT(1 2)"),
        (8, parts(8, &[]).into_iter().take(36).chain(2i32.to_le_bytes()).chain([1.0f64, 2.0, 3.0, 4.0].iter().flat_map(|v| v.to_le_bytes())).collect(), "MULTIPOINT((1 2), (3 4))"),
        (3, parts(3, &[&[[0.0, 0.0], [1.0, 1.0]]]), "LINESTRING(0 0, 1 1)"),
        (3, parts(3, &[&[[0.0, 0.0], [1.0, 1.0]], &[[2.0, 2.0], [3.0, 3.0]]]), "MULTILINESTRING((0 0, 1 1), (2 2, 3 3))"),
        (5, parts(5, &[square, hole]), "POLYGON((0 0, 0 4, 4 4, 4 0, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1))"),
        (15, parts(15, &[square, hole, far]), "MULTIPOLYGON(((0 0, 0 4, 4 4, 4 0, 0 0), (1 1, 2 1, 2 2, 1 2, 1 1)), ((10 10, 10 11, 11 11, 11 10, 10 10)))"),
    ];
    for (shape_type, content, expected) in cases {
        let mut reader = reader_of(shp(shape_type, &[content]), one_field_dbf(1), None).unwrap();
        let record = reader.next_record().unwrap().unwrap();
        assert_eq!(record.problem, None, "{expected}");
        assert_eq!(record.cells.last().unwrap().as_deref(), Some(expected));
        sds_core::Geography::parse(expected).unwrap();
    }
    // A hole listed before its outer ring still lands in it.
    let mut reader = reader_of(shp(5, &[parts(5, &[hole, square])]), one_field_dbf(1), None).unwrap();
    let record = reader.next_record().unwrap().unwrap();
    assert!(record.cells[2].as_deref().unwrap().starts_with("POLYGON((0 0"), "{:?}", record.cells);
}

#[test]
fn null_and_malformed_shapes_fail_their_rows_only() {
    let mut bad_parts = parts(5, &[&[[0.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]]]);
    bad_parts[44..48].copy_from_slice(&7i32.to_le_bytes());
    let shapes = vec![0i32.to_le_bytes().to_vec(), bad_parts, point(1, 1.0, 1.0)];
    let mut reader = reader_of(shp(5, &shapes), one_field_dbf(3), None).unwrap();
    let problems: Vec<Option<String>> = (0..3).map(|_| reader.next_record().unwrap().unwrap().problem).collect();
    assert!(problems[0].as_deref().unwrap().contains("null shape"), "{problems:?}");
    assert!(problems[1].as_deref().unwrap().contains("malformed"), "{problems:?}");
    assert_eq!(problems[2], None);
    assert!(reader.next_record().is_none());
}

#[test]
fn truncated_shapefiles_are_refused() {
    let full = shp(1, &[point(1, 1.0, 1.0), point(1, 2.0, 2.0)]);
    for cut in [full.len() - 5, full.len() - 28, 50] {
        let result = reader_of(full[..cut].to_vec(), one_field_dbf(2), None);
        let error = match result {
            Err(error) => error,
            Ok(reader) => drain_error(Box::new(reader)),
        };
        assert!(error.to_string().contains("truncated") || error.to_string().contains("shorter"), "{cut}: {error}");
    }
    // Cut exactly at a record boundary: the header's length tells.
    let cut = full.len() - 28;
    let error = drain_error(Box::new(reader_of(full[..cut].to_vec(), one_field_dbf(2), None).unwrap()));
    assert!(error.to_string().contains("truncated"), "{error}");
}

#[test]
fn dbf_row_count_mismatch_is_refused() {
    let shapes = shp(1, &[point(1, 1.0, 1.0), point(1, 2.0, 2.0)]);
    let error = drain_error(Box::new(reader_of(shapes.clone(), one_field_dbf(1), None).unwrap()));
    assert!(error.to_string().contains("more shapes than the .dbf has rows"), "{error}");
    let error = drain_error(Box::new(reader_of(shapes.clone(), one_field_dbf(3), None).unwrap()));
    assert!(error.to_string().contains("holds 3 rows but the .shp only 2"), "{error}");
    // Header says 5 rows; the file holds 2.
    let lying = dbf(&[("NAME", b'C', 10, 0)], &[vec![&b"a"[..]], vec![&b"b"[..]]], Some(5), 0);
    let mut reader =
        reader_of(shp(1, &[point(1, 1.0, 1.0), point(1, 2.0, 2.0), point(1, 3.0, 3.0)]), lying, None).unwrap();
    let error =
        drain_error(Box::new(std::mem::replace(&mut reader, reader_of(shapes, one_field_dbf(2), None).unwrap())));
    assert!(error.to_string().contains(".dbf file is truncated"), "{error}");
}

#[test]
fn projections_are_converted_or_refused() {
    let web_mercator = r#"PROJCS["WGS_1984_Web_Mercator_Auxiliary_Sphere",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Mercator_Auxiliary_Sphere"],PARAMETER["False_Easting",0.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",0.0],PARAMETER["Standard_Parallel_1",0.0],PARAMETER["Auxiliary_Sphere_Type",0.0],UNIT["Meter",1.0]]"#;
    // Seattle in EPSG:3857.
    let mut reader =
        reader_of(shp(1, &[point(1, -13_618_288.8, 6_041_875.0)]), one_field_dbf(1), Some(web_mercator)).unwrap();
    let (built, failed) = entities(&mut reader);
    assert!(failed.is_empty(), "{failed:?}");
    assert!(
        (built[0].longitude - -122.335).abs() < 0.01 && (built[0].latitude - 47.608).abs() < 0.01,
        "{:?}",
        built[0]
    );

    let utm_33n = r#"PROJCS["WGS_1984_UTM_Zone_33N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",15.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    let mut reader = reader_of(shp(1, &[point(1, 500_000.0, 5_538_630.7)]), one_field_dbf(1), Some(utm_33n)).unwrap();
    let (built, failed) = entities(&mut reader);
    assert!(failed.is_empty(), "{failed:?}");
    assert!((built[0].longitude - 15.0).abs() < 1e-6 && (built[0].latitude - 50.0).abs() < 1e-3, "{:?}", built[0]);

    for wrong in
        ["PROJCS[\"x\",GEOGCS[\"y\"],PROJECTION[\"Imaginary_Projection\"]]", "not a prj at all", &"[".repeat(100)]
    {
        let error = reader_of(shp(1, &[point(1, 1.0, 1.0)]), one_field_dbf(1), Some(wrong)).err().expect(wrong);
        assert!(error.to_string().contains("cannot be converted to WGS 84"), "{error}");
    }
    // The datasets' own .prj is WGS 84: no conversion.
    let prj = std::fs::read_to_string(data_dir("naturalearth_cities").join("naturalearth_cities.prj")).unwrap();
    assert!(prj::reprojection(&prj).unwrap().is_none());
}

#[test]
fn polygon_limits_are_enforced_per_file() {
    let square: &[[f64; 2]] = &[[0.0, 0.0], [0.0, 4.0], [4.0, 4.0], [4.0, 0.0], [0.0, 0.0]];
    let contents: Vec<Vec<u8>> = (0..3).map(|_| parts(5, &[square])).collect();
    let zip = zip_file(&[("a.shp", shp(5, &contents)), ("a.dbf", one_field_dbf(3)), ("a.shx", vec![])]);
    let mut options = PathReaderOptions::new("T", 1 << 30);
    options.limits = FileLimits { max_polygons: 2, max_points_per_polygon: 250 };
    let error = drain_error(open_path_reader_with(InputFormat::Shp, zip.path(), &options).unwrap());
    assert!(error.to_string().contains("more than 2 polygons"), "{error}");
    options.limits = FileLimits { max_polygons: 50, max_points_per_polygon: 4 };
    let error = drain_error(open_path_reader_with(InputFormat::Shp, zip.path(), &options).unwrap());
    assert!(error.to_string().contains("5 points"), "{error}");
}

#[test]
fn zip_problems_are_clear() {
    let not_zip = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(not_zip.path(), b"hello").unwrap();
    let error = open_path_reader(InputFormat::Shp, not_zip.path(), "T", 1 << 30).err().unwrap();
    assert!(error.to_string().contains("zip archive"), "{error}");
    let no_dbf = zip_file(&[("a.shp", shp(1, &[]))]);
    let error = open_path_reader(InputFormat::Shp, no_dbf.path(), "T", 1 << 30).err().unwrap();
    assert!(error.to_string().contains("no .dbf"), "{error}");
    let two = zip_file(&[("a.shp", shp(1, &[])), ("b.shp", shp(1, &[])), ("a.dbf", one_field_dbf(0))]);
    let error = open_path_reader(InputFormat::Shp, two.path(), "T", 1 << 30).err().unwrap();
    assert!(error.to_string().contains("more than one shapefile"), "{error}");
    let big = zip_file(&[("a.shp", vec![0u8; 10_000]), ("a.dbf", one_field_dbf(0))]);
    let error = open_path_reader(InputFormat::Shp, big.path(), "T", 5_000).err().unwrap();
    assert!(error.to_string().contains("larger than the limit"), "{error}");
}
