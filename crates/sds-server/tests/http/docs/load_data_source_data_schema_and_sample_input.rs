//! `SDS/data-source-management-api/load-data-source-dataflow/load-data-source-data-schema-and-sample-input.md`:
//! the XML, CSV, TAB and PIPE sample inputs (our values, the docs' shape:
//! the same 23 XML / 8 text columns in the same order and casing, the same
//! empty `StoreLayout` on the second row, `|` inside an XML value, a
//! non-ASCII address), the entity ID declarations, the version string, the
//! location rules and the property name rules.

// Coordinates are written with the docs' own digits.
#![allow(clippy::excessive_precision)]

use serde_json::Value;

use super::support::*;

/// The XML sample: root and DataSet element named differently, `EntityID`
/// without `minOccurs`, the second entity without `StoreLayout`.
pub const SAMPLE_XML: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<FourthCoffeeSampleData>
  <xs:schema id="FourthCoffeeSample" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="FourthCoffeeSample" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="FourthCoffeeShops">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="AddressLine" type="xs:string" minOccurs="0" />
                <xs:element name="Locality" type="xs:string" minOccurs="0" />
                <xs:element name="AdminDistrict" type="xs:string" minOccurs="0" />
                <xs:element name="CountryRegion" type="xs:string" minOccurs="0" />
                <xs:element name="PostalCode" type="xs:string" minOccurs="0" />
                <xs:element name="Phone" type="xs:string" minOccurs="0" />
                <xs:element name="Manager" type="xs:string" minOccurs="0" />
                <xs:element name="StoreOpen" type="xs:string" minOccurs="0" />
                <xs:element name="StoreType" type="xs:string" minOccurs="0" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="DisplayName" type="xs:string" minOccurs="0" />
                <xs:element name="EntityID" type="xs:string" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="StoreLayout" type="xs:anyType" minOccurs="0" />
                <xs:element name="IsWiFiHotSpot" type="xs:boolean" minOccurs="0" />
                <xs:element name="IsWheelchairAccessible" type="xs:boolean" minOccurs="0" />
                <xs:element name="AcceptsOnlineOrders" type="xs:boolean" minOccurs="0" />
                <xs:element name="AcceptsCoffeeCards" type="xs:boolean" minOccurs="0" />
                <xs:element name="Open" type="xs:long" minOccurs="0" />
                <xs:element name="Close" type="xs:long" minOccurs="0" />
                <xs:element name="CreatedDate" msdata:DateTimeMode="Utc" type="xs:dateTime" minOccurs="0" />
                <xs:element name="LastUpdatedDate" msdata:DateTimeMode="Utc" type="xs:dateTime" minOccurs="0" />
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
    <AddressLine>Ågade 4</AddressLine>
    <Locality>Aarhus</Locality>
    <AdminDistrict>Midtjylland</AdminDistrict>
    <CountryRegion>Danmark</CountryRegion>
    <PostalCode>8000</PostalCode>
    <Phone>555-0170</Phone>
    <Manager>Jens Berg | Mai Lund</Manager>
    <StoreOpen>Y</StoreOpen>
    <StoreType>Drive-Thru</StoreType>
    <Name>Fourth Coffee Store #40101</Name>
    <DisplayName>Fourth Coffee Store #40101, Aarhus, Midtjylland, Danmark</DisplayName>
    <EntityID>-40101</EntityID>
    <Longitude>10.20391234567</Longitude>
    <Latitude>56.15672345678</Latitude>
    <StoreLayout>POLYGON((10.19 56.17,10.22 56.17, 10.22 56.14,10.19 56.14,10.19 56.17))</StoreLayout>
    <IsWiFiHotSpot>false</IsWiFiHotSpot>
    <IsWheelchairAccessible>false</IsWheelchairAccessible>
    <AcceptsOnlineOrders>false</AcceptsOnlineOrders>
    <AcceptsCoffeeCards>true</AcceptsCoffeeCards>
    <Open>600</Open>
    <Close>1700</Close>
    <CreatedDate>2012-03-01T04:05:06.1234567Z</CreatedDate>
    <LastUpdatedDate>2012-03-09T04:05:06.1234567Z</LastUpdatedDate>
  </FourthCoffeeShops>
  <FourthCoffeeShops>
    <AddressLine>2 Harbour Row</AddressLine>
    <Locality>Kirkland</Locality>
    <AdminDistrict>WA</AdminDistrict>
    <CountryRegion>United States</CountryRegion>
    <PostalCode>98033</PostalCode>
    <Phone>555-0171</Phone>
    <Manager>Lee Park</Manager>
    <StoreOpen>Y</StoreOpen>
    <StoreType>Coffee Shop</StoreType>
    <Name>Fourth Coffee Store #40102</Name>
    <DisplayName>Fourth Coffee Store #40102, Kirkland, WA United States</DisplayName>
    <EntityID>-40102</EntityID>
    <Longitude>-122.2087349918231</Longitude>
    <Latitude>47.676584302118935</Latitude>
    <IsWiFiHotSpot>true</IsWiFiHotSpot>
    <IsWheelchairAccessible>true</IsWheelchairAccessible>
    <AcceptsOnlineOrders>true</AcceptsOnlineOrders>
    <AcceptsCoffeeCards>true</AcceptsCoffeeCards>
    <Open>900</Open>
    <Close>2100</Close>
    <CreatedDate>2012-03-01T04:05:06.1234567Z</CreatedDate>
    <LastUpdatedDate>2012-03-09T04:05:06.1234567Z</LastUpdatedDate>
  </FourthCoffeeShops>
