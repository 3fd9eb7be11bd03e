//! `sds upload FILE --name NAME`: a load job ("Create a Load Data Source
//! Job": `POST /REST/v1/Dataflows/LoadDataSource?dataSourceName=&
//! loadOperation=&input=&output=json&key=`), the file streamed from disk
//! (gzipped on the way when it is text), then polled ("Get Load Data
//! Source Status") until it ends. Prints the data source's accessId and
//! query URL, the counts and the rows the job skipped; a job that ends
//! `Aborted` is an error with its `errorMessage`.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::PathBuf;

use clap::Args;
use sds_core::InputFormat;
use serde_json::{json, Value};

use super::detect::{prepare, Prepared};
use super::endpoint::{access_id_in, encode, expect, link, Endpoint};
use super::manage::find_source;
use super::output::{fields, print_json};
use super::progress::{Progress, Unit};
use super::{settings, ClientError, Connection};

#[derive(Args, Clone, Debug)]
pub struct UploadArgs {
    /// The file: XML DataSet, CSV, tab- or pipe-delimited text, KML or KMZ,
    /// a Shapefile (`.shp` with its `.shx`/`.dbf`/`.prj` next to it, or
    /// their zip), or GeoJSON; plain or gzipped.
    pub file: PathBuf,
    /// The data source's name.
    #[arg(long)]
    pub name: String,
    /// Add and replace entities by their primary key instead of replacing
    /// the whole data source (`loadOperation=incremental`).
    #[arg(long)]
    pub incremental: bool,
    /// Stage the version instead of publishing it (`…Staging`); publish it
    /// later with `sds publish`.
    #[arg(long)]
    pub staging: bool,
    /// The input format: auto (from the extension and the content), xml,
    /// csv, tab, pipe, kml, shp or geojson.
    #[arg(long, default_value = "auto")]
    pub format: FormatChoice,
    /// Make the data source public (`setPublic=1`): any key may query it.
    #[arg(long, conflicts_with = "staging")]
    pub public: bool,
    /// The query key to bind to the data source (`queryKey=`).
    #[arg(long)]
    pub query_key: Option<String>,
    #[command(flatten)]
    pub connection: Connection,
}

/// `--format`: `auto`, or one of the `input` values of "Create a Load
/// Data Source Job" (and `geojson`).
#[derive(Clone, Copy, Debug)]
pub struct FormatChoice(Option<InputFormat>);

impl std::str::FromStr for FormatChoice {
    type Err = String;

    fn from_str(text: &str) -> Result<FormatChoice, String> {
        if text.eq_ignore_ascii_case("auto") {
            return Ok(FormatChoice(None));
        }
        InputFormat::parse(text)
            .map(|format| FormatChoice(Some(format)))
            .ok_or_else(|| "use auto, xml, csv, tab, pipe, kml, shp or geojson".to_owned())
    }
}

/// Counts the bytes read from the file into the progress display.
struct Counted<R> {
    inner: R,
    read: u64,
    progress: Progress,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let count = self.inner.read(buffer)?;
        self.read += count as u64;
        self.progress.set_position(self.read);
        Ok(count)
    }
}

pub fn run(args: &UploadArgs) -> Result<(), ClientError> {
    let endpoint = settings::connect(&args.connection)?;
    let prepared = prepare(&args.file, args.format.0)?;
    let operation = match (args.incremental, args.staging) {
        (false, false) => "complete",
        (true, false) => "incremental",
        (false, true) => "completeStaging",
        (true, true) => "incrementalStaging",
    };
    let mut pairs = vec![
        ("dataSourceName", args.name.as_str()),
        ("loadOperation", operation),
        ("input", prepared.format.as_str()),
        ("output", "json"),
    ];
    if args.public {
        pairs.push(("setPublic", "1"));
    }
    if let Some(query_key) = &args.query_key {
        pairs.push(("queryKey", query_key));
    }
    // One small call first: a wrong key or URL fails before anything is
    // read or shown.
    endpoint.data_sources()?;
    let progress = Progress::new();
    let what = format!("uploading {} as '{}'", args.file.display(), args.name);
    let status_url = send(&endpoint, &pairs, &prepared, &progress, &what);
    progress.finish();
    let status_url = status_url?;

    progress.phase("processing", None, Unit::Entities);
    let job = endpoint.wait(&status_url, &|job| progress.job(job))?;
    progress.job(&job);
    progress.finish();
    report(&endpoint, args, &prepared, &job)
}

