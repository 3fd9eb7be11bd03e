//! Choosing the store: `--database-url`, `SDS_DATABASE_URL` and the config
//! file's `database-url`, for `sds serve` and `sds keys`; the password
//! never shown; an unreachable database stops the start in one line.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::skip_unless_postgres;
use crate::common::database::TestDatabase;
use crate::common::server::{access_id_of, location, JsonBody, TestServer};
use crate::fixtures::SHOPS_CSV;

/// A password the test cluster ignores (it trusts loopback) and that
/// must appear in no output.
const PASSWORD: &str = "Hunter22-never-shown";

fn sds() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sds"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SDS_")) {
        command.env_remove(name);
    }
    command
}

/// `url` with [`PASSWORD`] as its password.
fn with_password(url: &str) -> String {
    let mut url = url::Url::parse(url).unwrap();
    url.set_password(Some(PASSWORD)).unwrap();
    url.to_string()
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `sds serve` with these arguments, its stderr in `log`; the base URL once
/// it listens.
fn serve(args: &[&str], env: &[(&str, &str)], log: &Path) -> (Child, String) {
    let mut child = sds()
        .arg("serve")
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("sds listening on ").map(str::to_owned))
        .unwrap_or_else(|| panic!("the server did not start: {}", std::fs::read_to_string(log).unwrap()));
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

/// Runs `sds ARGS` expecting exit status 1; returns its stderr, checked to
/// be one line without the password.
fn fails(command: &mut Command) -> String {
    let started = Instant::now();
    let output = command.env("RUST_BACKTRACE", "1").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.starts_with("sds: ") && !stderr.contains("backtrace"), "{stderr}");
    assert!(!stderr.contains(PASSWORD) && !String::from_utf8_lossy(&output.stdout).contains(PASSWORD), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(60), "gave up only after {:?}", started.elapsed());
    stderr
}

/// Start-up with the database unreachable: one line naming the store (its
/// password hidden) and exit status 1, for the service manager to retry;
/// `sds keys` the same. Needs no PostgreSQL: nothing listens there.
#[test]
fn an_unreachable_database_stops_serve_and_keys_with_one_line_without_the_password() {
    let port = closed_port();
    let url = format!("postgres://sds:{PASSWORD}@127.0.0.1:{port}/sds");
    let shown = format!("postgres://sds:***@127.0.0.1:{port}/sds");
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let stderr = fails(
        sds().args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url]).arg("--data-dir").arg(&data_dir),
    );
    assert!(stderr.contains(&format!("cannot open the PostgreSQL store at {shown}")), "{stderr}");
    assert!(!data_dir.join("sds.db").exists(), "no SQLite store made beside an unreachable database");
    let stderr = fails(sds().args(["keys", "list"]).arg("--data-dir").arg(&data_dir).env("SDS_DATABASE_URL", &url));
    assert!(stderr.contains(&shown), "{stderr}");
}

/// A value that is no PostgreSQL URL is refused by the argument parser,
/// naming the flag and never repeating the value.
#[test]
fn a_database_url_of_another_kind_is_refused_without_repeating_it() {
    for wrong in [format!("mysql://sds:{PASSWORD}@db/sds"), format!("host=db password={PASSWORD}")] {
        let output = sds().args(["serve", "--database-url", &wrong]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("--database-url") && !stderr.contains(PASSWORD), "{stderr}");
    }
}