</FourthCoffeeSampleData>
"#;

/// The text samples: the docs' 8 columns, the second row's `StoreLayout`
/// empty (`,,` / two tabs / `||`), the WKT quoted in CSV only.
pub fn sample_text(delimiter: char) -> String {
    let header = [
        "Phone(Edm.String)",
        "EntityID(Edm.String,primaryKey)",
        "Longitude(Edm.Double)",
        "Latitude(Edm.Double)",
        "StoreLayout(Edm.Geography)",
        "CountryRegion(Edm.String)",
        "Open(Edm.Int64)",
        "Close(Edm.Int64)",
    ];
    let polygon = "POLYGON((10.19 56.17,10.22 56.17,10.22 56.14,10.19 56.14,10.19 56.17))";
    let polygon = if delimiter == ',' { format!("\"{polygon}\"") } else { polygon.to_owned() };
    let d = delimiter.to_string();
    let first = ["555-0170", "-40101", "10.20391234567", "56.15672345678", &polygon, "Danmark", "600", "1700"];
    let second = ["555-0171", "-40102", "9.91823456789", "57.04812345678", "", "Danmark", "900", "2100"];
    format!(
        "Bing Spatial Data Services, 1.0, FourthCoffeeShops\n{}\n{}\n{}\n",
        header.join(&d),
        first.join(&d),
        second.join(&d)
    )
}

/// The first entity's `StoreLayout`, as type and numbers.
fn store_layout() -> (String, Vec<f64>) {
    let numbers = [10.19, 56.17, 10.22, 56.17, 10.22, 56.14, 10.19, 56.14, 10.19, 56.17];
    ("POLYGON".to_owned(), numbers.to_vec())
}

/// The entity `id` of data source `name`, as JSON (query by ID).
pub fn entity(server: &TestServer, access_id: &str, name: &str, id: &str) -> Value {
    let reply = get(
        server,
        &format!("/REST/v1/data/{access_id}/{name}/FourthCoffeeShops('{id}')?$format=json&key={}", server.query_key),
    );
    assert_eq!(reply.status, 200, "{id}: {}", reply.body);
    reply.json()["d"].clone()
}

/// Loads a sample and checks that both entities arrived: two processed,
/// none failed (every sample's second entity has a Latitude/Longitude and
/// no `StoreLayout`: finding 1).
fn load_both(server: &TestServer, input: &str, body: &str) -> String {
    let job = server.load_and_wait("FourthCoffeeSample", "complete", input, body);
    assert_eq!(job["status"], "Completed", "{input}: {job}");
    assert_eq!(job["totalEntityCount"], 2, "{input}: {job}");
    assert_eq!(job["processedEntityCount"], 2, "{input}: {job}");
    assert_eq!(job["failedEntityCount"], 0, "{input}: both sample entities load (finding 1): {job}");
    access_id_of(&job)
}

#[test]
fn docs_load_data_source_data_schema_and_sample_input_xml_sample_loads_both_entities() {
    let server = TestServer::start();
    let access_id = load_both(&server, "xml", SAMPLE_XML);
    let first = entity(&server, &access_id, "FourthCoffeeSample", "-40101");
    assert_eq!(first["AddressLine"], "Ågade 4");
    assert_eq!(first["Manager"], "Jens Berg | Mai Lund", "a pipe inside an XML value");
    assert_eq!(first["Latitude"], 56.15672345678);
    assert_eq!(first["Longitude"], 10.20391234567);
    assert_eq!(wkt_numbers(first["StoreLayout"].as_str().unwrap()), store_layout());
    assert_eq!(first["IsWiFiHotSpot"], false);
    assert_eq!(first["AcceptsCoffeeCards"], true);
    assert_eq!(first["Open"], 600);
    let second = entity(&server, &access_id, "FourthCoffeeSample", "-40102");
    assert_eq!(second["Latitude"], 47.676584302118935);
    assert_eq!(second["Longitude"], -122.2087349918231);
    assert_eq!(second["StoreLayout"], Value::Null, "no geography given");
    assert_eq!(second["DisplayName"], "Fourth Coffee Store #40102, Kirkland, WA United States");
}

