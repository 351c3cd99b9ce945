//! The dashboard in real headless Chromium, against the real server and the fake Kubernetes API
//! (or a real cluster with `TYCHO_TEST_KUBECONFIG`). Screenshots go to `artifacts/browser/`.

use std::time::Duration;
use tycho_browser_tests::{Browser, TestCluster, server, settings, with_browser};

const WAIT: Duration = Duration::from_secs(20);

const BAD: &str = "services:\n  web:\n    image: nginxinc/nginx-unprivileged:stable-alpine\n    ports:\n      - \"eighty\"\n";
const GOOD: &str = "services:\n  web:\n    image: nginxinc/nginx-unprivileged:stable-alpine\n    ports:\n      - \"8080:8080\"\n";

/// Prints how long the page took to become an interactive editor.
async fn report_timing(b: &Browser) {
    let t = b
        .js("const n = performance.getEntriesByType('navigation')[0];
             return { interactive: window.__tychoInteractiveMs,
                      dom_content_loaded: n.domContentLoadedEventEnd, load: n.loadEventEnd,
                      wasm_bytes: performance.getEntriesByType('resource')
                          .filter(r => r.name.endsWith('.wasm')).map(r => r.encodedBodySize)[0] };")
        .await;
    println!(
        "dashboard timing: page load to interactive editor {:.0} ms (DOMContentLoaded {:.0} ms, load {:.0} ms; wasm transfer {} bytes)",
        t["interactive"].as_f64().unwrap_or(-1.0),
        t["dom_content_loaded"].as_f64().unwrap_or(-1.0),
        t["load"].as_f64().unwrap_or(-1.0),
        t["wasm_bytes"]
    );
    assert!(
        t["interactive"].as_f64().is_some_and(|ms| ms > 0.0),
        "no interactive mark: {t}"
    );
}

/// Catalog → error at its line → fix → Deployment preview → launch → ready → delete → gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_watch_and_delete_from_the_browser() {
    let cluster = TestCluster::start("browser-dashboard").await;
    if let Some(fake) = &cluster.fake {
        fake.set_ready_delay(Duration::from_secs(3));
    }
    let base = server(settings(&cluster.namespace), Some(&cluster)).await;
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        report_timing(b).await;

        // The catalog: one card per assets/catalog entry, plus blank and upload.
        let cards = b
            .js("return document.querySelectorAll('button.card[data-slug]').length")
            .await;
        assert!(cards.as_u64().unwrap_or(0) >= 5, "cards: {cards}");
        b.wait_text("#feed", WAIT).await;
        b.wait_js(
            "return document.getElementById('feed').textContent === 'live'",
            WAIT,
        )
        .await;
        b.click("button.card[data-slug=blank]").await;
        b.wait_js(
            "return !document.getElementById('compose').value.includes('nginx')",
            WAIT,
        )
        .await;
        b.click("button.card[data-slug=nginx]").await;
        b.wait_js(
            "return document.getElementById('compose').value.includes('nginx-unprivileged')
                && document.querySelector('button.card[data-slug=nginx]').getAttribute('aria-pressed') === 'true'",
            WAIT,
        )
        .await;
        b.wait_text("#tab-0", WAIT).await;
        b.screenshot("01-catalog").await;

        // Type an error: the diagnostic names line 5, whose gutter number and background are marked.
        b.type_into("#compose", BAD).await;
        let diag = b.wait_text("li.diag.error[data-line='5']", WAIT).await;
        assert!(diag.starts_with("5:"), "diagnostic: {diag}");
        let marked = b
            .js("return [...document.querySelectorAll('.gutter .ln.error')].map(e => e.textContent)")
            .await;
        assert_eq!(marked, serde_json::json!(["5"]));
        b.wait_text(".highlights .hl.error[data-line='5']", WAIT)
            .await;
        b.wait_text("#no-preview", WAIT).await;
        assert!(
            b.js("return document.getElementById('launch').disabled")
                .await
                .as_bool()
                .unwrap_or(false),
            "launch must be disabled with errors"
        );
        b.scroll_to(".workbench").await;
        b.screenshot("02-error-at-line").await;

        // Fix it: no errors, the Deployment in the preview.
        b.type_into("#compose", GOOD).await;
        b.wait_js(
            "return document.querySelectorAll('li.diag.error').length === 0",
            WAIT,
        )
        .await;
        assert_eq!(b.wait_text("#tab-0", WAIT).await, "Deployment");
        b.wait_js(
            "return document.getElementById('yaml').textContent.includes('kind: Deployment')",
            WAIT,
        )
        .await;
        let tabs = b
            .js("return [...document.querySelectorAll('[role=tab]')].map(e => e.textContent)")
            .await;
        assert!(
            tabs.to_string().contains("Service"),
            "tabs: {tabs}"
        );
        b.screenshot("03-preview").await;

        // Launch: the row appears, then becomes ready.
        b.type_into("#system-name", "browser-demo").await;
        b.click("#launch").await;
        let launched = b.wait_text("#launched", WAIT).await;
        assert!(launched.contains("browser-demo"), "{launched}");
        b.wait_text("tr[data-guid]", WAIT).await;
        b.scroll_to(".launch").await;
        b.screenshot("04-launched").await;
        b.wait_js(
            "const r = document.querySelector('tr[data-guid]');
             return r.dataset.phase === 'running' && r.querySelector('.ready').textContent === '1/1'",
            Duration::from_secs(60),
        )
        .await;
        let row = b.wait_text("tr[data-guid]", WAIT).await;
        assert!(row.contains("browser-demo"), "row: {row}");
        // Its details: the container and the port.
        b.click("tr[data-guid] button.name").await;
        let details = b.wait_text("tr.details", WAIT).await;
        assert!(
            details.contains("web") && details.contains("ready") && details.contains("8080"),
            "details: {details}"
        );
        b.scroll_to(".launch").await;
        b.screenshot("05-running").await;
        b.click("tr[data-guid] button.name").await;
        // The README's picture (docs/dashboard.png is a copy of it): preview and table together.
        b.client.set_window_size(1200, 820).await.expect("resize");
        b.scroll_to(".workbench").await;
        b.screenshot("readme").await;
        b.client.set_window_size(1400, 1000).await.expect("resize");

        // Delete with confirmation: terminating, then gone.
        b.click("tr[data-guid] button.delete").await;
        b.wait_text(".confirm", WAIT).await;
        b.screenshot("06-confirm-delete").await;
        b.click(".confirm-yes").await;
        b.wait_js(
            "return document.querySelector('tr[data-guid]') === null ||
                    document.querySelector('tr[data-guid]').dataset.phase === 'terminating'",
            WAIT,
        )
        .await;
        b.screenshot("07-terminating").await;
        b.wait_js(
            "return document.querySelector('tr[data-guid]') === null",
            Duration::from_secs(60),
        )
        .await;
        b.wait_text("#no-systems", WAIT).await;
        b.screenshot("08-gone").await;
    })
    .await;
    cluster.cleanup().await;
}

