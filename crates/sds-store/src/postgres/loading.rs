//! The load path of [`PostgresStore`]: batches into a version's table,
//! the seal before its commit, and the sweep of dropped versions' tables
//! (`partitions.rs` says why it is built this way).

use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::PoisonError;
use std::time::Instant;

use sds_core::entity::BuiltRecord;
use sds_core::VersionId;

use super::{entities, partitions, versions, PostgresStore};
use crate::{StoreError, StoreResult};

/// Batches this large are appended in two halves at once
/// ([`PostgresStore::append_in_parallel`]); smaller ones are not worth a
/// second connection.
const PARALLEL_APPEND_MIN: usize = 1_000;

impl PostgresStore {
    /// Drops the tables of dropped versions (`partitions::sweep`); a
    /// failure is logged, the next sweep tries again.
    pub(super) fn sweep(&self) {
        let swept = self.connection().and_then(|mut connection| partitions::sweep(&mut connection));
        match swept {
            Ok((dropped, left)) => {
                self.sweep_pending.store(left > 0, Ordering::Relaxed);
                if dropped + left > 0 {
                    tracing::debug!(dropped, left, "dropped the tables of dropped versions");
                }
            }
            Err(error) => {
                self.sweep_pending.store(true, Ordering::Relaxed);
                tracing::warn!(%error, "could not drop the tables of dropped versions; will try again");
            }
        }
    }

    /// Sweeps if the last sweep left a table behind.
    pub(super) fn sweep_if_pending(&self) {
        if self.sweep_pending.load(Ordering::Relaxed) {
            self.sweep();
        }
    }

    /// Builds a `Building` version's primary key and attaches its table to
    /// `entities` (`partitions.rs`). A version that is not building is left
    /// alone: the commit that follows says what is wrong with it.
    pub(super) fn seal(&self, version: VersionId) -> StoreResult<()> {
        self.appending.lock().unwrap_or_else(PoisonError::into_inner).remove(&version);
        match self.read(|tx| versions::state(tx, version)) {
            Ok(sds_core::VersionState::Building) => {}
            Ok(_) | Err(StoreError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error),
        }
        let started = Instant::now();
        self.write_unlocked(|tx| {
            partitions::seal(tx, version)?;
            versions::require_building(tx, version)
        })?;
        tracing::debug!(%version, took = ?started.elapsed(), "sealed a version's table");
        Ok(())
    }

    /// Appends a batch no key of which the version holds yet, in two halves
    /// copied at once on two connections: PostgreSQL runs each `COPY`, with
    /// its GiST index maintained, on one core per backend, and that work is
    /// the load's critical path (the server parses the next batch meanwhile).
    /// Returns once both halves are committed; if either fails the batch may
    /// be half written, which only an aborted load (its version dropped)
    /// ever sees, as with any failed batch.
    fn append_in_parallel(&self, version: VersionId, last: &[(String, &BuiltRecord)]) -> StoreResult<()> {
        let append = |part: &[(String, &BuiltRecord)]| {
            self.write_unlocked(|tx| {
                let geography = self.geography_type(tx)?;
                entities::append_entities(tx, &geography, version, part)
            })
        };
        if last.len() < PARALLEL_APPEND_MIN {
            return append(last);
        }
        let (first, second) = last.split_at(last.len() / 2);
        std::thread::scope(|scope| {
            let other = scope.spawn(|| append(second));
            let done = append(first);
            let other = other.join().unwrap_or_else(|_| Err(StoreError::Corrupt("a batch's writer panicked".into())));
            done.and(other)
        })
    }

    /// See [`crate::Store::write_entities`]: appended to the bare table while no
    /// key can be there yet ([`PostgresStore::appending`]), else through the
    /// version's primary key.
    pub(super) fn write_batch(&self, version: VersionId, batch: &[BuiltRecord]) -> StoreResult<()> {
        let last = entities::last_per_key(batch);
        let hashes: Vec<u64> = last.iter().map(|(key, _)| key_hash(key)).collect();
        let appendable = {
            let mut appending = self.appending.lock().unwrap_or_else(PoisonError::into_inner);
            match appending.get(&version) {
                Some(written) if hashes.iter().all(|hash| !written.contains(hash)) => true,
                Some(_) => {
                    appending.remove(&version);
                    false
                }
                None => false,
            }
        };
        if appendable {
            let appended = self.append_in_parallel(version, &last);
            let mut appending = self.appending.lock().unwrap_or_else(PoisonError::into_inner);
            match appended {
                Ok(()) => {
                    if let Some(written) = appending.get_mut(&version) {
                        let upserts = last.iter().zip(&hashes);
                        written.extend(
                            upserts
                                .filter(|((_, record), _)| matches!(record, BuiltRecord::Upsert(_)))
                                .map(|(_, hash)| *hash),
                        );
                    }
                    return Ok(());
                }
                Err(error) => {
                    // Whether the batch committed is unknown: no more appending.
                    appending.remove(&version);
                    return Err(error);
                }
            }
        }
        let mut slow = self.slow_versions.lock().unwrap_or_else(PoisonError::into_inner).contains(&version);
        let was_slow = slow;
        self.write_unlocked(|tx| {
            let geography = self.geography_type(tx)?;
            entities::write_entities(tx, &geography, version, &last, &mut slow)
        })?;
        if slow && !was_slow {
            let mut slow_versions = self.slow_versions.lock().unwrap_or_else(PoisonError::into_inner);
            // A hint only; forgetting old versions costs one failed copy each.
            if slow_versions.len() >= 1_024 {
                slow_versions.clear();
            }
            slow_versions.insert(version);
        }
        Ok(())
    }
}

/// A key's hash for [`PostgresStore::appending`]: SipHash with fixed keys,
/// as collisions cost only speed.
fn key_hash(key: &str) -> u64 {
    let mut hasher = DefaultHasher::new();
    key.hash(&mut hasher);
    hasher.finish()
}
