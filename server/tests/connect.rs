//! The connect proxy against local apps started by each test: the server runs on the fake API
//! server (or a real cluster with TYCHO_TEST_KUBECONFIG) and its upstream sends each system's
//! traffic to a local axum app, so every byte the app sees and sends can be checked.

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::extract::ws::{Message as WsMessage, WebSocketUpgrade};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite;
use tycho_fake_kube::TestCluster;
use tycho_server::connect::upstream::LocalUpstream;
use tycho_test_server::{ADMIN, ALICE, BOB, IMAGE, TestServer, compose, ready_timeout, settings};

const MB: usize = 1024 * 1024;

/// What the local app shares with its test: a signal to go on with a stream.
#[derive(Default)]
struct AppControl {
    go_on: Notify,
}

/// The app behind the proxy. By the path's last segment: `sse` streams two events (the second
/// after the test says so), `download` streams `n` MiB, `stall` sends one chunk then waits,
/// `ws` echoes WebSocket messages, `upload` counts the body's bytes; anything else echoes the
/// request (method, path, headers) as JSON.
async fn app(control: Arc<AppControl>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    let last = path.rsplit('/').next().unwrap_or_default().to_string();
    match last.as_str() {
        "sse" => {
            let stream = async_stream(control);
            Response::builder()
                .header("content-type", "text/event-stream")
                .body(Body::from_stream(stream))
                .unwrap()
        }
        "download" => {
            let n: usize = request
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("mib="))
                .and_then(|n| n.parse().ok())
                .unwrap_or(1);
            let chunk = axum::body::Bytes::from(vec![b'x'; MB]);
            let stream =
                futures::stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
            Body::from_stream(stream).into_response()
        }
        "stall" => {
            let first = futures::stream::once(async {
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"first;"))
            });
            let rest = futures::stream::once(async move {
                control.go_on.notified().await;
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b"rest"))
            });
            Body::from_stream(first.chain(rest)).into_response()
        }
        "hang" => {
            // Never answers: the proxy's header timeout has to.
            std::future::pending::<()>().await;
            unreachable!()
        }
        "upload" => {
            let mut body = request.into_body().into_data_stream();
            let mut total = 0usize;
            let mut first_seen = false;
            while let Some(chunk) = body.next().await {
                total += chunk.map(|c| c.len()).unwrap_or(0);
                if !first_seen {
                    first_seen = true;
                    control.go_on.notify_one();
                }
            }
            axum::Json(json!({"bytes": total})).into_response()
        }
        "ws" => {
            let (mut parts, _) = request.into_parts();
            let protocol = parts
                .headers
                .get("sec-websocket-protocol")
                .and_then(|p| p.to_str().ok())
                .map(|p| p.split(',').next().unwrap_or("").trim().to_string());
            let mut upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
                .await
                .expect("a websocket upgrade");
            if let Some(p) = protocol {
                upgrade = upgrade.protocols([p]);
            }
            upgrade.on_upgrade(|mut socket| async move {
                while let Some(Ok(m)) = socket.recv().await {
                    let closing = matches!(m, WsMessage::Close(_));
                    if socket.send(m).await.is_err() || closing {
                        break;
                    }
                }
            })
        }
        _ => {
            let headers: serde_json::Map<String, Value> = request
                .headers()
                .iter()
                .map(|(k, v)| {
                    (
                        k.to_string(),
                        Value::String(v.to_str().unwrap_or("").into()),
                    )
                })
                .collect();
            let method = request.method().to_string();
            let path_and_query = request.uri().path_and_query().map(|p| p.to_string());
            let body = axum::body::to_bytes(request.into_body(), 10 * MB)
                .await
                .unwrap_or_default();
            axum::Json(json!({
                "method": method,
                "path": path_and_query,
                "headers": headers,
                "body": String::from_utf8_lossy(&body),
            }))
            .into_response()
        }
    }
}

