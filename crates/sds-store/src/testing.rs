//! Test support (feature `test-support`): a fresh PostgreSQL database per
//! test, for this crate's store suite and the server's `TestServer`.
//!
//! The admin URL comes from `SDS_TEST_DATABASE_URL` (a role that may create
//! databases and the `postgis` extension); `eval "$(.ci/pg-test-cluster)"`
//! starts a throwaway cluster on loopback and exports it. When it is unset
//! the PostgreSQL tests fail, saying so, unless `SDS_SKIP_POSTGRES_TESTS=1`
//! skips them (as `SDS_SKIP_BROWSER_TESTS` does for the browser tests).

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use postgres::{Client, NoTls};

/// The variable holding the admin URL of the test cluster.
pub const DATABASE_URL_VAR: &str = "SDS_TEST_DATABASE_URL";
/// Set to `1` to skip the PostgreSQL tests instead of failing them.
pub const SKIP_VAR: &str = "SDS_SKIP_POSTGRES_TESTS";

/// A database created for one test, dropped (with any connection still
/// open to it) when this value drops.
#[derive(Debug)]
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    /// Creates an empty database named `<prefix>_<pid>_<n>_<nanos>` in the
    /// test cluster, with an ICU `en-US` default collation where the server
    /// has ICU; `None` when `SDS_SKIP_POSTGRES_TESTS=1`.
    ///
    /// Panics, saying how to start the cluster, when `SDS_TEST_DATABASE_URL`
    /// is unset, or when the cluster refuses the database.
    pub fn create(prefix: &str) -> Option<TestDatabase> {
        let admin_url = admin_url()?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|elapsed| elapsed.subsec_nanos()).unwrap_or(0);
        let name = format!(
            "{}_{}_{}_{nanos}",
            prefix.to_ascii_lowercase().replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut admin = Client::connect(&admin_url, NoTls)
            .unwrap_or_else(|error| panic!("cannot connect to {DATABASE_URL_VAR} ({admin_url}): {error}"));
        // A default collation that is not byte order (ICU's en-US sorts
        // "_x" before "10" and "B" after "a1"), so that a test catches any
        // text the store orders or matches without `COLLATE "C"`. Plain,
        // where the server has no ICU.
        let icu = format!(
            "CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' \
             LOCALE 'C.UTF-8'"
        );
        admin
            .batch_execute(&icu)
            .or_else(|_| admin.batch_execute(&format!("CREATE DATABASE \"{name}\"")))
            .unwrap_or_else(|error| panic!("cannot create test database {name}: {error}"));
        let url = with_database(&admin_url, &name);
        Some(TestDatabase { admin_url, name, url })
    }

    /// The URL of this database, with the admin URL's role and options.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let dropped = Client::connect(&self.admin_url, NoTls).and_then(|mut admin| {
            admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
        });
        if let Err(error) = dropped {
            eprintln!("test database {} was not dropped: {error}", self.name);
        }
    }
}

/// The admin URL, `None` to skip; panics when neither is set.
pub fn admin_url() -> Option<String> {
    if std::env::var(SKIP_VAR).is_ok_and(|value| value == "1") {
        return None;
    }
    match std::env::var(DATABASE_URL_VAR) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => panic!(
            "{DATABASE_URL_VAR} is not set: the PostgreSQL tests need a cluster. Start one with \
             `eval \"$(.ci/pg-test-cluster)\"` (it exports {DATABASE_URL_VAR}), or set {SKIP_VAR}=1 to skip them"
        ),
    }
}

/// `url` naming database `name` instead: the URL form's path is replaced,
/// the `key=value` form gets a `dbname`.
pub fn with_database(url: &str, name: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return format!("{url} dbname={name}");
    };
    let rest_start = scheme_end + 3;
    let query = url[rest_start..].find('?').map_or(url.len(), |at| rest_start + at);
    let path = url[rest_start..query].find('/').map_or(query, |at| rest_start + at);
    format!("{}/{name}{}", &url[..path], &url[query..])
}

/// Applies the PostgreSQL store's first `migrations` migrations to the
/// database at `url`, and no more: a database as an older build left it,
/// for tests of the migrations that follow.
pub fn migrate_postgres_to(url: &str, migrations: i64) -> crate::StoreResult<()> {
    crate::PostgresStore::migrate_to(url, migrations)
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn a_url_gets_another_database() {
        assert_eq!(with_database("postgres://u@h:1/postgres", "t"), "postgres://u@h:1/t");
        assert_eq!(
            with_database("postgres://u@h:1/postgres?sslmode=disable", "t"),
            "postgres://u@h:1/t?sslmode=disable"
        );
        assert_eq!(with_database("postgresql://u@h", "t"), "postgresql://u@h/t");
        assert_eq!(with_database("host=h user=u", "t"), "host=h user=u dbname=t");
    }
}
