use sds_core::{EdmType, Entity, EntityBuilder, Property, Schema, Value};

use super::*;
use crate::shapefile::tests::entities;
use sds_core::Geography;

const SAMPLE: &str = r#"{"type": "FeatureCollection", "name": "x", "bbox": [0, 0, 1, 1],
 "features": [
  {"type": "Feature", "id": "a", "geometry": {"type": "Point", "coordinates": [-122.13, 47.64, 5]},
   "properties": {"count": 1, "score": 1, "ok": true, "when": "2024-01-31", "label": "Zürich, \"old\"", "tags": ["x"], "mixed": 1}},
  {"type": "Feature", "id": 7, "geometry": {"type": "Polygon", "coordinates": [[[0,0],[4,0],[4,4],[0,4]]]},
   "properties": {"count": 2, "score": 2.5, "ok": false, "when": "2024-02-01T10:00:00Z", "label": null, "mixed": "one"}},
  {"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": [[[0,0],[1,1]],[[2,2],[3,3]]]},
   "properties": null},
  {"type": "Feature", "id": "nullgeo", "geometry": null, "properties": {"count": 3}}
 ]}"#;

fn options() -> PathReaderOptions {
    PathReaderOptions::new("Places", 1 << 30)
}

#[test]
fn features_become_entities_with_inferred_types() {
    let mut reader = GeoJsonReader::from_bytes(SAMPLE.as_bytes(), &options()).unwrap();
    let columns: Vec<(&str, EdmType)> =
        reader.schema().properties.iter().map(|p| (p.name.as_str(), p.edm_type)).collect();
    assert_eq!(
        columns,
        [
            ("EntityID", EdmType::String),
            ("count", EdmType::Int64),
            ("score", EdmType::Double),
            ("ok", EdmType::Boolean),
            ("when", EdmType::DateTime),
            ("label", EdmType::String),
            ("tags", EdmType::String),
            ("mixed", EdmType::String),
            ("Geom", EdmType::Geography),
        ]
    );
    let (built, failed) = entities(&mut reader);
    assert_eq!(failed, ["feature 4 has a null geometry: every entity needs a location"]);
    let ids: Vec<&str> = built.iter().map(|entity| entity.id.as_str()).collect();
    assert_eq!(ids, ["a", "7", "3"]);
    assert_eq!(built[0].values[5], Value::String("Zürich, \"old\"".into()));
    assert_eq!(built[0].values[6], Value::String("[\"x\"]".into()));
    assert_eq!(built[0].values[8], Value::Geography("POINT(-122.13 47.64)".into()));
    assert_eq!(built[1].values[2], Value::Double(2.5));
    assert_eq!(built[1].values[8], Value::Geography("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))".into()));
    assert_eq!((built[1].latitude, built[1].longitude), (2.0, 2.0));
}

#[test]
fn the_entity_id_can_come_from_a_property() {
    let mut options = options();
    options.geojson_id = IdSource::Property("label".into());
    let mut reader = GeoJsonReader::from_bytes(SAMPLE.as_bytes(), &options).unwrap();
    let (built, failed) = entities(&mut reader);
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].id, "Zürich, \"old\"");
    assert!(failed[0].contains("has no 'label' property"), "{failed:?}");
}

