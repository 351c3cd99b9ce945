//! Browser test harness: the real server (in-process, on 127.0.0.1:0) serving the built
//! dashboard (`dist/`, from `scripts/build-frontend.sh`), chromedriver on a free loopback port and
//! headless Chromium (Debian `chromium`, `chromium-driver`) driven by fantoccini.
//!
//! Nothing here skips: a missing dist, chromedriver or Chromium is a failure saying what to run.

use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_server::{AppState, KubeExecutor, Settings};

pub use tycho_fake_kube::TestCluster;

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

/// The server on `127.0.0.1:0` with `settings`, running on `cluster` (None: no cluster).
/// Returns its base URL.
pub async fn server(settings: Settings, cluster: Option<&TestCluster>) -> String {
    let executor = cluster.map(|c| {
        Arc::new(KubeExecutor::new(c.client.clone(), c.namespace.clone()))
            as Arc<dyn tycho_server::Executor>
    });
    let reason = if executor.is_none() {
        "no cluster configuration found (browser test)"
    } else {
        ""
    };
    let (addr, _handle) = tycho_server::spawn_local(AppState::new(settings, executor, reason))
        .await
        .expect("bind the server");
    format!("http://{addr}")
}

/// One headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Child,
    profile: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl Browser {
    pub async fn start() -> Browser {
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
        // Its own process group, so stopping it also ends the browser it started.
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
        let profile = std::env::temp_dir().join(format!(
            "tycho-dashboard-chromium-{}-{port}",
            std::process::id()
        ));
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
            "--window-size=1400,1000".into(),
            format!("--user-data-dir={}", profile.display()),
        ];
        let mut chrome_options = serde_json::json!({ "args": args });
        if let Ok(binary) = std::env::var("TYCHO_CHROMIUM") {
            chrome_options["binary"] = binary.into();
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .unwrap_or_else(|e| {
                panic!("cannot start headless Chromium through chromedriver ({e}): run scripts/install-tools.sh (Debian chromium)")
            });
        Browser {
            client,
            driver,
            profile,
        }
    }

    /// Opens the dashboard and waits until the editor is interactive.
    pub async fn open(&self, base: &str) {
        self.client.goto(base).await.expect("open the dashboard");
        self.wait_js(
            "return document.body.dataset.ready === 'true'",
            Duration::from_secs(30),
        )
        .await;
    }

    /// Runs `script` (a function body) and returns its value.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `script` until it returns `true`.
    pub async fn wait_js(&self, script: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.js(script).await == serde_json::Value::Bool(true) {
                return;
            }
            if Instant::now() >= deadline {
                let text = self.js("return document.body.innerText").await;
                panic!("timed out waiting for: {script}\npage text:\n{text}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for an element matching `css` and returns its text.
    pub async fn wait_text(&self, css: &str, timeout: Duration) -> String {
        let selector = serde_json::to_string(css).unwrap_or_default();
        self.wait_js(
            &format!("return document.querySelector({selector}) !== null"),
            timeout,
        )
        .await;
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .text()
            .await
            .unwrap_or_default()
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Types into an element like a person, after clearing it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let e = self
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        e.clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        e.send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Scrolls the element matching `css` to the top of the window.
    pub async fn scroll_to(&self, css: &str) {
        let selector = serde_json::to_string(css).unwrap_or_default();
        self.js(&format!(
            "document.querySelector({selector}).scrollIntoView({{block: 'start'}}); return true"
        ))
        .await;
    }

    /// Saves a PNG screenshot as `artifacts/browser/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

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
