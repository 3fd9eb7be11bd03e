//! Shared helpers for the docs-example tests: requests as the docs write
//! them, the FourthCoffeeSample-shaped fixture (our own data, the shape of
//! `SDS/public-data-sources/fourthcoffeesample.md` and the query pages'
//! responses), and checks that need more than the golden comparator
//! (JSON key order, distances, OData dates).

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDateTime};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

pub use crate::common::golden::{assert_json_matches, assert_xml_matches};
pub use crate::common::server::{access_id_of, link, TestServer};

/// A reply with what the docs' examples show of it.
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub location: Option<String>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.body))
    }
}

/// Sends `method url` (a path on the server or an absolute URL, written as
/// the docs write it: reqwest percent-encodes spaces as a browser does).
pub fn send(server: &TestServer, method: &str, url: &str) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let response = server.client.request(method, server.url(url)).send().expect("request");
    reply(response)
}

pub fn get(server: &TestServer, url: &str) -> Reply {
    send(server, "GET", url)
}

pub fn reply(response: reqwest::blocking::Response) -> Reply {
    let header = |name: &str| response.headers().get(name).map(|value| value.to_str().unwrap().to_owned());
    let content_type = header("content-type").unwrap_or_default();
    let location = header("location");
    let status = response.status().as_u16();
    Reply { status, content_type, location, body: response.text().expect("a body") }
}

/// POSTs a body to a Load Data Source URL written as in the docs (path and
/// query after `/REST/v1/`).
pub fn post(server: &TestServer, url: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
    let response = server
        .client
        .post(server.url(url))
        .header("content-type", content_type)
        .body(body.into())
        .send()
        .expect("POST");
    reply(response)
}

/// Loads `body` as data source `name` (`complete`), waits, asserts the job
/// completed without failures, and returns the access id.
pub fn load_ok(server: &TestServer, name: &str, input: &str, body: &str) -> String {
    let job = server.load_and_wait(name, "complete", input, body);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 0, "{job}");
    access_id_of(&job)
}

/// The keys of the JSON object at `pointer` in the order the text has them
/// (the golden comparator ignores key order; the docs fix it for query
/// results: `$select` order, else schema order).
pub fn key_order(text: &str, pointer: &str) -> Vec<String> {
    let ordered: Ordered = serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"));
    let mut node = &ordered;
    for part in pointer.split('/').filter(|part| !part.is_empty()) {
        node = match node {
            Ordered::Object(members) => {
                &members.iter().find(|(key, _)| key == part).unwrap_or_else(|| panic!("no {part} in {text}")).1
            }
            Ordered::Array(items) => &items[part.parse::<usize>().unwrap()],
            Ordered::Scalar => panic!("{pointer} is not in {text}"),
        };
    }
    match node {
        Ordered::Object(members) => members.iter().map(|(key, _)| key.clone()).collect(),
        _ => panic!("{pointer} is not an object in {text}"),
    }
}

/// A JSON value that keeps object members in text order.
enum Ordered {
    Object(Vec<(String, Ordered)>),
    Array(Vec<Ordered>),
    Scalar,
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("JSON")
            }
            fn visit_bool<E>(self, _: bool) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Scalar)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, Ordered>()? {
                    members.push((key, value));
                }
                Ok(Ordered::Object(members))
            }
        }
        deserializer.deserialize_any(OrderedVisitor)
    }
}

