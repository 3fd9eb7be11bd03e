//! `SDS/public-data-sources/traffic-incident-data-source.md`: a data
//! source of the page's response shape (our incidents): the example's
//! `nearRoute('Houston,TX','Galveston,Tx')` query returns every property in
//! schema order, the empty `LaneInfo`, `CongestionInfo` and `LocationCodes`
//! as `""` / empty elements (finding 4), and the incidents in entity-ID
//! order. The page's property table types the dates and flags as
//! Edm.DateTime and Edm.Boolean, but its example returns them as strings
//! without `m:type` (`"Verified":"true"`); the example wins, so they are
//! strings here.

use serde_json::{json, Value};

use super::support::*;

const INCIDENTS: &str = "Bing Spatial Data Services, 1.0, TrafficIncident\n\
IncidentId(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double),LastModifiedUTC(Edm.String),StartTimeUTC(Edm.String),\
EndTimeUTC(Edm.String),Type(Edm.String),Severity(Edm.String),Verified(Edm.String),RoadClosed(Edm.String),Description(Edm.String),\
DetourInfo(Edm.String),LaneInfo(Edm.String),CongestionInfo(Edm.String),ToPointLatitude(Edm.Double),ToPointLongitude(Edm.Double),LocationCodes(Edm.String)\n\
370155,29.7500,-95.3500,2012-01-25T14:29:02.01Z,2011-08-08T11:54:00Z,2012-10-01T22:00:00Z,Construction,Minor,true,true,Elm St is closed between 2nd St and 5th St - construction,use 4th St,,,0,0,\n\
370101,29.3100,-94.8100,2012-01-25T14:29:02.01Z,2011-10-17T12:00:00Z,2012-02-12T14:00:00Z,Construction,Minor,true,true,FM-9 is closed in both directions - construction,follow the posted signage,,,0,0,\n\
370999,30.5000,-97.0000,2012-01-25T14:29:02.01Z,2011-10-17T12:00:00Z,2012-02-12T14:00:00Z,Accident,Serious,false,false,far away,,,,0,0,\n";

const STRINGS: [&str; 10] = [
    "LastModifiedUTC",
    "StartTimeUTC",
    "EndTimeUTC",
    "Type",
    "Severity",
    "Verified",
    "RoadClosed",
    "Description",
    "DetourInfo",
    "LaneInfo",
];

fn row(id: &str) -> Vec<String> {
    let line = INCIDENTS.lines().find(|line| line.starts_with(id)).unwrap();
    line.split(',').map(str::to_owned).collect()
}

#[test]
fn docs_traffic_incident_data_source_near_route_atom_and_json() {
    let flags = outside_services();
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let server = TestServer::start_with(&flags);
    let access_id = load_ok(&server, "TrafficIncidents", "csv", INCIDENTS);
    let base = format!("/REST/v1/data/{access_id}/TrafficIncidents/TrafficIncident?spatialFilter=nearRoute('Houston,TX','Galveston,Tx')&key={}", server.query_key);
    let uri = |id: &str| format!("{}/data/{access_id}/TrafficIncidents/TrafficIncident('{id}')", server.root);
    let ids = ["370101", "370155"];

    let atom = get(&server, &base);
    assert_eq!(atom.status, 200, "{}", atom.body);
    let entries: Vec<String> = ids
        .iter()
        .map(|id| {
            let cells = row(id);
            let mut properties = vec![
                atom_property("IncidentId", None, id),
                atom_property("Latitude", Some("Edm.Double"), &cells[1].parse::<f64>().unwrap().to_string()),
                atom_property("Longitude", Some("Edm.Double"), &cells[2].parse::<f64>().unwrap().to_string()),
            ];
            for (index, name) in STRINGS.iter().enumerate() {
                properties.push(atom_property(name, None, &cells[3 + index]));
            }
            properties.push(atom_property("CongestionInfo", None, ""));
            properties.push(atom_property("ToPointLatitude", Some("Edm.Double"), "0"));
            properties.push(atom_property("ToPointLongitude", Some("Edm.Double"), "0"));
            properties.push(atom_property("LocationCodes", None, ""));
            atom_entry(&uri(id), &properties)
        })
        .collect();
    assert_xml_matches("traffic Atom", &atom_feed(&entries), &atom.body, &[]);

    let reply = get(&server, &format!("{base}&$format=json"));
    let results: Vec<Value> = ids
        .iter()
        .map(|id| {
            let cells = row(id);
            let mut members: Vec<(&str, Value)> = vec![
                ("IncidentId", json!(id)),
                ("Latitude", json!(cells[1].parse::<f64>().unwrap())),
                ("Longitude", json!(cells[2].parse::<f64>().unwrap())),
            ];
            for (index, name) in STRINGS.iter().enumerate() {
                members.push((name, json!(cells[3 + index])));
            }
            members.push(("CongestionInfo", json!("")));
            members.push(("ToPointLatitude", json!(0.0)));
            members.push(("ToPointLongitude", json!(0.0)));
            members.push(("LocationCodes", json!("")));
            json_entry(&uri(id), &members)
        })
        .collect();
    assert_json_matches("traffic JSON", &json_feed(results), &reply.body, &[]);
}
