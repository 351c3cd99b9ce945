//! The dashboard in real headless Chromium, against the real server and the fake Kubernetes API
//! (or a real cluster with `TYCHO_TEST_KUBECONFIG`). Screenshots go to `artifacts/browser/`.

use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_test_server::{
    ADMIN, ALICE, BAD_IMAGE, BOB, TestCluster, TestServer, compose, make_bad_image_fail, tokens,
};

const WAIT: Duration = Duration::from_secs(20);
/// For a pod to become ready or go away: seconds on the fake, longer on a real cluster (image
/// pulls, graceful termination), so the same tests pass on both.
const POD_WAIT: Duration = Duration::from_secs(180);

const BAD: &str = "services:\n  web:\n    image: nginxinc/nginx-unprivileged:stable-alpine\n    ports:\n      - \"eighty\"\n";
/// Asks for 2 GiB (line 5), above the 1 GiB maximum of the policy test's server.
const HUNGRY: &str = "services:\n  web:\n    image: nginxinc/nginx-unprivileged:stable-alpine\n    cpus: 0.5\n    mem_limit: 2g\n";
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
    let server = TestServer::start(&cluster, settings(&cluster.namespace)).await;
    let base = server.base.clone();
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
        // The preview stays, greyed, as the last version without errors (the nginx card's).
        let note = b.wait_text("#stale-preview", WAIT).await;
        assert!(note.starts_with("The file has errors"), "{note}");
        let stale = b
            .js("const y = document.getElementById('yaml');
                 return y.classList.contains('stale') && y.textContent.includes('kind: Deployment')")
            .await;
        assert_eq!(stale, serde_json::json!(true));
        assert!(
            b.js("return document.getElementById('download').disabled")
                .await
                .as_bool()
                .unwrap_or(false),
            "no download of an outdated preview"
        );
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
        // Created is not ready: it says "Starting" until the system is.
        assert!(launched.starts_with("Starting browser-demo"), "{launched}");
        b.wait_text("tr[data-guid]", WAIT).await;
        b.scroll_to(".launch").await;
        b.screenshot("04-launched").await;
        b.wait_js(
            "const r = document.querySelector('tr[data-guid]');
             return r.dataset.phase === 'running' && r.querySelector('.ready').textContent === '1/1'",
            POD_WAIT,
        )
        .await;
        let row = b.wait_text("tr[data-guid]", WAIT).await;
        assert!(row.contains("browser-demo"), "row: {row}");
        b.wait_js(
            "return document.getElementById('launched').dataset.phase === 'running'",
            WAIT,
        )
        .await;
        let ready = b.wait_text("#launched", WAIT).await;
        assert!(ready.starts_with("browser-demo is ready."), "{ready}");
        // Its page: status in plain words, the container, the port, and the Kubernetes events.
        b.click("tr[data-guid] a.name").await;
        let status = b.wait_text("#plain-status", WAIT).await;
        assert!(status.starts_with("Running"), "status: {status}");
        let containers = b.wait_text("#containers", WAIT).await;
        assert!(
            containers.contains("web") && containers.contains("ready"),
            "containers: {containers}"
        );
        let ports = b.wait_text("#ports", WAIT).await;
        assert!(ports.contains("8080"), "ports: {ports}");
        b.wait_js(
            "return document.activeElement === document.getElementById('system-h')",
            WAIT,
        )
        .await;
        b.wait_js(
            "return [...document.querySelectorAll('#kube-events tbody tr')]
                .some(r => /ScalingReplicaSet|Scheduled|Started/.test(r.textContent))",
            WAIT,
        )
        .await;
        let events = b.wait_text("#kube-events", WAIT).await;
        assert!(events.contains("Normal"), "events: {events}");
        b.screenshot("05-system-page").await;
        b.client.set_window_size(420, 1000).await.expect("narrow window");
        // clientWidth, not innerWidth: the latter includes the vertical scrollbar.
        let fits = b
            .js("const d = document.documentElement; return d.scrollWidth <= d.clientWidth")
            .await;
        assert_eq!(fits, serde_json::json!(true), "horizontal scroll when narrow");
        b.screenshot("05b-system-page-narrow").await;
        b.client.set_window_size(1400, 1000).await.expect("resize");
        // Delete is offered here too; Escape takes the question back.
        b.click(".system-page button.delete").await;
        b.wait_js(
            "return document.activeElement && document.activeElement.classList.contains('confirm-yes')",
            WAIT,
        )
        .await;
        b.client
            .active_element()
            .await
            .expect("the focused button")
            .send_keys("\u{E00C}")
            .await
            .expect("press Escape");
        b.wait_js(
            "return document.querySelector('.system-page .confirm') === null
                && document.querySelector('.system-page button.delete') !== null",
            WAIT,
        )
        .await;
        // Back: the workbench as it was, focus on the system's link.
        b.click("a.back").await;
        b.wait_js(
            "return document.querySelector('.system-page') === null
                && document.activeElement.matches('tr[data-guid] a.name')",
            WAIT,
        )
        .await;
        assert!(
            b.js("return document.getElementById('compose').value.includes('8080:8080')")
                .await
                .as_bool()
                .unwrap_or(false),
            "the editor kept its text"
        );
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
            POD_WAIT,
        )
        .await;
        b.wait_text("#no-systems", WAIT).await;
        b.screenshot("08-gone").await;
    })
    .await;
    cluster.cleanup().await;
}

