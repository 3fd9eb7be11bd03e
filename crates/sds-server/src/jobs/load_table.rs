//! The new version's query table, built by the load job that writes the
//! version (issue 16): the entities it wrote are at hand, so the table
//! need not be read back from the store by the version's first query or
//! download. It is handed to the query cache, and its snapshot written,
//! once the version is committed; an aborted or failed load builds none.
//!
//! The table must be exactly the one a query would build from the store:
//! the store streams a version ordered by its entity key
//! ([`Entity::key_of`], the lowercased ID, in byte order), so the gathered
//! entities are sorted the same way. A complete load's version is its
//! upserts; an incremental load's is its base version's entities, less
//! the IDs it upserts or deletes, plus its upserts (what
//! `Store::copy_entities` and `Store::write_entities` leave in the
//! store). The base version's entities come from its table when one is at
//! hand (cached or snapshotted); otherwise the new version is read back
//! from the store, as a first query would.
//!
//! Memory: the gathered entities are dropped as soon as their estimated
//! size passes the query cache's budget (`--query-cache-mb`): a table that
//! would not fit is not kept anyway, and the version's first query builds
//! it as before.

use std::cmp::Ordering;
use std::collections::HashSet;

use sds_core::{BuiltRecord, Entity, Schema, Value, ValueRef, VersionId};
use sds_query::{Table, TableBuilder};
use sds_store::{Store, StoreError};

/// The entities a load wrote, gathered by its store writer after each
/// batch is in the store.
pub(super) struct Gathered {
    upserts: Vec<Entity>,
    /// Entity keys of the deletes (incremental loads).
    deleted: Vec<String>,
    /// Estimated heap bytes of `upserts`.
    bytes: usize,
    budget: usize,
    /// Over the budget: nothing more is gathered and no table is built.
    dropped: bool,
}

/// Bytes an entity holds, roughly: a gathered version larger than the
/// table budget is dropped early rather than after it filled memory.
fn entity_bytes(entity: &Entity) -> usize {
    let values: usize = entity
        .values
        .iter()
        .map(|value| match value {
            Value::String(text) | Value::Geography(text) => text.len(),
            _ => 0,
        })
        .sum();
    std::mem::size_of::<Entity>() + entity.id.len() + entity.values.len() * std::mem::size_of::<Value>() + values
}

impl Gathered {
    /// Gathers up to `budget` bytes of entities; a budget of 0 gathers none.
    pub(super) fn new(budget: usize) -> Gathered {
        Gathered { upserts: Vec::new(), deleted: Vec::new(), bytes: 0, budget, dropped: budget == 0 }
    }

    /// Takes a batch the store has written.
    pub(super) fn take(&mut self, batch: Vec<BuiltRecord>) {
        if self.dropped {
            return;
        }
        for record in batch {
            match record {
                BuiltRecord::Upsert(entity) => {
                    self.bytes += entity_bytes(&entity);
                    self.upserts.push(entity);
                }
                BuiltRecord::Delete { id } => self.deleted.push(Entity::key_of(&id)),
            }
        }
        if self.bytes > self.budget {
            tracing::info!(
                bytes = self.bytes,
                budget = self.budget,
                "the loaded version is too large to keep its table"
            );
            self.dropped = true;
            self.upserts = Vec::new();
            self.deleted = Vec::new();
        }
    }

    /// The table of a complete load's version; `None` when it was too large.
    pub(super) fn complete(self, schema: &Schema) -> Option<Table> {
        if self.dropped {
            return None;
        }
        Some(build(schema, self.upserts))
    }

    /// The table of an incremental load's version, from its base version's
    /// table; `None` when the gathered entities were too large.
    pub(super) fn over(self, base: &Table, schema: &Schema) -> Option<Table> {
        if self.dropped {
            return None;
        }
        let replaced: HashSet<String, foldhash::fast::RandomState> =
            self.upserts.iter().map(|entity| Entity::key_of(&entity.id)).chain(self.deleted).collect();
        let mut entities = Vec::with_capacity(base.len() + self.upserts.len());
        for row in 0..base.len() as u32 {
            let id = base.id(row);
            if replaced.contains(&Entity::key_of(id)) {
                continue;
            }
            entities.push(row_entity(base, row, schema.properties.len()));
        }
        entities.extend(self.upserts);
        Some(build(schema, entities))
    }

