//! Connect proxy figures, against one local app, direct and through the proxy in one run:
//! - added latency at p50 and p99 (sequential requests on a kept-alive connection);
//! - requests per second with concurrent clients, through the proxy as a share of direct: for
//!   an app that answers at once (the proxy's CPU is then the limit, on the cores the client
//!   and the app share), and for one that takes [`APP_WORK`] per request, as real apps do;
//! - the server's RSS with 1,000 WebSockets open through it.
//!
//! The server runs as a child process on the fake API server (so only its own memory is
//! counted), with the proxy's upstream pointed at the app in this process.
//!
//! Run: `cargo run --release -p tycho-server --example connect_bench`

use axum::extract::FromRequestParts;
use axum::extract::Request;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::IntoResponse;
use common::{COMPOSE, Kill, NAMESPACE, fake_cluster, free_port, rss_kib};
use futures::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

mod common;

const SEQUENTIAL: usize = 3000;
const CONCURRENCY: usize = 16;
const LOAD_TIME: Duration = Duration::from_secs(4);
const SOCKETS: usize = 1000;
/// What a request to `…/work` costs the app (waiting, as on its disk or database, not CPU).
const APP_WORK: Duration = Duration::from_millis(2);

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if argv.get(1).map(String::as_str) == Some("--serve") {
        rt.block_on(serve(&argv[2], &argv[3], &argv[4]));
    } else {
        rt.block_on(parent());
    }
}

/// Child: the server on `listen`, its proxy sending every system to `app`.
async fn serve(listen: &str, kubeconfig: &str, app: &str) {
    use tycho_server::{AppState, KubeExecutor, Settings};
    let (client, _) = tycho_server::kube_client(Some(std::path::Path::new(kubeconfig)))
        .await
        .expect("kube client");
    let mut settings = Settings {
        namespace: NAMESPACE.into(),
        ..Settings::default()
    };
    settings.max_systems_per_user = 0;
    settings.connect.limits.max_connections_per_user = 2 * SOCKETS;
    settings.connect.upstream = Some(Arc::new(
        tycho_server::connect::upstream::LocalUpstream::all_to(app.parse().expect("app address")),
    ));
    let state = AppState::new(
        settings,
        Some(Arc::new(KubeExecutor::new(client, NAMESPACE))),
        "",
    );
    let listener = tokio::net::TcpListener::bind(listen).await.expect("bind");
    tycho_server::serve(listener, state).await.expect("serve");
}

/// The app: "ok" for any path, a WebSocket echo at `…/ws`.
async fn app(request: Request) -> axum::response::Response {
    if request.uri().path().ends_with("/ws") {
        let (mut parts, _) = request.into_parts();
        let upgrade = WebSocketUpgrade::from_request_parts(&mut parts, &())
            .await
            .unwrap();
        return upgrade.on_upgrade(|mut socket| async move {
            while let Some(Ok(m)) = socket.recv().await {
                if socket.send(m).await.is_err() {
                    break;
                }
            }
        });
    }
    if request.uri().path().ends_with("/work") {
        tokio::time::sleep(APP_WORK).await;
    }
    "ok".into_response()
}

fn rss_mib(pid: u32) -> f64 {
    rss_kib(pid) as f64 / 1024.0
}

/// CPU time (user + system) the process has used.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces): state, ppid, …; utime is the
    // 12th and stime the 13th (counted from state), in clock ticks.
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let ticks = field(11) + field(12);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn sequential(http: &reqwest::Client, url: &str) -> Vec<Duration> {
    for _ in 0..200 {
        http.get(url).send().await.unwrap().bytes().await.unwrap();
    }
    let mut times = Vec::with_capacity(SEQUENTIAL);
    for _ in 0..SEQUENTIAL {
        let t = Instant::now();
        let r = http.get(url).send().await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await.unwrap();
        times.push(t.elapsed());
    }
    times.sort();
    times
}

