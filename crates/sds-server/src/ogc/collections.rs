//! Collections (OGC 17-069r4 §7.13–7.14): one per data source the key may
//! query (its own, its account's, and public ones), named
//! `{accessId}.{dataSourceName}`; and their queryables (OGC 19-079r2 §6.2,
//! a JSON Schema).
//!
//! A collection's version is the published one, unless `isStaging=1` (the
//! staged version) or `jobId=…` (the version that job made, while the
//! store keeps it) asks for another; those take the master or query key,
//! as staged queries do in the SDS Query API.

use std::sync::Arc;

use axum::response::Response;
use sds_core::{DataSource, EdmType, JobId, Schema, VersionState};
use sds_query::Table;
use sds_store::KeyRecord;
use serde_json::{json, Map, Value};

use super::{html, link, respond_json, self_links, Format, OgcRequest, CRS84, GEOJSON, HTML, JSON};
use crate::error::ApiError;
use crate::query_cache::TableKey;
use crate::routes::query::{check_rights, data_source, table, version_table};
use crate::state::AppState;

/// A collection resolved for a request: its data source and the table of
/// the version asked for.
pub struct Collection {
    pub id: String,
    pub source: DataSource,
    pub table_key: TableKey,
    pub table: Arc<Table>,
}

/// The collection id of a data source.
pub fn collection_id(source: &DataSource) -> String {
    format!("{}.{}", source.access_id, source.name)
}

/// Resolves `{accessId}.{name}` for the key: key first, then the data
/// source, then its rights, and only then its versions and table.
pub async fn resolve(state: &AppState, request: &OgcRequest<'_>, id: &str) -> Result<Collection, ApiError> {
    let key = request.authenticate(state).await?;
    resolve_for(state, request, &key, id).await
}

async fn resolve_for(
    state: &AppState,
    request: &OgcRequest<'_>,
    key: &KeyRecord,
    id: &str,
) -> Result<Collection, ApiError> {
    let (access_id, name) =
        id.split_once('.').ok_or_else(|| ApiError::not_found(format!("no collection '{id}' exists")))?;
    let source = data_source(state, access_id, name).await?;
    let staging = request.params.flag("isstaging", "isStaging")?.unwrap_or(false);
    let job = request.params.get("jobid").filter(|job| !job.is_empty());
    if staging && job.is_some() {
        return Err(ApiError::bad_request("give isStaging or jobId, not both"));
    }
    let (table_key, table) = match job {
        None => {
            check_rights(key, &source, staging)?;
            table(state, &source, staging).await?
        }
        Some(job) => {
            let not_found =
                || ApiError::not_found(format!("data source '{}' has no version made by job '{job}'", source.name));
            let job: JobId = job.parse().map_err(|_| not_found())?;
            // Any querying right first; an unpublished version then needs
            // the rights a staged version does.
            check_rights(key, &source, false)?;
            let published = source.published_version;
            let access = source.access_id.clone();
            let version = state
                .store_call(move |store| store.version_by_job(&access, &job))
                .await?
                .filter(|version| version.data_source_id == Some(source.id) && version.state != VersionState::Building)
                .ok_or_else(not_found)?;
            let aside = Some(version.id) != published;
            if aside {
                check_rights(key, &source, true)?;
            }
            version_table(state, &source, version.id, aside).await?
        }
    };
    Ok(Collection { id: collection_id(&source), source, table_key, table })
}

/// `/collections`: the key's account's data sources it may query, then
/// the public ones of other accounts; each with a published version.
pub async fn list(state: &AppState, request: &OgcRequest<'_>) -> Result<Response, ApiError> {
    let key = request.authenticate(state).await?;
    let sources = visible_sources(state, &key).await?;
    let mut collections = Vec::new();
    for collection in visible_collections(state, request, &key, &sources).await? {
        collections.push(describe(request, &collection));
    }
    let body = json!({ "collections": collections, "links": self_links(request, "/collections", JSON) });
    Ok(match request.format {
        Format::Json => respond_json(&body, JSON),
        Format::Html => html::collections(&body),
    })
}

/// The data sources a key may query: its account's that it has rights
/// on, then the public ones of other accounts.
pub async fn visible_sources(state: &AppState, key: &KeyRecord) -> Result<Vec<DataSource>, ApiError> {
    let account = key.account_id;
    let (own, public) =
        state.store_call(move |store| Ok((store.data_sources_of(account)?, store.public_data_sources()?))).await?;
    let mut sources: Vec<DataSource> =
        own.into_iter().filter(|source| check_rights(key, source, false).is_ok()).collect();
    for source in public {
        if !sources.iter().any(|known| known.id == source.id) {
            sources.push(source);
        }
    }
    Ok(sources)
}

/// The collections of those data sources that have a published version.
pub async fn visible_collections(
    state: &AppState,
    request: &OgcRequest<'_>,
    key: &KeyRecord,
    sources: &[DataSource],
) -> Result<Vec<Collection>, ApiError> {
    let mut collections = Vec::new();
    for source in sources.iter().filter(|source| source.published_version.is_some()) {
        collections.push(resolve_for(state, request, key, &collection_id(source)).await?);
    }
    Ok(collections)
}

