//! `SDS/query-api/query-api-sample-code-csharp.md`: the sample's four
//! requests, built as its `string.Format` calls build them — nearby with
//! .NET's default double formatting, a bounding box, `$filter=
//! AcceptsOnlineOrders Eq True` without a spatial filter (raw blanks in
//! the URL), and `FourthCoffeeShops('-31067')` — each read as the sample
//! reads the Atom reply: `entry` elements whose `content` holds
//! `m:properties` with `d:Name`, `d:Latitude`, `d:Longitude` found by
//! their prefixed names; the ID query through namespace XPath, with
//! `d:EntityID` an integer and `d:PostalCode` non-empty.

use super::support::*;

/// The `d:` children of each entry, by prefixed name, as the sample's
/// `GetElementsByTagName` calls find them.
fn entries(atom: &str) -> Vec<Vec<(String, String)>> {
    atom.split("<entry>")
        .skip(1)
        .map(|entry| {
            let content = &entry[entry.find("<content").expect("content")..];
            let properties = &content[content.find("<m:properties>").expect("m:properties")..];
            properties
                .split("<d:")
                .skip(1)
                .map(|element| {
                    let name_end = element.find([' ', '>', '/']).unwrap();
                    let name = element[..name_end].to_owned();
                    let text = element[element.find('>').unwrap() + 1..].split('<').next().unwrap().to_owned();
                    (name, text)
                })
                .collect()
        })
        .collect()
}

fn process_entity_elements(atom: &str) -> usize {
    let entries = entries(atom);
    for properties in &entries {
        let value = |name: &str| properties.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
        assert!(value("Name").is_some(), "Name not found: {properties:?}");
        value("Latitude").expect("Latitude not found").parse::<f64>().unwrap();
        value("Longitude").expect("Longitude not found").parse::<f64>().unwrap();
    }
    entries.len()
}

/// Runs the sample's `RunExampleQueries` against the FourthCoffeeSample-shaped data source.
pub fn run_example_queries(sample: &Sample) {
    let key = &sample.server.query_key;
    let base = format!("{}/data/{}/{SAMPLE_NAME}/{SAMPLE_TYPE}", sample.server.root, sample.access_id);

    // ExampleFindByAreaRadius: string.Format("…?spatialFilter=nearby({3},{4},{5})&key={6}", 47.63674, -122.30413, 3).
    let (lat, lon, radius) = (47.63674_f64, -122.30413_f64, 3.0_f64);
    let near = get(&sample.server, &format!("{base}?spatialFilter=nearby({lat},{lon},{radius})&key={key}"));
    assert_eq!(near.status, 200, "{}", near.body);
    let expected = shops().iter().filter(|s| distance_km((lat, lon), (s.lat, s.lon)) <= radius).count();
    assert!(expected > 0);
    assert_eq!(process_entity_elements(&near.body), expected);

    // ExampleFindByBoundingBox.
    let (lat1, long1, lat2, long2) =
        ("47.61247675940658", "-122.3237670214032", "47.68239156080077", "-122.27996173131822");
    let boxed = get(&sample.server, &format!("{base}?spatialFilter=bbox({lat1},{long1},{lat2},{long2})&key={key}"));
    assert_eq!(boxed.status, 200, "{}", boxed.body);
    let (south, west, north, east): (f64, f64, f64, f64) =
        (lat1.parse().unwrap(), long1.parse().unwrap(), lat2.parse().unwrap(), long2.parse().unwrap());
    let expected =
        shops().iter().filter(|s| s.lat >= south && s.lat <= north && s.lon >= west && s.lon <= east).count();
    assert_eq!(process_entity_elements(&boxed.body), expected);

    // ExampleFindByProperty: no spatial filter, blanks in the URL.
    let online = get(&sample.server, &format!("{base}?$filter=AcceptsOnlineOrders Eq True&key={key}"));
    assert_eq!(online.status, 200, "{}", online.body);
    let expected = shops().iter().filter(|s| s.online).count().min(25);
    assert_eq!(process_entity_elements(&online.body), expected);

    // ExampleQueryByIdAtom: int entityId = -31067 formatted into ('{3}').
    let entity_id: i64 = -31067;
    let one = get(&sample.server, &format!("{base}('{entity_id}')?key={key}"));
    assert_eq!(one.status, 200, "{}", one.body);
    let properties =
        entries(&format!("<entry>{}", one.body.split_once("<entry").unwrap().1.split_once('>').unwrap().1));
    let first = &properties[0];
    let value = |name: &str| {
        first.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_else(|| panic!("d:{name}"))
    };
    assert_eq!(value("EntityID").parse::<i64>().unwrap(), entity_id);
    assert!(!value("PostalCode").is_empty(), "FirstChild.Value needs text");
    let shop = sample_shop("-31067");
    assert_eq!(value("Latitude").parse::<f64>().unwrap(), shop.lat);
    assert_eq!(value("Longitude").parse::<f64>().unwrap(), shop.lon);
    assert!(one.body.contains("xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\""));
    assert!(one.body.contains("xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\""));
}

#[test]
fn docs_query_api_sample_code_csharp_example_queries() {
    run_example_queries(&Sample::start());
}