async fn throughput(url: &str) -> (f64, usize) {
    let done = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + LOAD_TIME;
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let url = url.to_string();
            let done = done.clone();
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                while Instant::now() < deadline {
                    let r = http.get(&url).send().await.unwrap();
                    r.bytes().await.unwrap();
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    let done = done.load(Ordering::Relaxed);
    (done as f64 / LOAD_TIME.as_secs_f64(), done)
}

async fn parent() {
    let app_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let app_addr: SocketAddr = app_listener.local_addr().unwrap();
    tokio::spawn(async move {
        let router = axum::Router::new().fallback(app);
        let _ = axum::serve(app_listener, router).await;
    });

    let (_fake, kubeconfig) = fake_cluster("connect-bench").await;
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let child = Kill(
        Command::new(std::env::current_exe().unwrap())
            .arg("--serve")
            .arg(&listen)
            .arg(&kubeconfig)
            .arg(app_addr.to_string())
            .env("RUST_LOG", "warn")
            .spawn()
            .expect("spawn server"),
    );
    let pid = child.0.id();
    let base = format!("http://{listen}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http.get(format!("{base}/healthz")).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let started: serde_json::Value = http
        .post(format!("{base}/api/v1/systems"))
        .json(&serde_json::json!({"compose": COMPOSE, "name": "bench"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let guid = started["guid"].as_str().expect("started").to_string();
    loop {
        let s: serde_json::Value = http
            .get(format!("{base}/api/v1/systems/{guid}"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["phase"] == "Running" {
            break;
        }
        assert!(Instant::now() < deadline, "system did not run: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let path = format!("/connect/{guid}/api/status");
    let direct = format!("http://{app_addr}{path}");
    let proxied = format!("{base}{path}");
    println!("server RSS with one system: {:.1} MB", rss_mib(pid));

    let d = sequential(&http, &direct).await;
    let p = sequential(&http, &proxied).await;
    let us = |t: Duration| t.as_secs_f64() * 1e6;
    println!(
        "latency over {SEQUENTIAL} sequential requests: direct p50 {:.0} µs p99 {:.0} µs; through the proxy p50 {:.0} µs p99 {:.0} µs",
        us(percentile(&d, 0.5)),
        us(percentile(&d, 0.99)),
        us(percentile(&p, 0.5)),
        us(percentile(&p, 0.99)),
    );
    println!(
        "added by the proxy: p50 {:.0} µs, p99 {:.0} µs (goal: ≤ 500 µs at p50)",
        us(percentile(&p, 0.5)) - us(percentile(&d, 0.5)),
        us(percentile(&p, 0.99)) - us(percentile(&d, 0.99)),
    );

    let me = std::process::id();
    let load_before = cpu_time(me);
    let (direct_rps, direct_count) = throughput(&direct).await;
    let load_direct = (cpu_time(me) - load_before).as_secs_f64() / direct_count as f64;
    let (cpu_before, load_before) = (cpu_time(pid), cpu_time(me));
    let (proxied_rps, proxied_count) = throughput(&proxied).await;
    let cpu_per_request = (cpu_time(pid) - cpu_before).as_secs_f64() / proxied_count as f64;
    let load_proxied = (cpu_time(me) - load_before).as_secs_f64() / proxied_count as f64;
    println!(
        "throughput with {CONCURRENCY} clients for {} s: direct {direct_rps:.0} req/s, through the proxy {proxied_rps:.0} req/s = {:.0} % (goal: ≥ 90 %; client, proxy and app share this machine's {} cores)",
        LOAD_TIME.as_secs(),
        100.0 * proxied_rps / direct_rps,
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
    );
    println!(
        "server CPU per proxied request: {:.1} µs (one core proxies about {:.0} req/s); client and app CPU per request: {:.1} µs direct, {:.1} µs proxied",
        cpu_per_request * 1e6,
        1.0 / cpu_per_request,
        load_direct * 1e6,
        load_proxied * 1e6,
    );
    let work = |url: &str| format!("{}work", url.trim_end_matches("api/status"));
    let (direct_rps, _) = throughput(&work(&direct)).await;
    let (proxied_rps, _) = throughput(&work(&proxied)).await;
    println!(
        "throughput with {CONCURRENCY} clients for an app that takes {} ms per request: direct {direct_rps:.0} req/s, through the proxy {proxied_rps:.0} req/s = {:.0} % (goal: ≥ 90 %)",
        APP_WORK.as_millis(),
        100.0 * proxied_rps / direct_rps,
    );

    let ws_url = format!("ws://{listen}/connect/{guid}/ws");
    let before = rss_mib(pid);
    let mut sockets = Vec::with_capacity(SOCKETS);
    for _ in 0..SOCKETS {
        let (socket, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("websocket through the proxy");
        sockets.push(socket);
    }
    for s in sockets.iter_mut() {
        s.send(tokio_tungstenite::tungstenite::Message::text("ping"))
            .await
            .unwrap();
    }
    for s in sockets.iter_mut() {
        let echoed = s.next().await.expect("echo").expect("echo");
        assert_eq!(echoed.to_text().unwrap(), "ping");
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let with = rss_mib(pid);
    println!(
        "server RSS with {SOCKETS} open WebSockets: {with:.1} MB ({:.1} MB before them; goal: ≤ 100 MB)",
        before
    );
    drop(sockets);
}
