//! Log output: `tracing` events to stderr, as text or one JSON object per
//! line (`--log-format`), filtered by `RUST_LOG` (default `info`).
//!
//! Lines are written by a background thread (`tracing_appender`): a shard
//! that logs a request only formats the line and hands it over, so a slow
//! terminal or log pipe never stalls the query path. Under a flood of
//! requests that outruns the writer (more than 128,000 lines queued), lines
//! are dropped rather than requests slowed.

use tracing_subscriber::EnvFilter;

/// How log lines are written (`--log-format`).
#[derive(clap::ValueEnum, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines; colour only when stderr is a terminal.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `target`, the event's
    /// fields (`message`, `route`, `status`…) at the top level, and `span`
    /// and `spans` with the fields of the enclosing spans (a job's id and kind).
    Json,
}

/// Keeps the log writer thread running; drop it last (it flushes).
#[must_use = "dropping the guard stops the log writer"]
pub struct LogGuard(#[allow(dead_code)] tracing_appender::non_blocking::WorkerGuard);

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(format: LogFormat) -> LogGuard {
    let (writer, guard) = tracing_appender::non_blocking(std::io::stderr());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer);
    match format {
        // Colour codes only on a terminal: a log file stays greppable.
        LogFormat::Text => builder.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init(),
        LogFormat::Json => builder.json().flatten_event(true).with_ansi(false).init(),
    }
    LogGuard(guard)
}
