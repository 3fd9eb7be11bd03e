//! Issue 9's row-level findings, over HTTP with the real server: location
//! rules (1), `__deleteEntity` of any type (2), empty strings (4), NCName
//! entity types (5), .NET `DataSet.WriteXml` output (7), Atom fractional
//! seconds (8) and well-formed XML outputs (11). Inputs follow the docs'
//! sample inputs in shape (same columns, same empty cells) with our own values.

use quick_xml::events::Event;
use serde_json::Value;

use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, TestServer};

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

#[test]
fn finding_1_lat_lon_row_with_empty_geography_loads() {
    let server = TestServer::start();
    let inputs = [
        ("SampleXml", "xml", schema_page_xml()),
        ("SampleCsv", "csv", schema_page_text(',')),
        ("SampleTab", "tab", schema_page_text('\t')),
        ("SamplePipe", "pipe", schema_page_text('|')),
    ];
    for (name, input, body) in inputs {
        let job = server.load_and_wait(name, "complete", input, body);
        assert_eq!(job["status"], "Completed", "{input}: {job}");
        assert_eq!(
            (job["processedEntityCount"].clone(), job["failedEntityCount"].clone()),
            (2.into(), 0.into()),
            "{input}: {job}"
        );
        let source = Source {
            server: &server,
            access_id: access_id_of(&job),
            name: name.into(),
            entity_type: "FourthCoffeeShops".into(),
        };
        let second = source.entity("-9002");
        assert_eq!(second["StoreLayout"], Value::Null, "{input}: {second}");
        assert!(second["Latitude"].as_f64().unwrap() > 47.0, "{input}: the given point is kept: {second}");
        let atom = source.text("('-9002')", "");
        assert!(atom.contains(r#"<d:StoreLayout m:type="Edm.Geography" m:null="true"/>"#), "{input}: {atom}");
        let first = source.entity("-9001");
        assert!(first["StoreLayout"].as_str().unwrap().starts_with("POLYGON"), "{input}: {first}");
        // Both are found where they are: the second by its point.
        assert_eq!(source.ids("spatialFilter=nearby(56.1535,10.2134,5)"), ["-9001"], "{input}");
        let near_second = if input == "xml" { "nearby(47.6815,-122.2087,1)" } else { "nearby(57.0488,9.9217,1)" };
        assert_eq!(source.ids(&format!("spatialFilter={near_second}")), ["-9002"], "{input}");
    }
}

#[test]
fn finding_1_every_location_combination_in_complete_and_incremental_loads() {
    let server = TestServer::start();
    let header = "Bing Spatial Data Services, 1.0, Spots\n\
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Area(Edm.Geography)";
    let square = "\"POLYGON((20 40, 22 40, 22 42, 20 42, 20 40))\"";
    let rows = [
        format!("both,10,11,{square}"),
        "point,12,13,".to_owned(),
        format!("shape,,,{square}"),
        "neither,,,".to_owned(),
        format!("half,14,,{square}"),
    ];
    let csv = format!("{header}\n{}\n", rows.join("\n"));
    let job = server.load_and_wait("Spots", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!((job["processedEntityCount"].clone(), job["failedEntityCount"].clone()), (5.into(), 2.into()));
    let failures = failed_rows(&server, &job);
    assert!(failures.contains("line 6") && failures.contains("no location"), "{failures}");
    assert!(
        failures.contains("line 7") && failures.contains("Latitude and Longitude must be given together"),
        "{failures}"
    );
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Spots".into(), entity_type: "Spots".into() };
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["both", "point", "shape"]);
    let shape = source.entity("shape");
    assert_eq!(
        (shape["Latitude"].as_f64(), shape["Longitude"].as_f64()),
        (Some(41.0), Some(21.0)),
        "centroid: {shape}"
    );
    let both = source.entity("both");
    assert_eq!(
        (both["Latitude"].as_f64(), both["Longitude"].as_f64()),
        (Some(10.0), Some(11.0)),
        "given point kept: {both}"
    );

    // Incremental, with the same rules, and with __deleteEntity.
    let header = "Bing Spatial Data Services, 1.0, Spots\n\
Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),Area(Edm.Geography),__deleteEntity(Edm.Boolean)";
    let csv = format!("{header}\nshape,30,31,,\nnew_shape,,,{square},\nnew_neither,,,,0\nboth,,,,1\n");
    let response = server.load("Spots", "incremental", "csv", csv, &format!("&accessId={}", source.access_id));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 1, "{job}");
    let failures = failed_rows(&server, &job);
    assert!(failures.contains("line 5, entity 'new_neither'") && failures.contains("no location"), "{failures}");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["new_shape", "point", "shape"]);
    let replaced = source.entity("shape");
    assert_eq!((replaced["Latitude"].as_f64(), replaced["Area"].clone()), (Some(30.0), Value::Null), "{replaced}");
}

