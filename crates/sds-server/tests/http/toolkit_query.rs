//! Queries exactly as microsoft/BingMapsSDSToolkit's `QueryManager` makes
//! them (SPEC §8), on real data: the Île-de-France places of
//! ../shared/data/cities1000.csv (uploaded as the toolkit uploads, a gzip
//! DataSet) and the Natural Earth countries (a zipped Shapefile).
//!
//! Requests are made and answers read by `common::toolkit_client`, which
//! follows the toolkit's source byte for byte. Every expectation is
//! computed here from the source files, independently of the server.

use std::io::Write;

use crate::common::server::{access_id_of, location, shared_data, TestServer};
use crate::common::toolkit_client::*;
use crate::common::xdoc;
use crate::fixtures::gzip;

const EARTH_RADIUS_KM: f64 = 6378.137;

/// One place of cities1000.csv.
#[derive(Clone, Debug)]
pub struct Place {
    /// The CSV line number, zero-padded so that ID order is line order.
    pub id: String,
    pub name: String,
    pub admin2: String,
    pub latitude: f64,
    pub longitude: f64,
    /// Columns of the other types, derived from the line (our own fixture values).
    pub line: i64,
    pub in_paris: bool,
    /// A UTC date as the toolkit writes it (`DateTime.ToString("O")`).
    pub added: String,
}

/// The places of Île-de-France (686 rows, names and departments with quotes).
pub fn idf_places() -> Vec<Place> {
    let text = std::fs::read_to_string(shared_data("cities1000.csv")).unwrap();
    text.lines()
        .enumerate()
        .skip(1)
        .filter_map(|(index, line)| {
            let cells: Vec<&str> = line.trim_end_matches('\r').split(',').collect();
            (cells[3] == "Ile-de-France").then(|| Place {
                id: format!("{:06}", index + 1),
                name: cells[2].to_owned(),
                admin2: cells[4].to_owned(),
                latitude: cells[0].parse().unwrap(),
                longitude: cells[1].parse().unwrap(),
                line: index as i64 + 1,
                in_paris: cells[4] == "Paris",
                added: format!(
                    "2010-{:02}-{:02}T{:02}:{:02}:00.0000000Z",
                    1 + index % 12,
                    1 + index % 28,
                    index % 24,
                    index % 60
                ),
            })
        })
        .collect()
}

fn xml_text(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The DataSet the toolkit's `DataSource.WriteToXml` writes: root
/// `<name>Data`, every column `minOccurs="0"`.
fn toolkit_dataset(name: &str, places: &[Place]) -> String {
    let mut xml = format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<{name}Data>
  <xs:schema id="{name}" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="{name}" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="City">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="EntityID" type="xs:string" minOccurs="0" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="Admin2" type="xs:string" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
                <xs:element name="Line" type="xs:long" minOccurs="0" />
                <xs:element name="InParis" type="xs:boolean" minOccurs="0" />
                <xs:element name="Added" msdata:DateTimeMode="Utc" type="xs:dateTime" minOccurs="0" />
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//City" />
        <xs:field xpath="EntityID" />
      </xs:unique>
    </xs:element>
  </xs:schema>
"#
    );
    for place in places {
        xml.push_str(&format!(
            "  <City><EntityID>{}</EntityID><Name>{}</Name><Admin2>{}</Admin2><Latitude>{}</Latitude><Longitude>{}</Longitude><Line>{}</Line><InParis>{}</InParis><Added>{}</Added></City>\n",
            place.id,
            xml_text(&place.name),
            xml_text(&place.admin2),
            place.latitude,
            place.longitude,
            place.line,
            if place.in_paris { "True" } else { "False" },
            place.added
        ));
    }
    xml.push_str(&format!("</{name}Data>\n"));
    xml
}

