//! `SDS/data-source-management-api/load-data-source-dataflow/load-data-source-dataflow-sample-code-csharp.md`:
//! the exchange the sample code makes — POST with `Content-Type:
//! application/xml` and `output=xml`, exactly 201 with a `Location`
//! header, then `Location + "?key=" + masterKey` polled as JSON (exactly
//! 200, `resourceSets[0].resources[0]` a DataflowJob with `__type` first)
//! until `Completed`, then the link whose role is exactly `dataSource`.

use std::time::{Duration, Instant};

use super::support::*;

const MY_SHOPS_XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<MyShopsSampleData>
  <xs:schema id="MyShopsSample" xmlns="" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:msdata="urn:schemas-microsoft-com:xml-msdata">
    <xs:element name="MyShopsSample" msdata:IsDataSet="true" msdata:UseCurrentLocale="true">
      <xs:complexType>
        <xs:choice minOccurs="0" maxOccurs="unbounded">
          <xs:element name="MyShops">
            <xs:complexType>
              <xs:sequence>
                <xs:element name="EntityID" type="xs:string" />
                <xs:element name="Name" type="xs:string" minOccurs="0" />
                <xs:element name="Latitude" type="xs:double" minOccurs="0" />
                <xs:element name="Longitude" type="xs:double" minOccurs="0" />
              </xs:sequence>
            </xs:complexType>
          </xs:element>
        </xs:choice>
      </xs:complexType>
      <xs:unique name="Constraint1" msdata:PrimaryKey="true">
        <xs:selector xpath=".//MyShops" />
        <xs:field xpath="EntityID" />
      </xs:unique>
    </xs:element>
  </xs:schema>
  <MyShops><EntityID>1</EntityID><Name>Harbour Beans</Name><Latitude>47.6062</Latitude><Longitude>-122.3321</Longitude></MyShops>
  <MyShops><EntityID>2</EntityID><Name>Lake Roast</Name><Latitude>47.6101</Latitude><Longitude>-122.2015</Longitude></MyShops>
</MyShopsSampleData>
"#;

/// Runs the sample's `UploadSpatialData` and `QueryDataflowJobStatus`;
/// returns the data source URL it ends with.
pub fn run_the_sample(server: &TestServer) -> String {
    // UploadSpatialData.
    let upload = post(
        server,
        &format!("{}/Dataflows/LoadDataSource?dataSourceName=MyShopsSample&loadOperation=complete&input=xml&output=xml&key={}", server.root, server.master_key),
        "application/xml",
        MY_SHOPS_XML,
    );
    assert_eq!(upload.status, 201, "the sample throws unless 201 Created: {}", upload.body);
    let dataflow_job_url =
        upload.location.clone().filter(|url| !url.is_empty()).expect("the sample throws without Location");
    let job_status_query_url = format!("{dataflow_job_url}?key={}", server.master_key);

    // QueryDataflowJobStatus: JSON (no output parameter), exactly 200.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let reply = get(server, &job_status_query_url);
        assert_eq!(reply.status, 200, "GetJsonResponse throws unless 200 OK: {}", reply.body);
        assert!(reply.body.trim_start().starts_with('{'), "{}", reply.body);
        let order = key_order(&reply.body, "/resourceSets/0/resources/0");
        assert_eq!(order[0], "__type", "DataContractJsonSerializer needs __type first: {order:?}");
        let job = reply.json()["resourceSets"][0]["resources"][0].clone();
        assert_eq!(job["__type"], DATAFLOW_JOB);
        match job["status"].as_str() {
            Some("Completed") => {
                let links = job["links"].as_array().expect("Links");
                let data_source =
                    links.iter().find(|link| link["role"] == "dataSource").expect("a link with Role == \"dataSource\"");
                return data_source["url"].as_str().unwrap().to_owned();
            }
            Some("Aborted") => panic!("the sample throws on Aborted: {job}"),
            _ => assert!(Instant::now() < deadline, "still pending: {job}"),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn docs_load_data_source_dataflow_sample_code_csharp_uploads_and_finds_the_data_source() {
    let server = TestServer::start();
    let data_source_url = run_the_sample(&server);
    assert!(data_source_url.starts_with(&format!("{}/data/", server.root)), "{data_source_url}");
    assert!(data_source_url.ends_with("/MyShopsSample"), "{data_source_url}");
    let shops = get(&server, &format!("{data_source_url}/MyShops?$format=json&key={}", server.query_key));
    assert_eq!(shops.status, 200, "{}", shops.body);
    assert_eq!(result_ids(&shops.json(), "EntityID"), ["1", "2"]);
}
