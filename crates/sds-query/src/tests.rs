//! Engine tests on small hand-made tables: every filter operator, null
//! rules, precedence, ordering and paging, and the spatial filters against
//! hand-computed answers (antimeridian, poles).

use sds_core::{EdmType, Entity, Property, Schema, Timestamp, Value};

use crate::plan::{Query, QueryLimits, QueryOptions};
use crate::spatial::sphere::distance_km;
use crate::table::{Cell, Table, TableBuilder};
use crate::{Field, SpatialFilter};

pub(crate) fn shops_schema() -> Schema {
    Schema::new(
        "Shops",
        vec![
            Property::new("EntityID", EdmType::String),
            Property::new("Name", EdmType::String),
            Property::new("Seats", EdmType::Int64),
            Property::new("Rating", EdmType::Double),
            Property::new("IsOpen", EdmType::Boolean),
            Property::new("Opened", EdmType::DateTime),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
        ],
        "EntityID",
    )
    .unwrap()
}

struct Row(&'static str, Option<&'static str>, Option<i64>, Option<f64>, Option<bool>, Option<&'static str>, f64, f64);

pub(crate) fn shops() -> Table {
    let rows = [
        Row("a1", Some("San Jose Cafe"), Some(10), Some(4.5), Some(true), Some("2010-11-03T23:31:37Z"), 37.33, -121.89),
        Row(
            "a2",
            Some("Santa Cruz Beans"),
            Some(4),
            Some(3.0),
            Some(false),
            Some("2012-01-01T00:00:00Z"),
            36.97,
            -122.03,
        ),
        Row("b1", Some("O'Hara's"), None, Some(2.5), Some(true), None, 47.61, -122.33),
        Row("b2", Some("new york deli"), Some(25), None, None, Some("2009-05-05T12:00:00Z"), 40.71, -74.0),
        Row("c1", None, Some(0), Some(5.0), Some(false), Some("2015-06-30T08:00:00Z"), 0.0, 179.9),
        Row("c2", Some("Date Line East"), Some(7), Some(1.0), Some(true), None, 0.0, -179.9),
        Row("d1", Some("North Pole Igloo"), Some(1), Some(4.0), Some(true), None, 89.95, 0.0),
        Row("d2", Some("Other side of the pole"), Some(2), Some(4.0), Some(false), None, 89.95, 180.0),
    ];
    let schema = shops_schema();
    let mut builder = TableBuilder::new(schema, rows.len());
    for Row(id, name, seats, rating, open, opened, lat, lon) in rows {
        let text = |value: Option<&str>| value.map_or(Value::Null, |text| Value::String(text.into()));
        builder.push(Entity {
            id: id.into(),
            latitude: lat,
            longitude: lon,
            bounds: None,
            values: vec![
                Value::String(id.into()),
                text(name),
                seats.map_or(Value::Null, Value::Int64),
                rating.map_or(Value::Null, Value::Double),
                open.map_or(Value::Null, Value::Boolean),
                opened.map_or(Value::Null, |text| Value::DateTime(Timestamp::parse(text).unwrap())),
                Value::Double(lat),
                Value::Double(lon),
            ],
        });
    }
    builder.finish()
}

fn run(table: &Table, options: QueryOptions<'_>) -> Vec<String> {
    let query = Query::compile(table.schema(), &options, &QueryLimits::default()).unwrap();
    let result = query.execute(table).unwrap();
    result.hits.iter().map(|hit| table.id(hit.row).to_owned()).collect()
}

fn filter(table: &Table, text: &str) -> Vec<String> {
    run(table, QueryOptions { filter: Some(text), ..Default::default() })
}

fn error(table: &Table, options: QueryOptions<'_>) -> String {
    Query::compile(table.schema(), &options, &QueryLimits::default()).unwrap_err().to_string()
}

#[test]
fn comparisons_on_every_type() {
    let table = shops();
    assert_eq!(filter(&table, "Seats eq 10"), ["a1"]);
    assert_eq!(filter(&table, "Seats ne 10"), ["a2", "b2", "c1", "c2", "d1", "d2"]);
    assert_eq!(filter(&table, "Seats gt 7"), ["a1", "b2"]);
    assert_eq!(filter(&table, "Seats ge 7"), ["a1", "b2", "c2"]);
    assert_eq!(filter(&table, "Seats lt 2"), ["c1", "d1"]);
    assert_eq!(filter(&table, "Seats le 2"), ["c1", "d1", "d2"]);
    assert_eq!(filter(&table, "Seats gt 6.5"), ["a1", "b2", "c2"]);
    assert_eq!(filter(&table, "Rating ge 4.5"), ["a1", "c1"]);
    assert_eq!(filter(&table, "Rating lt 2.5d"), ["c2"]);
    assert_eq!(filter(&table, "IsOpen eq true"), ["a1", "b1", "c2", "d1"]);
    assert_eq!(filter(&table, "IsOpen eq 0"), ["a2", "c1", "d2"]);
    assert_eq!(filter(&table, "Opened lt datetime'2010-11-04T00:00:00Z'"), ["a1", "b2"]);
    assert_eq!(filter(&table, "Opened ge 2012-01-01T00:00:00.0000000Z"), ["a2", "c1"]);
    assert_eq!(filter(&table, "Name eq 'SAN JOSE CAFE'"), ["a1"]);
    assert_eq!(filter(&table, "Name eq 'O''Hara''s'"), ["b1"]);
    assert_eq!(filter(&table, "Name gt 'S'"), ["a1", "a2"]);
}

#[test]
fn nulls_match_only_eq_null_and_ne_null() {
    let table = shops();
    assert_eq!(filter(&table, "Seats eq null"), ["b1"]);
    assert_eq!(filter(&table, "Rating ne null").len(), 7);
    assert!(!filter(&table, "Seats ne 10").contains(&"b1".to_owned()));
    assert!(filter(&table, "not (Seats eq 10)").contains(&"b1".to_owned()));
}

#[test]
fn finding_4_strings_are_never_null_and_empty_ones_match_eq_empty() {
    // c1's Name is a null Value, as a version loaded before strings were
    // never null holds: it reads as "".
    let table = shops();
    assert_eq!(filter(&table, "Name eq null"), Vec::<String>::new());
    assert_eq!(filter(&table, "Name ne null").len(), 8);
    assert_eq!(filter(&table, "Name eq ''"), ["c1"]);
    assert!(!filter(&table, "Name ne ''").contains(&"c1".to_owned()));
    assert_eq!(filter(&table, "Name in ('', 'new york deli')"), ["b2", "c1"]);
    assert_eq!(filter(&table, "startswith(Name, '') eq true").len(), 8);
    let row = table.find("c1").unwrap();
    assert_eq!(table.cell(1, row), Cell::String(""));
}

#[test]
fn logic_and_precedence() {
    let table = shops();
    assert_eq!(filter(&table, "Seats eq 10 or Seats eq 4 and IsOpen eq true"), ["a1"]);
    assert_eq!(filter(&table, "(Seats eq 10 or Seats eq 4) and IsOpen eq false"), ["a2"]);
    // b2's IsOpen is null: `IsOpen eq true` is false for it, so `not` holds.
    assert_eq!(filter(&table, "not IsOpen eq true and Seats gt 3"), ["a2", "b2"]);
    assert_eq!(filter(&table, "Seats ge 1 AND Seats le 4 Or Name eq 'x'"), ["a2", "d1", "d2"]);
}

#[test]
fn wildcards_and_in_lists() {
    let table = shops();
    assert_eq!(filter(&table, "startswith(Name,'san') eq true"), ["a1", "a2"]);
    assert_eq!(filter(&table, "StartsWith(Name,'San Jose')"), ["a1"]);
    assert_eq!(filter(&table, "endswith(Name,'DELI') eq true"), ["b2"]);
    // c1's Name is "" (never null), which does not start with 'San'.
    assert_eq!(filter(&table, "startswith(Name,'San') eq false"), ["b1", "b2", "c1", "c2", "d1", "d2"]);
    assert_eq!(filter(&table, "startswith(Name,'San') and Seats lt 5"), ["a2"]);
    assert_eq!(filter(&table, "entityId in ('B2','a1','zz')"), ["a1", "b2"]);
    assert_eq!(filter(&table, "Seats in (1,2,null)"), ["b1", "d1", "d2"]);
    assert_eq!(filter(&table, "Name in ('new YORK deli')"), ["b2"]);
}

#[test]
fn filter_errors_name_the_problem() {
    let table = shops();
    for (text, message) in [
        ("Latitude gt 3", "'Latitude' cannot be filtered on"),
        ("Nope eq 1", "no property 'Nope' (at position 1)"),
        ("Seats eq 'x'", "does not fit property 'Seats', which is Edm.Int64 (at position 10)"),
        ("Opened eq datetime'soon'", "not a valid date"),
        ("Seats gt null", "null can only be compared"),
        ("startswith(Seats,'1')", "needs a string property"),
        ("Seats eq", "expected a value"),
    ] {
        let found = error(&table, QueryOptions { filter: Some(text), ..Default::default() });
        assert!(found.contains(message), "{text}: {found}");
    }
    let ids: Vec<String> = (0..51).map(|i| format!("'{i}'")).collect();
    let text = format!("EntityID in ({})", ids.join(","));
    assert!(error(&table, QueryOptions { filter: Some(&text), ..Default::default() }).contains("limit is 50"));
}

/// `SDS/query-api/query-by-property.md`: with `nearby`, entities whose
/// `$orderby` keys are equal come nearest first, not in entity-ID order.
#[test]
fn orderby_ties_follow_the_nearby_distance() {
    let table = shops();
    let options =
        QueryOptions { spatial_filter: Some("nearby(89.9,180,50)"), orderby: Some("Rating"), ..Default::default() };
    assert_eq!(run(&table, options), ["d2", "d1"], "both have Rating 4.0; d2 is nearer");
}

#[test]
fn ordering_paging_and_counts() {
    let table = shops();
    let options = |orderby, top, skip| QueryOptions { orderby, top, skip, ..Default::default() };
    assert_eq!(run(&table, options(Some("Seats desc"), Some("3"), None)), ["b2", "a1", "c2"]);
    assert_eq!(run(&table, options(Some("Rating desc, Seats"), Some("3"), None)), ["c1", "a1", "d1"]);
    assert_eq!(run(&table, options(Some("Name"), Some("2"), None)), ["c1", "c2"], "nulls first, case-insensitive");
    assert_eq!(run(&table, options(None, Some("2"), Some("3"))), ["b2", "c1"]);
    assert_eq!(run(&table, options(None, Some("0"), None)).len(), 0);
    assert_eq!(run(&table, options(None, None, Some("100"))).len(), 0);
    let query = Query::compile(
        table.schema(),
        &QueryOptions {
            filter: Some("IsOpen eq true"),
            top: Some("1"),
            inline_count: Some("allpages"),
            ..Default::default()
        },
        &QueryLimits::default(),
    )
    .unwrap();
    let result = query.execute(&table).unwrap();
    assert_eq!((result.hits.len(), result.total), (1, Some(4)));
    let clamped = Query::compile(table.schema(), &options(None, Some("1000"), None), &QueryLimits::default()).unwrap();
    assert_eq!(clamped.top, 250);
    for (options, message) in [
        (options(Some("a,b,c,d"), None, None), "limit is 3"),
        (options(Some("Latitude"), None, None), "cannot be sorted by 'Latitude'"),
        (options(Some("Seats sideways"), None, None), "use asc or desc"),
        (options(None, Some("-1"), None), "$top '-1' is invalid"),
        (options(None, None, Some("x")), "$skip 'x' is invalid"),
    ] {
        assert!(error(&table, options).contains(message), "{message}");
    }
}

#[test]
fn select_resolves_names_and_distance_rules() {
    let table = shops();
    let compile = |select, spatial| {
        Query::compile(
            table.schema(),
            &QueryOptions { select: Some(select), spatial_filter: spatial, ..Default::default() },
            &QueryLimits::default(),
        )
    };
    assert_eq!(compile("name,SEATS", None).unwrap().select, [Field::Property(1), Field::Property(2)]);
    assert_eq!(compile("*", None).unwrap().select.len(), 8);
    let with_distance = compile("*,__Distance", Some("nearby(0,0,10)")).unwrap();
    assert_eq!(with_distance.select.last(), Some(&Field::Distance));
    assert!(compile("__Distance", None).unwrap_err().to_string().contains("__Distance needs"));
    assert!(compile("Nope", None).unwrap_err().to_string().contains("no property 'Nope'"));
    let intersection = compile("EntityID,intersection('POLYGON((0 0, 1 0, 1 1, 0 0))')", None).unwrap();
    assert_eq!(intersection.select, [Field::Property(0), Field::IntersectedGeom]);
    assert!(intersection.intersection.is_some());
}

#[test]
fn nearby_sorts_by_great_circle_distance_and_crosses_the_antimeridian() {
    let table = shops();
    let spatial = |text| run(&table, QueryOptions { spatial_filter: Some(text), ..Default::default() });
    // c1 (0, 179.9) and c2 (0, -179.9) are 0.2° apart across the antimeridian: 22.26 km.
    let across = distance_km(0.0, 179.9, 0.0, -179.9);
    assert!((across - 6378.137 * 0.2f64.to_radians()).abs() < 1e-9);
    assert_eq!(spatial("nearby(0,179.9,23)"), ["c1", "c2"]);
    assert_eq!(spatial("nearby(0,-179.95,17)"), ["c2", "c1"], "nearest first: 5.6 km, then 16.7 km");
    assert_eq!(spatial("nearby(0,179.9,22)"), ["c1"]);
    // d1 and d2 are 0.05° from the pole on opposite meridians: 0.1° apart.
    assert_eq!(spatial("nearby(90,0,6)"), ["d1", "d2"]);
    assert_eq!(spatial("nearby(89.95,0,12)"), ["d1", "d2"]);
    assert_eq!(spatial("nearby(89.95,0,11)"), ["d1"]);
    let query = Query::compile(
        table.schema(),
        &QueryOptions { spatial_filter: Some("nearby(37.33,-121.89,100)"), ..Default::default() },
        &QueryLimits::default(),
    )
    .unwrap();
    let hits = query.execute(&table).unwrap().hits;
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[0].distance, 0.0);
    assert!((hits[1].distance - distance_km(37.33, -121.89, 36.97, -122.03)).abs() < 1e-12);
}

