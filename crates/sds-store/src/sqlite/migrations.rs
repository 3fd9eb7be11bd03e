//! The schema, as numbered migrations. `PRAGMA user_version` holds how many
//! have been applied; each runs in its own transaction together with the
//! bump, so a crash mid-migration leaves the previous, consistent schema.
//! Append new migrations; never edit one that has shipped.

use rusqlite::{Connection, TransactionBehavior};

use crate::{StoreError, StoreResult};

const MIGRATIONS: &[&str] = &[
    // 1: the initial schema. Instants are nanoseconds since the epoch (see codec.rs).
    r#"
    CREATE TABLE accounts (
        id      INTEGER PRIMARY KEY,
        name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created INTEGER NOT NULL
    );

    CREATE TABLE keys (
        id         INTEGER PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        hash       BLOB NOT NULL UNIQUE,
        hint       TEXT NOT NULL,
        created    INTEGER NOT NULL
    );
    CREATE INDEX keys_by_account ON keys(account_id);

    -- seq is the rowid: it orders jobs by submission even when two share a
    -- creation instant.
    CREATE TABLE jobs (
        seq              INTEGER PRIMARY KEY,
        id               TEXT NOT NULL UNIQUE,
        account_id       INTEGER NOT NULL REFERENCES accounts(id),
        key_id           INTEGER NOT NULL REFERENCES keys(id),
        kind             TEXT NOT NULL,
        status           TEXT NOT NULL,
        data_source_name TEXT NOT NULL,
        name_key         TEXT NOT NULL,
        params           TEXT NOT NULL,
        created          INTEGER NOT NULL,
        completed        INTEGER,
        total            INTEGER NOT NULL,
        processed        INTEGER NOT NULL,
        failed           INTEGER NOT NULL,
        error_message    TEXT,
        result_access_id TEXT
    );
    CREATE INDEX jobs_pending ON jobs(seq) WHERE status = 'Pending';
    CREATE INDEX jobs_newest ON jobs(account_id, kind, name_key, seq);

    CREATE TABLE job_failures (
        job_id    TEXT NOT NULL REFERENCES jobs(id),
        ordinal   INTEGER NOT NULL,
        line      INTEGER NOT NULL,
        entity_id TEXT,
        reason    TEXT NOT NULL,
        PRIMARY KEY (job_id, ordinal)
    ) WITHOUT ROWID;

    -- data_source_id stays NULL until the version is published.
    -- published_seq orders rollback targets by when they were published,
    -- which differs from id order when two loads of one data source overlap.
    -- job_id has no foreign key: a version outlives nothing but its data
    -- source, and the job table is not where versions are named from.
    CREATE TABLE versions (
        id             INTEGER PRIMARY KEY,
        data_source_id INTEGER REFERENCES data_sources(id),
        job_id         TEXT NOT NULL,
        schema         TEXT NOT NULL,
        entity_count   INTEGER NOT NULL,
        state          TEXT NOT NULL,
        created        INTEGER NOT NULL,
        published_seq  INTEGER
    );
    CREATE INDEX versions_by_data_source ON versions(data_source_id, state, published_seq);
    CREATE INDEX versions_by_job ON versions(job_id);
    CREATE INDEX versions_building ON versions(id) WHERE state = 'building';

    CREATE TABLE data_sources (
        id                   INTEGER PRIMARY KEY,
        access_id            TEXT NOT NULL UNIQUE,
        account_id           INTEGER NOT NULL REFERENCES accounts(id),
        name                 TEXT NOT NULL,
        name_key             TEXT NOT NULL,
        description          TEXT,
        master_key_id        INTEGER NOT NULL REFERENCES keys(id),
        query_key_id         INTEGER REFERENCES keys(id),
        is_public            INTEGER NOT NULL DEFAULT 0,
        published_version_id INTEGER REFERENCES versions(id),
        created              INTEGER NOT NULL,
        updated              INTEGER NOT NULL,
        UNIQUE (account_id, name_key)
    );

    -- No foreign key to versions: checking it on every inserted row costs
    -- load throughput, and the store deletes a version's entities itself.
    -- WITHOUT ROWID keeps each version's rows in key order, which is the
    -- order every read wants. Measured with examples/bench.rs against a
    -- rowid table + unique index: equal on IDs that arrive in key order;
    -- on scattered IDs the rowid table writes ~3x faster but scans ~1.6x
    -- slower (index, then a heap lookup per row) and drops a version ~2x
    -- slower (two b-trees), which pushes a pruning commit past 200 ms.
    CREATE TABLE entities (
        version_id INTEGER NOT NULL,
        entity_key TEXT NOT NULL,
        latitude   REAL NOT NULL,
        longitude  REAL NOT NULL,
        min_lon    REAL,
        min_lat    REAL,
        max_lon    REAL,
        max_lat    REAL,
        data       BLOB NOT NULL,
        PRIMARY KEY (version_id, entity_key)
    ) WITHOUT ROWID;
    "#,
    // 2: revoked keys (`sds keys revoke`): when, in Unix nanoseconds.
    r#"
    ALTER TABLE keys ADD COLUMN revoked INTEGER;
    "#,
    // key labels: a free text that `sds keys import --label` sets, shown by
    // `sds keys list` (NULL for keys without one).
    r#"
    ALTER TABLE keys ADD COLUMN label TEXT;
    "#,
];

/// Brings the database to the newest schema.
pub(crate) fn migrate(connection: &mut Connection) -> StoreResult<()> {
    let known = MIGRATIONS.len();
    loop {
        // The version is read inside the write transaction so that two
        // processes opening one new file cannot both apply a migration.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let applied = usize::try_from(applied).unwrap_or(usize::MAX);
        if applied == known {
            return Ok(());
        }
        let Some(migration) = MIGRATIONS.get(applied) else {
            return Err(StoreError::Corrupt(format!(
                "the database has schema version {applied}, newer than this build knows ({known})"
            )));
        };
        let version = applied + 1;
        tracing::info!(version, "applying store migration");
        transaction.execute_batch(migration)?;
        transaction.pragma_update(None, "user_version", version as i64)?;
        transaction.commit()?;
    }
}
