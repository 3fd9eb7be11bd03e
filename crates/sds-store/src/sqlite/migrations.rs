//! The schema, as numbered migrations. `PRAGMA user_version` holds how many
//! have been applied; each runs in its own transaction together with the
//! bump, so a crash mid-migration leaves the previous, consistent schema.
//! Append new migrations; never edit one that has shipped.

use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

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
    // 3: row ids are never reused. Without AUTOINCREMENT, SQLite gives a
    // new row the largest id + 1, so deleting the newest version (or data
    // source, key, job) handed its id to the next one, and whatever still
    // named the old id (the query cache, a pending download job) then
    // reached another account's rows. AUTOINCREMENT keeps the largest id
    // ever used in `sqlite_sequence`. SQLite cannot add it to a table, so
    // each table is rebuilt (foreign keys are off while migrations run,
    // and checked before the commit). The version sequence starts above
    // every version id a stored download job names, in case that version
    // was deleted before this migration.
    r#"
    CREATE TABLE accounts_new (
        id      INTEGER PRIMARY KEY AUTOINCREMENT,
        name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created INTEGER NOT NULL
    );
    INSERT INTO accounts_new (id, name, created) SELECT id, name, created FROM accounts;
    DROP TABLE accounts;
    ALTER TABLE accounts_new RENAME TO accounts;

    CREATE TABLE keys_new (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        account_id INTEGER NOT NULL REFERENCES accounts(id),
        hash       BLOB NOT NULL UNIQUE,
        hint       TEXT NOT NULL,
        created    INTEGER NOT NULL,
        revoked    INTEGER
    );
    INSERT INTO keys_new (id, account_id, hash, hint, created, revoked)
        SELECT id, account_id, hash, hint, created, revoked FROM keys;
    DROP TABLE keys;
    ALTER TABLE keys_new RENAME TO keys;
    CREATE INDEX keys_by_account ON keys(account_id);

    CREATE TABLE jobs_new (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
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
    INSERT INTO jobs_new SELECT seq, id, account_id, key_id, kind, status, data_source_name, name_key, params,
        created, completed, total, processed, failed, error_message, result_access_id FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_new RENAME TO jobs;
    CREATE INDEX jobs_pending ON jobs(seq) WHERE status = 'Pending';
    CREATE INDEX jobs_newest ON jobs(account_id, kind, name_key, seq);

    CREATE TABLE versions_new (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        data_source_id INTEGER REFERENCES data_sources(id),
        job_id         TEXT NOT NULL,
        schema         TEXT NOT NULL,
        entity_count   INTEGER NOT NULL,
        state          TEXT NOT NULL,
        created        INTEGER NOT NULL,
        published_seq  INTEGER
    );
    INSERT INTO versions_new SELECT id, data_source_id, job_id, schema, entity_count, state, created, published_seq
        FROM versions;
    DROP TABLE versions;
    ALTER TABLE versions_new RENAME TO versions;
    CREATE INDEX versions_by_data_source ON versions(data_source_id, state, published_seq);
    CREATE INDEX versions_by_job ON versions(job_id);
    CREATE INDEX versions_building ON versions(id) WHERE state = 'building';

    CREATE TABLE data_sources_new (
        id                   INTEGER PRIMARY KEY AUTOINCREMENT,
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
    INSERT INTO data_sources_new SELECT id, access_id, account_id, name, name_key, description, master_key_id,
        query_key_id, is_public, published_version_id, created, updated FROM data_sources;
    DROP TABLE data_sources;
    ALTER TABLE data_sources_new RENAME TO data_sources;

    DELETE FROM sqlite_sequence WHERE name = 'versions';
    INSERT INTO sqlite_sequence (name, seq) SELECT 'versions', MAX(
        COALESCE((SELECT MAX(id) FROM versions), 0),
        COALESCE((SELECT MAX(CAST(json_extract(params, '$.Download.version_id') AS INTEGER)) FROM jobs
                  WHERE kind = 'DataSourceDownload'), 0));
    "#,
    // 4: key labels: a free text that `sds keys import --label` sets, shown by
    // `sds keys list` (NULL for keys without one).
    r#"
    ALTER TABLE keys ADD COLUMN label TEXT;
    "#,
    // 5: the accessIds of deleted data sources and the account that held
    // them. A new data source may adopt a given accessId (`sds migrate`),
    // but never one another account held: an application's old URLs,
    // with its old key, must never reach another account's data.
    r#"
    CREATE TABLE retired_access_ids (
        access_id  TEXT PRIMARY KEY,
        account_id INTEGER NOT NULL REFERENCES accounts(id)
    );
    "#,
    // 6: several servers on one store (see `cluster.rs`). A Pending job's
    // claim: the worker running it and until when (Unix nanoseconds) its
    // lease holds. `changes.counter` grows with every commit that changes
    // what servers cache. The index finds a data source's pending jobs for
    // the one-at-a-time rule of `claim_job`.
    r#"
    ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
    ALTER TABLE jobs ADD COLUMN lease_until INTEGER;
    CREATE INDEX jobs_pending_by_source ON jobs(account_id, name_key, seq) WHERE status = 'Pending';
    CREATE TABLE changes (
        id      INTEGER PRIMARY KEY CHECK (id = 1),
        counter INTEGER NOT NULL
    );
    INSERT INTO changes (id, counter) VALUES (1, 0);
    "#,
];

/// Brings the database to the newest schema.
/// Whether the schema is the one this build migrates to: a read of `PRAGMA
/// user_version` (which also shows that the database answers).
pub(crate) fn check_current(connection: &Connection) -> StoreResult<()> {
    let applied: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if applied == MIGRATIONS.len() as i64 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "the store's schema is at migration {applied}, this build expects {}",
            MIGRATIONS.len()
        )))
    }
}