/// A system that cannot start: its page says why, in its containers and in the Kubernetes
/// events, with the Warning rows marked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_system_explains_itself_on_its_page() {
    let cluster = TestCluster::start("browser-failing").await;
    make_bad_image_fail(&cluster);
    let server = TestServer::start(&cluster, settings(&cluster.namespace)).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        // Started through the API (the page's own fetch), not the launch button.
        let request = serde_json::json!({
            "compose": "services:\n  app:\n    image: registry.invalid/does-not-exist:1\n",
            "name": "broken",
        });
        b.js(&format!(
            "fetch('/api/v1/systems', {{method: 'POST', body: JSON.stringify({request}),
                headers: {{'Content-Type': 'application/json'}}}});
             return true"
        ))
        .await;
        b.wait_text("tr[data-guid]", WAIT).await;
        b.click("tr[data-guid] a.name").await;
        b.wait_js(
            "const c = document.getElementById('containers');
             return c !== null && c.textContent.includes('ImagePullBackOff')",
            Duration::from_secs(120),
        )
        .await;
        b.wait_js(
            "return [...document.querySelectorAll('#kube-events tbody tr.warning')]
                .some(r => r.dataset.type === 'Warning' && /BackOff|Failed/.test(r.textContent))",
            Duration::from_secs(120),
        )
        .await;
        let status = b.wait_text("#plain-status", WAIT).await;
        assert!(!status.starts_with("Running"), "status: {status}");
        // A sentence first; the runtime's own words folded under Details.
        assert!(status.contains("cannot be pulled"), "status: {status}");
        assert!(!status.contains("Back-off"), "status: {status}");
        let folded = b
            .js(
                "const d = document.querySelector('.system-page details.raw');
                 return d !== null && !d.open && d.textContent.includes('Back-off pulling image')",
            )
            .await;
        assert_eq!(folded, serde_json::json!(true));
        b.screenshot("12-failing-system-page").await;

        // Launched from the editor, the same file is reported failed where it was launched,
        // with the reason in words and the way to its page.
        b.click("a.back").await;
        b.js("const t = document.getElementById('compose');
              t.value = 'services:\\n  app:\\n    image: registry.invalid/does-not-exist:1\\n';
              t.dispatchEvent(new Event('input', {bubbles: true})); return true")
            .await;
        b.type_into("#system-name", "broken-again").await;
        b.wait_js("return !document.getElementById('launch').disabled", WAIT)
            .await;
        b.click("#launch").await;
        b.wait_js(
            "const l = document.getElementById('launched');
             return l !== null && l.dataset.phase === 'failed'",
            Duration::from_secs(120),
        )
        .await;
        let outcome = b.wait_text("#launched", WAIT).await;
        assert!(
            outcome.starts_with("broken-again failed: ") && outcome.contains("cannot be pulled"),
            "{outcome}"
        );
        b.scroll_to(".launch").await;
        b.screenshot("13-launch-failed").await;
    })
    .await;
    cluster.cleanup().await;
}