#[test]
fn finding_1_geography_only_formats_need_a_geometry_per_row() {
    // KML and GeoJSON never declare Latitude/Longitude: every entity is
    // located by its geometry, and one without fails alone.
    let server = TestServer::start();
    let kml = r#"<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document>
<Placemark id="p1"><name>Pier</name><Point><coordinates>12.5,55.6</coordinates></Point></Placemark>
<Placemark id="p2"><name>Nowhere</name></Placemark>
</Document></kml>"#;
    let geojson = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","id":"g1","properties":{"Name":"Pier"},"geometry":{"type":"Point","coordinates":[12.5,55.6]}},
{"type":"Feature","id":"g2","properties":{"Name":"Nowhere"},"geometry":null}]}"#;
    for (name, input, body, failed_id) in [("Kml", "kml", kml, "p2"), ("GeoJson", "geojson", geojson, "g2")] {
        let job = server.load_and_wait(name, "complete", input, body);
        assert_eq!(job["status"], "Completed", "{input}: {job}");
        assert_eq!(job["failedEntityCount"], 1, "{input}: {job}");
        let failures = failed_rows(&server, &job);
        assert!(failures.contains("geometry"), "{input}: {failures}");
        let rows = dataset::parse(&server.download(&access_id_of(&job), name)).by_id();
        assert_eq!(rows.len(), 1, "{input}");
        assert!(!rows.contains_key(failed_id), "{input}");
    }
}

#[test]
fn finding_2_delete_entity_declared_as_string_long_or_boolean() {
    let server = TestServer::start();
    let header = |marker: &str| {
        format!(
            "Bing Spatial Data Services, 1.0, Stops\nId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),__deleteEntity({marker})"
        )
    };
    let initial = "Bing Spatial Data Services, 1.0, Stops\nId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
a,A,1,1\nb,B,1,1\nc,C,1,1\nd,D,1,1\ne,E,1,1\nf,F,1,1\n";
    let source = Source::load(&server, "Stops", "csv", initial, "Stops");
    let incremental = |body: String, input: &str| {
        let response = server.load("Stops", "incremental", input, body, &format!("&accessId={}", source.access_id));
        assert_eq!(response.status(), 201);
        let job = server.wait_job(&location(&response), &server.master_key);
        assert_eq!(job["status"], "Completed", "{job}");
        assert_eq!(job["failedEntityCount"], 0, "{job}");
    };
    incremental(format!("{}\na,,,,1\nb,B2,2,2,0\n", header("Edm.String")), "csv");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "c", "d", "e", "f"]);
    assert_eq!(source.entity("b")["Name"], "B2");
    incremental(format!("{}\nc,,,,True\nd,D2,2,2,\n", header("Edm.Int64")), "csv");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "d", "e", "f"]);
    incremental(format!("{}\ne,,,,true\nf,F2,3,3,false\n", header("Edm.Boolean")), "csv");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "d", "f"]);
    // The XML form, as the toolkit writes a marker it holds as a string.
    let xml = r#"<?xml version="1.0" encoding="utf-8"?>
