//! Progress on stderr: an `indicatif` bar when stderr is a terminal, plain
//! lines otherwise (`sending: 1048576/3145728 bytes`), at most one a second
//! per phase plus the final one, so that a log or CI output stays short
//! and free of control codes.

use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a phase counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Entities,
}

/// One progress display, shared by the threads that report into it.
#[derive(Clone)]
pub struct Progress {
    state: Arc<Mutex<State>>,
}

struct State {
    /// The bar of the current phase, on a terminal only.
    bar: Option<ProgressBar>,
    terminal: bool,
    phase: String,
    unit: Unit,
    length: Option<u64>,
    position: u64,
    printed: Option<Instant>,
    /// What the last plain line said: a line is never printed twice.
    said: Option<(u64, Option<u64>)>,
}

/// The pause between two plain lines of one phase.
const LINE_INTERVAL: Duration = Duration::from_secs(1);

impl Progress {
    /// A bar when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Progress {
        let state = State {
            bar: None,
            terminal: std::io::stderr().is_terminal(),
            phase: String::new(),
            unit: Unit::Bytes,
            length: None,
            position: 0,
            printed: None,
            said: None,
        };
        Progress { state: Arc::new(Mutex::new(state)) }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Starts a phase (`sending`, `processing`…) counting `unit`, of
    /// `length` when known.
    pub fn phase(&self, phase: &str, length: Option<u64>, unit: Unit) {
        let mut state = self.state();
        state.phase = phase.to_owned();
        state.unit = unit;
        state.length = length;
        state.position = 0;
        state.printed = None;
        state.said = None;
        if state.terminal {
            let counts = match (unit, length.is_some()) {
                (Unit::Bytes, true) => "{bytes}/{total_bytes} ({bytes_per_sec})",
                (Unit::Bytes, false) => "{bytes} ({bytes_per_sec})",
                (Unit::Entities, _) => "{pos}/{len} entities",
            };
            let template = format!("{{prefix:>10}} [{{bar:30.cyan/blue}}] {counts} {{elapsed}}");
            let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
            bar.set_style(ProgressStyle::with_template(&template).expect("a valid template").progress_chars("=> "));
            bar.set_prefix(phase.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            state.bar = Some(bar);
        }
    }

    /// The phase's total, once known (a job's `totalEntityCount`).
    pub fn set_length(&self, length: u64) {
        let mut state = self.state();
        state.length = Some(length);
        if let Some(bar) = &state.bar {
            bar.set_length(length);
        }
    }

    /// The phase's position; a plain line at most once a second.
    pub fn set_position(&self, position: u64) {
        let mut state = self.state();
        state.position = position;
        match &state.bar {
            Some(bar) => bar.set_position(position),
            None if !state.terminal && state.printed.is_none_or(|printed| printed.elapsed() >= LINE_INTERVAL) => {
                state.print();
            }
            None => {}
        }
    }

    /// A dataflow job's counts: `processedEntityCount` of
    /// `totalEntityCount` (which grows while a load reads its input).
    pub fn job(&self, job: &serde_json::Value) {
        if let Some(total) = job["totalEntityCount"].as_u64().filter(|total| *total > 0) {
            self.set_length(total);
        }
        self.set_position(job["processedEntityCount"].as_u64().unwrap_or(0));
    }

    /// Ends the phase with a line of its final count (the bar, cleared,
    /// leaves that line in its place).
    pub fn finish(&self) {
        let mut state = self.state();
        if let Some(bar) = state.bar.take() {
            bar.finish_and_clear();
        }
        if !state.phase.is_empty() {
            state.print();
        }
        state.phase.clear();
    }
}

impl State {
    fn print(&mut self) {
        if self.said == Some((self.position, self.length)) {
            return;
        }
        self.said = Some((self.position, self.length));
        let unit = match self.unit {
            Unit::Bytes => "bytes",
            Unit::Entities => "entities",
        };
        match self.length {
            Some(length) => eprintln!("{}: {}/{length} {unit}", self.phase, self.position),
            None => eprintln!("{}: {} {unit}", self.phase, self.position),
        }
        self.printed = Some(Instant::now());
    }
}
