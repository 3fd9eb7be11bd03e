//! The console's main paths in headless Chromium: sign in (a wrong key
//! first), upload, list, map and query, stage and publish, roll back, make
//! public, download, delete, a broken upload, the jobs page; screenshots of
//! the main pages at 1280×800 and 390×844.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MouseActions, PointerAction, MOUSE_BUTTON_LEFT};
use fantoccini::Locator;
use futures_util::FutureExt;
use serde_json::Value;

use crate::driver::{available, screenshot_dir, Browser};
use crate::server::TestServer;

/// One test shop: the CSV row and what the checks compute from it.
struct Shop {
    id: u32,
    latitude: f64,
    longitude: f64,
    seats: u32,
}

fn shops(count: u32) -> Vec<Shop> {
    (1..=count)
        .map(|id| Shop {
            id,
            latitude: 43.25 + f64::from(id % 6) * 1.1,
            // Columns of six, 100 columns at most (every longitude stays valid).
            longitude: -1.5 + f64::from((id / 6) % 100) * 1.3,
            seats: id * 3,
        })
        .collect()
}

/// An SDS CSV of the shops, plus `bad_rows` rows whose latitude is not a number.
fn csv(shops: &[Shop], bad_rows: u32) -> String {
    let mut text = String::from(
        "Bing Spatial Data Services, 1.0, Shop\n\
         EntityID(Edm.String,primaryKey),Name(Edm.String),Latitude(Edm.Double),Longitude(Edm.Double),Seats(Edm.Int64)\n",
    );
    for shop in shops {
        text.push_str(&format!("{0},Shop {0},{1},{2},{3}\n", shop.id, shop.latitude, shop.longitude, shop.seats));
    }
    for bad in 0..bad_rows {
        text.push_str(&format!("{},Broken shop,north,1.0,10\n", 1000 + bad));
    }
    text
}

#[test]
fn console_walkthrough_in_chromium() {
    if !available() {
        return;
    }
    // Debug logging shows every request line the server logs: none may hold a key.
    std::env::set_var("RUST_LOG", "debug");
    let server = TestServer::start();
    std::env::remove_var("RUST_LOG");
    let work = tempfile::tempdir().unwrap();
    let screenshots = screenshot_dir();
    let all = shops(30);
    let shops_csv = work.path().join("shops.csv");
    std::fs::write(&shops_csv, csv(&all, 1)).unwrap();
    let staged_csv = work.path().join("staged-shops.csv");
    std::fs::write(&staged_csv, csv(&all[..20], 0)).unwrap();
    let broken_csv = work.path().join("broken.csv");
    std::fs::write(&broken_csv, "EntityID,Name\n1,no version line\n").unwrap();
    let large_csv = work.path().join("large.csv");
    std::fs::write(&large_csv, csv(&shops(LARGE_ROWS), 0)).unwrap();
    let started = Instant::now();

    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let browser = Browser::start().await;
        let files = [shops_csv.as_path(), staged_csv.as_path(), broken_csv.as_path(), large_csv.as_path()];
        let outcome = AssertUnwindSafe(walkthrough(&browser, &server, &all, files, &screenshots)).catch_unwind().await;
        // The session and chromedriver end whether the walkthrough passed or not.
        browser.stop().await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    });
    eprintln!(
        "console walkthrough: {:.1} s; screenshots in {}",
        started.elapsed().as_secs_f64(),
        screenshots.display()
    );

    let log = std::fs::read_to_string(server.data_dir().join("server.log")).unwrap();
    assert!(log.contains("request"), "the server logged its requests at debug level");
    assert!(!log.contains(&server.master_key), "the key reached the server's log");
}

/// The page's URL must never hold the key, nor the page show an unexpected error.
async fn check_page(browser: &Browser, key: &str, step: &str) {
    let url = browser.client.current_url().await.unwrap();
    assert!(!url.as_str().contains(key), "{step}: the key is in the page's URL {url}");
    let errors = browser.text_of("#errors").await;
    assert!(errors.is_empty(), "{step}: the page shows errors: {errors}");
}

