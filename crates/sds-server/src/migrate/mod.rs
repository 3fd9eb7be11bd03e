//! `sds migrate`: copies every data source of an account from one SDS
//! endpoint (Bing SDS, or another `sds`) to another, keeping names, entity
//! types, accessIds, descriptions, public flags and staged versions, so
//! that application URLs keep working with only their host changed.
//!
//! For each data source of the source account (the Atom service document
//! of `GET /REST/v1/data?key=`): download the published version (and the
//! staged one), load it into the target with `accessId=` (which `sds`
//! adopts for a new data source, see README "Adopting an accessId"), and
//! compare. A data source whose content, description and flag already
//! match at the target is skipped unless `--force`. A failure of one data
//! source is reported and the others go on.

mod client;
mod fingerprint;
pub mod report;

use std::io::IsTerminal;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::client::atom::SourceInfo;
use client::{Endpoint, LoadRequest};
use fingerprint::fingerprint;
pub use report::{Outcome, Row};

#[derive(Args, Clone, Debug)]
pub struct MigrateArgs {
    /// The source endpoint, e.g. `https://spatial.virtualearth.net`.
    #[arg(long)]
    pub from: String,
    /// A master key of the source account (the key that loaded its data
    /// sources: downloads need it).
    #[arg(long, env = "SDS_MIGRATE_FROM_KEY", hide_env_values = true)]
    pub from_key: String,
    /// The target `sds`, e.g. `http://127.0.0.1:8080`.
    #[arg(long)]
    pub to: String,
    /// The key the data sources get as master key at the target. To keep
    /// application URLs unchanged, import the source key first
    /// (`sds keys import`) and give the same value here.
    #[arg(long, env = "SDS_MIGRATE_TO_KEY", hide_env_values = true)]
    pub to_key: String,
    /// The query key the data sources get at the target (`queryKey=`):
    /// the source's query key, imported into the target account.
    #[arg(long)]
    pub query_key: Option<String>,
    /// Only list what would be done.
    #[arg(long)]
    pub dry_run: bool,
    /// Only these data sources (by name, case-insensitively).
    #[arg(long, num_args = 1..)]
    pub only: Vec<String>,
    /// Reload data sources whose content already matches at the target.
    #[arg(long)]
    pub force: bool,
}

/// Runs the migration; returns one row per data source, in the source's
/// order. Errors: only when the source's data sources cannot be listed.
pub fn run(args: &MigrateArgs) -> Result<Vec<Row>, String> {
    let source = client::endpoint(&args.from, &args.from_key)?;
    let target = client::endpoint(&args.to, &args.to_key)?;
    let mut listed = client::data_sources(&source).map_err(|error| format!("the source: {error}"))?;
    // A name given to --only that the source does not have is a failed
    // row, so a typo ends with a non-zero exit status.
    let mut missing = Vec::new();
    if !args.only.is_empty() {
        listed.retain(|info| args.only.iter().any(|name| name.eq_ignore_ascii_case(&info.name)));
        for name in &args.only {
            if !listed.iter().any(|info| info.name.eq_ignore_ascii_case(name)) {
                missing.push(Row {
                    name: name.clone(),
                    access_id: "-".into(),
                    at_source: None,
                    at_target: None,
                    outcome: Outcome::Failed("--only: the source account has no data source of that name".into()),
                });
            }
        }
    }
    // The target's own data sources, to find a name it already uses under
    // another accessId (which no re-run can migrate into).
    let at_target = client::data_sources(&target).map_err(|error| format!("the target: {error}"))?;
    let bars = Bars::new(listed.len() as u64);
    let mut rows = Vec::with_capacity(listed.len());
    for info in &listed {
        let bar = bars.start(&info.name);
        let row = match name_taken(&at_target, info) {
            Some(reason) => Row {
                name: info.name.clone(),
                access_id: info.access_id.clone(),
                at_source: None,
                at_target: None,
                outcome: Outcome::Failed(reason),
            },
            None if args.dry_run => dry_run(&target, info),
            None => migrate_one(&source, &target, info, args, &bar),
        };
        bars.finish(bar, &row);
        rows.push(row);
    }
    bars.done();
    rows.extend(missing);
    Ok(rows)
}

/// Why a data source cannot be migrated because the target account has
/// another data source of that name (names are unique per account, and a
/// data source keeps its accessId), if it does.
fn name_taken(at_target: &[SourceInfo], info: &SourceInfo) -> Option<String> {
    let other = at_target.iter().find(|other| {
        other.name.eq_ignore_ascii_case(&info.name) && !other.access_id.eq_ignore_ascii_case(&info.access_id)
    })?;
    Some(format!(
        "the target: the account already has a data source named '{}' with accessId {}; delete or rename it at the target, then run again",
        other.name, other.access_id
    ))
}

fn dry_run(target: &Endpoint, info: &SourceInfo) -> Row {
    let outcome = match client::versions(target, &info.access_id, &info.name) {
        Ok(Some(_)) => Outcome::WouldUpdate,
        Ok(None) => Outcome::WouldCreate,
        Err(error) => Outcome::Failed(format!("the target: {error}")),
    };
    Row { name: info.name.clone(), access_id: info.access_id.clone(), at_source: None, at_target: None, outcome }
}