/// Streams the file through the byte counter, gzipped when text
/// (chunked, since the gzip size is unknown), else with its length.
fn send(
    endpoint: &Endpoint,
    pairs: &[(&str, &str)],
    prepared: &Prepared,
    progress: &Progress,
    what: &str,
) -> Result<String, ClientError> {
    let file =
        File::open(&prepared.path).map_err(|error| ClientError::io(prepared.path.display().to_string(), error))?;
    progress.phase("sending", Some(prepared.size), Unit::Bytes);
    let counted = Counted { inner: BufReader::with_capacity(1 << 16, file), read: 0, progress: progress.clone() };
    let url = endpoint.url("Dataflows/LoadDataSource");
    let content_type = prepared.content_type();
    if prepared.gzip {
        let gzipped = flate2::read::GzEncoder::new(counted, flate2::Compression::default());
        endpoint.create_job_streaming(&url, pairs, content_type, gzipped, None, what)
    } else {
        endpoint.create_job_streaming(&url, pairs, content_type, counted, Some(prepared.size), what)
    }
}

/// Prints the outcome; an `Aborted` job is an error after its report.
fn report(endpoint: &Endpoint, args: &UploadArgs, prepared: &Prepared, job: &Value) -> Result<(), ClientError> {
    let status = job["status"].as_str().unwrap_or_default().to_owned();
    let count = |field: &str| job[field].as_u64().unwrap_or(0);
    let access_id = link(job, "dataSource", None).as_deref().and_then(access_id_in);
    // The query URL needs the entity type, which the service document says.
    let source = match (&access_id, status.as_str()) {
        (Some(_), "Completed") => find_source(endpoint, &args.name).ok(),
        _ => None,
    };
    let query_url = source.as_ref().map(|source| {
        endpoint.url(&format!("data/{}/{}/{}", source.access_id, encode(&source.name), encode(&source.entity_type)))
    });
    let failed_rows = match link(job, "output", Some("failed")) {
        Some(url) if count("failedEntityCount") > 0 => {
            let response = endpoint.send(endpoint.get(&url, &[]), "fetching the failed rows")?;
            Some(expect(response, &[200], "fetching the failed rows")?)
        }
        _ => None,
    };
    if args.connection.json {
        print_json(&json!({
            "dataSourceName": args.name,
            "jobId": job["id"],
            "status": status,
            "input": prepared.format.as_str(),
            "accessId": access_id,
            "entityType": source.as_ref().map(|source| source.entity_type.clone()),
            "url": query_url,
            "totalEntityCount": count("totalEntityCount"),
            "processedEntityCount": count("processedEntityCount"),
            "failedEntityCount": count("failedEntityCount"),
            "errorMessage": job["errorMessage"],
            "failedRows": failed_rows,
        }));
    } else {
        let mut lines = vec![
            ("data source", args.name.clone()),
            ("status", status.clone()),
            ("job", job["id"].as_str().unwrap_or_default().to_owned()),
            ("input", prepared.format.as_str().to_owned()),
        ];
        if let Some(access_id) = &access_id {
            lines.push(("accessId", access_id.clone()));
        }
        if let Some(url) = &query_url {
            lines.push(("URL", url.clone()));
        }
        lines.push((
            "entities",
            format!(
                "{} total, {} processed, {} failed",
                count("totalEntityCount"),
                count("processedEntityCount"),
                count("failedEntityCount")
            ),
        ));
        print!("{}", fields(&lines));
        if let Some(rows) = &failed_rows {
            println!("failed rows:");
            print!("{rows}");
            if !rows.ends_with('\n') {
                println!();
            }
        }
    }
    if status == "Completed" {
        return Ok(());
    }
    Err(ClientError::JobFailed {
        what: format!("the load job of '{}'", args.name),
        status,
        message: job["errorMessage"].as_str().unwrap_or("no error message").to_owned(),
    })
}
