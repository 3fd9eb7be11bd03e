//! Data source management: `sds sources` ("Get Data Source Information",
//! `GET /REST/v1/data`), `sds jobs` ("Get Job List",
//! `GET /REST/v1/Dataflows/ListJobs`), `sds publish`
//! (`…/data/{accessId}/{name}/$commit`), `sds rollback`
//! (`…/Dataflows/DataSourceRollback/{jobId}/{name}`), `sds delete`
//! (`DELETE …/data/{accessId}/{name}`) and `sds public`
//! (`…/data/{accessId}/{name}/$updateDataSource?setPublic=`). Each job a
//! command creates is polled until it ends.

use clap::Args;
use serde_json::{json, Value};

use super::atom::SourceInfo;
use super::endpoint::{encode, expect, json, link, Endpoint};
use super::output::{cell, fields, print_json, table};
use super::{settings, ClientError, Connection, Switch};

#[derive(Args, Clone, Debug)]
pub struct SourcesArgs {
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Clone, Debug)]
pub struct JobsArgs {
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Clone, Debug)]
pub struct NameArgs {
    /// The data source's name.
    pub name: String,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Clone, Debug)]
pub struct RollbackArgs {
    /// The data source's name.
    pub name: String,
    /// The id of the load job that made the version to publish again (see
    /// `sds jobs`).
    pub job_id: String,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Clone, Debug)]
pub struct DeleteArgs {
    /// The data source's name.
    pub name: String,
    /// Delete only the staged version (`isStaging=1`).
    #[arg(long)]
    pub staged: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Clone, Debug)]
pub struct PublicArgs {
    /// The data source's name.
    pub name: String,
    /// `on`: any key may query it; `off`: only its account's keys.
    #[arg(value_enum)]
    pub state: Switch,
    #[command(flatten)]
    pub connection: Connection,
}

/// The data source of this name (case-insensitively, as SDS names are).
/// Errors: none of that name, naming the ones there are.
pub fn find_source(endpoint: &Endpoint, name: &str) -> Result<SourceInfo, ClientError> {
    let sources = endpoint.data_sources()?;
    let names: Vec<String> = sources.iter().map(|source| source.name.clone()).collect();
    sources.into_iter().find(|source| source.name.eq_ignore_ascii_case(name)).ok_or_else(|| {
        let there = if names.is_empty() { "none".to_owned() } else { names.join(", ") };
        ClientError::Usage(format!("the account has no data source named '{name}' (it has: {there})"))
    })
}

/// `{base}/REST/v1/data/{accessId}/{name}{suffix}`.
fn source_url(endpoint: &Endpoint, source: &SourceInfo, suffix: &str) -> String {
    endpoint.url(&format!("data/{}/{}{suffix}", source.access_id, encode(&source.name)))
}