    /// Whether anything was gathered to build a table from.
    pub(super) fn kept(&self) -> bool {
        !self.dropped
    }
}

/// The table a download from the store builds on the way (see
/// `jobs/download.rs`), within the query cache's budget as [`Gathered`]
/// is: none is begun for a version whose entities would pass the budget
/// even at their smallest, and one is dropped as soon as its entities'
/// estimated size passes it (a table that would not fit is not kept
/// anyway). Before, such a download built the whole table first: 227 MB
/// for 1,000,000 points with `--query-cache-mb 1` (found by the breaker).
pub(super) struct BoundedTable {
    builder: Option<TableBuilder>,
    bytes: usize,
    budget: usize,
}

impl BoundedTable {
    pub(super) fn new(schema: &Schema, rows: u64, budget: usize) -> BoundedTable {
        let smallest = std::mem::size_of::<Entity>() + schema.properties.len() * std::mem::size_of::<Value>();
        let fits = (rows as usize).saturating_mul(smallest) <= budget;
        let builder = fits.then(|| TableBuilder::new(schema.clone(), rows as usize));
        BoundedTable { builder, bytes: 0, budget }
    }

    pub(super) fn push(&mut self, entity: Entity) {
        let Some(builder) = &mut self.builder else { return };
        self.bytes += entity_bytes(&entity);
        if self.bytes > self.budget {
            tracing::info!(
                bytes = self.bytes,
                budget = self.budget,
                "the downloaded version is too large to keep its table"
            );
            self.builder = None;
            return;
        }
        builder.push(entity);
    }

    /// The builder, unless the table was not begun or was dropped.
    pub(super) fn into_builder(self) -> Option<TableBuilder> {
        self.builder
    }
}

/// A version's table read back from the store, as its first query would
/// build it (an incremental load whose base table is not at hand).
pub(super) fn from_store(
    store: &dyn Store,
    version: VersionId,
    schema: &Schema,
    rows: u64,
) -> Result<Table, StoreError> {
    let mut builder = TableBuilder::new(schema.clone(), rows as usize);
    store.for_each_entity(version, &mut |entity| {
        builder.push(entity);
        Ok(())
    })?;
    Ok(builder.finish())
}

/// One row of a table as the entity it was built from (its bounds are not
/// kept: a table computes its own from the geography).
fn row_entity(table: &Table, row: u32, columns: usize) -> Entity {
    let values = (0..columns)
        .map(|column| match table.cell(column, row) {
            ValueRef::Null => Value::Null,
            ValueRef::String(text) => Value::String(text.to_owned()),
            ValueRef::Int64(number) => Value::Int64(number),
            ValueRef::Double(number) => Value::Double(number),
            ValueRef::Boolean(flag) => Value::Boolean(flag),
            ValueRef::DateTime(timestamp) => Value::DateTime(timestamp),
            ValueRef::Geography(text) => Value::Geography(text.to_owned()),
        })
        .collect();
    Entity {
        id: table.id(row).to_owned(),
        latitude: table.latitude(row),
        longitude: table.longitude(row),
        bounds: None,
        values,
    }
}

/// Entities in the store's order (see the module docs) into a table.
/// The entities stay where they are: a permutation is sorted (moving
/// 4-byte indexes, not entities of a hundred bytes), and when no ID holds
/// an uppercase or non-ASCII letter (the common case: numeric or
/// lowercase IDs) an ID is its own key, and IDs compare as bytes.
fn build(schema: &Schema, entities: Vec<Entity>) -> Table {
    let mut order: Vec<u32> = (0..entities.len() as u32).collect();
    let own_keys =
        entities.iter().all(|entity| entity.id.bytes().all(|byte| byte.is_ascii() && !byte.is_ascii_uppercase()));
    let id = |row: &u32| entities[*row as usize].id.as_str();
    let sorted = |order: &[u32], compare: &dyn Fn(&str, &str) -> Ordering| {
        order.windows(2).all(|pair| compare(id(&pair[0]), id(&pair[1])).is_le())
    };
    if own_keys {
        if !sorted(&order, &|a, b| a.cmp(b)) {
            order.sort_unstable_by(|a, b| id(a).cmp(id(b)));
        }
    } else if !sorted(&order, &key_order) {
        order.sort_by_cached_key(|row| Entity::key_of(id(row)));
    }
    let mut slots: Vec<Option<Entity>> = entities.into_iter().map(Some).collect();
    let mut builder = TableBuilder::new(schema.clone(), slots.len());
    for row in order {
        if let Some(entity) = slots[row as usize].take() {
            builder.push(entity);
        }
    }
    builder.finish()
}