#[test]
fn broken_geojson_is_refused_clearly() {
    for (document, expected) in [
        (r#"{"type": "Topology", "objects": {}}"#, "not a FeatureCollection, Feature or geometry"),
        (r#"{"type": "Feature", "features": []}"#, "cannot have \"features\""),
        (r#"{"features": [], "type": "Feature"}"#, "must be a FeatureCollection"),
        (r#"{"type": "FeatureCollection"}"#, "no \"features\""),
        (r#"{"type": "FeatureCollection", "features": [{"type": "Feature", "#, "ends inside"),
        (r#"[1, 2]"#, "expected a FeatureCollection"),
        (r#"{"features": [{"a": 1,}]}"#, "malformed JSON"),
        (r#"{"features": []} trailing"#, "after the FeatureCollection"),
        (
            r#"{"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}, "features": []}"#,
            "only WGS 84",
        ),
    ] {
        let error =
            GeoJsonReader::from_bytes(document.as_bytes(), &options()).err().unwrap_or_else(|| panic!("{document}"));
        assert!(error.to_string().contains(expected), "{document}: {error}");
    }
    let crs84 = r#"{"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}, "features": []}"#;
    assert!(GeoJsonReader::from_bytes(crs84.as_bytes(), &options()).is_ok());
}

fn sample_entities() -> (Schema, Vec<Entity>) {
    let schema = Schema::new(
        "Shops",
        vec![
            Property::new("EntityID", EdmType::String),
            Property::new("Name", EdmType::String),
            Property::new("Seats", EdmType::Int64),
            Property::new("Rating", EdmType::Double),
            Property::new("Open", EdmType::Boolean),
            Property::new("Since", EdmType::DateTime),
            Property::new("Shape", EdmType::Geography),
        ],
        "EntityID",
    )
    .unwrap();
    let builder = EntityBuilder::for_complete(schema.clone());
    let rows: [[&str; 7]; 3] = [
        ["1", "Café, \"Zürich\"\nline 2", "12", "4.5", "true", "2024-01-31T10:00:00.5Z", "POINT(-122.13 47.64)"],
        ["2", "", "", "", "", "", "POLYGON((0 0, 4 0, 4 4, 0 4, 0 0), (1 1, 1 2, 2 2, 2 1, 1 1))"],
        ["3", "  leading", "-7", "1e-7", "false", "1999-12-31", "GEOMETRYCOLLECTION(POINT(1 2), LINESTRING(0 0, 1 1))"],
    ];
    let entities = rows
        .iter()
        .map(|row| {
            let cells: Vec<Option<&str>> = row.iter().map(|cell| Some(*cell)).collect();
            match builder.build(&cells).unwrap() {
                sds_core::BuiltRecord::Upsert(entity) => entity,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    (schema, entities)
}

#[test]
fn written_geojson_reads_back_with_the_same_values() {
    let (schema, originals) = sample_entities();
    let mut writer = GeoJsonWriter::new(Vec::new(), "MyShops", &schema).unwrap();
    for entity in &originals {
        writer.write_entity(entity).unwrap();
    }
    let bytes = writer.finish().unwrap();
    let json: Json = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(json["features"][0]["id"], "1");
    assert_eq!(json["features"][0]["properties"]["Seats"], 12);
    assert_eq!(json["features"][1]["properties"]["Seats"], Json::Null);
    assert_eq!(json["features"][1]["geometry"]["type"], "Polygon");
    assert!(json["features"][0]["properties"].get("Shape").is_none());

    let mut reader = GeoJsonReader::from_bytes(&bytes, &options()).unwrap();
    let read_schema = reader.schema().clone();
    let (built, failed) = entities(&mut reader);
    assert!(failed.is_empty(), "{failed:?}");
    for (original, read) in originals.iter().zip(&built) {
        assert_eq!(original.id, read.id);
        assert_eq!((original.latitude, original.longitude), (read.latitude, read.longitude));
        for (index, property) in schema.properties.iter().enumerate() {
            let at = read_schema.property_index(&property.name).unwrap_or(read_schema.properties.len() - 1);
            let (a, b) = (&original.values[index], &read.values[at]);
            if property.edm_type == EdmType::Geography {
                let (a, b) =
                    (Geography::parse(a.as_str().unwrap()).unwrap(), Geography::parse(b.as_str().unwrap()).unwrap());
                assert_eq!(a.geometry, b.geometry);
            } else {
                assert_eq!(a, b, "{}", property.name);
            }
        }
    }
}

#[test]
fn entities_without_geography_are_written_as_points() {
    let schema = Schema::new(
        "T",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Weird", EdmType::Double),
        ],
        "Id",
    )
    .unwrap();
    let entity = Entity {
        id: "x".into(),
        latitude: 47.5,
        longitude: -122.25,
        bounds: None,
        values: vec![Value::String("x".into()), Value::Double(47.5), Value::Double(-122.25), Value::Double(f64::NAN)],
    };
    let mut writer = GeoJsonWriter::new(Vec::new(), "T", &schema).unwrap();
    writer.write_entity(&entity).unwrap();
    let json: Json = serde_json::from_slice(&writer.finish().unwrap()).unwrap();
    assert_eq!(json["features"][0]["geometry"], serde_json::json!({"type": "Point", "coordinates": [-122.25, 47.5]}));
    assert_eq!(json["features"][0]["properties"]["Weird"], "NaN");
    let mut short = entity.clone();
    short.values.pop();
    let mut writer = GeoJsonWriter::new(Vec::new(), "T", &schema).unwrap();
    assert!(writer.write_entity(&short).is_err());
}

#[test]
fn large_collections_stream_across_buffer_boundaries() {
    let mut document = String::from("{\"type\":\"FeatureCollection\",\n\"features\":[\n");
    for index in 0..5_000 {
        if index > 0 {
            document.push_str(",\n");
        }
        document.push_str(&format!(
            "{{\"type\":\"Feature\",\"id\":{index},\"properties\":{{\"text\":\"a \\\"]}}[{{ \\\\ {index}\"}},\
             \"geometry\":{{\"type\":\"Point\",\"coordinates\":[{}, {}]}}}}",
            f64::from(index % 360) - 180.0,
            f64::from(index % 180) - 90.0
        ));
    }
    document.push_str("\n]}\n");
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &document).unwrap();
    let mut reader = crate::open_path_reader(sds_core::InputFormat::GeoJson, file.path(), "Big", 1 << 30).unwrap();
    let mut lines = Vec::new();
    let mut count = 0;
    while let Some(record) = reader.next_record() {
        let record = record.unwrap();
        assert_eq!(record.problem, None);
        if count == 4_999 {
            assert_eq!(record.cells[1].as_deref(), Some("a \"]}[{ \\ 4999"));
            assert_eq!(record.cells[0].as_deref(), Some("4999"));
        }
        lines.push(record.line);
        count += 1;
    }
    assert_eq!(count, 5_000);
    assert_eq!(lines[..3], [3, 4, 5]);
}

#[test]
fn a_single_feature_is_a_collection_of_one() {
    // `type` last, as some writers put it.
    let document = r#"{"properties": {"name": "Lone", "count": 2}, "id": "x1",
        "geometry": {"type": "Point", "coordinates": [7.5, 46.9]}, "type": "Feature"}"#;
    let mut reader = GeoJsonReader::from_bytes(document.as_bytes(), &options()).unwrap();
    let types: Vec<_> = reader.schema().properties.iter().map(|p| (p.name.clone(), p.edm_type)).collect();
    assert!(types.contains(&("count".to_owned(), EdmType::Int64)), "{types:?}");
    let (built, failed) = entities(&mut reader);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].id, "x1");

    let null_geometry = r#"{"type": "Feature", "geometry": null}"#;
    let mut reader = GeoJsonReader::from_bytes(null_geometry.as_bytes(), &options()).unwrap();
    let (built, failed) = entities(&mut reader);
    assert!(built.is_empty());
    assert!(failed[0].contains("null geometry"), "{failed:?}");
}

#[test]
fn a_bare_geometry_is_one_entity_without_properties() {
    let document = r#"{"type": "Polygon", "coordinates": [[[0,0],[4,0],[4,4],[0,4],[0,0]]]}"#;
    let mut reader = GeoJsonReader::from_bytes(document.as_bytes(), &options()).unwrap();
    let (built, failed) = entities(&mut reader);
    assert!(failed.is_empty(), "{failed:?}");
    assert_eq!(built.len(), 1);
    assert_eq!(built[0].id, "1");
    assert_eq!(built[0].values.last(), Some(&Value::Geography("POLYGON((0 0, 4 0, 4 4, 0 4, 0 0))".into())));
}

/// Tryout F2: a `__deleteEntity` property keeps its name, so an incremental
/// GeoJSON load can delete; a deleting feature needs no geometry.
#[test]
fn tryout_f2_delete_marker_keeps_its_name_and_deletes() {
    let document = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "id": "gone", "geometry": null, "properties": {"__deleteEntity": true}},
  {"type": "Feature", "id": "kept", "geometry": {"type": "Point", "coordinates": [1, 2]}, "properties": {"__deleteEntity": false}},
  {"type": "Feature", "id": "nowhere", "geometry": null, "properties": {"__deleteEntity": false}}
 ]}"#;
    let mut reader = GeoJsonReader::from_bytes(document.as_bytes(), &options()).unwrap();
    let upload = reader.schema().clone();
    assert_eq!(upload.delete_marker_index(), Some(1), "{upload:?}");
    assert_eq!(upload.properties[1].name, "__deleteEntity");
    let builder = EntityBuilder::for_incremental(upload.clone(), upload.stored()).unwrap();
    let records: Vec<_> = std::iter::from_fn(|| reader.next_record()).map(Result::unwrap).collect();
    assert_eq!(records[0].problem, None);
    assert_eq!(builder.build(&records[0].cells).unwrap(), sds_core::BuiltRecord::Delete { id: "gone".into() });
    assert!(matches!(builder.build(&records[1].cells).unwrap(), sds_core::BuiltRecord::Upsert(_)));
    assert!(records[2].problem.as_deref().unwrap().contains("null geometry"), "{:?}", records[2].problem);
}

/// The exact text of a point feature: coordinates `[lon,lat]`, and the
/// properties that hold the same numbers spelled the same (their text is
/// copied from the coordinates).
#[test]
fn point_features_are_written_exactly() {
    let schema = Schema::new(
        "T",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Copy", EdmType::Double),
            Property::new("Zero", EdmType::Double),
        ],
        "Id",
    )
    .unwrap();
    let entity = Entity {
        id: "x".into(),
        latitude: 47.5,
        longitude: -0.0,
        bounds: None,
        values: vec![
            Value::String("x".into()),
            Value::Double(47.5),
            Value::Double(-0.0),
            Value::Double(47.5),
            Value::Double(0.0),
        ],
    };
    let mut writer = GeoJsonWriter::new(Vec::new(), "T", &schema).unwrap();
    writer.write_entity(&entity).unwrap();
    writer.write_entity(&Entity { id: "y".into(), latitude: 1e-7, ..entity.clone() }).unwrap();
    let text = String::from_utf8(writer.finish().unwrap()).unwrap();
    assert_eq!(
        text,
        "{\"type\":\"FeatureCollection\",\"name\":\"T\",\"features\":[\n\
         {\"type\":\"Feature\",\"id\":\"x\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[-0,47.5]},\
         \"properties\":{\"Id\":\"x\",\"Latitude\":47.5,\"Longitude\":-0,\"Copy\":47.5,\"Zero\":0}},\n\
         {\"type\":\"Feature\",\"id\":\"y\",\"geometry\":{\"type\":\"Point\",\"coordinates\":[-0,0.0000001]},\
         \"properties\":{\"Id\":\"x\",\"Latitude\":47.5,\"Longitude\":-0,\"Copy\":47.5,\"Zero\":0}}\n]}\n"
    );
}
