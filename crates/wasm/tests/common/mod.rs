//! The wasm package in the browser: the built demo folder (`scripts/build-wasm.sh` → `pkg/demo`)
//! served on 127.0.0.1 and opened in headless Chromium through the project's browser harness
//! (`tests/browser`), plus the inputs the tests compare.
//!
//! Nothing here skips: a missing package, chromedriver or Chromium is a failure that says what to
//! run (`scripts/install-tools.sh`, `scripts/build-wasm.sh`).

#![allow(dead_code)] // each test target uses part of the harness

pub mod native_bench;

use fantoccini::Client;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tycho_browser_tests::Browser;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The demo folder that `scripts/build-wasm.sh` writes: the page plus the web package.
pub fn demo_dir() -> PathBuf {
    let out = std::env::var_os("TYCHO_WASM_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("pkg"));
    let out = if out.is_absolute() {
        out
    } else {
        repo().join(out)
    };
    let demo = out.join("demo");
    assert!(
        demo.join("pkg/tycho_wasm_bg.wasm").is_file() && demo.join("index.html").is_file(),
        "the wasm package is not built ({} is missing): run scripts/build-wasm.sh",
        demo.join("pkg/tycho_wasm_bg.wasm").display()
    );
    demo
}

/// Where screenshots go (git-ignored).
pub fn artifacts() -> PathBuf {
    tycho_browser_tests::artifacts()
}

/// A Chromium session with the demo folder served beside it.
pub struct Demo<'a> {
    pub client: &'a Client,
    /// `http://127.0.0.1:PORT/` of the static server.
    pub base: String,
    browser: &'a Browser,
}

impl Demo<'_> {
    /// Opens the demo page and waits until its script set `document.body.dataset.ready`.
    pub async fn open_demo(&self) {
        self.client
            .goto(&format!("{}index.html", self.base))
            .await
            .expect("open the demo page");
        self.wait_for_js(
            "return document.body.dataset.ready === 'true' ? true : (window.__tychoError || null)",
            Duration::from_secs(20),
        )
        .await;
    }

    /// Polls `script` until it returns `true`; a string it returns is a failure message.
    pub async fn wait_for_js(&self, script: &str, timeout: Duration) {
        self.browser.wait_js(script, timeout).await;
    }

    /// Calls a function of the package on the demo page: `window.tycho[name](...args)`.
    pub async fn call(&self, name: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        let script = format!("return window.tycho.{name}(...arguments);");
        self.client
            .execute(&script, args)
            .await
            .unwrap_or_else(|e| panic!("tycho.{name} threw: {e}"))
    }
}

/// Runs `body` with the demo served and a browser open; always cleans up, then re-raises a
/// failure of `body`.
pub async fn with_demo(body: impl AsyncFnOnce(&Demo<'_>)) {
    let (addr, server) = tycho_browser_tests::static_files::serve(demo_dir()).await;
    tycho_browser_tests::with_browser(async move |browser| {
        let demo = Demo {
            client: &browser.client,
            base: format!("http://{addr}/"),
            browser,
        };
        body(&demo).await;
    })
    .await;
    server.abort();
}

/// A compose file found on disk, with the options both sides get.
pub struct Input {
    pub file: PathBuf,
    pub text: String,
    pub name: String,
    pub env: BTreeMap<String, String>,
}

/// Every `*/docker-compose.yaml` under the catalog and the compatibility samples.
pub fn inputs() -> Vec<Input> {
    let samples = std::env::var_os("TYCHO_SAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("../shared/tycho-samples"));
    let mut inputs = Vec::new();
    for root in [repo().join("assets/catalog"), samples] {
        let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
            .unwrap_or_else(|e| panic!("cannot list {}: {e}", root.display()))
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| path.join("docker-compose.yaml").is_file())
            .collect();
        dirs.sort();
        assert!(
            !dirs.is_empty(),
            "no compose files under {}",
            root.display()
        );
        for dir in dirs {
            let file = dir.join("docker-compose.yaml");
            let text = std::fs::read_to_string(&file)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            let env = std::fs::read_to_string(dir.join(".env"))
                .map(|content| parse_env(&content))
                .unwrap_or_default();
            let folder = dir.file_name().unwrap_or_default().to_string_lossy();
            inputs.push(Input {
                name: tycho_compiler::names::system_name_from_folder(&folder),
                file,
                text,
                env,
            });
        }
    }
    inputs
}

/// A `.env` as the CLI reads it: the compiler's parser (Compose's env-file syntax).
pub fn parse_env(content: &str) -> BTreeMap<String, String> {
    tycho_compiler::parse_env_file(content, &BTreeMap::new())
        .unwrap_or_else(|e| panic!("a sample's .env does not read: {e}"))
        .into_iter()
        .collect()
}
