//! A client that talks as microsoft/BingMapsSDSToolkit's Query API does
//! (SPEC §8): requests built as `Source/QueryAPI/FindByPropertyRequest.cs`
//! and its subclasses build them, filters written as
//! `Models/FilterExpression.cs` and `FilterGroup.cs` write them, the URL
//! escaped as .NET's `Uri` escapes a string and sent byte for byte over a
//! raw socket (an HTTP library would re-encode the quotes), and responses
//! read as `QueryManager.MakeRequest` reads them.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::xdoc::{self, Element, Node};

const ATOM: &str = "http://www.w3.org/2005/Atom";
pub const METADATA: &str = "http://schemas.microsoft.com/ado/2007/08/dataservices/metadata";

/// `Uri.EscapeDataString` (.NET 4.5+): everything but RFC 3986 unreserved.
const DATA_STRING: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn escape_data_string(text: &str) -> String {
    utf8_percent_encode(text, DATA_STRING).to_string()
}

/// What `new Uri(string)` escapes in a URL string: spaces, the characters
/// RFC 3986 never allows, non-ASCII (as UTF-8), and `%` not followed by
/// two hex digits. Quotes, parentheses, commas and `$` stay as they are.
pub fn dotnet_uri(url: &str) -> String {
    let bytes = url.as_bytes();
    let mut out = String::new();
    for (index, character) in url.char_indices() {
        let is_escape = character == '%'
            && bytes.get(index + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(index + 2).is_some_and(u8::is_ascii_hexdigit);
        match character {
            '%' if is_escape => out.push('%'),
            ' ' | '"' | '<' | '>' | '{' | '}' | '|' | '\\' | '^' | '`' | '%' => {
                out.push_str(&format!("%{:02X}", character as u32))
            }
            _ if !character.is_ascii() => {
                let mut buffer = [0u8; 4];
                for byte in character.encode_utf8(&mut buffer).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
            _ => out.push(character),
        }
    }
    out
}

/// `{0:0.#####}`: at most five decimals, no trailing zeros.
fn dotnet_coordinate(value: f64) -> String {
    let text = format!("{value:.5}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

#[derive(Clone, Debug)]
pub enum FilterValue {
    Text(String),
    Texts(Vec<String>),
    /// A value whose `ToString()` is written as is (numbers, `DateTime` as `O`).
    Raw(String),
    Boolean(bool),
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Operator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    StartsWith,
    EndsWith,
    IsIn,
}

#[derive(Clone, Debug)]
pub enum Filter {
    Expression(&'static str, Operator, FilterValue),
    /// Filters, `And` (true) or `Or`, negated.
    Group(Vec<Filter>, bool, bool),
}

impl Filter {
    /// `FilterExpression.ToString()` / `FilterGroup.ToString()`.
    pub fn to_toolkit_string(&self) -> String {
        match self {
            Filter::Expression(property, operator, value) => {
                let name = match operator {
                    Operator::Eq => "eq",
                    Operator::Ne => "ne",
                    Operator::Gt => "gt",
                    Operator::Ge => "ge",
                    Operator::Lt => "lt",
                    Operator::Le => "le",
                    Operator::StartsWith => "startsWith",
                    Operator::EndsWith => "endsWith",
                    Operator::IsIn => "in",
                };
                let value_text = match value {
                    FilterValue::Null => "null".to_owned(),
                    FilterValue::Boolean(flag) => flag.to_string(),
                    FilterValue::Raw(text) => text.clone(),
                    FilterValue::Text(text) => format!("'{}'", escape_data_string(&text.replace('\'', "''"))),
                    FilterValue::Texts(_) => String::new(),
                };
                match (operator, value) {
                    (Operator::StartsWith | Operator::EndsWith, FilterValue::Text(_)) => {
                        format!("{name}({property},'{value_text}')%20eq%20true")
                    }
                    (Operator::IsIn, FilterValue::Texts(values)) => {
                        let list: Vec<String> = values.iter().map(|value| format!("'{value}'")).collect();
                        format!("{property}%20{name}%20({})", list.join(","))
                    }
                    (Operator::StartsWith | Operator::EndsWith | Operator::IsIn, _) => String::new(),
                    _ => format!("{property}%20{name}%20{value_text}"),
                }
            }
            Filter::Group(filters, and, not) => {
                let operator = if *and { "And" } else { "Or" };
                let parts: Vec<String> = filters.iter().map(Filter::to_toolkit_string).collect();
                let prefix = if *not { "not%20" } else { "" };
                format!("{prefix}({})", parts.join(&format!("%20{operator}%20")))
            }
        }
    }
}

#[derive(Clone, Debug)]
pub enum Search {
    Property,
    NearBy { latitude: f64, longitude: f64, km: f64 },
    BoundingBox { south: f64, west: f64, north: f64, east: f64 },
    Intersection { wkt: String },
}

#[derive(Clone, Debug)]
pub struct Request {
    pub search: Search,
    pub select: Option<String>,
    pub orderby: Option<String>,
    pub is_staging: bool,
    pub top: i32,
    pub skip: i32,
    pub inline_count: bool,
    pub filter: Option<Filter>,
}

impl Request {
    pub fn new(search: Search) -> Request {
        Request {
            search,
            select: None,
            orderby: None,
            is_staging: false,
            top: 25,
            skip: 0,
            inline_count: false,
            filter: None,
        }
    }

    /// `GetRequestUrl()` for a data source's query URL and key.
    pub fn url(&self, base: &str, key: &str) -> String {
        let get_distance = matches!(self.search, Search::NearBy { .. } | Search::BoundingBox { .. });
        let spatial = match &self.search {
            Search::Property => "?".to_owned(),
            Search::NearBy { latitude, longitude, km } => {
                let km = km.clamp(0.16, 1000.0);
                format!(
                    "?spatialFilter=nearby({},{},{km})",
                    dotnet_coordinate(*latitude),
                    dotnet_coordinate(*longitude)
                )
            }
            Search::BoundingBox { south, west, north, east } => format!(
                "?spatialFilter=bbox({},{},{},{})",
                dotnet_coordinate(*south),
                dotnet_coordinate(*west),
                dotnet_coordinate(*north),
                dotnet_coordinate(*east)
            ),
            Search::Intersection { wkt } => format!("?spatialFilter=intersects('{wkt}')"),
        };
        let mut url = format!("{base}{spatial}");
        match (&self.select, get_distance) {
            (Some(select), true) => url.push_str(&format!("&$select={select},__Distance")),
            (Some(select), false) => url.push_str(&format!("&$select={select}")),
            (None, true) => url.push_str("&$select=*,__Distance"),
            (None, false) => {}
        }
        if let Some(orderby) = &self.orderby {
            url.push_str(&format!("&$orderby={orderby}"));
        }
        if self.is_staging {
            url.push_str("&isStaging=1");
        }
        if self.top != 25 {
            url.push_str(&format!("&$top={}", self.top));
        }
        if self.skip != 0 {
            url.push_str(&format!("&$skip={}", self.skip));
        }
        if self.inline_count {
            url.push_str("&$inlinecount=allpages");
        }
        if let Some(filter) = &self.filter {
            url.push_str(&format!("&$filter={}", filter.to_toolkit_string()));
        }
        url.push_str(&format!("&key={key}&clientApi=SDSToolkit"));
        url
    }
}

/// GETs a URL byte for byte (as `HttpWebRequest` sends `Uri.PathAndQuery`).
pub fn raw_get(url: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").expect("an http URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(authority).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|window| window == b"\r\n\r\n").expect("a header");
    let head = String::from_utf8_lossy(&response[..split]).into_owned();
    let mut body = response[split + 4..].to_vec();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (status, String::from_utf8(body).expect("a UTF-8 body"))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = data.windows(2).position(|window| window == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&data[..line_end]).unwrap().trim(), 16).unwrap();
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&data[line_end + 2..line_end + 2 + size]);
        data = &data[line_end + 2 + size + 2..];
    }
}

// ---- The toolkit's reading of the response ------------------------------

#[derive(Clone, Debug, PartialEq)]
pub enum Property {
    Text(String),
    Double(f64),
    Int64(i64),
    Boolean(bool),
    DateTime(String),
    Geography(Option<String>),
}

#[derive(Clone, Debug)]
pub struct QueryResult {
    pub entity_url: String,
    pub latitude: f64,
    pub longitude: f64,
    pub distance: f64,
    pub properties: BTreeMap<String, Property>,
}

impl QueryResult {
    pub fn text(&self, name: &str) -> &str {
        match &self.properties[name] {
            Property::Text(text) => text,
            other => panic!("{name} is {other:?}"),
        }
    }
}

/// `XmlUtilities.GetDouble(node, 0)`: invariant culture, 0 when unparsable.
fn get_double(element: &Element) -> f64 {
    element.value().trim().parse().unwrap_or(0.0)
}

/// `QueryManager.MakeRequest`: every `atom:entry` anywhere in the document.
/// Panics where the toolkit would throw (and so return an error instead of results).
pub fn parse_as_toolkit(text: &str) -> Vec<QueryResult> {
    let document = xdoc::parse(text);
    let mut entries = Vec::new();
    if document.namespace == ATOM && document.local == "entry" {
        entries.push(&document);
    }
    entries.extend(
        document.descendants().into_iter().filter(|element| element.namespace == ATOM && element.local == "entry"),
    );
    entries
        .into_iter()
        .map(|entry| {
            let id = entry.element(ATOM, "id").expect("atom:id (the toolkit dereferences it)");
            let mut result = QueryResult {
                entity_url: id.value(),
                latitude: 0.0,
                longitude: 0.0,
                distance: 0.0,
                properties: BTreeMap::new(),
            };
            if let Some(Node::Element(properties)) =
                entry.element(ATOM, "content").and_then(|content| content.nodes.first())
            {
                for property in properties.descendants() {
                    let name = property.local.clone();
                    match name.to_lowercase().as_str() {
                        "latitude" => result.latitude = get_double(property),
                        "longitude" => result.longitude = get_double(property),
                        "__distance" => result.distance = get_double(property),
                        _ => {
                            result.properties.entry(name).or_insert_with(|| parse_node_value(property));
                        }
                    }
                }
            } else if let Some(content) = entry.element(ATOM, "content") {
                assert!(content.nodes.is_empty(), "content's first node must be the properties element (a cast)");
            }
            result
        })
        .collect()
}

/// `QueryManager.ParseNodeValue`.
fn parse_node_value(element: &Element) -> Property {
    if element.attributes.is_empty() {
        return Property::Text(element.value());
    }
    let edm_type = element
        .attribute(METADATA, "type")
        .unwrap_or_else(|| panic!("{} has attributes but no m:type: the toolkit crashes", element.local));
    match edm_type {
        "Edm.Double" => Property::Double(get_double(element)),
        "Edm.Int64" => Property::Int64(element.value().trim().parse().unwrap_or(0)),
        "Edm.Boolean" => Property::Boolean(matches!(element.value().trim().to_lowercase().as_str(), "true" | "1")),
        "Edm.DateTime" => Property::DateTime(element.value()),
        "Edm.Geography" => Property::Geography(Some(element.value()).filter(|text| !text.is_empty())),
        _ => Property::Text(element.value()),
    }
}
