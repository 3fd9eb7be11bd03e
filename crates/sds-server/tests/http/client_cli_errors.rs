//! The client commands when things go wrong (a bad key, no server, an
//! aborted job, rows that fail), where URL and key come from (flags, then
//! `SDS_URL`/`SDS_KEY`, then the config file), and their progress output:
//! plain lines off a terminal, a bar under a pseudo-terminal.

use std::net::TcpListener;
use std::process::Command;

use crate::client_cli::{ClientHome, Run};
use crate::common::server::TestServer;
use crate::fixtures::many_shops_csv;

const BAD_TYPE_CSV: &str = "Bing Spatial Data Services, 1.0, Bad\n\
    Id(Edm.Strin,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n1,47.6,-122.3\n";

const ONE_BAD_ROW_CSV: &str = "Bing Spatial Data Services, 1.0, Shops\n\
    Id(Edm.String,primaryKey),Latitude(Edm.Double),Longitude(Edm.Double)\n\
    1,47.6,-122.3\n2,91,0\n3,47.7,-122.1\n";

/// A loopback URL where nothing listens.
fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn client_aborted_job_exits_1_with_its_message_and_failed_rows_are_listed() {
    let server = TestServer::start();
    let home = ClientHome::new(&server);
    let run = home.sds(&server, &["upload", &home.file("bad.csv", BAD_TYPE_CSV), "--name", "Bad"]).failed();
    assert!(run.stdout.contains("status       Aborted"), "{}", run.stdout);
    let error = run.error_line();
    assert!(error.starts_with("sds: the load job of 'Bad' ended Aborted: "), "{error}");
    assert!(error.contains("unknown type 'Edm.Strin'"), "{error}");
    let report = home.sds(&server, &["upload", &home.file("bad.csv", BAD_TYPE_CSV), "--name", "Bad", "--json"]);
    assert_eq!(report.failed().json()["status"], "Aborted");

    // Skipped rows: the job completes (exit 0) and they are listed.
    let run = home.sds(&server, &["upload", &home.file("rows.csv", ONE_BAD_ROW_CSV), "--name", "Rows"]).ok();
    assert!(run.stdout.contains("3 total, 3 processed, 1 failed"), "{}", run.stdout);
    let after = run.stdout.split("failed rows:\n").nth(1).unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(after.contains("'2'") && after.contains("91"), "{after}");
    let json = home.sds(&server, &["upload", &home.file("rows.csv", ONE_BAD_ROW_CSV), "--name", "Rows", "--json"]);
    assert!(json.ok().json()["failedRows"].as_str().unwrap().contains("91"));
}

#[test]
fn client_bad_key_unreachable_server_and_unknown_names_are_one_line_errors() {
    let server = TestServer::start();
    let mut home = ClientHome::new(&server);
    let wrong = "NotARealKeyButLongEnough0123456789";
    home.secret(wrong);
    for args in [vec!["sources"], vec!["jobs"], vec!["upload", "x.csv", "--name", "X"], vec!["download", "X"]] {
        home.file("x.csv", many_shops_csv(1));
        let mut all = args.clone();
        all.extend(["--key", wrong]);
        let run = home.run(home.command(&all).env("SDS_URL", &server.base)).failed();
        assert!(run.error_line().contains("the server answered 401: "), "{args:?}: {}", run.stderr);
        assert!(run.error_line().contains("key"), "the envelope's message: {}", run.stderr);
    }

    let closed = closed_url();
    let run = home.run(home.command(&["sources", "--url", &closed]).env("SDS_KEY", &server.master_key)).failed();
    assert!(run.error_line().contains(&format!("({closed})")), "{}", run.stderr);
    assert!(run.error_line().contains("cannot reach the server"), "{}", run.stderr);
    assert!(run.error_line().contains("refused"), "{}", run.stderr);

    let run = home.sds(&server, &["download", "Nope"]).failed();
    assert!(run.error_line().contains("no data source named 'Nope'"), "{}", run.stderr);
    let run = home.sds(&server, &["rollback", "Nope", "0123456789abcdef0123456789abcdef"]).failed();
    assert!(run.error_line().contains("the server answered 404"), "{}", run.stderr);
    // Refusals that come before the server reads the body still show the
    // server's answer (the upload is streamed, 3 MB here).
    let big = home.file("big.csv", many_shops_csv(60_000));
    let run = home.sds(&server, &["upload", &big, "--name", "bad/name"]).failed();
    assert!(
        run.error_line().contains("the server answered 400: data source name 'bad/name' is invalid"),
        "{}",
        run.stderr
    );
    let run = home.sds(&server, &["upload", &big, "--name", "Missing", "--incremental"]).failed();
    assert!(run.error_line().contains("the server answered 404: "), "{}", run.stderr);
    assert!(run.error_line().contains("an incremental load needs an existing data source"), "{}", run.stderr);
    let run = home.sds(&server, &["upload", &home.file("words.dat", "just words\n"), "--name", "W"]).failed();
    assert!(run.error_line().contains("cannot tell the format"), "{}", run.stderr);
    let run = home.sds(&server, &["upload", &home.file("lonely.shp", "x"), "--name", "W"]).failed();
    assert!(run.error_line().contains("lonely.shx"), "{}", run.stderr);
}

