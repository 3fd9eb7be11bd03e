//! What the Query API keeps in memory between requests.
//!
//! - Tables: the in-memory form of a data source version (typed columns,
//!   R-trees), built on the first query of that version. An entry is keyed
//!   by its data source and its version ([`TableKey`]), both store ids that
//!   are never reused (AUTOINCREMENT), so an entry can only ever answer for
//!   the version it was built from; versions are immutable, so it never goes
//!   stale. A data source's newly queried published version replaces its
//!   older one, and after every job (and purge) the engine has the cache drop
//!   the tables of versions that are no longer stored
//!   ([`QueryCache::drop_unstored`]): a deleted data source's rows leave
//!   memory with it. The tables together are bounded by a memory budget
//!   (`--query-cache-mb`): each table reports its heap bytes
//!   ([`Table::heap_bytes`]) once built and again when a query grows it
//!   (a string index built on first use), and the least recently used
//!   tables are evicted until the rest fit. A table larger than the whole
//!   budget is still served, and kept alone (every other table is evicted):
//!   it is in memory while it answers anyway, and dropping it would rebuild
//!   it for every query; the next other table evicts it. Tables still being
//!   built hold no bytes yet and are not counted.
//! - Keys: resolved keys by hash, trusted for `--auth-cache-seconds`;
//!   unknown keys are not cached. This saves a store round trip per query,
//!   which at tens of thousands of queries per second dominates their cost.
//!   A key is only ever changed by `sds keys revoke`, another process;
//!   its commit grows the store's change counter, which the job engine
//!   watches (`jobs/watch.rs`) and then drops every cached key, within a
//!   second. The time limit bounds it should that watch fail.
//! - Data sources by access id, each stamped with the job engine's
//!   generation when it was read. Every finished job bumps the generation
//!   (and every commit that changes a data source, before and after; none
//!   is cached or served while one runs),
//!   so an entry read before a publish, rollback, visibility change or
//!   delete is read again; misses are not cached, and every entry is
//!   dropped when a job ends. The same time limit covers a change of master
//!   key by `sds keys revoke`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};

use sds_core::{AccessId, DataSource, DataSourceId, VersionId};
use sds_query::Table;
use sds_store::{KeyHash, KeyRecord, Store};
use tokio::sync::OnceCell;

/// The share of the machine's memory the tables may use by default.
pub const DEFAULT_BUDGET_SHARE: f64 = 0.25;
/// The budget when the machine's memory cannot be read.
pub const FALLBACK_BUDGET_MB: u64 = 1024;
/// How long cached keys and data sources are trusted by default.
pub const DEFAULT_TRUST: Duration = Duration::from_secs(10);
/// Keys remembered at most (the cache is cleared when full).
const MAX_KEYS: usize = 10_000;

pub struct QueryCache {
    /// Bytes the built tables may hold together.
    budget_bytes: usize,
    /// How long a key or data source read from the store is trusted.
    trust_for: Duration,
    tables: Mutex<TableSlots>,
    keys: RwLock<HashMap<KeyHash, (Instant, KeyRecord)>>,
    sources: RwLock<HashMap<AccessId, (u64, Instant, DataSource)>>,
    /// Tables on disk, read back on a version's first query after a restart.
    snapshots: Option<crate::snapshots::Snapshots>,
}

#[derive(Default)]
struct TableSlots {
    clock: u64,
    slots: Vec<Slot>,
}

/// What a cached table is the table of: a version of a data source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TableKey {
    pub data_source: DataSourceId,
    pub version: VersionId,
}

struct Slot {
    key: TableKey,
    /// Whether this is a staged version (it does not replace the published one).
    staged: bool,
    last_used: u64,
    /// The table's heap bytes; 0 until it is built.
    bytes: usize,
    table: Arc<OnceCell<Arc<Table>>>,
}

impl QueryCache {
    /// A cache whose tables hold at most `budget_bytes` together (but one
    /// larger table, alone).
    pub fn new(budget_bytes: usize, trust_for: Duration) -> QueryCache {
        QueryCache {
            budget_bytes,
            trust_for,
            tables: Mutex::default(),
            keys: RwLock::default(),
            sources: RwLock::default(),
            snapshots: None,
        }
    }

