//! Download outputs kept per version and format: the first job's output
//! is the kept entry (the same inode), a second download of an unchanged
//! version only points at it (a `{jobId}.{ext}.kept` file, and the log
//! says so), keys never mix versions, formats, data sources or accounts,
//! entries go with their version or data source, and a crash never leaves
//! a torn entry that is served.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::common::dataset;
use crate::common::server::{access_id_of, link, location, TestServer};
use crate::fixtures::*;

/// One finished download: its output file (or pointer) on disk and the
/// bytes served.
struct Download {
    /// The job's own output URL.
    url: String,
    file: PathBuf,
    pointer: PathBuf,
    body: Vec<u8>,
}

impl Download {
    /// The inode of a written output (the first download of its key).
    fn inode(&self) -> u64 {
        assert!(!self.pointer.exists(), "{} is a pointer", self.file.display());
        std::fs::metadata(&self.file).unwrap().ino()
    }

    /// Whether the job only pointed at a kept output.
    fn kept(&self) -> bool {
        self.pointer.exists() && !self.file.exists()
    }
}

fn download_as(server: &TestServer, key: &str, access_id: &str, name: &str, query: &str) -> Download {
    let response = server.get(&format!("/REST/v1/Dataflows/DataSourceDownload/{access_id}/{name}?key={key}{query}"));
    assert_eq!(response.status(), 201, "download of {name}{query}");
    let job = server.wait_job(&location(&response), key);
    assert_eq!(job["status"], "Completed", "{job}");
    let job_id = job["id"].as_str().unwrap().to_owned();
    let url = format!("{}?jobId={job_id}&key={key}", link(&job, "output", Some("succeeded")));
    let body = server.get(&url).bytes().unwrap().to_vec();
    let extension = if query.contains("geojson") {
        "geojson"
    } else if query.contains("csv") {
        "csv"
    } else {
        "xml"
    };
    let downloads = server.data_dir().join("downloads");
    let file = downloads.join(format!("{job_id}.{extension}"));
    let pointer = downloads.join(format!("{job_id}.{extension}.kept"));
    Download { url, file, pointer, body }
}

fn download(server: &TestServer, access_id: &str, name: &str, query: &str) -> Download {
    download_as(server, &server.master_key, access_id, name, query)
}

/// The kept entries, by file name.
fn entries(server: &TestServer) -> Vec<String> {
    let dir = server.data_dir().join("downloads").join("versions");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.flatten().map(|entry| entry.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// How many download jobs so far were copies of a kept entry (the server
/// logs each).
fn kept_hits(server: &TestServer) -> usize {
    let log = std::fs::read_to_string(server.data_dir().join("server.log")).unwrap();
    log.matches("download served from the kept output").count()
}

/// The inode of the one entry whose extension is the download's.
fn entry_inode(server: &TestServer, download: &Download) -> u64 {
    let extension = download.file.extension().unwrap().to_str().unwrap().to_owned();
    let names: Vec<String> =
        entries(server).into_iter().filter(|name| name.ends_with(&format!(".{extension}"))).collect();
    assert_eq!(names.len(), 1, "{names:?}");
    let path = server.data_dir().join("downloads").join("versions").join(&names[0]);
    std::fs::metadata(path).unwrap().ino()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !done() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn a_second_download_of_a_version_is_the_kept_output() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let server = TestServer::start();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    for format in ["", "&format=csv", "&format=geojson"] {
        let first = download(&server, &shops, "Shops", format);
        let second = download(&server, &shops, "Shops", format);
        assert_ne!(first.file, second.file, "two jobs, two outputs");
        assert_eq!(first.body, second.body, "the same bytes{format}");
        assert_eq!(first.inode(), entry_inode(&server, &first), "the first output is kept{format}");
        assert!(!first.kept() && second.kept(), "the second download points at the kept output{format}");
    }
    assert_eq!(entries(&server).len(), 3, "one entry per format: {:?}", entries(&server));
    assert_eq!(kept_hits(&server), 3);
}

#[test]
fn versions_formats_sources_and_accounts_never_share_an_entry() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let server = TestServer::start();
    let first = server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV);
    let shops = access_id_of(&first);
    let old_version = format!("&jobId={}", first["id"].as_str().unwrap());
    let xml = download(&server, &shops, "Shops", "");
    let csv = download(&server, &shops, "Shops", "&format=csv");
    assert_ne!(xml.inode(), csv.inode());

    // A newer version of the same data source.
    server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    let newer = download(&server, &shops, "Shops", "");
    assert_ne!(newer.inode(), xml.inode());
    assert_eq!(dataset::parse(std::str::from_utf8(&newer.body).unwrap()).rows.len(), 2, "the new version");
    let older = download(&server, &shops, "Shops", &old_version);
    assert_eq!(older.body, xml.body, "the old version is still its own entry");
    assert!(older.kept());
    assert_eq!(kept_hits(&server), 1);
    assert_eq!(dataset::parse(std::str::from_utf8(&older.body).unwrap()).rows.len(), 3);

    // Another data source with the same rows, and another account's data
    // source with the same name and rows.
    let other_source = access_id_of(&server.load_and_wait("Stores", "complete", "csv", SHOPS_CSV));
    let stores = download(&server, &other_source, "Stores", "");
    let other_key = server.create_key("other");
    let url = format!(
        "{}/Dataflows/LoadDataSource?dataSourceName=Shops&loadOperation=complete&input=csv&output=json&key={other_key}",
        server.root
    );
    let response = server.client.post(url).body(SHOPS_CSV).send().unwrap();
    assert_eq!(response.status(), 201);
    let loaded = server.wait_job(&location(&response), &other_key);
    let theirs = download_as(&server, &other_key, &access_id_of(&loaded), "Shops", "");
    assert_eq!(theirs.body, xml.body, "the same bytes: same name, same rows");
    let inodes = [xml.inode(), csv.inode(), newer.inode(), stores.inode(), theirs.inode()];
    let mut distinct = inodes.to_vec();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), inodes.len(), "every version, format, data source and account has its own entry");
    assert_eq!(entries(&server).len(), 5, "{:?}", entries(&server));
    assert_eq!(kept_hits(&server), 1, "only the old version's second download was a hit");
}

