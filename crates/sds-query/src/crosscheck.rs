//! The indexed execution paths (grid cells, cell classification, bounded
//! top-k, value-code tests) checked against a brute-force scan on a
//! random table dense enough to fill many grid cells.

use sds_core::{EdmType, Entity, Property, Schema, Value};

use crate::plan::{Query, QueryLimits, QueryOptions};
use crate::spatial::sphere::distance_km;
use crate::table::{Table, TableBuilder};

struct Place {
    lat: f64,
    lon: f64,
    name: String,
    country: &'static str,
}

struct Random(u64);

impl Random {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// With `global`, a third of the points in a 2° square and the rest over
/// the globe; else all in the square (small grid cells, many wholly inside
/// the test polygon).
fn places(random: &mut Random, global: bool) -> Vec<Place> {
    const NAMES: [&str; 6] = ["San Jose", "santa Ana", "SAN", "Sandy", "Berlin", "Oslo"];
    const COUNTRIES: [&str; 3] = ["US", "de", "Fr"];
    (0..4000)
        .map(|index| {
            let (lat, lon) = if index % 3 == 0 || !global {
                (10.0 + random.next() * 2.0, 20.0 + random.next() * 2.0)
            } else {
                (random.next() * 170.0 - 85.0, random.next() * 360.0 - 180.0)
            };
            let name = format!("{}{}", NAMES[(random.next() * 6.0) as usize], index % 7);
            Place { lat, lon, name, country: COUNTRIES[(random.next() * 3.0) as usize] }
        })
        .collect()
}

fn table(places: &[Place]) -> Table {
    let schema = Schema::new(
        "P",
        vec![
            Property::new("Id", EdmType::String),
            Property::new("Name", EdmType::String),
            Property::new("Cc", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
        ],
        "Id",
    )
    .unwrap();
    let mut builder = TableBuilder::new(schema, places.len());
    for (index, place) in places.iter().enumerate() {
        let id = format!("{index:05}");
        builder.push(Entity {
            id: id.clone(),
            latitude: place.lat,
            longitude: place.lon,
            bounds: None,
            values: vec![
                Value::String(id),
                Value::String(place.name.clone()),
                Value::String(place.country.into()),
                Value::Double(place.lat),
                Value::Double(place.lon),
            ],
        });
    }
    builder.finish()
}

fn run(table: &Table, spatial: Option<&str>, filter: Option<&str>, top: &str, skip: &str) -> (Vec<u32>, Option<usize>) {
    let options = QueryOptions {
        spatial_filter: spatial,
        filter,
        top: Some(top),
        skip: Some(skip),
        inline_count: Some("allpages"),
        ..QueryOptions::default()
    };
    let limits = QueryLimits { max_top: 10_000, ..QueryLimits::default() };
    let counted = Query::compile(table.schema(), &options, &limits).unwrap().execute(table).unwrap();
    let options = QueryOptions { inline_count: None, ..options };
    let paged = Query::compile(table.schema(), &options, &limits).unwrap().execute(table).unwrap();
    let rows: Vec<u32> = paged.hits.iter().map(|hit| hit.row).collect();
    assert_eq!(rows, counted.hits.iter().map(|hit| hit.row).collect::<Vec<_>>(), "with and without a count");
    (rows, counted.total)
}

fn expect(mut matching: Vec<(f64, u32)>, top: usize, skip: usize) -> (Vec<u32>, Option<usize>) {
    let total = matching.len();
    matching.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    (matching.into_iter().skip(skip).take(top).map(|(_, row)| row).collect(), Some(total))
}

fn inside(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut result = false;
    for index in 0..ring.len() - 1 {
        let ((x1, y1), (x2, y2)) = (ring[index], ring[index + 1]);
        if (y1 > lat) != (y2 > lat) && lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1) {
            result = !result;
        }
    }
    result
}

#[test]
fn indexed_paths_agree_with_a_scan() {
    for global in [true, false] {
        check(global);
    }
}

fn check(global: bool) {
    let mut random = Random(42);
    let places = places(&mut random, global);
    let table = table(&places);
    for round in 0..60 {
        let (top, skip) = [(25, 0), (3, 2), (250, 0), (0, 0), (10, 40)][round % 5];
        let (top_text, skip_text) = (top.to_string(), skip.to_string());
        // bbox, a third of them crossing the antimeridian, a third in the cluster.
        let (south, north) = {
            let a = random.next() * 170.0 - 85.0;
            (a, (a + random.next() * 30.0).min(90.0))
        };
        let (west, east) = match round % 3 {
            0 => (170.0 + random.next() * 9.0, -180.0 + random.next() * 9.0),
            1 => (20.0 + random.next(), 21.0 + random.next()),
            _ => {
                let w = random.next() * 300.0 - 180.0;
                (w, w + random.next() * 60.0)
            }
        };
        let (south, north) = if round % 3 == 1 { (10.3, 11.7) } else { (south, north) };
        let bbox = format!("bbox({south},{west},{north},{east})");
        let in_lon = |lon: f64| if west <= east { lon >= west && lon <= east } else { lon >= west || lon <= east };
        let matching = (0..places.len())
            .filter(|&row| in_lon(places[row].lon) && places[row].lat >= south && places[row].lat <= north)
            .map(|row| (0.0, row as u32))
            .collect();
        assert_eq!(run(&table, Some(&bbox), None, &top_text, &skip_text), expect(matching, top, skip), "{bbox}");

        // nearby, ordered by distance.
        let center = &places[(random.next() * places.len() as f64) as usize];
        let radius = 5.0 + random.next() * 300.0;
        let nearby = format!("nearby({},{},{radius})", center.lat, center.lon);
        let matching = (0..places.len())
            .map(|row| (distance_km(center.lat, center.lon, places[row].lat, places[row].lon), row as u32))
            .filter(|(distance, _)| *distance <= radius)
            .collect();
        assert_eq!(run(&table, Some(&nearby), None, &top_text, &skip_text), expect(matching, top, skip), "{nearby}");

        // intersects a two-part multipolygon with a hole, plus a filter.
        let (x, y) = (19.5 + random.next(), 9.5 + random.next());
        let outer = [(x, y), (x + 2.0, y + 0.3), (x + 1.7, y + 2.2), (x + 0.2, y + 1.5), (x, y)];
        let hole = [(x + 0.8, y + 0.8), (x + 1.2, y + 0.8), (x + 1.2, y + 1.2), (x + 0.8, y + 1.2), (x + 0.8, y + 0.8)];
        let far = [(-60.0, -40.0), (0.0, -40.0), (-30.0, 0.0), (-60.0, -40.0)];
        let ring_text =
            |ring: &[(f64, f64)]| ring.iter().map(|(lon, lat)| format!("{lon} {lat}")).collect::<Vec<_>>().join(",");
        let wkt = format!(
            "intersects('MULTIPOLYGON((({}),({})),(({})))')",
            ring_text(&outer),
            ring_text(&hole),
            ring_text(&far)
        );
        let filter = ["Cc eq 'us'", "startswith(Name,'san') eq true and Cc eq 'DE'", "Name ne 'Oslo1'"][round % 3];
        let passes = |place: &Place| match round % 3 {
            0 => place.country == "US",
            1 => place.name.to_lowercase().starts_with("san") && place.country == "de",
            _ => place.name != "Oslo1",
        };
        let matching = (0..places.len())
            .filter(|&row| {
                let place = &places[row];
                let in_shape = (inside(&outer, place.lon, place.lat) && !inside(&hole, place.lon, place.lat))
                    || inside(&far, place.lon, place.lat);
                in_shape && passes(place)
            })
            .map(|row| (0.0, row as u32))
            .collect();
        assert_eq!(
            run(&table, Some(&wkt), Some(filter), &top_text, &skip_text),
            expect(matching, top, skip),
            "{wkt} {filter}"
        );

        // The filter alone, from the string indexes.
        let matching = (0..places.len()).filter(|&row| passes(&places[row])).map(|row| (0.0, row as u32)).collect();
        assert_eq!(run(&table, None, Some(filter), &top_text, &skip_text), expect(matching, top, skip), "{filter}");
    }
}
