//! `/ogc/api`: the OpenAPI 3.0 definition of this API (OGC 17-069r4 §7.3,
//! class oas30), with the server's own base URL.

use axum::response::Response;
use serde_json::{json, Value};

use super::collections::{visible_collections, visible_sources};
use super::items::{DEFAULT_LIMIT, MAX_LIMIT};
use super::{respond_json, Format, OgcRequest, OPENAPI};
use crate::state::AppState;

fn parameter(name: &str, location: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({ "name": name, "in": location, "description": description, "required": required, "schema": schema,
            "style": "form", "explode": false })
}

fn path_parameter(name: &str, description: &str) -> Value {
    json!({ "name": name, "in": "path", "description": description, "required": true, "schema": { "type": "string" } })
}

fn response(description: &str, media_types: &[&str]) -> Value {
    let mut content = serde_json::Map::new();
    for media_type in media_types {
        content.insert((*media_type).to_owned(), json!({ "schema": { "type": "object" } }));
    }
    json!({ "description": description, "content": content })
}

fn operation(id: &str, summary: &str, parameters: Vec<Value>, ok: Value) -> Value {
    json!({
        "operationId": id,
        "summary": summary,
        "parameters": parameters,
        "responses": {
            "200": ok,
            "400": { "$ref": "#/components/responses/Exception" },
            "401": { "$ref": "#/components/responses/Exception" },
            "404": { "$ref": "#/components/responses/Exception" },
        },
    })
}

/// The OpenAPI document as JSON.
pub fn definition(base: &str) -> Value {
    let f = parameter("f", "query", "the output format", json!({ "type": "string", "enum": ["json", "html"] }), false);
    let collection_id = path_parameter("collectionId", "`{accessId}.{dataSourceName}`");
    let version = [
        parameter("isStaging", "query", "1: the staged version", json!({ "type": "integer", "enum": [0, 1] }), false),
        parameter("jobId", "query", "the version a load job made", json!({ "type": "string" }), false),
    ];
    let json_types = ["application/json", "text/html"];
    let mut items_parameters = vec![
        collection_id.clone(),
        f.clone(),
        parameter(
            "limit",
            "query",
            "features per page",
            json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT }),
            false,
        ),
        parameter(
            "offset",
            "query",
            "features to skip (the next link sets it)",
            json!({ "type": "integer", "minimum": 0 }),
            false,
        ),
        parameter(
            "bbox",
            "query",
            "minx,miny,maxx,maxy in CRS84; minx > maxx crosses the antimeridian",
            json!({ "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } }),
            false,
        ),
        parameter(
            "datetime",
            "query",
            "an instant or interval on the first DateTime property",
            json!({ "type": "string" }),
            false,
        ),
        parameter("filter", "query", "a CQL2 text filter", json!({ "type": "string" }), false),
        // `cql-text` (the draft's name) is what GDAL's OAPIF driver looks for.
        parameter(
            "filter-lang",
            "query",
            "the filter language",
            json!({ "type": "string", "enum": ["cql2-text", "cql-text"], "default": "cql2-text" }),
            false,
        ),
        parameter(
            "filter-crs",
            "query",
            "the CRS of filter geometries",
            json!({ "type": "string", "enum": [super::CRS84] }),
            false,
        ),
    ];
    items_parameters.extend(version.iter().cloned());
    let mut collection_parameters = vec![collection_id.clone(), f.clone()];
    collection_parameters.extend(version.iter().cloned());
    let mut item_parameters = vec![collection_id.clone(), path_parameter("featureId", "the entity ID"), f.clone()];
    item_parameters.extend(version.iter().cloned());
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "sds: OGC API – Features",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The data sources of this Spatial Data Services server as OGC API – Features collections.",
        },
        "servers": [{ "url": base }],
        "security": [{ "apiKeyHeader": [] }, { "apiKeyQuery": [] }],
        "paths": {
            "/": { "get": operation("getLandingPage", "the landing page", vec![f.clone()], response("links", &json_types)) },
            "/conformance": { "get": operation("getConformance", "the conformance classes", vec![f.clone()], response("conformance classes", &json_types)) },
            "/api": { "get": operation("getApi", "this document", vec![f.clone()], response("the API definition", &[OPENAPI, "text/html"])) },
            "/collections": { "get": operation("getCollections", "the collections the key may query", vec![f.clone()], response("collections", &json_types)) },
            "/collections/{collectionId}": { "get": operation("describeCollection", "one collection", collection_parameters.clone(), response("a collection", &json_types)) },
            "/collections/{collectionId}/queryables": { "get": operation("getQueryables", "the properties a filter may name", collection_parameters, response("JSON Schema", &["application/schema+json", "text/html"])) },
            "/collections/{collectionId}/items": { "get": operation("getFeatures", "features", items_parameters, response("a FeatureCollection", &["application/geo+json", "text/html"])) },
            "/collections/{collectionId}/items/{featureId}": { "get": operation("getFeature", "one feature", item_parameters, response("a Feature", &["application/geo+json", "text/html"])) },
        },
        "components": {
            "securitySchemes": {
                "apiKeyHeader": { "type": "apiKey", "in": "header", "name": "X-Api-Key" },
                "apiKeyQuery": { "type": "apiKey", "in": "query", "name": "key" },
            },
            "responses": {
                "Exception": {
                    "description": "an error",
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "required": ["code"],
                        "properties": { "code": { "type": "string" }, "description": { "type": "string" } },
                    } } },
                },
            },
        },
    })
}