/// Great-circle distance in km on the sphere SPEC.md §5 names (R =
/// 6378.137 km), computed here independently of the server.
pub fn distance_km(from: (f64, f64), to: (f64, f64)) -> f64 {
    const RADIUS_KM: f64 = 6378.137;
    let (lat1, lon1) = (from.0.to_radians(), from.1.to_radians());
    let (lat2, lon2) = (to.0.to_radians(), to.1.to_radians());
    let a = ((lat2 - lat1) / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * ((lon2 - lon1) / 2.0).sin().powi(2);
    2.0 * RADIUS_KM * a.sqrt().asin()
}

/// `\/Date(ms)\/` value for a UTC `YYYY-MM-DDTHH:MM:SS` (the query pages'
/// formula: milliseconds since 1970, SPEC.md §9 #17).
pub fn odata_date(utc: &str) -> String {
    let time = NaiveDateTime::parse_from_str(utc, "%Y-%m-%dT%H:%M:%S").unwrap().and_utc();
    format!("/Date({})/", time.timestamp_millis())
}

/// Checks an RFC 1123 date the way a client parses it.
pub fn is_rfc1123(text: &str) -> bool {
    DateTime::parse_from_rfc2822(text).is_ok() && text.ends_with(" GMT")
}

// ---------------------------------------------------------------------------
// The FourthCoffeeSample-shaped data source the query pages query.
// ---------------------------------------------------------------------------

pub const SAMPLE_NAME: &str = "FourthCoffeeSample";
pub const SAMPLE_TYPE: &str = "FourthCoffeeShops";

/// One coffee shop: our own values, in the columns of the query-by-ID
/// page's `$metadata` and response.
#[derive(Clone, Debug)]
pub struct Shop {
    pub id: &'static str,
    pub lat: f64,
    pub lon: f64,
    pub address: &'static str,
    pub city: &'static str,
    pub subdivision: &'static str,
    pub postal: &'static str,
    pub phone: &'static str,
    /// Empty in the docs' example (`"SecondaryCity":""`).
    pub secondary_city: &'static str,
    pub country: &'static str,
    pub manager: &'static str,
    pub store_type: &'static str,
    /// Null in the docs' example (`m:null="true"`).
    pub seating: Option<i64>,
    pub open: i64,
    pub close: i64,
    pub wifi: bool,
    pub wheelchair: bool,
    pub online: bool,
    pub cards: bool,
    pub created: &'static str,
    pub updated: &'static str,
}

impl Shop {
    pub fn number(&self) -> &str {
        self.id.trim_start_matches('-')
    }
    pub fn name(&self) -> String {
        format!("Fourth Coffee Store #{}", self.number())
    }
    pub fn display_name(&self) -> String {
        format!("Fourth Coffee Store #{}, {}, {}, {}", self.number(), self.city, self.subdivision, self.country)
    }
}

#[allow(clippy::too_many_arguments)] // one row of the fixture table
const fn shop(
    id: &'static str,
    lat: f64,
    lon: f64,
    address: &'static str,
    city: &'static str,
    subdivision: &'static str,
    postal: &'static str,
    country: &'static str,
    store_type: &'static str,
    flags: (bool, bool, bool, bool),
) -> Shop {
    Shop {
        id,
        lat,
        lon,
        address,
        city,
        subdivision,
        postal,
        phone: "555-0142",
        secondary_city: "",
        country,
        manager: "Dana Birk",
        store_type,
        seating: Some(24),
        open: 700,
        close: 1900,
        wifi: flags.0,
        wheelchair: flags.1,
        online: flags.2,
        cards: flags.3,
        created: "2011-04-02T00:00:00",
        updated: "2011-04-05T08:15:42",
    }
}

/// Shops around New Jersey (the area pages' bbox and nearby examples),
/// around Clearwater, FL (the property page's examples), one in Denmark
/// (the ID page's), some in Texas (the near-route page's) and Seattle
/// (the query sample code's).
pub fn shops() -> Vec<Shop> {
    let mut shops = vec![
        shop(
            "-9101",
            40.8012,
            -74.2401,
            "12 Bloom St",
            "Verona",
            "NJ",
            "07044",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-9102",
            40.7905,
            -74.1902,
            "40 Mill Rd",
            "Montclair",
            "NJ",
            "07042",
            "United States",
            "Kiosk",
            (false, true, true, true),
        ),
        shop(
            "-9103",
            40.7950,
            -74.4003,
            "7 Ridge Ave",
            "Livingston",
            "NJ",
            "07039",
            "United States",
            "Coffee Shop",
            (true, false, false, true),
        ),
        shop(
            "-9104",
            40.8251,
            -74.2960,
            "3 Oak Ln",
            "West Orange",
            "NJ",
            "07052",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9105",
            40.8450,
            -74.2935,
            "88 Eagle Rock Ave",
            "Roseland",
            "NJ",
            "07068",
            "United States",
            "Drive-Thru",
            (false, false, false, true),
        ),
        shop(
            "-9106",
            40.8470,
            -74.2990,
            "19 Harrison Ave",
            "Roseland",
            "NJ",
            "07068",
            "United States",
            "Coffee Shop",
            (true, true, false, false),
        ),
        shop(
            "-9107",
            40.8260,
            -74.3560,
            "2 Ridgedale Ave",
            "East Hanover",
            "NJ",
            "07936",
            "United States",
            "Kiosk",
            (true, false, false, true),
        ),
        shop(
            "-9108",
            40.8290,
            -74.3620,
            "61 Columbia Tpke",
            "East Hanover",
            "NJ",
            "07936",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9109",
            40.8700,
            -74.4400,
            "5 Pine Brook Rd",
            "Montville",
            "NJ",
            "07045",
            "United States",
            "Coffee Shop",
            (false, true, false, true),
        ),
        shop(
            "-9110",
            40.9500,
            -74.1000,
            "1 Far Hills Rd",
            "Paterson",
            "NJ",
            "07501",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-7611",
            27.894007,
            -82.670776,
            "100 Gulf Blvd",
            "Clearwater",
            "FL",
            "33760",
            "United States",
            "Coffee Shop",
            (false, true, true, true),
        ),
        shop(
            "-7602",
            27.8938,
            -82.6675,
            "210 Bay Dr",
            "Clearwater",
            "FL",
            "33760",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-7603",
            27.8990,
            -82.6800,
            "55 Harbor Way",
            "Clearwater",
            "FL",
            "33761",
            "United States",
            "Coffee Shop",
            (false, false, false, true),
        ),
        shop(
            "-7604",
            27.9000,
            -82.6650,
            "9 Sand Key",
            "Clearwater Beach",
            "FL",
            "33767",
            "United States",
            "Kiosk",
            (true, false, false, true),
        ),
        shop(
            "-7605",
            27.9200,
            -82.7300,
            "300 Seminole Blvd",
            "Largo",
            "FL",
            "33770",
            "United States",
            "Coffee Shop",
            (false, true, false, true),
        ),
        shop(
            "-7606",
            27.9160,
            -82.7330,
            "77 Belleair Rd",
            "Clearwater",
            "FL",
            "33756",
            "United States",
            "Drive-Thru",
            (false, false, true, true),
        ),
        shop(
            "-9460",
            29.5330,
            -95.1240,
            "600 Bay Area Blvd",
            "Webster",
            "TX",
            "77598",
            "United States",
            "Coffee Shop",
            (true, true, false, true),
        ),
        shop(
            "-9510",
            29.5420,
            -95.0190,
            "4 Marina Dr",
            "Kemah",
            "TX",
            "77565",
            "United States",
            "Kiosk",
            (false, true, true, true),
        ),
        shop(
            "-9600",
            29.5450,
            -95.0600,
            "31 Shore Rd",
            "Seabrook",
            "TX",
            "77586",
            "United States",
            "Coffee Shop",
            (true, false, false, true),
        ),
        shop(
            "-9700",
            29.7000,
            -95.3000,
            "8 Main St",
            "Houston",
            "TX",
            "77002",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9801",
            47.6400,
            -122.3100,
            "20 Boat St",
            "Seattle",
            "WA",
            "98105",
            "United States",
            "Coffee Shop",
            (true, true, true, true),
        ),
        shop(
            "-9802",
            47.6300,
            -122.2900,
            "5 Lake Way",
            "Seattle",
            "WA",
            "98112",
            "United States",
            "Kiosk",
            (false, true, false, true),
        ),
    ];
    let mut denmark = shop(
        "-31067",
        57.046707,
        9.935932,
        "Bispensgade 9",
        "Aalborg",
        "Nordjylland",
        "9000",
        "Danmark",
        "Drive-Thru",
        (false, false, false, true),
    );
    denmark.seating = None;
    denmark.phone = "0800-55555";
    denmark.manager = "Ida Holm";
    denmark.created = "2010-11-03T00:00:00";
    denmark.updated = "2010-11-03T23:31:36";
    shops.push(denmark);
    shops
}

pub fn sample_shop(id: &str) -> Shop {
    shops().into_iter().find(|shop| shop.id == id).unwrap()
}

/// The CSV upload of [`shops`], columns in the query-by-ID page's order.
pub fn sample_csv() -> String {
    let mut csv = format!("Bing Spatial Data Services, 1.0, {SAMPLE_TYPE}\n");
    csv.push_str(
        "EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),AddressLine(Edm.String),\
PrimaryCity(Edm.String),Subdivision(Edm.String),PostalCode(Edm.String),Phone(Edm.String),SecondaryCity(Edm.String),\
CountryRegion(Edm.String),Name(Edm.String),DisplayName(Edm.String),Manager(Edm.String),StoreOpen(Edm.String),\
StoreType(Edm.String),SeatingCapacity(Edm.Int64),Open(Edm.Int64),Close(Edm.Int64),IsWiFiHotSpot(Edm.Boolean),\
IsWheelchairAccessible(Edm.Boolean),AcceptsOnlineOrders(Edm.Boolean),AcceptsCoffeeCards(Edm.Boolean),\
CreatedDate(Edm.DateTime),LastUpdatedDate(Edm.DateTime)\n",
    );
    for shop in shops() {
        let seating = shop.seating.map(|seats| seats.to_string()).unwrap_or_default();
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{},{},{},{},{},\"{}\",{},Y,{},{},{},{},{},{},{},{},{}Z,{}Z",
            shop.id,
            shop.lat,
            shop.lon,
            shop.address,
            shop.city,
            shop.subdivision,
            shop.postal,
            shop.phone,
            shop.secondary_city,
            shop.country,
            shop.name(),
            shop.display_name(),
            shop.manager,
            shop.store_type,
            seating,
            shop.open,
            shop.close,
            shop.wifi,
            shop.wheelchair,
            shop.online,
            shop.cards,
            shop.created,
            shop.updated
        );
    }
    csv
}

