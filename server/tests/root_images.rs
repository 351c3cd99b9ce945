//! Images that run as root (issue 13, item 2): under the default `restricted` profile the
//! kubelet refuses them and the status says so in one sentence with both ways out; under
//! `baseline` they run. Runs on a real cluster too (`TYCHO_TEST_KUBECONFIG`), where the
//! official nginx image runs as root by itself.

use tycho_api::Phase;
use tycho_compiler::SecurityProfile;
use tycho_server::Settings;
use tycho_test_server::*;

/// The official image, whose `USER` is root.
const ROOT_IMAGE: &str = "nginx:1.27-alpine";

fn root_compose() -> String {
    format!("services:\n  web:\n    image: {ROOT_IMAGE}\n    ports:\n      - \"8080:80\"\n")
}

async fn cluster(name: &str) -> TestCluster {
    let cluster = TestCluster::start(name).await;
    if let Some(fake) = &cluster.fake {
        fake.set_image_behavior(ROOT_IMAGE, PodBehavior::RunsAsRoot);
    }
    cluster
}

#[tokio::test]
async fn restricted_says_why_a_root_image_cannot_start_and_what_to_do() {
    let cluster = cluster("root-restricted").await;
    let server = TestServer::on(&cluster).await;
    let guid = server.start_system(ALICE, &root_compose(), "root").await;
    let status = server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == Phase::Failed
        })
        .await;
    assert_eq!(status.reason, "RunsAsRoot", "{status:?}");
    for part in ["runs as root", "numeric `user:`", "`baseline` profile"] {
        assert!(status.message.contains(part), "{}", status.message);
    }
    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn baseline_lets_a_root_image_run() {
    let cluster = cluster("root-baseline").await;
    let mut policy = test_policy();
    policy.profile = SecurityProfile::Baseline;
    let server = TestServer::start(
        &cluster,
        Settings {
            policy,
            ..settings(&cluster)
        },
    )
    .await;
    let guid = server.start_system(ALICE, &root_compose(), "root").await;
    server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == Phase::Running
        })
        .await;
    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}