    /// Keeps built tables' snapshots in `snapshots` too, and reads tables
    /// back from there (see `snapshots.rs`).
    pub fn with_snapshots(mut self, snapshots: crate::snapshots::Snapshots) -> QueryCache {
        self.snapshots = Some(snapshots);
        self
    }

    pub fn snapshots(&self) -> Option<&crate::snapshots::Snapshots> {
        self.snapshots.as_ref()
    }

    /// The cell that holds (or will hold, once built) a version's table.
    /// Concurrent first queries share one cell, so the table is built once.
    pub fn table_cell(&self, key: TableKey, staged: bool) -> Arc<OnceCell<Arc<Table>>> {
        self.cell(key, staged, true)
    }

    /// [`QueryCache::table_cell`]; `counted`: a query's look-up, which
    /// the hit and miss metrics count (a job handing a table over is not).
    fn cell(&self, key: TableKey, staged: bool, counted: bool) -> Arc<OnceCell<Arc<Table>>> {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables.clock += 1;
        let now = tables.clock;
        if let Some(slot) = tables.slots.iter_mut().find(|slot| slot.key == key) {
            slot.last_used = now;
            if counted {
                metrics::counter!(crate::observe::metrics::QUERY_TABLE_HITS).increment(1);
            }
            return Arc::clone(&slot.table);
        }
        if counted {
            metrics::counter!(crate::observe::metrics::QUERY_TABLE_MISSES).increment(1);
        }
        // A newer version of the same kind replaces the older one.
        tables.slots.retain(|slot| !(slot.key.data_source == key.data_source && slot.staged == staged));
        let table = Arc::new(OnceCell::new());
        tables.slots.push(Slot { key, staged, last_used: now, bytes: 0, table: Arc::clone(&table) });
        table
    }