#[test]
fn client_settings_come_from_flags_then_environment_then_the_config_file() {
    let server = TestServer::start();
    let mut home = ClientHome::new(&server);
    let wrong = "NotARealKeyButLongEnough0123456789";
    home.secret(wrong);
    let closed = closed_url();
    let sources = |home: &ClientHome, flags: &[&str], env: &[(&str, &str)]| -> Run {
        let mut args = vec!["sources"];
        args.extend_from_slice(flags);
        let mut command: Command = home.command(&args);
        command.envs(env.iter().copied());
        home.run(&mut command)
    };

    // Help shows that SDS_KEY is read, not its value.
    let help = home.run(home.command(&["upload", "--help"]).env("SDS_KEY", &server.master_key)).ok();
    assert!(help.stdout.contains("[env: SDS_KEY]"), "{}", help.stdout);

    let run = sources(&home, &[], &[("SDS_URL", &server.base)]).failed();
    assert!(run.error_line().contains("no key: give --key, set SDS_KEY"), "{}", run.stderr);
    assert!(run.error_line().contains("config/sds/client.toml"), "names the file: {}", run.stderr);

    // The file alone.
    home.config(&format!("url = \"{}\"\nkey = \"{}\"\n", server.base, server.master_key));
    sources(&home, &[], &[]).ok();
    // The environment wins over the file; a flag over the environment.
    let run = sources(&home, &[], &[("SDS_KEY", wrong)]).failed();
    assert!(run.error_line().contains("401"), "{}", run.stderr);
    sources(&home, &["--key", &server.master_key], &[("SDS_KEY", wrong)]).ok();
    let run = sources(&home, &[], &[("SDS_URL", &closed)]).failed();
    assert!(run.error_line().contains(&closed), "{}", run.stderr);
    sources(&home, &["--url", &server.base], &[("SDS_URL", &closed)]).ok();

    // The file's URL is used below the environment's.
    home.config(&format!("url = \"{closed}\"\nkey = \"{}\"\n", server.master_key));
    sources(&home, &[], &[("SDS_URL", &server.base)]).ok();

    // An unknown setting is named; the key in the same file is not shown.
    home.config(&format!("url = \"{}\"\nkye = \"{}\"\n", server.base, server.master_key));
    let run = sources(&home, &[], &[]).failed();
    assert!(run.error_line().contains("client.toml: unknown field `kye`"), "{}", run.stderr);
}

/// The progress lines on stderr of a run (those of the form `phase: …`).
fn progress_lines(run: &Run) -> Vec<&str> {
    run.stderr.lines().filter(|line| !line.starts_with("sds: ")).collect()
}

#[test]
fn client_progress_is_plain_lines_off_a_terminal() {
    let server = TestServer::start();
    let home = ClientHome::new(&server);
    let text = many_shops_csv(3000);
    let file = home.file("many.csv", &text);
    let run = home.sds(&server, &["upload", &file, "--name", "Many"]).ok();
    let lines = progress_lines(&run);
    assert!(lines.contains(&format!("sending: {0}/{0} bytes", text.len()).as_str()), "{}", run.stderr);
    assert!(lines.contains(&"processing: 3000/3000 entities"), "{}", run.stderr);
    assert!(lines.iter().all(|line| line.starts_with("sending: ") || line.starts_with("processing: ")), "{lines:?}");
    assert!(!run.stderr.contains('\u{1b}') && !run.stderr.contains('\r'), "no control codes: {:?}", run.stderr);

    let output = home.path("many.xml");
    let run = home.sds(&server, &["download", "Many", "-o", output.to_str().unwrap()]).ok();
    let size = std::fs::metadata(&output).unwrap().len();
    let lines = progress_lines(&run);
    assert!(lines.contains(&"preparing: 3000/3000 entities"), "{}", run.stderr);
    assert!(
        lines
            .iter()
            .any(|line| *line == format!("receiving: {size}/{size} bytes")
                || *line == format!("receiving: {size} bytes")),
        "{}",
        run.stderr
    );
}

#[test]
fn client_progress_draws_a_bar_under_a_pseudo_terminal() {
    let server = TestServer::start();
    let home = ClientHome::new(&server);
    let file = home.file("many.csv", many_shops_csv(3000));
    // util-linux `script` runs the command on a pseudo-terminal and copies
    // what it writes there to our pipe.
    let script = Command::new("script").arg("--version").output();
    assert!(script.is_ok_and(|output| output.status.success()), "this test needs `script` (util-linux)");
    let command_line =
        format!("stty cols 120 rows 40; exec '{}' upload '{file}' --name Many", env!("CARGO_BIN_EXE_sds"));
    let mut command = Command::new("script");
    command
        .args(["-qec", &command_line, "/dev/null"])
        .env("XDG_CONFIG_HOME", home.path("config"))
        .env("SDS_URL", &server.base)
        .env("SDS_KEY", &server.master_key)
        .env("TERM", "xterm");
    let output = home.run(&mut command);
    assert_eq!(output.code, Some(0), "{}\n{}", output.stdout, output.stderr);
    let transcript = &output.stdout;
    assert!(transcript.contains('\u{1b}'), "terminal control codes: {transcript:?}");
    assert!(transcript.contains("sending ["), "a bar while sending: {transcript:?}");
    assert!(transcript.contains("processing ["), "a bar while the job runs: {transcript:?}");
    assert!(transcript.contains("3000/3000 entities"), "{transcript:?}");
    assert!(transcript.contains("status       Completed"), "{transcript:?}");
}