/// Screenshots of the page at both sizes, scrolled to the top or to `scroll_to`.
async fn screenshots_of(browser: &Browser, directory: &Path, name: &str, ready: &str, scroll_to: Option<&str>) {
    for (width, height) in [(1280, 800), (390, 844)] {
        browser.viewport(width, height).await;
        browser.wait_for(&format!("{name} at {width}px"), ready).await;
        let scroll = match scroll_to {
            Some(css) => format!("document.querySelector({}).scrollIntoView();", serde_json::json!(css)),
            None => "window.scrollTo(0, 0);".to_owned(),
        };
        browser.client.execute(&scroll, vec![]).await.unwrap();
        let overflow = browser
            .client
            .execute("return document.documentElement.scrollWidth - window.innerWidth;", vec![])
            .await
            .unwrap();
        assert!(overflow.as_i64().unwrap() <= 0, "{name} is wider than a {width}px screen by {overflow}px");
        // The map redraws on resize; give it a frame.
        tokio::time::sleep(Duration::from_millis(150)).await;
        browser.screenshot(directory, &format!("{name}-{width}x{height}")).await;
    }
    browser.viewport(1280, 800).await;
}

/// Uploads a file from the upload page; returns the text of its outcome.
async fn upload(browser: &Browser, file: &Path, name: &str, operation: &str, expected_status: &str) -> String {
    browser.open("#/upload").await;
    let input = browser.client.wait().for_element(Locator::Css("#upload-file")).await.unwrap();
    input.send_keys(&file.display().to_string()).await.unwrap();
    browser.wait_for("the file to be read", "document.querySelector('#upload-format-reason').textContent").await;
    browser.type_into("#upload-name", name).await;
    browser.client.find(Locator::Css("#upload-operation")).await.unwrap().select_by_value(operation).await.unwrap();
    browser.click("#upload-submit").await;
    let status = browser
        .wait_for(
            "the load job to end",
            "document.querySelector('.upload-card')?.querySelector('.upload-status')?.dataset.status",
        )
        .await;
    // The newest upload's card comes first.
    let outcome = browser.text_of(".upload-card .upload-outcome").await;
    assert_eq!(status, expected_status, "upload of {}: {outcome}", file.display());
    outcome
}

/// Clicks a button that asks for confirmation, confirms, and waits for the action's notice.
async fn confirmed(browser: &Browser, button: &str, notice: &str) {
    browser.click(button).await;
    browser.wait_for("the confirmation dialog", "document.querySelector('#confirm').open").await;
    browser.click("#confirm-ok").await;
    let expression = format!(
        "(document.querySelector('#action-status')?.textContent || '').includes({}) && !document.querySelector('#action-status .error-box') && document.querySelector('#versions-table')",
        serde_json::json!(notice)
    );
    let done = browser
        .wait_for(notice, &format!("{expression} || document.querySelector('#action-status .error-box')?.textContent"))
        .await;
    assert!(done.is_boolean() || done.is_object(), "{button}: {done}");
}

async fn source_count(browser: &Browser, expected: usize, step: &str) {
    browser.wait_for(step, &format!("document.querySelector('#source-count')?.textContent === '{expected}'")).await;
}