#[test]
fn pruning_a_version_or_deleting_the_source_removes_its_kept_outputs() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let server = TestServer::start();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let written = download(&server, &shops, "Shops", "");
    let pointed = download(&server, &shops, "Shops", "");
    assert!(pointed.kept());
    download(&server, &shops, "Shops", "&format=geojson");
    let first_entries = entries(&server);
    assert_eq!(first_entries.len(), 2);

    // Two previous versions are kept as rollback targets: the third load
    // after the first prunes it.
    for _ in 0..3 {
        server.load_and_wait("Shops", "complete", "pipe", SHOPS_PIPE);
    }
    wait_until("the pruned version's entries are gone", || entries(&server).is_empty());
    let gone = server.get(&pointed.url);
    assert_eq!(gone.status(), 404, "a pointer to a pruned version's output");
    assert!(gone.text().unwrap().contains("no longer available"));
    assert_eq!(server.get(&written.url).bytes().unwrap().to_vec(), written.body, "a written output stays");

    let published = download(&server, &shops, "Shops", "");
    assert_eq!(entries(&server).len(), 1);
    assert!(!first_entries.contains(&entries(&server)[0]), "a new entry");
    let delete_url = format!("{}/data/{shops}/Shops?key={}", server.root, server.master_key);
    assert_eq!(server.client.delete(&delete_url).send().unwrap().status(), 202);
    wait_until("the deleted data source's entries are gone", || entries(&server).is_empty());
    wait_until("its job outputs are gone", || !published.file.exists());
}

#[test]
fn a_crash_never_leaves_a_torn_entry_that_is_served() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let mut server = TestServer::start();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let whole = download(&server, &shops, "Shops", "");
    let entry = entries(&server).pop().unwrap();
    let versions = server.data_dir().join("downloads").join("versions");
    // What a crash leaves: the entry gone before it was linked, and a half
    // copy under its temporary name.
    std::fs::remove_file(versions.join(&entry)).unwrap();
    std::fs::write(versions.join(entry.replace(".xml", ".part")), &whole.body[..whole.body.len() / 2]).unwrap();
    server.kill9();
    server.restart();

    assert!(entries(&server).is_empty(), "the torn file is swept at start: {:?}", entries(&server));
    let again = download(&server, &shops, "Shops", "");
    assert_eq!(again.body, whole.body, "written anew, whole");
    assert_eq!(entries(&server), vec![entry]);
    assert_eq!(kept_hits(&server), 0, "the torn file was never handed out");
    let kept = download(&server, &shops, "Shops", "");
    assert_eq!(kept.body, whole.body);
    assert_eq!(kept_hits(&server), 1);
}