fn async_stream(
    control: Arc<AppControl>,
) -> impl futures::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    let first =
        futures::stream::once(async { Ok(axum::body::Bytes::from_static(b"data: one\n\n")) });
    let second = futures::stream::once(async move {
        control.go_on.notified().await;
        Ok(axum::body::Bytes::from_static(b"data: two\n\n"))
    });
    first.chain(second)
}

async fn start_app() -> (SocketAddr, Arc<AppControl>) {
    let control = Arc::new(AppControl::default());
    let c = control.clone();
    let router = axum::Router::new().fallback(move |r: Request| app(c.clone(), r));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (addr, control)
}

struct Setup {
    server: TestServer,
    upstream: LocalUpstream,
    cluster: TestCluster,
}

async fn setup(name: &str) -> Setup {
    setup_with(name, tycho_server::connect::Limits::default()).await
}

async fn setup_with(name: &str, limits: tycho_server::connect::Limits) -> Setup {
    let cluster = TestCluster::start(name).await;
    let upstream = LocalUpstream::default();
    let mut s = proxy_settings(&cluster, Arc::new(upstream.clone()));
    s.connect.limits = limits;
    let server = TestServer::start(&cluster, s).await;
    Setup {
        server,
        upstream,
        cluster,
    }
}

/// The test settings with the proxy sending systems to `upstream`.
fn proxy_settings(
    cluster: &TestCluster,
    upstream: Arc<dyn tycho_server::connect::upstream::Upstream>,
) -> tycho_server::Settings {
    let mut s = settings(cluster);
    s.connect.upstream = Some(upstream);
    s
}

