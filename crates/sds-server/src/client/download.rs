//! `sds download NAME`: a download job ("Create a Download Job":
//! `GET /REST/v1/Dataflows/DataSourceDownload/{accessId}/{name}`, with
//! `jobId=` for an older version, `isStaging=1` for the staged one, and
//! `sds`'s `format=csv|geojson` extension), polled until it ends, then its
//! `output/succeeded` link streamed to a file or stdout.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use serde_json::json;

use super::endpoint::{encode, link, links};
use super::manage::find_source;
use super::output::{fields, print_json};
use super::progress::{Progress, Unit};
use super::{settings, ClientError, Connection};

#[derive(Args, Clone, Debug)]
pub struct DownloadArgs {
    /// The data source's name.
    pub name: String,
    /// The output: an XML DataSet (re-uploads as is), CSV or GeoJSON.
    #[arg(long, value_enum, default_value = "xml")]
    pub format: DownloadFormat,
    /// Write to this file (else stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The version a load job made (its job id) instead of the published one.
    #[arg(long, value_name = "JOBID", conflicts_with = "staged")]
    pub version: Option<String>,
    /// The staged version instead of the published one.
    #[arg(long)]
    pub staged: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownloadFormat {
    Xml,
    Csv,
    Geojson,
}

pub fn run(args: &DownloadArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let source = find_source(&endpoint, &args.name)?;
    let format = match args.format {
        DownloadFormat::Xml => None,
        DownloadFormat::Csv => Some("csv"),
        DownloadFormat::Geojson => Some("geojson"),
    };
    let mut pairs = vec![("output", "json")];
    // Bing SDS knows only the XML DataSet: no format parameter for it.
    if let Some(format) = format {
        pairs.push(("format", format));
    }
    if let Some(job_id) = &args.version {
        pairs.push(("jobId", job_id));
    }
    if args.staged {
        pairs.push(("isStaging", "1"));
    }
    let path = format!("Dataflows/DataSourceDownload/{}/{}", source.access_id, encode(&source.name));
    let what = format!("downloading '{}'", source.name);
    let status_url = endpoint.create_job(endpoint.get(&endpoint.url(&path), &pairs), &what)?;

    let progress = Progress::new();
    progress.phase("preparing", None, Unit::Entities);
    let job = endpoint.wait(&status_url, &|job| progress.job(job))?;
    // A completed download job says its size in totalEntityCount (sds
    // leaves processedEntityCount at 0 there, as SDS's examples do).
    let entities = job["totalEntityCount"].as_u64().unwrap_or(0);
    progress.set_length(entities);
    progress.set_position(entities);
    progress.finish();
    if job["status"] != "Completed" {
        return Err(ClientError::JobFailed {
            what: format!("the download job of '{}'", source.name),
            status: job["status"].as_str().unwrap_or_default().to_owned(),
            message: job["errorMessage"].as_str().unwrap_or("no error message").to_owned(),
        });
    }
    // The output link: `succeeded` by name (older envelopes leave it unnamed).
    let output_url = link(&job, "output", Some("succeeded"))
        .or_else(|| {
            links(&job)
                .into_iter()
                .find(|(role, name, _)| role == "output" && name.as_deref() != Some("failed"))
                .map(|(_, _, url)| url)
        })
        .ok_or_else(|| ClientError::Protocol(format!("the download job of '{}' has no output link", source.name)))?;
    let response = endpoint.send(endpoint.get(&output_url, &[]), "fetching the downloaded data")?;
    if response.status() != 200 {
        let status = response.status().as_u16();
        let message = super::endpoint::envelope_error(&response.text().unwrap_or_default());
        return Err(ClientError::Server { what: "fetching the downloaded data".into(), status, message });
    }
    progress.phase("receiving", response.content_length(), Unit::Bytes);
    let bytes = match &args.output {
        Some(path) => save(response, path, &progress),
        None => copy(response, &mut std::io::stdout().lock(), &progress)
            .map_err(|error| ClientError::io("writing to stdout", error)),
    };
    progress.finish();
    let bytes = bytes?;
    let Some(path) = &args.output else { return Ok(()) };
    if args.connection.json {
        print_json(&json!({
            "dataSourceName": source.name,
            "accessId": source.access_id,
            "jobId": job["id"],
            "format": format.unwrap_or("xml"),
            "entities": entities,
            "bytes": bytes,
            "file": path,
        }));
    } else {
        print!(
            "{}",
            fields(&[
                ("data source", source.name.clone()),
                ("file", path.display().to_string()),
                ("format", format.unwrap_or("xml").to_owned()),
                ("entities", entities.to_string()),
                ("bytes", bytes.to_string()),
            ])
        );
    }
    Ok(())
}

/// Writes to `path.part`, then renames it: an interrupted download never
/// leaves a truncated file under the name asked for.
fn save(response: impl Read, path: &std::path::Path, progress: &Progress) -> Result<u64, ClientError> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".part");
    let partial = PathBuf::from(partial);
    let written = File::create(&partial).and_then(|file| {
        let mut out = BufWriter::new(file);
        let bytes = copy(response, &mut out, progress)?;
        out.into_inner().map_err(std::io::IntoInnerError::into_error)?.sync_all()?;
        Ok(bytes)
    });
    match written.and_then(|bytes| std::fs::rename(&partial, path).map(|()| bytes)) {
        Ok(bytes) => Ok(bytes),
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(ClientError::io(path.display().to_string(), error))
        }
    }
}

fn copy(mut from: impl Read, to: &mut impl Write, progress: &Progress) -> std::io::Result<u64> {
    let mut buffer = vec![0; 1 << 16];
    let mut total = 0;
    loop {
        let count = match from.read(&mut buffer) {
            Ok(0) => break,
            Ok(count) => count,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        to.write_all(&buffer[..count])?;
        total += count as u64;
        progress.set_position(total);
    }
    to.flush()?;
    Ok(total)
}