    /// Records a table's heap bytes (once built, and again whenever a query
    /// grew it), then evicts the least recently used other built tables
    /// until all fit the budget, or this one is left alone. Nothing happens
    /// when the table is no longer cached (dropped while it was built).
    pub fn measured(&self, key: TableKey, bytes: usize) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(slot) = tables.slots.iter_mut().find(|slot| slot.key == key) else {
            return;
        };
        slot.bytes = bytes;
        let mut held: usize = tables.slots.iter().map(|slot| slot.bytes).sum();
        while held > self.budget_bytes {
            let oldest = tables
                .slots
                .iter()
                .enumerate()
                .filter(|(_, slot)| slot.key != key && slot.bytes > 0)
                .min_by_key(|(_, slot)| slot.last_used)
                .map(|(index, _)| index);
            let Some(index) = oldest else {
                tracing::info!(
                    data_source = %key.data_source, version = %key.version, bytes, budget = self.budget_bytes,
                    "a table larger than the query cache budget is kept alone"
                );
                break;
            };
            let evicted = tables.slots.swap_remove(index);
            held -= evicted.bytes;
            tracing::info!(
                data_source = %evicted.key.data_source, version = %evicted.key.version, bytes = evicted.bytes,
                held, budget = self.budget_bytes, "evicted a cached table"
            );
        }
    }

    /// Caches a table a job built or read, as a query would have, unless a
    /// query built it meanwhile or it is larger than the whole budget (a
    /// query would keep it alone, evicting every other table: a job should
    /// not); whether it was.
    fn keep_table(&self, key: TableKey, staged: bool, table: &Arc<Table>) -> bool {
        let bytes = table.heap_bytes();
        if bytes > self.budget_bytes || self.cell(key, staged, false).set(Arc::clone(table)).is_err() {
            return false;
        }
        self.measured(key, bytes);
        true
    }

    /// A version's table when it is cached and built (not read back from a
    /// snapshot, nor counted as a use).
    pub fn cached_table(&self, key: TableKey) -> Option<Arc<Table>> {
        let tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables.slots.iter().find(|slot| slot.key == key).and_then(|slot| slot.table.get().cloned())
    }

    /// The bytes the cached tables hold together.
    pub fn held_bytes(&self) -> usize {
        let tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables.slots.iter().map(|slot| slot.bytes).sum()
    }

    /// How many tables are cached (built or being built).
    pub fn table_count(&self) -> usize {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner).slots.len()
    }

    /// The budget, in bytes.
    pub fn budget_bytes(&self) -> usize {
        self.budget_bytes
    }

    /// Drops a version whose table failed to build, so the next query retries.
    pub fn forget(&self, key: TableKey) {
        let mut tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
        tables.slots.retain(|slot| slot.key != key);
    }

    /// Drops the tables of versions the store no longer holds for their
    /// data source (deleted, pruned, or dropped staged versions), and every
    /// cached data source and key (a job ended or the store's change
    /// counter moved, so each may have changed). Called by
    /// the job engine after each job and purge, on a blocking thread: one
    /// indexed read per cached table. A version the store cannot be asked
    /// about is dropped too; the next query builds it again.
    pub fn drop_unstored(&self, store: &dyn Store) {
        self.sources.write().unwrap_or_else(PoisonError::into_inner).clear();
        // Keys too: the change may be a revocation (by another process or
        // server, seen through the store's change counter).
        self.keys.write().unwrap_or_else(PoisonError::into_inner).clear();
        let keys: Vec<TableKey> = {
            let tables = self.tables.lock().unwrap_or_else(PoisonError::into_inner);
            tables.slots.iter().map(|slot| slot.key).collect()
        };
        for key in keys {
            let stored = store.version(key.version);
            let kept = matches!(&stored, Ok(Some(version)) if version.data_source_id == Some(key.data_source));
            if !kept {
                tracing::debug!(data_source = %key.data_source, version = %key.version, "dropping a cached table");
                self.forget(key);
            }
        }
    }

    /// A data source read at `generation`, if it was.
    pub fn data_source(&self, access_id: &AccessId, generation: u64) -> Option<DataSource> {
        let sources = self.sources.read().unwrap_or_else(PoisonError::into_inner);
        sources
            .get(access_id)
            .filter(|(read_at, read_when, _)| *read_at == generation && read_when.elapsed() < self.trust_for)
            .map(|(_, _, source)| source.clone())
    }

    /// Remembers a data source read at `generation` (taken before the read,
    /// so a change that lands during the read makes the entry stale).
    pub fn remember_data_source(&self, source: DataSource, generation: u64) {
        let mut sources = self.sources.write().unwrap_or_else(PoisonError::into_inner);
        if sources.len() >= MAX_KEYS {
            sources.clear();
        }
        sources.insert(source.access_id.clone(), (generation, Instant::now(), source));
    }

    pub fn key(&self, hash: &KeyHash) -> Option<KeyRecord> {
        let keys = self.keys.read().unwrap_or_else(PoisonError::into_inner);
        keys.get(hash).filter(|(read_when, _)| read_when.elapsed() < self.trust_for).map(|(_, record)| record.clone())
    }

    pub fn remember_key(&self, record: KeyRecord) {
        let mut keys = self.keys.write().unwrap_or_else(PoisonError::into_inner);
        if keys.len() >= MAX_KEYS {
            keys.clear();
        }
        keys.insert(record.hash, (Instant::now(), record));
    }
}

impl crate::jobs::StoreWatcher for QueryCache {
    fn stored_data_changed(&self, store: &dyn Store) {
        self.drop_unstored(store);
        if let Some(snapshots) = &self.snapshots {
            snapshots.sweep(store);
        }
    }

    /// The cached table when it is built, else the version's snapshot read
    /// back: kept in the cache when the version is the data source's
    /// published or staged one (`keep`) and fits the budget, so that the
    /// next download in another format, and the next query, do not read it
    /// again (before, every download of a cold version read its own copy:
    /// found by the breaker); not kept for an older version, which a
    /// download must not make the one its data source's queries use.
    fn table_at_hand(
        &self,
        key: TableKey,
        keep: Option<bool>,
        schema: &sds_core::Schema,
        rows: u64,
    ) -> Option<Arc<Table>> {
        if let Some(table) = self.cached_table(key) {
            return Some(table);
        }
        let table = Arc::new(self.snapshots.as_ref()?.load(key, schema, rows)?);
        match keep {
            // A query or another download may have read it meanwhile:
            // theirs is used, and this copy let go.
            Some(staged) if !self.keep_table(key, staged, &table) => self.cached_table(key).or(Some(table)),
            _ => Some(table),
        }
    }

