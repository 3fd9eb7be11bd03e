//! The table `sds migrate` ends with.

use std::fmt;

/// What happened to one data source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Loaded into the target (created or replaced).
    Migrated,
    /// Already at the target with the same content: skipped.
    Unchanged,
    /// `--dry-run`: the target has no such data source yet.
    WouldCreate,
    /// `--dry-run`: the target has it; a run compares and reloads if needed.
    WouldUpdate,
    Failed(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Migrated => f.write_str("migrated"),
            Outcome::Unchanged => f.write_str("unchanged (same content; --force reloads)"),
            Outcome::WouldCreate => f.write_str("would create"),
            Outcome::WouldUpdate => f.write_str("would update (exists at the target)"),
            Outcome::Failed(reason) => write!(f, "FAILED: {reason}"),
        }
    }
}

/// One line of the final table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub name: String,
    pub access_id: String,
    /// Entities of the published version at the source (`None`: not read).
    pub at_source: Option<u64>,
    pub at_target: Option<u64>,
    pub outcome: Outcome,
}

/// Columns name, accessId, entities at the source, at the target, status,
/// padded to their widest cell.
pub fn table(rows: &[Row]) -> String {
    let count = |value: Option<u64>| value.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let mut cells = vec![[
        "name".to_owned(),
        "accessId".to_owned(),
        "at source".to_owned(),
        "at target".to_owned(),
        "status".to_owned(),
    ]];
    for row in rows {
        cells.push([
            row.name.clone(),
            row.access_id.clone(),
            count(row.at_source),
            count(row.at_target),
            row.outcome.to_string(),
        ]);
    }
    let widths: Vec<usize> =
        (0..4).map(|column| cells.iter().map(|line| line[column].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    for line in &cells {
        for (column, width) in widths.iter().enumerate() {
            let cell = &line[column];
            let pad = width - cell.chars().count();
            if column >= 2 {
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            } else {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            }
            out.push_str("  ");
        }
        out.push_str(&line[4]);
        out.push('\n');
    }
    out
}