#[test]
fn bbox_including_antimeridian_boxes_in_entity_id_order() {
    let table = shops();
    let spatial = |text| run(&table, QueryOptions { spatial_filter: Some(text), ..Default::default() });
    assert_eq!(spatial("bbox(36,-123,48,-121)"), ["a1", "a2", "b1"]);
    assert_eq!(spatial("bbox(-1,179,1,-179)"), ["c1", "c2"]);
    assert_eq!(spatial("bbox(-1,179.95,1,-179)"), ["c2"]);
    assert_eq!(spatial("bbox(89,-180,90,180)"), ["d1", "d2"]);
    let with_filter = run(
        &table,
        QueryOptions {
            spatial_filter: Some("bbox(36,-123,48,-121)"),
            filter: Some("IsOpen eq true"),
            ..Default::default()
        },
    );
    assert_eq!(with_filter, ["a1", "b1"]);
    let query = Query::compile(
        table.schema(),
        &QueryOptions { spatial_filter: Some("bbox(-1,179,1,-179)"), select: Some("__Distance"), ..Default::default() },
        &QueryLimits::default(),
    )
    .unwrap();
    let hits = query.execute(&table).unwrap().hits;
    // The box centre is (0, 180): both are 0.1° from it.
    assert!((hits[0].distance - 6378.137 * 0.1f64.to_radians()).abs() < 1e-9);
}

