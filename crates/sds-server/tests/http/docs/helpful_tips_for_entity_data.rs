//! `SDS/data-source-management-api/load-data-source-dataflow/helpful-tips-for-entity-data.md`:
//! pipe-delimited data with commas in values ("Seattle, WA") and XML values
//! with commas, hyphens and pipes load unchanged; 350 properties are
//! allowed and Latitude/Longitude do not count towards them; a primary key
//! is required and must be unique. The tip that a missing Int64 is stored
//! as 0 is resolved as null (SPEC.md §9 #20, as the query pages show).

use std::fmt::Write as _;

use serde_json::Value;

use super::support::*;

#[test]
fn docs_helpful_tips_for_entity_data_delimiters_inside_values() {
    let server = TestServer::start();
    let pipe = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey)|City(Edm.String)|Hours(Edm.String)|Latitude(Edm.Double)|Longitude(Edm.Double)|Phone(Edm.Int64)\n\
        a|Seattle, WA|8:00 – 5:00|47.6|-122.3|4255550101\nb|Tacoma, WA|9:00 – 6:00|47.2|-122.4|\n";
    let access_id = load_ok(&server, "Tips", "pipe", pipe);
    let entity = |id: &str| {
        get(&server, &format!("/REST/v1/data/{access_id}/Tips/Shops('{id}')?$format=json&key={}", server.query_key))
            .json()["d"]
            .clone()
    };
    assert_eq!(entity("a")["City"], "Seattle, WA");
    assert_eq!(entity("a")["Hours"], "8:00 – 5:00");
    assert_eq!(entity("a")["Phone"], 4255550101_i64);
    assert_eq!(entity("b")["Phone"], Value::Null, "a missing Int64 is null (SPEC.md §9 #20)");

    let xml = r#"<ShopsData><xs:schema id="Tips2" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
<xs:element name="Tips2" msdata:IsDataSet="true"><xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded"><xs:element name="Shops"><xs:complexType><xs:sequence>
<xs:element name="EntityID" type="xs:string"/><xs:element name="Hours" type="xs:string" minOccurs="0"/><xs:element name="Latitude" type="xs:double" minOccurs="0"/><xs:element name="Longitude" type="xs:double" minOccurs="0"/>
</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType><xs:unique name="Constraint1" msdata:PrimaryKey="true"><xs:selector xpath=".//Shops"/><xs:field xpath="EntityID"/></xs:unique></xs:element></xs:schema>
<Shops><EntityID>x</EntityID><Hours>Mon-Fri, 8-5 | Sat, 9-1</Hours><Latitude>47.6</Latitude><Longitude>-122.3</Longitude></Shops></ShopsData>"#;
    let access_id = load_ok(&server, "Tips2", "xml", xml);
    let shop =
        get(&server, &format!("/REST/v1/data/{access_id}/Tips2/Shops('x')?$format=json&key={}", server.query_key));
    assert_eq!(shop.json()["d"]["Hours"], "Mon-Fri, 8-5 | Sat, 9-1");
}

fn wide(properties: usize) -> String {
    let mut csv = String::from("Bing Spatial Data Services, 1.0, Wide\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)");
    // The key is one of the properties; Latitude and Longitude are not.
    for n in 1..properties {
        let _ = write!(csv, ",P{n}(Edm.Int64)");
    }
    csv.push_str("\na,1,2");
    for n in 1..properties {
        let _ = write!(csv, ",{n}");
    }
    csv.push('\n');
    csv
}

#[test]
fn docs_helpful_tips_for_entity_data_350_properties() {
    let server = TestServer::start();
    let job = server.load_and_wait("Wide", "complete", "csv", wide(350));
    assert_eq!(job["status"], "Completed", "350 properties plus Latitude and Longitude: {job}");
    let job = server.load_and_wait("Wide", "complete", "csv", wide(351));
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap().contains("350"), "{job}");
}

#[test]
fn docs_helpful_tips_for_entity_data_unique_primary_key() {
    let server = TestServer::start();
    let missing = server.load_and_wait(
        "Keys",
        "complete",
        "csv",
        "Bing Spatial Data Services, 1.0, Shops\nName(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double)\nx,1,2\n",
    );
    assert_eq!(missing["status"], "Aborted", "{missing}");
    assert!(missing["errorMessage"].as_str().unwrap().contains("primary key"), "{missing}");
    let twice = server.load_and_wait("Keys", "complete", "csv", "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\na,3,4\n");
    assert_eq!(
        (twice["status"].as_str(), twice["failedEntityCount"].as_i64()),
        (Some("Completed"), Some(1)),
        "{twice}"
    );
}
