//! Load Data Source: create a load job (the body is the data), its status,
//! and the list of rows it skipped.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use sds_core::data_source::check_data_source_name;
use sds_core::{AccessId, InputFormat, Job, JobId, JobKind, JobParams, JobStatus, LoadOperation, LoadParams};
use sds_store::KeyRecord;

use super::sources::{check_job_quota, quota_refusal, submit};
use super::RequestContext;
use crate::auth::{authenticate, lookup_key};
use crate::error::{ApiError, ErrorKind};
use crate::jobs::spool;
use crate::state::AppState;
use crate::wire::envelope::plain_text;

/// Longest `description` parameter kept, in characters.
const MAX_DESCRIPTION_CHARS: usize = 1000;

/// How long a refused upload's body is read for, at most, between two
/// chunks (see [`spool::drain`]).
const DRAIN_IDLE: std::time::Duration = std::time::Duration::from_secs(5);

pub async fn create(state: &AppState, context: &RequestContext, body: Body) -> Result<Response, ApiError> {
    let mut body = body;
    let result = create_job(state, context, &mut body).await;
    if result.is_err() {
        // A refusal comes before the body is read: read what the client is
        // still sending, so that it gets this answer, not a reset.
        let idle = DRAIN_IDLE.min(std::time::Duration::from_secs(state.config.body_idle_timeout_seconds.max(1)));
        spool::drain(std::mem::take(&mut body), state.config.max_upload_bytes, idle).await;
    }
    result
}