#[test]
fn intersects_points_with_polygons_lines_and_points() {
    let table = shops();
    let spatial = |text| run(&table, QueryOptions { spatial_filter: Some(text), ..Default::default() });
    assert_eq!(spatial("intersects('POLYGON((-123 36, -121 36, -121 38, -123 38, -123 36))')"), ["a1", "a2"]);
    assert_eq!(spatial("intersects('POLYGON((-123 36, -121 36, -123 38, -123 36))')"), ["a2"]);
    assert_eq!(spatial("intersects('LINESTRING(-121.89 30, -121.89 40)')"), ["a1"]);
    assert_eq!(spatial("intersects('POINT(-74 40.71)')"), ["b2"]);
    assert!(spatial("intersects('POLYGON((0 0, 1 0, 1 1, 0 0))')").is_empty());
}

#[test]
fn intersects_uses_an_entitys_geography_when_it_has_one() {
    let schema = Schema::new(
        "Parcels",
        vec![Property::new("Id", EdmType::String), Property::new("Geom", EdmType::Geography)],
        "Id",
    )
    .unwrap();
    let mut builder = TableBuilder::new(schema, 3);
    for (id, wkt, lat, lon) in [
        ("p1", "POLYGON((0 0, 10 0, 10 10, 0 10, 0 0))", 5.0, 5.0),
        ("p2", "LINESTRING(20 0, 20 10)", 5.0, 20.0),
        ("p3", "POINT(30 5)", 5.0, 30.0),
    ] {
        builder.push(Entity {
            id: id.into(),
            latitude: lat,
            longitude: lon,
            bounds: None,
            values: vec![Value::String(id.into()), Value::Geography(wkt.into())],
        });
    }
    let table = builder.finish();
    assert_eq!(table.schema().properties.len(), 2);
    let spatial = |text| run(&table, QueryOptions { spatial_filter: Some(text), ..Default::default() });
    // Touches the polygon's corner only, far from its centroid.
    assert_eq!(spatial("intersects('POLYGON((9 9, 12 9, 12 12, 9 12, 9 9))')"), ["p1"]);
    assert_eq!(spatial("intersects('LINESTRING(15 5, 25 5)')"), ["p2"]);
    assert_eq!(spatial("intersects('POLYGON((29 4, 31 4, 31 6, 29 6, 29 4))')"), ["p3"]);
    assert_eq!(spatial("bbox(4,4,6,6)"), ["p1"], "bbox uses the entity's point");
    let all = Query::compile(table.schema(), &QueryOptions::default(), &QueryLimits::default()).unwrap();
    assert_eq!(all.select, [Field::Property(0), Field::Property(1), Field::Latitude, Field::Longitude]);
}

