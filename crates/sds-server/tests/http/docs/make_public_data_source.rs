//! `SDS/data-source-management-api/make-public-data-source.md`: the example
//! `$updatedatasource?setPublic=1&o=xml` (lower-case operation), XML and
//! JSON responses (201, a DataServiceJob with status `Created` and the
//! description `Data source "…" set public`; SPEC.md §9 #11 for the page's
//! `<Resource xsi:type=…>`), then the data source information says
//! `bsi:isPublic="true"` / `"IsPublic":"true"` and any valid key queries it.

use serde_json::json;

use super::support::*;

const SHOPS: &str = "Bing Spatial Data Services, 1.0, FourthCoffeeShops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\na,1,2\n";

#[test]
fn docs_make_public_data_source_xml_json_and_effect() {
    let server = TestServer::start();
    let access_id = load_ok(&server, "FourthCoffeeSample", "csv", SHOPS);
    let stranger = server.create_key("another-account");
    let query = format!("/REST/v1/data/{access_id}/FourthCoffeeSample/FourthCoffeeShops?$format=json&key={stranger}");
    assert_eq!(get(&server, &query).status, 401, "private: another account's key is refused");

    let xml = get(
        &server,
        &format!(
            "/REST/v1/data/{access_id}/FourthCoffeeSample/$updatedatasource?setPublic=1&o=xml&key={}",
            server.master_key
        ),
    );
    assert_eq!(xml.status, 201, "{}", xml.body);
    let golden = rest_xml(
        201,
        "Created",
        "<DataServiceJob><Name>FourthCoffeeSample</Name><Id>{{jobId}}</Id><Link role=\"self\">{{root}}/data/jobs/{{jobId}}/$getstatus</Link>\
<Description>Data source \"FourthCoffeeSample\" set public</Description><Status>Created</Status>\
<CreatedDate>{{xsdatetime}}</CreatedDate><CompletedDate xsi:nil=\"true\"/></DataServiceJob>",
    );
    assert_xml_matches("make public XML", &golden, &xml.body, &[("root", &server.root)]);
    let job = wait(&server, &location_of(&xml));
    assert_eq!(job["status"], "Completed", "{job}");

    let info =
        get(&server, &format!("/REST/v1/data/{access_id}/FourthCoffeeSample?$format=json&key={}", server.master_key));
    assert_eq!(info.json()["d"]["IsPublic"], "true", "{}", info.body);
    let atom = get(&server, &format!("/REST/v1/data/{access_id}/FourthCoffeeSample?key={}", server.master_key));
    assert!(atom.body.contains("bsi:isPublic=\"true\""), "{}", atom.body);
    assert_eq!(get(&server, &query).status, 200, "public: any valid key queries");

    let private = get(
        &server,
        &format!(
            "/REST/v1/data/{access_id}/FourthCoffeeSample/$updatedatasource?setPublic=0&key={}",
            server.master_key
        ),
    );
    assert_eq!(private.status, 201, "{}", private.body);
    let golden = rest_json(
        201,
        "Created",
        json!({
            "__type": DATASERVICE_JOB,
            "name": "FourthCoffeeSample",
            "id": "{{jobId}}",
            "links": [{"role": "self", "url": "{{root}}/data/jobs/{{jobId}}/$getstatus"}],
            "createdDate": "{{rfc1123}}",
            "description": "Data source \"FourthCoffeeSample\" set private",
            "status": "Created"
        }),
    );
    assert_json_matches("make private JSON", &golden, &private.body, &[("root", &server.root)]);
    wait(&server, &location_of(&private));
    assert_eq!(get(&server, &query).status, 401, "private again");
}
