//! Outside services the address and route examples need, and geometry
//! helpers to compute their expected answers independently.

use super::support::*;

/// Places the stand-in geocoder knows: (address as the docs write it, lat, lon).
pub const PLACES: &[(&str, f64, f64)] = &[
    ("1 Microsoft Way Redmond WA 98052", 40.8300, -74.3100),
    ("Webster,TX", 29.5386, -95.1194),
    ("Kemah,TX", 29.5431, -95.01831),
    ("Houston,TX", 29.7604, -95.3698),
    ("Galveston,Tx", 29.3013, -94.7977),
];

/// A stand-in for the geocoder and router `sds` calls (Nominatim's
/// `/search` and OSRM's `/route/v1/driving/…` response shapes) on
/// 127.0.0.1: geocodes [`PLACES`], and routes along the straight segment
/// between the two ends. Returns the `serve` flags that point `sds` at it.
/// The services are outside `sds` (SPEC.md §5: pluggable); the stand-in
/// only lets the docs' address and route examples run offline.
pub fn outside_services() -> Vec<String> {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|read| read > 2) {
                line.clear();
            }
            let target = request_line.split(' ').nth(1).unwrap_or_default().to_owned();
            let body = answer(&target);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    vec!["--geocoder-url".into(), format!("{base}/search"), "--router-url".into(), format!("{base}/route/v1/driving")]
}

fn answer(target: &str) -> String {
    if let Some(query) = target.strip_prefix("/search?") {
        let address: String = form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == "q")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_default();
        return match PLACES.iter().find(|(place, _, _)| *place == address) {
            Some((_, lat, lon)) => format!(r#"[{{"lat":"{lat}","lon":"{lon}"}}]"#),
            None => "[]".into(),
        };
    }
    let path = target.trim_start_matches("/route/v1/driving/");
    let path = path.split('?').next().unwrap_or_default();
    let ends: Vec<&str> = path.split(';').collect();
    format!(
        r#"{{"code":"Ok","routes":[{{"geometry":{{"type":"LineString","coordinates":[[{}],[{}]]}}}}]}}"#,
        ends[0], ends[1]
    )
}

/// Distance in km from `point` to the segment `a`–`b` (all (lat, lon)),
/// on a local equirectangular projection: enough to tell 1.6 km from far.
pub fn distance_to_segment_km(point: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let scale = point.0.to_radians().cos();
    let project = |p: (f64, f64)| (p.1 * scale, p.0);
    let (px, py) = project(point);
    let (ax, ay) = project(a);
    let (bx, by) = project(b);
    let (dx, dy) = (bx - ax, by - ay);
    let t = (((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
    let nearest = (ay + t * dy, (ax + t * dx) / scale);
    distance_km(point, nearest)
}

/// The numbers of a WKT text and its type word, to compare shapes whatever
/// the spacing.
pub fn wkt_numbers(wkt: &str) -> (String, Vec<f64>) {
    let kind: String = wkt.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let numbers = wkt
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e' || c == 'E'))
        .filter(|token| !token.is_empty() && token.chars().any(|c| c.is_ascii_digit()))
        .map(|token| token.parse::<f64>().unwrap())
        .collect();
    (kind.to_ascii_uppercase(), numbers)
}
