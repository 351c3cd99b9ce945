//! `tycho logs` against the real server and the fake Kubernetes API server (or a real cluster
//! with TYCHO_TEST_KUBECONFIG): the log printed as it is, a wrong container failing with the
//! names of the real ones.

use std::process::Output;
use std::time::Duration;
use tycho_client::api::Phase;
use tycho_test_server::*;

/// `logger` prints three lines, then sleeps.
const COMPOSE: &str = "services:
  logger:
    image: busybox:1.36
    user: \"1000\"
    command: [\"sh\", \"-c\", \"echo one; echo two; echo three; trap 'exit 0' TERM; while true; do sleep 1; done\"]
";

async fn tycho(server: &TestServer, args: &[&str]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tycho"));
    cmd.args(args)
        .env_remove("TYCHO_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", std::env::temp_dir())
        .env("NO_COLOR", "1")
        .env("TYCHO_URL", &server.base)
        .env("TYCHO_TOKEN", ALICE);
    tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("tycho finished within 120 s")
        .expect("run tycho")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_prints_the_log_and_names_the_containers_on_a_wrong_one() {
    let cluster = TestCluster::start("cli-logs").await;
    let server = TestServer::on(&cluster).await;
    if let Some(fake) = &cluster.fake {
        fake.append_logs("logger", &["one", "two", "three"]);
    }
    let guid = server.start_system(ALICE, COMPOSE, "cli-logs").await;
    server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == Phase::Running
        })
        .await;

    let out = tycho(&server, &["logs", &guid, "--tail", "2"]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stdout, "two\nthree\n");

    let out = tycho(&server, &["logs", &guid, "-c", "db"]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        stderr.contains("(404)") && stderr.contains("\"db\"") && stderr.contains("logger"),
        "{stderr}"
    );

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}
