//! The server at 10,000 systems, against the fake Kubernetes API server (the server runs as a
//! child process, so its memory is its own). Prints:
//! - start-up: time from launch until `/readyz` (the watches' first lists) and RSS then;
//! - `GET /api/v1/systems` over HTTP, p50 and p99: a user's own systems, and an admin's all;
//! - Kubernetes API calls per status request, and per minute while idle;
//! - time from an object's change in the API server to the event on an open stream;
//! - 1,000 open event streams: RSS, and the watches the API server serves;
//! - last, an admin's list of every system (its big answers raise RSS for good).
//!
//! Run: `cargo run --release -p tycho-server --example scale` (add `-- 2000` for another count).

mod common;

use common::{COMPOSE, Kill, NAMESPACE, fake_cluster, free_port, rss_kib};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, Patch, PatchParams};
use std::process::Command;
use std::time::{Duration, Instant};

const ALICE: &str = "scale-token-alice";
const ADMIN: &str = "scale-token-admin";
/// Alice's share of the systems; the rest belong to 1,000 other users.
const ALICE_SYSTEMS: usize = 10;
const STREAMS: usize = 1_000;
/// The streams' owners (`user-0`…), each within the per-user limit of event streams.
const STREAM_USERS: usize = 100;

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if common::serve_if_child(&argv) {
        return;
    }
    let total: usize = argv.get(1).and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(parent(total));
}

fn plan(user: &str, name: &str) -> tycho_compiler::Plan {
    let options = tycho_compiler::CompileOptions {
        guid: tycho_server::ops::new_guid(),
        username: user.into(),
        name: name.into(),
        namespace: NAMESPACE.into(),
        ..Default::default()
    };
    let compiled = tycho_compiler::compile(COMPOSE, &options);
    compiled
        .plan
        .expect("the benchmark's compose file compiles")
}

/// A started system as the cluster would hold it once running: the plan's Deployment (scaled
/// up, available), one ready pod of its template, and its Service with a cluster IP.
fn running_system(
    plan: &tycho_compiler::Plan,
    i: usize,
) -> (
    serde_json::Value,
    serde_json::Value,
    Option<serde_json::Value>,
) {
    use serde_json::json;
    let mut d = serde_json::to_value(&plan.deployment).unwrap();
    d["metadata"]["namespace"] = json!(NAMESPACE);
    d["status"] = json!({"replicas": 1, "readyReplicas": 1, "availableReplicas": 1,
        "updatedReplicas": 1, "observedGeneration": 1,
        "conditions": [{"type": "Available", "status": "True"},
                       {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]});
    let name = d["metadata"]["name"].as_str().unwrap().to_string();
    let template = &d["spec"]["template"];
    let statuses: Vec<serde_json::Value> = template["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            json!({"name": c["name"], "image": c["image"], "imageID": "", "ready": true,
            "restartCount": 0, "started": true,
            "state": {"running": {"startedAt": "2026-12-01T00:00:00Z"}}})
        })
        .collect();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{name}-6f9c8-{i:05}"), "namespace": NAMESPACE,
                     "labels": template["metadata"]["labels"]},
        "spec": template["spec"],
        "status": {"phase": "Running", "podIP": "10.244.0.1",
                   "conditions": [{"type": "Ready", "status": "True"},
                                  {"type": "PodScheduled", "status": "True"}],
                   "containerStatuses": statuses}
    });
    let service = plan.service.as_ref().map(|s| {
        let mut s = serde_json::to_value(s).unwrap();
        s["metadata"]["namespace"] = json!(NAMESPACE);
        s["spec"]["clusterIP"] = json!(format!("10.96.{}.{}", i / 250, i % 250 + 1));
        s
    });
    (d, pod, service)
}

/// The JSON answer of a GET with `token`.
async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> serde_json::Value {
    let r = http.get(url).bearer_auth(token).send().await.expect("GET");
    r.json().await.expect("a JSON answer")
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1e3
}

async fn timed_gets(http: &reqwest::Client, url: &str, token: &str, n: usize) -> (f64, f64, usize) {
    let mut times = Vec::with_capacity(n);
    let mut count = 0;
    for _ in 0..n {
        let t = Instant::now();
        let body: serde_json::Value = http
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        times.push(t.elapsed());
        count = body["systems"].as_array().map(Vec::len).unwrap_or(0);
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99), count)
}

