//! Round trips, and the snapshots a reader must refuse.

use std::io::Cursor;

use sds_core::{Entity, Property, Value};

use super::*;
use crate::table::TableBuilder;

fn schema() -> Schema {
    Schema::new(
        "Places",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Name", EdmType::String),
            Property::new("Rank", EdmType::Int64),
            Property::new("Score", EdmType::Double),
            Property::new("Open", EdmType::Boolean),
            Property::new("Opened", EdmType::DateTime),
            Property::new("Geom", EdmType::Geography),
        ],
        "Id",
    )
    .unwrap()
}

/// Every type, a null in every nullable column now and then, non-ASCII text.
fn table(rows: usize) -> Table {
    let mut builder = TableBuilder::new(schema(), rows);
    for row in 0..rows {
        let id = format!("{row:05}");
        let null = row % 7 == 3;
        let pick = |value: Value| if null { Value::Null } else { value };
        let (latitude, longitude) = (row as f64 / 100.0 - 40.0, row as f64 / 50.0 - 90.0);
        builder.push(Entity {
            id: id.clone(),
            latitude,
            longitude,
            bounds: None,
            values: vec![
                Value::String(id),
                Value::String(format!("Café {}", row % 13)),
                pick(Value::Int64(row as i64 * 3 - 50)),
                pick(Value::Double(row as f64 / 8.0)),
                pick(Value::Boolean(row % 2 == 0)),
                pick(Value::DateTime(Timestamp { seconds: 1_000_000 + row as i64, nanos: row as u32 })),
                if row % 5 == 0 { Value::Geography(format!("POINT({longitude} {latitude})")) } else { Value::Null },
            ],
        });
    }
    builder.finish()
}

fn snapshot(table: &Table, data_source: i64, version: i64) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    write(table, DataSourceId(data_source), VersionId(version), &mut out).unwrap();
    out.into_inner()
}

fn read_as(bytes: &[u8], data_source: i64, version: i64, rows: u64) -> Result<Table, SnapshotError> {
    read(bytes, bytes.len() as u64, DataSourceId(data_source), VersionId(version), rows, schema())
}

#[test]
fn a_table_reads_back_cell_for_cell() {
    let original = table(500);
    let copy = read_as(&snapshot(&original, 4, 9), 4, 9, 500).unwrap();
    assert_eq!(copy.len(), 500);
    for row in 0..500u32 {
        assert_eq!(copy.id(row), original.id(row));
        assert_eq!((copy.latitude(row), copy.longitude(row)), (original.latitude(row), original.longitude(row)));
        for column in 0..original.schema().properties.len() {
            assert_eq!(copy.cell(column, row), original.cell(column, row), "row {row} column {column}");
        }
        assert_eq!(copy.geometry(row), original.geometry(row));
    }
    // The same arrays (capacities may differ by a few spare slots).
    assert!(copy.heap_bytes().abs_diff(original.heap_bytes()) < original.heap_bytes() / 100);
    let area = crate::spatial::sphere::LonLatBox { min_lon: -90.0, min_lat: -40.0, max_lon: -85.0, max_lat: -37.0 };
    let (mut found, mut expected) = (Vec::new(), Vec::new());
    copy.points_in(&area, &mut |row| found.push(row));
    original.points_in(&area, &mut |row| expected.push(row));
    assert!(!expected.is_empty());
    assert_eq!(found, expected);
    assert_eq!(copy.shapes_meeting_any(&[area]), original.shapes_meeting_any(&[area]));
}

#[test]
fn wide_offsets_read_back() {
    let mut original = table(40);
    original.ids.widen();
    if let Column::String(cells) = &mut original.columns[1] {
        cells.widen();
    }
    let copy = read_as(&snapshot(&original, 4, 9), 4, 9, 40).unwrap();
    assert!(matches!(copy.ids.ends, Ends::Wide(_)));
    for row in 0..40u32 {
        assert_eq!(copy.id(row), original.id(row));
        assert_eq!(copy.cell(1, row), original.cell(1, row));
    }
}

#[test]
fn a_snapshot_answers_only_for_its_own_data_source_and_version() {
    let bytes = snapshot(&table(50), 4, 9);
    assert!(matches!(read_as(&bytes, 5, 9, 50), Err(SnapshotError::OtherVersion { .. })));
    assert!(matches!(read_as(&bytes, 4, 10, 50), Err(SnapshotError::OtherVersion { .. })));
    assert!(matches!(read_as(&bytes, 4, 9, 51), Err(SnapshotError::Rows { found: 50, expected: 51 })));
    let mut renamed = schema();
    renamed.properties[2].name = "Position".into();
    assert!(matches!(
        read(&bytes[..], bytes.len() as u64, DataSourceId(4), VersionId(9), 50, renamed),
        Err(SnapshotError::Schema)
    ));
}

#[test]
fn a_torn_or_corrupted_snapshot_is_refused() {
    let bytes = snapshot(&table(300), 4, 9);
    for cut in [0, 7, FIXED_HEADER - 1, FIXED_HEADER + 10, bytes.len() / 2, bytes.len() - 1] {
        assert!(read_as(&bytes[..cut], 4, 9, 300).is_err(), "cut at {cut}");
    }
    // Every byte of the payload is under the checksum.
    for at in [bytes.len() / 3, bytes.len() / 2, bytes.len() - 1] {
        let mut flipped = bytes.clone();
        flipped[at] ^= 0x20;
        assert!(matches!(read_as(&flipped, 4, 9, 300), Err(SnapshotError::Checksum)), "flipped byte {at}");
    }
    let mut zeroed = bytes.clone();
    zeroed[FIXED_HEADER - 4..FIXED_HEADER].fill(0);
    assert!(matches!(read_as(&zeroed, 4, 9, 300), Err(SnapshotError::Checksum)));
    let mut longer = bytes;
    longer.push(0);
    assert!(matches!(read_as(&longer, 4, 9, 300), Err(SnapshotError::Truncated { .. })));
}