pub fn shapefile_zip(folder: &str) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for extension in ["shp", "shx", "dbf", "prj", "cpg"] {
        let name = format!("{folder}.{extension}");
        writer.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
        writer.write_all(&std::fs::read(shared_data(&format!("{folder}/{name}"))).unwrap()).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

/// A server holding both data sources, loaded as the toolkit loads them.
pub struct Fixture {
    pub server: TestServer,
    pub places: Vec<Place>,
    pub cities_base: String,
    pub countries_base: String,
}

impl Fixture {
    pub fn new() -> Fixture {
        let server = TestServer::start();
        let places = idf_places();
        assert_eq!(places.len(), 686);
        let upload = |name: &str, input: &str, body: Vec<u8>| {
            let url = format!(
                "{}/Dataflows/LoadDataSource?dataSourceName={name}&loadOperation=Complete&setPublic=0&input={input}&output=json&clientApi=SDSToolkit&description=&key={}",
                server.root, server.master_key
            );
            let response =
                server.client.post(url).header("Content-Type", "application/octet-stream").body(body).send().unwrap();
            assert_eq!(response.status(), 201);
            let job = server.wait_job(&location(&response), &server.master_key);
            assert_eq!(job["status"], "Completed", "{job}");
            assert_eq!(job["failedEntityCount"], 0, "{job}");
            access_id_of(&job)
        };
        let cities = upload("IdfCities", "xml", gzip(toolkit_dataset("IdfCities", &places).as_bytes()));
        let countries = upload("Countries", "shp", shapefile_zip("naturalearth_lowres"));
        // The toolkit's host is hard-coded; only the scheme and authority differ.
        let cities_base = format!("{}/data/{cities}/IdfCities/City", server.root);
        let countries_base = format!("{}/data/{countries}/Countries/Countries", server.root);
        Fixture { server, places, cities_base, countries_base }
    }

    pub fn place(&self, id: &str) -> &Place {
        self.places.iter().find(|place| place.id == id).unwrap()
    }
}

/// Sends a request as the toolkit does and reads the answer as it does.
pub fn toolkit_query(fixture: &Fixture, base: &str, request: &Request) -> Vec<QueryResult> {
    let url = dotnet_uri(&request.url(base, &fixture.server.query_key));
    let (status, body) = raw_get(&url);
    assert_eq!(status, 200, "{url}: {body}");
    parse_as_toolkit(&body)
}

// ---- Expectations, computed from the files -------------------------------

pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let a = ((phi2 - phi1) / 2.0).sin().powi(2)
        + phi1.cos() * phi2.cos() * ((lon2 - lon1).to_radians() / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
}

fn ids(results: &[QueryResult]) -> Vec<String> {
    results.iter().map(|result| result.text("EntityID").to_owned()).collect()
}

fn place_ids<'a>(places: impl IntoIterator<Item = &'a Place>) -> Vec<String> {
    places.into_iter().map(|place| place.id.clone()).collect()
}

fn close(actual: f64, expected: f64) {
    assert!((actual - expected).abs() < 1e-6, "{actual} vs {expected}");
}

#[test]
fn toolkit_find_near_by_and_in_bounding_box() {
    let fixture = Fixture::new();
    // FindNearByRequest { Center = Paris, Distance = 7 }: nearest first.
    let (latitude, longitude) = (48.85341, 2.3488);
    let results =
        toolkit_query(&fixture, &fixture.cities_base, &Request::new(Search::NearBy { latitude, longitude, km: 7.0 }));
    let mut expected: Vec<(f64, &Place)> = fixture
        .places
        .iter()
        .map(|place| (haversine_km(latitude, longitude, place.latitude, place.longitude), place))
        .filter(|(distance, _)| *distance <= 7.0)
        .collect();
    expected.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.id.cmp(&b.1.id)));
    assert!(expected.len() > 5, "Paris has neighbours within 7 km");
    assert_eq!(ids(&results), place_ids(expected.iter().take(25).map(|(_, place)| *place)));
    for (result, (distance, place)) in results.iter().zip(&expected) {
        close(result.distance, *distance);
        assert_eq!((result.latitude, result.longitude), (place.latitude, place.longitude));
        assert_eq!(result.text("Name"), place.name);
    }

    // FindInBoundingBoxRequest with Top = 100: entity-ID order, distances from the centre.
    let (south, west, north, east) = (48.8, 2.25, 48.9, 2.45);
    let mut request = Request::new(Search::BoundingBox { south, west, north, east });
    request.top = 100;
    let results = toolkit_query(&fixture, &fixture.cities_base, &request);
    let inside: Vec<&Place> = fixture
        .places
        .iter()
        .filter(|place| (south..=north).contains(&place.latitude) && (west..=east).contains(&place.longitude))
        .collect();
    assert!(inside.len() > 10 && inside.len() < 100, "{}", inside.len());
    assert_eq!(ids(&results), place_ids(inside.iter().copied()));
    for (result, place) in results.iter().zip(&inside) {
        close(result.distance, haversine_km(48.85, 2.35, place.latitude, place.longitude));
    }

    // Countries (finding 3): Paris is in France, whatever France's centroid.
    let results = toolkit_query(
        &fixture,
        &fixture.countries_base,
        &Request::new(Search::NearBy { latitude, longitude, km: 10.0 }),
    );
    assert_eq!(results.iter().map(|result| result.text("name")).collect::<Vec<_>>(), ["France"]);
    assert_eq!(results[0].distance, 0.0);
    assert!(
        matches!(&results[0].properties["Geom"], Property::Geography(Some(wkt)) if wkt.starts_with("MULTIPOLYGON"))
    );
    let results = toolkit_query(
        &fixture,
        &fixture.countries_base,
        &Request::new(Search::BoundingBox { south: 48.8, west: 2.3, north: 48.9, east: 2.4 }),
    );
    assert_eq!(results.iter().map(|result| result.text("name")).collect::<Vec<_>>(), ["France"]);
}