/// The editor compiles with the policy the server publishes: memory above its maximum is an
/// error at its line before anything is sent, and the resources line marks and explains it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_editor_applies_the_servers_policy() {
    let mut settings = settings("default");
    settings.policy.max_resources.memory = "1Gi".into();
    let server = TestServer::without_cluster(settings).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.wait_js(
            "return document.getElementById('policy-source').textContent.includes(\"server's policy\")",
            WAIT,
        )
        .await;
        // The nginx card fits: its memory against the server's maximum, nothing marked.
        let line = b.wait_text("#resources li[data-service=web]", WAIT).await;
        assert!(line.contains("64 MiB of max 1 GiB"), "resources: {line}");
        assert_eq!(b.js("return document.querySelectorAll('.amount.over').length").await, 0);

        b.type_into("#compose", HUNGRY).await;
        let diag = b
            .wait_text("li.diag.error[data-code=TY0405][data-line='5']", WAIT)
            .await;
        assert!(diag.contains("1Gi"), "diagnostic: {diag}");
        let marked = b
            .js("return [...document.querySelectorAll('.gutter .ln.error')].map(e => e.textContent)")
            .await;
        assert_eq!(marked, serde_json::json!(["5"]));
        let over = b.wait_text("#resources li[data-service=web] .amount.over", WAIT).await;
        assert!(over.starts_with("2 GiB"), "marked amount: {over}");
        b.wait_text("#over-note", WAIT).await;
        assert!(
            b.js("return document.getElementById('launch').disabled")
                .await
                .as_bool()
                .unwrap_or(false),
            "launch must be disabled above the policy"
        );
        b.scroll_to(".workbench").await;
        b.screenshot("11-policy-error").await;
    })
    .await;
}

/// A refusal from Kubernetes itself: the problem is shown in place with its reason, not as a raw
/// body. (Policy refusals no longer reach the server: the editor applies the server's policy.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_shown_in_place() {
    // Always the fake, also when a real cluster is configured: the refusal is injected.
    let cluster = TestCluster::start_fake("browser-problem").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    fake.fail_nth_create("deployments", 1, 403);
    let server = TestServer::start(&cluster, settings(&cluster.namespace)).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.click("button.card[data-slug=nginx]").await;
        b.wait_text("#tab-0", WAIT).await;
        b.click("#launch").await;
        let problem = b.wait_text("#launch-problem", WAIT).await;
        assert!(problem.contains("Forbidden"), "{problem}");
        assert!(!problem.contains("\"kind\""), "raw body shown: {problem}");
        b.scroll_to(".launch").await;
        b.screenshot("10-server-refusal").await;
    })
    .await;
    cluster.cleanup().await;
}

