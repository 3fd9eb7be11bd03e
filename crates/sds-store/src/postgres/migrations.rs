//! The schema, as numbered migrations, recorded in `sds_schema_migrations`.
//! Each runs in its own transaction together with its record, so a crash
//! mid-migration leaves the previous, consistent schema. All of them run
//! under a session-level advisory lock, so several servers starting at
//! once on a new database apply each migration exactly once: the others
//! wait, then find nothing left to do. Append new migrations; never edit
//! one that has shipped.
//!
//! The columns mirror the SQLite store's (see `sqlite/migrations.rs` and
//! `crate::codec`): instants are `bigint` nanoseconds, JSON is `text`, and
//! every key that orders or matches text is `COLLATE "C"` (byte order, as
//! SQLite's `BINARY`), so both stores list and match alike whatever the
//! database's locale. Row ids are identity columns, which never hand out
//! an id twice, deleted row or not.

use postgres::Client;

use crate::{StoreError, StoreResult};

/// The advisory lock key that migrations hold ("SDS_MIGR").
const MIGRATION_LOCK: i64 = 0x5344_535f_4d49_4752;

const MIGRATIONS: &[&str] = &[
    // 1: the schema of SQLite's migrations 1–5, plus the PostGIS view.
    r#"
    CREATE EXTENSION IF NOT EXISTS postgis;

    CREATE TABLE accounts (
        id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name     text NOT NULL,
        -- sds_core::AccountId::name_key: ASCII case folded (SQLite's NOCASE).
        name_key text COLLATE "C" NOT NULL UNIQUE,
        created  bigint NOT NULL
    );

    CREATE TABLE keys (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        account_id bigint NOT NULL REFERENCES accounts(id),
        hash       bytea NOT NULL UNIQUE,
        hint       text NOT NULL,
        created    bigint NOT NULL,
        revoked    bigint,
        label      text
    );
    CREATE INDEX keys_by_account ON keys(account_id);

    -- seq orders jobs by submission even when two share a creation instant.
    CREATE TABLE jobs (
        seq              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id               text COLLATE "C" NOT NULL UNIQUE,
        account_id       bigint NOT NULL REFERENCES accounts(id),
        key_id           bigint NOT NULL REFERENCES keys(id),
        kind             text NOT NULL,
        status           text NOT NULL,
        data_source_name text NOT NULL,
        name_key         text COLLATE "C" NOT NULL,
        params           text NOT NULL,
        created          bigint NOT NULL,
        completed        bigint,
        total            bigint NOT NULL,
        processed        bigint NOT NULL,
        failed           bigint NOT NULL,
        error_message    text,
        result_access_id text
    );
    CREATE INDEX jobs_pending ON jobs(seq) WHERE status = 'Pending';
    CREATE INDEX jobs_newest ON jobs(account_id, kind, name_key, seq);
    CREATE INDEX jobs_by_account ON jobs(account_id, created);

    CREATE TABLE job_failures (
        job_id    text COLLATE "C" NOT NULL REFERENCES jobs(id),
        ordinal   bigint NOT NULL,
        line      bigint NOT NULL,
        entity_id text,
        reason    text NOT NULL,
        PRIMARY KEY (job_id, ordinal)
    );

    CREATE TABLE data_sources (
        id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        access_id            text COLLATE "C" NOT NULL UNIQUE,
        account_id           bigint NOT NULL REFERENCES accounts(id),
        name                 text NOT NULL,
        -- sds_core::DataSource::name_key.
        name_key             text COLLATE "C" NOT NULL,
        description          text,
        master_key_id        bigint NOT NULL REFERENCES keys(id),
        query_key_id         bigint REFERENCES keys(id),
        is_public            boolean NOT NULL DEFAULT false,
        published_version_id bigint,
        created              bigint NOT NULL,
        updated              bigint NOT NULL,
        UNIQUE (account_id, name_key)
    );

    -- data_source_id stays NULL until the version is published or staged;
    -- published_seq orders rollback targets by when they were published.
    CREATE TABLE versions (
        id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        data_source_id bigint REFERENCES data_sources(id),
        job_id         text COLLATE "C" NOT NULL,
        schema         text NOT NULL,
        entity_count   bigint NOT NULL,
        state          text NOT NULL,
        created        bigint NOT NULL,
        published_seq  bigint
    );
    CREATE INDEX versions_by_data_source ON versions(data_source_id, state, published_seq);
    CREATE INDEX versions_by_job ON versions(job_id);
    CREATE INDEX versions_building ON versions(id) WHERE state = 'building';
    ALTER TABLE data_sources ADD FOREIGN KEY (published_version_id) REFERENCES versions(id);

    -- The accessIds of deleted data sources and the account that held them:
    -- never adopted by another account's new data source.
    CREATE TABLE retired_access_ids (
        access_id  text COLLATE "C" PRIMARY KEY,
        account_id bigint NOT NULL REFERENCES accounts(id)
    );

    -- One row per entity of every version. `data` is the exact form the
    -- store reads back (crate::codec); `geography` (the entity's geography,
    -- else its point) and `properties` (its typed values by property name)
    -- are for SQL and GIS readers. No foreign key to versions: checking it
    -- per row costs load throughput, and the store deletes a version's
    -- entities itself.
    CREATE TABLE entities (
        version_id bigint NOT NULL,
        entity_key text COLLATE "C" NOT NULL,
        entity_id  text NOT NULL,
        latitude   double precision NOT NULL,
        longitude  double precision NOT NULL,
        geography  geography NOT NULL,
        properties jsonb NOT NULL,
        data       bytea NOT NULL,
        PRIMARY KEY (version_id, entity_key)
    );
    CREATE INDEX entities_geography ON entities USING gist (geography);

    -- The published version of every data source, for GIS tools
    -- (README, "PostgreSQL store").
    CREATE VIEW published_entities AS
        SELECT a.name AS account, d.name AS data_source, d.access_id, e.entity_id, e.geography, e.properties
        FROM data_sources d
        JOIN accounts a ON a.id = d.account_id
        JOIN entities e ON e.version_id = d.published_version_id;
    "#,
    // 2: several servers on one store (`crate::cluster`, SQLite's migration
    // 6): a Pending job's claim (the worker running it, and until when, in
    // Unix nanoseconds of the database's clock, its lease holds); the
    // change counter; payloads (`postgres/payloads.rs`), chunked.
    r#"
    ALTER TABLE jobs ADD COLUMN claimed_by text;
    ALTER TABLE jobs ADD COLUMN lease_until bigint;
    CREATE INDEX jobs_pending_by_source ON jobs(account_id, name_key, seq) WHERE status = 'Pending';
    CREATE TABLE changes (
        id      integer PRIMARY KEY CHECK (id = 1),
        counter bigint NOT NULL
    );
    INSERT INTO changes (id, counter) VALUES (1, 0);

    -- kind: 'input' (name = job id), 'output' (name = job id, extension =
    -- format) or 'kept' (name = entry). An output with kept_entry has no
    -- chunks of its own: it is the kept output of that name.
    CREATE TABLE payloads (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind       text NOT NULL CHECK (kind IN ('input', 'output', 'kept')),
        name       text COLLATE "C" NOT NULL,
        extension  text COLLATE "C" NOT NULL DEFAULT '',
        kept_entry text COLLATE "C",
        length     bigint NOT NULL,
        written    bigint NOT NULL,
        UNIQUE (kind, name, extension)
    );
    CREATE TABLE payload_chunks (
        payload_id bigint NOT NULL REFERENCES payloads(id) ON DELETE CASCADE,
        seq        integer NOT NULL,
        data       bytea NOT NULL,
        PRIMARY KEY (payload_id, seq)
    );
    ALTER TABLE payload_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
    "#,
    // 3: the database's identity (`Store::identity`): a random value made
    // once, so that files a server keeps beside a database (table
    // snapshots) are never read back against another database whose rows
    // happen to carry the same ids. A restore from `pg_dump` keeps it (and
    // the same versions, which are immutable); a re-created database gets
    // a new one.
    r#"
    CREATE TABLE store_identity (id text NOT NULL);
    INSERT INTO store_identity (id) SELECT replace(gen_random_uuid()::text, '-', '');
    "#,
    // 4: a table per version (`postgres/partitions.rs`): `entities` becomes
    // a table partitioned by version; each version's rows are copied into a
    // table of their own (`entities_v{id}`), indexed once, then attached.
    // The existing versions move over with their indexes, so every version
    // reads back as before; the view is re-created on the new table.
    r#"
    DROP VIEW published_entities;
    ALTER TABLE entities RENAME TO entities_before_4;
    ALTER INDEX entities_pkey RENAME TO entities_before_4_pkey;
    ALTER INDEX entities_geography RENAME TO entities_before_4_geography;

    CREATE TABLE entities (
        version_id bigint NOT NULL,
        entity_key text COLLATE "C" NOT NULL,
        entity_id  text NOT NULL,
        latitude   double precision NOT NULL,
        longitude  double precision NOT NULL,
        geography  geography NOT NULL,
        properties jsonb NOT NULL,
        data       bytea NOT NULL,
        PRIMARY KEY (version_id, entity_key)
    ) PARTITION BY LIST (version_id);
    CREATE INDEX entities_geography ON entities USING gist (geography);

    DO $$
    DECLARE
        version bigint;
    BEGIN
        FOR version IN SELECT id FROM versions ORDER BY id LOOP
            EXECUTE format('CREATE TABLE entities_v%s (LIKE entities, CONSTRAINT entities_v%s_version CHECK (version_id = %s))',
                           version, version, version);
            EXECUTE format('INSERT INTO entities_v%s SELECT * FROM entities_before_4 WHERE version_id = %s ORDER BY entity_key',
                           version, version);
            EXECUTE format('ALTER TABLE entities_v%s ADD CONSTRAINT entities_v%s_pkey PRIMARY KEY (version_id, entity_key)',
                           version, version);
            EXECUTE format('CREATE INDEX entities_v%s_geography ON entities_v%s USING gist (geography)', version, version);
            EXECUTE format('ALTER TABLE entities ATTACH PARTITION entities_v%s FOR VALUES IN (%s)', version, version);
        END LOOP;
    END
    $$;
    DROP TABLE entities_before_4;

    CREATE VIEW published_entities AS
        SELECT a.name AS account, d.name AS data_source, d.access_id, e.entity_id, e.geography, e.properties
        FROM data_sources d
        JOIN accounts a ON a.id = d.account_id
        JOIN entities e ON e.version_id = d.published_version_id;
    "#,
];

/// How many migrations this build knows.
pub(super) const CURRENT: i64 = MIGRATIONS.len() as i64;

/// Brings the database to the newest schema, under the migration lock.
pub(super) fn migrate(client: &mut Client) -> StoreResult<()> {
    migrate_to(client, CURRENT)
}

/// Applies the migrations up to `target` (tests: a database as an older
/// build left it), under the migration lock.
pub(super) fn migrate_to(client: &mut Client, target: i64) -> StoreResult<()> {
    client.execute("SELECT pg_advisory_lock($1)", &[&MIGRATION_LOCK])?;
    let migrated = apply_pending(client, target.min(CURRENT));
    // Also released when the connection closes, should this fail.
    let unlocked = client.execute("SELECT pg_advisory_unlock($1)", &[&MIGRATION_LOCK]);
    migrated?;
    unlocked?;
    Ok(())
}

fn apply_pending(client: &mut Client, target: i64) -> StoreResult<()> {
    client.batch_execute(
        "CREATE TABLE IF NOT EXISTS sds_schema_migrations (
             version integer PRIMARY KEY,
             applied timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    loop {
        let mut transaction = client.transaction()?;
        let applied = applied(&mut transaction)?;
        if applied >= target && applied <= CURRENT {
            return Ok(());
        }
        let migration = usize::try_from(applied).ok().and_then(|applied| MIGRATIONS.get(applied)).ok_or_else(|| {
            StoreError::Corrupt(format!(
                "the database has schema version {applied}, newer than this build knows ({CURRENT})"
            ))
        })?;
        let version = applied + 1;
        tracing::info!(version, "applying PostgreSQL store migration");
        transaction.batch_execute(migration)?;
        transaction.execute("INSERT INTO sds_schema_migrations (version) VALUES ($1)", &[&(version as i32)])?;
        transaction.commit()?;
    }
}

/// How many migrations the database has.
pub(super) fn applied(client: &mut impl postgres::GenericClient) -> StoreResult<i64> {
    let row = client.query_one("SELECT COALESCE(MAX(version), 0)::bigint FROM sds_schema_migrations", &[])?;
    Ok(row.get(0))
}

/// Whether the schema is the one this build migrates to.
pub(super) fn check_current(client: &mut impl postgres::GenericClient) -> StoreResult<()> {
    let applied = applied(client)?;
    if applied == CURRENT {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("the store's schema is at migration {applied}, this build expects {CURRENT}")))
    }
}
