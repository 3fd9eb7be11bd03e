//! The HTTP geocoder and router against a stand-in for Nominatim and OSRM:
//! a small HTTP server on 127.0.0.1 that answers with their response
//! shapes and records the request targets it was sent.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;

/// Serves `answer(target) -> (status, body)` until the test ends; returns
/// the base URL and the request targets seen.
fn stand_in(answer: fn(&str) -> (u16, String)) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            // Skip the headers (GET requests have no body).
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let target = request_line.split(' ').nth(1).unwrap_or_default().to_owned();
            record.lock().unwrap().push(target.clone());
            let (status, body) = answer(&target);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    (base, seen)
}

fn nominatim(target: &str) -> (u16, String) {
    if target.contains("Nowhere") {
        return (200, "[]".into());
    }
    if target.contains("Broken") {
        return (200, r#"[{"place_id":1}]"#.into());
    }
    // Nominatim writes coordinates as strings.
    (200, r#"[{"place_id":8,"lat":"47.6419","lon":"-122.1269","display_name":"Microsoft Way, Redmond"}]"#.into())
}

fn osrm(target: &str) -> (u16, String) {
    if target.contains("/0,0;") {
        return (400, r#"{"code":"NoRoute","message":"Impossible route"}"#.into());
    }
    // GeoJSON order: [lon, lat].
    (
        200,
        r#"{"code":"Ok","routes":[{"distance":1000.5,"duration":90.1,"geometry":{"type":"LineString","coordinates":[[-122.3,47.6],[-122.25,47.62],[-122.2,47.65]]}}],"waypoints":[]}"#
            .into(),
    )
}

#[test]
fn the_geocoder_sends_a_nominatim_search_and_reads_string_coordinates() {
    let (base, seen) = stand_in(nominatim);
    let geocoder = HttpGeocoder { url: format!("{base}/search") };
    assert_eq!(geocoder.geocode("1 Microsoft Way, Redmond").unwrap(), Some((47.6419, -122.1269)));
    let target = seen.lock().unwrap()[0].clone();
    assert_eq!(target, "/search?q=1+Microsoft+Way%2C+Redmond&format=json&limit=1");
    assert_eq!(geocoder.geocode("Nowhere").unwrap(), None);
    assert!(geocoder.geocode("Broken").unwrap_err().contains("lat/lon"));
    // A URL that already has a query string gets `&`.
    let keyed = HttpGeocoder { url: format!("{base}/search?key=abc") };
    keyed.geocode("Seattle").unwrap();
    assert!(seen.lock().unwrap()[3].starts_with("/search?key=abc&q=Seattle"));
}

#[test]
fn the_router_sends_lon_lat_pairs_and_reads_the_geojson_line() {
    let (base, seen) = stand_in(osrm);
    let router = HttpRouter { url: format!("{base}/route/v1/driving/") };
    let options = RouteOptions { avoid: Some("highways,tolls,ferry".into()), ..RouteOptions::default() };
    let line = router.route((47.6, -122.3), (47.65, -122.2), &options).unwrap();
    assert_eq!(line, [(47.6, -122.3), (47.62, -122.25), (47.65, -122.2)]);
    assert_eq!(
        seen.lock().unwrap()[0],
        "/route/v1/driving/-122.3,47.6;-122.2,47.65?overview=full&geometries=geojson&exclude=motorway%2Ctoll"
    );
    let error = router.route((0.0, 0.0), (1.0, 1.0), &RouteOptions::default()).unwrap_err();
    assert!(error.contains("NoRoute"), "{error}");
}

#[tokio::test]
async fn addresses_and_routes_resolve_through_the_traits() {
    let (geocoder_base, _) = stand_in(nominatim);
    let (router_base, _) = stand_in(osrm);
    let geocoder: Arc<dyn Geocoder> = Arc::new(HttpGeocoder { url: format!("{geocoder_base}/search") });
    let router: Arc<dyn Router> = Arc::new(HttpRouter { url: format!("{router_base}/route/v1/driving") });
    assert_eq!(geocode_with(Some(Arc::clone(&geocoder)), "Redmond").await.unwrap(), (47.6419, -122.1269));
    let missing = geocode_with(Some(Arc::clone(&geocoder)), "Nowhere").await.unwrap_err();
    assert!(missing.details[0].contains("'Nowhere' was not found"), "{missing:?}");
    let start = RouteEnd::Address("Redmond".into());
    let end = RouteEnd::Coordinates { latitude: 47.65, longitude: -122.2 };
    let line = route_with(Some(geocoder), Some(router), [&start, &end], RouteOptions::default()).await.unwrap();
    assert_eq!(line.len(), 3);
}

#[tokio::test]
async fn unconfigured_services_answer_a_400_that_says_so() {
    let error = geocode_with(None, "Redmond").await.unwrap_err();
    assert!(error.details[0].contains("--geocoder-url"), "{error:?}");
    let end = RouteEnd::Coordinates { latitude: 1.0, longitude: 2.0 };
    let error = route_with(None, None, [&end, &end], RouteOptions::default()).await.unwrap_err();
    assert!(error.details[0].contains("--router-url"), "{error:?}");
}
