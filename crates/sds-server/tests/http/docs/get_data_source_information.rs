//! `SDS/data-source-management-api/get-data-source-information.md`: the
//! account's data sources (`data?key=`, Atom by default, `$format=json`
//! with `IsPublic` as a string), one data source with
//! `showAllVersions=3` (the page's value: truthy, SPEC.md §9 #12) listing
//! the published, staged and previous versions with their job ids, its
//! JSON form, and the `$metadata` document of the FourthCoffeeSample
//! shape (entity type, key, every property and its EDM type in schema
//! order, the container with `IsPublic` and `JobID`).

use serde_json::json;

use super::support::*;

fn workspace(name: &str, entity_type: &str, attributes: &str, job: &str) -> String {
    format!(
        "<app:workspace {attributes} bsi:uploaded=\"{{{{isodate}}}}\" bsi:updated=\"{{{{isodate}}}}\"><atom:title>{name}</atom:title>{job}\
<app:collection app:href=\"{{{{root}}}}/data/{{{{hex32:{name}}}}}/{name}/{entity_type}\"><atom:title>{entity_type}</atom:title></app:collection></app:workspace>"
    )
}

fn service(workspaces: &[String]) -> String {
    format!(
        "<app:service xmlns:app=\"http://www.w3.org/2007/app\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
xmlns:bsi=\"http://schemas.microsoft.com/bing/spatial/2010/11/odata\"><bsi:copyright>{{{{nonempty}}}}</bsi:copyright>{}</app:service>",
        workspaces.concat()
    )
}

#[test]
fn docs_get_data_source_information_all_data_sources_atom_and_json() {
    let sample = Sample::start();
    let server = &sample.server;
    load_ok(server, "Transit", "csv", "Bing Spatial Data Services, 1.0, Stops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\ns1,1,2\n");
    let atom = get(server, &format!("/REST/v1/data?key={}", server.query_key));
    assert_eq!(atom.status, 200, "{}", atom.body);
    assert!(atom.content_type.starts_with("application/atomsvc+xml"), "{}", atom.content_type);
    let golden = service(&[
        workspace(SAMPLE_NAME, SAMPLE_TYPE, "bsi:isPublic=\"false\"", ""),
        workspace("Transit", "Stops", "bsi:isPublic=\"false\"", ""),
    ]);
    assert_xml_matches("info account Atom", &golden, &atom.body, &[("root", &server.root)]);

    let json = get(server, &format!("/REST/v1/data?$format=json&key={}", server.query_key));
    let golden = json!({"d": {"Copyright": "{{nonempty}}", "DataSources": [
        {"Name": SAMPLE_NAME, "IsPublic": "false", "Updated": "{{rfc1123}}", "EntitySets": [SAMPLE_TYPE]},
        {"Name": "Transit", "IsPublic": "false", "Updated": "{{rfc1123}}", "EntitySets": ["Stops"]}
    ]}});
    assert_json_matches("info account JSON", &golden.to_string(), &json.body, &[]);
}

#[test]
fn docs_get_data_source_information_one_data_source_all_versions_and_json() {
    let sample = Sample::start();
    let server = &sample.server;
    load_ok(server, SAMPLE_NAME, "csv", &sample_csv());
    let staged = server.load_and_wait(SAMPLE_NAME, "completeStaging", "csv", sample_csv());
    assert_eq!(staged["status"], "Completed", "{staged}");
    let atom = get(
        server,
        &format!("/REST/v1/data/{}/{SAMPLE_NAME}?showAllVersions=3&key={}", sample.access_id, server.query_key),
    );
    assert_eq!(atom.status, 200, "{}", atom.body);
    let job = |label: &str| format!("<atom:jobId>{{{{hex32:{label}}}}}</atom:jobId>");
    let golden = service(&[
        workspace(
            SAMPLE_NAME,
            SAMPLE_TYPE,
            "bsi:isStagingDataSource=\"false\" bsi:isActive=\"true\" bsi:isPublic=\"false\"",
            &job("published"),
        ),
        workspace(
            SAMPLE_NAME,
            SAMPLE_TYPE,
            "bsi:isStagingDataSource=\"true\" bsi:isActive=\"false\" bsi:isPublic=\"false\"",
            &job("staged"),
        ),
        workspace(
            SAMPLE_NAME,
            SAMPLE_TYPE,
            "bsi:isStagingDataSource=\"false\" bsi:isActive=\"false\" bsi:isPublic=\"false\"",
            &job("previous"),
        ),
    ]);
    let vars = [("root", server.root.as_str()), ("staged", staged["id"].as_str().unwrap())];
    assert_xml_matches(
        "info single all versions Atom",
        &golden.replace("{{hex32:staged}}", "{{staged}}"),
        &atom.body,
        &vars,
    );

    let json =
        get(server, &format!("/REST/v1/data/{}/{SAMPLE_NAME}?$format=json&key={}", sample.access_id, server.query_key));
    let golden = json!({"d": {"Copyright": "{{nonempty}}", "Name": SAMPLE_NAME, "IsPublic": "false", "Updated": "{{rfc1123}}", "EntitySets": [SAMPLE_TYPE]}});
    assert_json_matches("info single JSON", &golden.to_string(), &json.body, &[]);
}

