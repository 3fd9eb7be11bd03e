//! Shared helpers for the docs-example tests: requests as the docs write
//! them, golden builders for query feeds and management envelopes, and
//! checks that need more than the golden comparator (JSON key order,
//! distances, OData dates). Re-exports the FourthCoffeeSample-shaped
//! fixture (`sample.rs`) and the outside-service stand-in (`outside.rs`).

use chrono::{DateTime, NaiveDateTime};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

pub use crate::common::golden::{assert_json_matches, assert_xml_matches};
pub use crate::common::server::{access_id_of, link, TestServer};

pub use super::outside::*;
pub use super::sample::*;

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
// Query feeds (SPEC.md §3.5).
// ---------------------------------------------------------------------------

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