/// A server with the FourthCoffeeSample-shaped data source loaded.
pub struct Sample {
    pub server: TestServer,
    pub access_id: String,
}

impl Sample {
    pub fn start() -> Sample {
        Sample::start_with(&[])
    }

    pub fn start_with(flags: &[&str]) -> Sample {
        let server = TestServer::start_with(flags);
        let access_id = load_ok(&server, SAMPLE_NAME, "csv", &sample_csv());
        Sample { server, access_id }
    }

    /// The entity set URL with the docs' query string appended (`key=` is
    /// the query key, as in the docs).
    pub fn query(&self, query: &str) -> Reply {
        get(&self.server, &format!("{}?{query}", self.set_path()))
    }

    pub fn set_path(&self) -> String {
        format!("/REST/v1/data/{}/{SAMPLE_NAME}/{SAMPLE_TYPE}", self.access_id)
    }

    /// The entry URI the docs' responses give an entity.
    pub fn entry_uri(&self, id: &str) -> String {
        format!("{}/data/{}/{SAMPLE_NAME}/{SAMPLE_TYPE}('{id}')", self.server.root, self.access_id)
    }
}

/// Atom entry for a feed golden: `<d:Prop …>` lines given.
pub fn atom_entry(uri: &str, properties: &[String]) -> String {
    format!(
        "<entry><id>{uri}</id><title type=\"text\"/><updated>{{{{isodate}}}}</updated><content type=\"application/xml\"><m:properties>{}</m:properties></content></entry>",
        properties.concat()
    )
}

