//! Server figures against the fake Kubernetes API server:
//! - 200 concurrent starts (errors, duplicate GUIDs, wall time);
//! - status of 1,000 systems (time and number of Kubernetes API calls);
//! - server RSS idle and with 1,000 systems (the server runs as a child process, so the fake's
//!   memory is not counted).
//!
//! Run: `cargo run --release -p tycho-server --example bench` (add `-- 500` for another count).

mod common;

use common::{COMPOSE, Kill, NAMESPACE, fake_cluster, free_port, rss_kib};
use kube::api::Api;
use std::collections::HashSet;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_server::executor::{Executor, Filter};

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if common::serve_if_child(&argv) {
        return;
    }
    let total: usize = argv.get(1).and_then(|n| n.parse().ok()).unwrap_or(1000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(parent(total));
}

async fn start_one(http: &reqwest::Client, base: &str, i: usize) -> Result<String, String> {
    let r = http
        .post(format!("{base}/api/v1/systems"))
        .json(&serde_json::json!({"compose": COMPOSE, "name": format!("b{i}")}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = r.status();
    let body: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    if status.as_u16() != 202 {
        return Err(format!("{status}: {body}"));
    }
    Ok(body["guid"].as_str().unwrap_or_default().to_string())
}

async fn parent(total: usize) {
    let (fake, kubeconfig) = fake_cluster("bench").await;
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(std::env::current_exe().unwrap())
        .args(["--serve", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args(["--namespace", NAMESPACE, "--insecure-no-auth"])
        .args([
            "--max-systems-per-user",
            "0",
            "--max-concurrent-starts",
            "32",
        ])
        .env("RUST_LOG", "warn")
        .spawn()
        .expect("spawn server");
    let child = Kill(child);
    let pid = child.0.id();
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(Instant::now() < deadline, "server did not become ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let idle = rss_kib(pid);
    println!("server RSS idle: {:.1} MB", idle as f64 / 1024.0);

    // 200 concurrent starts.
    let concurrent = total.min(200);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrent)
        .map(|i| {
            let http = http.clone();
            let base = base.clone();
            tokio::spawn(async move { start_one(&http, &base, i).await })
        })
        .collect();
    let mut guids = Vec::new();
    let mut errors = Vec::new();
    for t in tasks {
        match t.await.unwrap() {
            Ok(g) => guids.push(g),
            Err(e) => errors.push(e),
        }
    }
    let unique: HashSet<&String> = guids.iter().collect();
    println!(
        "{concurrent} concurrent starts: {:.2} s, {} errors, {} duplicate GUIDs",
        started.elapsed().as_secs_f64(),
        errors.len(),
        guids.len() - unique.len()
    );
    if let Some(e) = errors.first() {
        println!("  first error: {e}");
    }

    // Fill up to `total` systems, 32 at a time.
    let mut i = concurrent;
    while i < total {
        let batch: Vec<_> = (i..(i + 32).min(total))
            .map(|j| {
                let http = http.clone();
                let base = base.clone();
                tokio::spawn(async move { start_one(&http, &base, j).await })
            })
            .collect();
        for t in batch {
            if let Err(e) = t.await.unwrap() {
                println!("  fill error: {e}");
            }
        }
        i += 32;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // Status of every system, through the HTTP API of the server process.
    let mut http_times = Vec::new();
    let mut count = 0;
    let mut calls = 0;
    for _ in 0..5 {
        fake.reset_requests();
        let t = Instant::now();
        let body: serde_json::Value = http
            .get(format!("{base}/api/v1/systems"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        http_times.push(t.elapsed());
        calls = fake.request_count();
        count = body["systems"].as_array().map(Vec::len).unwrap_or(0);
    }
    http_times.sort();
    println!(
        "status of {count} systems via GET /api/v1/systems: median {:.1} ms (min {:.1} ms), {calls} Kubernetes API calls",
        http_times[2].as_secs_f64() * 1e3,
        http_times[0].as_secs_f64() * 1e3
    );

    // The executor alone (in this process), without HTTP to the server.
    let executor = Arc::new(tycho_server::KubeExecutor::new(fake.client(), NAMESPACE));
    let mut exec_times = Vec::new();
    for _ in 0..5 {
        fake.reset_requests();
        let t = Instant::now();
        let list = executor.list(&Filter::all()).await.unwrap();
        exec_times.push(t.elapsed());
        count = list.len();
        calls = fake.request_count();
    }
    exec_times.sort();
    println!(
        "status of {count} systems via the executor: median {:.1} ms, {calls} Kubernetes API calls",
        exec_times[2].as_secs_f64() * 1e3
    );
    // Where the time goes: each list call alone (the fake answering plus deserialising into the
    // full k8s-openapi types, which the executor no longer does; see `executor::view`).
    let lp =
        kube::api::ListParams::default().labels(&tycho_compiler::labels::all_systems_selector());
    let t = Instant::now();
    let d = Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(fake.client(), NAMESPACE)
        .list(&lp)
        .await
        .unwrap();
    let td = t.elapsed();
    let t = Instant::now();
    let p = Api::<k8s_openapi::api::core::v1::Pod>::namespaced(fake.client(), NAMESPACE)
        .list(&lp)
        .await
        .unwrap();
    let tp = t.elapsed();
    let t = Instant::now();
    let s = Api::<k8s_openapi::api::core::v1::Service>::namespaced(fake.client(), NAMESPACE)
        .list(&lp)
        .await
        .unwrap();
    let ts = t.elapsed();
    println!(
        "  single list calls: {} deployments {:.1} ms, {} pods {:.1} ms, {} services {:.1} ms",
        d.items.len(),
        td.as_secs_f64() * 1e3,
        p.items.len(),
        tp.as_secs_f64() * 1e3,
        s.items.len(),
        ts.as_secs_f64() * 1e3
    );
    let raw = reqwest::Client::new();
    let t = Instant::now();
    let bytes = raw
        .get(format!(
            "{}/apis/apps/v1/namespaces/{NAMESPACE}/deployments?labelSelector=executor%3Dtycho",
            fake.url()
        ))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let t_raw = t.elapsed();
    let t = Instant::now();
    let _typed: k8s_openapi::List<k8s_openapi::api::apps::v1::Deployment> =
        serde_json::from_slice(&bytes).unwrap_or_default();
    let t_typed = t.elapsed();
    let t = Instant::now();
    let views: tycho_server::executor::view::List<tycho_server::executor::view::Deployment> =
        serde_json::from_slice(&bytes).unwrap();
    let t_views = t.elapsed();
    println!(
        "  deployments as raw HTTP from the fake: {:.1} ms ({} KB); deserialising them: {:.1} ms as k8s-openapi Deployments, {:.1} ms as the executor's views ({})",
        t_raw.as_secs_f64() * 1e3,
        bytes.len() / 1024,
        t_typed.as_secs_f64() * 1e3,
        t_views.as_secs_f64() * 1e3,
        views.items.len()
    );
    let loaded = rss_kib(pid);
    println!(
        "server RSS with {count} systems (after listing them): {:.1} MB",
        loaded as f64 / 1024.0
    );
    drop(child);
    if let Some(dir) = kubeconfig.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
