//! The column-index plans (runs of a sorted index as candidates, counts
//! from the index, dense scans in row order) checked against a plain scan
//! with the evaluator, for random filters over random columns full of
//! nulls, repeated values, both zeros and boundary constants.

use sds_core::{EdmType, Entity, Property, Schema, Timestamp, Value};

use crate::plan::{Query, QueryLimits, QueryOptions};
use crate::rowfilter::RowFilter;
use crate::table::{Cell, Table, TableBuilder};

struct Random(u64);

impl Random {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % bound
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len())]
    }
}

const DOUBLES: [f64; 7] = [-2.5, -1.0, -0.0, 0.0, 0.5, 3.0, 1e300];
const BASE_SECONDS: i64 = 1_262_304_000; // 2010-01-01T00:00:00Z

/// Rows with Rank in -3..=12 (a run of equal values each), Score from
/// `DOUBLES`, Open, When a few seconds after 2010, Name one of three; a
/// property is null one time in five. With `sorted_rank`, Rank ascends
/// with the row (matches gather at one end of the table).
fn table(random: &mut Random, rows: usize, sorted_rank: bool) -> Table {
    let schema = Schema::new(
        "C",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Rank", EdmType::Int64),
            Property::new("Score", EdmType::Double),
            Property::new("Open", EdmType::Boolean),
            Property::new("When", EdmType::DateTime),
            Property::new("Name", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
        ],
        "Id",
    )
    .unwrap();
    let mut builder = TableBuilder::new(schema, rows);
    for row in 0..rows {
        let id = format!("{row:06}");
        let null = |random: &mut Random| random.below(5) == 0;
        let rank = if sorted_rank { (row * 16 / rows) as i64 - 3 } else { random.below(16) as i64 - 3 };
        let values = vec![
            Value::String(id.clone()),
            if null(random) { Value::Null } else { Value::Int64(rank) },
            if null(random) { Value::Null } else { Value::Double(DOUBLES[random.below(DOUBLES.len())]) },
            if null(random) { Value::Null } else { Value::Boolean(random.below(2) == 0) },
            if null(random) {
                Value::Null
            } else {
                Value::DateTime(Timestamp { seconds: BASE_SECONDS + random.below(6) as i64, nanos: 0 })
            },
            Value::String(["a", "B", "c"][random.below(3)].into()),
            Value::Double(0.0),
            Value::Double(0.0),
        ];
        builder.push(Entity { id, latitude: 0.0, longitude: 0.0, bounds: None, values });
    }
    builder.finish()
}

/// One comparison on a property, with constants at, between and beyond its values.
fn comparison(random: &mut Random, property: &str) -> String {
    let op = random.pick(&["eq", "ne", "lt", "le", "gt", "ge"]);
    let constant = match property {
        "Rank" => random.pick(&["-4", "-3", "0", "5", "12", "13", "4.5", "-0.5", "99999999999"]).to_owned(),
        "Score" => random.pick(&["-2.5", "-1", "-0.0", "0", "0.25", "3", "1e300", "-1e308", "2e308"]).to_owned(),
        "Open" => random.pick(&["true", "false", "1", "0"]).to_owned(),
        _ => format!(
            "datetime'2010-01-01T00:00:0{}Z'",
            random.pick(&["0", "2", "5", "6", "9"]) // 6 and 9 are past the last value
        ),
    };
    match random.below(12) {
        0 => format!("{property} {} null", random.pick(&["eq", "ne"])),
        1 => format!("not ({property} {op} {constant})"),
        2 => format!("{property} in ({constant}, {}, null)", comparison_constant(random, property)),
        3 => format!("({property} {op} {constant} or {})", comparison(random, property)),
        _ => format!("{property} {op} {constant}"),
    }
}

fn comparison_constant(random: &mut Random, property: &str) -> String {
    match property {
        "Rank" => random.pick(&["1", "7", "-3"]).to_owned(),
        "Score" => random.pick(&["0", "0.5", "-1"]).to_owned(),
        "Open" => random.pick(&["true", "false"]).to_owned(),
        _ => "datetime'2010-01-01T00:00:03Z'".to_owned(),
    }
}