fn migrate_one(source: &Endpoint, target: &Endpoint, info: &SourceInfo, args: &MigrateArgs, bar: &ProgressBar) -> Row {
    let mut row = Row {
        name: info.name.clone(),
        access_id: info.access_id.clone(),
        at_source: None,
        at_target: None,
        outcome: Outcome::Migrated,
    };
    if let Err(error) = copy(source, target, info, args, bar, &mut row) {
        row.outcome = Outcome::Failed(error);
    }
    row
}

/// One data source: its published version, then its staged one.
fn copy(
    source: &Endpoint,
    target: &Endpoint,
    info: &SourceInfo,
    args: &MigrateArgs,
    bar: &ProgressBar,
    row: &mut Row,
) -> Result<(), String> {
    let versions = client::versions(source, &info.access_id, &info.name)
        .map_err(|e| format!("the source: {e}"))?
        .unwrap_or_default();
    // A data source created by a staging load has only a staged version;
    // without showAllVersions flags (an older endpoint) assume a published one.
    let has_published = versions.is_empty() || versions.iter().any(|version| !version.is_staging);
    let has_staged = versions.iter().any(|version| version.is_staging);
    let existing = client::versions(target, &info.access_id, &info.name).map_err(|e| format!("the target: {e}"))?;
    // The published version is the active one; an endpoint without the
    // version flags shows one workspace, taken as published.
    let target_published = existing.as_ref().and_then(|versions| {
        versions.iter().find(|v| v.is_active).or_else(|| versions.iter().find(|v| !v.is_staging)).cloned()
    });
    let target_has_staged = existing.as_ref().is_some_and(|versions| versions.iter().any(|v| v.is_staging));

    let mut loaded_any = false;
    let mut stages = Vec::new();
    if has_published {
        stages.push(false);
    }
    if has_staged {
        stages.push(true);
    }
    for staged in stages {
        let label = if staged { "staged" } else { "published" };
        bar.set_message(format!("{}: downloading the {label} version", info.name));
        let document =
            client::download(source, &info.access_id, &info.name, staged).map_err(|e| format!("the source: {e}"))?;
        let at_source = fingerprint(&document).map_err(|e| format!("the source's {label} version: {e}"))?;
        if !staged {
            row.at_source = Some(at_source.entities);
        }
        let metadata_matches = staged
            || target_published
                .as_ref()
                .is_some_and(|version| version.is_public == info.is_public && version.description == info.description);
        let target_holds_version = if staged { target_has_staged } else { target_published.is_some() };
        if !args.force && metadata_matches && target_holds_version {
            bar.set_message(format!("{}: comparing with the target", info.name));
            let at_target =
                client::download(target, &info.access_id, &info.name, staged).ok().and_then(|d| fingerprint(&d).ok());
            if at_target.as_ref() == Some(&at_source) {
                if !staged {
                    row.at_target = Some(at_source.entities);
                }
                continue;
            }
        }
        bar.set_message(format!("{}: loading the {label} version", info.name));
        bar.set_length(at_source.entities);
        let request = LoadRequest {
            name: &info.name,
            access_id: &info.access_id,
            description: info.description.as_deref(),
            is_public: info.is_public,
            staged,
            query_key: args.query_key.as_deref(),
        };
        let loaded = client::load(target, &request, document, &|done| bar.set_position(done))
            .map_err(|e| format!("the target: {e}"))?;
        if loaded.access_id.as_deref().is_some_and(|id| !id.eq_ignore_ascii_case(&info.access_id)) {
            return Err(format!(
                "the target gave the data source accessId {} instead of {}",
                loaded.access_id.unwrap_or_default(),
                info.access_id
            ));
        }
        if !staged {
            row.at_target = Some(loaded.entities);
        }
        if loaded.failed > 0 {
            return Err(format!("the target skipped {} of the {label} version's entities", loaded.failed));
        }
        loaded_any = true;
    }
    if !has_published {
        row.at_source = Some(0);
        row.at_target = Some(0);
    }
    row.outcome = if loaded_any { Outcome::Migrated } else { Outcome::Unchanged };
    Ok(())
}

/// Progress: an overall bar and one per data source, drawn only on a
/// terminal (a log or a pipe gets the final table alone).
struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
}

impl Bars {
    fn new(total: u64) -> Bars {
        let target =
            if std::io::stderr().is_terminal() { ProgressDrawTarget::stderr() } else { ProgressDrawTarget::hidden() };
        let multi = MultiProgress::with_draw_target(target);
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} data sources").expect("a valid template"),
        );
        overall.set_prefix("overall");
        Bars { multi, overall }
    }

    fn start(&self, name: &str) -> ProgressBar {
        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(0));
        bar.set_style(
            ProgressStyle::with_template("  {msg} [{bar:20}] {pos}/{len} entities").expect("a valid template"),
        );
        bar.set_message(name.to_owned());
        bar
    }

    fn finish(&self, bar: ProgressBar, row: &Row) {
        bar.finish_and_clear();
        let _ = self.multi.println(format!("{}: {}", row.name, row.outcome));
        self.overall.inc(1);
    }

    fn done(&self) {
        self.overall.finish_and_clear();
    }
}