pub async fn one(state: &AppState, request: &OgcRequest<'_>, id: &str) -> Result<Response, ApiError> {
    let collection = resolve(state, request, id).await?;
    let body = describe(request, &collection);
    Ok(match request.format {
        Format::Json => respond_json(&body, JSON),
        Format::Html => html::collection(&body),
    })
}

/// The version parameters a collection's links keep (never the key).
pub fn version_query(request: &OgcRequest<'_>) -> String {
    let mut query = String::new();
    for (name, display) in [("isstaging", "isStaging"), ("jobid", "jobId")] {
        if let Some(value) = request.params.get(name).filter(|value| !value.is_empty()) {
            query.push('&');
            query.push_str(display);
            query.push('=');
            query.extend(form_urlencoded::byte_serialize(value.as_bytes()));
        }
    }
    query
}

/// The collection object (OGC 17-069r4 §7.14, `collection.yaml`).
fn describe(request: &OgcRequest<'_>, collection: &Collection) -> Value {
    let path = format!("/collections/{}", encode_segment(&collection.id));
    let version = version_query(request);
    let base = &request.base;
    let mut links = self_links(request, &path, JSON);
    for link_value in &mut links {
        if let Some(href) = link_value["href"].as_str() {
            link_value["href"] = Value::String(format!("{href}{version}"));
        }
    }
    links.extend([
        link(format!("{base}{path}/items?f=json{version}"), "items", GEOJSON, "the features"),
        link(format!("{base}{path}/items?f=html{version}"), "items", HTML, "the features as HTML"),
        link(
            format!("{base}{path}/queryables?f=json{version}"),
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            "application/schema+json",
            "the properties a filter may name",
        ),
    ]);
    let mut extent = Map::new();
    if let Some(bounds) = collection.table.extent() {
        extent.insert(
            "spatial".into(),
            json!({ "bbox": [[bounds.min_lon, bounds.min_lat, bounds.max_lon, bounds.max_lat]], "crs": CRS84 }),
        );
    }
    if let Some((start, end)) = temporal_extent(&collection.table) {
        extent.insert(
            "temporal".into(),
            json!({ "interval": [[start, end]], "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian" }),
        );
    }
    json!({
        "id": collection.id,
        "title": collection.source.name,
        "description": collection.source.description.clone().unwrap_or_else(|| format!(
            "data source '{}' ({} entities of type {})",
            collection.source.name,
            collection.table.len(),
            collection.table.schema().entity_type_name
        )),
        "itemType": "feature",
        "crs": [CRS84],
        "storageCrs": CRS84,
        "extent": extent,
        "links": links,
    })
}

/// The DateTime property that `datetime` filters on: the first declared.
pub fn temporal_property(schema: &Schema) -> Option<usize> {
    schema.properties.iter().position(|property| property.edm_type == EdmType::DateTime)
}

/// The earliest and latest value of the temporal property, if any is set.
fn temporal_extent(table: &Table) -> Option<(String, String)> {
    let column = temporal_property(table.schema())?;
    let mut range: Option<(sds_core::Timestamp, sds_core::Timestamp)> = None;
    for row in 0..table.len() as u32 {
        if let sds_query::Cell::DateTime(value) = table.cell(column, row) {
            range = Some(match range {
                None => (value, value),
                Some((low, high)) => (low.min(value), high.max(value)),
            });
        }
    }
    range.map(|(low, high)| (low.to_iso8601(), high.to_iso8601()))
}

/// `/collections/{id}/queryables`: the properties a filter may name, as
/// JSON Schema (2020-12), with `geometry` for the location.
pub async fn queryables(state: &AppState, request: &OgcRequest<'_>, id: &str) -> Result<Response, ApiError> {
    let collection = resolve(state, request, id).await?;
    let schema = collection.table.schema();
    let mut properties = Map::new();
    properties.insert(
        sds_query::fields::SPATIAL_NAME.into(),
        json!({ "title": "the entity's geography, or its point", "format": "geometry-any",
                "x-ogc-role": "primary-geometry" }),
    );
    for (index, property) in schema.properties.iter().enumerate() {
        let is_coordinate = Some(index) == schema.latitude_index() || Some(index) == schema.longitude_index();
        if is_coordinate || property.edm_type == EdmType::Geography {
            continue;
        }
        let mut entry = match property.edm_type {
            EdmType::String => json!({ "type": "string" }),
            EdmType::Int64 => json!({ "type": "integer" }),
            EdmType::Double => json!({ "type": "number" }),
            EdmType::Boolean => json!({ "type": "boolean" }),
            EdmType::DateTime => json!({ "type": "string", "format": "date-time" }),
            EdmType::Geography => Value::Null,
        };
        entry["title"] = Value::String(property.name.clone());
        if index == schema.key_index {
            entry["x-ogc-role"] = Value::String("id".into());
        }
        properties.insert(property.name.clone(), entry);
    }
    let path = format!("/collections/{}/queryables", encode_segment(&collection.id));
    let body = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}{path}", request.base),
        "type": "object",
        "title": collection.source.name,
        "properties": properties,
        "additionalProperties": false,
    });
    Ok(match request.format {
        Format::Json => respond_json(&body, "application/schema+json"),
        Format::Html => html::queryables(&collection.id, &body),
    })
}

/// A path segment, percent-encoded (names may hold spaces and `#`).
pub fn encode_segment(segment: &str) -> String {
    let mut out = String::new();
    crate::wire::uri::push_segment(&mut out, segment);
    out
}