#[test]
fn toolkit_find_by_property_with_filters_order_and_paging() {
    let fixture = Fixture::new();
    let places = &fixture.places;
    let base = &fixture.cities_base;
    let query = |filter: Filter, top: i32| {
        let mut request = Request::new(Search::Property);
        request.filter = Some(filter);
        request.top = top;
        toolkit_query(&fixture, base, &request)
    };
    let expect = |keep: &dyn Fn(&Place) -> bool| place_ids(places.iter().filter(|place| keep(place)));

    // startsWith / endsWith, as the toolkit quotes them (twice).
    let saint = query(Filter::Expression("Name", Operator::StartsWith, FilterValue::Text("Saint".into())), 250);
    assert_eq!(ids(&saint), expect(&|place| place.name.to_lowercase().starts_with("saint")));
    assert_eq!(saint.len(), 46);
    let quoted = query(Filter::Expression("Name", Operator::StartsWith, FilterValue::Text("L'H".into())), 25);
    assert_eq!(ids(&quoted), expect(&|place| place.name.starts_with("L'H")));
    assert_eq!(quoted[0].text("Name"), "L'Hay-les-Roses");
    let on_seine = query(Filter::Expression("Name", Operator::EndsWith, FilterValue::Text("-sur-Seine".into())), 250);
    assert_eq!(ids(&on_seine), expect(&|place| place.name.to_lowercase().ends_with("-sur-seine")));
    assert_eq!(on_seine.len(), 32);

    // eq with a quote, and a group with a wildcard and a comparison.
    let essonne = "Departement de l'Essonne";
    let in_essonne = query(Filter::Expression("Admin2", Operator::Eq, FilterValue::Text(essonne.into())), 250);
    assert_eq!(ids(&in_essonne), expect(&|place| place.admin2 == essonne));
    let group = Filter::Group(
        vec![
            Filter::Expression("Name", Operator::StartsWith, FilterValue::Text("Saint".into())),
            Filter::Expression("Admin2", Operator::Eq, FilterValue::Text("Departement du Val-d'Oise".into())),
        ],
        true,
        false,
    );
    assert_eq!(
        ids(&query(group, 25)),
        expect(&|place| place.name.starts_with("Saint") && place.admin2 == "Departement du Val-d'Oise")
    );

    // not (… Or …), $top above 250 (clamped) and $inlinecount.
    let mut request = Request::new(Search::Property);
    request.filter = Some(Filter::Group(
        vec![
            Filter::Expression("Admin2", Operator::Eq, FilterValue::Text("Paris".into())),
            Filter::Expression("Name", Operator::StartsWith, FilterValue::Text("S".into())),
        ],
        false,
        true,
    ));
    request.top = 300;
    request.inline_count = true;
    let url = dotnet_uri(&request.url(base, &fixture.server.query_key));
    assert!(url.contains("&$top=300&$inlinecount=allpages&$filter=not%20(Admin2%20eq%20'Paris'%20Or%20startsWith(Name,''S'')%20eq%20true)&key="), "{url}");
    let (status, body) = raw_get(&url);
    assert_eq!(status, 200, "{body}");
    let matching = expect(&|place| !(place.admin2 == "Paris" || place.name.starts_with('S')));
    assert!(matching.len() > 250);
    let count = xdoc::parse(&body).element(METADATA, "count").expect("m:count").value();
    assert_eq!(count, matching.len().to_string());
    assert_eq!(ids(&parse_as_toolkit(&body)), matching[..250]);

    // By ID: EntityID IsIn.
    let wanted = vec![places[10].id.clone(), places[500].id.clone()];
    assert_eq!(
        ids(&query(Filter::Expression("EntityID", Operator::IsIn, FilterValue::Texts(wanted.clone())), 25)),
        wanted
    );

    // $orderby Name desc, $skip 10, $top 5, with a $select.
    let mut request = Request::new(Search::Property);
    request.orderby = Some("Name desc".into());
    request.skip = 10;
    request.top = 5;
    request.select = Some("EntityID,Name".into());
    let results = toolkit_query(&fixture, base, &request);
    let mut by_name: Vec<&Place> = places.iter().collect();
    by_name.sort_by(|a, b| b.name.to_lowercase().cmp(&a.name.to_lowercase()).then(a.id.cmp(&b.id)));
    assert_eq!(ids(&results), place_ids(by_name[10..15].iter().copied()));
    assert!(results.iter().all(|result| result.properties.len() == 2 && result.latitude == 0.0));
}

