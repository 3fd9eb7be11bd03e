//! CQL2 text against the engine's test table (`crate::tests::shops`):
//! every operator, precedence, the spatial predicate and error positions.

use super::{compile, parse};
use crate::tests::{shops, shops_schema};
use crate::QueryLimits;

/// The ids of the rows the filter keeps, in row order.
fn ids(filter: &str) -> Vec<String> {
    let table = shops();
    let predicate =
        compile(filter, &shops_schema(), &QueryLimits::default()).unwrap_or_else(|error| panic!("{filter}: {error}"));
    (0..table.len() as u32).filter(|&row| predicate.matches(&table, row)).map(|row| table.id(row).to_owned()).collect()
}

#[test]
fn comparisons_each_operator_and_reversed() {
    assert_eq!(ids("Seats = 10"), ["a1"]);
    assert_eq!(ids("Seats <> 10"), ["a2", "b2", "c1", "c2", "d1", "d2"]);
    assert_eq!(ids("Seats < 4"), ["c1", "d1", "d2"]);
    assert_eq!(ids("Seats <= 4"), ["a2", "c1", "d1", "d2"]);
    assert_eq!(ids("Seats > 10"), ["b2"]);
    assert_eq!(ids("Seats >= 10"), ["a1", "b2"]);
    assert_eq!(ids("10 <= Seats"), ["a1", "b2"]);
    assert_eq!(ids("Rating = 4.0 AND IsOpen = TRUE"), ["d1"]);
    assert_eq!(ids("Name = 'o''hara''s'"), ["b1"]);
    assert_eq!(ids("\"Name\" = 'SAN JOSE CAFE'"), ["a1"]);
    assert_eq!(ids("Opened > TIMESTAMP('2012-01-01T00:00:00Z')"), ["c1"]);
    assert_eq!(ids("Opened >= DATE('2012-01-01')"), ["a2", "c1"]);
}

#[test]
fn and_or_not_with_precedence() {
    assert_eq!(ids("Seats = 10 OR Seats = 4 AND IsOpen = TRUE"), ["a1"]);
    assert_eq!(ids("(Seats = 10 OR Seats = 4) AND IsOpen = FALSE"), ["a2"]);
    // A null compares false, so its negation holds (as in `$filter`).
    assert_eq!(ids("NOT Seats >= 2"), ["b1", "c1", "d1"]);
    assert_eq!(ids("not (IsOpen = true or IsOpen = false)"), ["b2"]);
}

#[test]
fn like_between_in_and_is_null() {
    assert_eq!(ids("Name LIKE 'san%'"), ["a1", "a2"]);
    assert_eq!(ids("Name LIKE '%l_'"), ["b2", "d2"]);
    assert_eq!(ids("Name LIKE '%York%'"), ["b2"]);
    assert_eq!(ids("Name ILIKE '%YORK%'"), ["b2"]);
    // c1's name is empty (Edm.String is never null).
    assert_eq!(ids("Name NOT LIKE '%o%'"), ["a2", "c1", "c2"]);
    assert_eq!(ids("Seats BETWEEN 2 AND 10"), ["a1", "a2", "c2", "d2"]);
    assert_eq!(ids("Seats NOT BETWEEN 2 AND 10"), ["b1", "b2", "c1", "d1"]);
    assert_eq!(ids("EntityID IN ('a1', 'D2')"), ["a1", "d2"]);
    assert_eq!(ids("Seats IN (1, 25)"), ["b2", "d1"]);
    assert_eq!(ids("Seats NOT IN (1, 25, 0)"), ["a1", "a2", "b1", "c2", "d2"]);
    assert_eq!(ids("Seats IS NULL"), ["b1"]);
    assert_eq!(ids("Opened IS NOT NULL"), ["a1", "a2", "b2", "c1"]);
}