/// A whole Atom feed golden around `entries`.
pub fn atom_feed(entries: &[String]) -> String {
    format!(
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:d=\"http://schemas.microsoft.com/ado/2007/08/dataservices\" \
xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\"><title type=\"text\"/><id>{{{{nonempty}}}}</id>\
<rights type=\"text\">{{{{nonempty}}}}</rights><updated>{{{{isodate}}}}</updated>{}</feed>",
        entries.concat()
    )
}

/// `<d:Name m:type="…">value</d:Name>` (no `m:type` for strings).
pub fn atom_property(name: &str, edm: Option<&str>, value: &str) -> String {
    match edm {
        Some(edm) => format!("<d:{name} m:type=\"{edm}\">{value}</d:{name}>"),
        None => format!("<d:{name}>{value}</d:{name}>"),
    }
}

/// JSON feed golden `{"d":{"__copyright":…,"results":[…]}}`.
pub fn json_feed(results: Vec<Value>) -> String {
    serde_json::json!({"d": {"__copyright": "{{nonempty}}", "results": results}}).to_string()
}

/// One JSON result with `__metadata.uri` and the given members.
pub fn json_entry(uri: &str, members: &[(&str, Value)]) -> Value {
    let mut object = serde_json::Map::new();
    object.insert("__metadata".into(), serde_json::json!({ "uri": uri }));
    for (name, value) in members {
        object.insert((*name).into(), value.clone());
    }
    Value::Object(object)
}

/// Ids of a JSON feed, in order.
pub fn result_ids(feed: &Value, key: &str) -> Vec<String> {
    feed["d"]["results"].as_array().unwrap().iter().map(|entry| entry[key].as_str().unwrap().to_owned()).collect()
}

/// Entity id from an entry URI `…Type('id')`.
pub fn id_of_uri(uri: &str) -> String {
    uri.rsplit_once("('").unwrap().1.trim_end_matches("')").to_owned()
}

// ---------------------------------------------------------------------------
// Outside services the address and route examples need.
// ---------------------------------------------------------------------------

/// Places the stand-in geocoder knows: (address as the docs write it, lat, lon).
pub const PLACES: &[(&str, f64, f64)] = &[
    ("1 Microsoft Way Redmond WA 98052", 40.8300, -74.3100),
    ("Webster,TX", 29.5386, -95.1194),
    ("Kemah,TX", 29.5431, -95.01831),
    ("Houston,TX", 29.7604, -95.3698),
    ("Galveston,Tx", 29.3013, -94.7977),
];