/// A filter and whether it names one property only.
fn random_filter(random: &mut Random) -> (String, bool) {
    let properties = ["Rank", "Score", "Open", "When"];
    let main = properties[random.below(4)];
    let mut parts = vec![comparison(random, main)];
    let mut single = true;
    for _ in 0..random.below(3) {
        match random.below(4) {
            0 => {
                parts.push(format!("Name eq '{}'", random.pick(&["A", "b"])));
                single = false;
            }
            1 => {
                let other = properties[random.below(4)];
                single &= other == main;
                parts.push(comparison(random, other));
            }
            _ => parts.push(comparison(random, main)),
        }
    }
    (parts.join(" and "), single)
}

/// The page and count the query gives, with the count asked for or not.
fn run(table: &Table, filter: &str, orderby: Option<&str>, top: usize, skip: usize) -> (Vec<u32>, Option<usize>) {
    let (top, skip) = (top.to_string(), skip.to_string());
    let limits = QueryLimits { max_top: 100_000, ..QueryLimits::default() };
    let options = QueryOptions {
        filter: Some(filter),
        orderby,
        top: Some(&top),
        skip: Some(&skip),
        inline_count: Some("allpages"),
        ..QueryOptions::default()
    };
    let counted = Query::compile(table.schema(), &options, &limits).unwrap().execute(table).unwrap();
    let options = QueryOptions { inline_count: None, ..options };
    let uncounted = Query::compile(table.schema(), &options, &limits).unwrap().execute(table).unwrap();
    let rows: Vec<u32> = counted.hits.iter().map(|hit| hit.row).collect();
    assert_eq!(
        rows,
        uncounted.hits.iter().map(|hit| hit.row).collect::<Vec<_>>(),
        "{filter}: with and without a count"
    );
    (rows, counted.total)
}

/// Rank ascending, nulls first, then row: the `$orderby=Rank` order.
fn rank_key(table: &Table, row: u32) -> (Option<i64>, u32) {
    match table.cell(1, row) {
        Cell::Int64(value) => (Some(value), row),
        _ => (None, row),
    }
}

#[test]
fn column_index_plans_agree_with_a_scan() {
    let mut random = Random(7);
    for (rows, sorted_rank) in [(3000, false), (3000, true), (40, false)] {
        let table = table(&mut random, rows, sorted_rank);
        for round in 0..300 {
            let (filter, single) = random_filter(&mut random);
            let limits = QueryLimits::default();
            let options = QueryOptions { filter: Some(&filter), ..QueryOptions::default() };
            let query = Query::compile(table.schema(), &options, &limits).unwrap();
            let predicate = query.predicate.as_ref().unwrap();
            // The plain scan: the evaluator on every row.
            let mut matching: Vec<u32> = (0..rows as u32).filter(|&row| predicate.matches(&table, row)).collect();
            if single {
                // One property: the index answers it all (and counts it).
                assert!(RowFilter::new(&table, Some(predicate), true).complete, "{filter}: not answered by an index");
            }
            let (top, skip) = [(25, 0), (3, 2), (5000, 0), (0, 0), (10, 40), (1, 0)][round % 6];
            let orderby = (round % 7 == 0).then_some("Rank");
            if orderby.is_some() {
                matching.sort_by_key(|&row| rank_key(&table, row));
            }
            let total = matching.len();
            let page: Vec<u32> = matching.into_iter().skip(skip).take(top).collect();
            assert_eq!(run(&table, &filter, orderby, top, skip), (page, Some(total)), "{filter} top {top} skip {skip}");
        }
    }
}

#[test]
fn built_column_indexes_count_four_bytes_per_row() {
    let table = table(&mut Random(3), 500, false);
    assert_eq!(table.column_index_bytes(), 0, "nothing is built before a query");
    run(&table, "Rank gt 3 and Score lt 0", None, 25, 0);
    assert_eq!(table.column_index_bytes(), 2 * 4 * 500, "Rank's and Score's");
    run(&table, "Name eq 'a'", None, 25, 0);
    assert_eq!(table.column_index_bytes(), 2 * 4 * 500, "strings have their own index");
}