/// A file the browser accepts but the server's policy refuses: the 422 diagnostics are shown in
/// place, not as a raw body.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_shown_in_place() {
    let cluster = TestCluster::start("browser-problem").await;
    let mut settings = settings(&cluster.namespace);
    settings.policy.max_resources.cpu = "100m".into();
    let base = server(settings, Some(&cluster)).await;
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.click("button.card[data-slug=nginx]").await;
        b.wait_text("#tab-0", WAIT).await;
        b.click("#launch").await;
        let problem = b.wait_text("#launch-problem", WAIT).await;
        assert!(
            b.js("return document.querySelectorAll('#launch-problem li.diag').length")
                .await
                .as_u64()
                .unwrap_or(0)
                >= 1,
            "no diagnostics in the problem: {problem}"
        );
        assert!(!problem.contains("\"errors\""), "raw body shown: {problem}");
        assert!(problem.to_lowercase().contains("cpu"), "{problem}");
        // The server's diagnostic also marks its line in the editor (the nginx card's `cpus:`).
        let line = b
            .js("return document.querySelector('#launch-problem li.diag').dataset.line")
            .await;
        let marked = b
            .js("return [...document.querySelectorAll('.gutter .ln.error')].map(e => e.textContent)")
            .await;
        assert_eq!(marked, serde_json::json!([line]), "gutter marks");
        b.scroll_to(".launch").await;
        b.screenshot("10-server-422").await;
    })
    .await;
    cluster.cleanup().await;
}

