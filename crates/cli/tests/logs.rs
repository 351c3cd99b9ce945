//! `tycho logs` against the real server and the fake Kubernetes API server (or a real cluster
//! with TYCHO_TEST_KUBECONFIG): the log printed as it is, a wrong container failing with the
//! names of the real ones, `-f` printing lines as they are written until the system is gone.

use std::process::Output;
use std::time::Duration;
use tycho_client::api::Phase;
use tycho_test_server::*;

fn command(server: &TestServer, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_tycho"));
    cmd.args(args)
        .env_remove("TYCHO_CONFIG")
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env("HOME", std::env::temp_dir())
        .env("NO_COLOR", "1")
        .env("TYCHO_URL", &server.base)
        .env("TYCHO_TOKEN", ALICE);
    cmd
}

async fn tycho(server: &TestServer, args: &[&str]) -> Output {
    tokio::time::timeout(Duration::from_secs(120), command(server, args).output())
        .await
        .expect("tycho finished within 120 s")
        .expect("run tycho")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_prints_the_tail_names_the_containers_and_follows() {
    let cluster = TestCluster::start("cli-logs").await;
    let server = TestServer::on(&cluster).await;
    write_logger_lines(&cluster);
    let guid = server
        .start_system(ALICE, LOGGING_COMPOSE, "cli-logs")
        .await;
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

    follow_ends_with_the_system(&cluster, &server, &guid).await;
    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// `tycho logs -f` prints a line written after it started, and exits 0 once the system is
/// deleted (its container ends).
async fn follow_ends_with_the_system(cluster: &TestCluster, server: &TestServer, guid: &str) {
    use tokio::io::AsyncBufReadExt;
    let mut child = command(server, &["logs", guid, "-c", "ticker", "--tail", "0", "-f"])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn tycho logs -f");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    // On the fake, the ticker's lines: written until one arrives (the first may come before
    // the request, which `--tail 0` leaves out).
    let ticking = cluster.fake.clone().map(|fake| {
        tokio::spawn(async move {
            loop {
                fake.append_logs("ticker", &["tick"]);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    });
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("a line within 30 s")
        .expect("read stdout");
    if let Some(t) = ticking {
        t.abort();
    }
    assert_eq!(first.as_deref(), Some("tick"));
    server.client(ALICE).delete(guid).await.expect("delete");
    let status = tokio::time::timeout(Duration::from_secs(90), async {
        while let Ok(Some(_)) = lines.next_line().await {}
        child.wait().await
    })
    .await
    .expect("tycho logs -f ended with the system")
    .expect("wait for tycho");
    assert!(status.success(), "{status:?}");
}
