//! `SDS/data-source-management-api/download-data-source-dataflow/get-downloaded-data.md`:
//! the succeeded link plus `?key=` returns the DataSet the page shows:
//! root `MainRoot`, `xs:schema id="{name}"`, the IsDataSet element, the
//! entity type's columns in schema order with their XSD types and
//! `minOccurs="0"`, the primary-key constraint, then one element per
//! entity; the page's XML link form `dataflows/Download/…` works too.

use super::support::*;

/// The page's 13 columns, with our values (one entity, as on the page).
const DOWNLOADED: &str = "Bing Spatial Data Services, 1.0, MyDataSourceEntityType\n\
EntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),AddressLine(Edm.String),Locality(Edm.String),\
AdminDistrict(Edm.String),CountryRegion(Edm.String),PostalCode(Edm.String),Confidence(Edm.String),Phone(Edm.String),\
Open(Edm.Int64),Close(Edm.Int64),IsWheelchairAccessible(Edm.Boolean)\n\
1,47.6740,-122.1215,16 Lake Ave,Redmond,WA,United States,98052,High,555-0188,700,1800,true\n";

#[test]
fn docs_get_downloaded_data_dataset_shape() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "MyDataSourceName", "csv", DOWNLOADED);
    let created = get(
        &server,
        &format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/MyDataSourceName?key={}", server.master_key),
    );
    let job = wait(&server, &location_of(&created));
    let succeeded = link(&job, "output", Some("succeeded"));
    assert_eq!(succeeded, format!("{}/dataflows/DataSourceDownload/MyDataSourceName/output/succeeded", server.root));
    let data = get(&server, &format!("{succeeded}?key={}", server.master_key));
    assert_eq!(data.status, 200, "{}", data.body);
    let column = |name: &str, xsd: &str| format!("<xs:element name=\"{name}\" type=\"xs:{xsd}\" minOccurs=\"0\"/>");
    let columns = [
        column("EntityID", "string"),
        column("Latitude", "double"),
        column("Longitude", "double"),
        column("AddressLine", "string"),
        column("Locality", "string"),
        column("AdminDistrict", "string"),
        column("CountryRegion", "string"),
        column("PostalCode", "string"),
        column("Confidence", "string"),
        column("Phone", "string"),
        column("Open", "long"),
        column("Close", "long"),
        column("IsWheelchairAccessible", "boolean"),
    ];
    let golden = format!(
        "<MainRoot><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" xmlns:msdata=\"urn:schemas-microsoft-com:xml-msdata\" id=\"MyDataSourceName\">\
<xs:element name=\"MyDataSourceName\" msdata:IsDataSet=\"true\" msdata:UseCurrentLocale=\"true\"><xs:complexType>\
<xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\"><xs:element name=\"MyDataSourceEntityType\"><xs:complexType><xs:sequence>{}\
</xs:sequence></xs:complexType></xs:element></xs:choice></xs:complexType>\
<xs:unique name=\"Constraint1\" msdata:PrimaryKey=\"true\"><xs:selector xpath=\".//MyDataSourceEntityType\"/><xs:field xpath=\"EntityID\"/></xs:unique>\
</xs:element></xs:schema><MyDataSourceEntityType><EntityID>1</EntityID><Latitude>47.674</Latitude><Longitude>-122.1215</Longitude>\
<AddressLine>16 Lake Ave</AddressLine><Locality>Redmond</Locality><AdminDistrict>WA</AdminDistrict><CountryRegion>United States</CountryRegion>\
<PostalCode>98052</PostalCode><Confidence>High</Confidence><Phone>555-0188</Phone><Open>700</Open><Close>1800</Close>\
<IsWheelchairAccessible>true</IsWheelchairAccessible></MyDataSourceEntityType></MainRoot>",
        columns.concat()
    );
    assert_xml_matches("downloaded data", &golden, &data.body, &[]);

    // The page's XML link: `dataflows/Download/…/output/succeeded`.
    let short = get(
        &server,
        &format!("/REST/v1/dataflows/Download/MyDataSourceName/output/succeeded?key={}", server.master_key),
    );
    assert_eq!(short.status, 200, "{}", short.body);
    assert_eq!(short.body, data.body);
}