    fn table_budget(&self) -> usize {
        self.budget_bytes
    }

    /// Caches the table ([`QueryCache::keep_table`]) and, when it was,
    /// writes its snapshot.
    fn table_built(&self, store: &dyn Store, key: TableKey, staged: bool, table: Table) {
        let table = Arc::new(table);
        if !self.keep_table(key, staged, &table) {
            return;
        }
        if let Some(snapshots) = &self.snapshots {
            snapshots.save(key, &table, store);
        }
    }
}

impl Default for QueryCache {
    fn default() -> Self {
        QueryCache::new(default_budget_mb().0 as usize * MIB, DEFAULT_TRUST)
    }
}

/// Bytes in a mebibyte (the unit of `--query-cache-mb`).
pub const MIB: usize = 1 << 20;

/// The default budget in MiB, [`DEFAULT_BUDGET_SHARE`] of the machine's
/// memory, and the total it was taken from (`None`: `/proc/meminfo` could
/// not be read, and the budget is [`FALLBACK_BUDGET_MB`]).
pub fn default_budget_mb() -> (u64, Option<u64>) {
    let total_mb = std::fs::read_to_string("/proc/meminfo").ok().as_deref().and_then(mem_total_mb);
    match total_mb {
        Some(total) => (((total as f64) * DEFAULT_BUDGET_SHARE) as u64, Some(total)),
        None => (FALLBACK_BUDGET_MB, None),
    }
}