#[test]
fn find_by_id_ignores_case() {
    let table = shops();
    assert_eq!(table.find("B2").map(|row| table.id(row)), Some("b2"));
    assert_eq!(table.find("zz"), None);
}

/// `SDS/query-api/query-near-route.md`: matches come in entity-ID order
/// (its example lists Webster, Kemah, then Seabrook, which lies between).
#[test]
fn routes_list_matches_in_entity_id_order() {
    let table = shops();
    let mut query = Query::compile(table.schema(), &QueryOptions::default(), &QueryLimits::default()).unwrap();
    // a2 lies on the route, a1 about 0.9 km off its end.
    query.spatial = Some(SpatialFilter::Route { points: vec![(36.97, -122.03), (37.33, -121.9)] });
    let hits = query.execute(&table).unwrap().hits;
    assert_eq!(hits.iter().map(|hit| table.id(hit.row)).collect::<Vec<_>>(), ["a1", "a2"]);
}

#[test]
fn routes_match_entities_within_a_mile() {
    let table = shops();
    let mut query = Query::compile(table.schema(), &QueryOptions::default(), &QueryLimits::default()).unwrap();
    // A route along the meridian -121.89 from 37.0 to 38.0 passes a1 (on it); a2 is ~15 km away.
    query.spatial = Some(SpatialFilter::Route { points: vec![(37.0, -121.89), (38.0, -121.89)] });
    let hits = query.execute(&table).unwrap().hits;
    assert_eq!(hits.iter().map(|hit| table.id(hit.row)).collect::<Vec<_>>(), ["a1"]);
    assert!(hits[0].distance < 1e-6);
}