async fn walkthrough(browser: &Browser, server: &TestServer, all: &[Shop], files: [&Path; 4], screenshots: &Path) {
    let [shops_csv, staged_csv, broken_csv, large_csv] = files;
    let key = server.master_key.as_str();
    browser.client.goto(&format!("{}/", server.base)).await.unwrap();

    // A wrong key is refused, and the page says so.
    browser.wait_for("the sign-in form", "document.querySelector('#signin-key')").await;
    browser.type_into("#signin-key", "not-a-valid-key-0123456789").await;
    browser.click("#signin-submit").await;
    let refused = browser.wait_for("the refusal", "document.querySelector('#signin-error')?.textContent").await;
    assert!(refused.as_str().unwrap().contains("refused"), "{refused}");
    assert!(refused.as_str().unwrap().contains("InvalidCredentials"), "{refused}");
    let navigation = browser
        .client
        .execute("return getComputedStyle(document.querySelector('#nav')).display;", vec![])
        .await
        .unwrap();
    assert_eq!(navigation, "none", "no navigation before signing in");
    screenshots_of(browser, screenshots, "sign-in-refused", "document.querySelector('#signin-error')", None).await;

    // The right key opens the console; it lives in sessionStorage only.
    browser.type_into("#signin-key", key).await;
    browser.click("#signin-submit").await;
    browser
        .wait_for(
            "the empty list",
            "document.querySelector('#sources-summary')?.textContent.includes('No data sources')",
        )
        .await;
    let stored = browser.client.execute("return sessionStorage.getItem('sds.key');", vec![]).await.unwrap();
    assert_eq!(stored, key);
    let local = browser.client.execute("return localStorage.length + document.cookie.length;", vec![]).await.unwrap();
    assert_eq!(local, 0, "nothing in localStorage or cookies");
    check_page(browser, key, "signed in").await;

    // Upload a CSV: the format is detected, the job runs to Completed.
    browser.open("#/upload").await;
    let input = browser.client.wait().for_element(Locator::Css("#upload-file")).await.unwrap();
    input.send_keys(&shops_csv.display().to_string()).await.unwrap();
    let detected = browser.wait_for("format detection", "document.querySelector('#upload-format-reason').textContent && document.querySelector('#upload-format').value").await;
    assert_eq!(detected, "csv");
    assert_eq!(
        browser.client.execute("return document.querySelector('#upload-name').value;", vec![]).await.unwrap(),
        "shops"
    );
    let outcome = upload(browser, shops_csv, "ConsoleShops", "complete", "Completed").await;
    assert!(outcome.contains(&format!("{} processed, 1 failed", all.len() + 1)), "{outcome}");
    let bar = browser
        .client
        .execute(
            "const bar = document.querySelectorAll('.upload-card progress')[1]; return [bar.value, bar.max];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(bar[0], bar[1], "the job's progress bar is full: {bar}");
    browser.click(".upload-card .upload-outcome button").await;
    let failed_rows = browser.wait_for("the failed rows", "document.querySelector('.upload-card pre.failed')?.textContent.includes('line') && document.querySelector('.upload-card pre.failed').textContent").await;
    assert!(failed_rows.as_str().unwrap().contains("1000"), "{failed_rows}");
    screenshots_of(browser, screenshots, "upload", "document.querySelector('.upload-status')", None).await;
    check_page(browser, key, "upload").await;

    // A broken file aborts its job; the page shows the error.
    let broken = upload(browser, broken_csv, "Broken", "complete", "Aborted").await;
    assert!(broken.contains("version line"), "{broken}");

    // The list shows the data source with its entity count.
    browser.open("#/sources").await;
    let count = browser
        .wait_for("the data source row", "document.querySelector('tr[data-name=\"ConsoleShops\"] .count')?.textContent")
        .await;
    assert_eq!(count, all.len().to_string());
    let row = browser.text_of("tr[data-name=\"ConsoleShops\"]").await;
    assert!(row.contains("private") && row.contains("Shop"), "{row}");
    screenshots_of(
        browser,
        screenshots,
        "data-sources",
        "document.querySelector('tr[data-name=\"ConsoleShops\"] .count')",
        None,
    )
    .await;
    check_page(browser, key, "list").await;

    // The data source's page: schema, versions, the map with every entity.
    browser.click("tr[data-name=\"ConsoleShops\"] a").await;
    let drawn = browser.wait_for("the map's results", "document.querySelector('#result-count')?.dataset.count").await;
    assert_eq!(drawn, all.len().to_string());
    let schema = browser.text_of("#schema-table").await;
    assert!(schema.contains("Seats") && schema.contains("Edm.Int64") && schema.contains("primary key"), "{schema}");
    let query_url = browser.client.execute("return document.querySelector('#query-url').value;", vec![]).await.unwrap();
    let query_url = query_url.as_str().unwrap();
    assert!(query_url.contains("/REST/v1/data/") && query_url.ends_with("key={queryKey}"), "{query_url}");
    assert!(!query_url.contains(key));
    // The same data as an OGC API – Features collection: the URL answers.
    let ogc_url = browser.client.execute("return document.querySelector('#ogc-url').value;", vec![]).await.unwrap();
    let ogc_url = ogc_url.as_str().unwrap();
    assert!(ogc_url.contains("/ogc/collections/") && ogc_url.ends_with("key={queryKey}"), "{ogc_url}");
    let items = reqwest::get(ogc_url.replace("{queryKey}", key)).await.unwrap();
    assert_eq!(items.status(), 200, "{ogc_url}");
    let items: serde_json::Value = serde_json::from_str(&items.text().await.unwrap()).unwrap();
    assert_eq!(items["numberMatched"].as_u64(), Some(all.len() as u64), "{ogc_url}");
    tokio::time::sleep(Duration::from_millis(300)).await; // the base layer arrives
    let pixels = browser.wait_for("a drawn map", PIXELS).await;
    assert!(pixels["entity"].as_u64().unwrap() > 20, "entities are drawn: {pixels}");
    assert!(pixels["land"].as_u64().unwrap() > 1000, "the country outlines are drawn: {pixels}");

    // Clicking an entity on the canvas shows its properties.
    // Pointer offsets count from the centre of the element's visible part:
    // the whole canvas must be in view.
    browser
        .client
        .execute("document.querySelector('#map').scrollIntoView({ block: 'center' });", vec![])
        .await
        .unwrap();
    let canvas = browser.client.find(Locator::Css("#map")).await.unwrap();
    let (x, y) = (pixels["x"].as_f64().unwrap(), pixels["y"].as_f64().unwrap());
    let (width, height) = (pixels["width"].as_f64().unwrap(), pixels["height"].as_f64().unwrap());
    let click = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: canvas,
            duration: None,
            x: (x - width / 2.0).round(),
            y: (y - height / 2.0).round(),
        })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.client.perform_actions(click).await.unwrap();
    let properties =
        browser.wait_for("the entity's properties", "document.querySelector('#properties dl')?.textContent").await;
    let properties = properties.as_str().unwrap();
    assert!(
        properties.contains("Name") && properties.contains("Shop ") && properties.contains("Seats"),
        "{properties}"
    );
    let ready = "document.querySelector('#result-count')?.dataset.count";
    screenshots_of(browser, screenshots, "data-source", ready, None).await;
    screenshots_of(browser, screenshots, "data-source-map", ready, Some("#map-title")).await;

    // A bbox query redraws the map with its results and their count.
    let (south, west, north, east) = (44.0, -1.0, 47.0, 3.0);
    let inside = all
        .iter()
        .filter(|shop| (south..=north).contains(&shop.latitude) && (west..=east).contains(&shop.longitude))
        .count();
    assert!(inside > 0 && inside < all.len(), "the box holds some shops: {inside}");
    browser.type_into("#query-spatial", &format!("bbox({south},{west},{north},{east})")).await;
    browser.click("#query-run").await;
    let counted = browser.wait_for("the bbox count", &format!("document.querySelector('#result-count')?.dataset.count === '{inside}' && document.querySelector('#result-count').textContent")).await;
    assert!(counted.as_str().unwrap().starts_with(&format!("{inside} result")), "{counted}");
    let listed =
        browser.client.execute("return document.querySelectorAll('#results-list li').length;", vec![]).await.unwrap();
    assert_eq!(listed, inside);
    // With a $filter as well.
    let roomy = all
        .iter()
        .filter(|shop| {
            (south..=north).contains(&shop.latitude) && (west..=east).contains(&shop.longitude) && shop.seats > 45
        })
        .count();
    browser.type_into("#query-filter", "Seats gt 45").await;
    browser.click("#query-run").await;
    browser
        .wait_for(
            "the filtered count",
            &format!("document.querySelector('#result-count')?.dataset.count === '{roomy}'"),
        )
        .await;
    // A bad filter is reported in the page.
    browser.type_into("#query-filter", "Seats gt").await;
    browser.click("#query-run").await;
    browser
        .wait_for("the query error", "document.querySelector('#result-count')?.textContent.includes('failed')")
        .await;
    check_page(browser, key, "queries").await;

    // Stage a smaller version, then publish it.
    let staged = upload(browser, staged_csv, "ConsoleShops", "completeStaging", "Completed").await;
    assert!(staged.contains("20 processed"), "{staged}");
    browser.click(".upload-card .upload-outcome a").await;
    browser.wait_for("the staged version", "document.querySelector('tr[data-state=\"staged\"]')").await;
    source_count(browser, all.len(), "the published count before publishing").await;
    let staged_row = browser.text_of("tr[data-state=\"staged\"]").await;
    assert!(staged_row.contains("20"), "{staged_row}");
    confirmed(browser, "tr[data-state=\"staged\"] button.publish", "Published").await;
    source_count(browser, 20, "the published count after publishing").await;
    let previous = browser.text_of("tr[data-state=\"previous\"]").await;
    assert!(!previous.is_empty(), "the first version is now a previous one");

    // Roll back to the first version.
    confirmed(browser, "tr[data-state=\"previous\"] button.rollback", "Rolled back").await;
    source_count(browser, all.len(), "the published count after the rollback").await;

    // Stage again, then discard the staged version: the published one stays.
    upload(browser, staged_csv, "ConsoleShops", "completeStaging", "Completed").await;
    browser.click(".upload-card .upload-outcome a").await;
    browser.wait_for("the staged version", "document.querySelector('tr[data-state=\"staged\"] button.discard')").await;
    confirmed(browser, "tr[data-state=\"staged\"] button.discard", "Discarded").await;
    browser.wait_for("no staged version", "!document.querySelector('tr[data-state=\"staged\"]')").await;
    source_count(browser, all.len(), "the published count after discarding").await;

    // Make it public.
    confirmed(browser, "#make-visibility", "is public").await;
    let access = browser.wait_for("public", "document.querySelector('#source-access')?.textContent === 'public' && document.querySelector('#make-visibility').textContent").await;
    assert_eq!(access, "Make private");
    check_page(browser, key, "lifecycle").await;

    // Download the published version as GeoJSON: the file holds every entity.
    browser
        .client
        .find(Locator::Css("tr[data-state=\"published\"] select"))
        .await
        .unwrap()
        .select_by_value("geojson")
        .await
        .unwrap();
    browser.click("tr[data-state=\"published\"] button.download").await;
    let bytes = browser
        .wait_for(
            "the download",
            "document.querySelector('tr[data-state=\"published\"] .download-link')?.dataset.bytes",
        )
        .await;
    let bytes: usize = bytes.as_str().unwrap().parse().unwrap();
    let file = wait_for_download(&browser.downloads, ".geojson").await;
    let data = std::fs::read(&file).unwrap();
    assert_eq!(data.len(), bytes, "the saved file is the downloaded blob");
    let geojson: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(geojson["type"], "FeatureCollection");
    assert_eq!(geojson["features"].as_array().unwrap().len(), all.len());

    // The jobs page: kinds, statuses, the aborted job's error.
    browser.open("#/jobs").await;
    browser.wait_for("the jobs", "document.querySelectorAll('#jobs-table tbody tr').length >= 6").await;
    let jobs = browser.text_of("#jobs-table").await;
    for expected in
        ["DataSourceComplete", "DataSourceCompleteStaging", "Aborted", "version line", "Failed rows (1)", "Completed"]
    {
        assert!(jobs.contains(expected), "{expected} missing from the jobs page:\n{jobs}");
    }
    screenshots_of(browser, screenshots, "jobs", "document.querySelector('#jobs-table tbody tr')", None).await;
    check_page(browser, key, "jobs").await;
    // A failed rows report stays open across the page's refreshes (every 2 s when idle).
    browser.click("#jobs-table button[aria-expanded]").await;
    browser
        .wait_for("the report", "document.querySelector('#jobs-table pre.failed')?.textContent.includes('1000')")
        .await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let open = browser
        .client
        .execute("return !document.querySelector('#jobs-table pre.failed').hidden;", vec![])
        .await
        .unwrap();
    assert_eq!(open, true, "the report closed on a refresh");

    // Delete the data source: back to the list, without it.
    browser.open("#/sources").await;
    browser.click("tr[data-name=\"ConsoleShops\"] a").await;
    browser.wait_for("the source page", "document.querySelector('#delete-source')").await;
    browser.click("#delete-source").await;
    browser.wait_for("the confirmation dialog", "document.querySelector('#confirm').open").await;
    browser.click("#confirm-ok").await;
    browser
        .wait_for("the deletion notice", "document.querySelector('#carried-notice')?.textContent.includes('Deleted')")
        .await;
    browser
        .wait_for(
            "the list without it",
            "document.querySelector('#sources-summary')?.textContent.includes('No data sources')",
        )
        .await;
    check_page(browser, key, "deleted").await;

    // Live progress: a large load, followed on the jobs page while it runs.
    browser.open("#/upload").await;
    let input = browser.client.wait().for_element(Locator::Css("#upload-file")).await.unwrap();
    input.send_keys(&large_csv.display().to_string()).await.unwrap();
    browser.wait_for("the file to be read", "document.querySelector('#upload-format').value === 'csv'").await;
    browser.type_into("#upload-name", "Large").await;
    browser.click("#upload-submit").await;
    browser
        .wait_for(
            "the upload to end",
            "document.querySelector('.upload-card')?.querySelector('.progress span')?.textContent.startsWith('Uploaded')",
        )
        .await;
    browser.open("#/jobs").await;
    let mut captions = Vec::<String>::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let caption = browser.client.execute(LARGE_JOB_CAPTION, vec![]).await.unwrap();
        if let Some(caption) = caption.as_str() {
            if captions.last().map(String::as_str) != Some(caption) {
                captions.push(caption.to_owned());
            }
            if caption.starts_with("Completed") {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the large load did not complete: {captions:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let running: Vec<&String> = captions.iter().filter(|caption| caption.starts_with("Pending: ")).collect();
    assert!(!running.is_empty(), "the jobs page showed the running job's progress: {captions:?}");
    assert_eq!(captions.last().unwrap(), &format!("Completed: {LARGE_ROWS} processed"), "{captions:?}");

    // Lines and polygons: a GeoJSON file dropped on the upload page.
    browser.open("#/sources").await;
    browser.open("#/upload").await;
    browser.wait_for("the upload page", "document.querySelector('#dropzone')").await;
    // The format is detected from the first bytes, else the name.
    for (name, head, expected) in [
        ("data.zip", "PK\u{3}\u{4}rest of a zip", "shp"),
        ("places.kmz", "PK\u{3}\u{4}rest of a zip", "kml"),
        ("tabs.txt", "Bing Spatial Data Services\t1.0\tPlace\nEntityID(Edm.String,primaryKey)\n", "tab"),
        ("pipes.txt", "Bing Spatial Data Services| 1.0| Place\nEntityID(Edm.String,primaryKey)\n", "pipe"),
        ("places.xml", "<?xml version=\"1.0\"?><kml xmlns=\"http://www.opengis.net/kml/2.2\">", "kml"),
        ("dataset.xml", "<?xml version=\"1.0\"?><DataSet>", "xml"),
        ("features.json", "{\"type\": \"FeatureCollection\", \"features\": []}", "geojson"),
    ] {
        browser.client.execute(DROP_FILE, vec![Value::from(name), Value::from(head)]).await.unwrap();
        let detected = format!(
            "document.querySelector('#upload-chosen').textContent.startsWith('{name}') \
             && document.querySelector('#upload-format').value === '{expected}'"
        );
        browser.wait_for(&format!("{name} detected as {expected}"), &detected).await;
    }
    browser.type_into("#upload-name", "Shapes").await;
    browser.client.execute(DROP_FILE, vec![Value::from("Shapes.geojson"), Value::from(SHAPES)]).await.unwrap();
    let detected = browser
        .wait_for("the dropped file", "document.querySelector('#upload-format-reason').textContent && document.querySelector('#upload-format').value")
        .await;
    assert_eq!(detected, "geojson");
    assert!(browser.text_of("#upload-chosen").await.starts_with("Shapes.geojson"));
    browser.click("#upload-submit").await;
    let status = browser
        .wait_for(
            "the GeoJSON load",
            "document.querySelector('.upload-card')?.querySelector('.upload-status')?.dataset.status",
        )
        .await;
    assert_eq!(status, "Completed", "{}", browser.text_of(".upload-card .upload-outcome").await);
    browser.click(".upload-card .upload-outcome a").await;
    browser.wait_for("the shapes on the map", "document.querySelector('#result-count')?.dataset.count === '3'").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let inside = browser.wait_for("the polygon's fill", POLYGON_PIXEL).await;
    // Pointer offsets count from the centre of the element's visible part:
    // the whole canvas must be in view.
    browser
        .client
        .execute("document.querySelector('#map').scrollIntoView({ block: 'center' });", vec![])
        .await
        .unwrap();
    let canvas = browser.client.find(Locator::Css("#map")).await.unwrap();
    let (width, height) = (inside["width"].as_f64().unwrap(), inside["height"].as_f64().unwrap());
    let click = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement {
            element: canvas.clone(),
            duration: None,
            x: (inside["x"].as_f64().unwrap() - width / 2.0).round(),
            y: (inside["y"].as_f64().unwrap() - height / 2.0).round(),
        })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.client.perform_actions(click).await.unwrap();
    let properties =
        browser.wait_for("the polygon's properties", "document.querySelector('#properties dl')?.textContent").await;
    assert!(properties.as_str().unwrap().contains("Square"), "{properties}");
    // The results list reaches every entity without a pointer.
    browser.click("#results-list li:nth-child(2) button").await;
    let properties =
        browser.wait_for("the listed entity", "document.querySelector('#properties dl')?.textContent").await;
    assert!(properties.as_str().unwrap().contains("LINESTRING"), "{properties}");
    // The keyboard zooms the focused map.
    let before = browser.client.execute(CANVAS_DIGEST, vec![]).await.unwrap();
    canvas.send_keys("+").await.unwrap();
    let after = browser.client.execute(CANVAS_DIGEST, vec![]).await.unwrap();
    assert_ne!(before, after, "the + key redraws the map zoomed in");
    check_page(browser, key, "shapes").await;

    // A page that cannot load says why.
    browser.open("#/source/0123456789abcdef0123456789abcdef/Nowhere").await;
    let missing =
        browser.wait_for("the missing data source", "document.querySelector('main .error-box')?.textContent").await;
    assert!(missing.as_str().unwrap().contains("404") && missing.as_str().unwrap().contains("Nowhere"), "{missing}");

    // Signing out forgets the key.
    browser.click("#sign-out").await;
    browser.wait_for("the sign-in form", "document.querySelector('#signin-key')").await;
    let stored = browser.client.execute("return sessionStorage.getItem('sds.key');", vec![]).await.unwrap();
    assert_eq!(stored, Value::Null);

    // A fault anywhere in the page is shown in it, not swallowed.
    // (The browser hides the text of an error thrown by a WebDriver script.)
    browser.client.execute("setTimeout(() => { throw new Error('console test fault'); });", vec![]).await.unwrap();
    browser
        .wait_for("the fault in the page", "document.querySelector('#errors').textContent.includes('Unexpected error')")
        .await;
}

/// A polygon, a line and a point (GeoJSON, RFC 7946), far apart.
const SHAPES: &str = r#"{"type": "FeatureCollection", "features": [
  {"type": "Feature", "id": "square", "properties": {"Name": "Square"},
   "geometry": {"type": "Polygon", "coordinates": [[[10, 40], [14, 40], [14, 44], [10, 44], [10, 40]]]}},
  {"type": "Feature", "id": "line", "properties": {"Name": "Line"},
   "geometry": {"type": "LineString", "coordinates": [[20, 40], [25, 45]]}},
  {"type": "Feature", "id": "dot", "properties": {"Name": "Dot"},
   "geometry": {"type": "Point", "coordinates": [30, 42]}}
]}"#;