async fn parent(total: usize) {
    let (fake, kubeconfig) = fake_cluster("scale").await;

    // 1. The systems, written straight into the fake's store as a running cluster holds them
    //    (Deployment, its pod and its Service, with status): through the API, each write
    //    scans the fake's store, so 10,000 starts would take an hour.
    let began = Instant::now();
    let (mut deployments, mut pods, mut services) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..total {
        let user = if i < ALICE_SYSTEMS {
            "alice".to_string()
        } else {
            format!("user-{}", i % 1000)
        };
        let (d, p, s) = running_system(&plan(&user, &format!("s{i}")), i);
        deployments.push(d);
        pods.push(p);
        services.extend(s);
    }
    fake.insert("deployments", deployments);
    fake.insert("pods", pods);
    fake.insert("services", services);
    println!(
        "preloaded {total} systems ({} objects in the fake) in {:.1} s",
        fake.object_count(),
        began.elapsed().as_secs_f64()
    );

    // 2. The server, and how long until it is ready (its watches have listed everything).
    let dir = kubeconfig.parent().expect("temp dir").to_path_buf();
    let tokens = dir.join("tokens");
    let mut lines = format!("{ALICE},alice\n{ADMIN},root,admin\n");
    for k in 0..STREAM_USERS {
        lines.push_str(&format!("scale-token-user-{k},user-{k}\n"));
    }
    std::fs::write(&tokens, lines).unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let launched = Instant::now();
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--namespace", NAMESPACE, "--tokens"])
        .arg(&tokens)
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("spawn server");
    let child = Kill(child);
    let pid = child.0.id();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not become ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "start-up: ready (watches synced) {:.2} s after launch; RSS {:.1} MB",
        launched.elapsed().as_secs_f64(),
        rss_kib(pid) as f64 / 1024.0
    );

    // 3. Lists over HTTP, and what they cost the API server.
    let url = format!("{base}/api/v1/systems");
    fake.reset_requests();
    let (p50, p99, n) = timed_gets(&http, &url, ALICE, 1000).await;
    println!(
        "GET /api/v1/systems as a user with {n} systems: p50 {p50:.2} ms, p99 {p99:.2} ms (1,000 requests)"
    );
    let mine: serde_json::Value = get_json(&http, &url, ALICE).await;
    let guids: Vec<String> = mine["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["guid"].as_str().unwrap().to_string())
        .collect();
    for g in &guids {
        for path in ["", "/kube-events"] {
            let r = http
                .get(format!("{url}/{g}{path}"))
                .bearer_auth(ALICE)
                .send()
                .await
                .unwrap();
            assert!(r.status().is_success(), "{}", r.status());
        }
    }
    let requests = 1000 + 1 + 2 * guids.len();
    println!(
        "Kubernetes API calls for those {requests} list, status and event requests: {}",
        fake.request_count()
    );

    // 4. Idle: what the server asks the API server for while nothing happens.
    fake.reset_requests();
    let idle = Duration::from_secs(30);
    tokio::time::sleep(idle).await;
    let asked = fake.requests();
    println!(
        "idle for {} s: {} Kubernetes API calls ({:?}); open watches: {:?}",
        idle.as_secs(),
        asked.len(),
        asked,
        fake.open_watches()
    );

    // 5. From a change in the API server to the event on a stream.
    let mut stream = http
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(ALICE)
        .send()
        .await
        .expect("stream")
        .bytes_stream();
    let mut text = String::new();
    while !text.contains("event: snapshot") {
        let chunk = stream.next().await.expect("snapshot").expect("bytes");
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
    let deployments: Api<Deployment> = Api::namespaced(fake.client(), NAMESPACE);
    let object_names: Vec<String> = mine["systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["object_name"].as_str().unwrap().to_string())
        .collect();
    let mut latencies = Vec::new();
    for round in 0..20 {
        let name = &object_names[round % object_names.len()];
        let warning = format!("benchmark warning {round}");
        let patch = serde_json::json!({"metadata": {"annotations": {"tycho.io/warning": warning}}});
        text.clear();
        let t = Instant::now();
        deployments
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .expect("patch");
        while !text.contains(&warning) {
            let chunk = tokio::time::timeout(Duration::from_secs(10), stream.next())
                .await
                .expect("a change within 10 s")
                .expect("open")
                .expect("bytes");
            text.push_str(&String::from_utf8_lossy(&chunk));
        }
        latencies.push(t.elapsed());
    }
    latencies.sort();
    println!(
        "object change → SSE event: p50 {:.0} ms, max {:.0} ms (20 changes)",
        percentile(&latencies, 0.5),
        percentile(&latencies, 1.0)
    );
    drop(stream);

    // 6. 1,000 open event streams: ten for each of 100 users (who own ~10 systems each).
    let before = rss_kib(pid);
    fake.reset_requests();
    let opened = Instant::now();
    let mut streams = Vec::new();
    for i in 0..STREAMS {
        let token = format!("scale-token-user-{}", i % STREAM_USERS);
        let r = http
            .get(format!("{base}/api/v1/events"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("stream");
        assert!(r.status().is_success(), "stream {i}: {}", r.status());
        streams.push(r);
    }
    let open_for = opened.elapsed();
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!(
        "{STREAMS} open event streams ({STREAM_USERS} users): opened in {:.1} s; RSS {:.1} MB (was {:.1} MB); Kubernetes API calls meanwhile: {}; open watches: {:?}",
        open_for.as_secs_f64(),
        rss_kib(pid) as f64 / 1024.0,
        before as f64 / 1024.0,
        fake.request_count(),
        fake.open_watches()
    );
    drop(streams);

    // 7. Last, as its answers (every system) raise the memory high-water mark: an admin's list.
    let (p50, p99, n) = timed_gets(&http, &url, ADMIN, 50).await;
    println!(
        "GET /api/v1/systems as an admin, all {n} systems: p50 {p50:.1} ms, p99 {p99:.1} ms (50 requests)"
    );
    let all: serde_json::Value = get_json(&http, &url, ADMIN).await;
    let running = all["systems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["phase"] == "Running")
        .count();
    println!("  of which Running: {running}");
    println!(
        "RSS after the admin lists: {:.1} MB",
        rss_kib(pid) as f64 / 1024.0
    );
    drop(child);
}
