//! Headless Chromium driven over WebDriver: chromedriver is started by the
//! test on an ephemeral loopback port with a fresh profile in a temp dir,
//! and stopped (with its browser) when the test ends, passed or failed.
//!
//! Debian's `chromium` and `chromium-driver` packages provide both (`.ci/run`
//! installs them). When chromedriver is missing the test fails, saying so,
//! unless `SDS_SKIP_BROWSER_TESTS=1` asks to skip it.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

/// Set to `1` to skip the browser tests on a machine without Chromium.
pub const SKIP_VARIABLE: &str = "SDS_SKIP_BROWSER_TESTS";
/// Where screenshots go (default: `$CARGO_TARGET_TMPDIR/console-screenshots`).
pub const SCREENSHOTS_VARIABLE: &str = "SDS_CONSOLE_SCREENSHOTS";

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(program)).find(|path| path.is_file())
}

/// Whether the browser tests run here: `false` only when skipping was asked
/// for; panics with the fix when chromedriver is missing.
pub fn available() -> bool {
    if std::env::var(SKIP_VARIABLE).is_ok_and(|value| value == "1") {
        eprintln!("{SKIP_VARIABLE}=1: the browser tests of the console are skipped");
        return false;
    }
    assert!(
        on_path("chromedriver").is_some(),
        "chromedriver is not on PATH: the console's browser tests need Chromium and chromedriver \
         (Debian: apt-get install chromium chromium-driver; .ci/run installs them). \
         Set {SKIP_VARIABLE}=1 to skip these tests."
    );
    true
}

pub struct Browser {
    pub client: Client,
    driver: Child,
    pub downloads: PathBuf,
    _profile: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        let profile = tempfile::tempdir().expect("a temp dir for the browser");
        let downloads = profile.path().join("downloads");
        std::fs::create_dir_all(&downloads).unwrap();
        let port = free_port();
        let log = std::fs::File::create(profile.path().join("chromedriver.log")).unwrap();
        let mut driver = Command::new(on_path("chromedriver").unwrap())
            .arg(format!("--port={port}"))
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || driver.try_wait().unwrap().is_some() {
                let _ = driver.kill();
                panic!("chromedriver did not listen on port {port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let user_data = profile.path().join("profile");
        let mut options = json!({
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1280,800",
                format!("--user-data-dir={}", user_data.display()),
            ],
            "prefs": {
                "download.default_directory": downloads.display().to_string(),
                "download.prompt_for_download": false,
            },
        });
        if let Some(binary) = ["chromium", "chromium-browser", "google-chrome"].iter().find_map(|name| on_path(name)) {
            options["binary"] = json!(binary.display().to_string());
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert("goog:chromeOptions".into(), options);
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = match ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => client,
            Err(error) => {
                let _ = driver.kill();
                let log = std::fs::read_to_string(profile.path().join("chromedriver.log")).unwrap_or_default();
                panic!("no browser session: {error}\nchromedriver log:\n{log}");
            }
        };
        Browser { client, driver, downloads, _profile: profile }
    }

    /// Ends the session (Chromium quits) and stops chromedriver.
    pub async fn stop(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }

    /// Sizes the viewport (not the window) to `width`×`height` CSS pixels.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.client.set_window_size(width, height).await.unwrap();
        let inner = self.client.execute("return [window.innerWidth, window.innerHeight];", vec![]).await.unwrap();
        let (inner_width, inner_height) = (inner[0].as_u64().unwrap() as u32, inner[1].as_u64().unwrap() as u32);
        if (inner_width, inner_height) != (width, height) {
            self.client
                .set_window_size(
                    width + width.saturating_sub(inner_width),
                    height + height.saturating_sub(inner_height),
                )
                .await
                .unwrap();
        }
    }

    /// Runs `return (EXPRESSION);` until it is truthy (20 s at most); returns its value.
    pub async fn wait_for(&self, what: &str, expression: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        let script = format!("return ({expression});");
        loop {
            let value = self.client.execute(&script, vec![]).await.unwrap_or(Value::Null);
            let truthy = match &value {
                Value::Null => false,
                Value::Bool(flag) => *flag,
                Value::String(text) => !text.is_empty(),
                Value::Number(number) => number.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return value;
            }
            if Instant::now() > deadline {
                let errors = self.text_of("#errors").await;
                let main = self.text_of("main").await;
                panic!("waited 20 s for {what} ({expression})\npage errors: {errors}\npage: {main}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn text_of(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(element) => element.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    pub async fn click(&self, css: &str) {
        let element = self.client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await;
        element.unwrap_or_else(|error| panic!("no {css}: {error}")).click().await.unwrap();
    }

    /// Clears a field and types into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.client.wait().at_most(Duration::from_secs(20)).for_element(Locator::Css(css)).await.unwrap();
        element.clear().await.unwrap();
        element.send_keys(text).await.unwrap();
    }

    /// Goes to a page of the console by its hash (`#/jobs`).
    pub async fn open(&self, hash: &str) {
        self.client.execute(&format!("window.location.hash = {};", json!(hash)), vec![]).await.unwrap();
    }

    /// Saves a PNG of the page.
    pub async fn screenshot(&self, directory: &Path, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.unwrap();
        let path = directory.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        path
    }
}

/// The screenshot directory of this run, created.
pub fn screenshot_dir() -> PathBuf {
    let directory = std::env::var_os(SCREENSHOTS_VARIABLE)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots"));
    std::fs::create_dir_all(&directory).unwrap();
    directory
}
