//! Query API bodies against hand-written goldens (SPEC §3.5): a feed and a
//! single entry, in JSON and Atom.

use crate::common::golden::{assert_json_golden, assert_xml_golden};
use crate::common::server::{access_id_of, TestServer};
use crate::query::CAFES_CSV;

#[test]
fn feeds_and_entries_match_the_goldens() {
    let server = TestServer::start();
    let access_id = access_id_of(&server.load_and_wait("Coffee", "complete", "csv", CAFES_CSV));
    let vars = [("root", server.root.as_str()), ("accessId", access_id.as_str())];
    let base = format!("/REST/v1/data/{access_id}/Coffee/Cafes");
    let key = &server.master_key;
    let nearby = format!(
        "{base}?spatialFilter=nearby(47.61,-122.34,10)&$select=EntityID,Name,Opened,IsWiFiHotSpot,__Distance&$inlinecount=allpages&key={key}"
    );
    let json = server.get(&format!("{nearby}&$format=json"));
    assert_eq!(json.status(), 200);
    assert_json_golden("query/nearby.json", &json.text().unwrap(), &vars);
    let atom = server.get(&nearby);
    assert_eq!(atom.status(), 200);
    assert_xml_golden("query/nearby.xml", &atom.text().unwrap(), &vars);

    let by_id = format!("{base}('c3')?key={key}");
    assert_json_golden("query/by-id.json", &server.get(&format!("{by_id}&$format=json")).text().unwrap(), &vars);
    assert_xml_golden("query/by-id.xml", &server.get(&by_id).text().unwrap(), &vars);
}