fn text_sample(input: &str, delimiter: char) {
    let server = TestServer::start();
    let access_id = load_both(&server, input, &sample_text(delimiter));
    let first = entity(&server, &access_id, "FourthCoffeeSample", "-40101");
    assert_eq!(first["Phone"], "555-0170");
    assert_eq!(wkt_numbers(first["StoreLayout"].as_str().unwrap()), store_layout());
    assert_eq!(first["Close"], 1700);
    let second = entity(&server, &access_id, "FourthCoffeeSample", "-40102");
    assert_eq!(second["Latitude"], 57.04812345678, "{input}");
    assert_eq!(second["Longitude"], 9.91823456789, "{input}");
    assert_eq!(second["StoreLayout"], Value::Null, "{input}");
    assert_eq!(second["CountryRegion"], "Danmark", "{input}");
    assert_eq!(second["Open"], 900, "{input}");
}

#[test]
fn docs_load_data_source_data_schema_and_sample_input_csv_sample_loads_both_entities() {
    text_sample("csv", ',');
}

#[test]
fn docs_load_data_source_data_schema_and_sample_input_tab_sample_loads_both_entities() {
    text_sample("tab", '\t');
}

#[test]
fn docs_load_data_source_data_schema_and_sample_input_pipe_sample_loads_both_entities() {
    text_sample("pipe", '|');
}

/// "Entity ID": `ShopID(Edm.String,primaryKey)` and `<xs:field xpath="ShopID" />`
/// make `ShopID` the key: it addresses entities and is the `$metadata` key.
#[test]
fn docs_load_data_source_data_schema_and_sample_input_shop_id_is_the_entity_id() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, FourthCoffeeShops\n\
        Name(Edm.String),ShopID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
        North,s-1,47.7,-122.3\nSouth,s-2,47.5,-122.3\n";
    let access_id = load_ok(&server, "Shops", "csv", csv);
    let reply = get(
        &server,
        &format!("/REST/v1/data/{access_id}/Shops/FourthCoffeeShops('s-2')?$format=json&key={}", server.query_key),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["d"]["Name"], "South");
    let metadata = get(&server, &format!("/REST/v1/data/{access_id}/Shops/$metadata?key={}", server.query_key));
    assert!(metadata.body.contains(r#"<PropertyRef Name="ShopID""#), "{}", metadata.body);

    let xml = SAMPLE_XML.replace("\"EntityID\"", "\"ShopID\"").replace("EntityID>", "ShopID>");
    let access_id = load_both(&server, "xml", &xml);
    let shop = get(
        &server,
        &format!(
            "/REST/v1/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops('-40102')?$format=json&key={}",
            server.query_key
        ),
    );
    assert_eq!(shop.json()["d"]["ShopID"], "-40102");
}

/// "Version string": the only text schema version is 1.0.
#[test]
fn docs_load_data_source_data_schema_and_sample_input_only_version_1_0() {
    let server = TestServer::start();
    let job = server.load_and_wait("Shops", "complete", "csv", sample_text(',').replace("1.0", "2.0"));
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("2.0"), "{job}");
}

/// "Location properties": latitude/longitude only need both on every
/// entity; a geography only gets its centroid as the location; with both
/// in the schema only the geography is required (finding 1).
#[test]
fn docs_load_data_source_data_schema_and_sample_input_location_rules() {
    let server = TestServer::start();
    let points_only = "Bing Spatial Data Services, 1.0, Places\n\
        EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
        a,10,20\nb,,20\n";
    let job = server.load_and_wait("PointsOnly", "complete", "csv", points_only);
    assert_eq!((job["status"].as_str(), job["failedEntityCount"].as_i64()), (Some("Completed"), Some(1)), "{job}");

    let geography_only = "Bing Spatial Data Services, 1.0, Places\n\
        EntityID(Edm.String,primaryKey),Shape(Edm.Geography)\n\
        a,\"POLYGON((0 0,4 0,4 2,0 2,0 0))\"\nb,\n";
    let job = server.load_and_wait("GeographyOnly", "complete", "csv", geography_only);
    assert_eq!((job["status"].as_str(), job["failedEntityCount"].as_i64()), (Some("Completed"), Some(1)), "{job}");
    let access_id = access_id_of(&job);
    let centroid = get(
        &server,
        &format!("/REST/v1/data/{access_id}/GeographyOnly/Places('a')?$format=json&key={}", server.query_key),
    );
    let centroid = centroid.json()["d"].clone();
    assert_eq!((centroid["Latitude"].as_f64(), centroid["Longitude"].as_f64()), (Some(1.0), Some(2.0)), "{centroid}");

    let both = "Bing Spatial Data Services, 1.0, Places\n\
        EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Shape(Edm.Geography)\n\
        geography,,,\"POLYGON((0 0,4 0,4 2,0 2,0 0))\"\npoint,5,6,\nboth,7,8,POINT(8 7)\nneither,,,\n";
    let job = server.load_and_wait("Both", "complete", "csv", both);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 1, "only the row with neither fails (finding 1): {job}");
    let access_id = access_id_of(&job);
    let feed =
        get(&server, &format!("/REST/v1/data/{access_id}/Both/Places?$format=json&key={}", server.query_key)).json();
    let located: Vec<(String, f64, f64)> = feed["d"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["EntityID"].as_str().unwrap().to_owned(),
                e["Latitude"].as_f64().unwrap(),
                e["Longitude"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        located,
        vec![("both".to_owned(), 7.0, 8.0), ("geography".to_owned(), 1.0, 2.0), ("point".to_owned(), 5.0, 6.0)]
    );
}