#[test]
fn a_pointer_expires_with_its_own_job() {
    if crate::common::database::skip_on_postgres(
        "download outputs are files of the data dir only beside SQLite; with PostgreSQL they are rows of the payload tables (the store suite tests those)",
    ) {
        return;
    }
    let flags = ["--download-retention-days", "2"];
    let mut server = TestServer::start_with(&flags);
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", SHOPS_CSV));
    let written = download(&server, &shops, "Shops", "");
    let (old, new) = (download(&server, &shops, "Shops", ""), download(&server, &shops, "Shops", ""));
    assert!(old.kept() && new.kept());
    let three_days_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3 * 86_400);
    std::fs::File::options().write(true).open(&old.pointer).unwrap().set_modified(three_days_ago).unwrap();
    server.restart_with(&flags);

    assert!(!old.pointer.exists());
    assert_eq!(server.get(&server.on_current_port(&old.url)).status(), 404);
    assert_eq!(server.get(&server.on_current_port(&new.url)).bytes().unwrap().to_vec(), written.body);
    assert_eq!(server.get(&server.on_current_port(&written.url)).bytes().unwrap().to_vec(), written.body);
    assert_eq!(entries(&server).len(), 1, "the entry stays with its version");
}

/// Rows enough for several chunks of the download's two formatting
/// threads, with the values that make writers differ: escapes, quotes,
/// line breaks, leading blanks, nulls of every type, empty strings,
/// large and tiny numbers, dates with and without fractions.
fn many_shops() -> String {
    let mut text = String::from(
        "Bing Spatial Data Services, 1.0, Shops\nEntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Seats(Edm.Int64),IsOpen(Edm.Boolean),Since(Edm.DateTime),Rating(Edm.Double)\n",
    );
    for row in 0..9_000u64 {
        let name = match row % 5 {
            0 => format!("Shop {row}"),
            1 => format!("\"Café \"\"{row}\"\" <&> | x\""),
            2 => format!("\"two\nlines {row} \""),
            3 => String::new(),
            _ => format!("\" lead, comma {row}\""),
        };
        let seats = if row % 7 == 0 { String::new() } else { format!("{}", row as i64 * 7919 - 30_000_000) };
        let open = ["true", "false", ""][(row % 3) as usize];
        let since = match row % 4 {
            0 => String::new(),
            1 => format!("2020-01-{:02}T10:00:00Z", row % 28 + 1),
            2 => format!("1999-12-31T23:59:59.{:07}Z", row * 13 % 10_000_000),
            _ => "2010-11-03".to_owned(),
        };
        let rating = if row % 6 == 0 { String::new() } else { format!("{}", (row as f64) * 1.0e-7 - 0.3) };
        let latitude = -80.0 + (row as f64) * 0.0173;
        let longitude = -170.0 + (row as f64) * 0.0377;
        text += &format!("S{row:05},{name},{latitude},{longitude},{seats},{open},{since},{rating}\n");
    }
    text
}