/// Even-odd point in polygon, for one ring of (lon, lat).
fn inside(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut result = false;
    for pair in ring.windows(2) {
        let ((x1, y1), (x2, y2)) = (pair[0], pair[1]);
        if (y1 > lat) != (y2 > lat) && lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1) {
            result = !result;
        }
    }
    result
}

#[test]
fn toolkit_intersection_search_and_entity_urls() {
    let fixture = Fixture::new();
    // IntersectionSearchRequest with a raw WKT triangle west of Paris.
    // Corners off the places' rounded coordinates: none lies on an edge.
    let ring = [(2.0003, 48.7003), (2.3107, 48.7511), (2.1013, 49.0007), (2.0003, 48.7003)];
    let wkt =
        format!("POLYGON(({}))", ring.iter().map(|(lon, lat)| format!("{lon} {lat}")).collect::<Vec<_>>().join(", "));
    let mut request = Request::new(Search::Intersection { wkt: wkt.clone() });
    request.top = 250;
    let results = toolkit_query(&fixture, &fixture.cities_base, &request);
    let expected = place_ids(fixture.places.iter().filter(|place| inside(&ring, place.longitude, place.latitude)));
    assert!(expected.len() > 20, "{}", expected.len());
    assert_eq!(ids(&results), expected);
    let countries = toolkit_query(&fixture, &fixture.countries_base, &Request::new(Search::Intersection { wkt }));
    assert_eq!(countries.iter().map(|result| result.text("name")).collect::<Vec<_>>(), ["France"]);

    // Each result's EntityUrl (atom:id) fetches that entity, read the same way.
    for result in results.iter().take(5).chain(&countries) {
        let url = dotnet_uri(&format!("{}?key={}", result.entity_url, fixture.server.query_key));
        let (status, body) = raw_get(&url);
        assert_eq!(status, 200, "{url}");
        let single = parse_as_toolkit(&body);
        assert_eq!(single.len(), 1);
        assert_eq!(single[0].entity_url, result.entity_url);
        assert_eq!(single[0].properties, result.properties);
        assert_eq!((single[0].latitude, single[0].longitude), (result.latitude, result.longitude));
    }
    let first = fixture.place(results[0].text("EntityID"));
    assert_eq!((results[0].latitude, results[0].longitude), (first.latitude, first.longitude));
}