pub(crate) fn migrate(connection: &mut Connection) -> StoreResult<()> {
    // Rebuilding a table (migration 3) drops the old one while other tables
    // still refer to it; SQLite's documented way is with foreign keys off
    // (a no-op inside a transaction, hence here) and a check before each
    // commit.
    connection.pragma_update(None, "foreign_keys", false)?;
    let migrated = apply_pending(connection, MIGRATIONS.len());
    connection.pragma_update(None, "foreign_keys", true)?;
    migrated
}

/// Applies migrations until `target` of them are.
fn apply_pending(connection: &mut Connection, target: usize) -> StoreResult<()> {
    let known = MIGRATIONS.len();
    loop {
        // The version is read inside the write transaction so that two
        // processes opening one new file cannot both apply a migration.
        let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let applied: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        let applied = usize::try_from(applied).unwrap_or(usize::MAX);
        if applied >= target.min(known) && applied <= known {
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
        let dangling: Option<String> =
            transaction.query_row("PRAGMA foreign_key_check", [], |row| row.get(0)).optional()?;
        if let Some(table) = dangling {
            return Err(StoreError::Corrupt(format!(
                "migration {version} left a row of table '{table}' referring to a missing row"
            )));
        }
        transaction.pragma_update(None, "user_version", version as i64)?;
        transaction.commit()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(connection: &Connection, sql: &str) -> i64 {
        connection.query_row(sql, [], |row| row.get(0)).unwrap()
    }

    /// A store made by the previous build (schema 2), with deleted rows:
    /// every row is kept, a version id that a stored download job names is
    /// not handed out again, and from then on no table reuses the id of
    /// its newest row once that row is deleted.
    #[test]
    fn migration_3_keeps_every_row_and_ids_are_never_reused_after_it() {
        let mut connection = Connection::open_in_memory().unwrap();
        apply_pending(&mut connection, 2).unwrap();
        connection
            .execute_batch(
                r#"
                INSERT INTO accounts (id, name, created) VALUES (1, 'a', 0), (2, 'b', 0);
                INSERT INTO keys (id, account_id, hash, hint, created) VALUES (1, 1, x'01', 'h1', 0), (2, 2, x'02', 'h2', 0);
                INSERT INTO data_sources (id, access_id, account_id, name, name_key, master_key_id, created, updated)
                    VALUES (1, 'aa', 1, 'One', 'one', 1, 0, 0), (2, 'bb', 2, 'Two', 'two', 2, 0, 0);
                INSERT INTO versions (id, data_source_id, job_id, schema, entity_count, state, created)
                    VALUES (1, 1, 'j1', '{}', 1, 'published', 0), (2, 2, 'j2', '{}', 1, 'published', 0),
                           (3, 2, 'j3', '{}', 1, 'previous', 0);
                UPDATE data_sources SET published_version_id = id;
                INSERT INTO entities (version_id, entity_key, latitude, longitude, data) VALUES (1, 'x', 0, 0, x'00');
                INSERT INTO jobs (seq, id, account_id, key_id, kind, status, data_source_name, name_key, params,
                                  created, total, processed, failed)
                    VALUES (1, 'j1', 1, 1, 'DataSourceComplete', 'Completed', 'One', 'one', '{}', 0, 1, 1, 0),
                           (2, 'd5', 2, 2, 'DataSourceDownload', 'Pending', 'Two', 'two',
                            '{"Download":{"access_id":"bb","version_id":5,"format":"Xml"}}', 0, 1, 0, 0),
                           (3, 'j3', 2, 2, 'DataSourceComplete', 'Completed', 'Two', 'two', '{}', 0, 1, 1, 0);
                DELETE FROM versions WHERE id = 3;
                DELETE FROM jobs WHERE seq = 3;
                UPDATE data_sources SET published_version_id = NULL WHERE id = 2;
                DELETE FROM versions WHERE id = 2;
                DELETE FROM data_sources WHERE id = 2;
                "#,
            )
            .unwrap();

        migrate(&mut connection).unwrap();
        assert_eq!(count(&connection, "PRAGMA user_version"), MIGRATIONS.len() as i64);
        assert_eq!(count(&connection, "SELECT COUNT(*) FROM accounts"), 2);
        assert_eq!(count(&connection, "SELECT COUNT(*) FROM keys"), 2);
        assert_eq!(count(&connection, "SELECT published_version_id FROM data_sources WHERE access_id = 'aa'"), 1);
        assert_eq!(count(&connection, "SELECT COUNT(*) FROM entities WHERE version_id = 1"), 1);
        assert_eq!(count(&connection, "SELECT COUNT(*) FROM jobs"), 2);
        assert!(count(&connection, "PRAGMA foreign_keys") == 1, "foreign keys are on again");

        // A stored download job still names version 5: it must never name
        // another data source's rows.
        connection
            .execute_batch("INSERT INTO versions (job_id, schema, entity_count, state, created) VALUES ('j4', '{}', 0, 'building', 0)")
            .unwrap();
        assert_eq!(count(&connection, "SELECT id FROM versions WHERE job_id = 'j4'"), 6);
        // From now on, the newest row's id stays taken after a delete.
        for (table, insert) in [
            ("versions", "INSERT INTO versions (job_id, schema, entity_count, state, created) VALUES ('j5', '{}', 0, 'building', 0)"),
            ("data_sources", "INSERT INTO data_sources (access_id, account_id, name, name_key, master_key_id, created, updated) VALUES (hex(randomblob(16)), 1, 'N', 'n' || random(), 1, 0, 0)"),
            ("keys", "INSERT INTO keys (account_id, hash, hint, created) VALUES (1, randomblob(32), 'h', 0)"),
            ("accounts", "INSERT INTO accounts (name, created) VALUES (hex(randomblob(8)), 0)"),
        ] {
            connection.execute_batch(insert).unwrap();
            let newest = connection.last_insert_rowid();
            connection.execute(&format!("DELETE FROM {table} WHERE rowid = ?1"), [newest]).unwrap();
            connection.execute_batch(insert).unwrap();
            assert_eq!(connection.last_insert_rowid(), newest + 1, "{table}");
        }
        let insert_job = |id: &str| {
            connection
                .execute(
                    "INSERT INTO jobs (id, account_id, key_id, kind, status, data_source_name, name_key, params,
                                       created, total, processed, failed)
                     VALUES (?1, 1, 1, 'DataSourceComplete', 'Pending', 'One', 'one', '{}', 0, 0, 0, 0)",
                    [id],
                )
                .unwrap();
            connection.last_insert_rowid()
        };
        let newest = insert_job("j6");
        connection.execute("DELETE FROM jobs WHERE seq = ?1", [newest]).unwrap();
        assert_eq!(insert_job("j7"), newest + 1, "jobs");
    }
}
