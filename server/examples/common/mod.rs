//! What the server benchmarks share: a fake API server with the benchmark's namespace and a
//! kubeconfig for the server process, a free port, the child process, and its memory.

#![allow(dead_code)] // each benchmark uses a part

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use std::path::PathBuf;
use std::process::Child;
use tycho_fake_kube::FakeKube;

pub const NAMESPACE: &str = "bench";
/// Runs as non-root and listens on 8080 (what the compiler's secure default accepts).
pub const COMPOSE: &str = "services:\n  web:\n    image: nginxinc/nginx-unprivileged:stable-alpine\n    ports:\n      - \"8080:8080\"\n";

/// The fake API server with [`NAMESPACE`], and a kubeconfig file for it in the temp folder.
pub async fn fake_cluster(tag: &str) -> (FakeKube, PathBuf) {
    let fake = FakeKube::start().await;
    Api::<Namespace>::all(fake.client())
        .create(
            &PostParams::default(),
            &serde_json::from_value(serde_json::json!({"metadata": {"name": NAMESPACE}})).unwrap(),
        )
        .await
        .expect("namespace");
    let dir = std::env::temp_dir().join(format!("tycho-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    std::fs::write(&kubeconfig, fake.kubeconfig_yaml(NAMESPACE)).unwrap();
    (fake, kubeconfig)
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Resident memory of a process, in KiB.
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// The server's child process, ended with the benchmark.
pub struct Kill(pub Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(clap::Parser)]
struct ServerArgs {
    #[command(flatten)]
    args: tycho_server::ApiArgs,
}

/// In the child process a benchmark starts with `--serve` (then the server's own flags): runs
/// just the server until it is killed, and answers `true`; in the benchmark itself, `false`.
pub fn serve_if_child(argv: &[String]) -> bool {
    if argv.get(1).map(String::as_str) != Some("--serve") {
        return false;
    }
    use clap::Parser;
    let child = ServerArgs::parse_from(argv.iter().filter(|a| *a != "--serve"));
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    if let Err(e) = rt.block_on(tycho_server::run(child.args)) {
        eprintln!("server: {e}");
        std::process::exit(1);
    }
    true
}
