//! The entities of versions: written in batches by loads with binary
//! `COPY` into the version's own table (`partitions.rs`), read back in ID
//! order through a portal, a slice at a time.

use std::io;

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use postgres::Transaction;
use sds_core::entity::BuiltRecord;
use sds_core::{Entity, Schema, VersionId, VersionState};

use super::codec::{from_json, get};
use super::error::is_unique_violation;
use super::geo::{geography_wkb, properties_json, Jsonb, Wkb};
use super::{partitions, versions};
use crate::codec::{decode_entity, encode_entity};
use crate::{StoreError, StoreResult};

/// Rows fetched per round trip while streaming a version: enough to make
/// the round trip negligible, few enough that only one slice is in memory.
const FETCH_ROWS: i32 = 4_000;

/// A batch with the last record for each key (as if applied in order),
/// in key order (neighbouring b-tree pages).
pub(super) fn last_per_key(batch: &[BuiltRecord]) -> Vec<(String, &BuiltRecord)> {
    let mut keyed: Vec<(String, &BuiltRecord)> =
        batch.iter().map(|record| (Entity::key_of(record.id()), record)).collect();
    // Stable: for a key repeated in the batch, the last record stays last.
    keyed.sort_by(|left, right| left.0.cmp(&right.0));
    let mut last: Vec<(String, &BuiltRecord)> = Vec::with_capacity(keyed.len());
    for (key, record) in keyed {
        match last.last_mut() {
            Some(previous) if previous.0 == key => previous.1 = record,
            _ => last.push((key, record)),
        }
    }
    last
}

/// Copies a batch none of whose keys is in the version yet (the caller
/// knows: `PostgresStore::write_entities`): its upserts go straight into
/// the version's bare table, its deletes have nothing to delete.
pub(super) fn append_entities(
    tx: &mut Transaction<'_>,
    geography: &Type,
    version: VersionId,
    batch: &[(String, &BuiltRecord)],
) -> StoreResult<()> {
    let schema = building_schema(tx, version)?;
    match copy_rows(tx, geography, &schema, version, batch) {
        Ok(()) => still_building(tx, version),
        Err(CopyError::Store(error)) => Err(error),
        Err(CopyError::Duplicate) => Err(StoreError::Corrupt(format!("version {version} has a key twice"))),
    }
}

/// Applies a batch to a version that may hold some of its keys, through
/// the version's primary key (made now if it has none).
///
/// A key already in the version must be deleted before its new row is
/// copied in. Probing the index for every key of every batch cost as much
/// as the copy itself (a 5,000-key `DELETE … = ANY` took 20–60 ms against
/// 50–90 ms for the `COPY`), and many batches hold no such key. So the
/// batch is first copied in a savepoint; only if that hits the primary
/// key is it rolled back and applied as delete-then-copy, and `slow` (a
/// hint, kept by the caller per version) says to go straight there for
/// the next batches. Deletes always go that way.
pub(super) fn write_entities(
    tx: &mut Transaction<'_>,
    geography: &Type,
    version: VersionId,
    last: &[(String, &BuiltRecord)],
    slow: &mut bool,
) -> StoreResult<()> {
    let schema = building_schema(tx, version)?;
    if last.is_empty() {
        return Ok(());
    }
    partitions::ensure_primary_key(tx, version)?;
    let has_deletes = last.iter().any(|(_, record)| matches!(record, BuiltRecord::Delete { .. }));
    if !*slow && !has_deletes {
        let mut savepoint = tx.savepoint("copy_batch")?;
        match copy_rows(&mut savepoint, geography, &schema, version, last) {
            Ok(()) => {
                savepoint.commit()?;
                return still_building(tx, version);
            }
            Err(CopyError::Store(error)) => return Err(error),
            Err(CopyError::Duplicate) => *slow = true,
        }
    }
    let keys: Vec<&str> = last.iter().map(|(key, _)| key.as_str()).collect();
    tx.execute(&format!("DELETE FROM {} WHERE entity_key = ANY($1)", partitions::table(version)), &[&keys])?;
    match copy_rows(tx, geography, &schema, version, last) {
        Ok(()) => still_building(tx, version),
        Err(CopyError::Store(error)) => Err(error),
        Err(CopyError::Duplicate) => Err(StoreError::Corrupt(format!("version {version} has a key twice"))),
    }
}