/// Drops a file (name, text) on the upload page, as a drag from the desktop does.
const DROP_FILE: &str = "const [name, text] = arguments;
const transfer = new DataTransfer();
transfer.items.add(new File([text], name, { type: 'application/geo+json' }));
const zone = document.querySelector('#dropzone');
for (const type of ['dragenter', 'dragover', 'drop']) {
  zone.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: transfer }));
}";

/// A pixel inside the polygon: its fill is the entity colour at 30 % over
/// land or sea; the median such pixel (raster order) lies mid-polygon.
const POLYGON_PIXEL: &str = "(() => {
  const canvas = document.querySelector('#map');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const ratio = canvas.width / canvas.clientWidth;
  const blends = [[231, 178, 191], [214, 171, 199]];
  const found = [];
  for (let i = 0; i < data.length; i += 4) {
    if (blends.some(([r, g, b]) => Math.abs(data[i] - r) <= 3 && Math.abs(data[i + 1] - g) <= 3 && Math.abs(data[i + 2] - b) <= 3)) found.push(i / 4);
  }
  if (found.length < 50) return null;
  const pixel = found[Math.floor(found.length / 2)];
  return { count: found.length, x: (pixel % canvas.width) / ratio, y: Math.floor(pixel / canvas.width) / ratio,
           width: canvas.clientWidth, height: canvas.clientHeight };
})()";