/// Without a cluster: a banner, and the editor and preview still work; readable when narrow.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_cluster_banner_and_offline_editor() {
    let server = TestServer::without_cluster(settings("default")).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        let banner = b.wait_text("#no-cluster", WAIT).await;
        assert!(banner.contains("No cluster configured"), "{banner}");
        // The next step in words; the server's own reason folded away under "Details".
        assert!(banner.contains("--kubeconfig"), "{banner}");
        let folded = b
            .js("const d = document.querySelector('#no-cluster details');
                 return d !== null && !d.open && d.textContent.includes('no cluster in this test')")
            .await;
        assert_eq!(folded, serde_json::json!(true), "{banner}");
        b.click("button.card[data-slug=jupyter-datascience]").await;
        b.wait_js(
            "return [...document.querySelectorAll('[role=tab]')].some(t => t.textContent.startsWith('PVC'))",
            WAIT,
        )
        .await;
        // ${TYCHO_BASE_PATH} is Tycho's to set: listed as such, with nothing to fill in.
        let set_by_tycho = b
            .wait_text("table.env tr.set-by-tycho[data-var=TYCHO_BASE_PATH]", WAIT)
            .await;
        assert!(set_by_tycho.contains("set by Tycho"), "{set_by_tycho}");
        assert_eq!(
            b.js("return document.querySelector('input[data-var=TYCHO_BASE_PATH]') === null")
                .await,
            serde_json::json!(true)
        );
        b.scroll_to("table.env").await;
        b.screenshot("19-set-by-tycho").await;
        // ${POSTGRES_PASSWORD:-tycho} shows up in the env table with its default.
        b.click("button.card[data-slug=adminer-postgres]").await;
        let placeholder = b
            .js("const i = document.querySelector('input[data-var=POSTGRES_PASSWORD]');
                 return i === null ? null : i.placeholder")
            .await;
        assert_eq!(placeholder, serde_json::json!("default: tycho"));
        assert!(
            b.js("return document.getElementById('launch').disabled")
                .await
                .as_bool()
                .unwrap_or(false),
            "launch must be disabled without a cluster"
        );
        let why = b.wait_text("#launch-why", WAIT).await;
        assert_eq!(why, "Launching needs a cluster: see the note at the top.");
        // A value in the env table reaches the preview.
        b.type_into("input[data-var=POSTGRES_PASSWORD]", "s3cret-xyz").await;
        b.wait_js(
            "return document.getElementById('yaml').textContent.includes('s3cret-xyz')",
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
            .js("const d = document.documentElement; return d.scrollWidth <= d.clientWidth")
            .await;
        assert_eq!(overflow, serde_json::json!(true), "horizontal scroll when narrow");
        // On a phone the banner leaves the page its room (its details stay folded).
        let banner_height = b
            .js("return document.getElementById('no-cluster').offsetHeight")
            .await;
        assert!(
            banner_height.as_f64().is_some_and(|h| h <= 240.0),
            "banner height {banner_height}"
        );
        b.screenshot("21-narrow").await;
    })
    .await;
}

/// A server with bearer tokens: the sign-in form, the token kept in localStorage, and the list
/// live through EventSource (the token in its query): a system started through the API appears
/// without a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_token_and_see_the_list_live() {
    let cluster = TestCluster::start("browser-auth").await;
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.wait_text("form.sign-in", WAIT).await;
        let source = b.wait_text("#policy-source", WAIT).await;
        assert!(source.starts_with("Default policy"), "{source}");
        b.type_into("#token", ALICE).await;
        b.click("form.sign-in button[type=submit]").await;
        let user = b.wait_text(".account .user", WAIT).await;
        assert!(user.contains("alice"), "{user}");
        b.wait_js(
            "return document.getElementById('feed').textContent === 'live'",
            WAIT,
        )
        .await;
        b.wait_text("#no-systems", WAIT).await;
        let stored = b.js("return localStorage.getItem('tycho.token')").await;
        assert_eq!(stored, serde_json::json!(ALICE));
        let source = b.wait_text("#policy-source", WAIT).await;
        assert!(source.contains("server's policy"), "{source}");
        b.screenshot("30-signed-in").await;

        // Started elsewhere (a plain API call, not the dashboard's launch): it appears live.
        let request = serde_json::json!({
            "compose": GOOD, "name": "from-the-api", "env": {}, "client_cidrs": []
        });
        b.js(&format!(
            "fetch('/api/v1/systems', {{method: 'POST', body: JSON.stringify({request}),
                headers: {{'Content-Type': 'application/json',
                           'Authorization': 'Bearer {ALICE}'}}}});
             return true"
        ))
        .await;
        let row = b.wait_text("tr[data-guid]", WAIT).await;
        assert!(row.contains("from-the-api"), "row: {row}");
        b.scroll_to(".systems").await;
        b.screenshot("31-live-after-sign-in").await;

        // Its page (events fetched with the bearer token), and delete from there.
        b.click("tr[data-guid] a.name").await;
        b.wait_text("#kube-events tbody tr", WAIT).await;
        b.click(".system-page button.delete").await;
        b.click(".system-page .confirm-yes").await;
        let gone = b.wait_text("#system-gone", POD_WAIT).await;
        assert!(gone.contains("not running"), "{gone}");
        assert_eq!(b.wait_text("#system-h", WAIT).await, "from-the-api");
        assert_eq!(
            b.js("return document.querySelector('.kube-events') === null")
                .await,
            serde_json::json!(true),
            "no events section for a deleted system"
        );
        b.screenshot("32-deleted-from-its-page").await;
        b.click("#system-gone a").await;
        b.wait_text("#no-systems", WAIT).await;
    })
    .await;
    cluster.cleanup().await;
}

