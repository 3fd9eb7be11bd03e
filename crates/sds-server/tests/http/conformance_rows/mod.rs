//! Issue 9's row-level findings, over HTTP with the real server: location
//! rules (1), `__deleteEntity` of any type (2), empty strings (4), NCName
//! entity types (5), .NET `DataSet.WriteXml` output (7), Atom fractional
//! seconds (8) and well-formed XML outputs (11). Inputs follow the docs'
//! sample inputs in shape (same columns, same empty cells) with our own values.

mod locations;
mod values;

use quick_xml::events::Event;
use serde_json::Value;

use crate::common::server::{access_id_of, link, TestServer};

/// The XML sample of the schema page ("Load Data Source Data Schema and
/// Sample Input"), in its shape: the same 23 columns in the same order and
/// casing, the root named apart from the DataSet element, and a second row
/// with Latitude/Longitude and no StoreLayout element. Values are ours.
fn schema_page_xml() -> String {
    let columns = [
        ("AddressLine", "xs:string"),
        ("Locality", "xs:string"),
        ("AdminDistrict", "xs:string"),
        ("CountryRegion", "xs:string"),
        ("PostalCode", "xs:string"),
        ("Phone", "xs:string"),
        ("Manager", "xs:string"),
        ("StoreOpen", "xs:string"),
        ("StoreType", "xs:string"),
        ("Name", "xs:string"),
        ("DisplayName", "xs:string"),
        ("EntityID", "xs:string"),
        ("Longitude", "xs:double"),
        ("Latitude", "xs:double"),
        ("StoreLayout", "xs:anyType"),
        ("IsWiFiHotSpot", "xs:boolean"),
        ("IsWheelchairAccessible", "xs:boolean"),
        ("AcceptsOnlineOrders", "xs:boolean"),
        ("AcceptsCoffeeCards", "xs:boolean"),
        ("Open", "xs:long"),
        ("Close", "xs:long"),
        ("CreatedDate", "xs:dateTime"),
        ("LastUpdatedDate", "xs:dateTime"),
    ];
    let mut sequence = String::new();
    for (name, xsd) in columns {
        let minimum = if name == "EntityID" { "" } else { " minOccurs=\"0\"" };
        let mode = if xsd == "xs:dateTime" { " msdata:DateTimeMode=\"Utc\"" } else { "" };
        sequence.push_str(&format!("\n                <xs:element name=\"{name}\"{mode} type=\"{xsd}\"{minimum} />"));
    }
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<FourthCoffeeSampleData>
  <xs:schema id="FourthCoffeeSample" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="FourthCoffeeSample" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="FourthCoffeeShops">
            <xs:complexType>
              <xs:sequence>{sequence}
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//FourthCoffeeShops" />
        <xs:field xpath="EntityID" />
      </xs:unique>
    </xs:element>
  </xs:schema>
  <FourthCoffeeShops>
    <AddressLine>Havnegade 4</AddressLine>
    <Locality>Aarhus</Locality>
    <AdminDistrict>Midtjylland</AdminDistrict>
    <CountryRegion>Danmark</CountryRegion>
    <PostalCode>8000</PostalCode>
    <Phone>555-0100</Phone>
    <Manager>Ada Holm | Bo Lund</Manager>
    <StoreOpen>Y</StoreOpen>
    <StoreType>Drive-Thru</StoreType>
    <Name>Harbour Roast #9001</Name>
    <DisplayName>Harbour Roast #9001, Aarhus, Midtjylland, Danmark</DisplayName>
    <EntityID>-9001</EntityID>
    <Longitude>10.2134</Longitude>
    <Latitude>56.1535</Latitude>
    <StoreLayout>POLYGON((10.20 56.16,10.23 56.16, 10.23 56.14,10.20 56.14,10.20 56.16))</StoreLayout>
    <IsWiFiHotSpot>false</IsWiFiHotSpot>
    <IsWheelchairAccessible>false</IsWheelchairAccessible>
    <AcceptsOnlineOrders>false</AcceptsOnlineOrders>
    <AcceptsCoffeeCards>true</AcceptsCoffeeCards>
    <Open>630</Open>
    <Close>1900</Close>
    <CreatedDate>2012-04-02T07:08:09.1234567Z</CreatedDate>
    <LastUpdatedDate>2012-04-05T07:08:09.1234567Z</LastUpdatedDate>
  </FourthCoffeeShops>
  <FourthCoffeeShops>
    <AddressLine>1 Lake Road</AddressLine>
    <Locality>Kirkland</Locality>
    <AdminDistrict>WA</AdminDistrict>
    <CountryRegion>United States</CountryRegion>
    <PostalCode>98033</PostalCode>
    <Phone>555-0101</Phone>
    <Manager>Cy Moss</Manager>
    <StoreOpen>Y</StoreOpen>
    <StoreType>Coffee Shop</StoreType>
    <Name>Lake Roast #9002</Name>
    <DisplayName>Lake Roast #9002, Kirkland, WA United States</DisplayName>
    <EntityID>-9002</EntityID>
    <Longitude>-122.2087</Longitude>
    <Latitude>47.6815</Latitude>
    <IsWiFiHotSpot>true</IsWiFiHotSpot>
    <IsWheelchairAccessible>true</IsWheelchairAccessible>
    <AcceptsOnlineOrders>true</AcceptsOnlineOrders>
    <AcceptsCoffeeCards>true</AcceptsCoffeeCards>
    <Open>900</Open>
    <Close>2100</Close>
    <CreatedDate>2012-04-02T07:08:09.1234567Z</CreatedDate>
    <LastUpdatedDate>2012-04-05T07:08:09.1234567Z</LastUpdatedDate>
  </FourthCoffeeShops>
</FourthCoffeeSampleData>
"#
    )
}