<StopsData><xs:schema id="StopsSet" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
<xs:element name="StopsSet" msdata:IsDataSet="true" msdata:UseCurrentLocale="true"><xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">
<xs:element name="Stops"><xs:complexType><xs:sequence>
<xs:element name="Id" type="xs:string" minOccurs="0" /><xs:element name="Name" type="xs:string" minOccurs="0" />
<xs:element name="Latitude" type="xs:double" minOccurs="0" /><xs:element name="Longitude" type="xs:double" minOccurs="0" />
<xs:element name="__deleteEntity" type="xs:string" minOccurs="0" />
</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType>
<xs:unique name="Constraint1" msdata:PrimaryKey="true"><xs:selector xpath=".//Stops" /><xs:field xpath="Id" /></xs:unique></xs:element></xs:schema>
<Stops><Id>d</Id><__deleteEntity>1</__deleteEntity></Stops>
<Stops><Id>g</Id><Name>G</Name><Latitude>4</Latitude><Longitude>4</Longitude><__deleteEntity>0</__deleteEntity></Stops>
</StopsData>"#;
    incremental(xml.to_owned(), "xml");
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["b", "f", "g"]);
}

#[test]
fn finding_4_empty_strings_are_empty_strings_never_null() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey),Phone(Edm.String),SecondaryCity(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),SeatingCapacity(Edm.Int64)\n\
bare,,,47.6,-122.1,\n\
quoted,\"\",\"\",47.6,-122.1,\"\"\n\
short,555-0100,Bellevue,47.6,-122.1\n\
full,555-0101,Bellevue,47.6,-122.1,12\n";
    let source = Source::load(&server, "Shops", "csv", csv, "Shops");
    for id in ["bare", "quoted"] {
        let entity = source.entity(id);
        assert_eq!((entity["Phone"].clone(), entity["SecondaryCity"].clone()), ("".into(), "".into()), "{entity}");
        assert_eq!(entity["SeatingCapacity"], Value::Null, "non-string types keep null: {entity}");
        let atom = source.text(&format!("('{id}')"), "");
        assert!(atom.contains("<d:Phone />") && atom.contains("<d:SecondaryCity />"), "{atom}");
        assert!(atom.contains(r#"<d:SeatingCapacity m:type="Edm.Int64" m:null="true"/>"#), "{atom}");
        assert!(!atom.contains(r#"m:type="Edm.String""#) && atom.matches("m:null").count() == 1, "{atom}");
    }
    assert_eq!(source.ids("$filter=Phone eq ''"), ["bare", "quoted"]);
    assert_eq!(source.ids("$filter=Phone ne ''"), ["full", "short"]);
    assert_eq!(source.ids("$filter=Phone eq null"), Vec::<String>::new());
    assert_eq!(source.ids("$filter=SeatingCapacity eq null"), ["bare", "quoted", "short"]);

    // The XML download writes empty strings as empty elements and leaves
    // null numbers out; re-uploaded, both come back as they were.
    let download = source.download();
    assert!(download.contains("<EntityID>bare</EntityID><Phone /><SecondaryCity />"), "{download}");
    let rows = dataset::parse(&download).by_id();
    assert!(!rows["bare"].contains_key("SeatingCapacity"));
    let copy = Source::load(&server, "ShopsCopy", "xml", download, "Shops");
    assert_eq!(copy.entity("bare")["Phone"], "");
    assert_eq!(copy.entity("bare")["SeatingCapacity"], Value::Null);
    assert_eq!(copy.ids("$filter=SecondaryCity eq ''"), ["bare", "quoted"]);

    // The XML upload form: `<Phone />` and an absent element are both "".
    let xml = crate::fixtures::toolkit_xml("Toolkit");
    let job = server.load_and_wait("Toolkit", "complete", "xml", xml.clone());
    assert_eq!(job["status"], "Completed", "{job}");
    let toolkit = Source {
        server: &server,
        access_id: access_id_of(&job),
        name: "Toolkit".into(),
        entity_type: "CoffeeShop".into(),
    };
    let strings: Vec<String> = dataset::parse(&xml)
        .columns
        .iter()
        .filter(|(_, xsd)| xsd == "xs:string")
        .map(|(name, _)| name.clone())
        .collect();
    for entry in toolkit.json("", "$filter=EntityID ne 'x'")["d"]["results"].as_array().unwrap() {
        for name in &strings {
            assert!(entry[name].is_string(), "{name} must be a string, never null: {entry}");
        }
    }

    // The CSV download re-uploads with the same distinction.
    let response = server.get(&format!(
        "/REST/v1/Dataflows/DataSourceDownload/{}/Shops?format=csv&output=json&key={}",
        source.access_id, server.master_key
    ));
    assert_eq!(response.status(), 201);
    let job = server.wait_job(&location(&response), &server.master_key);
    let csv_download =
        server.get(&format!("{}?key={}", link(&job, "output", Some("succeeded")), server.master_key)).text().unwrap();
    let from_csv = Source::load(&server, "ShopsCsv", "csv", csv_download, "Shops");
    assert_eq!(from_csv.entity("quoted")["SecondaryCity"], "");
    assert_eq!(from_csv.entity("quoted")["SeatingCapacity"], Value::Null);
    assert_eq!(from_csv.entity("full")["SeatingCapacity"], 12);
}

#[test]
fn finding_5_hyphenated_entity_type_works_everywhere() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Filialdaten-XX\n\
FilialId(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
m1,Markt Nord,48.15,11.55\n\
m2,Markt Süd,48.10,11.57\n";
    let source = Source::load(&server, "Filialen", "csv", csv, "Filialdaten-XX");
    assert_eq!(source.ids("spatialFilter=nearby(48.15,11.55,2)"), ["m1"]);
    let feed = source.text("", "spatialFilter=nearby(48.15,11.55,2)");
    assert!(feed.contains("/Filialen/Filialdaten-XX(") && feed.contains("<d:FilialId>m1</d:FilialId>"), "{feed}");
    assert_eq!(source.entity("m2")["Name"], "Markt Süd");
    let metadata = server
        .get(&format!("/REST/v1/data/{}/Filialen/$metadata?key={}", source.access_id, server.master_key))
        .text()
        .unwrap();
    assert!(metadata.contains(r#"<EntityType Name="Filialdaten-XX">"#), "{metadata}");
    assert!(metadata.contains(r#"EntityType="FilialenDataSource.Filialdaten-XX""#), "{metadata}");
    let download = source.download();
    assert_well_formed(&download);
    let parsed = dataset::parse(&download);
    assert_eq!(parsed.entity_type, "Filialdaten-XX");
    assert_eq!(parsed.rows.len(), 2);
    let copy = Source::load(&server, "FilialenCopy", "xml", download, "Filialdaten-XX");
    assert_eq!(copy.ids("$filter=Name eq 'Markt Nord'"), ["m1"]);
    // The entity type in a URL is matched case-insensitively, as before.
    assert_eq!(server.get(&source.path("('m1')", "").replace("Filialdaten-XX", "filialdaten-xx")).status(), 200);
}

#[test]
fn finding_7_dotnet_write_xml_output_loads_as_is() {
    // DataSet.WriteXml(path, XmlWriteMode.WriteSchema): the root element is
    // named like the DataSet element, the key column has no minOccurs.
    let document = r#"<?xml version="1.0" standalone="yes"?>
<Kiosks>
  <xs:schema id="Kiosks" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="Kiosks" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="Kiosk">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="KioskId" type="xs:string" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
                <xs:element name="Opened" msdata:DateTimeMode="Utc" type="xs:dateTime" minOccurs="0" />
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//Kiosk" />
        <xs:field xpath="KioskId" />
      </xs:unique>
    </xs:element>
  </xs:schema>
  <Kiosk>
    <KioskId>k1</KioskId>
    <Name>Harbour kiosk</Name>
    <Latitude>53.5461</Latitude>
    <Longitude>9.9665</Longitude>
    <Opened>2019-06-01T08:00:00Z</Opened>
  </Kiosk>
  <Kiosk>
    <KioskId>k2</KioskId>
    <Name>Station kiosk</Name>
    <Latitude>53.553</Latitude>
    <Longitude>10.0069</Longitude>
  </Kiosk>
</Kiosks>"#;
    let server = TestServer::start();
    let job = server.load_and_wait("Kiosks", "complete", "xml", document);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!((job["processedEntityCount"].clone(), job["failedEntityCount"].clone()), (2.into(), 0.into()));
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Kiosks".into(), entity_type: "Kiosk".into() };
    assert_eq!(source.entity("k2")["Name"], "Station kiosk");
}

#[test]
fn finding_8_atom_datetime_keeps_fractional_seconds() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Events\n\
Id(Edm.String,primaryKey),At(Edm.DateTime),Latitude(Edm.Double),Longitude(Edm.Double)\n\
ms,2021-03-28T05:06:09.952Z,1,1\n\
ticks,2010-11-11T01:19:36.4350494Z,1,1\n\
whole,2010-11-03T23:31:37Z,1,1\n";
    let source = Source::load(&server, "Events", "csv", csv, "Events");
    for (id, expected) in
        [("ms", "2021-03-28T05:06:09.952"), ("ticks", "2010-11-11T01:19:36.4350494"), ("whole", "2010-11-03T23:31:37")]
    {
        let atom = source.text(&format!("('{id}')"), "");
        assert!(atom.contains(&format!(r#"<d:At m:type="Edm.DateTime">{expected}</d:At>"#)), "{atom}");
        let feed = source.text("", &format!("$filter=Id eq '{id}'"));
        assert!(feed.contains(&format!(">{expected}</d:At>")), "{feed}");
    }
    assert_eq!(source.entity("ms")["At"], "/Date(1616907969952)/");
}

#[test]
fn finding_11_control_characters_fail_their_rows_and_xml_outputs_stay_well_formed() {
    let server = TestServer::start();
    let csv = "Bing Spatial Data Services, 1.0, Notes\n\
Id(Edm.String,primaryKey),Text(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n\
ok,plain \t tab,1,1\n\
soh,a\u{1}b,1,1\n\
esc,\u{1b}[31mred,1,1\n\
nul,nul\u{0}here,1,1\n\
c1,C1 controls \u{85}\u{9f} are XML characters,1,1\n";
    let job = server.load_and_wait("Notes", "complete", "csv", csv);
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["failedEntityCount"], 3, "{job}");
    let failures = failed_rows(&server, &job);
    for (line, code) in [(4, "U+0001"), (5, "U+001B"), (6, "U+0000")] {
        let expected = format!("line {line}, entity '");
        let row = failures.lines().find(|row| row.starts_with(&expected)).unwrap_or_else(|| panic!("{failures}"));
        assert!(row.contains("'Text'") && row.contains(code), "{row}");
    }
    let source =
        Source { server: &server, access_id: access_id_of(&job), name: "Notes".into(), entity_type: "Notes".into() };
    assert_eq!(source.ids("$filter=Id ne 'x'"), ["c1", "ok"]);

    // Every XML output of the data source parses strictly.
    assert_well_formed(&source.text("", "$filter=Id ne 'x'"));
    assert_well_formed(&source.text("('c1')", ""));
    let download = source.download();
    assert_well_formed(&download);
    assert!(download.contains("\u{85}\u{9f}"), "XML characters are kept: {download:?}");

    // XML input: a character reference to a control character fails its row.
    let xml = download.replace("<Text>plain \t tab</Text>", "<Text>bell&#7;</Text>");
    let job = server.load_and_wait("NotesXml", "complete", "xml", xml);
    assert_eq!(job["failedEntityCount"], 1, "{job}");
    assert!(failed_rows(&server, &job).contains("U+0007"));

    // Text a response repeats (a description) is made well-formed too.
    let response = server.load("Described", "complete", "csv", "Bing Spatial Data Services, 1.0, T\nId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,1,1\n", "&output=xml&description=bell%07here");
    assert_eq!(response.status(), 201);
    let status_url = location(&response);
    server.wait_job(&status_url, &server.master_key);
    let status = server.get(&format!("{status_url}?output=xml&key={}", server.master_key)).text().unwrap();
    assert_well_formed(&status);
    let service_document = server.get(&format!("/REST/v1/data?key={}", server.master_key)).text().unwrap();
    assert_well_formed(&service_document);
    assert!(service_document.contains("Described"), "{service_document}");
}