/// Without a cluster: a banner, and the editor and preview still work; readable when narrow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cluster_banner_and_offline_editor() {
    let base = server(settings("default"), None).await;
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        let banner = b.wait_text("#no-cluster", WAIT).await;
        assert!(banner.contains("No cluster configured"), "{banner}");
        b.click("button.card[data-slug=jupyter-datascience]").await;
        b.wait_js(
            "return [...document.querySelectorAll('[role=tab]')].some(t => t.textContent.startsWith('PVC'))",
            WAIT,
        )
        .await;
        // ${BASE_URL:-/} shows up in the env table with its default.
        let placeholder = b
            .js("return document.querySelector('input[data-var=BASE_URL]').placeholder")
            .await;
        assert_eq!(placeholder, serde_json::json!("default: /"));
        assert!(
            b.js("return document.getElementById('launch').disabled")
                .await
                .as_bool()
                .unwrap_or(false),
            "launch must be disabled without a cluster"
        );
        // A value in the env table reaches the preview.
        b.type_into("input[data-var=BASE_URL]", "/lab-xyz/").await;
        b.wait_js(
            "return document.getElementById('yaml').textContent.includes('/lab-xyz/')",
            WAIT,
        )
        .await;
        b.screenshot("20-no-cluster").await;

        // Upload a file: it replaces the editor's text and is validated at once.
        let file = tycho_browser_tests::artifacts().join("upload.yaml");
        std::fs::write(&file, "services:\n  up:\n    image: busybox\n    command: [sleep, \"3600\"]\n    logging:\n      driver: json-file\n")
            .expect("write the upload");
        b.client
            .find(fantoccini::Locator::Css("#upload"))
            .await
            .expect("the upload input")
            .send_keys(&file.canonicalize().expect("the upload's path").display().to_string())
            .await
            .expect("choose the file");
        b.wait_js(
            "return document.getElementById('compose').value.includes('busybox')",
            WAIT,
        )
        .await;
        // `logging:` is not translated: a warning at its line and an entry in the list.
        b.wait_text("li.diag.warning[data-line='5']", WAIT).await;
        let untranslated = b.wait_text("#not-translated summary", WAIT).await;
        assert_eq!(untranslated, "Not translated (1)");
        b.scroll_to(".workbench").await;
        b.screenshot("22-uploaded").await;
        b.client
            .set_window_size(420, 1000)
            .await
            .expect("narrow window");
        let overflow = b
            .js("return document.documentElement.scrollWidth <= window.innerWidth + 1")
            .await;
        assert_eq!(overflow, serde_json::json!(true), "horizontal scroll when narrow");
        b.screenshot("21-narrow").await;
    })
    .await;
}

/// A server with bearer tokens: the sign-in form, the token kept in localStorage, the list
/// polled (EventSource cannot send a bearer token).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_token() {
    let cluster = TestCluster::start("browser-auth").await;
    let mut settings = settings(&cluster.namespace);
    settings.auth = tycho_server::auth::Auth::tokens(vec![tycho_server::auth::TokenEntry {
        token: "token-alice-0001".into(),
        user: "alice".into(),
        admin: false,
    }]);
    let base = server(settings, Some(&cluster)).await;
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.wait_text("form.sign-in", WAIT).await;
        b.type_into("#token", "token-alice-0001").await;
        b.click("form.sign-in button[type=submit]").await;
        let user = b.wait_text(".account .user", WAIT).await;
        assert!(user.contains("alice"), "{user}");
        b.wait_js(
            "return document.getElementById('feed').textContent.startsWith('refreshing')",
            WAIT,
        )
        .await;
        b.wait_text("#no-systems", WAIT).await;
        let stored = b.js("return localStorage.getItem('tycho.token')").await;
        assert_eq!(stored, serde_json::json!("token-alice-0001"));
        b.screenshot("30-signed-in").await;
    })
    .await;
    cluster.cleanup().await;
}
