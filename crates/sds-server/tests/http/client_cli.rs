//! The client commands of the real `sds` binary against a real server:
//! every input format up, every output format down, and every management
//! subcommand. Every run is checked for the server's keys in its output
//! (there must be none). Errors, settings and progress are in
//! `client_cli_errors`.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::common::server::{shared_data, TestServer};
use crate::fixtures::{gzip, many_shops_csv, toolkit_xml, zip, SHOPS_CSV, SHOPS_PIPE, SHOPS_TAB};
use crate::formats::{SHOPS_GEOJSON, SHOPS_KML};

/// A client's home: a temporary `XDG_CONFIG_HOME` (with no config file
/// unless a test writes one) and a folder for input and output files.
pub struct ClientHome {
    dir: tempfile::TempDir,
    /// Values that must never appear in any output.
    secrets: Vec<String>,
}

/// What one run of the binary did.
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts exit status 0 and returns itself.
    pub fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// Asserts exit status 1 with one error line on stderr starting `sds: `.
    pub fn failed(self) -> Run {
        assert_eq!(self.code, Some(1), "stdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        let error = self.error_line();
        assert!(error.starts_with("sds: "), "{}", self.stderr);
        self
    }

    /// The last line of stderr (where the error is).
    pub fn error_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or_default()
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|error| panic!("not JSON ({error}): {}", self.stdout))
    }
}