async fn create_job(state: &AppState, context: &RequestContext, body: &mut Body) -> Result<Response, ApiError> {
    let params = &context.params;
    let key = authenticate(state, params).await?;
    let name = params.require("datasourcename", "dataSourceName")?.to_owned();
    check_data_source_name(&name).map_err(|error| ApiError::bad_request(error.to_string()))?;
    let operation_text = params.require("loadoperation", "loadOperation")?;
    let operation = LoadOperation::parse(operation_text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "the 'loadOperation' parameter '{operation_text}' is invalid: use complete, incremental, completeStaging or incrementalStaging"
        ))
    })?;
    let input_text = params.require("input", "input")?;
    let input = InputFormat::parse(input_text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "the 'input' parameter '{input_text}' is invalid: use xml, csv, tab, pipe, kml, shp or geojson"
        ))
    })?;
    let set_public = params.flag("setpublic", "setPublic")?;
    if operation.is_staging() && set_public == Some(true) {
        return Err(ApiError::bad_request("setPublic=1 cannot be combined with a staging load"));
    }
    let description = params.get("description").filter(|text| !text.is_empty()).map(str::to_owned);
    if description.as_ref().is_some_and(|text| text.chars().count() > MAX_DESCRIPTION_CHARS) {
        return Err(ApiError::bad_request(format!(
            "the 'description' parameter is longer than {MAX_DESCRIPTION_CHARS} characters"
        )));
    }
    let query_key = match params.get_any(&["querykey", "query"]).filter(|text| !text.is_empty()) {
        Some(text) => Some(check_query_key(state, &key, text).await?),
        None => None,
    };
    let data_location = match params.get("datalocation").filter(|location| !location.is_empty()) {
        Some(_) if spool::has_body(&context.headers) => {
            return Err(ApiError::bad_request(
                "give the data either in the request body or with dataLocation, not both",
            ))
        }
        Some(location) => {
            Some(state.engine.fetch_policy().check_url(location).map_err(ApiError::bad_request)?.to_string())
        }
        None => None,
    };
    let id_property = params.get("idproperty").filter(|text| !text.is_empty()).map(str::to_owned);

    let account = key.account_id;
    let lookup_name = name.clone();
    let existing = state.store_call(move |store| store.data_source_by_name(account, &lookup_name)).await?;
    let access_id = match params.get("accessid").filter(|text| !text.is_empty()) {
        Some(text) => {
            let access_id: AccessId = text.parse().map_err(|_| {
                ApiError::bad_request(format!("the 'accessId' parameter '{text}' is not a 32-digit hexadecimal id"))
            })?;
            match &existing {
                Some(source) if source.access_id != access_id => {
                    return Err(ApiError::not_found(format!(
                        "no data source '{name}' with accessId {access_id} exists"
                    )));
                }
                Some(_) => {}
                None if operation.is_incremental() => {
                    return Err(ApiError::not_found(format!(
                        "no data source '{name}' with accessId {access_id} exists: an incremental load needs an existing data source"
                    )));
                }
                None => check_access_id_free(state, &key, &access_id).await?,
            }
            Some(access_id)
        }
        None => existing.as_ref().map(|source| source.access_id.clone()),
    };
    match &existing {
        Some(source) if source.master_key != key.id => {
            return Err(ApiError::not_authorized(format!("the key is not the master key of data source '{name}'")));
        }
        None if operation.is_incremental() => {
            return Err(ApiError::not_found(format!(
                "data source '{name}' does not exist: an incremental load needs an existing data source"
            )));
        }
        Some(source) if operation.is_incremental() => {
            source.incremental_base().map_err(|error| ApiError::bad_request(error.to_string()))?;
        }
        _ => {}
    }

    check_name_free(state, &key, &name, existing.is_none()).await?;
    check_job_quota(state, &key).await?;

    let job_id = JobId::generate();
    // A dataLocation input is fetched by the job itself, when it runs.
    let spooled = data_location.is_none();
    if spooled {
        let received = spool::receive(
            &state.config.spool_dir(),
            &job_id,
            std::mem::take(body),
            state.config.max_upload_bytes,
            std::time::Duration::from_secs(state.config.body_idle_timeout_seconds.max(1)),
        )
        .await?;
        spool::store_input(state.engine.payloads(), &job_id, received).await?;
    }
    let params = JobParams::Load(LoadParams {
        operation,
        input,
        set_public,
        query_key,
        description,
        access_id,
        data_location,
        id_property,
    });
    let name = existing.map_or(name, |source| source.name);
    // The id the input was spooled under.
    let job = Job { id: job_id, ..Job::pending(key.account_id, key.id, JobKind::for_load(operation), name, params) };
    if let Err(error) = submit(state, &key, &job).await {
        if spooled {
            spool::discard_input(state.engine.payloads(), &job.id).await;
        }
        return Err(error);
    }
    Ok(context.created_response(StatusCode::CREATED, &job))
}

/// A name still being deleted cannot be loaded again (400), and a new data
/// source needs a free slot in the account (SDS answers 403 at the limit;
/// 0 lifts it).
async fn check_name_free(state: &AppState, key: &KeyRecord, name: &str, is_new: bool) -> Result<(), ApiError> {
    let (account, lookup) = (key.account_id, name.to_owned());
    let (sources, newest_delete) = state
        .store_call(move |store| {
            Ok((store.data_sources_of(account)?.len(), store.newest_job(account, JobKind::Delete, &lookup)?))
        })
        .await?;
    if newest_delete.is_some_and(|job| job.status == JobStatus::Pending) {
        return Err(ApiError::bad_request(format!(
            "data source '{name}' is still being deleted; try again when its delete job has completed"
        )));
    }
    let limit = state.config.limits().max_data_sources;
    if is_new && limit > 0 && sources as u64 >= u64::from(limit) {
        return Err(quota_refusal(
            ErrorKind::QuotaExceeded,
            key,
            format!(
                "the account has {sources} data sources; the limit of data sources per account is {limit} (the server's --max-data-sources; 0 lifts it)"
            ),
        ));
    }
    Ok(())
}

