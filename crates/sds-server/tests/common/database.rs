//! Which store the HTTP tests run on, and a fresh PostgreSQL database per
//! test server.
//!
//! `SDS_TEST_STORE=postgres` runs every [`super::server::TestServer`] on
//! its own database, created in the cluster at `SDS_TEST_DATABASE_URL`
//! (an admin URL: `eval "$(.ci/pg-test-cluster)"` starts one and exports
//! it) and dropped when the last server using it is gone. Unset or
//! `sqlite`, the servers use their data dir's SQLite store as always.

use std::sync::atomic::{AtomicU32, Ordering};

/// The store the tests were asked to run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TestStore {
    Sqlite,
    Postgres,
}

/// `SDS_TEST_STORE`: `sqlite` (the default) or `postgres`; anything else
/// stops the test rather than silently testing the other store.
pub fn test_store() -> TestStore {
    match std::env::var("SDS_TEST_STORE").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => TestStore::Sqlite,
        Ok("postgres") => TestStore::Postgres,
        Ok(other) => panic!("SDS_TEST_STORE={other}: give sqlite or postgres"),
    }
}

/// True, after printing why, when the tests run on PostgreSQL: for tests
/// about the SQLite store's own files (the file itself, `sds backup`),
/// which have nothing to test there.
pub fn skip_on_postgres(reason: &str) -> bool {
    let skip = test_store() == TestStore::Postgres;
    if skip {
        println!("skipped on PostgreSQL: {reason}");
    }
    skip
}

/// The admin URL of the test cluster (`SDS_TEST_DATABASE_URL`).
pub fn admin_url() -> String {
    std::env::var("SDS_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!("SDS_TEST_STORE=postgres needs SDS_TEST_DATABASE_URL: run `eval \"$(.ci/pg-test-cluster)\"` first")
    })
}

/// A database of its own in the test cluster, dropped (connections
/// closed first) when this value is.
pub struct TestDatabase {
    name: String,
    /// The cluster's admin URL, to drop it with.
    admin: String,
    /// `postgres://…/NAME`: what `sds serve --database-url` gets.
    pub url: String,
}

impl TestDatabase {
    /// Creates an empty database named `sds_test_<pid>_<n>_<random>` in
    /// the cluster of [`admin_url`]; the store's migrations fill it.
    pub fn create() -> TestDatabase {
        static COUNT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sds_test_{}_{}_{:08x}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        TestDatabase::create_named(&admin_url(), name)
    }

    /// Creates the database `name` in the cluster of `admin`.
    pub fn create_named(admin: &str, name: String) -> TestDatabase {
        let mut client = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|error| panic!("cannot reach the test cluster at {admin}: {error}"));
        client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("CREATE DATABASE");
        let mut url = url::Url::parse(admin).expect("an admin URL");
        url.set_path(&name);
        TestDatabase { url: url.to_string(), name, admin: admin.to_owned() }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // WITH (FORCE) (PostgreSQL 13+) ends the sessions still open on it,
        // such as those of a server killed a moment ago.
        let dropped = postgres::Client::connect(&self.admin, postgres::NoTls).and_then(|mut client| {
            client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
        });
        if let Err(error) = dropped {
            eprintln!("the test database {} was not dropped: {error}", self.name);
        }
    }
}