impl ClientHome {
    pub fn new(server: &TestServer) -> ClientHome {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        ClientHome { dir, secrets: vec![server.master_key.clone(), server.query_key.clone()] }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes a file into the home folder; returns its path as text.
    pub fn file(&self, name: &str, bytes: impl AsRef<[u8]>) -> String {
        let path = self.path(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// Writes the config file `$XDG_CONFIG_HOME/sds/client.toml`.
    pub fn config(&self, text: &str) {
        let dir = self.path("config").join("sds");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("client.toml"), text).unwrap();
    }

    /// A value that must never be printed either.
    pub fn secret(&mut self, value: &str) {
        self.secrets.push(value.to_owned());
    }

    /// `sds ARGS` with no SDS_URL/SDS_KEY in its environment and this
    /// home's config dir.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sds"));
        command
            .args(args)
            .env_remove("SDS_URL")
            .env_remove("SDS_KEY")
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("HOME", self.dir.path())
            .current_dir(self.dir.path());
        command
    }

    /// Runs a command; asserts that no secret is in its output.
    pub fn run(&self, command: &mut Command) -> Run {
        let output = command.output().expect("the sds binary runs");
        let run = Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for secret in &self.secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a key was printed:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        run
    }

    /// `sds ARGS` against `server` with its master key from the environment.
    pub fn sds(&self, server: &TestServer, args: &[&str]) -> Run {
        self.run(self.command(args).env("SDS_URL", &server.base).env("SDS_KEY", &server.master_key))
    }
}

fn count(run: &Run, field: &str) -> u64 {
    run.json()[field].as_u64().unwrap_or_else(|| panic!("no {field} in {}", run.stdout))
}

#[test]
fn client_uploads_every_format_with_detection_and_gzip() {
    let server = TestServer::start();
    let home = ClientHome::new(&server);
    let cities = shared_data("naturalearth_cities/naturalearth_cities.shp");
    let cities_zip = {
        use std::io::Write;
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for extension in ["shp", "shx", "dbf", "prj"] {
            let part = cities.with_extension(extension);
            writer.start_file(format!("c.{extension}"), zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(&std::fs::read(part).unwrap()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    };
    // (file, data source, the format detection must find, entities)
    let cases = [
        (home.file("shops.csv", SHOPS_CSV), "Csv", "csv", 3),
        (home.file("shops.tab", SHOPS_TAB), "Tab", "tab", 2),
        // No telling extension: the delimiter after "Bing Spatial Data Services".
        (home.file("shops.txt", SHOPS_PIPE), "Pipe", "pipe", 2),
        (home.file("shops.csv.gz", gzip(SHOPS_CSV.as_bytes())), "Gzipped", "csv", 3),
        (home.file("export.data", toolkit_xml("Shops")), "Xml", "xml", 2),
        (home.file("places.kml", SHOPS_KML), "Kml", "kml", 4),
        (home.file("places.kmz", zip("doc.kml", SHOPS_KML.as_bytes())), "Kmz", "kml", 4),
        (home.file("shops.geojson", SHOPS_GEOJSON), "GeoJson", "geojson", 3),
        (home.file("cities.zip", cities_zip), "CitiesZip", "shp", 243),
        // A bare .shp: its .shx, .dbf and .prj are zipped with it.
        (cities.to_str().unwrap().to_owned(), "Cities", "shp", 243),
    ];
    let uploaded = cases.len();
    for (file, name, format, entities) in cases {
        let run = home.sds(&server, &["upload", &file, "--name", name, "--json"]).ok();
        let report = run.json();
        assert_eq!(report["status"], "Completed", "{name}: {report}");
        assert_eq!(report["input"], format, "{name}: {report}");
        assert_eq!(report["totalEntityCount"], entities, "{name}: {report}");
        assert_eq!(report["failedEntityCount"], 0, "{name}: {report}");
        let access_id = report["accessId"].as_str().unwrap();
        assert_eq!(access_id.len(), 32, "{report}");
        let url = report["url"].as_str().unwrap();
        assert_eq!(url, format!("{}/data/{access_id}/{name}/{}", server.root, report["entityType"].as_str().unwrap()));
        // The URL answers a query with the query key.
        let answer = server.get(&format!("{url}?$format=json&$top=1&key={}", server.query_key));
        assert_eq!(answer.status(), 200, "{url}");
    }
    let listed = home.sds(&server, &["sources", "--json"]).ok().json();
    assert_eq!(listed.as_array().unwrap().len(), uploaded, "{listed}");

    // The human form: the accessId, the URL and the counts.
    let run = home.sds(&server, &["upload", &home.file("more.csv", many_shops_csv(30)), "--name", "More"]).ok();
    assert!(run.stdout.contains("status       Completed"), "{}", run.stdout);
    assert!(run.stdout.contains("entities     30 total, 30 processed, 0 failed"), "{}", run.stdout);
    assert!(run.stdout.contains(&format!("URL          {}/data/", server.root)), "{}", run.stdout);
    let table = home.sds(&server, &["sources"]).ok().stdout;
    assert!(table.starts_with("NAME "), "{table}");
    assert!(table.lines().any(|line| line.starts_with("More ") && line.contains(" Shops ")), "{table}");
}

#[test]
fn client_downloads_every_format_and_the_counts_match() {
    let server = TestServer::start();
    let home = ClientHome::new(&server);
    let cities = shared_data("naturalearth_cities/naturalearth_cities.shp");
    home.sds(&server, &["upload", cities.to_str().unwrap(), "--name", "Cities"]).ok();

    for (format, file) in [("xml", "cities.xml"), ("csv", "cities.csv"), ("geojson", "cities.geojson")] {
        let output = home.path(file);
        let run =
            home.sds(&server, &["download", "Cities", "--format", format, "-o", output.to_str().unwrap(), "--json"]);
        let report = run.ok().json();
        assert_eq!(report["entities"], 243, "{report}");
        assert_eq!(report["bytes"], std::fs::metadata(&output).unwrap().len(), "{report}");
        assert!(!home.path(&format!("{file}.part")).exists(), "the partial file is renamed");
        if format == "geojson" {
            let collection: Value = serde_json::from_slice(&std::fs::read(&output).unwrap()).unwrap();
            assert_eq!(collection["features"].as_array().unwrap().len(), 243);
        } else {
            // XML and CSV downloads upload again as they are.
            let copy = format!("Copy{format}");
            let run = home.sds(&server, &["upload", output.to_str().unwrap(), "--name", &copy, "--json"]).ok();
            assert_eq!(count(&run, "totalEntityCount"), 243, "{format}");
            assert_eq!(count(&run, "failedEntityCount"), 0, "{format}");
        }
    }
    // Without -o: the data on stdout, byte for byte the file's.
    let run = home.sds(&server, &["download", "Cities", "--format", "csv"]).ok();
    assert_eq!(run.stdout.as_bytes(), std::fs::read(home.path("cities.csv")).unwrap());
}

/// The upload's job id, from `sds jobs --json` (newest first).
fn load_job_ids(home: &ClientHome, server: &TestServer, name: &str) -> Vec<String> {
    let jobs = home.sds(server, &["jobs", "--json"]).ok().json();
    jobs.as_array()
        .unwrap()
        .iter()
        .filter(|job| job["name"] == name && job["description"].as_str().unwrap().starts_with("DataSourceComplete"))
        .map(|job| job["id"].as_str().unwrap().to_owned())
        .collect()
}

fn query_count(home: &ClientHome, server: &TestServer, args: &[&str]) -> usize {
    let mut all = vec!["query"];
    all.extend_from_slice(args);
    all.push("--json");
    home.sds(server, &all).ok().json().as_array().unwrap().len()
}

#[test]
fn client_manages_a_data_source_through_its_lifecycle() {
    let server = TestServer::start();
    let mut home = ClientHome::new(&server);
    let other_key = server.create_key("other");
    home.secret(&other_key);
    let two = home.file("two.csv", many_shops_csv(2));
    let three = home.file("three.csv", many_shops_csv(3));
    home.sds(&server, &["upload", &two, "--name", "Shops", "--query-key", &server.query_key]).ok();
    let staged = home.sds(&server, &["upload", &three, "--name", "Shops", "--staging", "--json"]).ok().json();
    assert_eq!(staged["status"], "Completed", "{staged}");
    assert_eq!(query_count(&home, &server, &["Shops"]), 2, "staged is not published");
    assert_eq!(query_count(&home, &server, &["Shops", "--staged"]), 3);

    let download = home.path("staged.csv");
    let report = home.sds(
        &server,
        &["download", "Shops", "--staged", "--format", "csv", "-o", download.to_str().unwrap(), "--json"],
    );
    assert_eq!(report.ok().json()["entities"], 3);

    let published = home.sds(&server, &["publish", "Shops"]).ok();
    assert!(published.stdout.contains("Completed"), "{}", published.stdout);
    assert_eq!(query_count(&home, &server, &["Shops"]), 3);

    // Rollback to the first version, by its load job's id; that version
    // also downloads by --version.
    let jobs = load_job_ids(&home, &server, "Shops");
    let first = jobs.last().unwrap();
    let older = home.path("older.csv");
    let report = home.sds(&server, &["download", "Shops", "--version", first, "-o", older.to_str().unwrap(), "--json"]);
    assert_eq!(report.ok().json()["entities"], 2);
    let rollback = home.sds(&server, &["rollback", "Shops", first, "--json"]).ok().json();
    assert_eq!(rollback["status"], "Completed", "{rollback}");
    assert_eq!(query_count(&home, &server, &["Shops"]), 2);

    // public on: another account's key queries it; off: it no longer can.
    let as_other = |home: &ClientHome| {
        home.run(home.command(&["query", "Shops", "--json"]).env("SDS_URL", &server.base).env("SDS_KEY", &other_key))
    };
    home.sds(&server, &["public", "Shops", "on"]).ok();
    let sources = home.sds(&server, &["sources", "--json"]).ok().json();
    assert_eq!(sources[0]["isPublic"], true, "{sources}");
    // `sds query` finds the data source in the caller's own account list,
    // so the other account queries the URL the owner hands out.
    let url = sources[0]["url"].as_str().unwrap();
    assert_eq!(server.get(&format!("{url}?$format=json&key={other_key}")).status(), 200);
    home.sds(&server, &["public", "Shops", "off"]).ok();
    assert_eq!(server.get(&format!("{url}?$format=json&key={other_key}")).status(), 401);
    let refused = as_other(&home).failed();
    assert!(refused.error_line().contains("no data source named 'Shops'"), "{}", refused.stderr);

    let jobs = home.sds(&server, &["jobs"]).ok().stdout;
    assert!(jobs.starts_with("ID "), "{jobs}");
    for kind in ["DataSourceComplete", "DataSourceCompleteStaging", "DataSourcePublishFromStaged", "DataSourceRollback"]
    {
        assert!(jobs.contains(kind), "{kind} in {jobs}");
    }

    // delete --staged removes only the staged version.
    home.sds(&server, &["upload", &three, "--name", "Shops", "--staging"]).ok();
    assert_eq!(query_count(&home, &server, &["Shops", "--staged"]), 3);
    home.sds(&server, &["delete", "Shops", "--staged"]).ok();
    let run = home.sds(&server, &["query", "Shops", "--staged"]).failed();
    assert!(run.error_line().contains("the server answered 404: "), "{}", run.stderr);
    assert_eq!(query_count(&home, &server, &["Shops"]), 2, "the published version stays");

    let deleted = home.sds(&server, &["delete", "Shops"]).ok();
    assert!(deleted.stdout.contains("Completed"), "{}", deleted.stdout);
    let sources = home.sds(&server, &["sources", "--json"]).ok().json();
    assert_eq!(sources, Value::Array(vec![]));
}

#[test]
fn client_query_prints_tables_json_geojson_and_csv() {
    let server = TestServer::start();
    let home = ClientHome::new(&server);
    let file = home.file("shops.csv", many_shops_csv(200));
    home.sds(&server, &["upload", &file, "--name", "Shops"]).ok();
    // id0 is at (-84.5, -174.75); rows repeat every 170 latitudes.
    let near = ["Shops", "nearby(-84.5,-174.75,1)"];
    assert_eq!(query_count(&home, &server, &near), 1);
    assert_eq!(query_count(&home, &server, &["Shops", "--top", "7"]), 7);
    // A full page says there may be more, on stderr; one that is not, does not.
    let full = home.sds(&server, &["query", "Shops", "--format", "csv"]).ok();
    assert_eq!(full.stdout.lines().count(), 26, "{}", full.stdout);
    assert!(full.stderr.contains("25 results") && full.stderr.contains("sds download Shops"), "{}", full.stderr);
    let few = home.sds(&server, &["query", "Shops", "nearby(-84.5,-174.75,1)", "--format", "csv"]).ok();
    assert!(!few.stderr.contains("there may be more"), "{}", few.stderr);
    assert_eq!(query_count(&home, &server, &["Shops", "--filter", "Name eq 'Shop number 42'"]), 1);

    let table = home.sds(&server, &["query", "Shops", "--filter", "EntityID eq 'id42'"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "{table}");
    assert!(lines[0].contains("EntityID") && lines[0].contains("Name"), "{table}");
    assert!(lines[1].contains("Shop number 42"), "{table}");

    let selected = home.sds(&server, &["query", "Shops", "--select", "EntityID,Name", "--top", "2", "--json"]).ok();
    let first = &selected.json()[0];
    assert_eq!(first.as_object().unwrap().len(), 2, "{first}");

    let csv = home.sds(&server, &["query", "Shops", "--select", "EntityID,Name", "--top", "3", "--format", "csv"]).ok();
    let rows: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(rows.len(), 4, "{}", csv.stdout);
    assert_eq!(rows[0], "EntityID,Name");
    // Columns come in the server's order (`$select`'s here), not sorted.
    let reversed =
        home.sds(&server, &["query", "Shops", "--select", "Name,EntityID", "--top", "1", "--format", "csv"]).ok();
    assert_eq!(reversed.stdout.lines().next(), Some("Name,EntityID"), "{}", reversed.stdout);
    let all = home.sds(&server, &["query", "Shops", "--top", "1", "--format", "csv"]).ok();
    assert_eq!(all.stdout.lines().next(), Some("EntityID,Name,Latitude,Longitude"), "{}", all.stdout);

    let geojson = home.sds(&server, &["query", "Shops", "nearby(-84.5,-174.75,1)", "--format", "geojson"]).ok();
    let collection = geojson.json();
    assert_eq!(collection["type"], "FeatureCollection");
    let feature = &collection["features"][0];
    assert_eq!(feature["geometry"], serde_json::json!({"type": "Point", "coordinates": [-174.75, -84.5]}));
    assert_eq!(feature["properties"]["EntityID"], "id0");
}