/// The config file's `database-url` opens the PostgreSQL store; the
/// start-up line names it with the password hidden, and nothing the
/// server writes holds the password. `sds keys` finds the same store by
/// `SDS_DATABASE_URL` or `--database-url`, and a key made there works at
/// once on the server, and makes no data dir.
#[test]
fn the_config_file_variable_and_flag_choose_the_postgresql_store() {
    if skip_unless_postgres() {
        return;
    }
    let database = TestDatabase::create();
    let url = with_password(&database.url);
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("data");
    let file = temp.path().join("sds.toml");
    std::fs::write(&file, format!("database-url = {url:?}\ndata-dir = {:?}\n", data_dir.display().to_string()))
        .unwrap();
    let log = temp.path().join("server.log");
    let (mut child, base) = serve(&["--config", file.to_str().unwrap(), "--log-format", "json"], &[], &log);

    let key = {
        let output = sds()
            .args(["keys", "create", "--account", "default", "--database-url", &url])
            .arg("--data-dir")
            .arg(temp.path().join("elsewhere"))
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap().lines().last().unwrap().trim().to_owned()
    };
    let client = reqwest::blocking::Client::new();
    let root = format!("{base}/REST/v1");
    let load = client
        .post(format!(
            "{root}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key={key}"
        ))
        .body(SHOPS_CSV)
        .send()
        .unwrap();
    assert_eq!(load.status(), 201, "the key made by `sds keys --database-url` works on the server");
    let status_url = location(&load);
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let body = client.get(format!("{status_url}?output=json&key={key}")).send().unwrap().json_value();
        let job = body["resourceSets"][0]["resources"][0].clone();
        if job["status"] != "Pending" {
            break job;
        }
        assert!(Instant::now() < deadline, "{job}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(job["status"], "Completed", "{job}");
    let _ = access_id_of(&job);

    let listing = sds()
        .args(["keys", "list"])
        .arg("--data-dir")
        .arg(temp.path().join("nowhere"))
        .env("SDS_DATABASE_URL", &url)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listing.stdout);
    assert!(listing.status.success() && listed.contains(&key[..6]), "{listed}");
    assert!(!data_dir.join("sds.db").exists(), "no SQLite store beside PostgreSQL");
    for unused in ["elsewhere", "nowhere"] {
        assert!(!temp.path().join(unused).exists(), "`sds keys` on PostgreSQL made an empty data dir {unused}");
    }

    child.kill().unwrap();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let started: serde_json::Value = text
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|line| line["message"] == "sds started")
        .expect("a start-up line");
    let mut shown = url::Url::parse(&url).unwrap();
    shown.set_password(Some("***")).unwrap();
    assert_eq!(started["store"], format!("PostgreSQL {shown}"), "{started}");
    assert!(!text.contains(PASSWORD), "the password reached the log");
}

/// The servers of [`TestServer`] pick their store from `SDS_TEST_STORE`:
/// on PostgreSQL, none of them has an SQLite file.
#[test]
fn test_servers_run_on_the_store_asked_for() {
    let server = TestServer::start();
    let sqlite_file = server.data_dir().join("sds.db").exists();
    assert_eq!(sqlite_file, server.database_url().is_none(), "{:?}", server.database_url());
}

/// Servers started at the same moment on one empty database: exactly one
/// creates the account `default` and prints its two keys; the keys it
/// printed work on every server.
#[test]
fn servers_started_at_once_on_an_empty_database_print_one_key_pair() {
    if skip_unless_postgres() {
        return;
    }
    let database = TestDatabase::create();
    let temp = tempfile::tempdir().unwrap();
    let starting: Vec<_> = (0..4)
        .map(|n| {
            let data_dir = temp.path().join(format!("data{n}"));
            let log = temp.path().join(format!("server{n}.log"));
            let url = database.url.clone();
            std::thread::spawn(move || {
                let mut child = sds()
                    .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &url, "--data-dir"])
                    .arg(&data_dir)
                    .stdout(Stdio::piped())
                    .stderr(std::fs::File::create(&log).unwrap())
                    .spawn()
                    .unwrap();
                let lines = BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok);
                let mut before = Vec::new();
                for line in lines {
                    if let Some(base) = line.strip_prefix("sds listening on ") {
                        return (child, base.to_owned(), before);
                    }
                    before.push(line);
                }
                let _ = child.kill();
                let _ = child.wait();
                panic!("server {n} did not start: {}", std::fs::read_to_string(&log).unwrap());
            })
        })
        .collect();
    let mut servers: Vec<(Child, String, Vec<String>)> =
        starting.into_iter().map(|thread| thread.join().unwrap()).collect();
    let printed: Vec<&Vec<String>> =
        servers.iter().map(|(_, _, before)| before).filter(|before| !before.is_empty()).collect();
    assert_eq!(printed.len(), 1, "{printed:?}");
    let master = printed[0]
        .iter()
        .find_map(|line| line.split("master key (loads, downloads, jobs):").nth(1))
        .expect("the master key line")
        .trim()
        .to_owned();
    let client = reqwest::blocking::Client::new();
    for (_, base, _) in &servers {
        let listed = client.get(format!("{base}/REST/v1/data?$format=json&key={master}")).send().unwrap();
        assert_eq!(listed.status(), 200, "the printed master key works on {base}");
    }
    for (child, ..) in &mut servers {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
