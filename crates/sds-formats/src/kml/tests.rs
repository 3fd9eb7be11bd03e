use std::io::Write;

use sds_core::{EdmType, InputFormat, Value};

use super::*;
use crate::shapefile::tests::{entities, zip_file};
use crate::{open_path_reader, FileLimits};

const SAMPLE: &str = r##"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <Schema name="Shop" id="ShopId">
    <SimpleField type="int" name="Seats"/>
    <SimpleField type="double" name="Rating"/>
    <SimpleField type="bool" name="Open late"/>
  </Schema>
  <Folder>
    <Placemark id="cafe-1">
      <name>Café &amp; Co</name>
      <description><![CDATA[<b>Best</b> coffee]]></description>
      <ExtendedData>
        <SchemaData schemaUrl="#ShopId">
          <SimpleData name="Seats">12</SimpleData>
          <SimpleData name="Rating">4.5</SimpleData>
          <SimpleData name="Open late">1</SimpleData>
        </SchemaData>
        <Data name="phone"><displayName>Phone</displayName><value>555-0100</value></Data>
      </ExtendedData>
      <Point><coordinates>-122.13, 47.64, 10</coordinates></Point>
    </Placemark>
    <Placemark>
      <name>Route</name>
      <LineString><tessellate>1</tessellate><coordinates>
        -122.1,47.6,0 -122.2,47.7,0
      </coordinates></LineString>
    </Placemark>
  </Folder>
  <Placemark id="park">
    <Polygon>
      <outerBoundaryIs><LinearRing><coordinates>0,0 4,0 4,4 0,4 0,0</coordinates></LinearRing></outerBoundaryIs>
      <innerBoundaryIs><LinearRing><coordinates>1,1 1,2 2,2 2,1</coordinates></LinearRing></innerBoundaryIs>
    </Polygon>
  </Placemark>
  <Placemark>
    <MultiGeometry>
      <Point><coordinates>1,2</coordinates></Point>
      <Point><coordinates>3,4</coordinates></Point>
    </MultiGeometry>
  </Placemark>
  <Placemark>
    <MultiGeometry>
      <Point><coordinates>1,2</coordinates></Point>
      <LineString><coordinates>0,0 1,1</coordinates></LineString>
    </MultiGeometry>
  </Placemark>
  <Placemark id="nowhere"><name>No geometry</name></Placemark>
</Document>
</kml>
"##;

fn options() -> PathReaderOptions {
    PathReaderOptions::new("My Shops!", 1 << 30)
}

#[test]
fn placemarks_become_typed_entities() {
    let mut reader = KmlReader::from_bytes(SAMPLE.as_bytes(), &options()).unwrap();
    let schema = reader.schema().clone();
    assert_eq!(schema.entity_type_name, "My_Shops_");
    let columns: Vec<(&str, EdmType)> = schema.properties.iter().map(|p| (p.name.as_str(), p.edm_type)).collect();
    assert_eq!(
        columns,
        [
            ("EntityID", EdmType::String),
            ("Name", EdmType::String),
            ("Description", EdmType::String),
            ("Seats", EdmType::Int64),
            ("Rating", EdmType::Double),
            ("Open_late", EdmType::Boolean),
            ("phone", EdmType::String),
            ("Geom", EdmType::Geography),
        ]
    );
    let (built, failed) = entities(&mut reader);
    assert_eq!(failed, ["the Placemark has no geometry (Point, LineString, Polygon or MultiGeometry)"]);
    let ids: Vec<&str> = built.iter().map(|entity| entity.id.as_str()).collect();
    assert_eq!(ids, ["cafe-1", "2", "park", "4", "5"]);
    let cafe = &built[0];
    assert_eq!(cafe.values[1], Value::String("Café & Co".into()));
    assert_eq!(cafe.values[2], Value::String("<b>Best</b> coffee".into()));
    assert_eq!(cafe.values[3], Value::Int64(12));
    assert_eq!(cafe.values[4], Value::Double(4.5));
    assert_eq!(cafe.values[5], Value::Boolean(true));
    assert_eq!(cafe.values[6], Value::String("555-0100".into()));
    assert_eq!(cafe.values[7], Value::Geography("POINT(-122.13 47.64)".into()));
    assert_eq!((cafe.latitude, cafe.longitude), (47.64, -122.13));
    let geometries: Vec<&str> = built.iter().map(|entity| entity.values[7].as_str().unwrap()).collect();
    assert_eq!(geometries[1], "LINESTRING(-122.1 47.6, -122.2 47.7)");
    assert_eq!(geometries[2], "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))");
    assert_eq!(geometries[3], "MULTIPOINT((1 2), (3 4))");
    assert_eq!(geometries[4], "GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))");
    let expected = (16.0 * 2.0 - 1.5) / 15.0;
    assert!((built[2].latitude - expected).abs() < 1e-9);
}

#[test]
fn broken_kml_is_refused_clearly() {
    let unclosed = "<kml><Document><Placemark><name>x</name><Point><coordinates>1,2</coordinates></Point>";
    let error = match KmlReader::from_bytes(unclosed.as_bytes(), &options()) {
        Err(error) => error,
        Ok(_) => panic!("accepted"),
    };
    assert!(error.to_string().contains("unclosed"), "{error}");
    let mismatched = "<kml><Document><Placemark></Document></kml>";
    let error = KmlReader::from_bytes(mismatched.as_bytes(), &options()).err().unwrap();
    assert!(error.to_string().contains("malformed XML"), "{error}");
    let other = "<gpx><wpt/></gpx>";
    let error = KmlReader::from_bytes(other.as_bytes(), &options()).err().unwrap();
    assert!(error.to_string().contains("expected <kml>"), "{error}");
    let error = KmlReader::from_bytes(b"", &options()).err().unwrap();
    assert!(error.to_string().contains("no root element"), "{error}");
    let dtd = "<!DOCTYPE kml [<!ENTITY a \"aaaa\">]><kml/>";
    let error = KmlReader::from_bytes(dtd.as_bytes(), &options()).err().unwrap();
    assert!(error.to_string().contains("DTD"), "{error}");
}