/// The order of two IDs' entity keys ([`Entity::key_of`]) as the store
/// sorts them (bytes), without building the keys of ASCII IDs.
fn key_order(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.bytes().map(|byte| byte.to_ascii_lowercase()).cmp(b.bytes().map(|byte| byte.to_ascii_lowercase()))
    } else {
        Entity::key_of(a).cmp(&Entity::key_of(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids_in_table_order(ids: &[&str]) -> Vec<String> {
        use sds_core::{EdmType, Property};
        let properties = vec![
            Property::new("EntityID", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
        ];
        let schema = Schema::new("Shops", properties, "EntityID").unwrap();
        let entities = ids
            .iter()
            .map(|id| Entity {
                id: (*id).to_owned(),
                latitude: 1.0,
                longitude: 2.0,
                bounds: None,
                values: vec![Value::String((*id).to_owned()), Value::Double(1.0), Value::Double(2.0)],
            })
            .collect();
        let table = build(&schema, entities);
        (0..table.len() as u32).map(|row| table.id(row).to_owned()).collect()
    }

    #[test]
    fn a_table_holds_its_rows_in_key_order() {
        for ids in [&["10", "9", "100", "_x", "a-b", "a"][..], &["B", "a", "10", "Éa", "éb", "9"], &["1", "2", "3"]] {
            let mut by_key: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
            by_key.sort_by_key(|id| Entity::key_of(id));
            assert_eq!(ids_in_table_order(ids), by_key);
        }
    }

    #[test]
    fn a_downloads_table_stays_within_the_budget() {
        use sds_core::{EdmType, Property};
        let properties = vec![
            Property::new("EntityID", EdmType::String),
            Property::new("Latitude", EdmType::Double),
            Property::new("Longitude", EdmType::Double),
            Property::new("Name", EdmType::String),
        ];
        let schema = Schema::new("Shops", properties, "EntityID").unwrap();
        let entity = |index: usize| Entity {
            id: format!("e{index:03}"),
            latitude: 1.0,
            longitude: 2.0,
            bounds: None,
            values: vec![
                Value::String(format!("e{index:03}")),
                Value::Double(1.0),
                Value::Double(2.0),
                Value::String("n".repeat(100)),
            ],
        };
        let smallest = std::mem::size_of::<Entity>() + 4 * std::mem::size_of::<Value>();
        // Too many entities for the budget even at their smallest: no
        // table is begun.
        assert!(BoundedTable::new(&schema, 1_000, 999 * smallest).into_builder().is_none());
        // Begun, then dropped once the entities pass the budget.
        let mut table = BoundedTable::new(&schema, 100, 100 * smallest);
        for index in 0..100 {
            table.push(entity(index));
        }
        assert!(table.into_builder().is_none());
        // Kept within the budget.
        let mut table = BoundedTable::new(&schema, 100, 1 << 20);
        for index in 0..100 {
            table.push(entity(index));
        }
        assert_eq!(table.into_builder().unwrap().finish().len(), 100);
    }

    #[test]
    fn ids_sort_as_their_keys_do() {
        let ids = ["b", "A", "a1", "Σa", "éz", "E", "ΣΑΣ", "_", "Z9"];
        let mut by_order = ids.to_vec();
        by_order.sort_by(|a, b| key_order(a, b));
        let mut by_key = ids.to_vec();
        by_key.sort_by_key(|id| Entity::key_of(id));
        assert_eq!(by_order, by_key);
    }
}