/// A digest of the canvas's pixels, to tell two drawings apart.
const CANVAS_DIGEST: &str = "const canvas = document.querySelector('#map');
const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
let hash = 0;
for (let i = 0; i < data.length; i += 97) hash = (hash * 31 + data[i]) | 0;
return hash;";

/// The progress caption of the `Large` data source's job on the jobs page.
const LARGE_JOB_CAPTION: &str = "const row = [...document.querySelectorAll('#jobs-table tbody tr')]
  .find((row) => row.cells[0].textContent === 'Large');
return row ? row.querySelector('.progress span').textContent : null;";

/// Entities of the large load: enough to run for a few seconds in a debug build.
const LARGE_ROWS: u32 = 150_000;

/// Counts the canvas's pixels of the entity colour and of land, and finds
/// one entity pixel (in CSS pixels from the canvas's top left).
const PIXELS: &str = "(() => {
  const canvas = document.querySelector('#map');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const ratio = canvas.width / canvas.clientWidth;
  let entity = 0, land = 0, first = -1;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i] === 194 && data[i + 1] === 24 && data[i + 2] === 91) { entity += 1; if (first < 0) first = i / 4; }
    if (data[i] === 247 && data[i + 1] === 244 && data[i + 2] === 234) land += 1;
  }
  if (entity === 0 || land === 0) return null;
  return { entity, land, x: (first % canvas.width) / ratio, y: Math.floor(first / canvas.width) / ratio + 2,
           width: canvas.clientWidth, height: canvas.clientHeight };
})()";

/// The downloaded file with this extension, once Chromium has finished writing it.
async fn wait_for_download(directory: &Path, extension: &str) -> std::path::PathBuf {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let found = std::fs::read_dir(directory)
            .unwrap()
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .find(|path| path.to_string_lossy().ends_with(extension));
        if let Some(path) = found {
            return path;
        }
        assert!(Instant::now() < deadline, "no {extension} file in {}", directory.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
