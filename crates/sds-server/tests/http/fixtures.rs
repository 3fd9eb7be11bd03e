//! Upload documents used across the tests.

/// Every type, with the characters that break naive writers: non-ASCII,
/// `|`, quotes, `<&>`, an embedded newline, leading and trailing spaces.
pub const SHOPS_CSV: &str = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Seats(Edm.Int64),IsOpen(Edm.Boolean),Since(Edm.DateTime),Rating(Edm.Double)\n\
1,Café Zürich,47.6,-122.1,12,true,2010-11-03T23:31:37Z,4.5\n\
2,\"Pipe | and \"\"quotes\"\" <&>\",47.7,-122.2,,false,,\n\
3,\"two\nlines \",-33.9,151.2,-9223372036854775808,1,2020-01-01T00:00:00.1234567Z,-0.1\n";

pub const SHOPS_PIPE: &str = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey)|Name(Edm.String)|Latitude(Edm.Double)|Longitude(Edm.Double)\n\
1|Pipe shop|47.6|-122.1\n\
2|Other, with comma|47.7|-122.2\n";

pub const SHOPS_TAB: &str = "Bing Spatial Data Services, 1.0, Shops\n\
EntityID(Edm.String,primaryKey)\tName(Edm.String)\tLatitude(Edm.Double)\tLongitude(Edm.Double)\n\
1\tTab shop\t47.6\t-122.1\n\
2\tOther | pipe\t47.7\t-122.2\n";

/// A geography-only schema: Latitude/Longitude come from centroids.
pub const AREAS_CSV: &str = "Bing Spatial Data Services, 1.0, Areas\n\
AreaId(Edm.String,primaryKey),Name(Edm.String),Shape(Edm.Geography)\n\
a,Square,\"POLYGON((0 0, 2 0, 2 2, 0 2, 0 0))\"\n\
b,Line,\"LINESTRING(10 10, 12 10)\"\n";

/// The toolkit's DataSet upload form (root `<name>Data`, every column
/// `minOccurs="0"`, .NET dates and `True`/`False`).
pub fn toolkit_xml(name: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="utf-8"?>
<{name}Data>
  <xs:schema id="{name}" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="{name}" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="CoffeeShop">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="EntityID" type="xs:string" minOccurs="0" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
                <xs:element name="Seats" type="xs:long" minOccurs="0" />
                <xs:element name="HasWifi" type="xs:boolean" minOccurs="0" />
                <xs:element name="Opened" msdata:DateTimeMode="Utc" type="xs:dateTime" minOccurs="0" />
                <xs:element name="Area" type="xs:anyType" minOccurs="0" />
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//CoffeeShop" />
        <xs:field xpath="EntityID" />
      </xs:unique>
    </xs:element>
  </xs:schema>
  <CoffeeShop>
    <EntityID>shop-1</EntityID>
    <Name>Fourth Coffee – Straße 1 | “quoted” &amp; &lt;tag&gt;</Name>
    <Latitude>47.64</Latitude>
    <Longitude>-122.13</Longitude>
    <Seats>40</Seats>
    <HasWifi>True</HasWifi>
    <Opened>2010-11-03T23:31:37.1234567Z</Opened>
    <Area>POLYGON((-122.14 47.63, -122.12 47.63, -122.12 47.65, -122.14 47.65, -122.14 47.63))</Area>
  </CoffeeShop>
  <CoffeeShop>
    <EntityID>shop-2</EntityID>
    <Name>  spaces kept  </Name>
    <Latitude>-33.8568</Latitude>
    <Longitude>151.2153</Longitude>
    <HasWifi>False</HasWifi>
    <Area>POINT(151.2153 -33.8568)</Area>
  </CoffeeShop>
</{name}Data>
"#
    )
}

/// `n` generated rows of the Shops schema (for crash and size tests).
pub fn many_shops_csv(rows: usize) -> String {
    let mut text = String::from(
        "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\n",
    );
    for index in 0..rows {
        let latitude = (index % 170) as f64 - 85.0 + 0.5;
        let longitude = (index % 350) as f64 - 175.0 + 0.25;
        text.push_str(&format!("id{index},Shop number {index},{latitude},{longitude}\n"));
    }
    text
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

pub fn zip(name: &str, bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    writer.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
    writer.write_all(bytes).unwrap();
    writer.finish().unwrap().into_inner()
}