#[test]
fn s_intersects_with_wkt_and_bbox() {
    // California's two cafes.
    let california = "POLYGON((-123 36,-121 36,-121 38,-123 38,-123 36))";
    assert_eq!(ids(&format!("S_INTERSECTS(geometry, {california})")), ["a1", "a2"]);
    assert_eq!(ids(&format!("s_intersects(geometry,{california}) AND Seats > 5")), ["a1"]);
    assert_eq!(ids("S_INTERSECTS(geometry, BBOX(-75,40,-73,41))"), ["b2"]);
    // West beyond east crosses the antimeridian, as `bbox=` does: the same
    // as the two boxes on either side of it.
    let across = ids("S_INTERSECTS(geometry, BBOX(170,-90,-170,90))");
    let sides = ids("S_INTERSECTS(geometry, BBOX(170,-90,180,90)) OR S_INTERSECTS(geometry, BBOX(-180,-90,-170,90))");
    assert_eq!(across, sides);
    assert_eq!(across, ["c1", "c2", "d2"]);
    let upside_down = parse("S_INTERSECTS(geometry, BBOX(0,10,10,0))").unwrap_err();
    assert!(upside_down.to_string().contains("south is above its north"), "{upside_down}");
    let everything = ids("S_INTERSECTS(geometry, BBOX(-180,-90,180,90))");
    let wide = ids("S_INTERSECTS(geometry, BBOX(-170,-90,170,90))");
    assert_eq!(across.len() + wide.len(), everything.len(), "{across:?} {wide:?} {everything:?}");
    assert_eq!(ids("S_INTERSECTS(geometry, POINT(-74 40.71))"), ["b2"]);
    assert_eq!(ids("NOT S_INTERSECTS(geometry, BBOX(-180,-10,180,85))"), ["d1", "d2"]);
}

#[test]
fn errors_name_the_problem_and_its_position() {
    let cases = [
        ("", 1, "empty"),
        ("Seats =", 8, "expected a value"),
        ("Seats == 1", 8, "expected a value"),
        ("Seats ~ 1", 7, "unexpected character"),
        ("Seats = 1 AND", 14, "expected a property name"),
        ("(Seats = 1", 11, "expected ')'"),
        ("Seats = 1 Name", 11, "unexpected 'Name'"),
        ("Name = 'abc", 8, "not closed"),
        ("Seats BETWEEN 1 OR 2", 17, "expected AND"),
        ("Name LIKE 3", 11, "quoted pattern"),
        ("S_INTERSECTS(geometry, CIRCLE(1 2))", 24, "not a WKT"),
        ("S_INTERSECTS(geometry, POLYGON((0 0,1 1))", 42, "expected ')'"),
        ("Seats IS 3", 10, "expected NULL"),
        ("Seats NOT = 3", 11, "LIKE, BETWEEN or IN"),
    ];
    for (text, position, message) in cases {
        let error = parse(text).unwrap_err();
        assert_eq!(error.position, position, "{text}: {error}");
        assert!(error.message.contains(message), "{text}: {error}");
    }
}

#[test]
fn typing_errors_point_into_the_text() {
    let schema = shops_schema();
    let limits = QueryLimits::default();
    let cases = [
        ("Nope = 1", 1, "no property 'Nope'"),
        ("Seats = 'many'", 9, "does not fit"),
        ("Seats LIKE 'a%'", 1, "needs a string"),
        ("S_INTERSECTS(Name, POINT(1 2))", 14, "not the geometry"),
        ("S_INTERSECTS(geometry, POLYGON((0 0,1 1)))", 24, "not valid WKT"),
        ("Latitude > 3", 1, "spatial filter"),
    ];
    for (text, position, message) in cases {
        let error = compile(text, &schema, &limits).unwrap_err();
        assert_eq!(error.position, position, "{text}: {error}");
        assert!(error.message.contains(message), "{text}: {error}");
    }
}

#[test]
fn nesting_is_capped() {
    let deep = format!("{}Seats = 1{}", "(".repeat(100), ")".repeat(100));
    assert!(parse(&deep).unwrap_err().message.contains("nests deeper"));
}