#[test]
fn bad_coordinates_fail_only_their_row() {
    let kml = "<kml><Placemark><Point><coordinates>abc,def</coordinates></Point></Placemark>\
               <Placemark><Point><coordinates>1,2</coordinates></Point></Placemark></kml>";
    let mut reader = KmlReader::from_bytes(kml.as_bytes(), &options()).unwrap();
    let (built, failed) = entities(&mut reader);
    assert_eq!(built.len(), 1);
    assert!(failed[0].contains("is not a coordinate"), "{failed:?}");
}

#[test]
fn kml_limits_fail_the_file() {
    let mut options = options();
    options.limits = FileLimits { max_polygons: 1, max_points_per_polygon: 100 };
    let error = KmlReader::from_bytes(SAMPLE.replace("</Document>", "<Placemark><Polygon><outerBoundaryIs><LinearRing><coordinates>0,0 1,0 1,1 0,0</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark></Document>").as_bytes(), &options)
        .err()
        .unwrap();
    assert!(error.to_string().contains("more than 1 polygons"), "{error}");
    options.limits = FileLimits { max_polygons: 10, max_points_per_polygon: 9 };
    let error = KmlReader::from_bytes(SAMPLE.as_bytes(), &options).err().unwrap();
    assert!(error.to_string().contains("10 points"), "{error}");
}

#[test]
fn kmz_and_gzip_are_read_by_magic_bytes() {
    let kmz = zip_file(&[("images/icon.png", vec![1, 2, 3]), ("doc.kml", SAMPLE.as_bytes().to_vec())]);
    let mut gzip = tempfile::NamedTempFile::new().unwrap();
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(SAMPLE.as_bytes()).unwrap();
    gzip.write_all(&encoder.finish().unwrap()).unwrap();
    let mut plain = tempfile::NamedTempFile::new().unwrap();
    plain.write_all(SAMPLE.as_bytes()).unwrap();
    for path in [kmz.path(), gzip.path(), plain.path()] {
        let mut reader = open_path_reader(InputFormat::Kml, path, "Shops", 1 << 30).unwrap();
        let (built, _) = entities(reader.as_mut());
        assert_eq!(built.len(), 5);
    }
    let error = open_path_reader(InputFormat::Kml, kmz.path(), "Shops", 100).err().unwrap();
    assert!(error.to_string().contains("larger than the limit"), "{error}");
}

/// Tryout F2: `__deleteEntity` keeps its name (as a SimpleField or an
/// ExtendedData `Data`), so an incremental KML load can delete; a deleting
/// Placemark needs no geometry.
#[test]
fn tryout_f2_delete_marker_keeps_its_name_and_deletes() {
    let document = r##"<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Schema name="S" id="S"><SimpleField type="string" name="__deleteEntity"/></Schema>
  <Placemark id="gone"><ExtendedData><SchemaData schemaUrl="#S">
    <SimpleData name="__deleteEntity">1</SimpleData></SchemaData></ExtendedData></Placemark>
  <Placemark id="kept"><ExtendedData><SchemaData schemaUrl="#S">
    <SimpleData name="__deleteEntity">false</SimpleData></SchemaData></ExtendedData>
    <Point><coordinates>1,2</coordinates></Point></Placemark>
  <Placemark id="also-kept"><ExtendedData><SchemaData schemaUrl="#S">
    <SimpleData name="__deleteEntity">0</SimpleData></SchemaData></ExtendedData></Placemark>
</Document></kml>"##;
    let mut reader = KmlReader::from_bytes(document.as_bytes(), &options()).unwrap();
    let upload = reader.schema().clone();
    assert_eq!(upload.delete_marker_index(), Some(3), "{upload:?}");
    assert_eq!(upload.properties[3].name, "__deleteEntity");
    let stored = upload.stored();
    let builder = sds_core::EntityBuilder::for_incremental(upload, stored).unwrap();
    let records: Vec<_> = std::iter::from_fn(|| reader.next_record()).map(Result::unwrap).collect();
    assert_eq!(records[0].problem, None);
    assert_eq!(builder.build(&records[0].cells).unwrap(), sds_core::BuiltRecord::Delete { id: "gone".into() });
    assert!(matches!(builder.build(&records[1].cells).unwrap(), sds_core::BuiltRecord::Upsert(_)));
    assert_eq!(
        records[2].problem.as_deref(),
        Some("the Placemark has no geometry (Point, LineString, Polygon or MultiGeometry)")
    );

    let untyped = r#"<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
  <Placemark id="gone"><ExtendedData><Data name="__DeleteEntity"><value>true</value></Data></ExtendedData></Placemark>
</Document></kml>"#;
    let mut reader = KmlReader::from_bytes(untyped.as_bytes(), &options()).unwrap();
    assert_eq!(reader.schema().delete_marker_index(), Some(3));
    let record = reader.next_record().unwrap().unwrap();
    assert_eq!(record.problem, None);
}