/// The table updates its rows in place: a delete confirmation opened before the list changes
/// (another system arrives, this one's phase moves on) is the same element afterwards, and the
/// button found before the refreshes still deletes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_open_delete_confirmation_survives_refreshes() {
    let cluster = TestCluster::start("browser-confirm").await;
    if let Some(fake) = &cluster.fake {
        // Long enough to open the confirmation while the system is still starting.
        fake.set_ready_delay(Duration::from_secs(4));
    }
    let server = TestServer::start(&cluster, settings(&cluster.namespace)).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.wait_js(
            "return document.getElementById('feed').textContent === 'live'",
            WAIT,
        )
        .await;
        let first = start_through_the_api(b, "first").await;
        let row = format!("tr[data-guid='{first}']");
        b.wait_text(&row, WAIT).await;
        b.click(&format!("{row} button.delete")).await;
        b.wait_text(&format!("{row} .confirm"), WAIT).await;
        let yes = b
            .client
            .find(fantoccini::Locator::Css(&format!("{row} .confirm-yes")))
            .await
            .expect("the confirming button");
        // Remember the elements, and count the list's updates with a stream of our own.
        b.js(&format!(
            "window.__row = document.querySelector(\"{row}\");
             window.__yes = window.__row.querySelector('.confirm-yes');
             window.__phases = [window.__row.dataset.phase];
             window.__updates = 0;
             const stream = new EventSource('/api/v1/events');
             for (const kind of ['changed', 'removed']) {{
                 stream.addEventListener(kind, () => window.__updates++);
             }}
             new MutationObserver(() => {{
                 const p = window.__row.dataset.phase;
                 if (window.__phases[window.__phases.length - 1] !== p) window.__phases.push(p);
             }}).observe(window.__row, {{attributes: true}});
             return true"
        ))
        .await;
        let second = start_through_the_api(b, "second").await;
        // Refreshes: the second system arrives and starts, the first one becomes ready.
        b.wait_js(
            &format!(
                "const r = document.querySelector(\"{row}\");
                 const s = document.querySelector(\"tr[data-guid='{second}']\");
                 return window.__updates >= 2 && s !== null && r.dataset.phase === 'running'"
            ),
            POD_WAIT,
        )
        .await;
        let kept = b
            .js(&format!(
                "return {{ row: window.__row === document.querySelector(\"{row}\"),
                          button: window.__yes.isConnected,
                          open: window.__row.querySelectorAll('.confirm').length,
                          others: document.querySelectorAll('.confirm').length,
                          updates: window.__updates, phases: window.__phases }}"
            ))
            .await;
        println!("after the refreshes: {kept}");
        assert_eq!(kept["row"], true, "the row was replaced: {kept}");
        assert_eq!(kept["button"], true, "the confirmation was rebuilt: {kept}");
        assert_eq!(kept["open"], 1, "{kept}");
        assert_eq!(kept["others"], 1, "{kept}");
        b.scroll_to(".systems").await;
        b.screenshot("09-confirm-survives-refresh").await;

        // The button found before the refreshes is the one on screen, and it deletes.
        yes.click()
            .await
            .expect("click the confirming button found earlier");
        b.wait_js(
            &format!(
                "const r = document.querySelector(\"{row}\");
                 return r === null || r.dataset.phase === 'terminating'"
            ),
            WAIT,
        )
        .await;
        b.wait_js(
            &format!("return document.querySelector(\"{row}\") === null"),
            POD_WAIT,
        )
        .await;
        let left = b
            .js("return [...document.querySelectorAll('tr[data-guid]')].map(r => r.dataset.guid)")
            .await;
        assert_eq!(left, serde_json::json!([second]), "only the second is left");
        b.js(&format!(
            "fetch('/api/v1/systems/{second}', {{method: 'DELETE'}}); return true"
        ))
        .await;
        b.wait_text("#no-systems", POD_WAIT).await;
    })
    .await;
    cluster.cleanup().await;
}

