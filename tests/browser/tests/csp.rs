//! The dashboard under its Content-Security-Policy: the server's own headers, and a policy
//! stricter by inline style attributes. A violation anywhere (the first byte of the page on) is
//! a failure: the browser console is read through chromedriver, and a listener records any
//! later ones.

use std::time::Duration;
use tycho_browser_tests::{Browser, dist, settings, static_files, with_browser};
use tycho_test_server::{TestCluster, TestServer};

const WAIT: Duration = Duration::from_secs(20);

/// The console messages that report a CSP violation ("Refused to … because it violates the
/// following Content Security Policy directive").
async fn csp_violations_in_the_console(b: &Browser) -> Vec<String> {
    b.browser_log()
        .await
        .into_iter()
        .filter_map(|entry| entry["message"].as_str().map(String::from))
        .filter(|message| message.contains("Content Security Policy"))
        .collect()
}

/// From now on, `window.__violations` lists every `securitypolicyviolation`.
async fn record_violations(b: &Browser) {
    b.js("window.__violations = [];
          document.addEventListener('securitypolicyviolation',
              e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
          return true")
        .await;
}

/// What the page does that a policy could block: the stylesheet, the logo, the editor's scroll
/// offset (a style), the compiler in wasm (the preview), and a fetch.
async fn exercise_the_page(b: &Browser) {
    b.wait_js(
        "const img = document.querySelector('header img');
         return img.complete && img.naturalWidth > 0",
        WAIT,
    )
    .await;
    let styled = b
        .js("return getComputedStyle(document.querySelector('header.top')).display")
        .await;
    assert_eq!(styled, "flex", "the stylesheet did not apply");
    let long: String = (0..80).map(|i| format!("# line {i}\n")).collect();
    b.type_into(
        "#compose",
        &format!("{long}services:\n  web:\n    image: nginxinc/nginx-unprivileged:stable-alpine\n"),
    )
    .await;
    b.js("const a = document.getElementById('compose');
          a.scrollTop = 400; a.dispatchEvent(new Event('scroll')); return true")
        .await;
    b.wait_js(
        "const g = document.querySelector('.gutter > div');
         return g.style.transform !== '' && g.style.transform !== 'translateY(0px)'",
        WAIT,
    )
    .await;
    let gutter = b
        .js("return getComputedStyle(document.querySelector('.gutter > div')).transform")
        .await;
    assert_ne!(gutter, "none", "the editor's scroll offset was refused");
    b.wait_js(
        "return document.getElementById('yaml').textContent.includes('kind: Deployment')",
        WAIT,
    )
    .await;
    let fetched = b
        .client
        .execute_async(
            "const done = arguments[0];
             fetch('/index.html').then(r => done(r.status), e => done(String(e)));",
            vec![],
        )
        .await
        .expect("a fetch");
    assert_eq!(fetched, 200, "fetch refused: {fetched}");
}

async fn assert_no_violations(b: &Browser) {
    let console = csp_violations_in_the_console(b).await;
    assert!(console.is_empty(), "CSP violations: {console:#?}");
    let recorded = b.js("return window.__violations").await;
    assert_eq!(recorded, serde_json::json!([]), "CSP violations");
}

/// The policy `/` is served with (asked by the page itself, so it is the header the browser saw).
async fn served_policy(b: &Browser) -> serde_json::Value {
    b.client
        .execute_async(
            "const done = arguments[0];
             fetch('/').then(r => done({
                 csp: r.headers.get('content-security-policy'),
                 nosniff: r.headers.get('x-content-type-options') }), e => done(String(e)));",
            vec![],
        )
        .await
        .expect("fetch /")
}

/// The real server's headers: the dashboard loads, goes live and works without a violation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_works_under_the_servers_security_headers() {
    let cluster = TestCluster::start("browser-csp").await;
    let server = TestServer::start(&cluster, settings(&cluster.namespace)).await;
    let base = server.base.clone();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        record_violations(b).await;
        let headers = served_policy(b).await;
        println!("served: {headers}");
        let csp = headers["csp"].as_str().unwrap_or_default();
        assert!(csp.contains("script-src 'self'"), "no CSP on /: {headers}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(!csp.contains("'unsafe-eval'"), "{csp}");
        let script_src = csp.split(';').find(|d| d.trim().starts_with("script-src")).unwrap_or_default();
        assert!(!script_src.contains("'unsafe-inline'"), "{csp}");
        assert_eq!(headers["nosniff"], "nosniff", "{headers}");
        // EventSource and fetches to the server.
        b.wait_js(
            "return document.getElementById('feed').textContent === 'live'",
            WAIT,
        )
        .await;
        b.wait_js(
            "return document.getElementById('policy-source').textContent.includes(\"server's policy\")",
            WAIT,
        )
        .await;
        exercise_the_page(b).await;
        assert_no_violations(b).await;
        b.screenshot("45-under-csp").await;
    })
    .await;
    cluster.cleanup().await;
}

/// The dashboard sets no inline style attributes, so a policy without `style-src-attr
/// 'unsafe-inline'` (the server's, minus that) blocks nothing. The page is served as files only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_needs_no_inline_style_attributes() {
    let server = TestServer::without_cluster(settings("default")).await;
    let base = server.base.clone();
    let policy = with_a_browser_ask_the_policy(&base).await;
    let strict: String = policy
        .split(';')
        .map(str::trim)
        .filter(|d| !d.is_empty() && !d.starts_with("style-src-attr"))
        .collect::<Vec<_>>()
        .join("; ");
    assert!(!strict.contains("'unsafe-inline'"), "{strict}");
    println!("strict policy: {strict}");
    let header = axum::http::HeaderValue::from_str(&strict).expect("a header value");
    let (addr, _files) = static_files::serve_with_headers(
        dist(),
        vec![(axum::http::header::CONTENT_SECURITY_POLICY, header)],
    )
    .await;
    with_browser(async |b: &Browser| {
        b.open(&format!("http://{addr}/")).await;
        record_violations(b).await;
        exercise_the_page(b).await;
        assert_no_violations(b).await;
    })
    .await;
}

async fn with_a_browser_ask_the_policy(base: &str) -> String {
    let mut policy = String::new();
    with_browser(async |b: &Browser| {
        b.open(base).await;
        policy = served_policy(b).await["csp"]
            .as_str()
            .unwrap_or_default()
            .to_string();
    })
    .await;
    assert!(
        policy.contains("script-src"),
        "the server sends no CSP: {policy:?}"
    );
    policy
}
