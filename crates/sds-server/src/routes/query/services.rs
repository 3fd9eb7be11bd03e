//! Geocoding (`nearby('address',km)`) and routing (`nearRoute`) behind
//! small traits, with HTTP implementations for a Nominatim-style geocoder
//! (`GET {url}?q=…&format=json&limit=1` → `[{"lat":"…","lon":"…"}]`) and an
//! OSRM-style router (`GET {url}/{lon},{lat};{lon},{lat}?overview=full&geometries=geojson`
//! → `routes[0].geometry.coordinates`). Unconfigured, both answer a 400
//! that says which `serve` flag enables them.

use std::sync::Arc;
use std::time::Duration;

use sds_query::RouteEnd;

use crate::error::ApiError;
use crate::routes::RequestContext;
use crate::state::AppState;

/// Turns an address into (latitude, longitude).
pub trait Geocoder: Send + Sync {
    fn geocode(&self, address: &str) -> Result<Option<(f64, f64)>, String>;
}

/// Turns two points into a route polyline of (latitude, longitude).
pub trait Router: Send + Sync {
    fn route(&self, start: (f64, f64), end: (f64, f64), options: &RouteOptions) -> Result<Vec<(f64, f64)>, String>;
}

/// The route parameters SDS accepts; passed to the router where it has an equivalent.
#[derive(Clone, Debug, Default)]
pub struct RouteOptions {
    pub travel_mode: Option<String>,
    pub avoid: Option<String>,
    pub optimize: Option<String>,
}

/// A Nominatim-style geocoder at `url` (e.g. `http://localhost:8088/search`).
pub struct HttpGeocoder {
    pub url: String,
}

/// An OSRM-style router at `url` (e.g. `http://localhost:5000/route/v1/driving`).
pub struct HttpRouter {
    pub url: String,
}

/// One blocking client for every call: building one sets up a connection
/// pool and a runtime thread, far more than a request costs. It lives for
/// the process, so it is never dropped inside the async runtime (which
/// reqwest's blocking client forbids).
fn client() -> Result<&'static reqwest::blocking::Client, String> {
    static CLIENT: std::sync::OnceLock<reqwest::blocking::Client> = std::sync::OnceLock::new();
    if let Some(client) = CLIENT.get() {
        return Ok(client);
    }
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|error| error.to_string())?;
    Ok(CLIENT.get_or_init(|| client))
}

impl Geocoder for HttpGeocoder {
    fn geocode(&self, address: &str) -> Result<Option<(f64, f64)>, String> {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs([("q", address), ("format", "json"), ("limit", "1")])
            .finish();
        let separator = if self.url.contains('?') { '&' } else { '?' };
        let response = client()?
            .get(format!("{}{separator}{query}", self.url))
            .header("user-agent", "sds")
            .send()
            .map_err(|error| error.to_string())?;
        let body: serde_json::Value = serde_json::from_str(&response.text().map_err(|error| error.to_string())?)
            .map_err(|error| error.to_string())?;
        let Some(first) = body.as_array().and_then(|places| places.first()) else {
            return Ok(None);
        };
        let number =
            |value: &serde_json::Value| value.as_str().and_then(|text| text.parse::<f64>().ok()).or(value.as_f64());
        match (number(&first["lat"]), number(&first["lon"])) {
            (Some(latitude), Some(longitude)) => Ok(Some((latitude, longitude))),
            _ => Err("the geocoder's answer has no lat/lon".into()),
        }
    }
}