/// Starts GOOD as `name` through the API (the page's own fetch) and returns its GUID.
async fn start_through_the_api(b: &Browser, name: &str) -> String {
    let request = serde_json::json!({ "compose": GOOD, "name": name });
    let script = format!(
        "const done = arguments[0];
         fetch('/api/v1/systems', {{method: 'POST', body: JSON.stringify({request}),
             headers: {{'Content-Type': 'application/json'}}}})
           .then(r => r.json()).then(j => done(j.guid || JSON.stringify(j)), e => done(String(e)));"
    );
    let answer = b
        .client
        .execute_async(&script, vec![])
        .await
        .expect("start through the API");
    let guid = answer.as_str().unwrap_or_default().to_string();
    assert!(
        guid.len() == 32 && guid.bytes().all(|c| c.is_ascii_hexdigit()),
        "start answered: {answer}"
    );
    guid
}

/// An admin sees everyone's systems with their owners, and narrows the list by state and by
/// owner; a filter that matches nothing says so and offers the whole list back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_filters_everyones_systems_by_state_and_owner() {
    let cluster = TestCluster::start("browser-filters").await;
    make_bad_image_fail(&cluster);
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let alices = server.start_system(ALICE, GOOD, "alices-web").await;
    let bobs = server
        .start_system(BOB, &compose(BAD_IMAGE), "bobs-broken")
        .await;
    server
        .wait_until(BOB, &bobs, POD_WAIT, |s| {
            s.phase == tycho_api::Phase::Failed
        })
        .await;
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.type_into("#token", ADMIN).await;
        b.click("form.sign-in button[type=submit]").await;
        b.wait_js(
            "return document.querySelectorAll('tr[data-guid]').length === 2
                 && document.getElementById('systems-h').textContent === 'All systems'",
            WAIT,
        )
        .await;
        let owners = b
            .js("return [...document.querySelectorAll('tr[data-guid] td.owner')].map(c => c.textContent).sort()")
            .await;
        assert_eq!(owners, serde_json::json!(["alice", "bob"]));

        b.click("button.filter[data-filter=failed]").await;
        b.wait_js(
            &format!(
                "const rows = [...document.querySelectorAll('tr[data-guid]')];
                 return rows.length === 1 && rows[0].dataset.guid === '{bobs}'"
            ),
            WAIT,
        )
        .await;
        let pressed = b
            .js("return document.querySelector('button.filter[data-filter=failed]').getAttribute('aria-pressed')")
            .await;
        assert_eq!(pressed, serde_json::json!("true"));
        b.scroll_to(".systems").await;
        b.screenshot("14-admin-failed-filter").await;

        // Failed and alice's: nothing; the page says so and gives the list back.
        b.js("const s = document.getElementById('owner-filter');
              s.value = 'alice'; s.dispatchEvent(new Event('change')); return true")
            .await;
        b.wait_text("#none-shown", WAIT).await;
        b.click("#none-shown button").await;
        b.wait_js(
            "return document.querySelectorAll('tr[data-guid]').length === 2
                 && document.getElementById('none-shown') === null",
            WAIT,
        )
        .await;
    })
    .await;
    server.delete_gone(ALICE, &alices).await;
    server.delete_gone(BOB, &bobs).await;
    cluster.cleanup().await;
}