#[test]
fn docs_get_data_source_information_metadata() {
    let sample = Sample::start();
    let server = &sample.server;
    let metadata =
        get(server, &format!("/REST/v1/data/{}/{SAMPLE_NAME}/$metadata?key={}", sample.access_id, server.query_key));
    assert_eq!(metadata.status, 200, "{}", metadata.body);
    let string = |name: &str| {
        format!("<Property Name=\"{name}\" Type=\"Edm.String\" Nullable=\"true\" MaxLength=\"2560\" Unicode=\"true\" FixedLength=\"false\"/>")
    };
    let typed = |name: &str, edm: &str| format!("<Property Name=\"{name}\" Type=\"Edm.{edm}\" Nullable=\"true\"/>");
    let mut properties = vec!["<Property Name=\"EntityID\" Type=\"Edm.String\" Nullable=\"false\" MaxLength=\"2560\" Unicode=\"true\" FixedLength=\"false\"/>".to_owned()];
    properties.push(typed("Latitude", "Double"));
    properties.push(typed("Longitude", "Double"));
    for name in [
        "AddressLine",
        "PrimaryCity",
        "Subdivision",
        "PostalCode",
        "Phone",
        "SecondaryCity",
        "CountryRegion",
        "Name",
        "DisplayName",
        "Manager",
        "StoreOpen",
        "StoreType",
    ] {
        properties.push(string(name));
    }
    for (name, edm) in [
        ("SeatingCapacity", "Int64"),
        ("Open", "Int64"),
        ("Close", "Int64"),
        ("IsWiFiHotSpot", "Boolean"),
        ("IsWheelchairAccessible", "Boolean"),
        ("AcceptsOnlineOrders", "Boolean"),
        ("AcceptsCoffeeCards", "Boolean"),
        ("CreatedDate", "DateTime"),
        ("LastUpdatedDate", "DateTime"),
    ] {
        properties.push(typed(name, edm));
    }
    let golden = format!(
        "<edmx:Edmx xmlns:edmx=\"http://schemas.microsoft.com/ado/2007/06/edmx\" xmlns:m=\"http://schemas.microsoft.com/ado/2007/08/dataservices/metadata\" Version=\"1.0\">\
<edmx:DataServices DataServiceVersion=\"1.0\"><Schema xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\" Namespace=\"FourthCoffeeSampleDataSource\">\
<EntityType Name=\"FourthCoffeeShops\"><Key><PropertyRef Name=\"EntityID\"/></Key>{}</EntityType></Schema>\
<Schema xmlns=\"http://schemas.microsoft.com/ado/2008/09/edm\" Namespace=\"FourthCoffeeSample\">\
<EntityContainer Name=\"FourthCoffeeSampleContext\" m:IsDefaultEntityContainer=\"true\" IsPublic=\"false\" JobID=\"{{{{hex32}}}}\">\
<EntitySet Name=\"FourthCoffeeShops\" EntityType=\"FourthCoffeeSampleDataSource.FourthCoffeeShops\"/></EntityContainer></Schema>\
</edmx:DataServices></edmx:Edmx>",
        properties.concat()
    );
    assert_xml_matches("$metadata", &golden, &metadata.body, &[]);
    let account = get(server, &format!("/REST/v1/data/$metadata?key={}", server.query_key));
    assert_eq!(account.status, 200, "{}", account.body);
    assert!(account.body.contains("Namespace=\"FourthCoffeeSampleDataSource\""), "{}", account.body);
}
