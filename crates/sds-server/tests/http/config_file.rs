//! `sds serve --config FILE` (issue 12, "Configuration"): flags beat
//! `SDS_*` variables, which beat the file, which beats the defaults; an
//! unknown key stops the server naming it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

/// `sds serve` with the given flags and environment, its base URL once it
/// listens. No `SDS_*` variable of the test's own environment leaks in.
pub fn spawn_serve(flags: &[&str], env: &[(&str, &str)]) -> (Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sds"));
    command.arg("serve").args(flags).stdout(Stdio::piped()).stderr(Stdio::null());
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SDS_")) {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().expect("the sds binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let base = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|line| line.strip_prefix("sds listening on ").map(str::to_owned))
        .expect("the server starts");
    std::thread::spawn(move || for _ in lines {});
    (child, base)
}

fn envelope(base: &str) -> Value {
    // No key: the 401 envelope still carries the configured texts.
    let text = reqwest::blocking::get(format!("{base}/REST/v1/data?$format=json")).unwrap().text().unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn flags_beat_variables_beat_the_file_beats_defaults() {
    let temp = tempfile::tempdir().unwrap();
    let data_dir = temp.path().join("from-file");
    let file = temp.path().join("sds.toml");
    std::fs::write(
        &file,
        format!(
            "data-dir = {:?}\nlisten = \"127.0.0.1:0\"\ncopyright = \"(c) file\"\nbrand-logo-uri = \"http://file.example/logo.png\"\nmax-entities = 7\n",
            data_dir.display().to_string()
        ),
    )
    .unwrap();
    let (mut child, base) = spawn_serve(
        &["--config", file.to_str().unwrap(), "--copyright", "(c) flag"],
        &[("SDS_COPYRIGHT", "(c) variable"), ("SDS_BRAND_LOGO_URI", "http://variable.example/logo.png")],
    );
    let answer = envelope(&base);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(answer["copyright"], "(c) flag", "{answer}");
    assert_eq!(answer["brandLogoUri"], "http://variable.example/logo.png", "{answer}");
    assert!(data_dir.join("sds.db").exists(), "the file's data dir is used");

    // Without a file, the defaults.
    let default_dir = temp.path().join("default");
    let (mut child, base) = spawn_serve(&["--listen", "127.0.0.1:0", "--data-dir", default_dir.to_str().unwrap()], &[]);
    let answer = envelope(&base);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(answer["copyright"], "Copyright © 2026 sds. All rights reserved.");
}

/// A file setting reaches the server's behaviour, not only its envelope:
/// `max-entities = 2` from the file refuses a three-row load.
#[test]
fn a_file_setting_governs_the_server() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("sds.toml");
    std::fs::write(&file, "max-entities = 2\n").unwrap();
    let mut server = crate::common::server::TestServer::start_with(&["--config", file.to_str().unwrap()]);
    let csv = "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,47.6,-122.3\n2,47.6,-122.3\n3,47.6,-122.3\n";
    let job = server.load_and_wait("Shops", "complete", "csv", csv);
    server.kill9();
    assert_eq!(job["status"], "Aborted", "{job}");
    assert!(job["errorMessage"].as_str().unwrap_or_default().contains('2'), "{job}");
}

#[test]
fn unknown_keys_stop_the_server_naming_them() {
    let temp = tempfile::tempdir().unwrap();
    let file = temp.path().join("sds.toml");
    std::fs::write(&file, "listn = \"127.0.0.1:0\"\ndata-dir = \"unused\"\n").unwrap();
    // Named by the variable this time.
    let output = Command::new(env!("CARGO_BIN_EXE_sds"))
        .arg("serve")
        .env("SDS_CONFIG", &file)
        .current_dir(temp.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("`listn` (did you mean `listen`?)"), "{stderr}");
    assert!(stderr.contains("sds.toml"), "{stderr}");
    assert!(!temp.path().join("unused").exists(), "nothing started");
}
