//! Data source information: the account's data sources, one data source
//! (all its versions with `showAllVersions`), the public data sources, and
//! `$metadata`. Atom service documents by default, JSON with `$format=json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sds_core::{DataSource, Version, VersionState};

use super::sources::{addressed_source, Right};
use super::RequestContext;
use crate::auth::authenticate;
use crate::error::ApiError;
use crate::state::AppState;
use crate::wire::metadata::{edmx, Described};
use crate::wire::service_doc::{self, Listing, VersionFlags, Workspace};

/// What the public list says of every data source in it.
const PUBLIC_DISCLAIMER: &str = "This data source is published by its owner, who alone is responsible for its content.";

fn respond(body: String, content_type: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// `$format` (the docs also write `format`): `atom` (default) or `json`.
fn wants_json(context: &RequestContext) -> Result<bool, ApiError> {
    match context.params.get_any(&["$format", "format"]).map(str::to_ascii_lowercase).as_deref() {
        None | Some("") | Some("atom") | Some("xml") => Ok(false),
        Some("json") => Ok(true),
        Some(other) => {
            Err(ApiError::bad_request(format!("the '$format' parameter '{other}' is invalid: use atom or json")))
        }
    }
}

/// `true`, `1` or any other non-zero number (the docs' example says `showAllVersions=3`).
fn show_all_versions(context: &RequestContext) -> bool {
    context
        .params
        .get("showallversions")
        .is_some_and(|value| value.eq_ignore_ascii_case("true") || value.parse::<i64>().is_ok_and(|number| number != 0))
}

fn document(context: &RequestContext, listing: Listing, workspaces: &[Workspace]) -> Result<Response, ApiError> {
    let copyright = &context.envelope.copyright;
    Ok(if wants_json(context)? {
        respond(service_doc::json(copyright, listing, workspaces), "application/json; charset=utf-8")
    } else {
        respond(service_doc::atom(copyright, workspaces), "application/atomsvc+xml; charset=utf-8")
    })
}

/// The version a data source is described by: the published one, else
/// the staged one (a data source created by a staging load).
fn current(versions: &[Version]) -> Option<&Version> {
    versions.iter().find(|version| version.state == VersionState::Published).or_else(|| versions.first())
}

fn workspace(root: &str, source: &DataSource, version: &Version, flags: Option<VersionFlags>) -> Workspace {
    let entity_type = version.schema.entity_type_name.clone();
    Workspace {
        collection_url: format!("{root}/data/{}/{}/{entity_type}", source.access_id, source.name),
        name: source.name.clone(),
        entity_type,
        is_public: source.is_public,
        updated: if flags.is_some() { version.created } else { source.updated },
        uploaded: Some(source.created),
        description: source.description.clone(),
        disclaimer: None,
        version: flags,
    }
}

/// Each data source with its kept versions, as one store read per source.
async fn with_versions(
    state: &AppState,
    sources: Vec<DataSource>,
) -> Result<Vec<(DataSource, Vec<Version>)>, ApiError> {
    state
        .store_call(move |store| {
            sources.into_iter().map(|source| store.versions_of(source.id).map(|versions| (source, versions))).collect()
        })
        .await
}

/// The data sources of the key's account, with their versions.
async fn account_sources(
    state: &AppState,
    context: &RequestContext,
) -> Result<Vec<(DataSource, Vec<Version>)>, ApiError> {
    let key = authenticate(state, &context.params).await?;
    let account = key.account_id;
    with_versions(state, state.store_call(move |store| store.data_sources_of(account)).await?).await
}

pub async fn account(state: &AppState, context: &RequestContext) -> Result<Response, ApiError> {
    let sources = account_sources(state, context).await?;
    let workspaces: Vec<Workspace> = sources
        .iter()
        .filter_map(|(source, versions)| {
            current(versions).map(|version| workspace(&context.root, source, version, None))
        })
        .collect();
    document(context, Listing::Account, &workspaces)
}

pub async fn single(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let (_, source) = addressed_source(state, context, access_id, name, Right::Account).await?;
    let id = source.id;
    let versions = state.store_call(move |store| store.versions_of(id)).await?;
    let workspaces: Vec<Workspace> = if show_all_versions(context) {
        versions
            .iter()
            .map(|version| {
                let flags = VersionFlags {
                    job_id: version.job_id.to_string(),
                    is_staging: version.state == VersionState::Staged,
                    is_active: version.state == VersionState::Published,
                };
                workspace(&context.root, &source, version, Some(flags))
            })
            .collect()
    } else {
        current(&versions).map(|version| workspace(&context.root, &source, version, None)).into_iter().collect()
    };
    document(context, Listing::Single, &workspaces)
}

pub async fn public_list(state: &AppState, context: &RequestContext) -> Result<Response, ApiError> {
    authenticate(state, &context.params).await?;
    let sources = with_versions(state, state.store_call(|store| store.public_data_sources()).await?).await?;
    let workspaces: Vec<Workspace> = sources
        .iter()
        .filter_map(|(source, versions)| {
            let version = versions.iter().find(|version| version.state == VersionState::Published)?;
            let mut entry = workspace(&context.root, source, version, None);
            entry.disclaimer = Some(PUBLIC_DISCLAIMER.to_owned());
            entry.description = None;
            Some(entry)
        })
        .collect();
    document(context, Listing::Public, &workspaces)
}

fn metadata_response(sources: &[(DataSource, Vec<Version>)], all_versions: bool) -> Response {
    let described: Vec<Described<'_>> = sources
        .iter()
        .flat_map(|(source, versions)| {
            let chosen: Vec<&Version> =
                if all_versions { versions.iter().collect() } else { current(versions).into_iter().collect() };
            chosen.into_iter().map(move |version| Described {
                name: &source.name,
                schema: &version.schema,
                is_public: source.is_public,
                job_id: version.job_id.as_str(),
            })
        })
        .collect();
    respond(edmx(&described), "application/xml; charset=utf-8")
}

pub async fn account_metadata(state: &AppState, context: &RequestContext) -> Result<Response, ApiError> {
    Ok(metadata_response(&account_sources(state, context).await?, false))
}

pub async fn metadata(
    state: &AppState,
    context: &RequestContext,
    access_id: &str,
    name: &str,
) -> Result<Response, ApiError> {
    let (_, source) = addressed_source(state, context, access_id, name, Right::Account).await?;
    let sources = with_versions(state, vec![source]).await?;
    Ok(metadata_response(&sources, show_all_versions(context)))
}
