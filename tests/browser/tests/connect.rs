//! Open: from the dashboard, through Tycho's connect proxy, into the system's own page, with
//! nothing but the session cookie that sign-in set (the app's page cannot send the token). The
//! system runs on the fake Kubernetes API (or a real cluster with `TYCHO_TEST_KUBECONFIG`); its
//! traffic goes to a local app through `LocalUpstream`, so the test sees what the browser sees.

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Request};
use axum::response::{Html, IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_server::connect::upstream::LocalUpstream;
use tycho_test_server::{ALICE, TestCluster, TestServer, make_bad_image_fail, tokens};

const WAIT: Duration = Duration::from_secs(20);
const POD_WAIT: Duration = Duration::from_secs(180);
/// What the page sends over its WebSocket; the app echoes it back.
const HELLO: &str = "hello through Tycho";

/// The app's page: it opens a WebSocket to `ws` relative to itself (so under the connect
/// prefix), sends [`HELLO`] and writes the echo into `#echo`. `{{USER}}` and `{{COOKIE}}` are
/// what the app received (the proxy's `X-Forwarded-User`, and whether Tycho's cookie leaked).
const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Echo app</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f3f0ff; color: #1d2129; }
  main { max-width: 36rem; margin: 4rem auto; background: #fff; border-radius: 12px;
         padding: 1.5rem 2rem; box-shadow: 0 2px 12px rgba(0,0,0,.08); }
  h1 { font-size: 1.4rem; margin: 0 0 .8rem; }
  dt { color: #5c6370; font-size: .85rem; } dd { margin: 0 0 .6rem; }
  code { background: #f1f3f5; padding: 0 .3rem; border-radius: 4px; overflow-wrap: anywhere; }
  #echo { font-weight: 600; color: #2b8a3e; }
</style></head>
<body><main>
  <h1>An app behind Tycho's proxy</h1>
  <dl>
    <dt>This page's path</dt><dd><code id="path"></code></dd>
    <dt>Signed-in user, as the app sees it</dt><dd id="user">{{USER}}</dd>
    <dt>Tycho's session cookie, as the app sees it</dt><dd id="cookie">{{COOKIE}}</dd>
    <dt>WebSocket echo</dt><dd id="echo">connecting…</dd>
  </dl>
</main>
<script>
  document.getElementById('path').textContent = location.pathname;
  const url = new URL('ws', location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  const echo = document.getElementById('echo');
  const socket = new WebSocket(url.href);
  socket.onopen = () => socket.send('HELLO');
  socket.onmessage = (e) => { echo.textContent = 'echo: ' + e.data; echo.dataset.done = 'true'; };
  socket.onerror = () => { echo.textContent = 'WebSocket error'; };
</script>
</body></html>
"#;

/// `…/ws` upgrades and echoes every message; any other path is [`PAGE`].
async fn app(request: Request) -> Response {
    if request.uri().path().ends_with("/ws") {
        let (mut parts, _) = request.into_parts();
        let Ok(upgrade) = WebSocketUpgrade::from_request_parts(&mut parts, &()).await else {
            return (axum::http::StatusCode::BAD_REQUEST, "not a WebSocket").into_response();
        };
        return upgrade.on_upgrade(|mut socket| async move {
            while let Some(Ok(m)) = socket.recv().await {
                let closing = matches!(m, Message::Close(_));
                if socket.send(m).await.is_err() || closing {
                    break;
                }
            }
        });
    }
    let headers = request.headers();
    let user = headers
        .get("x-forwarded-user")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)");
    let leaked = headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .any(|v| v.to_str().unwrap_or_default().contains("tycho_session"));
    let cookie = if leaked { "received" } else { "not received" };
    let page = PAGE
        .replace("{{USER}}", user)
        .replace("{{COOKIE}}", cookie)
        .replace("'HELLO'", &format!("'{HELLO}'"));
    Html(page).into_response()
}

async fn start_app() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind the app");
    let addr = listener.local_addr().expect("its address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, axum::Router::new().fallback(app)).await;
    });
    addr
}

/// Sign in with a token → launch → Open is disabled while starting → route the system to the
/// local app → Open (a new tab) → the app's page under `/connect/<guid>/`, its WebSocket echoed
/// through the proxy. A system that cannot pull its image: Open stays disabled and says why.
/// Sign out: the cookie is gone, and the proxy no longer lets this browser in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_a_running_system_through_the_proxy() {
    let cluster = TestCluster::start("browser-connect").await;
    if let Some(fake) = &cluster.fake {
        fake.set_ready_delay(Duration::from_secs(4));
    }
    make_bad_image_fail(&cluster);
    let upstream = LocalUpstream::default();
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    settings.connect.upstream = Some(Arc::new(upstream.clone()));
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let app_addr = start_app().await;
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.type_into("#token", ALICE).await;
        b.click("form.sign-in button[type=submit]").await;
        let user = b.wait_text(".account .user", WAIT).await;
        assert!(user.contains("alice"), "{user}");
        // HttpOnly: the session is the server's cookie, invisible to scripts.
        assert_eq!(
            b.js("return document.cookie.includes('tycho_session')").await,
            serde_json::json!(false)
        );

        // Launch nginx from the catalog (port 8080: the system's primary port).
        b.click("button.card[data-slug=nginx]").await;
        b.wait_text("#tab-0", WAIT).await;
        b.type_into("#system-name", "open-me").await;
        b.click("#launch").await;
        b.wait_text("#launched", WAIT).await;
        // While it starts, Open is there but disabled, and says why.
        b.wait_js(
            "const o = document.querySelector('tr[data-guid] .open');
             return o !== null && o.tagName === 'BUTTON' && o.getAttribute('aria-disabled') === 'true'
                 && o.title === 'Starting: opens when ready'",
            WAIT,
        )
        .await;
        b.wait_js(
            "const r = document.querySelector('tr[data-guid]');
             return r.dataset.phase === 'running' && r.querySelector('a.open') !== null",
            POD_WAIT,
        )
        .await;
        let guid = b
            .js("return document.querySelector('tr[data-guid]').dataset.guid")
            .await
            .as_str()
            .expect("the row's GUID")
            .to_string();
        let href = b
            .js("return document.querySelector('tr[data-guid] a.open').href")
            .await;
        assert_eq!(href, serde_json::json!(format!("{base}/connect/{guid}/")));
        // Every link out goes through the proxy: none to the in-cluster address, which no
        // browser outside the cluster can open.
        let outside = b
            .js("return [...document.querySelectorAll('a[href]')]
                    .map(a => a.href).filter(h => !h.startsWith(location.origin + '/'))")
            .await;
        assert_eq!(outside, serde_json::json!([]), "links out of the server");

        // Route the system's objects to the local app, as the Service would in a cluster.
        let object_name = b
            .js(&format!(
                "return fetch('/api/v1/systems/{guid}', {{headers: {{Authorization: 'Bearer {ALICE}'}}}})
                    .then(r => r.json()).then(s => s.object_name)"
            ))
            .await;
        upstream.route(object_name.as_str().expect("an object name"), app_addr);
        b.scroll_to(".systems").await;
        b.screenshot("40-open-in-the-list").await;

        // Its page: Open beside Delete, where it opens, the port Open serves marked.
        b.click("tr[data-guid] a.name").await;
        b.wait_text(".system-page a.open", WAIT).await;
        let opens_at = b.wait_text("#connect-url", WAIT).await;
        assert_eq!(opens_at, format!("{base}/connect/{guid}/"));
        let ports = b.wait_text("#ports", WAIT).await;
        assert!(ports.contains("in-cluster"), "ports: {ports}");
        b.wait_text("#ports li.primary .tag", WAIT).await;
        b.screenshot("41-system-page-open").await;
        // docs/connect-open.png is a copy of this one.
        b.client.set_window_size(1200, 560).await.expect("resize");
        b.screenshot("readme-connect").await;
        b.client.set_window_size(1400, 1000).await.expect("resize");

        // Open: a new tab on the app, through the proxy, with the cookie only.
        let dashboard = b.client.window().await.expect("this tab");
        b.click(".system-page a.open").await;
        let deadline = std::time::Instant::now() + WAIT;
        let tab = loop {
            let windows = b.client.windows().await.expect("the tabs");
            if let Some(w) = windows.into_iter().find(|w| *w != dashboard) {
                break w;
            }
            assert!(std::time::Instant::now() < deadline, "Open opened no tab");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        b.client.switch_to_window(tab).await.expect("the app's tab");
        b.wait_js(
            "return document.getElementById('echo') !== null && document.getElementById('echo').dataset.done === 'true'",
            WAIT,
        )
        .await;
        let path = b.js("return location.pathname").await;
        assert_eq!(path, serde_json::json!(format!("/connect/{guid}/")));
        assert_eq!(b.wait_text("#echo", WAIT).await, format!("echo: {HELLO}"));
        assert_eq!(b.wait_text("#user", WAIT).await, "alice");
        assert_eq!(b.wait_text("#cookie", WAIT).await, "not received");
        b.screenshot("42-opened-app").await;
        b.client.close_window().await.expect("close the app's tab");
        b.client
            .switch_to_window(dashboard)
            .await
            .expect("back to the dashboard");

        // A system that cannot pull its image: its row offers why instead of Open; its page keeps
        // Open disabled and says why beside it.
        b.js(&format!(
            "fetch('/api/v1/systems', {{method: 'POST',
                body: JSON.stringify({{compose: 'services:\\n  app:\\n    image: registry.invalid/does-not-exist:1\\n    ports:\\n      - \"8080:8080\"\\n', name: 'broken'}}),
                headers: {{'Content-Type': 'application/json', Authorization: 'Bearer {ALICE}'}}}});
             return true"
        ))
        .await;
        b.click("a.back").await;
        b.wait_js(
            "const r = [...document.querySelectorAll('tr[data-guid]')].find(r => r.textContent.includes('broken'));
             if (!r || r.dataset.phase !== 'failed') return false;
             const why = r.querySelector('a.why');
             return r.querySelector('.open') === null && why !== null
                 && why.getAttribute('href') === '#/systems/' + r.dataset.guid",
            POD_WAIT,
        )
        .await;
        b.scroll_to(".systems").await;
        b.screenshot("43-no-open-when-failed").await;
        b.js("[...document.querySelectorAll('tr[data-guid]')].find(r => r.textContent.includes('broken')).querySelector('a.name').click(); return true")
            .await;
        let why = b.wait_text(".system-page .open-why", WAIT).await;
        assert_eq!(why, "Failed: see the reason");
        // Clicking the disabled control goes nowhere.
        b.click(".system-page button.open").await;
        assert_eq!(b.client.windows().await.expect("the tabs").len(), 1);
        b.screenshot("44-failed-system-page").await;

        // Sign out: the session cookie goes, and the proxy lets this browser in no more.
        b.click("a.back").await;
        b.click(".account button.link").await;
        b.wait_text("form.sign-in", WAIT).await;
        b.client
            .goto(&format!("{base}/connect/{guid}/"))
            .await
            .expect("open the connect URL");
        let text = b.js("return document.body.innerText").await;
        assert!(
            !text.as_str().unwrap_or_default().contains("An app behind"),
            "still let in after sign-out: {text}"
        );
    })
    .await;
    cluster.cleanup().await;
}