/// A WebSocket handshake to `path` of the server, as `token`'s user.
fn ws_request(
    server: &TestServer,
    path: &str,
    token: &str,
) -> tungstenite::handshake::client::Request {
    let url = format!("{}{path}", server.base.replace("http://", "ws://"));
    let mut request =
        tungstenite::client::IntoClientRequest::into_client_request(url.as_str()).unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// Starts `yaml` as alice, waits until it runs, and routes it to a new local app.
async fn running(setup: &Setup, yaml: &str, name: &str) -> (String, Arc<AppControl>) {
    let guid = setup.server.start_system(ALICE, yaml, name).await;
    let status = setup
        .server
        .wait_for(ALICE, &guid, ready_timeout(&setup.cluster), |s| {
            s["phase"] == "Running"
        })
        .await;
    let (addr, control) = start_app().await;
    setup
        .upstream
        .route(status["object_name"].as_str().unwrap(), addr);
    (guid, control)
}

async fn get(
    server: &TestServer,
    path: &str,
    token: Option<&str>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = server.http.get(format!("{}{path}", server.base));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn the_owner_reaches_the_app_with_the_prefix_and_forwarded_headers() {
    let setup = setup("connect-owner").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;

    let (_, status) = server.status(ALICE, &guid).await;
    let url = status["connect_url"].as_str().expect("connect_url");
    assert_eq!(url, format!("{}/connect/{guid}/", server.base));
    assert_eq!(status["connect"]["path"], format!("/connect/{guid}/"));

    let r = get(
        server,
        &format!("/connect/{guid}/lab/tree?x=1"),
        Some(ALICE),
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-user", "root"),
            ("remote_user", "root"),
            ("cookie", "_xsrf=abc; tycho_session=stolen"),
        ],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["path"], format!("/connect/{guid}/lab/tree?x=1"));
    let h = &seen["headers"];
    assert_eq!(h["x-forwarded-user"], "alice");
    assert_eq!(h["remote_user"], "alice");
    assert_eq!(h["x-forwarded-for"], "127.0.0.1");
    assert_eq!(h["x-forwarded-prefix"], format!("/connect/{guid}"));
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["host"], server.base.trim_start_matches("http://"));
    assert_eq!(
        h["cookie"], "_xsrf=abc",
        "the session cookie is never forwarded"
    );
    assert!(
        h.get("authorization").is_none(),
        "Tycho's token is never forwarded"
    );

    // POST bodies arrive whole.
    let r = server
        .http
        .post(format!("{}/connect/{guid}/api/contents", server.base))
        .bearer_auth(ALICE)
        .body("hello body")
        .send()
        .await
        .unwrap();
    let seen: Value = r.json().await.unwrap();
    assert_eq!(
        (seen["method"].as_str(), seen["body"].as_str()),
        (Some("POST"), Some("hello body"))
    );

    // Without the slash, a redirect adds it (the app's relative links need it).
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(format!("{}/connect/{guid}?a=b", server.base))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(r.headers()["location"], format!("/connect/{guid}/?a=b"));

    // Admins pass too.
    assert_eq!(
        get(server, &format!("/connect/{guid}/"), Some(ADMIN), &[])
            .await
            .status(),
        StatusCode::OK
    );
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn nobody_else_gets_further_than_a_404() {
    let setup = setup("connect-others").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;

    let foreign = get(server, &format!("/connect/{guid}/lab"), Some(BOB), &[]).await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    let foreign_type = foreign.headers()["content-type"].clone();
    let foreign_body: Value = foreign.json().await.unwrap();
    let never = get(server, "/connect/0123456789abcdef/lab", Some(BOB), &[]).await;
    assert_eq!(never.status(), StatusCode::NOT_FOUND);
    assert_eq!(never.headers()["content-type"], foreign_type);
    let never_body: Value = never.json().await.unwrap();
    assert_eq!(foreign_body["title"], never_body["title"]);
    assert_eq!(foreign_type, "application/problem+json");

    // No credentials at all: 401, and a header claiming to be alice changes nothing.
    let anonymous = get(
        server,
        &format!("/connect/{guid}/"),
        None,
        &[("x-forwarded-user", "alice")],
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Bob's session cookie does not open alice's system either.
    let (cookie, _) = sign_in(server, BOB).await;
    let r = get(
        server,
        &format!("/connect/{guid}/"),
        None,
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    setup.cluster.cleanup().await;
}

/// Signs in as `token`'s user; returns the `Cookie` header to send and the Set-Cookie text.
async fn sign_in(server: &TestServer, token: &str) -> (String, String) {
    let r = server
        .call(Method::POST, "/api/v1/session", Some(token), None)
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    let pair = set.split(';').next().unwrap().to_string();
    (pair, set)
}

#[tokio::test]
async fn the_session_cookie_opens_the_proxy_and_streams_but_never_the_rest_api() {
    let setup = setup("connect-cookie").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;
    let (cookie, set_cookie) = sign_in(server, ALICE).await;
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(
            set_cookie.contains(attribute),
            "{set_cookie} lacks {attribute}"
        );
    }
    assert!(!set_cookie.contains("Secure"), "plain HTTP here");

    let r = get(
        server,
        &format!("/connect/{guid}/"),
        None,
        &[("cookie", &cookie)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::OK);
    let seen: Value = r.json().await.unwrap();
    assert!(seen["headers"].get("cookie").is_none());
    assert_eq!(seen["headers"]["x-forwarded-user"], "alice");

    // The REST API ignores the cookie (no CSRF through it).
    let r = server
        .http
        .delete(format!("{}/api/v1/systems/{guid}", server.base))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = get(server, "/api/v1/systems", None, &[("cookie", &cookie)]).await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The event stream takes it.
    let r = get(server, "/api/v1/events", None, &[("cookie", &cookie)]).await;
    assert_eq!(r.status(), StatusCode::OK);
    drop(r);
    // A forged or signed-out cookie does not.
    let forged = cookie.replace(".u.", ".a.");
    let r = get(
        server,
        &format!("/connect/{guid}/"),
        None,
        &[("cookie", &forged)],
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let out = server
        .call(Method::DELETE, "/api/v1/session", None, None)
        .await;
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    assert!(
        out.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn dot_segments_cannot_leave_the_system() {
    let setup = setup("connect-dots").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let addr = setup.server.base.trim_start_matches("http://").to_string();
    for raw in [
        format!("/connect/{guid}/../../api/v1/systems"),
        format!("/connect/{guid}/%2e%2e/%2E%2e/api/v1/systems"),
        format!("/connect/{guid}/a/./../../../api/v1/systems"),
    ] {
        // Written by hand: HTTP clients resolve dot segments before sending.
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        let request = format!(
            "GET {raw} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {ALICE}\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{raw}: {answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let seen: Value = serde_json::from_str(body.trim()).unwrap_or_else(|_| {
            // chunked: the JSON sits between the size lines
            serde_json::from_str(body.lines().nth(1).unwrap_or_default()).expect("json body")
        });
        assert_eq!(
            seen["path"],
            format!("/connect/{guid}/api/v1/systems"),
            "{raw}"
        );
    }
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn the_prefix_is_stripped_when_the_file_says_so_and_other_ports_have_their_own() {
    let setup = setup("connect-rewrite").await;
    let yaml = format!(
        "x-tycho:\n  connect:\n    rewrite: strip\nservices:\n  web:\n    image: {IMAGE}\n    ports:\n      - \"8080:8080\"\n      - \"9090:9090\"\n"
    );
    let (guid, _) = running(&setup, &yaml, "web").await;
    let server = &setup.server;
    let seen: Value = get(
        server,
        &format!("/connect/{guid}/lab?q=1"),
        Some(ALICE),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(seen["path"], "/lab?q=1");
    assert_eq!(
        seen["headers"]["x-original-path"],
        format!("/connect/{guid}/lab?q=1")
    );
    assert_eq!(
        seen["headers"]["x-forwarded-prefix"],
        format!("/connect/{guid}")
    );

    let seen: Value = get(
        server,
        &format!("/connect/{guid}.9090/admin"),
        Some(ALICE),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(seen["path"], "/admin");
    assert_eq!(
        seen["headers"]["x-forwarded-prefix"],
        format!("/connect/{guid}.9090")
    );
    let r = get(server, &format!("/connect/{guid}.7070/"), Some(ALICE), &[]).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND, "not a published port");
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn responses_and_uploads_stream_without_buffering() {
    let setup = setup("connect-stream").await;
    let (guid, control) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;

    // SSE: the first event arrives while the app still holds the second back.
    let r = get(server, &format!("/connect/{guid}/sse"), Some(ALICE), &[]).await;
    assert_eq!(r.headers()["content-type"], "text/event-stream");
    let mut body = r.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("first event in time");
    assert_eq!(&first.unwrap().unwrap()[..], b"data: one\n\n");
    control.go_on.notify_one();
    let second = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("second event");
    assert_eq!(&second.unwrap().unwrap()[..], b"data: two\n\n");

    // A chunked response: the first chunk is there before the app sends the rest.
    let r = get(server, &format!("/connect/{guid}/stall"), Some(ALICE), &[]).await;
    let mut body = r.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("first chunk");
    assert_eq!(&first.unwrap().unwrap()[..], b"first;");
    control.go_on.notify_one();

    // An upload: the app sees its first bytes before the client has sent the rest.
    let (tx, rx) = futures::channel::mpsc::unbounded::<Result<Vec<u8>, std::io::Error>>();
    tx.unbounded_send(Ok(vec![b'a'; 1000])).unwrap();
    let upload = server
        .http
        .post(format!("{}/connect/{guid}/upload", server.base))
        .bearer_auth(ALICE)
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let app_saw_first = async {
        control.go_on.notified().await;
        tx.unbounded_send(Ok(vec![b'b'; 2000])).unwrap();
        drop(tx);
    };
    let (answer, ()) = tokio::time::timeout(
        Duration::from_secs(20),
        futures::future::join(upload, app_saw_first),
    )
    .await
    .expect("the upload streamed");
    let counted: Value = answer.unwrap().json().await.unwrap();
    assert_eq!(counted["bytes"], 3000);
    setup.cluster.cleanup().await;
}

fn rss_bytes() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<usize>().ok())
        .map_or(0, |kb| kb * 1024)
}

#[tokio::test]
async fn a_hundred_megabytes_each_way_keep_memory_flat() {
    let setup = setup("connect-large").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;
    let before = rss_bytes();

    let r = get(
        server,
        &format!("/connect/{guid}/download?mib=100"),
        Some(ALICE),
        &[],
    )
    .await;
    let mut body = r.bytes_stream();
    let mut total = 0;
    while let Some(chunk) = body.next().await {
        total += chunk.unwrap().len();
    }
    assert_eq!(total, 100 * MB);

    let chunk = axum::body::Bytes::from(vec![b'u'; MB]);
    let stream =
        futures::stream::iter((0..100).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let r = server
        .http
        .post(format!("{}/connect/{guid}/upload", server.base))
        .bearer_auth(ALICE)
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    let counted: Value = r.json().await.unwrap();
    assert_eq!(counted["bytes"], 100 * MB);
    let grown = rss_bytes().saturating_sub(before);
    // Buffering either body would hold 100 MiB at once.
    assert!(grown < 48 * MB, "the process grew by {} MiB", grown / MB);
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn websockets_echo_text_binary_and_close_codes() {
    let setup = setup("connect-ws").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;
    let path = format!("/connect/{guid}/api/kernels/k1/ws");
    let mut request = ws_request(server, &path, ALICE);
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "v1.kernel.websocket.jupyter.org".parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket through the proxy");
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "v1.kernel.websocket.jupyter.org"
    );

    socket
        .send(tungstenite::Message::text("hello"))
        .await
        .unwrap();
    assert_eq!(
        socket.next().await.unwrap().unwrap(),
        tungstenite::Message::text("hello")
    );
    let bytes = vec![0u8, 1, 2, 255];
    socket
        .send(tungstenite::Message::binary(bytes.clone()))
        .await
        .unwrap();
    assert_eq!(
        socket.next().await.unwrap().unwrap(),
        tungstenite::Message::binary(bytes)
    );
    socket
        .send(tungstenite::Message::Close(Some(
            tungstenite::protocol::CloseFrame {
                code: 4001u16.into(),
                reason: "done".into(),
            },
        )))
        .await
        .unwrap();
    match socket.next().await {
        Some(Ok(tungstenite::Message::Close(Some(frame)))) => {
            assert_eq!(u16::from(frame.code), 4001)
        }
        other => panic!("expected the app's close, got {other:?}"),
    }

    // Bob cannot open it.
    match tokio_tungstenite::connect_async(ws_request(server, &path, BOB)).await {
        Err(tungstenite::Error::Http(r)) => assert_eq!(r.status(), 404),
        other => panic!("bob's websocket: {other:?}"),
    }
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn a_websocket_is_closed_cleanly_when_its_system_is_deleted() {
    let setup = setup("connect-ws-delete").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;
    let (mut socket, _) =
        tokio_tungstenite::connect_async(ws_request(server, &format!("/connect/{guid}/ws"), ALICE))
            .await
            .unwrap();
    socket
        .send(tungstenite::Message::text("still here"))
        .await
        .unwrap();
    assert!(socket.next().await.unwrap().is_ok());

    let r = server
        .call(
            Method::DELETE,
            &format!("/api/v1/systems/{guid}"),
            Some(ALICE),
            None,
        )
        .await;
    assert!(r.status().is_success());
    let closed = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match socket.next().await {
                Some(Ok(tungstenite::Message::Close(frame))) => return frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("closed after the delete");
    assert_eq!(closed.map(|f| u16::from(f.code)), Some(1001));
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn a_system_that_is_not_ready_gets_a_page_that_retries() {
    let cluster = TestCluster::start_fake("connect-not-ready").await;
    let fake = cluster.fake.as_ref().unwrap();
    fake.set_image_behavior("never-ready", tycho_fake_kube::PodBehavior::Pending);
    let s = proxy_settings(&cluster, Arc::new(LocalUpstream::default()));
    let server = TestServer::start(&cluster, s).await;
    let guid = server
        .start_system(ALICE, &compose("example.org/never-ready:1"), "slow")
        .await;

    let page = get(
        &server,
        &format!("/connect/{guid}/"),
        Some(ALICE),
        &[("accept", "text/html,*/*")],
    )
    .await;
    assert_eq!(page.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(page.headers()["retry-after"], "3");
    let html = page.text().await.unwrap();
    assert!(html.contains("slow is not ready yet"), "{html}");
    assert!(
        html.contains("http-equiv=\"refresh\""),
        "the page retries by itself"
    );

    let api = get(
        &server,
        &format!("/connect/{guid}/api/status"),
        Some(ALICE),
        &[("accept", "application/json")],
    )
    .await;
    assert_eq!(api.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(api.headers()["content-type"], "application/problem+json");
    assert!(api.headers().contains_key("retry-after"));
    cluster.cleanup().await;
}

#[tokio::test]
async fn an_app_that_refuses_is_a_502_with_the_reason() {
    let setup = setup("connect-refused").await;
    let guid = setup
        .server
        .start_system(ALICE, &compose(IMAGE), "web")
        .await;
    let status = setup
        .server
        .wait_for(ALICE, &guid, ready_timeout(&setup.cluster), |s| {
            s["phase"] == "Running"
        })
        .await;
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    setup
        .upstream
        .route(status["object_name"].as_str().unwrap(), addr);
    let r = get(
        &setup.server,
        &format!("/connect/{guid}/"),
        Some(ALICE),
        &[],
    )
    .await;
    assert_eq!(r.status(), StatusCode::BAD_GATEWAY);
    let problem: Value = r.json().await.unwrap();
    assert!(
        problem["detail"].as_str().unwrap().contains("refused"),
        "{problem}"
    );
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn requests_mark_the_system_active() {
    let setup = setup("connect-activity").await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;
    let (_, before) = server.status(ALICE, &guid).await;
    assert!(before.get("last_activity").is_none(), "{before}");
    assert_eq!(
        get(server, &format!("/connect/{guid}/"), Some(ALICE), &[])
            .await
            .status(),
        StatusCode::OK
    );
    let (_, after) = server.status(ALICE, &guid).await;
    assert!(
        after["last_activity"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z')),
        "{after}"
    );
    // It is also written to the cluster, for other replicas and culling.
    let written = server
        .wait_for(ALICE, &guid, Duration::from_secs(20), |_| true)
        .await;
    let deployments: kube::Api<k8s_openapi::api::apps::v1::Deployment> =
        kube::Api::namespaced(setup.cluster.client.clone(), &setup.cluster.namespace);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let d = deployments
            .get(written["object_name"].as_str().unwrap())
            .await
            .unwrap();
        let annotations = d.metadata.annotations.unwrap_or_default();
        if annotations.contains_key("tycho.io/last-activity") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no last-activity annotation"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    setup.cluster.cleanup().await;
}

/// Outside the cluster the proxy goes through the API server's port-forward to a ready pod. On
/// the fake, the "pod" is a local app; on a real cluster it is nginx itself.
#[tokio::test]
async fn outside_the_cluster_the_proxy_goes_through_a_port_forward() {
    let cluster = TestCluster::start("connect-port-forward").await;
    let (app_addr, _) = start_app().await;
    if let Some(fake) = &cluster.fake {
        fake.set_port_forward(8080, app_addr);
    }
    let forward = tycho_server::connect::upstream::PortForwardUpstream {
        client: cluster.client.clone(),
        namespace: cluster.namespace.clone(),
    };
    let server = TestServer::start(&cluster, proxy_settings(&cluster, Arc::new(forward))).await;
    let yaml = format!(
        "x-tycho:\n  connect:\n    rewrite: strip\nservices:\n  web:\n    image: {IMAGE}\n    ports:\n      - \"8080:8080\"\n"
    );
    let guid = server.start_system(ALICE, &yaml, "web").await;
    server
        .wait_for(ALICE, &guid, ready_timeout(&cluster), |s| {
            s["phase"] == "Running"
        })
        .await;
    for _ in 0..3 {
        // Several requests: pooled connections over the forward keep working.
        let r = get(&server, &format!("/connect/{guid}/"), Some(ALICE), &[]).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        if cluster.fake.is_some() {
            let seen: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(seen["path"], "/");
            assert_eq!(seen["headers"]["x-forwarded-user"], "alice");
        } else {
            assert!(body.contains("nginx"), "{body}");
        }
    }
    if let Some(fake) = &cluster.fake {
        let forwards = fake
            .requests()
            .iter()
            .filter(|r| r.ends_with("/portforward"))
            .count();
        assert!(forwards >= 1, "the API server's port-forward was used");
    }
    cluster.cleanup().await;
}

async fn open_socket(
    server: &TestServer,
    guid: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    tungstenite::Error,
> {
    let request = ws_request(server, &format!("/connect/{guid}/ws"), ALICE);
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(s, _)| s)
}

#[tokio::test]
async fn a_hanging_app_times_out_and_idle_sockets_close_but_pinged_ones_stay() {
    let limits = tycho_server::connect::Limits {
        header_timeout: Duration::from_millis(500),
        websocket_idle: Duration::from_millis(600),
        ..Default::default()
    };
    let setup = setup_with("connect-timeouts", limits).await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;

    let r = get(server, &format!("/connect/{guid}/hang"), Some(ALICE), &[]).await;
    assert_eq!(r.status(), StatusCode::GATEWAY_TIMEOUT);

    // A socket that pings every 200 ms outlives the idle limit; a silent one does not.
    let mut pinged = open_socket(server, &guid).await.unwrap();
    let mut silent = open_socket(server, &guid).await.unwrap();
    for _ in 0..6 {
        pinged
            .send(tungstenite::Message::Ping(vec![1].into()))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    match tokio::time::timeout(Duration::from_secs(5), silent.next()).await {
        Ok(Some(Ok(tungstenite::Message::Close(Some(frame))))) => {
            assert_eq!(u16::from(frame.code), 1001);
            assert_eq!(frame.reason.as_str(), "idle");
        }
        other => panic!("the silent socket should be closed as idle: {other:?}"),
    }
    pinged
        .send(tungstenite::Message::text("alive?"))
        .await
        .unwrap();
    loop {
        match pinged.next().await {
            Some(Ok(tungstenite::Message::Text(t))) => {
                assert_eq!(t.as_str(), "alive?");
                break;
            }
            Some(Ok(tungstenite::Message::Pong(_) | tungstenite::Message::Ping(_))) => continue,
            other => panic!("the pinged socket should still echo: {other:?}"),
        }
    }
    setup.cluster.cleanup().await;
}

#[tokio::test]
async fn connections_are_bounded_per_user_with_a_clear_answer() {
    let limits = tycho_server::connect::Limits {
        max_connections_per_user: 2,
        ..Default::default()
    };
    let setup = setup_with("connect-limits", limits).await;
    let (guid, _) = running(&setup, &compose(IMAGE), "web").await;
    let server = &setup.server;
    let first = open_socket(server, &guid).await.unwrap();
    let _second = open_socket(server, &guid).await.unwrap();
    match open_socket(server, &guid).await {
        Err(tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 429);
            let body = String::from_utf8(r.into_body().unwrap_or_default()).unwrap();
            assert!(body.contains("alice has 2 connections open"), "{body}");
        }
        other => panic!("a third socket should be refused: {other:?}"),
    }
    // Closing one frees its place.
    drop(first);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while open_socket(server, &guid).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the closed socket's place never came back"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    setup.cluster.cleanup().await;
}
