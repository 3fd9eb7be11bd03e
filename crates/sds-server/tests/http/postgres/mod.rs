//! The PostgreSQL store from the outside (issue 13): choosing it
//! (`--database-url`, `SDS_DATABASE_URL`, the config file), the password
//! kept out of every line, two servers on one database, and the database
//! going away and coming back.
//!
//! The tests that need a running PostgreSQL run with
//! `SDS_TEST_STORE=postgres` (after `eval "$(.ci/pg-test-cluster)"`) and
//! say so and pass otherwise; the rest run on both.

mod faults;
mod multi;
mod selection;
mod snapshots;

use crate::common::database::{test_store, TestStore};

/// True, after printing why, unless the tests run on PostgreSQL.
fn skip_unless_postgres() -> bool {
    let skip = test_store() != TestStore::Postgres;
    if skip {
        println!("skipped: needs SDS_TEST_STORE=postgres and a cluster at SDS_TEST_DATABASE_URL");
    }
    skip
}
