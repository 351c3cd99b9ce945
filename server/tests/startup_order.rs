//! A system whose services `depends_on` each other starts them in order (issue 13, item 3),
//! and its status lists every service's container, the sidecars included. Runs on a real
//! cluster too (`TYCHO_TEST_KUBECONFIG`).

use tycho_api::Phase;
use tycho_test_server::*;

#[tokio::test]
async fn a_dependency_runs_as_a_sidecar_and_status_lists_it() {
    let cluster = TestCluster::start("startup-order").await;
    let server = TestServer::on(&cluster).await;
    let text = format!(
        "services:
  web:
    image: {IMAGE}
    ports: [\"8080:8080\"]
    depends_on:
      cache:
        condition: service_started
  cache:
    image: busybox:1.36
    user: \"1000\"
    command: [\"sleep\", \"3600\"]
"
    );
    let guid = server.start_system(ALICE, &text, "ordered").await;
    let status = server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == Phase::Running
        })
        .await;
    let containers: Vec<(&str, &str)> = status
        .containers
        .iter()
        .map(|c| (c.name.as_str(), c.state.as_str()))
        .collect();
    assert_eq!(containers, [("cache", "running"), ("web", "running")]);
    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}