/// The items operation of one collection, with a query parameter per
/// property (its equality filter, OGC 17-069r4 §7.15.5), so clients that
/// read the definition (GDAL) know which filters the server applies.
fn collection_items(generic: &Value, id: &str, schema: &sds_core::Schema) -> Value {
    let mut operation = generic.clone();
    operation["get"]["operationId"] = Value::String(format!("getFeatures.{id}"));
    let Some(parameters) = operation["get"]["parameters"].as_array_mut() else { return operation };
    parameters.retain(|parameter| parameter["in"] != "path");
    for (index, property) in schema.properties.iter().enumerate() {
        let is_coordinate = Some(index) == schema.latitude_index() || Some(index) == schema.longitude_index();
        let kind = match property.edm_type {
            sds_core::EdmType::String | sds_core::EdmType::DateTime => "string",
            sds_core::EdmType::Int64 => "integer",
            sds_core::EdmType::Double => "number",
            sds_core::EdmType::Boolean => "boolean",
            sds_core::EdmType::Geography => continue,
        };
        if !is_coordinate {
            parameters.push(parameter(
                &property.name,
                "query",
                "features whose property equals this value",
                json!({ "type": kind }),
                false,
            ));
        }
    }
    operation
}

/// `/api`; with a valid key, also each collection's own items path.
pub async fn document(state: &AppState, request: &OgcRequest<'_>) -> Response {
    let mut definition = definition(&request.base);
    if let Ok(key) = request.authenticate(state).await {
        let sources = visible_sources(state, &key).await.unwrap_or_default();
        let collections = visible_collections(state, request, &key, &sources).await.unwrap_or_default();
        let generic = definition["paths"]["/collections/{collectionId}/items"].clone();
        for collection in collections {
            let path = format!("/collections/{}/items", collection.id);
            definition["paths"][path] = collection_items(&generic, &collection.id, collection.table.schema());
        }
    }
    match request.format {
        Format::Json => respond_json(&definition, OPENAPI),
        Format::Html => {
            let body = format!(
                "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>API</title></head><body>\
                 <h1>OGC API – Features: API definition</h1><p><a href=\"{0}/api?f=json\">OpenAPI 3.0 (JSON)</a></p>\
                 <pre>{1}</pre></body></html>\n",
                super::html::escape(&request.base),
                super::html::escape(&serde_json::to_string_pretty(&definition).unwrap_or_default())
            );
            super::html::respond_html(body)
        }
    }
}
