//! The landing page (OGC 17-069r4 §7.2) and the conformance declaration
//! (§7.4). Neither needs a key: they describe the API, not the data.

use axum::response::Response;
use serde_json::json;

use super::{html, link, respond_json, self_links, Format, OgcRequest, HTML, JSON, OPENAPI};
use crate::error::ApiError;

/// The conformance classes this API claims (see README "OGC API – Features").
pub const CONFORMANCE: [&str; 11] = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
];

pub async fn landing(request: &OgcRequest<'_>) -> Result<Response, ApiError> {
    let base = &request.base;
    let mut links = self_links(request, "", JSON);
    links.extend([
        link(format!("{base}/api"), "service-desc", OPENAPI, "the API definition (OpenAPI 3.0)"),
        link(format!("{base}/api?f=html"), "service-doc", HTML, "the API definition"),
        link(format!("{base}/conformance"), "conformance", JSON, "conformance classes"),
        link(format!("{base}/collections"), "data", JSON, "the data sources this key may query"),
    ]);
    let body = json!({
        "title": "sds: OGC API – Features",
        "description": "The data sources of this Spatial Data Services server as OGC API – Features collections. \
                        Send a key as the X-Api-Key header or the key parameter.",
        "links": links,
    });
    Ok(match request.format {
        Format::Json => respond_json(&body, JSON),
        Format::Html => html::landing(&body),
    })
}

pub async fn conformance(request: &OgcRequest<'_>) -> Result<Response, ApiError> {
    let body = json!({ "conformsTo": CONFORMANCE, "links": self_links(request, "/conformance", JSON) });
    Ok(match request.format {
        Format::Json => respond_json(&body, JSON),
        Format::Html => html::conformance(&CONFORMANCE),
    })
}
