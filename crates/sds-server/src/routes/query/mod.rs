//! The Query API (SPEC #18–#21): `data/{accessId}/{dsName}/{entityType}`
//! with a spatial filter and OData options, and `…/{entityType}('{id}')`.
//!
//! A request is authenticated (keys cached, see `query_cache`), its data
//! source looked up, the version's in-memory table fetched from the cache
//! (built on first use), the options compiled once against the schema,
//! an address or route resolved if needed, the query run, and one page
//! rendered as Atom (the default) or JSON/JSONP.

mod format;
pub mod services;

use std::sync::Arc;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sds_core::{AccessId, DataSource, VersionState};
use sds_query::{Hit, Query, QueryLimits, QueryOptions, SpatialFilter, Table, TableBuilder};
use sds_store::KeyRecord;

use super::params::Params;
use super::RequestContext;
use crate::error::{ApiError, ErrorKind};
use crate::keys::{hash_key, hashes_equal};
use crate::query_cache::TableKey;
use crate::state::AppState;
use crate::wire::odata::EntityPage;
use crate::wire::{atom, odata, uri, OutputFormat};
use format::{QueryFormat, Rendering};

/// `GET|HEAD data/{accessId}/{dsName}/{entitySegment}`; the segment is the
/// entity type, optionally with a key predicate `('id')`.
pub async fn query(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
    entity_segment: &str,
) -> Result<Response, ApiError> {
    let rendering = Rendering::from_params(&context.params);
    let mut response = match rendering {
        Ok(rendering) => match answer(state, context, access_id, name, entity_segment, &rendering).await {
            Ok(response) => response,
            // Atom queries get XML errors; JSON queries the JSON envelope.
            Err(error) => error_response(context, &error, rendering.format),
        },
        Err(error) => error_response(context, &error, QueryFormat::Json),
    };
    response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

fn error_response(context: &RequestContext, error: &ApiError, format: QueryFormat) -> Response {
    let mut envelope = context.envelope.clone();
    if format == QueryFormat::Atom {
        envelope.format = OutputFormat::Xml;
    }
    envelope.error(error)
}

async fn answer(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
    entity_segment: &str,
    rendering: &Rendering,
) -> Result<Response, ApiError> {
    let key = authenticate(state, context).await?;
    check_option_names(&context.params)?;
    let (entity_type, entity_id) = split_key_predicate(entity_segment)?;
    let source = data_source(state, access_id, name).await?;
    let staging = context
        .params
        .flag("isstaging", "isStaging")?
        .or(context.params.flag("isstaged", "isStaged")?)
        .unwrap_or(false);
    // Rights first: a key without them learns nothing of the data source's
    // versions or entity type, and builds no table.
    check_rights(&key, &source, staging)?;
    let (table_key, table) = table(state, &source, staging).await?;
    let schema = table.schema();
    if !schema.entity_type_name.eq_ignore_ascii_case(&entity_type) {
        return Err(ApiError::not_found(format!(
            "data source '{}' has no entity type '{entity_type}'; its entity type is '{}'",
            source.name, schema.entity_type_name
        )));
    }
    let mut entity_base = format!("{}/data/{}/", context.root, source.access_id);
    uri::push_segment(&mut entity_base, &source.name);
    entity_base.push('/');
    uri::push_segment(&mut entity_base, &schema.entity_type_name);
    let copyright = &state.config.copyright;
    let params = &context.params;
    let limits = QueryLimits { max_shape_points: state.config.query_max_shape_points, ..QueryLimits::default() };

    if let Some(id) = entity_id {
        let options = QueryOptions { select: params.get("$select"), ..QueryOptions::default() };
        let query = Query::compile(schema, &options, &limits).map_err(bad_request)?;
        let row = table
            .find(&id)
            .ok_or_else(|| ApiError::not_found(format!("data source '{}' has no entity '{id}'", source.name)))?;
        let hits = [Hit { row, distance: f64::NAN }];
        let page = EntityPage {
            table: &table,
            fields: &query.select,
            hits: &hits,
            total: None,
            entity_base: &entity_base,
            copyright,
            intersection: query.intersection.as_ref(),
        };
        let body = match rendering.format {
            QueryFormat::Json => odata::single(&page),
            QueryFormat::Atom => atom::single(&page, &format::updated_now()),
        };
        return Ok(rendering.respond(body));
    }

    let options = QueryOptions {
        spatial_filter: params.get("spatialfilter").or_else(|| bare_spatial_filter(params)),
        filter: params.get("$filter"),
        select: params.get("$select"),
        orderby: params.get("$orderby"),
        top: params.get("$top"),
        skip: params.get("$skip"),
        inline_count: params.get("$inlinecount"),
    };
    let mut query = Query::compile(schema, &options, &limits).map_err(bad_request)?;
    resolve_places(state, context, &mut query).await?;
    let bytes_before = table.heap_bytes();
    let result = query.execute(&table).map_err(bad_request);
    // A string index built by this query makes the table bigger.
    let bytes_after = table.heap_bytes();
    if bytes_after != bytes_before {
        state.query_cache.measured(table_key, bytes_after);
    }
    let result = result?;
    let page = EntityPage {
        table: &table,
        fields: &query.select,
        hits: &result.hits,
        total: result.total,
        entity_base: &entity_base,
        copyright,
        intersection: query.intersection.as_ref(),
    };
    let body = match rendering.format {
        QueryFormat::Json => odata::feed(&page),
        QueryFormat::Atom => atom::feed(&page, &format::feed_id(&context.envelope.trace_id), &format::updated_now()),
    };
    Ok(rendering.respond(body))
}

/// A spatial filter sent as a bare token, without `spatialFilter=` (the
/// docs' by-property template writes `?bbox(…)&…`, SPEC §9 #15).
fn bare_spatial_filter(params: &Params) -> Option<&str> {
    params.bare_names().find(|name| {
        let name = name.trim_start();
        ["nearby(", "bbox(", "intersects(", "nearroute("].iter().any(|prefix| {
            name.len() >= prefix.len() && name.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
        })
    })
}

/// The Query API's OData options (docs page "Query Options").
const OPTIONS: [&str; 7] = ["$filter", "$select", "$orderby", "$top", "$skip", "$inlinecount", "$format"];

/// Refuses an option name that is surely a typo, which would otherwise be
/// ignored and answer with unfiltered results (found by a new user's
/// tryout: `$fliter=`, `spatialFiter=`, `filter=`): a `$` option the Query
/// API does not have (OData services refuse those), an OData option
/// without its `$`, and a name one or two letters off `spatialFilter`.
/// Any other unknown name is still ignored, as SDS ignores them (clients
/// send cache-busters and the REST services' `c`, `ur`, `uc`).
fn check_option_names(params: &Params) -> Result<(), ApiError> {
    for (name, _) in params.pairs() {
        let meant = if name.starts_with('$') {
            if OPTIONS.contains(&name) {
                continue;
            }
            OPTIONS.iter().min_by_key(|option| strsim::levenshtein(name, option)).copied()
        } else if let Some(option) = OPTIONS.iter().find(|option| option[1..] == *name && name != "format") {
            Some(*option)
        } else if name != "spatialfilter" && strsim::levenshtein(name, "spatialfilter") <= 2 {
            Some("spatialFilter")
        } else {
            continue;
        };
        let hint = meant.map(|option| format!(" (did you mean '{option}'?)")).unwrap_or_default();
        return Err(ApiError::bad_request(format!(
            "the query option '{name}' is not one the Query API has{hint}; its options are spatialFilter, {}",
            OPTIONS.join(", ")
        )));
    }
    Ok(())
}

fn bad_request(error: sds_query::QueryError) -> ApiError {
    ApiError::bad_request(error.to_string())
}

/// The `key` parameter's key (see [`authenticate_key`]).
async fn authenticate(state: &AppState, context: &RequestContext) -> Result<KeyRecord, ApiError> {
    authenticate_key(state, context.params.get("key")).await
}

/// Resolves a key's text (the SDS `key` parameter, or OGC API – Features'
/// `key`/`X-Api-Key`); resolved keys are cached (see `query_cache`).
/// No key is 401 `NoCredentials`, an unknown one `InvalidCredentials`.
pub(crate) async fn authenticate_key(state: &AppState, key: Option<&str>) -> Result<KeyRecord, ApiError> {
    let Some(key) = key.filter(|key| !key.is_empty()) else {
        return Err(ApiError::new(ErrorKind::NoCredentials, "the 'key' parameter is required"));
    };
    let hash = hash_key(key);
    if let Some(record) = state.query_cache.key(&hash) {
        if hashes_equal(&record.hash, &hash) {
            return Ok(record);
        }
    }
    let record = crate::auth::lookup_key(state, key)
        .await?
        .ok_or_else(|| ApiError::new(ErrorKind::InvalidCredentials, "the key is not valid"))?;
    state.query_cache.remember_key(record.clone());
    Ok(record)
}

/// The master key, the query key, any key of the account when no query
/// key was set, or any valid key for a public data source; "public" opens
/// only the published version, so the staged one takes one of the others.
pub(crate) fn check_rights(key: &KeyRecord, source: &DataSource, staging: bool) -> Result<(), ApiError> {
    let allowed = (source.is_public && !staging)
        || key.id == source.master_key
        || Some(key.id) == source.query_key
        || (source.query_key.is_none() && key.account_id == source.account_id);
    if allowed {
        Ok(())
    } else {
        let version = if staging && source.is_public { "the staged version of public " } else { "" };
        Err(ApiError::not_authorized(format!(
            "the key is neither the master key nor the query key of {version}data source '{}'",
            source.name
        )))
    }
}

/// Looks the data source up by access id and name: from the cache while no
/// job has ended or committed a change since it was read (and none is
/// committing one), on the request's thread; else from the store, on the
/// blocking pool like every store call (a PostgreSQL store's client blocks
/// on its own runtime, which a shard's thread may not enter).
pub(crate) async fn data_source(state: &AppState, access_id: &str, name: &str) -> Result<DataSource, ApiError> {
    let not_found = || ApiError::not_found(format!("no data source '{name}' with accessId '{access_id}' exists"));
    let access_id: AccessId = access_id.parse().map_err(|_| not_found())?;
    let generation = state.engine.generation();
    let cached = generation.and_then(|generation| state.query_cache.data_source(&access_id, generation));
    let source = match cached {
        Some(source) => Some(source),
        None => {
            let read = state.store_call(move |store| store.data_source_by_access_id(&access_id)).await?;
            if let (Some(source), Some(generation)) = (&read, generation) {
                state.query_cache.remember_data_source(source.clone(), generation);
            }
            read
        }
    };
    source.filter(|source| source.name.eq_ignore_ascii_case(name)).ok_or_else(not_found)
}

/// The table of the published (or staged) version, from the cache or built
/// from the store on the blocking pool (once, however many queries wait).
pub(crate) async fn table(
    state: &AppState,
    source: &DataSource,
    staging: bool,
) -> Result<(TableKey, Arc<Table>), ApiError> {
    let version = if staging {
        let id = source.id;
        let versions = state.store_call(move |store| store.versions_of(id)).await?;
        versions
            .into_iter()
            .find(|version| version.state == VersionState::Staged)
            .map(|version| version.id)
            .ok_or_else(|| ApiError::not_found(format!("data source '{}' has no staged version", source.name)))?
    } else {
        source
            .published_version
            .ok_or_else(|| ApiError::not_found(format!("data source '{}' has no published version", source.name)))?
    };
    version_table(state, source, version, staging).await
}

/// The table of one version of a data source (checked against the store
/// when built), from the cache or built once; `aside` says it is not the
/// published version (it does not replace that one in the cache).
pub(crate) async fn version_table(
    state: &AppState,
    source: &DataSource,
    version: sds_core::VersionId,
    aside: bool,
) -> Result<(TableKey, Arc<Table>), ApiError> {
    let key = TableKey { data_source: source.id, version };
    let cell = state.query_cache.table_cell(key, aside);
    let store = Arc::clone(&state.store);
    let cache = Arc::clone(&state.query_cache);
    let built = cell
        .get_or_try_init(|| async move {
            let read_cache = Arc::clone(&cache);
            let read_store = Arc::clone(&store);
            let (table, from_store) = tokio::task::spawn_blocking(move || -> Result<(Table, bool), ApiError> {
                // Only a version of this very data source: the data source
                // read may be seconds old.
                let stored = read_store
                    .version(version)?
                    .filter(|stored| stored.data_source_id == Some(key.data_source))
                    .ok_or_else(|| ApiError::not_found("the version was dropped; query again"))?;
                let snapshots = read_cache.snapshots();
                if let Some(table) =
                    snapshots.and_then(|snapshots| snapshots.load(key, &stored.schema, stored.entity_count))
                {
                    return Ok((table, false));
                }
                let mut builder = TableBuilder::new(stored.schema, stored.entity_count as usize);
                read_store.for_each_entity(version, &mut |entity| {
                    builder.push(entity);
                    Ok(())
                })?;
                let table = builder.finish();
                // The snapshot is read back with the stored count: a table
                // that disagrees would be refused every time.
                let worth_a_snapshot = table_matches(stored.entity_count, &table);
                Ok((table, worth_a_snapshot))
            })
            .await??;
            // Measured before it is shared: the budget evicts others now.
            cache.measured(key, table.heap_bytes());
            let table = Arc::new(table);
            if from_store && cache.snapshots().is_some() {
                let written = Arc::clone(&table);
                // In the background: the query need not wait for the disk.
                tokio::task::spawn_blocking(move || {
                    if let Some(snapshots) = cache.snapshots() {
                        snapshots.save(key, &written, store.as_ref());
                    }
                });
            }
            Ok::<_, ApiError>(table)
        })
        .await;
    match built {
        Ok(table) => Ok((key, Arc::clone(table))),
        Err(error) => {
            state.query_cache.forget(key);
            Err(error)
        }
    }
}

/// Whether a table built from the store holds the entity count the store
/// records for its version (a snapshot is only worth writing then).
fn table_matches(entity_count: u64, table: &Table) -> bool {
    let matches = table.len() as u64 == entity_count;
    if !matches {
        tracing::warn!(
            entity_count,
            rows = table.len(),
            "a version's entity count disagrees with its rows; no snapshot"
        );
    }
    matches
}

/// `Type('id')`, `Type(id)` or `Type`; `''` in a quoted id is a quote.
fn split_key_predicate(segment: &str) -> Result<(String, Option<String>), ApiError> {
    let Some(open) = segment.find('(') else {
        return Ok((segment.to_owned(), None));
    };
    let inner = segment[open + 1..]
        .strip_suffix(')')
        .ok_or_else(|| ApiError::bad_request(format!("the entity key in '{segment}' is missing its closing ')'")))?
        .trim();
    let id = match inner.strip_prefix('\'').and_then(|rest| rest.strip_suffix('\'')) {
        Some(quoted) => quoted.replace("''", "'"),
        None => inner.to_owned(),
    };
    if id.is_empty() {
        return Err(ApiError::bad_request("the entity key is empty"));
    }
    Ok((segment[..open].to_owned(), Some(id)))
}

/// Turns `nearby('address',km)` and `nearRoute(…)` into coordinates with
/// the configured geocoder and router.
async fn resolve_places(state: &AppState, context: &RequestContext, query: &mut Query) -> Result<(), ApiError> {
    match query.spatial.take() {
        Some(SpatialFilter::NearbyAddress { address, radius_km }) => {
            let (latitude, longitude) = services::geocode(state, &address).await?;
            query.spatial = Some(SpatialFilter::Nearby { latitude, longitude, radius_km });
        }
        Some(SpatialFilter::NearRoute { start, end }) => {
            let points = services::route(state, context, &start, &end).await?;
            query.spatial = Some(SpatialFilter::Route { points });
        }
        other => query.spatial = other,
    }
    Ok(())
}

impl Rendering {
    fn respond(&self, body: String) -> Response {
        let (body, content_type) = match (&self.jsonp, self.format) {
            (Some((callback, state)), _) => {
                let mut wrapped = String::with_capacity(body.len() + callback.len() + 8);
                wrapped.push_str(callback);
                wrapped.push('(');
                wrapped.push_str(&body);
                if let Some(state) = state {
                    wrapped.push(',');
                    odata::string(&mut wrapped, state);
                }
                wrapped.push(')');
                (wrapped, "application/javascript; charset=utf-8")
            }
            (None, QueryFormat::Json) => (body, "application/json; charset=utf-8"),
            (None, QueryFormat::Atom) => (body, "application/atom+xml; charset=utf-8"),
        };
        let mut response = (StatusCode::OK, body).into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_predicates_quoted_or_not() {
        assert_eq!(split_key_predicate("Shops").unwrap(), ("Shops".into(), None));
        assert_eq!(split_key_predicate("Shops('-715')").unwrap(), ("Shops".into(), Some("-715".into())));
        assert_eq!(split_key_predicate("Shops('O''Hara')").unwrap(), ("Shops".into(), Some("O'Hara".into())));
        assert_eq!(split_key_predicate("Shops(12)").unwrap(), ("Shops".into(), Some("12".into())));
        assert!(split_key_predicate("Shops('1'").is_err());
        assert!(split_key_predicate("Shops()").is_err());
    }

    #[test]
    fn bare_spatial_tokens_are_spatial_filters() {
        let params = Params::parse(Some("BBox(1,2,3,4)&$filter=Name%20eq%20'a'&key=k"));
        assert_eq!(bare_spatial_filter(&params), Some("BBox(1,2,3,4)"));
        let params = Params::parse(Some("&$filter&other&key=k"));
        assert_eq!(bare_spatial_filter(&params), None);
    }
}