/// A new data source may adopt a given accessId (an extension, so that a
/// data source moved from another SDS keeps its query URLs) when no data
/// source uses it and no other account's deleted data source held it
/// (accessIds never move between accounts); otherwise 409. The job checks
/// again when it commits.
async fn check_access_id_free(state: &AppState, key: &KeyRecord, access_id: &AccessId) -> Result<(), ApiError> {
    let lookup = access_id.clone();
    let (live, retired_by) = state
        .store_call(move |store| Ok((store.data_source_by_access_id(&lookup)?, store.access_id_retired_by(&lookup)?)))
        .await?;
    if live.is_some() {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            format!("the accessId {access_id} is already used by another data source; a new data source can adopt only an unused accessId"),
        ));
    }
    if retired_by.is_some_and(|account| account != key.account_id) {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            format!("the accessId {access_id} belonged to a deleted data source of another account; accessIds never move between accounts"),
        ));
    }
    Ok(())
}

/// The query key must be another key of the same account.
async fn check_query_key(state: &AppState, key: &KeyRecord, text: &str) -> Result<sds_core::KeyId, ApiError> {
    let query_key = lookup_key(state, text)
        .await
        .map_err(|error| match error.kind {
            ErrorKind::CredentialsExpired => ApiError::bad_request("the 'queryKey' parameter is a revoked key"),
            _ => error,
        })?
        .filter(|candidate| candidate.account_id == key.account_id)
        .ok_or_else(|| ApiError::bad_request("the 'queryKey' parameter is not a key of the same account"))?;
    if query_key.id == key.id {
        return Err(ApiError::bad_request("the 'queryKey' parameter must differ from the master key"));
    }
    Ok(query_key.id)
}

/// Finds a load job the caller may see: its creator's key or the master key
/// of its data source, within the same account.
async fn visible_load_job(state: &AppState, context: &RequestContext, job_id: &str) -> Result<Job, ApiError> {
    let key = authenticate(state, &context.params).await?;
    let not_found = || ApiError::not_found(format!("no load job with id '{job_id}' exists"));
    let job_id: JobId = job_id.parse().map_err(|_| not_found())?;
    let job = state.store_call(move |store| store.job(&job_id)).await?.ok_or_else(not_found)?;
    if !matches!(job.params, JobParams::Load(_)) {
        return Err(not_found());
    }
    if job.account_id != key.account_id {
        return Err(ApiError::not_authorized("the job belongs to another account"));
    }
    if job.key_id != key.id {
        let (account, name) = (job.account_id, job.data_source_name.clone());
        let source = state.store_call(move |store| store.data_source_by_name(account, &name)).await?;
        if source.is_none_or(|source| source.master_key != key.id) {
            return Err(ApiError::not_authorized("the key is not the master key of the job's data source"));
        }
    }
    Ok(job)
}

pub async fn status(state: &AppState, context: &RequestContext, job_id: &str) -> Result<Response, ApiError> {
    let job = visible_load_job(state, context, job_id).await?;
    Ok(context.status_response(&job, state.engine.progress(&job.id)))
}

/// One line per skipped row: `line N, entity 'ID': reason`; an aborted
/// job's own error comes first.
pub async fn failed_output(state: &AppState, context: &RequestContext, job_id: &str) -> Result<Response, ApiError> {
    let job = visible_load_job(state, context, job_id).await?;
    let id = job.id.clone();
    let failures = state.store_call(move |store| store.job_failures(&id)).await?;
    let mut text = String::new();
    if let Some(message) = &job.error_message {
        text.push_str(&format!("job aborted: {message}\n"));
    }
    for failure in &failures {
        match &failure.entity_id {
            Some(id) => text.push_str(&format!("line {}, entity '{}': {}\n", failure.line, id, failure.reason)),
            None => text.push_str(&format!("line {}: {}\n", failure.line, failure.reason)),
        }
    }
    if job.failed_entity_count > failures.len() as u64 {
        text.push_str(&format!("… and {} more failed entities\n", job.failed_entity_count - failures.len() as u64));
    }
    Ok(plain_text(text))
}
