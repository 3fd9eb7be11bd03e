//! `SDS/data-source-management-api/get-all-public-data-sources.md`:
//! `data/$GetPublicDataSourceList?$format=atom|json&key=anyBingMapsKey`
//! lists every public data source, of any account, for any valid key:
//! Atom workspaces with `bsi:uploaded`, `bsi:updated`, `bsi:isPublic`,
//! a title, a disclaimer and the collection; JSON with `IsPublic` a
//! boolean, `Disclaimer`, `Uploaded`, `Updated`, `EntitySets`.

use serde_json::json;

use super::support::*;

#[test]
fn docs_get_all_public_data_sources_atom_and_json() {
    let server = TestServer::start();
    let shops = "Bing Spatial Data Services, 1.0, CoffeeShops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n";
    let access_id = load_ok(&server, "MyPublicDataSource", "csv", shops);
    load_ok(&server, "MyPrivateDataSource", "csv", shops);
    let public = get(
        &server,
        &format!(
            "/REST/v1/data/{access_id}/MyPublicDataSource/$updateDataSource?setPublic=1&key={}",
            server.master_key
        ),
    );
    wait(&server, &location_of(&public));
    let any_key = server.create_key("someone-else");

    let atom = get(&server, &format!("/REST/v1/data/$GetPublicDataSourceList?$format=atom&key={any_key}"));
    assert_eq!(atom.status, 200, "{}", atom.body);
    let golden = "<app:service xmlns:app=\"http://www.w3.org/2007/app\" xmlns:atom=\"http://www.w3.org/2005/Atom\" \
xmlns:bsi=\"http://schemas.microsoft.com/bing/spatial/2010/11/odata\"><bsi:copyright>{{nonempty}}</bsi:copyright>\
<app:workspace bsi:uploaded=\"{{isodate}}\" bsi:updated=\"{{isodate}}\" bsi:isPublic=\"true\"><atom:title>MyPublicDataSource</atom:title>\
<atom:disclaimer>{{nonempty}}</atom:disclaimer><app:collection app:href=\"{{root}}/data/{{accessId}}/MyPublicDataSource/CoffeeShops\">\
<atom:title>CoffeeShops</atom:title></app:collection></app:workspace></app:service>";
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    assert_xml_matches("public list Atom", golden, &atom.body, &vars);

    let json = get(&server, &format!("/REST/v1/data/$GetPublicDataSourceList?$format=json&key={any_key}"));
    assert_eq!(json.status, 200, "{}", json.body);
    let golden = json!({"d": {"Copyright": "{{nonempty}}", "DataSources": [{
        "Name": "MyPublicDataSource",
        "Disclaimer": "{{nonempty}}",
        "IsPublic": true,
        "Uploaded": "{{rfc1123}}",
        "Updated": "{{rfc1123}}",
        "EntitySets": ["CoffeeShops"]
    }]}});
    assert_json_matches("public list JSON", &golden.to_string(), &json.body, &[]);
    // The page's parameter table names the parameter `format`.
    let plain = get(&server, &format!("/REST/v1/data/$GetPublicDataSourceList?format=json&key={any_key}"));
    assert_eq!(plain.json()["d"]["DataSources"][0]["Name"], "MyPublicDataSource", "{}", plain.body);
}
