//! Hardening of the HTTP surface (issue 12): the trusted proxy's header, cross-site requests,
//! dashboard headers, bounded metrics, slow and idle clients, shutdown with open event
//! streams, and the event streams' fan-out.

use reqwest::{Method, StatusCode};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tycho_server::Settings;
use tycho_server::auth::{Auth, PROXY_SECRET_HEADER, ProxyTrust};
use tycho_server::config::{HttpLimits, StreamLimits};
use tycho_test_server::*;

const SECRET: &str = "proxy-secret-for-tests-0001";

fn header_mode(cidrs: &[&str], secret: Option<&str>) -> Auth {
    let trust = ProxyTrust {
        cidrs: cidrs.iter().map(|c| c.parse().expect("cidr")).collect(),
        secret: secret.map(str::to_string),
    };
    Auth::trusted_proxy("x-remote-user", &["root".into()], trust).expect("trusted proxy")
}

async fn whoami(s: &TestServer, headers: &[(&str, &str)]) -> (StatusCode, serde_json::Value) {
    let r = s.get_with("/api/v1/whoami", headers).await;
    let status = r.status();
    (status, r.json().await.unwrap_or_default())
}

#[tokio::test]
async fn the_user_header_counts_only_from_the_trusted_proxy() {
    // The test client is 127.0.0.1: not the proxy's block.
    let elsewhere = TestServer::without_cluster(Settings {
        auth: header_mode(&["10.0.0.0/8"], None),
        ..Settings::default()
    })
    .await;
    let (code, body) = whoami(&elsewhere, &[("x-remote-user", "root")]).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    // The connect proxy's routes and the docs are behind the same check.
    let r = elsewhere
        .get_with("/connect/abc/", &[("x-remote-user", "root")])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Without the header the request is no one's, and the health probe still answers.
    assert_eq!(
        elsewhere.get_with("/healthz", &[]).await.status(),
        StatusCode::OK
    );

    let from_proxy = TestServer::without_cluster(Settings {
        auth: header_mode(&["127.0.0.0/8"], None),
        ..Settings::default()
    })
    .await;
    let (code, body) = whoami(&from_proxy, &[("x-remote-user", "root")]).await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        (body["username"].as_str(), body["admin"].as_bool()),
        (Some("root"), Some(true))
    );
    // Repeated, the header names nobody.
    let r = from_proxy
        .http
        .get(format!("{}/api/v1/whoami", from_proxy.base))
        .header("x-remote-user", "alice")
        .header("x-remote-user", "root")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // A username with a control character does not get in either.
    let (code, _) = whoami(&from_proxy, &[("x-remote-user", "bob\tx")]).await;
    assert_eq!(code, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_user_header_counts_only_with_the_proxy_secret() {
    let s = TestServer::without_cluster(Settings {
        auth: header_mode(&[], Some(SECRET)),
        ..Settings::default()
    })
    .await;
    let (code, _) = whoami(&s, &[("x-remote-user", "root")]).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "no secret");
    let wrong = format!("{SECRET}x");
    let (code, _) = whoami(
        &s,
        &[("x-remote-user", "root"), (PROXY_SECRET_HEADER, &wrong)],
    )
    .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "a wrong secret");
    let (code, body) = whoami(
        &s,
        &[("x-remote-user", "alice"), (PROXY_SECRET_HEADER, SECRET)],
    )
    .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["username"], "alice");
}

/// A cross-site `<form enctype="text/plain" method="post">`: the browser sends the user's
/// credentials (the proxy adds its header), `Content-Type: text/plain` and the attacker's
/// Origin, and no preflight.
async fn forged_start(s: &TestServer, extra: &[(&str, &str)]) -> reqwest::Response {
    let mut req = s
        .http
        .post(format!("{}/api/v1/systems?name=forged", s.base))
        .header("content-type", "text/plain")
        .header("origin", "https://evil.example")
        .body(compose(IMAGE));
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    req.send().await.expect("request")
}

