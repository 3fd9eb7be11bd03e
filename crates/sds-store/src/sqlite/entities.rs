//! The entities of versions: written in batches by loads, read in ID order.

use std::io;

use rusqlite::{params, Connection};
use sds_core::entity::BuiltRecord;
use sds_core::{Entity, VersionId};

use super::codec::blob;
use super::versions;
use crate::codec::{decode_entity, encode_entity};
use crate::{StoreError, StoreResult};

pub(super) fn write_entities(connection: &Connection, version: VersionId, batch: &[BuiltRecord]) -> StoreResult<()> {
    versions::require_building(connection, version)?;
    // OR REPLACE: an ID seen in the base version or earlier in the upload is
    // replaced, which is what both complete and incremental loads want.
    let mut upsert = connection.prepare_cached(
        "INSERT OR REPLACE INTO entities
             (version_id, entity_key, latitude, longitude, min_lon, min_lat, max_lon, max_lat, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?;
    let mut delete = connection.prepare_cached("DELETE FROM entities WHERE version_id = ?1 AND entity_key = ?2")?;
    // Applying the batch in key order keeps consecutive inserts on
    // neighbouring b-tree pages. The sort is stable, so for an ID repeated
    // in the batch the last record still wins.
    let mut keyed: Vec<(String, &BuiltRecord)> =
        batch.iter().map(|record| (Entity::key_of(record.id()), record)).collect();
    keyed.sort_by(|left, right| left.0.cmp(&right.0));
    let mut data = Vec::with_capacity(256);
    for (key, record) in keyed {
        match record {
            BuiltRecord::Upsert(entity) => {
                encode_entity(entity, &mut data)?;
                let bounds = entity.bounds;
                upsert.execute(params![
                    version.0,
                    key,
                    entity.latitude,
                    entity.longitude,
                    bounds.map(|bounds| bounds.min_longitude),
                    bounds.map(|bounds| bounds.min_latitude),
                    bounds.map(|bounds| bounds.max_longitude),
                    bounds.map(|bounds| bounds.max_latitude),
                    &data[..],
                ])?;
            }
            BuiltRecord::Delete { .. } => {
                delete.execute(params![version.0, key])?;
            }
        }
    }
    Ok(())
}

pub(super) fn copy_entities(connection: &Connection, from: VersionId, to: VersionId) -> StoreResult<u64> {
    versions::state(connection, from)?;
    versions::require_building(connection, to)?;
    let copied = connection
        .prepare_cached(
            "INSERT OR REPLACE INTO entities
                 (version_id, entity_key, latitude, longitude, min_lon, min_lat, max_lon, max_lat, data)
             SELECT ?2, entity_key, latitude, longitude, min_lon, min_lat, max_lon, max_lat, data
             FROM entities WHERE version_id = ?1",
        )?
        .execute(params![from.0, to.0])?;
    Ok(copied as u64)
}

pub(super) fn count_entities(connection: &Connection, version: VersionId) -> StoreResult<u64> {
    versions::state(connection, version)?;
    let count: i64 = connection
        .prepare_cached("SELECT COUNT(*) FROM entities WHERE version_id = ?1")?
        .query_row([version.0], |row| row.get(0))?;
    Ok(count as u64)
}

/// Streams a version's entities from one read snapshot; only the current
/// row is ever decoded, so memory stays flat however large the version.
pub(super) fn for_each_entity(
    connection: &Connection,
    version: VersionId,
    visit: &mut dyn FnMut(Entity) -> io::Result<()>,
) -> StoreResult<u64> {
    versions::state(connection, version)?;
    let mut statement =
        connection.prepare_cached("SELECT data FROM entities WHERE version_id = ?1 ORDER BY entity_key")?;
    let mut rows = statement.query([version.0])?;
    let mut visited = 0;
    while let Some(row) = rows.next()? {
        let entity = decode_entity(blob(row.get_ref(0)?)?)?;
        visit(entity).map_err(StoreError::Visitor)?;
        visited += 1;
    }
    Ok(visited)
}
