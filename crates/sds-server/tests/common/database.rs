//! Which store the HTTP tests run on, and a fresh PostgreSQL database per
//! test server.
//!
//! `SDS_TEST_STORE=postgres` runs every [`super::server::TestServer`] on
//! its own database, created in the cluster at `SDS_TEST_DATABASE_URL`
//! (an admin URL: `eval "$(.ci/pg-test-cluster)"` starts one and exports
//! it) by the store suite's helper (`sds_store::testing`) and dropped when
//! the last server using it is gone. Unset or
//! `sqlite`, the servers use their data dir's SQLite store as always.

use std::time::Duration;

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

/// A database of its own for a test server, dropped (connections closed
/// first) when this value is: in the test cluster (`sds_store::testing`,
/// the store suite's helper), or in a cluster a test runs itself.
pub struct TestDatabase {
    /// `postgres://…/NAME`: what `sds serve --database-url` gets.
    pub url: String,
    _owner: Owner,
}

enum Owner {
    Shared(sds_store::testing::TestDatabase),
    Own { admin: String, name: String },
}

impl TestDatabase {
    /// An empty database in the cluster at `SDS_TEST_DATABASE_URL`; the
    /// store's migrations fill it.
    pub fn create() -> TestDatabase {
        let database = sds_store::testing::TestDatabase::create("sds_http")
            .expect("SDS_TEST_STORE=postgres runs on PostgreSQL: unset SDS_SKIP_POSTGRES_TESTS");
        TestDatabase { url: database.url().to_owned(), _owner: Owner::Shared(database) }
    }

    /// Creates the database `name` in the cluster of `admin` (a test's own).
    pub fn create_in(admin: &str, name: String) -> TestDatabase {
        let mut client = postgres::Client::connect(admin, postgres::NoTls)
            .unwrap_or_else(|error| panic!("cannot reach the cluster at {admin}: {error}"));
        client.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("CREATE DATABASE");
        let url = sds_store::testing::with_database(admin, &name);
        TestDatabase { url, _owner: Owner::Own { admin: admin.to_owned(), name } }
    }
}

impl TestDatabase {
    /// A copy of `template` as it is now (`CREATE DATABASE … TEMPLATE`, as
    /// a restore from a dump would make it: the same rows, identity and id
    /// sequences), in the same cluster. No session may be open on
    /// `template` (stop its servers first).
    pub fn copy_of(template: &TestDatabase) -> TestDatabase {
        let admin = sds_store::testing::admin_url().expect("a PostgreSQL test cluster");
        let source = template.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
        let name = format!("{source}_copy_{:08x}", rand::random::<u32>());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("the test cluster");
        // A killed server's sessions end a moment after it.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while let Err(error) = client.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{source}\"")) {
            assert!(std::time::Instant::now() < deadline, "CREATE DATABASE … TEMPLATE: {error}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let url = sds_store::testing::with_database(&admin, &name);
        TestDatabase { url, _owner: Owner::Own { admin, name } }
    }
}

impl Drop for Owner {
    fn drop(&mut self) {
        let Owner::Own { admin, name } = self else {
            return;
        };
        // WITH (FORCE) (PostgreSQL 13+) ends the sessions still open on it,
        // such as those of a server killed a moment ago.
        let dropped = postgres::Client::connect(admin, postgres::NoTls)
            .and_then(|mut client| client.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")));
        if let Err(error) = dropped {
            eprintln!("the test database {name} was not dropped: {error}");
        }
    }
}
