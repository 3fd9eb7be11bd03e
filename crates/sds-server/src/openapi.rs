//! `GET /openapi.json`: the OpenAPI 3.1 description of the REST API,
//! written once (`openapi.json` beside this file) and compiled in.
//!
//! It cannot drift from the code: a test compares its operations with the
//! dispatcher's route table ([`crate::routes::table::Route::ALL`]) and the
//! operational routes ([`crate::server::OPS_ROUTES`]) both ways, and an
//! HTTP test validates the served document with `openapi-spec-validator`
//! (README, "OpenAPI").

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The path the document is served at.
pub const PATH: &str = "/openapi.json";

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

pub async fn document() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], DOCUMENT).into_response()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::*;
    use crate::routes::table::Route;

    fn operations(document: &Value) -> BTreeSet<(String, String)> {
        let mut found = BTreeSet::new();
        for (path, item) in document["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("a path item").keys() {
                if ["get", "put", "post", "delete", "options", "head", "patch", "trace"].contains(&method.as_str()) {
                    found.insert((method.to_ascii_uppercase(), path.clone()));
                }
            }
        }
        found
    }

    /// Every operation the server answers is documented, and every
    /// documented operation is answered.
    #[test]
    fn the_document_and_the_routes_agree() {
        let document: Value = serde_json::from_str(DOCUMENT).expect("the document is JSON");
        let documented = operations(&document);
        let mut routed: BTreeSet<(String, String)> =
            Route::ALL.iter().map(|route| (route.method().to_string(), route.template().to_owned())).collect();
        for path in crate::server::OPS_ROUTES.iter().chain([&PATH]) {
            routed.insert(("GET".to_owned(), (*path).to_owned()));
        }
        let undocumented: Vec<_> = routed.difference(&documented).collect();
        let unrouted: Vec<_> = documented.difference(&routed).collect();
        assert!(undocumented.is_empty(), "routes missing from openapi.json: {undocumented:?}");
        assert!(unrouted.is_empty(), "openapi.json operations no route answers: {unrouted:?}");
        assert_eq!(document["openapi"], "3.1.0");
        assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"), "the document's version is the crate's");
    }

    /// Each `{name}` of a path is a declared path parameter of each of its
    /// operations, and nothing else is.
    #[test]
    fn path_parameters_match_the_templates() {
        let document: Value = serde_json::from_str(DOCUMENT).unwrap();
        let resolve = |parameter: &Value| -> Value {
            match parameter["$ref"].as_str() {
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap();
                    document["components"]["parameters"][name].clone()
                }
                None => parameter.clone(),
            }
        };
        for (path, item) in document["paths"].as_object().unwrap() {
            let in_template: BTreeSet<&str> =
                path.split('{').skip(1).map(|rest| rest.split('}').next().unwrap()).collect();
            for (method, operation) in item.as_object().unwrap() {
                let declared: BTreeSet<String> = operation["parameters"]
                    .as_array()
                    .map(|parameters| parameters.iter().map(resolve).collect::<Vec<_>>())
                    .unwrap_or_default()
                    .iter()
                    .filter(|parameter| parameter["in"] == "path")
                    .map(|parameter| parameter["name"].as_str().unwrap().to_owned())
                    .collect();
                let declared: BTreeSet<&str> = declared.iter().map(String::as_str).collect();
                assert_eq!(declared, in_template, "{method} {path}");
            }
        }
    }
}
