//! A real `sds` server for integration tests: the built binary, started on
//! an ephemeral loopback port with a temporary data dir, driven over HTTP.
//! On the SQLite store in that dir, or with `SDS_TEST_STORE=postgres` on a
//! fresh PostgreSQL database of its own (`super::database`).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::database::{test_store, TestDatabase, TestStore};

pub struct TestServer {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// `http://127.0.0.1:PORT/REST/v1`
    pub root: String,
    pub master_key: String,
    pub query_key: String,
    data_dir: PathBuf,
    /// The PostgreSQL database, shared by the servers started on it
    /// ([`TestServer::start_beside`]) and dropped after the last one.
    database: Option<Arc<TestDatabase>>,
    _temp: Option<tempfile::TempDir>,
    pub client: reqwest::blocking::Client,
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_sds")
}

impl TestServer {
    /// A fresh server with an empty data dir (and, on PostgreSQL, an empty
    /// database): the account `default` and its two keys are created on
    /// first start.
    pub fn start() -> TestServer {
        TestServer::start_with(&[])
    }

    /// Like [`TestServer::start`] with extra `serve` flags.
    pub fn start_with(flags: &[&str]) -> TestServer {
        let database = (test_store() == TestStore::Postgres).then(|| Arc::new(TestDatabase::create()));
        TestServer::start_on_database(database, flags)
    }

    /// A fresh data dir on `database` (`None`: the SQLite store in the dir).
    pub fn start_on_database(database: Option<Arc<TestDatabase>>, flags: &[&str]) -> TestServer {
        let temp = tempfile::tempdir().expect("a temp dir");
        let data_dir = temp.path().join("data");
        let mut server = TestServer::spawn(&data_dir, database, flags);
        server._temp = Some(temp);
        server
    }

    /// A second server on the same PostgreSQL database as `other`, with a
    /// data dir of its own and `other`'s keys (it prints none: the store
    /// has keys already). Panics on SQLite, where a store has one server.
    pub fn start_beside(other: &TestServer, flags: &[&str]) -> TestServer {
        let database = other.database.clone().expect("a second server needs the PostgreSQL store");
        let mut server = TestServer::start_on_database(Some(database), flags);
        server.master_key = other.master_key.clone();
        server.query_key = other.query_key.clone();
        server
    }

    /// A server on an existing data dir (a restored backup, say), on the
    /// SQLite store in it. No keys are printed for a store that has some:
    /// the caller sets `master_key` and `query_key`.
    pub fn start_on(data_dir: &Path, flags: &[&str]) -> TestServer {
        TestServer::spawn(data_dir, None, flags)
    }

    /// The database this server runs on (PostgreSQL only), to start
    /// another server on it.
    pub fn database(&self) -> Option<Arc<TestDatabase>> {
        self.database.clone()
    }

    /// Kills the server and starts it again on the same data dir, but on
    /// `database` (a data dir pointed at another database).
    pub fn restart_on_database(&mut self, database: Option<Arc<TestDatabase>>) {
        self.kill9();
        self.database = database;
        self.restart_with(&[]);
    }

    /// The database URL this server runs on (PostgreSQL only).
    pub fn database_url(&self) -> Option<&str> {
        self.database.as_deref().map(|database| database.url.as_str())
    }

    /// The `sds` binary with this server's store in its environment
    /// (`SDS_DATABASE_URL` on PostgreSQL, none on SQLite), for commands a
    /// test runs itself (`sds keys …` with `--data-dir`).
    pub fn sds(&self) -> Command {
        sds_command(self.database_url())
    }