/// The filter strings match what `FilterExpression.ToString()` and
/// `FilterGroup.ToString()` produce, read off their source.
#[test]
fn toolkit_filter_strings_are_the_toolkits() {
    let text = |value: &str| FilterValue::Text(value.into());
    let cases = [
        (Filter::Expression("Name", Operator::Eq, text("O'Brien café")), "Name%20eq%20'O%27%27Brien%20caf%C3%A9'"),
        (Filter::Expression("Line", Operator::Ne, FilterValue::Raw("12".into())), "Line%20ne%2012"),
        (Filter::Expression("Line", Operator::Gt, FilterValue::Raw("1.5".into())), "Line%20gt%201.5"),
        (Filter::Expression("InParis", Operator::Ge, FilterValue::Boolean(true)), "InParis%20ge%20true"),
        (Filter::Expression("Admin2", Operator::Lt, FilterValue::Null), "Admin2%20lt%20null"),
        (
            Filter::Expression("Added", Operator::Le, FilterValue::Raw("2010-01-02T03:04:05.0000000Z".into())),
            "Added%20le%202010-01-02T03:04:05.0000000Z",
        ),
        (Filter::Expression("Name", Operator::StartsWith, text("L'H")), "startsWith(Name,''L%27%27H'')%20eq%20true"),
        (Filter::Expression("Name", Operator::EndsWith, text("x")), "endsWith(Name,''x'')%20eq%20true"),
        (
            Filter::Expression("EntityID", Operator::IsIn, FilterValue::Texts(vec!["a b".into(), "c".into()])),
            "EntityID%20in%20('a b','c')",
        ),
        // Wildcards and IsIn with other values write nothing.
        (Filter::Expression("Name", Operator::StartsWith, FilterValue::Null), ""),
        (
            Filter::Group(
                vec![
                    Filter::Expression("A", Operator::Eq, FilterValue::Raw("1".into())),
                    Filter::Group(vec![Filter::Expression("B", Operator::Eq, text("x"))], true, true),
                ],
                false,
                false,
            ),
            "(A%20eq%201%20Or%20not%20(B%20eq%20'x'))",
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(filter.to_toolkit_string(), expected);
    }
}

#[test]
fn toolkit_find_by_property_on_numbers_booleans_dates_and_nulls() {
    let fixture = Fixture::new();
    let places = &fixture.places;
    let query = |filter: Filter| {
        let mut request = Request::new(Search::Property);
        request.filter = Some(filter);
        request.top = 300;
        request.inline_count = true;
        let url = dotnet_uri(&request.url(&fixture.cities_base, &fixture.server.query_key));
        let (status, body) = raw_get(&url);
        assert_eq!(status, 200, "{url}: {body}");
        let count: usize = xdoc::parse(&body).element(METADATA, "count").expect("m:count").value().parse().unwrap();
        (count, ids(&parse_as_toolkit(&body)))
    };
    let expect = |keep: &dyn Fn(&Place) -> bool| {
        let all = place_ids(places.iter().filter(|place| keep(place)));
        (all.len(), all.into_iter().take(250).collect::<Vec<_>>())
    };
    let raw = |value: &str| FilterValue::Raw(value.into());
    let (low, high, skipped) = (places[100].line, places[400].line, places[200].line);
    let range = Filter::Group(
        vec![
            Filter::Expression("Line", Operator::Ge, raw(&low.to_string())),
            Filter::Expression("Line", Operator::Lt, raw(&high.to_string())),
            Filter::Expression("Line", Operator::Ne, raw(&skipped.to_string())),
        ],
        true,
        false,
    );
    assert_eq!(query(range), expect(&|place| place.line >= low && place.line < high && place.line != skipped));
    let outside = Filter::Group(
        vec![
            Filter::Expression("Line", Operator::Le, raw(&low.to_string())),
            Filter::Expression("Line", Operator::Gt, raw(&high.to_string())),
        ],
        false,
        false,
    );
    assert_eq!(query(outside), expect(&|place| place.line <= low || place.line > high));
    let in_paris = query(Filter::Expression("InParis", Operator::Eq, FilterValue::Boolean(true)));
    assert_eq!(in_paris, expect(&|place| place.in_paris));
    assert!(in_paris.0 >= 1);
    let june = "2010-06-01T00:00:00.0000000Z";
    assert_eq!(
        query(Filter::Expression("Added", Operator::Ge, raw(june))),
        expect(&|place| place.added.as_str() >= june)
    );
    assert_eq!(query(Filter::Expression("Admin2", Operator::Ne, FilterValue::Null)), expect(&|_| true));
    assert_eq!(query(Filter::Expression("Admin2", Operator::Eq, FilterValue::Null)), (0, Vec::new()));
}