/// The fence of a batch, as its last statement: the version must still be
/// building. A writer that stalled (a server stopped, not killed) while
/// another server took its job over and dropped the version finds the row
/// gone here, and its batch is rolled back: a late batch never commits
/// rows for a version that no longer exists. (Should the drop commit
/// between this check and the batch's commit, the rows are in a table no
/// version names, which nothing reads and the next sweep drops:
/// `partitions.rs`.)
fn still_building(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<()> {
    versions::require_building(tx, version)
}

enum CopyError {
    /// A key of the batch is already in the version.
    Duplicate,
    Store(StoreError),
}

impl<E: Into<StoreError>> From<E> for CopyError {
    fn from(error: E) -> Self {
        CopyError::Store(error.into())
    }
}

/// Copies the upserts of a keyed batch into a version with binary `COPY`.
fn copy_rows(
    tx: &mut Transaction<'_>,
    geography: &Type,
    schema: &Schema,
    version: VersionId,
    batch: &[(String, &BuiltRecord)],
) -> Result<(), CopyError> {
    if !batch.iter().any(|(_, record)| matches!(record, BuiltRecord::Upsert(_))) {
        return Ok(());
    }
    let sink = tx
        .copy_in(&format!(
            "COPY {} (version_id, entity_key, entity_id, latitude, longitude, geography, properties, data)
             FROM STDIN (FORMAT binary)",
            partitions::table(version)
        ))
        .map_err(|error| CopyError::Store(partitions::missing_table_is_not_found(version)(error)))?;
    let types =
        [Type::INT8, Type::TEXT, Type::TEXT, Type::FLOAT8, Type::FLOAT8, geography.clone(), Type::JSONB, Type::BYTEA];
    let mut writer = BinaryCopyInWriter::new(sink, &types);
    let (mut data, mut wkb, mut json) = (Vec::with_capacity(256), Vec::with_capacity(32), Vec::with_capacity(256));
    for (key, record) in batch {
        let BuiltRecord::Upsert(entity) = record else { continue };
        encode_entity(entity, &mut data)?;
        geography_wkb(entity, &mut wkb)?;
        properties_json(schema, entity, &mut json)?;
        writer
            .write(&[
                &version.0,
                key,
                &entity.id,
                &entity.latitude,
                &entity.longitude,
                &Wkb(&wkb),
                &Jsonb(&json),
                &data.as_slice(),
            ])
            .map_err(copy_error)?;
    }
    writer.finish().map(|_| ()).map_err(copy_error)
}

/// The server may report a repeated key at the end of the copy or while
/// rows are still being sent.
fn copy_error(error: postgres::Error) -> CopyError {
    if is_unique_violation(&error) {
        CopyError::Duplicate
    } else {
        CopyError::Store(error.into())
    }
}

/// The schema of a version that is being built; `NotFound` or `Conflict` otherwise.
fn building_schema(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<Schema> {
    let row = tx
        .query_opt("SELECT state, schema FROM versions WHERE id = $1", &[&version.0])?
        .ok_or_else(|| StoreError::NotFound(format!("version {version}")))?;
    let state: &str = get(&row, "state")?;
    if state != VersionState::Building.as_str() {
        return Err(StoreError::Conflict(format!("version {version} is {state}, not building")));
    }
    from_json(get(&row, "schema")?, "a version's schema")
}

/// Copies `from`'s rows into `to`'s bare table, then gives it its primary
/// key: the batches of an incremental load replace and delete rows.
pub(super) fn copy_entities(tx: &mut Transaction<'_>, from: VersionId, to: VersionId) -> StoreResult<u64> {
    versions::state(tx, from)?;
    versions::require_building(tx, to)?;
    let (source, target) = (partitions::table(from), partitions::table(to));
    let copied = tx
        .execute(
            &format!(
                "INSERT INTO {target} (version_id, entity_key, entity_id, latitude, longitude, geography, properties, data)
                 SELECT $1, entity_key, entity_id, latitude, longitude, geography, properties, data
                 FROM {source} ORDER BY entity_key"
            ),
            &[&to.0],
        )
        .map_err(partitions::missing_table_is_not_found(from))?;
    partitions::ensure_primary_key(tx, to)?;
    Ok(copied)
}

pub(super) fn count_entities(tx: &mut Transaction<'_>, version: VersionId) -> StoreResult<u64> {
    versions::state(tx, version)?;
    let count: i64 = tx
        .query_one(&format!("SELECT COUNT(*) FROM {}", partitions::table(version)), &[])
        .map_err(partitions::missing_table_is_not_found(version))?
        .get(0);
    Ok(count as u64)
}

/// Streams a version's entities from the read transaction's snapshot
/// through a portal, [`FETCH_ROWS`] at a time, so memory stays flat
/// however large the version, and a visitor that fails stops the scan
/// after at most one slice.
pub(super) fn for_each_entity(
    tx: &mut Transaction<'_>,
    version: VersionId,
    visit: &mut dyn FnMut(Entity) -> io::Result<()>,
) -> StoreResult<u64> {
    versions::state(tx, version)?;
    let portal = tx
        .bind(&format!("SELECT data FROM {} ORDER BY entity_key", partitions::table(version)), &[])
        .map_err(partitions::missing_table_is_not_found(version))?;
    let mut visited = 0;
    loop {
        let rows = tx.query_portal(&portal, FETCH_ROWS)?;
        if rows.is_empty() {
            return Ok(visited);
        }
        for row in &rows {
            let entity = decode_entity(get(row, "data")?)?;
            visit(entity).map_err(StoreError::Visitor)?;
            visited += 1;
        }
    }
}