/// `MemTotal` of a `/proc/meminfo` text (proc(5): "MemTotal: N kB"), in MiB.
fn mem_total_mb(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find_map(|line| line.strip_prefix("MemTotal:"))?;
    let kib: u64 = line.trim().strip_suffix("kB")?.trim().parse().ok()?;
    Some(kib / 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(access_id: &AccessId) -> DataSource {
        DataSource {
            id: DataSourceId(1),
            access_id: access_id.clone(),
            account_id: sds_core::AccountId(1),
            name: "Shops".into(),
            description: None,
            master_key: sds_core::KeyId(1),
            query_key: None,
            is_public: false,
            published_version: Some(VersionId(3)),
            created: chrono::Utc::now(),
            updated: chrono::Utc::now(),
        }
    }

    #[test]
    fn a_data_source_is_served_only_for_the_generation_it_was_read_at() {
        let cache = QueryCache::default();
        let access_id = AccessId::generate();
        let read = source(&access_id);
        assert_eq!(cache.data_source(&access_id, 7), None);
        cache.remember_data_source(read.clone(), 7);
        assert_eq!(cache.data_source(&access_id, 7), Some(read));
        assert_eq!(cache.data_source(&access_id, 8), None, "a job ended since: read it again");
    }

    #[test]
    fn keys_and_data_sources_are_trusted_only_for_a_while() {
        let cache = QueryCache::new(MIB, Duration::from_millis(50));
        let access_id = AccessId::generate();
        cache.remember_data_source(source(&access_id), 7);
        let key = KeyRecord {
            id: sds_core::KeyId(1),
            account_id: sds_core::AccountId(1),
            account_name: "default".into(),
            hash: [9; 32],
            hint: "abc".into(),
            created: chrono::Utc::now(),
            revoked: None,
            label: None,
        };
        cache.remember_key(key.clone());
        assert_eq!(cache.key(&[9; 32]), Some(key));
        assert!(cache.data_source(&access_id, 7).is_some());
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.key(&[9; 32]), None, "read the key again: it may have been revoked");
        assert_eq!(cache.data_source(&access_id, 7), None, "read it again: its master key may have changed");
    }

    fn key(data_source: i64, version: i64) -> TableKey {
        TableKey { data_source: DataSourceId(data_source), version: VersionId(version) }
    }

    /// The versions cached, ascending.
    fn cached(cache: &QueryCache) -> Vec<i64> {
        let tables = cache.tables.lock().unwrap();
        let mut versions: Vec<i64> = tables.slots.iter().map(|slot| slot.key.version.0).collect();
        versions.sort();
        versions
    }

    #[test]
    fn a_new_version_replaces_the_old() {
        let cache = QueryCache::new(MIB, DEFAULT_TRUST);
        let first = cache.table_cell(key(1, 10), false);
        assert!(Arc::ptr_eq(&first, &cache.table_cell(key(1, 10), false)));
        let staged = cache.table_cell(key(1, 12), true);
        cache.table_cell(key(1, 11), false);
        assert_eq!(cached(&cache), [11, 12], "the staged version stays beside the published one");
        assert!(Arc::ptr_eq(&staged, &cache.table_cell(key(1, 12), true)));
    }

    #[test]
    fn the_least_recently_used_bytes_are_evicted_first() {
        let cache = QueryCache::new(100, DEFAULT_TRUST);
        for (source, version, bytes) in [(1, 10, 40), (2, 20, 40)] {
            cache.table_cell(key(source, version), false);
            cache.measured(key(source, version), bytes);
        }
        assert_eq!((cached(&cache), cache.held_bytes()), (vec![10, 20], 80));
        cache.table_cell(key(1, 10), false);
        cache.table_cell(key(3, 30), false);
        cache.measured(key(3, 30), 40);
        assert_eq!(cached(&cache), [10, 30], "20 was the least recently used");
        assert_eq!(cache.held_bytes(), 80);
        cache.table_cell(key(4, 40), false);
        cache.measured(key(4, 40), 30);
        assert_eq!(cached(&cache), [30, 40], "one eviction (10, the older) made room");
        cache.table_cell(key(5, 50), false);
        cache.measured(key(5, 50), 90);
        assert_eq!(cached(&cache), [50], "two evictions made room");
        assert_eq!(cache.held_bytes(), 90);
    }

    #[test]
    fn a_table_that_grows_evicts_others() {
        let cache = QueryCache::new(100, DEFAULT_TRUST);
        for (source, version, bytes) in [(1, 10, 40), (2, 20, 40)] {
            cache.table_cell(key(source, version), false);
            cache.measured(key(source, version), bytes);
        }
        cache.table_cell(key(1, 10), false);
        cache.measured(key(1, 10), 70);
        assert_eq!(cached(&cache), [10], "a string index built by a query counts from then on");
        assert_eq!(cache.held_bytes(), 70);
    }

    #[test]
    fn a_table_over_the_budget_is_kept_alone_until_another_is_needed() {
        let cache = QueryCache::new(50, DEFAULT_TRUST);
        cache.table_cell(key(1, 10), false);
        cache.measured(key(1, 10), 30);
        let big = cache.table_cell(key(2, 20), false);
        cache.measured(key(2, 20), 80);
        assert_eq!(cached(&cache), [20]);
        assert!(Arc::ptr_eq(&big, &cache.table_cell(key(2, 20), false)), "served again without a rebuild");
        cache.table_cell(key(3, 30), false);
        assert_eq!(cached(&cache), [20, 30], "a table being built holds nothing yet");
        cache.measured(key(3, 30), 10);
        assert_eq!(cached(&cache), [30]);
        cache.forget(key(3, 30));
        cache.measured(key(3, 30), 10);
        assert_eq!(cache.held_bytes(), 0, "a dropped table is not measured back in");
    }

    #[test]
    fn the_default_budget_is_a_quarter_of_mem_total() {
        let meminfo = "MemTotal:        8049356 kB\nMemFree:          512000 kB\n";
        assert_eq!(mem_total_mb(meminfo), Some(7860));
        assert_eq!(mem_total_mb("MemFree: 1 kB\n"), None);
        let (budget, total) = default_budget_mb();
        match total {
            Some(total) => assert_eq!(budget, (total as f64 * DEFAULT_BUDGET_SHARE) as u64),
            None => assert_eq!(budget, FALLBACK_BUDGET_MB),
        }
    }

    #[test]
    fn a_table_answers_only_for_its_own_data_source() {
        let cache = QueryCache::default();
        let theirs = cache.table_cell(key(1, 10), false);
        let mine = cache.table_cell(key(2, 10), false);
        assert!(!Arc::ptr_eq(&theirs, &mine), "the same version id under another data source is another table");
        cache.forget(key(2, 10));
        assert!(Arc::ptr_eq(&theirs, &cache.table_cell(key(1, 10), false)));
    }
}
