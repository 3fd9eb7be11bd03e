//! `SDS/data-source-management-api/load-data-source-dataflow/create-a-load-data-source-job-and-input-entity-data.md`:
//! the three examples — a complete load with `o=xml` and the query key
//! passed as `query=` (the page's URL omits the required `dataSourceName`:
//! SPEC.md §9 #8), the same in JSON with `queryKey=`, an incremental load
//! that deletes with `__deleteEntity`, and a load from `dataLocation` — and
//! the page's rules: the query key then is the only other key that can
//! query, body and `dataLocation` together are an error.

use std::io::{BufRead, BufReader, Write};

use serde_json::json;

use super::load_data_source_data_schema_and_sample_input::SAMPLE_XML;
use super::support::*;

fn created_xml(name: &str) -> String {
    rest_xml(
        201,
        "Created",
        &format!(
            "<DataflowJob><Name>{name}</Name><Id>{{{{jobId}}}}</Id><Link role=\"self\">{{{{root}}}}/dataflows/LoadDataSource/{{{{jobId}}}}</Link>\
<Description>DataSourceComplete</Description><Status>Pending</Status><CreatedDate>{{{{xsdatetime}}}}</CreatedDate>\
<CompletedDate xsi:nil=\"true\"/><TotalEntityCount>0</TotalEntityCount><ProcessedEntityCount>0</ProcessedEntityCount>\
<FailedEntityCount>0</FailedEntityCount></DataflowJob>"
        ),
    )
}

#[test]
fn docs_create_a_load_data_source_job_xml_response_and_query_key() {
    let server = TestServer::start();
    let (master, query) = (&server.master_key, &server.query_key);
    // The page's URL as written: no dataSourceName.
    let as_written = post(
        &server,
        &format!("/REST/v1/Dataflows/LoadDataSource?loadOperation=complete&input=xml&o=xml&key={master}&query={query}"),
        "application/xml",
        SAMPLE_XML,
    );
    assert_eq!(as_written.status, 400, "{}", as_written.body);
    assert!(as_written.body.contains("dataSourceName"), "the error names the missing parameter: {}", as_written.body);
    assert!(as_written.body.contains("<StatusCode>400</StatusCode>"), "o=xml answers in XML: {}", as_written.body);

    let reply = post(
        &server,
        &format!("/REST/v1/Dataflows/LoadDataSource?dataSourceName=FourthCoffeeSample&loadOperation=complete&input=xml&o=xml&key={master}&query={query}"),
        "application/xml",
        SAMPLE_XML,
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/xml"), "{}", reply.content_type);
    assert_xml_matches("load create XML", &created_xml("FourthCoffeeSample"), &reply.body, &[("root", &server.root)]);
    let job = wait(&server, &location_of(&reply));
    assert_eq!(job["status"], "Completed", "{job}");

    // "The specified query key must be used to perform any query operations":
    // the master key and the query key query; another key of the account does not.
    let access_id = access_id_of(&job);
    let other = server.create_key("default");
    let url =
        |key: &str| format!("/REST/v1/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops?$format=json&key={key}");
    assert_eq!(get(&server, &url(query)).status, 200);
    assert_eq!(get(&server, &url(master)).status, 200);
    let refused = get(&server, &url(&other));
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert_eq!(refused.json()["authenticationResultCode"], "NotAuthorized");
}

#[test]
fn docs_create_a_load_data_source_job_json_response() {
    let server = TestServer::start();
    let reply = post(
        &server,
        &format!(
            "/REST/v1/Dataflows/LoadDataSource?dataSourceName=FourthCoffeeSample&loadOperation=complete&input=xml&key={}&queryKey={}",
            server.master_key, server.query_key
        ),
        "application/xml",
        SAMPLE_XML,
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.content_type.starts_with("application/json"), "JSON is the default: {}", reply.content_type);
    let golden = rest_json(
        201,
        "Created",
        json!({
            "__type": DATAFLOW_JOB,
            "name": "FourthCoffeeSample",
            "id": "{{jobId}}",
            "links": [{"role": "self", "url": "{{root}}/dataflows/LoadDataSource/{{jobId}}"}],
            "createdDate": "{{rfc1123}}",
            "description": "DataSourceComplete",
            "failedEntityCount": 0,
            "processedEntityCount": 0,
            "status": "Pending",
            "totalEntityCount": 0
        }),
    );
    assert_json_matches("load create JSON", &golden, &reply.body, &[("root", &server.root)]);
    assert_eq!(reply.location.as_deref(), reply.json()["resourceSets"][0]["resources"][0]["links"][0]["url"].as_str());
}

fn incremental_xml(delete_type: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<FourthCoffeeSampleData>
  <xs:schema id="FourthCoffeeSample" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="FourthCoffeeSample" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="FourthCoffeeShops">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="EntityID" type="xs:string" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="__deleteEntity" type="{delete_type}" minOccurs="0" />
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
  <FourthCoffeeShops><Name>Kept, renamed</Name><EntityID>a</EntityID><Longitude>10</Longitude><Latitude>50</Latitude></FourthCoffeeShops>
  <FourthCoffeeShops><Name>Gone</Name><EntityID>b</EntityID><Longitude>11</Longitude><Latitude>51</Latitude><__deleteEntity>1</__deleteEntity></FourthCoffeeShops>
  <FourthCoffeeShops><Name>Gone too</Name><EntityID>c</EntityID><Longitude>11</Longitude><Latitude>51</Latitude><__deleteEntity>true</__deleteEntity></FourthCoffeeShops>
  <FourthCoffeeShops><Name>New</Name><EntityID>d</EntityID><Longitude>12</Longitude><Latitude>52</Latitude><__deleteEntity>false</__deleteEntity></FourthCoffeeShops>
</FourthCoffeeSampleData>
"#
    )
}

