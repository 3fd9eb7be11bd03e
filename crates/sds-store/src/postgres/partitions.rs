//! A table per version: `entities` is partitioned by `version_id`
//! (migration 4), and each version's rows live in `entities_v{id}`.
//!
//! Why. Measured inside PostgreSQL on the 144,563 rows of cities1000.csv
//! (binary `COPY` of the store's rows; README, "Speed through the
//! store"), on the shared 2-core machine at load average 2–7: into a
//! table whose primary key and GiST index are maintained row by row,
//! 1.8–2.1 s; into a bare table 0.5–0.8 s, then 0.15–0.24 s to build the
//! primary key and 0.67–0.83 s to build the GiST index (`maintenance_work_mem`
//! 64 MB or 1 GB alike, `buffering=off` no faster); into a table with only
//! the GiST index, 1.22–1.41 s, the same as the bare copy plus the GiST
//! build (1.15–1.47 s). So the primary key is built once at the end (a
//! fifth of its row-by-row cost), while the GiST index is maintained as
//! rows come: that costs nothing more, and it runs while `sds` parses the
//! next batch, where a build at the end would add its whole time to the
//! load (measured end to end: building both at the end was no faster than
//! before). Dropping a version is a `DROP TABLE` instead of a row-by-row
//! `DELETE` (and the dead rows' vacuum).
//!
//! The life of a version's table:
//! - [`create`]: made with its GiST index and without its primary key,
//!   in the transaction that inserts the version's row, with a `CHECK
//!   (version_id = id)` so that attaching it later need not scan it.
//! - Loads copy into it directly (`entities.rs`). Its primary key is made
//!   early ([`ensure_primary_key`]) only when a batch must replace or
//!   delete a row already there (an incremental load, an ID repeated
//!   across batches).
//! - [`seal`]: before the commit that publishes or stages the version, its
//!   primary key is built and it is attached to `entities`
//!   (<https://www.postgresql.org/docs/15/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE>:
//!   an index of the partition that matches the parent's is attached
//!   instead of built again; the CHECK spares the scan). `ATTACH` takes
//!   `SHARE UPDATE EXCLUSIVE` on `entities`, which readers do not wait for.
//! - When the version is dropped, only its row in `versions` is deleted,
//!   inside the dropping transaction; [`sweep`] drops the tables whose row
//!   is gone afterwards, each with a short `lock_timeout`. Dropping an
//!   attached partition takes `ACCESS EXCLUSIVE` on `entities` (every
//!   reader of the view waits behind it), and a table a writer still holds
//!   (a server stalled in the middle of a batch) cannot be dropped until
//!   that writer's transaction ends: neither may hold up the store's
//!   single writer, so a table that cannot be had now is left for the next
//!   sweep. Such a table is invisible: no version row names it, it is not
//!   attached (or, attached by a stalled seal, no data source's published
//!   version is it), and the store reads a version's rows only after
//!   finding its row.
//!
//! The store reads and writes `entities_v{id}` by name, never through
//! `entities`, so none of its statements locks the parent.

use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, Transaction};
use sds_core::VersionId;

use crate::{StoreError, StoreResult};

/// How long [`sweep`] waits for a table's lock before leaving it for later.
const SWEEP_LOCK_TIMEOUT: Duration = Duration::from_millis(200);

/// The name of a version's table (ids are integers: no quoting needed).
pub(super) fn table(version: VersionId) -> String {
    format!("entities_v{}", version.0)
}

/// Creates a version's table with its GiST index and no primary key (see
/// the module docs).
pub(super) fn create(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<()> {
    let table = table(version);
    tx.batch_execute(&format!(
        "CREATE TABLE {table} (LIKE entities, CONSTRAINT {table}_version CHECK (version_id = {id}))",
        id = version.0
    ))?;
    tx.batch_execute(&format!("CREATE INDEX {table}_geography ON {table} USING gist (geography)"))?;
    Ok(())
}

/// Whether the version's table has its primary key; `NotFound` without a table.
fn has_primary_key(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<bool> {
    let row = tx.query_one(
        "SELECT to_regclass($1) IS NOT NULL,
                EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype = 'p')",
        &[&table(version)],
    )?;
    if !row.get::<_, bool>(0) {
        return Err(StoreError::NotFound(format!("version {version}")));
    }
    Ok(row.get(1))
}

/// Gives the version's table its primary key now, if it has none.
pub(super) fn ensure_primary_key(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<()> {
    if !has_primary_key(tx, version)? {
        let table = table(version);
        tx.batch_execute(&format!(
            "ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (version_id, entity_key)"
        ))?;
    }
    Ok(())
}

/// Builds the GiST index on `geography`, if missing.
pub(super) fn build_geography_index(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<()> {
    has_primary_key(tx, version)?;
    let table = table(version);
    tx.batch_execute(&format!("CREATE INDEX IF NOT EXISTS {table}_geography ON {table} USING gist (geography)"))?;
    Ok(())
}

/// Gives the version's table the indexes it lacks and attaches it to
/// `entities`, unless it is already (see the module docs).
pub(super) fn seal(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<()> {
    ensure_primary_key(tx, version)?;
    build_geography_index(tx, version)?;
    let table = table(version);
    let attached: bool =
        tx.query_one("SELECT relispartition FROM pg_class WHERE oid = to_regclass($1)", &[&table])?.get(0);
    if !attached {
        tx.batch_execute(&format!("ALTER TABLE entities ATTACH PARTITION {table} FOR VALUES IN ({})", version.0))?;
    }
    Ok(())
}

/// Drops the tables of versions whose row is gone (see the module docs);
/// returns how many it dropped and how many it left, locked, for the next
/// sweep.
pub(super) fn sweep(client: &mut Client) -> StoreResult<(u64, u64)> {
    let rows = client.query(
        "SELECT c.relname::text FROM pg_class c
         WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())
           AND c.relkind = 'r' AND c.relname ~ '^entities_v[0-9]+$'
           AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.id = substr(c.relname, 11)::bigint)",
        &[],
    )?;
    let (mut dropped, mut left) = (0, 0);
    for row in rows {
        let table: String = row.get(0);
        let mut tx = client.transaction()?;
        let statement =
            format!("SET LOCAL lock_timeout = {}; DROP TABLE IF EXISTS {table}", SWEEP_LOCK_TIMEOUT.as_millis());
        match tx.batch_execute(&statement) {
            Ok(()) => {
                tx.commit()?;
                dropped += 1;
            }
            Err(error) if error.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => {
                tracing::debug!(%table, "a dropped version's table is in use; left for the next sweep");
                tx.rollback()?;
                left += 1;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok((dropped, left))
}

/// A missing version table (dropped under a reader) reads as the version
/// being gone.
pub(super) fn missing_table_is_not_found(version: VersionId) -> impl Fn(postgres::Error) -> StoreError {
    move |error| {
        if error.code() == Some(&SqlState::UNDEFINED_TABLE) {
            StoreError::NotFound(format!("version {version}"))
        } else {
            error.into()
        }
    }
}