/// A download written from the version's query table holds the same
/// bytes, in every format, as one written from the store. A load builds
/// its version's table, so the store is read only for a version whose
/// table is not at hand: here every version is loaded, the server stopped
/// and its table snapshots deleted (always safe while it is stopped), and
/// restarted. The same rows loaded under other names of the same length,
/// one per format, are then downloaded from the store (the log names
/// which) beside one whose table a query built again. Such a download
/// builds the version's table on the way, so the next download of that
/// version in another format is written from it.
#[test]
fn downloads_from_the_query_table_match_downloads_from_the_store() {
    let mut server = TestServer::start();
    let shops = many_shops();
    let formats = [("", "X"), ("&format=csv", "C"), ("&format=geojson", "G")];
    let mut sources = Vec::new();
    for (rows, type_name) in [(shops.as_str(), "Shops"), (AREAS_CSV, "Areas")] {
        let queried = format!("{type_name}Q");
        let from_table_source = access_id_of(&server.load_and_wait(&queried, "complete", "csv", rows));
        let mut unqueried = Vec::new();
        for (_, letter) in formats {
            let name = format!("{type_name}{letter}");
            unqueried.push((access_id_of(&server.load_and_wait(&name, "complete", "csv", rows)), name));
        }
        sources.push((type_name, queried, from_table_source, unqueried));
    }
    server.terminate();
    std::fs::remove_dir_all(server.data_dir().join("tables")).unwrap();
    server.restart();
    let logged = |text: &str| {
        let log = std::fs::read_to_string(server.data_dir().join("server.log")).unwrap();
        log.matches(text).count()
    };
    let from = |source: &str| logged(&format!("from=\"{source}\""));
    // Each table built is cached, then its snapshot written: once that is
    // logged, the table is there for the next job.
    let mut tables_built = logged("table snapshot written");
    let mut await_tables = |more: usize| {
        tables_built += more;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while logged("table snapshot written") < tables_built {
            assert!(std::time::Instant::now() < deadline, "no table snapshot written");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    };
    for (type_name, queried, from_table_source, unqueried) in &sources {
        let query = server.get(&format!(
            "/REST/v1/data/{from_table_source}/{queried}/{type_name}?$top=1&$format=json&key={}",
            server.master_key
        ));
        assert_eq!(query.status(), 200);
        await_tables(1);
        for ((format, _), (from_store_source, unqueried)) in formats.iter().zip(unqueried) {
            let (tables, stores) = (from("table"), from("store"));
            let from_table = download(&server, from_table_source, queried, format).body;
            let from_store = download(&server, from_store_source, unqueried, format).body;
            assert_eq!((from("table"), from("store")), (tables + 1, stores + 1), "{type_name}{format}");
            let from_table = String::from_utf8(from_table).unwrap().replace(queried.as_str(), unqueried);
            assert!(from_table == String::from_utf8(from_store).unwrap(), "{type_name}{format}: the outputs differ");
            // That version's table was built by its download from the store.
            await_tables(1);
            let other_format = if format.is_empty() { "&format=csv" } else { "" };
            let tables = from("table");
            download(&server, from_store_source, unqueried, other_format);
            assert_eq!(from("table"), tables + 1, "{type_name}{format} then {other_format}");
        }
    }
}

/// The first download of a version (written from the table its load
/// built), a repeated one (the kept output), the first job's output read
/// again after a `kill -9` and restart, and a download after the restart
/// hold the same bytes in every format. On SQLite the kept outputs and the
/// table snapshots are deleted before the restart (always safe while the
/// server is stopped), so the last download is written again from the
/// store: the same bytes as from the table.
#[test]
fn first_repeated_and_restarted_downloads_are_the_same_bytes() {
    let mut server = TestServer::start();
    let rows = many_shops();
    let shops = access_id_of(&server.load_and_wait("Shops", "complete", "csv", rows));
    let formats = ["", "&format=csv", "&format=geojson"];
    let mut firsts = Vec::new();
    for format in formats {
        let first = download(&server, &shops, "Shops", format);
        let second = download(&server, &shops, "Shops", format);
        assert!(!first.body.is_empty());
        assert!(first.body == second.body, "first and repeated differ{format}");
        firsts.push(first);
    }
    let from_table = server.log().matches("from=\"table\"").count();
    assert_eq!(from_table, 3, "every first download wrote from the table the load built");
    server.kill9();
    if crate::common::database::test_store() == crate::common::database::TestStore::Sqlite {
        std::fs::remove_dir_all(server.data_dir().join("downloads").join("versions")).unwrap();
        std::fs::remove_dir_all(server.data_dir().join("tables")).unwrap();
    }
    server.restart();
    for (format, first) in formats.iter().zip(&firsts) {
        let again = server.get(&server.on_current_port(&first.url));
        assert_eq!(again.status(), 200);
        assert!(again.bytes().unwrap().to_vec() == first.body, "the first job's output changed{format}");
        let after = download(&server, &shops, "Shops", format);
        assert!(after.body == first.body, "a download after the restart differs{format}");
    }
}

/// After a restart, the first download of the published version reads its
/// table from the snapshot and keeps it, as a query would: the next
/// download in another format, and the next query, do not read it again
/// (before, each download read its own copy). A download of an older
/// version (by the job id that made it) reads its snapshot without
/// keeping it, so it never takes the published version's place.
#[test]
fn a_table_read_from_its_snapshot_for_a_download_is_kept_for_the_next() {
    let mut server = TestServer::start();
    let older = server.load_and_wait("Shops", "complete", "csv", many_shops());
    let shops = access_id_of(&older);
    server.load_and_wait("Shops", "complete", "csv", many_shops());
    let older_job = older["id"].as_str().unwrap().to_owned();
    // Snapshots are written after the job completes: wait for both.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while server.log().matches("table snapshot written").count() < 2 {
        assert!(std::time::Instant::now() < deadline, "no table snapshots written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    server.terminate();
    server.restart();
    let reads = |server: &TestServer| server.log().matches("table read from its snapshot").count();
    let before = reads(&server);
    download(&server, &shops, "Shops", "");
    assert_eq!(reads(&server), before + 1, "the first download reads the snapshot");
    download(&server, &shops, "Shops", "&format=csv");
    let query = server.get(&format!("/REST/v1/data/{shops}/Shops/Shops?$top=1&$format=json&key={}", server.master_key));
    assert_eq!(query.status(), 200);
    assert_eq!(reads(&server), before + 1, "the table read for the first download was kept");
    // The older version: read, not kept (read again by a second download).
    download(&server, &shops, "Shops", &format!("&jobId={older_job}&format=geojson"));
    download(&server, &shops, "Shops", &format!("&jobId={older_job}&format=csv"));
    assert_eq!(reads(&server), before + 3, "an older version's table is not kept");
    // The published version's table is still the cached one.
    download(&server, &shops, "Shops", "&format=geojson");
    assert_eq!(reads(&server), before + 3);
}