    fn spawn(data_dir: &Path, database: Option<Arc<TestDatabase>>, flags: &[&str]) -> TestServer {
        std::fs::create_dir_all(data_dir).unwrap();
        let log = std::fs::OpenOptions::new().create(true).append(true).open(data_dir.join("server.log")).unwrap();
        let mut child = sds_command(database.as_deref().map(|database| database.url.as_str()))
            .arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            // An ephemeral loopback port unless the test gives `--listen`.
            .args(if flags.contains(&"--listen") { &[][..] } else { &["--listen", "127.0.0.1:0"][..] })
            .args(flags)
            .env_remove("SDS_PUBLIC_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("the sds binary starts");
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let (mut master_key, mut query_key, mut base) = (String::new(), String::new(), String::new());
        for line in lines.by_ref() {
            let line = line.expect("server output");
            if line.contains("master key") {
                master_key = line.rsplit(' ').next().unwrap().to_owned();
            } else if line.contains("query key") {
                query_key = line.rsplit(' ').next().unwrap().to_owned();
            } else if let Some(address) = line.strip_prefix("sds listening on ") {
                base = address.trim().to_owned();
                break;
            }
        }
        assert!(!base.is_empty(), "the server did not start; see {}", data_dir.join("server.log").display());
        // "listening" is printed once the port is bound, before the start-up
        // sweeps (expired downloads, kept outputs, snapshots) run: a test
        // that looks at the data dir must wait until requests are served.
        wait_until_serving(&base);
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        TestServer {
            child: Some(child),
            root: format!("{base}/REST/v1"),
            base,
            master_key,
            query_key,
            data_dir: data_dir.to_owned(),
            database,
            _temp: None,
            client: reqwest::blocking::Client::builder().timeout(Duration::from_secs(120)).no_gzip().build().unwrap(),
        }
    }

    /// The server's log (stderr) with every line of the requests answered
    /// so far: lines are written by a background thread and may land just
    /// after their response, so this sends `GET /healthz` and waits for
    /// its line, which comes after all earlier ones.
    pub fn log(&self) -> String {
        let path = self.data_dir.join("server.log");
        let marks = |text: &str| text.matches("route=/healthz").count() + text.matches(r#""route":"/healthz""#).count();
        let before = marks(&std::fs::read_to_string(&path).unwrap_or_default());
        assert_eq!(self.get("/healthz").status(), 200);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            if marks(&text) > before || Instant::now() > deadline {
                return text;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The server process's id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("the server is running").id()
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Kills the server as `kill -9` does: no shutdown code runs.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("kill the server");
            child.wait().unwrap();
        }
    }

    /// Sends SIGTERM (what `systemctl stop` and `docker stop` send) and
    /// waits for the exit: returns whether it succeeded and how long it took.
    pub fn terminate(&mut self) -> (bool, Duration) {
        let mut child = self.child.take().expect("the server is running");
        let started = Instant::now();
        let sent = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill -TERM");
        assert!(sent.success());
        let status = child.wait().expect("the server exits");
        (status.success(), started.elapsed())
    }

    /// Waits for the exit of a server that was sent a signal by other means
    /// (by its [`TestServer::pid`]): returns whether it succeeded.
    pub fn wait_exit(&mut self) -> bool {
        let mut child = self.child.take().expect("the server is running");
        child.wait().expect("the server exits").success()
    }

    /// Kills the server and starts it again on the same data dir (the keys
    /// stay; the port changes).
    pub fn restart(&mut self) {
        self.restart_with(&[]);
    }

    /// Like [`TestServer::restart`] with `serve` flags.
    pub fn restart_with(&mut self, flags: &[&str]) {
        self.kill9();
        let mut fresh = TestServer::spawn(&self.data_dir.clone(), self.database.clone(), flags);
        self.child = fresh.child.take();
        self.base = fresh.base.clone();
        self.root = fresh.root.clone();
    }

    /// Runs `sds keys ARGS --data-dir DIR`; returns its stdout.
    pub fn keys_command(&self, args: &[&str]) -> String {
        let output = self.sds().arg("keys").args(args).arg("--data-dir").arg(&self.data_dir).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    }

    /// Runs `sds keys create` on this data dir; returns the new key.
    pub fn create_key(&self, account: &str) -> String {
        let output = self
            .sds()
            .args(["keys", "create", "--account", account, "--data-dir"])
            .arg(&self.data_dir)
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().lines().last().unwrap().trim().to_owned()
    }

    pub fn get(&self, path_and_query: &str) -> reqwest::blocking::Response {
        self.client.get(self.url(path_and_query)).send().expect("GET")
    }

    /// A URL an earlier run of this server handed out, on the current port
    /// (a restart changes it).
    pub fn on_current_port(&self, url: &str) -> String {
        let path = &url[url.find("/REST/").expect("a REST URL")..];
        format!("{}{path}", self.base)
    }

    pub fn url(&self, path_and_query: &str) -> String {
        if path_and_query.starts_with("http") {
            path_and_query.to_owned()
        } else {
            format!("{}{path_and_query}", self.base)
        }
    }

    /// POSTs a Load Data Source job; `query` is appended to the URL as is.
    pub fn load(
        &self,
        name: &str,
        operation: &str,
        input: &str,
        body: impl Into<Vec<u8>>,
        query: &str,
    ) -> reqwest::blocking::Response {
        let output = if query.contains("output=") { "" } else { "&output=json" };
        let url = format!(
            "{}/Dataflows/LoadDataSource?dataSourceName={name}&loadOperation={operation}&input={input}{output}&key={}{query}",
            self.root, self.master_key
        );
        self.client.post(url).header("content-type", "application/octet-stream").body(body.into()).send().expect("POST")
    }

    /// Polls a status URL (a `Location`) as the toolkit does, until the job
    /// is no longer `Pending`; returns the job resource.
    pub fn wait_job(&self, status_url: &str, key: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let response = self.get(&format!("{status_url}?output=json&key={key}"));
            assert_eq!(response.status(), 200, "status poll of {status_url}");
            let body: Value = response.json_value();
            let job = body["resourceSets"][0]["resources"][0].clone();
            if job["status"] != "Pending" {
                return job;
            }
            assert!(Instant::now() < deadline, "job still Pending: {job}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Loads a data source and waits for the job; returns the final job.
    pub fn load_and_wait(&self, name: &str, operation: &str, input: &str, body: impl Into<Vec<u8>>) -> Value {
        let response = self.load(name, operation, input, body, "");
        assert_eq!(response.status(), 201, "load of {name}");
        let location = location(&response);
        self.wait_job(&location, &self.master_key)
    }

    /// Creates a download job, waits for it and returns the downloaded text.
    pub fn download(&self, access_id: &str, name: &str) -> String {
        let response = self.get(&format!(
            "/REST/v1/Dataflows/DataSourceDownload/{access_id}/{name}?output=json&key={}",
            self.master_key
        ));
        assert_eq!(response.status(), 201);
        let job = self.wait_job(&location(&response), &self.master_key);
        assert_eq!(job["status"], "Completed", "{job}");
        let url = link(&job, "output", Some("succeeded"));
        let data = self.get(&format!("{url}?key={}", self.master_key));
        assert_eq!(data.status(), 200);
        data.text().unwrap()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub trait JsonBody {
    fn json_value(self) -> Value;
}

impl JsonBody for reqwest::blocking::Response {
    fn json_value(self) -> Value {
        let text = self.text().expect("a body");
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
    }
}

pub fn location(response: &reqwest::blocking::Response) -> String {
    response.headers().get("location").expect("a Location header").to_str().unwrap().to_owned()
}

/// The URL of a job's link with this role (and name).
pub fn link(job: &Value, role: &str, name: Option<&str>) -> String {
    job["links"]
        .as_array()
        .expect("links")
        .iter()
        .find(|link| link["role"] == role && name.is_none_or(|name| link["name"] == name))
        .unwrap_or_else(|| panic!("no {role}/{name:?} link in {job}"))["url"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The access id from a completed load's `dataSource` link.
pub fn access_id_of(job: &Value) -> String {
    let url = link(job, "dataSource", Some("service"));
    url.split("/data/").nth(1).unwrap().split('/').next().unwrap().to_owned()
}

/// The `sds` binary with `SDS_DATABASE_URL` set to `database` (or unset,
/// so that the caller's environment never picks the store).
pub fn sds_command(database: Option<&str>) -> Command {
    let mut command = Command::new(binary());
    match database {
        Some(url) => command.env("SDS_DATABASE_URL", url),
        None => command.env_remove("SDS_DATABASE_URL"),
    };
    command
}

/// Path to a file of the shared test data (read-only): `shared/data` next
/// to the checkout (`../shared/data` from the workspace root), found in the
/// nearest ancestor that has one, so that worktrees nested deeper find it too.
pub fn shared_data(relative: &str) -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let data = manifest
        .ancestors()
        .map(|ancestor| ancestor.join("shared/data"))
        .find(|candidate| candidate.is_dir())
        .unwrap_or_else(|| manifest.join("../../../shared/data"));
    data.join(relative)
}

/// Waits until the server at `base` answers an HTTP request (any status):
/// then its start-up work is done. A TLS server's certificate is not
/// checked here; the tests that care check it themselves.
fn wait_until_serving(base: &str) {
    let probe = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(5))
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while probe.get(format!("{base}/healthz")).send().is_err() {
        assert!(Instant::now() < deadline, "the server at {base} never answered");
        std::thread::sleep(Duration::from_millis(10));
    }
}