/// The text samples of the schema page in their shape: the same header,
/// the second row with an empty StoreLayout cell. `d` is the delimiter.
fn schema_page_text(d: char) -> String {
    let polygon = "POLYGON((10.20 56.16,10.23 56.16,10.23 56.14,10.20 56.14,10.20 56.16))";
    let polygon = if d == ',' { format!("\"{polygon}\"") } else { polygon.to_owned() };
    format!(
        "Bing Spatial Data Services, 1.0, FourthCoffeeShops\n\
Phone(Edm.String){d}EntityID(Edm.String,primaryKey){d}Longitude(Edm.Double){d}Latitude(Edm.Double){d}StoreLayout(Edm.Geography){d}CountryRegion(Edm.String){d}Open(Edm.Int64){d}Close(Edm.Int64)\n\
555-0100{d}-9001{d}10.2134{d}56.1535{d}{polygon}{d}Danmark{d}630{d}1900\n\
555-0101{d}-9002{d}9.9217{d}57.0488{d}{d}Danmark{d}900{d}2100\n"
    )
}

/// A loaded data source and how to query it.
struct Source<'a> {
    server: &'a TestServer,
    access_id: String,
    name: String,
    entity_type: String,
}

impl<'a> Source<'a> {
    fn load(server: &'a TestServer, name: &str, input: &str, body: impl Into<Vec<u8>>, entity_type: &str) -> Self {
        let job = server.load_and_wait(name, "complete", input, body);
        assert_eq!(job["status"], "Completed", "{job}");
        Source { server, access_id: access_id_of(&job), name: name.into(), entity_type: entity_type.into() }
    }

    fn path(&self, tail: &str, query: &str) -> String {
        format!(
            "/REST/v1/data/{}/{}/{}{tail}?{query}&key={}",
            self.access_id, self.name, self.entity_type, self.server.master_key
        )
    }

    fn text(&self, tail: &str, query: &str) -> String {
        let response = self.server.get(&self.path(tail, query));
        assert_eq!(response.status(), 200, "{tail}?{query}");
        response.text().unwrap()
    }

    fn json(&self, tail: &str, query: &str) -> Value {
        serde_json::from_str(&self.text(tail, &format!("{query}&$format=json"))).unwrap()
    }

    fn entity(&self, id: &str) -> Value {
        self.json(&format!("('{id}')"), "")["d"].clone()
    }

    fn ids(&self, query: &str) -> Vec<String> {
        let mut ids: Vec<String> = self.json("", query)["d"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| {
                entry["__metadata"]["uri"]
                    .as_str()
                    .unwrap()
                    .rsplit("('")
                    .next()
                    .unwrap()
                    .trim_end_matches("')")
                    .to_owned()
            })
            .collect();
        ids.sort();
        ids
    }

    fn download(&self) -> String {
        self.server.download(&self.access_id, &self.name)
    }
}

/// The text of a job's `output/failed` link: one line per failed row.
fn failed_rows(server: &TestServer, job: &Value) -> String {
    let response = server.get(&format!("{}?key={}", link(job, "output", Some("failed")), server.master_key));
    assert_eq!(response.status(), 200);
    response.text().unwrap()
}

/// Asserts `text` is a well-formed XML 1.0 document, including the rules
/// lenient parsers skip: no character outside XML's `Char` production, raw
/// or as a character reference (XML 1.0 §2.2, §4.1 WFC: Legal Character).
fn assert_well_formed(text: &str) {
    let illegal =
        |c: char| matches!(c, '\0'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}');
    if let Some(c) = text.chars().find(|&c| illegal(c)) {
        panic!("raw U+{:04X} in the document: {text:?}", u32::from(c));
    }
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    let mut roots = 0usize;
    loop {
        match reader.read_event().unwrap_or_else(|error| panic!("malformed XML ({error}): {text}")) {
            Event::Start(_) => {
                if depth == 0 {
                    roots += 1;
                }
                depth += 1;
            }
            Event::Empty(_) if depth == 0 => roots += 1,
            Event::End(_) => depth -= 1,
            Event::GeneralRef(reference) => {
                let name = String::from_utf8(reference.to_vec()).unwrap();
                if let Some(number) = name.strip_prefix('#') {
                    let code = match number.strip_prefix('x') {
                        Some(hex) => u32::from_str_radix(hex, 16),
                        None => number.parse(),
                    }
                    .unwrap_or_else(|_| panic!("bad character reference &{name};"));
                    let character = char::from_u32(code).unwrap_or_else(|| panic!("&{name}; is no character"));
                    assert!(!illegal(character), "&{name}; names a character XML 1.0 forbids: {text:?}");
                } else {
                    assert!(["lt", "gt", "amp", "quot", "apos"].contains(&name.as_str()), "unknown entity &{name};");
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!((depth, roots), (0, 1), "one root element, closed: {text}");
}
