//! The `sds` command: `serve`, key management on a data dir, `migrate`,
//! and the client commands (`upload`, `download`, `query`…) of
//! [`sds_server::client`].

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use sds_server::config::StoreArgs;
use sds_server::logging::{self, LogFormat};
use sds_server::{bootstrap, data_dir, open_store, open_stores, serve, ServeConfig};
use sds_store::Store;

/// mimalloc rather than glibc's malloc: each response allocates and frees a
/// few dozen buffers, and glibc spent a measurable share of every query
/// consolidating free chunks (README, "Query API": about 10 % on queries,
/// 25 % on loads).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "sds", version, about = "A self-hosted Bing Maps Spatial Data Services server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
// Parsed once at start-up: the size of the `Serve` variant does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Run the server.
    Serve(ServeConfig),
    /// Copy every data source of an account from an SDS endpoint (Bing SDS
    /// or another sds) into this one, keeping accessIds, so that
    /// application URLs keep working with only their host changed.
    Migrate(sds_server::migrate::MigrateArgs),
    /// Copy the store of a data dir, running server or not, to one
    /// consistent SQLite file. Restore: put it as `sds.db` into an empty
    /// data dir. Uploads of loads still waiting are not in it (those jobs
    /// end Aborted on the restored server); download outputs neither. A
    /// PostgreSQL store (`--database-url`) is backed up with `pg_dump`.
    Backup {
        /// The backup file (replaced if it exists).
        #[arg(long)]
        to: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage accounts and keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    #[command(flatten)]
    Client(sds_server::client::ClientCommand),
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create a key for an account (created if new); prints the key last.
    Create {
        /// The account's name (created if new).
        #[arg(long)]
        account: String,
        /// A note shown by `keys list`, e.g. where the key is used.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Register an existing key value (e.g. a Bing Maps key) for an account
    /// (created if new), so that URLs holding it keep working.
    Import {
        #[arg(long)]
        account: String,
        /// The key value: 16 to 128 characters of A-Z, a-z, 0-9, '-', '_'
        /// (from the environment, it stays out of the shell history).
        #[arg(long, env = "SDS_IMPORT_KEY", hide_env_values = true)]
        key: String,
        /// A note shown by `keys list`, e.g. where the key is used.
        #[arg(long)]
        label: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List accounts and their keys (only hints: keys are stored hashed),
    /// with the data sources each key is master or query key of.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a key (by the id `keys list` shows). A running server refuses
    /// it at once for management calls and within `--auth-cache-seconds`
    /// for queries.
    Revoke {
        #[arg(long)]
        id: i64,
        /// Another key of the same account that becomes the master (and
        /// query) key of the data sources the revoked key held.
        #[arg(long)]
        transfer_to: Option<i64>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

fn main() -> ExitCode {
    let cli = sds_server::config_file::parse::<Cli>(std::env::args_os().collect(), "serve");
    let format = match &cli {
        Ok(Cli { command: Command::Serve(config) }) => config.log_format,
        _ => LogFormat::Text,
    };
    // The client commands log nothing: their stderr is progress and one
    // error line.
    let is_client = matches!(&cli, Ok(Cli { command: Command::Client(_) }));
    let guard = (!is_client).then(|| logging::init(format));
    let result = cli.map_err(anyhow::Error::from).and_then(|cli| run(cli.command));
    // Flushes the log before anything else is written.
    drop(guard);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, the causes joined, never a backtrace: what failed
            // (address in use, unreadable data dir, a bad config file) is
            // the user's to fix, not a bug to debug.
            eprintln!("sds: {}", one_line(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes joined with `: `, leaving out a cause that
/// the message before it already ends with (errors that print their source).
fn one_line(error: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if line.ends_with(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line.replace('\n', " ")
}

fn run(command: Command) -> anyhow::Result<()> {
    match command {
        // A client failure is one line (it never holds the key): the
        // server's status and message, or the job's.
        Command::Client(command) => sds_server::client::run(command).map_err(anyhow::Error::msg),
        Command::Serve(config) => run_server(config),
        Command::Migrate(args) => {
            let rows = sds_server::migrate::run(&args).map_err(anyhow::Error::msg)?;
            print!("{}", sds_server::migrate::report::table(&rows));
            let failed =
                rows.iter().filter(|row| matches!(row.outcome, sds_server::migrate::Outcome::Failed(_))).count();
            if failed > 0 {
                anyhow::bail!("{failed} of {} data source(s) failed; run again to retry them", rows.len());
            }
            Ok(())
        }
        Command::Backup { to, store } => {
            if let Some(url) = &store.database_url {
                anyhow::bail!(
                    "sds backup copies a data dir's SQLite store; the store at {url} is PostgreSQL: back it up with pg_dump (README, \"Running on PostgreSQL\")"
                );
            }
            let summary = sds_server::backup::backup(&ServeConfig::for_store(store), &to)?;
            println!("backed up the store to {} ({} bytes)", std::path::absolute(&to)?.display(), summary.bytes);
            if summary.uploads_left_out > 0 {
                println!(
                    "{} load(s) not finished yet (their uploaded input is outside the store) are not in it: restored, they end Aborted, to be uploaded again",
                    summary.uploads_left_out
                );
            }
            Ok(())
        }
        Command::Keys { command: KeysCommand::Create { account, label, store } } => {
            let config = ServeConfig::for_store(store);
            if config.database_url.is_none() && data_dir::require_store(&config).is_err() {
                // Said on stderr: the key stays the last line of stdout.
                eprintln!("creating a new store in {}", std::path::absolute(&config.data_dir)?.display());
            }
            let store = open_store(&config)?;
            let (_, key) = sds_server::admin::create_key(store.as_ref(), &account, label.as_deref())?;
            println!("created a key for account '{account}':");
            println!("{}", key.expose());
            Ok(())
        }
        Command::Keys { command: KeysCommand::Import { account, key, label, store } } => {
            let store = open_store(&ServeConfig::for_store(store))?;
            let id = sds_server::admin::import_key(store.as_ref(), &account, &key, label.as_deref())?;
            println!("imported a key for account '{account}' (id {id})");
            Ok(())
        }
        Command::Keys { command: KeysCommand::List { store } } => {
            let store = open_existing_store(store)?;
            print!("{}", sds_server::admin::list_keys(store.as_ref())?);
            Ok(())
        }
        Command::Keys { command: KeysCommand::Revoke { id, transfer_to, store } } => {
            let store = open_existing_store(store)?;
            let outcome = store.revoke_key(sds_core::KeyId(id), transfer_to.map(sds_core::KeyId))?;
            println!("revoked key {id}");
            if let Some(successor) = transfer_to {
                println!("{} data source(s) now belong to key {successor}", outcome.transferred);
            }
            if outcome.without_master > 0 {
                println!(
                    "{} data source(s) still have key {id} as their master key: they can be queried but no longer managed (revoke again with --transfer-to to hand them over)",
                    outcome.without_master
                );
            }
            Ok(())
        }
    }
}

/// The store of a data dir that must already have one: read-only and
/// revoking commands never create an empty store in the wrong folder.
/// (A PostgreSQL store is named by its URL, never guessed: it is opened
/// as given.)
fn open_existing_store(store: StoreArgs) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let config = ServeConfig::for_store(store);
    if config.database_url.is_none() {
        data_dir::require_store(&config)?;
    }
    Ok(open_store(&config)?)
}

fn run_server(config: ServeConfig) -> anyhow::Result<()> {
    // A bad certificate or key stops the start here: one line naming the
    // file, status 1 (a backtrace would only bury it).
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => match sds_server::tls::acceptor(cert, key) {
            Ok(tls) => Some(tls),
            Err(error) => anyhow::bail!("{error}"),
        },
        // Checked here, not with clap's `requires`: a config file sets
        // flags as defaults, which `requires` does not see.
        (Some(_), None) => anyhow::bail!("--tls-cert needs --tls-key"),
        (None, Some(_)) => anyhow::bail!("--tls-key needs --tls-cert"),
        (None, None) => None,
    };
    // Held until the process ends: a second server on this dir is refused.
    let _lock = data_dir::lock(&config)?;
    // HTTP connections run on their own shard threads (`shards`); this
    // runtime only accepts connections and drives the job engine, whose
    // work runs on the blocking pool.
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let result = runtime.block_on(async move {
        // Bound before the store is opened: a port in use fails before a
        // first start creates (and prints) keys nobody may notice.
        let listener = tokio::net::TcpListener::bind(config.listen.as_str())
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        // Unreachable database: one line and exit 1, for the service
        // manager to start again (README, "Running on PostgreSQL"). On the
        // blocking pool: a PostgreSQL client blocks on a runtime of its own.
        let opening = config.clone();
        let (opened, keys) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let opened = open_stores(&opening)?;
            let keys = bootstrap(opened.store.as_ref())?;
            Ok((opened, keys))
        })
        .await??;
        if let Some(keys) = keys {
            println!("created account 'default' with two keys (shown only now; keep them secret):");
            println!("  master key (loads, downloads, jobs): {}", keys.master.expose());
            println!("  query key  (queries):                {}", keys.query.expose());
        }
        let address = listener.local_addr()?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        tracing::info!(
            data_dir = %std::path::absolute(&config.data_dir)?.display(),
            listen = %address,
            scheme,
            store = %config.store_description(),
            "sds started"
        );
        println!("sds listening on {scheme}://{address}");
        serve(config, listener, opened, tls).await?;
        Ok(())
    });
    // `serve` waited `--shutdown-timeout` already: a blocking task still
    // running (a job past its safe point, a slow `dataLocation` fetch) is
    // not waited for again; whatever it has not committed never counts.
    runtime.shutdown_background();
    result
}
