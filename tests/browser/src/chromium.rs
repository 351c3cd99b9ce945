//! One headless Chromium session through chromedriver, with the waits and actions tests need.

use crate::artifacts;
use fantoccini::{Client, ClientBuilder, Locator};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// One headless Chromium session.
pub struct Browser {
    pub client: Client,
    driver: Driver,
}

/// A running chromedriver and the browser profile it uses; dropping it stops both and removes
/// the profile, also when a start fails half-way.
struct Driver {
    process: Child,
    /// chromedriver's port, for the commands fantoccini does not offer (the browser log).
    port: u16,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if self.process.try_wait().ok().flatten().is_none() {
            #[cfg(unix)]
            let _ = Command::new("kill")
                .args(["-TERM", "--", &format!("-{}", self.process.id())])
                .status();
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// How often a session start is tried before the test fails. A start can fail for reasons that
/// have nothing to do with the product: another process took the port between `free_port` and
/// chromedriver's bind, or a probe connected to itself (Linux's TCP self-connect).
/// How long `click` and `type_into` wait for their element to appear.
const APPEAR: Duration = Duration::from_secs(20);

const START_ATTEMPTS: usize = 3;

impl Browser {
    pub async fn start() -> Browser {
        let mut failures = Vec::new();
        for _ in 0..START_ATTEMPTS {
            match Self::try_start().await {
                Ok(browser) => return browser,
                Err(failure) => failures.push(failure),
            }
        }
        panic!(
            "cannot start headless Chromium through chromedriver ({}): run scripts/install-tools.sh (Debian chromium, chromium-driver)",
            failures.join("; then ")
        )
    }

    async fn try_start() -> Result<Browser, String> {
        let port = free_port();
        let chromedriver =
            std::env::var("TYCHO_CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let profile =
            std::env::temp_dir().join(format!("tycho-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("create the Chromium profile folder");
        let driver_log = profile.join("chromedriver.log");
        let mut command = Command::new(&chromedriver);
        command
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .arg(format!("--log-path={}", driver_log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // Its own process group, so stopping it also ends the browser it started.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let process = command
            .spawn()
            .map_err(|e| format!("cannot run {chromedriver}: {e}"))?;
        // From here on, dropping `driver` stops chromedriver, on every early return.
        let mut driver = Driver {
            process,
            port,
            profile,
        };
        let log_tail = || {
            let log = std::fs::read_to_string(&driver_log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().rev().take(5).collect();
            lines.into_iter().rev().collect::<Vec<_>>().join(" | ")
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = driver.process.try_wait() {
                return Err(format!("chromedriver exited ({status}): {}", log_tail()));
            }
            if Instant::now() >= deadline {
                return Err(format!("chromedriver did not listen on port {port}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
            format!("--user-data-dir={}", driver.profile.display()),
        ];
        let mut chrome_options = serde_json::json!({ "args": args });
        if let Ok(binary) = std::env::var("TYCHO_CHROMIUM") {
            chrome_options["binary"] = binary.into();
        }
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), "chrome".into());
        capabilities.insert("goog:chromeOptions".into(), chrome_options);
        capabilities.insert(
            "goog:loggingPrefs".into(),
            serde_json::json!({ "browser": "ALL" }),
        );
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| format!("{e}; chromedriver's log: {}", log_tail()))?;
        Ok(Browser { client, driver })
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

    /// Polls `script` until it returns `true`. A string it returns is the page's own failure
    /// message (e.g. `window.benchError`) and fails at once.
    pub async fn wait_js(&self, script: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            match self.js(script).await {
                serde_json::Value::Bool(true) => return,
                serde_json::Value::String(error) => panic!("the page failed: {error}"),
                _ => {}
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

    /// Waits (up to [`APPEAR`]) for an element matching `css`: the page renders after its
    /// answers arrive, so an element a step needs may not be there yet.
    async fn appeared(&self, css: &str) {
        let selector = serde_json::to_string(css).unwrap_or_default();
        self.wait_js(
            &format!("return document.querySelector({selector}) !== null"),
            APPEAR,
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        self.appeared(css).await;
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
        self.appeared(css).await;
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

    /// Chooses `path` (a file, or a folder for a `webkitdirectory` input) in the file input
    /// matching `css`, as a person picking it in the file dialog.
    pub async fn choose_file(&self, css: &str, path: &std::path::Path) {
        let path = path.to_str().expect("a UTF-8 path");
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("find {css}: {e}"))
            .send_keys(path)
            .await
            .unwrap_or_else(|e| panic!("choose {path} in {css}: {e}"));
    }

    /// Scrolls the element matching `css` to the top of the window.
    pub async fn scroll_to(&self, css: &str) {
        let selector = serde_json::to_string(css).unwrap_or_default();
        self.js(&format!(
            "document.querySelector({selector}).scrollIntoView({{block: 'start'}}); return true"
        ))
        .await;
    }

    /// The browser console's messages since the last call (chromedriver's log endpoint, which
    /// WebDriver proper does not have): each `{level, message, source, timestamp}`. CSP
    /// violations are among them from the first byte of the page, before any script of a test
    /// could listen for them.
    pub async fn browser_log(&self) -> Vec<serde_json::Value> {
        let session = self
            .client
            .session_id()
            .await
            .expect("the session id")
            .expect("a session");
        let path = format!("/session/{session}/se/log");
        let answer = post_json(self.driver.port, &path, r#"{"type":"browser"}"#).await;
        answer["value"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("no log in chromedriver's answer: {answer}"))
    }

    /// Emulates a CSS media feature, e.g. `prefers-color-scheme: dark` (Chromium's DevTools
    /// command through chromedriver; WebDriver has none).
    pub async fn emulate_media(&self, feature: &str, value: &str) {
        let session = self
            .client
            .session_id()
            .await
            .expect("the session id")
            .expect("a session");
        let path = format!("/session/{session}/goog/cdp/execute");
        let body = serde_json::json!({
            "cmd": "Emulation.setEmulatedMedia",
            "params": { "features": [{ "name": feature, "value": value }] },
        });
        let answer = post_json(self.driver.port, &path, &body.to_string()).await;
        assert!(
            answer
                .get("value")
                .is_some_and(|v| v.get("error").is_none()),
            "emulate {feature}: {value}: {answer}"
        );
    }

    /// Saves a PNG screenshot as `artifacts/browser/<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("screenshot");
        let path = artifacts().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Ends the WebDriver session, then stops chromedriver (dropping `self`).
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

/// POSTs `body` to chromedriver on `port` and returns the JSON it answers. HTTP/1.1 by hand:
/// chromedriver keeps the connection open, so the answer ends at its `Content-Length`.
async fn post_json(port: u16, path: &str, body: &str) -> serde_json::Value {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect to chromedriver");
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream
        .write_all(request.as_bytes())
        .await
        .expect("send to chromedriver");
    let mut reader = BufReader::new(stream);
    let mut length = None;
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .await
            .expect("read chromedriver's answer");
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.expect("chromedriver's answer has a Content-Length");
    let mut answer = vec![0; length];
    reader
        .read_exact(&mut answer)
        .await
        .expect("read chromedriver's answer");
    serde_json::from_slice(&answer).unwrap_or_else(|e| {
        panic!(
            "chromedriver's answer ({e}): {}",
            String::from_utf8_lossy(&answer)
        )
    })
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