/// "Property name requirements": ≤ 50 characters, letters, digits and
/// `_`, a letter or `_` first, not `__`, names differing only in case
/// collide. Each bad name aborts the load with a message naming it.
#[test]
fn docs_load_data_source_data_schema_and_sample_input_property_name_requirements() {
    let server = TestServer::start();
    let with_property = |name: &str| {
        format!(
            "Bing Spatial Data Services, 1.0, Places\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),{name}(Edm.String)\na,1,2,x\n"
        )
    };
    let fifty = format!("P{}", "x".repeat(49));
    let job = server.load_and_wait("Names", "complete", "csv", with_property(&format!("_{fifty}")[..50]));
    assert_eq!(job["status"], "Completed", "a 50-character name starting with '_': {job}");
    for bad in [format!("{fifty}y"), "Store-Type".into(), "9Lives".into(), "__Hidden".into(), "Seats Free".into()] {
        let job = server.load_and_wait("Names", "complete", "csv", with_property(&bad));
        assert_eq!(job["status"], "Aborted", "{bad}: {job}");
        assert!(job["errorMessage"].as_str().unwrap().contains(&bad), "{bad}: {job}");
    }
    let job = server.load_and_wait("Names", "complete", "csv", with_property("latitude").replace(",x", ",3"));
    assert_eq!(job["status"], "Aborted", "Latitude and latitude collide: {job}");
}

/// The XML sample's `xs:dateTime` values carry seven fraction digits; the
/// Atom entry keeps a non-zero fraction (finding 8) and JSON keeps the
/// milliseconds.
#[test]
fn docs_load_data_source_data_schema_and_sample_input_xml_dates_keep_their_fraction() {
    let server = TestServer::start();
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "xml", SAMPLE_XML);
    let access_id = access_id_of(&job);
    let atom = get(
        &server,
        &format!("/REST/v1/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops('-40101')?key={}", server.query_key),
    );
    assert!(
        atom.body.contains("<d:CreatedDate m:type=\"Edm.DateTime\">2012-03-01T04:05:06.1234567</d:CreatedDate>"),
        "finding 8: {}",
        atom.body
    );
    let json = entity(&server, &access_id, "FourthCoffeeSample", "-40101");
    let millis = chrono::DateTime::parse_from_rfc3339("2012-03-01T04:05:06.123Z").unwrap().timestamp_millis();
    assert_eq!(json["CreatedDate"], format!("/Date({millis})/"));
}

/// The page requires the root element to be named differently from the
/// IsDataSet element; .NET's `DataSet.WriteXml` names them alike, which
/// `sds` accepts too (an extension, finding 7).
#[test]
fn docs_load_data_source_data_schema_and_sample_input_xml_root_named_like_the_dataset() {
    let server = TestServer::start();
    let same = SAMPLE_XML.replace("FourthCoffeeSampleData>", "FourthCoffeeSample>");
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "xml", same);
    assert_eq!(job["status"], "Completed", "finding 7: {job}");
    let access_id = access_id_of(&job);
    assert_eq!(entity(&server, &access_id, "FourthCoffeeSample", "-40101")["Locality"], "Aarhus");
}

/// The page's text samples copied from the rendered page keep the two
/// blanks that end each of its lines (`…, FourthCoffeeShops  `, `…,1800  `);
/// such a copy loads like the clean text.
#[test]
fn docs_load_data_source_data_schema_and_sample_input_text_sample_as_copied() {
    let server = TestServer::start();
    let copied: String = sample_text(',').lines().map(|line| format!("{line}  \n")).collect();
    let job = server.load_and_wait("FourthCoffeeSample", "complete", "csv", copied);
    assert_eq!(job["status"], "Completed", "{job}");
    let access_id = access_id_of(&job);
    let first = entity(&server, &access_id, "FourthCoffeeSample", "-40101");
    assert_eq!(first["Close"], 1700, "{first}");
}
