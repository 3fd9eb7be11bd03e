//! One server per data dir, and key commands that never make a store in
//! the wrong folder (issue 10, finding 6).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::server::TestServer;

fn sds() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sds"))
}

/// A second `sds serve` on a running server's data dir exits at once,
/// naming the first one's PID; `sds keys` keeps working beside it.
#[test]
fn finding_6_a_second_server_on_one_data_dir_is_refused_naming_the_first() {
    let server = TestServer::start();
    let mut second = server
        .sds()
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(server.data_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = second.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            second.kill().unwrap();
            panic!("the second server kept running");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut second.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains(&format!("PID {}", server.pid())), "{stderr}");
    assert!(stderr.contains(&server.data_dir().display().to_string()), "{stderr}");

    let key = server.create_key("beside");
    assert!(server.keys_command(&["list"]).contains("account beside"));
    let data = server.get(&format!("/REST/v1/data?$format=json&key={key}"));
    assert_eq!(data.status(), 200, "the first server serves the key made beside it");
}

/// `sds keys list` and `sds keys revoke` in a folder without a store fail,
/// saying which data dir they looked at, and create nothing there.
#[test]
fn finding_6_read_only_key_commands_never_create_a_store() {
    let temp = tempfile::tempdir().unwrap();
    let nowhere = temp.path().join("not-a-data-dir");
    for args in [&["keys", "list"][..], &["keys", "revoke", "--id", "1"][..]] {
        let output = sds().args(args).arg("--data-dir").arg(&nowhere).env_remove("SDS_DATA_DIR").output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{args:?}");
        assert!(stderr.contains("not-a-data-dir") && stderr.contains("holds no store"), "{args:?}: {stderr}");
        assert!(!nowhere.exists(), "{args:?} created {}", nowhere.display());
    }
}