/// Edits survive switching cards and reloading the page (a draft per entry), and can be
/// reverted to the catalog's text; choosing a card brings the editor into view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_are_kept_per_card_and_across_reloads() {
    let server = TestServer::without_cluster(settings("default")).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        let text = "return document.getElementById('compose').value";
        b.open(&base).await;
        b.client.set_window_size(1280, 800).await.expect("resize");
        b.click("button.card[data-slug=nginx]").await;
        b.wait_js(
            "return document.getElementById('compose').value.includes('nginx-unprivileged')",
            WAIT,
        )
        .await;
        assert_eq!(
            b.js("return document.getElementById('draft')").await,
            serde_json::Value::Null,
            "no draft before an edit"
        );
        b.js("const t = document.getElementById('compose');
              t.value = t.value + '# my own note\\n';
              t.dispatchEvent(new Event('input', {bubbles: true})); return true")
            .await;
        b.wait_text("#draft", WAIT).await;

        // Another card, and back: the edit is there again; the other card has its own text.
        b.click("button.card[data-slug=blank]").await;
        b.wait_js(
            "return !document.getElementById('compose').value.includes('my own note')",
            WAIT,
        )
        .await;
        b.click("button.card[data-slug=nginx]").await;
        b.wait_js(
            "return document.getElementById('compose').value.endsWith('# my own note\\n')",
            WAIT,
        )
        .await;
        // The editor comes into view after choosing a card.
        b.wait_js(
            "const r = document.getElementById('editor-h').getBoundingClientRect();
             return r.top >= 0 && r.top < 60",
            WAIT,
        )
        .await;
        b.screenshot("15-draft-kept").await;

        // A reload keeps it too.
        b.open(&base).await;
        b.wait_js(
            "return document.getElementById('compose').value.endsWith('# my own note\\n')",
            WAIT,
        )
        .await;

        // Revert: the catalog's text, no draft, and so after the next reload too.
        b.click("#revert").await;
        b.wait_js(
            "return !document.getElementById('compose').value.includes('my own note')
                 && document.getElementById('draft') === null",
            WAIT,
        )
        .await;
        b.open(&base).await;
        b.wait_js(
            "return document.getElementById('compose').value.includes('nginx-unprivileged')",
            WAIT,
        )
        .await;
        let after = b.js(text).await;
        assert!(
            !after.as_str().unwrap_or("").contains("my own note"),
            "{after}"
        );
    })
    .await;
}

/// A `${VAR:?message}` with no value is marked required in the variables table with its
/// message, and Launch says to set it; once set, the mark and the reason go. A YAML syntax error
/// is said in words at its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn required_variables_are_marked_and_syntax_errors_are_worded() {
    let server = TestServer::without_cluster(settings("default")).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.client.set_window_size(1280, 800).await.expect("resize");
        b.type_into(
            "#compose",
            "services:\n  web:\n    image: ${IMAGE:?name the image to run}\n    environment:\n      TOKEN: ${TOKEN?}\n",
        )
        .await;
        let mark = b
            .wait_text("tr[data-var-row=IMAGE].required.missing .required-mark", WAIT)
            .await;
        assert_eq!(mark.to_lowercase(), "required");
        let note = b.wait_text("tr[data-var-row=IMAGE] .required-note", WAIT).await;
        assert_eq!(note, "The file needs this variable: name the image to run");
        let token_note = b.wait_text("tr[data-var-row=TOKEN] .required-note", WAIT).await;
        assert_eq!(token_note, "The file needs this variable to launch.");
        let placeholder = b
            .js("return document.querySelector('input[data-var=IMAGE]').placeholder")
            .await;
        assert_eq!(placeholder, serde_json::json!("required: set a value"));
        let why = b.wait_text("#launch-why", WAIT).await;
        assert_eq!(
            why,
            "Set the required variables IMAGE, TOKEN under Variables to launch (the file cannot start without them)."
        );
        assert_eq!(
            b.js("return document.getElementById('launch').disabled").await,
            serde_json::json!(true)
        );
        b.scroll_to("table.env").await;
        b.screenshot("23-required-variables").await;

        b.type_into("input[data-var=IMAGE]", "nginx:1.27").await;
        b.type_into("input[data-var=TOKEN]", "t0ken").await;
        b.wait_js(
            "return document.querySelector('tr[data-var-row=IMAGE].missing') === null
                 && !document.getElementById('launch-why').textContent.includes('required')",
            WAIT,
        )
        .await;

        // A tab in the indentation (set as a paste would: a typed Tab moves the focus): a
        // sentence at line 3 with what to do.
        b.js("const t = document.getElementById('compose');
              t.value = 'services:\\n  web:\\n\\timage: nginx\\n';
              t.dispatchEvent(new Event('input', {bubbles: true})); return true")
            .await;
        let diag = b.wait_text("li.diag.error[data-line='3']", WAIT).await;
        assert!(
            diag.contains("line 3 is indented with a tab; YAML indents with spaces only. Replace the tab with spaces"),
            "{diag}"
        );
        b.screenshot("24-syntax-in-words").await;
    })
    .await;
}
