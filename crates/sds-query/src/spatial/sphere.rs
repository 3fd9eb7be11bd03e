//! Distances on the sphere SDS uses: R = 6378.137 km (the WGS84 equatorial
//! radius). The docs' `__Distance` values match the haversine on this
//! sphere to 5–6 digits; an ellipsoidal distance does not.

/// Earth radius of the SDS sphere, in km.
pub const EARTH_RADIUS_KM: f64 = 6378.137;

/// Great-circle distance in km between two (latitude, longitude) points in degrees.
pub fn distance_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = phi2 - phi1;
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// A longitude/latitude rectangle that does not cross the antimeridian.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LonLatBox {
    pub min_lon: f64,
    pub min_lat: f64,
    pub max_lon: f64,
    pub max_lat: f64,
}

impl LonLatBox {
    pub fn contains(&self, lon: f64, lat: f64) -> bool {
        lon >= self.min_lon && lon <= self.max_lon && lat >= self.min_lat && lat <= self.max_lat
    }
}

/// The boxes (one, or two when the circle crosses the antimeridian) that
/// hold every point within `radius_km` of (lat, lon). When the circle
/// holds a pole, every longitude is in.
pub fn circle_boxes(lat: f64, lon: f64, radius_km: f64) -> Vec<LonLatBox> {
    let angular = radius_km / EARTH_RADIUS_KM;
    let d_lat = angular.to_degrees();
    let (min_lat, max_lat) = (lat - d_lat, lat + d_lat);
    if max_lat >= 90.0 || min_lat <= -90.0 || angular >= std::f64::consts::FRAC_PI_2 {
        return vec![LonLatBox {
            min_lon: -180.0,
            min_lat: min_lat.max(-90.0),
            max_lon: 180.0,
            max_lat: max_lat.min(90.0),
        }];
    }
    // Widest longitude offset of a small circle: asin(sin r / cos φ).
    let ratio = angular.sin() / lat.to_radians().cos();
    if ratio >= 1.0 {
        return vec![LonLatBox { min_lon: -180.0, min_lat, max_lon: 180.0, max_lat }];
    }
    // A hair of slack so rounding never drops a point on the edge.
    let d_lon = ratio.asin().to_degrees() * (1.0 + 1e-9) + 1e-12;
    lon_range_boxes(lon - d_lon, lon + d_lon, min_lat, max_lat)
}

/// Splits a longitude range that may run past ±180 into boxes within ±180.
pub fn lon_range_boxes(west: f64, east: f64, min_lat: f64, max_lat: f64) -> Vec<LonLatBox> {
    if east - west >= 360.0 {
        return vec![LonLatBox { min_lon: -180.0, min_lat, max_lon: 180.0, max_lat }];
    }
    if west < -180.0 {
        vec![
            LonLatBox { min_lon: west + 360.0, min_lat, max_lon: 180.0, max_lat },
            LonLatBox { min_lon: -180.0, min_lat, max_lon: east, max_lat },
        ]
    } else if east > 180.0 {
        vec![
            LonLatBox { min_lon: west, min_lat, max_lon: 180.0, max_lat },
            LonLatBox { min_lon: -180.0, min_lat, max_lon: east - 360.0, max_lat },
        ]
    } else {
        vec![LonLatBox { min_lon: west, min_lat, max_lon: east, max_lat }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!((actual - expected).abs() <= tolerance, "{actual} vs {expected}");
    }

    #[test]
    fn distances_match_hand_computed_values() {
        // A quarter of the equator: R·π/2.
        close(distance_km(0.0, 0.0, 0.0, 90.0), EARTH_RADIUS_KM * std::f64::consts::FRAC_PI_2, 1e-9);
        // Pole to pole: R·π, whatever the longitudes.
        close(distance_km(90.0, 10.0, -90.0, -170.0), EARTH_RADIUS_KM * std::f64::consts::PI, 1e-6);
        // Across the antimeridian: 179.5 to -179.5 on the equator is 1°.
        close(distance_km(0.0, 179.5, 0.0, -179.5), EARTH_RADIUS_KM * 1f64.to_radians(), 1e-9);
        // Two points near the north pole on opposite meridians: 2° apart through the pole.
        close(distance_km(89.0, 0.0, 89.0, 180.0), EARTH_RADIUS_KM * 2f64.to_radians(), 1e-9);
        // The docs' nearby example: entity -8051 at 2.1973… km.
        // The docs write the longitude as -74.3163299560546935 (more digits than f64 holds).
        let center = (40.83274904439099, -74.316_329_956_054_69);
        close(distance_km(center.0, center.1, 40.820685, -74.295683), 2.19734068236095, 1e-5);
        close(distance_km(center.0, center.1, 40.849513, -74.292831), 2.72010344668636, 1e-5);
    }

    #[test]
    fn circle_boxes_wrap_the_antimeridian_and_open_at_poles() {
        let boxes = circle_boxes(0.0, 179.9, 50.0);
        assert_eq!(boxes.len(), 2);
        assert!(boxes.iter().any(|b| b.contains(-179.9, 0.0)));
        assert!(boxes.iter().any(|b| b.contains(179.9, 0.0)));
        let polar = circle_boxes(89.9, 0.0, 50.0);
        assert_eq!(polar.len(), 1);
        assert_eq!((polar[0].min_lon, polar[0].max_lon, polar[0].max_lat), (-180.0, 180.0, 90.0));
        // Every point of the circle is inside its box.
        for bearing in 0..360 {
            let (lat, lon) = destination(60.0, 10.0, bearing as f64, 100.0);
            assert!(circle_boxes(60.0, 10.0, 100.0 + 1e-6).iter().any(|b| b.contains(lon, lat)), "{bearing}");
        }
    }

    /// The point at a distance and initial bearing, on the sphere.
    fn destination(lat: f64, lon: f64, bearing_degrees: f64, km: f64) -> (f64, f64) {
        let (phi, lambda, theta, delta) =
            (lat.to_radians(), lon.to_radians(), bearing_degrees.to_radians(), km / EARTH_RADIUS_KM);
        let phi2 = (phi.sin() * delta.cos() + phi.cos() * delta.sin() * theta.cos()).asin();
        let lambda2 = lambda + (theta.sin() * delta.sin() * phi.cos()).atan2(delta.cos() - phi.sin() * phi2.sin());
        (phi2.to_degrees(), lambda2.to_degrees())
    }
}
