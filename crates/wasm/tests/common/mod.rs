//! The browser harness: the built package (`scripts/build-wasm.sh` → `pkg/demo`) served on
//! 127.0.0.1, chromedriver on a free loopback port, and headless Chromium driven by fantoccini.
//!
//! Nothing here skips: a missing package, chromedriver or Chromium is a failure that says what to
//! run (`scripts/install-tools.sh`, `scripts/build-wasm.sh`).

#![allow(dead_code)] // each test target uses part of the harness

pub mod native_bench;

use fantoccini::{Client, ClientBuilder};
use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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
    let dir = repo().join("artifacts");
    std::fs::create_dir_all(&dir).expect("create artifacts/");
    dir
}

/// One headless Chromium session with the demo served beside it.
pub struct Browser {
    pub client: Client,
    /// `http://127.0.0.1:PORT/` of the static server.
    pub base: String,
    driver: Child,
    profile: PathBuf,
    server: tokio::task::JoinHandle<()>,
}

impl Browser {
    pub async fn start() -> Browser {
        let demo = demo_dir();
        let (addr, server) = serve(demo).await;
        let port = free_port();
        let chromedriver =
            std::env::var("TYCHO_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so Drop can end chromedriver and the browser it started.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let driver = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start {chromedriver} ({e}): run scripts/install-tools.sh (Debian chromium-driver)")
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on port {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }

        let profile =
            std::env::temp_dir().join(format!("tycho-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create the Chromium profile folder");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1400,900".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut chrome_options = serde_json::json!({ "args": args });
        if let Ok(binary) = std::env::var("TYCHO_CHROMIUM") {
            chrome_options["binary"] = binary.into();
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        let client = ClientBuilder::new(
            hyper_util::client::legacy::connect::HttpConnector::new(),
        )
        .capabilities(capabilities)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .unwrap_or_else(|e| {
            panic!("cannot start headless Chromium through chromedriver ({e}): run scripts/install-tools.sh (Debian chromium)")
        });
        Browser {
            client,
            base: format!("http://{addr}/"),
            driver,
            profile,
            server,
        }
    }

    /// Opens a page of the demo folder and waits until its script set `document.body.dataset.ready`.
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
        let deadline = Instant::now() + timeout;
        loop {
            match self.client.execute(script, vec![]).await {
                Ok(serde_json::Value::Bool(true)) => return,
                Ok(serde_json::Value::String(error)) => panic!("the page failed: {error}"),
                Ok(_) => {}
                Err(e) => panic!("script failed: {e}"),
            }
            assert!(Instant::now() < deadline, "timed out waiting for: {script}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Calls a function of the package on the demo page: `window.tycho[name](...args)`.
    pub async fn call(&self, name: &str, args: Vec<serde_json::Value>) -> serde_json::Value {
        let script = format!("return window.tycho.{name}(...arguments);");
        self.client
            .execute(&script, args)
            .await
            .unwrap_or_else(|e| panic!("tycho.{name} threw: {e}"))
    }

    /// Ends the session (Chromium exits) and chromedriver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.stop();
    }

    fn stop(&mut self) {
        #[cfg(unix)]
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        self.server.abort();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if self.driver.try_wait().ok().flatten().is_none() {
            self.stop();
        }
    }
}

/// Runs `body` with a browser and always closes it, then re-raises a failure of `body`.
pub async fn with_browser(body: impl AsyncFnOnce(&Browser)) {
    use futures::FutureExt;
    let browser = Browser::start().await;
    let outcome = std::panic::AssertUnwindSafe(body(&browser))
        .catch_unwind()
        .await;
    browser.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A static file server for `dir` on 127.0.0.1:0, with caching off.
async fn serve(dir: PathBuf) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = axum::Router::new()
        .fallback_service(tower_http::services::ServeDir::new(dir))
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async move {
                response.headers_mut().insert(
                    axum::http::header::CACHE_CONTROL,
                    axum::http::HeaderValue::from_static("no-store"),
                );
                response
            },
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the static server");
    let addr = listener.local_addr().expect("its address");
    let server = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("static server");
    });
    (addr, server)
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
                name: dns_label(&folder),
                file,
                text,
                env,
            });
        }
    }
    inputs
}

/// `KEY=VALUE` lines as the CLI reads a `.env` (comments, `export `, quotes).
pub fn parse_env(content: &str) -> BTreeMap<String, String> {
    content
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .filter_map(|line| {
            let line = line.strip_prefix("export ").unwrap_or(line);
            let (key, value) = line.split_once('=')?;
            let value = value.trim();
            let value = ['"', '\'']
                .iter()
                .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
                .unwrap_or(value);
            Some((key.trim().to_string(), value.to_string()))
        })
        .collect()
}

fn dns_label(folder: &str) -> String {
    let label: String = folder
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(tycho_compiler::MAX_SYSTEM_NAME)
        .collect();
    label
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}