/// "Create a load data source job to update, add and delete specified
/// entities": `loadOperation=incremental&input=xml&o=xml`; the page never
/// gives `__deleteEntity` a type, so both `xs:boolean` and `xs:string`
/// declarations work (finding 2).
#[test]
fn docs_create_a_load_data_source_job_incremental_with_delete_entity() {
    for delete_type in ["xs:boolean", "xs:string"] {
        let server = TestServer::start();
        let first = "Bing Spatial Data Services, 1.0, FourthCoffeeShops\nName(Edm.String),EntityID(Edm.String,primaryKey),Longitude(Edm.Double),Latitude(Edm.Double)\nOld,a,10,50\nB,b,11,51\nC,c,11,51\n";
        let access_id = load_ok(&server, "FourthCoffeeSample", "csv", first);
        let reply = post(
            &server,
            &format!("/REST/v1/Dataflows/LoadDataSource?dataSourceName=FourthCoffeeSample&loadOperation=incremental&input=xml&o=xml&key={}", server.master_key),
            "application/xml",
            incremental_xml(delete_type),
        );
        assert_eq!(reply.status, 201, "{delete_type}: {}", reply.body);
        let job = wait(&server, &location_of(&reply));
        assert_eq!(job["status"], "Completed", "{delete_type} (finding 2): {job}");
        let feed = get(
            &server,
            &format!(
                "/REST/v1/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops?$format=json&key={}",
                server.query_key
            ),
        );
        let names: Vec<(String, String)> = feed.json()["d"]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["EntityID"].as_str().unwrap().to_owned(), e["Name"].as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(
            names,
            [("a".to_owned(), "Kept, renamed".to_owned()), ("d".to_owned(), "New".to_owned())],
            "{delete_type}"
        );
    }
}

/// Serves `body` once per connection at `http://127.0.0.1:PORT/myEntityData`
/// (the page's blob path), as a storage service would.
fn blob_server(body: &'static str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/myEntityData", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    url
}

/// "Create a load data source job … and use the dataLocation parameter":
/// the data is fetched from the URL; data in the body as well is an error.
#[test]
fn docs_create_a_load_data_source_job_data_location() {
    let server = TestServer::start_with(&["--data-location-allow-private", "true"]);
    let blob = blob_server(SAMPLE_XML);
    let url = format!(
        "/REST/v1/Dataflows/LoadDataSource?dataSourceName=FourthCoffeeSample&loadOperation=complete&dataLocation={blob}&input=xml&o=xml&key={}&queryKey={}",
        server.master_key, server.query_key
    );
    let reply = post(&server, &url, "application/xml", Vec::new());
    assert_eq!(reply.status, 201, "{}", reply.body);
    let job = wait(&server, &location_of(&reply));
    assert_eq!(job["status"], "Completed", "{job}");
    assert_eq!(job["totalEntityCount"], 2, "{job}");

    let both = post(&server, &url, "application/xml", SAMPLE_XML);
    assert_eq!(both.status, 400, "{}", both.body);
    assert!(both.body.contains("dataLocation"), "{}", both.body);
}
