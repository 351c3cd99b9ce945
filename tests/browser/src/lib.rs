//! The project's one browser test harness: chromedriver on a free loopback port and headless
//! Chromium (Debian `chromium`, `chromium-driver`) driven by fantoccini ([`chromium`]), a static
//! file server ([`static_files`]), and for the dashboard tests the [`settings`] of a server
//! serving the built dashboard (`dist/`, from `scripts/build-frontend.sh`); the tests start it
//! with the one server harness, `tycho_test_server::TestServer`.
//! The wasm package's tests (crates/wasm/tests) use it too.
//!
//! Nothing here skips: a missing dist, chromedriver or Chromium is a failure saying what to run.

pub mod chromium;
pub mod static_files;

use std::path::{Path, PathBuf};
use std::time::Duration;
use tycho_server::Settings;

pub use chromium::{Browser, with_browser};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built dashboard: `$TYCHO_DIST` or `dist/`. Panics when it is not built.
pub fn dist() -> PathBuf {
    let dist = std::env::var_os("TYCHO_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("dist"));
    let has_wasm = std::fs::read_dir(&dist)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .any(|e| e.path().extension().is_some_and(|x| x == "wasm"))
        })
        .unwrap_or(false);
    assert!(
        dist.join("index.html").is_file() && has_wasm,
        "the dashboard is not built ({} has no index.html and .wasm): run scripts/build-frontend.sh",
        dist.display()
    );
    dist
}

/// Where screenshots go (git-ignored).
pub fn artifacts() -> PathBuf {
    let dir = std::env::var_os("TYCHO_ARTIFACTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("artifacts/browser"));
    std::fs::create_dir_all(&dir).expect("create the artifacts folder");
    dir
}

/// Server settings for a browser test: the dist, no auth, quick events.
pub fn settings(namespace: &str) -> Settings {
    Settings {
        namespace: namespace.to_string(),
        dist: Some(dist()),
        events_interval: Duration::from_millis(200),
        ..Settings::default()
    }
}