/// A stand-in for the geocoder and router `sds` calls (Nominatim's
/// `/search` and OSRM's `/route/v1/driving/…` response shapes) on
/// 127.0.0.1: geocodes [`PLACES`], and routes along the straight segment
/// between the two ends. Returns the `serve` flags that point `sds` at it.
/// The services are outside `sds` (SPEC.md §5: pluggable); the stand-in
/// only lets the docs' address and route examples run offline.
pub fn outside_services() -> Vec<String> {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let target = request_line.split(' ').nth(1).unwrap_or_default().to_owned();
            let body = answer(&target);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    vec!["--geocoder-url".into(), format!("{base}/search"), "--router-url".into(), format!("{base}/route/v1/driving")]
}

fn answer(target: &str) -> String {
    if let Some(query) = target.strip_prefix("/search?") {
        let address: String = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "q")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        return match PLACES.iter().find(|(place, _, _)| *place == address) {
            Some((_, lat, lon)) => format!(r#"[{{"lat":"{lat}","lon":"{lon}"}}]"#),
            None => "[]".into(),
        };
    }
    let path = target.trim_start_matches("/route/v1/driving/");
    let path = path.split('?').next().unwrap_or_default();
    let ends: Vec<&str> = path.split(';').collect();
    format!(
        r#"{{"code":"Ok","routes":[{{"geometry":{{"type":"LineString","coordinates":[[{}],[{}]]}}}}]}}"#,
        ends[0], ends[1]
    )
}

/// Distance in km from `point` to the segment `a`–`b` (all (lat, lon)),
/// on a local equirectangular projection: enough to tell 1.6 km from far.
pub fn distance_to_segment_km(point: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let scale = point.0.to_radians().cos();
    let project = |p: (f64, f64)| (p.1 * scale, p.0);
    let (px, py) = project(point);
    let (ax, ay) = project(a);
    let (bx, by) = project(b);
    let (dx, dy) = (bx - ax, by - ay);
    let t = (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let nearest = (ay + t * dy, (ax + t * dx) / scale);
    distance_km(point, nearest)
}

/// The numbers of a WKT text and its type word, to compare shapes whatever
/// the spacing.
pub fn wkt_numbers(wkt: &str) -> (String, Vec<f64>) {
    let kind: String = wkt.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let numbers = wkt
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e' || c == 'E'))
        .filter(|token| !token.is_empty() && token.chars().any(|c| c.is_ascii_digit()))
        .map(|token| token.parse::<f64>().unwrap())
        .collect();
    (kind.to_ascii_uppercase(), numbers)
}

// ---------------------------------------------------------------------------
// Management envelopes (SPEC.md §3.1), around a job resource.
// ---------------------------------------------------------------------------

/// The XML `Response` envelope golden around one resource element.
pub fn rest_xml(status: u16, description: &str, resource: &str) -> String {
    format!(
        "<Response xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
xmlns=\"http://schemas.microsoft.com/search/local/ws/rest/v1\"><Copyright>{{{{nonempty}}}}</Copyright>\
<BrandLogoUri>{{{{nonempty}}}}</BrandLogoUri><StatusCode>{status}</StatusCode><StatusDescription>{description}</StatusDescription>\
<AuthenticationResultCode>ValidCredentials</AuthenticationResultCode><TraceId>{{{{traceId}}}}</TraceId>\
<ResourceSets><ResourceSet><EstimatedTotal>1</EstimatedTotal><Resources>{resource}</Resources></ResourceSet></ResourceSets></Response>"
    )
}

/// The JSON envelope golden around one resource.
pub fn rest_json(status: u16, description: &str, resource: Value) -> String {
    serde_json::json!({
        "authenticationResultCode": "ValidCredentials",
        "brandLogoUri": "{{nonempty}}",
        "copyright": "{{nonempty}}",
        "resourceSets": [{"estimatedTotal": 1, "resources": [resource]}],
        "statusCode": status,
        "statusDescription": description,
        "traceId": "{{traceId}}"
    })
    .to_string()
}

pub const DATAFLOW_JOB: &str = "DataflowJob:http://schemas.microsoft.com/search/local/ws/rest/v1";
pub const DATASERVICE_JOB: &str = "DataServiceJob:http://schemas.microsoft.com/search/local/ws/rest/v1";

/// `Location` of a reply, asserted present.
pub fn location_of(reply: &Reply) -> String {
    reply.location.clone().unwrap_or_else(|| panic!("a Location header: {}", reply.body))
}

/// Polls a status URL (JSON) until the job is no longer Pending.
pub fn wait(server: &TestServer, status_url: &str) -> Value {
    server.wait_job(status_url, &server.master_key)
}
