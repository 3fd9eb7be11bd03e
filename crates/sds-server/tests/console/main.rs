//! The web console (issue #15), tested two ways against the real `sds`
//! binary on an ephemeral port: `serving` checks what the server sends
//! (types, caching, the Content-Security-Policy, the embedded files), and
//! `browser` drives headless Chromium through chromedriver over the
//! console's main paths.

// Only the server harness of the HTTP tests: the rest of `common` carries
// tests of its own, which the HTTP binary already runs.
#[allow(dead_code)]
#[path = "../common/server.rs"]
mod server;
// Which store the harness's servers use (`SDS_TEST_STORE`).
#[allow(dead_code)]
#[path = "../common/database.rs"]
mod database;

mod browser;
mod driver;
mod serving;