#[tokio::test]
async fn cross_site_form_posts_are_refused_in_header_mode() {
    let cluster = TestCluster::start_fake("hardening-csrf-header").await;
    let settings = Settings {
        auth: header_mode(&["127.0.0.0/8"], None),
        ..settings(&cluster)
    };
    let s = TestServer::start(&cluster, settings).await;
    let alice = [("x-remote-user", "alice")];

    let r = forged_start(&s, &alice).await;
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "{}",
        r.text().await.unwrap()
    );
    // Sec-Fetch-Site alone says so too (an old proxy may drop Origin).
    let r = s
        .http
        .post(format!("{}/api/v1/systems", s.base))
        .header("x-remote-user", "alice")
        .header("sec-fetch-site", "cross-site")
        .json(&serde_json::json!({"compose": compose(IMAGE), "name": "forged"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Same origin but a form's type: not a body the API takes.
    let own = s.base.clone();
    let r = s
        .http
        .post(format!("{}/api/v1/systems?name=plain", s.base))
        .header("x-remote-user", "alice")
        .header("origin", own.as_str())
        .header("content-type", "text/plain")
        .body(compose(IMAGE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // The compat start refuses it in its own envelope.
    let r = s
        .http
        .post(format!("{}/system/start", s.base))
        .header("x-remote-user", "alice")
        .header("origin", "https://evil.example")
        .header("content-type", "text/plain")
        .body("{\"name\":\"x\",\"system\":{}}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["status"], "error");

    let listed = s.get_with("/api/v1/systems", &alice).await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert!(guids(&listed).is_empty(), "nothing was started: {listed}");

    // The dashboard's own requests (same origin, JSON or YAML) still work.
    let r = s
        .http
        .post(format!("{}/api/v1/systems?name=mine", s.base))
        .header("x-remote-user", "alice")
        .header("origin", own.as_str())
        .header("sec-fetch-site", "same-origin")
        .header("content-type", "application/yaml")
        .body(compose(IMAGE))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let guid = s.get_with("/api/v1/systems", &alice).await;
    let guid = guids(&guid.json().await.unwrap())[0].clone();
    // A cross-site delete is refused; the same-origin one goes through.
    let r = s
        .http
        .delete(format!("{}/api/v1/systems/{guid}", s.base))
        .header("x-remote-user", "alice")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = s
        .http
        .delete(format!("{}/api/v1/systems/{guid}", s.base))
        .header("x-remote-user", "alice")
        .header("origin", own.as_str())
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    cluster.cleanup().await;
}

#[tokio::test]
async fn cross_site_form_posts_are_refused_in_token_mode() {
    let cluster = TestCluster::start_fake("hardening-csrf-token").await;
    let s = TestServer::on(&cluster).await;
    let bearer = format!("Bearer {ALICE}");
    let r = forged_start(&s, &[("authorization", &bearer)]).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let (_, list) = s
        .json(Method::GET, "/api/v1/systems", Some(ALICE), None)
        .await;
    assert!(guids(&list).is_empty(), "nothing was started: {list}");
    // Same origin, JSON: the dashboard's request.
    let r = s
        .http
        .post(format!("{}/api/v1/validate", s.base))
        .bearer_auth(ALICE)
        .header("origin", s.base.as_str())
        .json(&serde_json::json!({"compose": compose(IMAGE)}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // A sign-out without a body needs no type.
    let r = s
        .http
        .delete(format!("{}/api/v1/session", s.base))
        .header("origin", s.base.as_str())
        .send()
        .await
        .unwrap();
    assert!(
        ![StatusCode::FORBIDDEN, StatusCode::UNSUPPORTED_MEDIA_TYPE].contains(&r.status()),
        "{}",
        r.status()
    );
    cluster.cleanup().await;
}

#[tokio::test]
async fn dashboard_and_docs_send_security_headers() {
    let script = "\nimport init from '/app.js';\nawait init();\n";
    let dist = dist_dir(
        "hardening-csp",
        &[(
            "index.html",
            &format!("<!doctype html><head><script type=\"module\">{script}</script></head>"),
        )],
    );
    let s = TestServer::without_cluster(Settings {
        dist: Some(dist.clone()),
        ..Settings::default()
    })
    .await;
    let r = s.get_with("/", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let expected = tycho_server::routes::web::dashboard_csp(&format!(
        "<!doctype html><head><script type=\"module\">{script}</script></head>"
    ));
    assert_eq!(csp, expected);
    for part in [
        "default-src 'none'",
        "script-src 'self' 'wasm-unsafe-eval' 'sha256-",
        "style-src 'self';",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{part} missing from {csp}");
    }
    assert!(!csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert_eq!(r.headers()["referrer-policy"], "same-origin");
    // The SPA fallback (a deep link) is the same page with the same policy.
    let r = s.get_with("/systems/abc", &[]).await;
    assert_eq!(r.headers()["content-security-policy"], csp.as_str());

    let r = s.get_with("/apidocs/", &[]).await;
    assert_eq!(r.status(), StatusCode::OK);
    let docs = r.headers()["content-security-policy"].to_str().unwrap();
    assert_eq!(docs, tycho_server::routes::web::APIDOCS_CSP);
    assert!(docs.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");

    // The connect proxy's answers are the apps' own: no dashboard policy on them.
    let r = s.get_with("/connect/abc/", &[]).await;
    assert!(!r.headers().contains_key("content-security-policy"));
    std::fs::remove_dir_all(dist).ok();
}

/// Series of `tycho_http_*` in the metrics text.
fn request_series(metrics: &str) -> usize {
    metrics
        .lines()
        .filter(|l| l.starts_with("tycho_http_"))
        .count()
}

#[tokio::test]
async fn metrics_stay_small_under_random_methods_and_paths() {
    let s = TestServer::without_cluster(Settings::default()).await;
    let before = request_series(&s.get_with("/metrics", &[]).await.text().await.unwrap());
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..8 {
        let http = s.http.clone();
        let base = s.base.clone();
        tasks.spawn(async move {
            for i in 0..250 {
                let n = worker * 1000 + i;
                let method = Method::from_bytes(format!("M{n:05}X").as_bytes()).unwrap();
                let _ = http
                    .request(method, format!("{base}/p{n}/{}", n * 7919))
                    .send()
                    .await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let text = s.get_with("/metrics", &[]).await.text().await.unwrap();
    let after = request_series(&text);
    eprintln!("tycho_http_* series: {before} before, {after} after 2,000 random requests");
    assert!(after <= before + 10, "{after} series:\n{text}");
    assert!(text.contains("method=\"other\""), "{text}");
}

async fn healthz_within(base: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let http = reqwest::Client::new();
    let r = tokio::time::timeout(limit, http.get(format!("{base}/healthz")).send())
        .await
        .unwrap_or_else(|_| panic!("/healthz did not answer within {limit:?}"))
        .expect("healthz");
    assert_eq!(r.status(), StatusCode::OK);
    started.elapsed()
}

/// Whether the server closed the socket within `limit`.
async fn closed_within(socket: &mut TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // e.g. a 408 before the close
        }
    }
}

#[tokio::test]
async fn a_thousand_idle_sockets_do_not_stall_the_server() {
    let s = TestServer::without_cluster(Settings {
        http: HttpLimits {
            max_connections: 1_000,
            ..HttpLimits::default()
        },
        ..Settings::default()
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut idle = Vec::new();
    for _ in 0..1_100 {
        idle.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let took = healthz_within(&s.base, Duration::from_secs(1)).await;
    eprintln!("/healthz with 1,100 idle sockets open: {took:?}");
    // The cap holds: the server closed idle sockets to make room.
    let mut closed = 0;
    for socket in &mut idle {
        if closed_within(socket, Duration::from_millis(5)).await {
            closed += 1;
        }
    }
    eprintln!("idle sockets closed by the server at the cap of 1,000: {closed}");
    assert!(
        closed >= 100,
        "only {closed} of 1,100 idle sockets were closed"
    );
}

/// A client that announces a body and stops sending it gets 408, not a handler waiting forever.
#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408() {
    let s = TestServer::without_cluster(Settings {
        http: HttpLimits {
            body_read_timeout: Duration::from_millis(500),
            ..HttpLimits::default()
        },
        ..Settings::default()
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut client = TcpStream::connect(&addr).await.unwrap();
    client
        .write_all(
            b"POST /api/v1/validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/yaml\r\nContent-Length: 100\r\n\r\nservices:\n",
        )
        .await
        .unwrap();
    let started = Instant::now();
    let mut buf = vec![0u8; 2048];
    let n = tokio::time::timeout(Duration::from_secs(5), client.read(&mut buf))
        .await
        .expect("an answer before the client gives up")
        .unwrap();
    let answer = String::from_utf8_lossy(&buf[..n]);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stopped arriving"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn silent_and_slow_clients_are_cut_off() {
    let s = TestServer::without_cluster(Settings {
        http: HttpLimits {
            header_read_timeout: Duration::from_secs(1),
            idle_timeout: Duration::from_secs(2),
            ..HttpLimits::default()
        },
        ..Settings::default()
    })
    .await;
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut silent = TcpStream::connect(&addr).await.unwrap();
    assert!(
        closed_within(&mut silent, Duration::from_secs(4)).await,
        "a silent socket stays open"
    );
    // Half a request head, then nothing (slowloris).
    let mut slow = TcpStream::connect(&addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    assert!(
        closed_within(&mut slow, Duration::from_secs(4)).await,
        "a slow head stays open"
    );
    // Kept alive after an answer, then idle.
    let mut kept = TcpStream::connect(&addr).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 512];
    let n = kept.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    assert!(
        closed_within(&mut kept, Duration::from_secs(4)).await,
        "an idle keep-alive stays open"
    );
}

/// The events of an SSE body read so far: (name, data).
fn sse_events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let mut name = None;
            let mut data = String::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event:") {
                    name = Some(n.trim().to_string());
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                }
            }
            name.map(|n| (n, data))
        })
        .collect()
}

/// Reads an event stream until `done` holds for its events (or `limit` passes); returns the
/// text and whether the stream ended.
async fn read_sse(
    r: &mut reqwest::Response,
    limit: Duration,
    done: impl Fn(&[(String, String)]) -> bool,
) -> (String, bool) {
    let mut text = String::new();
    let deadline = Instant::now() + limit;
    loop {
        if done(&sse_events(&text)) {
            return (text, false);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, r.chunk()).await {
            Err(_) => return (text, false),
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            Ok(Ok(None)) | Ok(Err(_)) => return (text, true),
        }
    }
}

async fn open_stream(base: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .send()
        .await
        .expect("events")
}

fn has(events: &[(String, String)], name: &str) -> bool {
    events.iter().any(|(n, _)| n == name)
}

#[tokio::test]
async fn an_active_event_stream_outlives_the_idle_timeout() {
    let cluster = TestCluster::start_fake("hardening-sse-idle").await;
    let s = TestServer::start(
        &cluster,
        Settings {
            http: HttpLimits {
                header_read_timeout: Duration::from_secs(1),
                idle_timeout: Duration::from_secs(1),
                ..HttpLimits::default()
            },
            ..settings(&cluster)
        },
    )
    .await;
    let mut r = open_stream(&s.base, ALICE).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (_, ended) = read_sse(&mut r, Duration::from_secs(5), |e| has(e, "snapshot")).await;
    assert!(!ended);
    let (_, ended) = read_sse(&mut r, Duration::from_secs(3), |_| false).await;
    assert!(!ended, "the stream was cut although it is in progress");
    cluster.cleanup().await;
}

#[tokio::test]
async fn shutdown_ends_event_streams_with_a_final_event() {
    let cluster = TestCluster::start_fake("hardening-shutdown").await;
    let executor =
        tycho_server::KubeExecutor::new(cluster.client.clone(), cluster.namespace.clone());
    let state = tycho_server::AppState::new(settings(&cluster), Some(Arc::new(executor)), "");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(tycho_server::serve_until(listener, state, async {
        let _ = stopped.await;
    }));
    let mut r = open_stream(&base, ALICE).await;
    let (_, ended) = read_sse(&mut r, Duration::from_secs(5), |e| has(e, "snapshot")).await;
    assert!(!ended);
    let asked = Instant::now();
    stop.send(()).unwrap();
    let (text, ended) = read_sse(&mut r, Duration::from_secs(5), |_| false).await;
    assert!(ended, "the stream did not end: {text}");
    assert!(
        has(&sse_events(&text), "shutdown"),
        "no final event: {text}"
    );
    tokio::time::timeout(Duration::from_secs(5), served)
        .await
        .expect("the server did not stop within 5 s")
        .unwrap()
        .unwrap();
    eprintln!(
        "shutdown with an open event stream took {:?}",
        asked.elapsed()
    );
    cluster.cleanup().await;
}

#[tokio::test]
async fn fifty_new_streams_cost_about_one_listing() {
    let cluster = TestCluster::start_fake("hardening-fanout").await;
    let fake = cluster.fake.as_ref().expect("fake");
    let s = TestServer::start(
        &cluster,
        Settings {
            // Long enough that the poller's own ticks do not blur the count.
            events_interval: Duration::from_secs(5),
            streams: StreamLimits {
                max_streams: 1_000,
                max_streams_per_user: 100,
            },
            ..settings(&cluster)
        },
    )
    .await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "web").await;
    fake.reset_requests();
    let mut streams = Vec::new();
    for _ in 0..50 {
        streams.push(open_stream(&s.base, ALICE).await);
    }
    for r in &mut streams {
        let (text, _) = read_sse(r, Duration::from_secs(10), |e| has(e, "snapshot")).await;
        assert!(text.contains(&guid), "{text}");
    }
    let calls = fake.request_count();
    eprintln!("API server requests for 50 new event streams: {calls}");
    assert!(calls <= 12, "{calls} requests: {:?}", fake.requests());
    cluster.cleanup().await;
}

#[tokio::test]
async fn event_streams_are_capped_per_user_and_in_all() {
    let cluster = TestCluster::start_fake("hardening-stream-caps").await;
    let s = TestServer::start(
        &cluster,
        Settings {
            streams: StreamLimits {
                max_streams: 3,
                max_streams_per_user: 2,
            },
            ..settings(&cluster)
        },
    )
    .await;
    let a1 = open_stream(&s.base, ALICE).await;
    let a2 = open_stream(&s.base, ALICE).await;
    assert_eq!((a1.status(), a2.status()), (StatusCode::OK, StatusCode::OK));
    let a3 = open_stream(&s.base, ALICE).await;
    assert_eq!(a3.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(a3.headers().contains_key("retry-after"));
    assert_eq!(a3.headers()["content-type"], "application/problem+json");
    let b1 = open_stream(&s.base, BOB).await;
    assert_eq!(b1.status(), StatusCode::OK);
    let b2 = open_stream(&s.base, BOB).await;
    assert_eq!(b2.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(b2.headers().contains_key("retry-after"));
    // A closed stream gives its place back.
    drop(a1);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let again = open_stream(&s.base, ALICE).await;
        if again.status() == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "the place was not given back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop((a2, b1));
    cluster.cleanup().await;
}

#[tokio::test]
async fn an_error_is_not_followed_by_an_empty_snapshot() {
    let cluster = TestCluster::start_fake("hardening-sse-error").await;
    let fake = cluster.fake.as_ref().expect("fake");
    let s = TestServer::on(&cluster).await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "web").await;
    fake.set_unreachable(true);
    // Reads answer from the watches: once they notice, the server says the cluster is down.
    let deadline = Instant::now() + Duration::from_secs(10);
    while s.client(ALICE).list().await.is_ok() {
        assert!(Instant::now() < deadline, "the outage was never noticed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut r = open_stream(&s.base, ALICE).await;
    assert_eq!(r.status(), StatusCode::OK);
    let (text, _) = read_sse(&mut r, Duration::from_secs(5), |e| has(e, "error")).await;
    let events = sse_events(&text);
    assert!(has(&events, "error"), "{text}");
    // Still down: no snapshot saying "no systems" after the error.
    let (more, _) = read_sse(&mut r, Duration::from_secs(1), |_| false).await;
    let text = format!("{text}{more}");
    assert!(!has(&sse_events(&text), "snapshot"), "{text}");
    // Back up: the snapshot comes, with the system.
    fake.set_unreachable(false);
    let (rest, _) = read_sse(&mut r, Duration::from_secs(5), |e| has(e, "snapshot")).await;
    let snapshot = sse_events(&rest)
        .into_iter()
        .find(|(n, _)| n == "snapshot")
        .expect("a snapshot once the cluster answers");
    assert!(snapshot.1.contains(&guid), "{snapshot:?}");
    cluster.cleanup().await;
}
