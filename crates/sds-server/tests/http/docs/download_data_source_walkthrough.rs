//! `SDS/data-source-management-api/download-data-source-dataflow/download-data-source-walkthrough.md`:
//! the three steps with `output=xml` — create (201, status `Pending`, a
//! `self` link), check status until `Completed` (the `output`/`succeeded`
//! link), get the data (the schema and the two entities). The page opens
//! `<DownloadJob>` and closes `</DataflowJob>` (SPEC.md §9 #2: the element
//! is `DataflowJob`).

use super::support::*;

const TWO_SHOPS: &str = "Bing Spatial Data Services, 1.0, MyDataSourceEntityType\n\
EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),AddressLine(Edm.String),Open(Edm.Int64),IsWheelchairAccessible(Edm.Boolean)\n\
1,47.673302,-122.118576,16 Lake Ave,700,true\n2,34.023614,-118.28398,9 Vine St,800,false\n";

/// The text of the first `<tag>` element in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> &'a str {
    let start = xml.find(&format!("<{tag}>")).unwrap_or_else(|| panic!("<{tag}> in {xml}")) + tag.len() + 2;
    &xml[start..start + xml[start..].find('<').unwrap()]
}

#[test]
fn docs_download_data_source_walkthrough_create_check_get() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "DataSourceName", "csv", TWO_SHOPS);
    let key = &server.master_key;

    let created = get(
        &server,
        &format!("{}/Dataflows/DataSourceDownload/{access_id}/DataSourceName?output=xml&key={key}", server.root),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    assert!(created.body.contains("<DataflowJob>"), "{}", created.body);
    let status = element(&created.body, "Status");
    assert!(status == "Pending" || status == "Completed", "{}", created.body);
    let self_link = format!("<Link role=\"self\">{}/dataflows/DataSourceDownload/DataSourceName</Link>", server.root);
    assert!(created.body.contains(&self_link), "{}", created.body);

    let status_url = format!("{}/dataflows/DataSourceDownload/DataSourceName?output=xml&key={key}", server.root);
    let mut checked = get(&server, &status_url);
    for _ in 0..600 {
        if element(&checked.body, "Status") != "Pending" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
        checked = get(&server, &status_url);
    }
    assert_eq!(checked.status, 200, "{}", checked.body);
    assert_eq!(element(&checked.body, "Status"), "Completed", "{}", checked.body);
    assert_eq!(element(&checked.body, "TotalEntityCount"), "2");
    let download_link = format!(
        "<Link role=\"output\" name=\"succeeded\">{}/dataflows/DataSourceDownload/DataSourceName/output/succeeded</Link>",
        server.root
    );
    assert!(checked.body.contains(&download_link), "{}", checked.body);

    let data = get(
        &server,
        &format!("{}/dataflows/DataSourceDownload/DataSourceName/output/succeeded?key={key}", server.root),
    );
    assert_eq!(data.status, 200, "{}", data.body);
    let dataset = crate::common::dataset::parse(&data.body);
    assert_eq!(dataset.root, "MainRoot");
    assert_eq!(dataset.entity_type, "MyDataSourceEntityType");
    assert_eq!(dataset.key, "EntityID");
    let columns: Vec<(&str, &str)> = dataset.columns.iter().map(|(n, t)| (n.as_str(), t.as_str())).collect();
    assert_eq!(
        columns,
        [
            ("EntityID", "xs:string"),
            ("Latitude", "xs:double"),
            ("Longitude", "xs:double"),
            ("AddressLine", "xs:string"),
            ("Open", "xs:long"),
            ("IsWheelchairAccessible", "xs:boolean")
        ]
    );
    let rows = dataset.by_id();
    assert_eq!(rows["1"]["Latitude"], "47.673302");
    assert_eq!(rows["2"]["Longitude"], "-118.28398");
    assert_eq!(rows["2"]["IsWheelchairAccessible"], "false");
}