pub fn sources(args: &SourcesArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let sources = endpoint.data_sources()?;
    if args.connection.json {
        let list: Vec<Value> = sources
            .iter()
            .map(|source| {
                json!({
                    "name": source.name,
                    "entityType": source.entity_type,
                    "accessId": source.access_id,
                    "isPublic": source.is_public,
                    "description": source.description,
                    "url": source_url(&endpoint, source, &format!("/{}", encode(&source.entity_type))),
                })
            })
            .collect();
        print_json(&Value::Array(list));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = sources
        .iter()
        .map(|source| {
            vec![
                source.name.clone(),
                source.entity_type.clone(),
                source.access_id.clone(),
                if source.is_public { "yes" } else { "no" }.to_owned(),
                source.description.clone().unwrap_or_default(),
            ]
        })
        .collect();
    print!("{}", table(&["NAME", "ENTITY TYPE", "ACCESS ID", "PUBLIC", "DESCRIPTION"], &rows));
    Ok(())
}

pub fn jobs(args: &JobsArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let what = "listing the jobs";
    let response = endpoint.send(endpoint.get(&endpoint.url("Dataflows/ListJobs"), &[("output", "json")]), what)?;
    let body = json(expect(response, &[200], what)?, what)?;
    let jobs = body["resourceSets"][0]["resources"].as_array().cloned().unwrap_or_default();
    if args.connection.json {
        print_json(&Value::Array(jobs));
        return Ok(());
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|job| {
            let entities = match (job["processedEntityCount"].as_u64(), job["totalEntityCount"].as_u64()) {
                (Some(processed), Some(total)) => {
                    format!("{processed}/{total} ({} failed)", job["failedEntityCount"].as_u64().unwrap_or(0))
                }
                _ => String::new(),
            };
            vec![
                cell(&job["id"]),
                cell(&job["description"]),
                cell(&job["name"]),
                cell(&job["status"]),
                cell(&job["createdDate"]),
                entities,
                cell(&job["errorMessage"]),
            ]
        })
        .collect();
    print!("{}", table(&["ID", "TYPE", "DATA SOURCE", "STATUS", "CREATED", "ENTITIES", "ERROR"], &rows));
    Ok(())
}

pub fn publish(args: &NameArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let source = find_source(&endpoint, &args.name)?;
    let request = endpoint.get(&source_url(&endpoint, &source, "/$commit"), &[("output", "json")]);
    let what = format!("publishing '{}'", source.name);
    let status_url = endpoint.create_job(request, &what)?;
    finish_job(&endpoint, &status_url, &what, &args.connection)
}

pub fn rollback(args: &RollbackArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let path = format!("Dataflows/DataSourceRollback/{}/{}", encode(&args.job_id), encode(&args.name));
    let request = endpoint.get(&endpoint.url(&path), &[("output", "json")]);
    let what = format!("rolling '{}' back to the version of job {}", args.name, args.job_id);
    let status_url = endpoint.create_job(request, &what)?;
    finish_job(&endpoint, &status_url, &what, &args.connection)
}

pub fn public(args: &PublicArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let source = find_source(&endpoint, &args.name)?;
    let flag = if args.state == Switch::On { "1" } else { "0" };
    let request =
        endpoint.get(&source_url(&endpoint, &source, "/$updateDataSource"), &[("setPublic", flag), ("output", "json")]);
    let what = format!("making '{}' {}", source.name, if flag == "1" { "public" } else { "private" });
    let status_url = endpoint.create_job(request, &what)?;
    finish_job(&endpoint, &status_url, &what, &args.connection)
}

/// `DELETE` answers 202 without a job link; the delete job is then found
/// in the job list (the newest `DataSourceDelete` of that name) and waited
/// for, so that the command ends when the data source is gone.
pub fn delete(args: &DeleteArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let source = find_source(&endpoint, &args.name)?;
    let pairs: &[(&str, &str)] = if args.staged { &[("isStaging", "1")] } else { &[] };
    let what = format!("deleting {}'{}'", if args.staged { "the staged version of " } else { "" }, source.name);
    let response = endpoint.send(endpoint.delete(&source_url(&endpoint, &source, ""), pairs), &what)?;
    expect(response, &[200, 202, 204], &what)?;
    let listed = endpoint.send(endpoint.get(&endpoint.url("Dataflows/ListJobs"), &[("output", "json")]), &what)?;
    let body = json(expect(listed, &[200], &what)?, &what)?;
    // ListJobs lists the newest first.
    let status_url = body["resourceSets"][0]["resources"].as_array().and_then(|jobs| {
        jobs.iter()
            .find(|job| job["description"] == "DataSourceDelete" && job["name"].as_str() == Some(&source.name))
            .and_then(|job| link(job, "self", None))
    });
    match status_url {
        Some(status_url) => finish_job(&endpoint, &status_url, &what, &args.connection),
        None => {
            report_job(&json!({"status": "Accepted"}), &what, &args.connection);
            Ok(())
        }
    }
}

/// Waits for a lifecycle job and reports it; a job that is not
/// `Completed` is [`ClientError::JobFailed`].
fn finish_job(endpoint: &Endpoint, status_url: &str, what: &str, connection: &Connection) -> Result<(), ClientError> {
    let job = endpoint.wait(status_url, &|_| {})?;
    report_job(&job, what, connection);
    let status = cell(&job["status"]);
    if status == "Completed" {
        return Ok(());
    }
    Err(ClientError::JobFailed {
        what: what.to_owned(),
        status,
        message: job["errorMessage"].as_str().unwrap_or("no error message").to_owned(),
    })
}

fn report_job(job: &Value, what: &str, connection: &Connection) {
    if connection.json {
        print_json(job);
    } else {
        print!(
            "{}",
            fields(&[("operation", what.to_owned()), ("status", cell(&job["status"])), ("job", cell(&job["id"]))])
        );
    }
}