impl Router for HttpRouter {
    fn route(&self, start: (f64, f64), end: (f64, f64), options: &RouteOptions) -> Result<Vec<(f64, f64)>, String> {
        let url = format!("{}/{},{};{},{}", self.url.trim_end_matches('/'), start.1, start.0, end.1, end.0);
        let mut query = vec![("overview", "full".to_owned()), ("geometries", "geojson".to_owned())];
        if let Some(avoid) = &options.avoid {
            let excluded: Vec<&str> = avoid
                .split(',')
                .filter_map(|item| match item.trim().to_ascii_lowercase().as_str() {
                    "highways" => Some("motorway"),
                    "tolls" => Some("toll"),
                    _ => None,
                })
                .collect();
            if !excluded.is_empty() {
                query.push(("exclude", excluded.join(",")));
            }
        }
        let query = form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish();
        let response = client()?.get(format!("{url}?{query}")).send().map_err(|error| error.to_string())?;
        let body: serde_json::Value = serde_json::from_str(&response.text().map_err(|error| error.to_string())?)
            .map_err(|error| error.to_string())?;
        let coordinates = body["routes"][0]["geometry"]["coordinates"]
            .as_array()
            .ok_or_else(|| format!("the router found no route ({})", body["code"].as_str().unwrap_or("no code")))?;
        Ok(coordinates.iter().filter_map(|pair| Some((pair[1].as_f64()?, pair[0].as_f64()?))).collect())
    }
}

/// The configured geocoder, if any.
pub fn geocoder(state: &AppState) -> Option<Arc<dyn Geocoder>> {
    let url = state.config.geocoder_url.clone()?;
    Some(Arc::new(HttpGeocoder { url }))
}

/// The configured router, if any.
pub fn router(state: &AppState) -> Option<Arc<dyn Router>> {
    let url = state.config.router_url.clone()?;
    Some(Arc::new(HttpRouter { url }))
}

/// Geocodes with the configured geocoder.
pub async fn geocode(state: &AppState, address: &str) -> Result<(f64, f64), ApiError> {
    geocode_with(geocoder(state), address).await
}

/// Geocodes on the blocking pool (the implementations do blocking I/O).
pub async fn geocode_with(geocoder: Option<Arc<dyn Geocoder>>, address: &str) -> Result<(f64, f64), ApiError> {
    let Some(geocoder) = geocoder else {
        return Err(ApiError::bad_request(
            "spatialFilter: nearby with an address needs a geocoder, and none is configured (start the server with --geocoder-url); use nearby(latitude,longitude,km)",
        ));
    };
    let address_owned = address.to_owned();
    let found = tokio::task::spawn_blocking(move || geocoder.geocode(&address_owned))
        .await?
        .map_err(|error| ApiError::bad_request(format!("spatialFilter: the geocoder failed: {error}")))?;
    found.ok_or_else(|| ApiError::bad_request(format!("spatialFilter: the address '{address}' was not found")))
}

/// Routes between two ends (geocoding addresses) with the configured router.
pub async fn route(
    state: &AppState,
    context: &RequestContext,
    start: &RouteEnd,
    end: &RouteEnd,
) -> Result<Vec<(f64, f64)>, ApiError> {
    let params = &context.params;
    let options = RouteOptions {
        travel_mode: params.get("travelmode").map(str::to_owned),
        avoid: params.get("avoid").map(str::to_owned),
        optimize: params.get_any(&["optimize", "optmz"]).map(str::to_owned),
    };
    route_with(geocoder(state), router(state), [start, end], options).await
}

/// Routes on the blocking pool, geocoding address ends first.
pub async fn route_with(
    geocoder: Option<Arc<dyn Geocoder>>,
    router: Option<Arc<dyn Router>>,
    ends: [&RouteEnd; 2],
    options: RouteOptions,
) -> Result<Vec<(f64, f64)>, ApiError> {
    let Some(router) = router else {
        return Err(ApiError::bad_request(
            "spatialFilter: nearRoute needs a router, and none is configured (start the server with --router-url)",
        ));
    };
    let mut points = Vec::new();
    for end in ends {
        points.push(match end {
            RouteEnd::Coordinates { latitude, longitude } => (*latitude, *longitude),
            RouteEnd::Address(address) => geocode_with(geocoder.clone(), address).await?,
        });
    }
    let (from, to) = (points[0], points[1]);
    let line = tokio::task::spawn_blocking(move || router.route(from, to, &options))
        .await?
        .map_err(|error| ApiError::bad_request(format!("spatialFilter: the router failed: {error}")))?;
    if line.is_empty() {
        return Err(ApiError::bad_request("spatialFilter: the router returned an empty route"));
    }
    Ok(line)
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
