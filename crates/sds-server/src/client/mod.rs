//! The client commands of the `sds` binary (`sds upload`, `download`,
//! `sources`, `jobs`, `publish`, `rollback`, `delete`, `public`, `query`):
//! a client of any SDS endpoint (an `sds` server, or Bing SDS), speaking
//! only the REST API of the SDS docs, blocking HTTP with `reqwest`.
//!
//! Each command resolves the server URL and key ([`settings`]), calls the
//! endpoint ([`endpoint`]), shows progress on stderr ([`progress`]: a bar
//! on a terminal, plain lines otherwise) and prints a table, or JSON with
//! `--json`, on stdout ([`output`]). The key is never printed, not even in
//! error messages. A failure is one line on stderr and exit status 1.

pub mod atom;
mod detect;
mod download;
pub mod endpoint;
mod manage;
mod output;
mod progress;
mod query;
pub mod settings;
mod upload;

use clap::{Args, Subcommand, ValueEnum};

/// A client command's failure: one line, for stderr.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Bad arguments, a missing key, an unreadable config or input file.
    #[error("{0}")]
    Usage(String),
    /// The server could not be reached, or the connection failed.
    #[error("{what}: {detail}")]
    Transport { what: String, detail: String },
    /// The server answered an error envelope: its HTTP status and
    /// `errorDetails`.
    #[error("{what}: the server answered {status}: {message}")]
    Server { what: String, status: u16, message: String },
    /// An answer that is not what the SDS docs describe.
    #[error("{0}")]
    Protocol(String),
    /// A local file could not be read or written.
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A job ended in another state than `Completed` (a load's `Aborted`),
    /// with its `errorMessage`.
    #[error("{what} ended {status}: {message}")]
    JobFailed { what: String, status: String, message: String },
}

impl ClientError {
    /// A transport error in words (`cannot reach the server: … Connection
    /// refused`), without the URL (it holds the key): the error's own
    /// text names the URL, so only its kind and its causes are shown.
    pub fn transport(what: &str, error: &reqwest::Error) -> ClientError {
        let mut detail = if error.is_timeout() {
            "timed out"
        } else if error.is_connect() {
            "cannot reach the server"
        } else if error.is_body() || error.is_decode() {
            "the connection broke during the transfer"
        } else {
            "the request failed"
        }
        .to_owned();
        let mut cause = std::error::Error::source(error);
        while let Some(inner) = cause {
            let text = inner.to_string();
            if !detail.contains(&text) {
                detail.push_str(": ");
                detail.push_str(&text);
            }
            cause = inner.source();
        }
        ClientError::Transport { what: what.to_owned(), detail }
    }

    fn io(what: impl Into<String>, source: std::io::Error) -> ClientError {
        ClientError::Io { what: what.into(), source }
    }
}

/// Where the server is and which key to use; each option falls back to an
/// environment variable, then to `~/.config/sds/client.toml`.
#[derive(Args, Clone, Debug, Default)]
pub struct Connection {
    /// The server, e.g. `http://127.0.0.1:8080` or
    /// `https://spatial.virtualearth.net` [default: SDS_URL, then `url` in
    /// the config file, then http://127.0.0.1:8080].
    #[arg(long, env = "SDS_URL")]
    pub url: Option<String>,
    /// The key: the master key for everything but `query`, which also
    /// takes a query key [default: SDS_KEY, then `key` in the config
    /// file]. Never printed.
    #[arg(long, env = "SDS_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Print JSON for scripts on stdout instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// The client subcommands, flattened into `sds`'s own.
#[derive(Subcommand, Clone, Debug)]
pub enum ClientCommand {
    /// Upload a file as a data source (a load job) and wait for it.
    Upload(upload::UploadArgs),
    /// Download a data source's published (or staged, or an older) version.
    Download(download::DownloadArgs),
    /// List the account's data sources.
    Sources(manage::SourcesArgs),
    /// List the account's jobs (SDS "Get Job List"; download jobs are not listed).
    Jobs(manage::JobsArgs),
    /// Publish a data source's staged version and wait for it.
    Publish(manage::NameArgs),
    /// Make the version a load job made the published one again.
    Rollback(manage::RollbackArgs),
    /// Delete a data source (or only its staged version).
    Delete(manage::DeleteArgs),
    /// Make a data source public (queryable with any key) or private.
    Public(manage::PublicArgs),
    /// Query a data source with the Query API.
    Query(query::QueryArgs),
}

/// `on`/`off` for `sds public`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Switch {
    On,
    Off,
}

/// Runs one client command. Errors: [`ClientError`], one line for stderr;
/// a job that does not complete is [`ClientError::JobFailed`].
pub fn run(command: ClientCommand) -> Result<(), ClientError> {
    match command {
        ClientCommand::Upload(args) => upload::run(&args),
        ClientCommand::Download(args) => download::run(&args),
        ClientCommand::Sources(args) => manage::sources(&args),
        ClientCommand::Jobs(args) => manage::jobs(&args),
        ClientCommand::Publish(args) => manage::publish(&args),
        ClientCommand::Rollback(args) => manage::rollback(&args),
        ClientCommand::Delete(args) => manage::delete(&args),
        ClientCommand::Public(args) => manage::public(&args),
        ClientCommand::Query(args) => query::run(&args),
    }
}
