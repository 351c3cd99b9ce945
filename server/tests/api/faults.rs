//! Failures only the fake can cause, on every run (also when TYCHO_TEST_KUBECONFIG names a
//! cluster): a real API server cannot be told to fail the nth create, exceed a quota, crash-loop
//! or become unreachable on demand, nor have its requests counted exactly.

use reqwest::{Method, StatusCode};
use std::time::Duration;
use tycho_client::api::Phase;
use tycho_test_server::*;

#[tokio::test]
async fn failure_mid_start_leaves_nothing_behind() {
    let cluster = TestCluster::start_fake("server-failure-mid-start").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    let s = TestServer::on(&cluster).await;
    let baseline = fake.object_count();
    for plural in ["services", "networkpolicies"] {
        fake.fail_nth_create(plural, 1, 500);
        let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
        assert_eq!(code, StatusCode::BAD_GATEWAY, "{plural}: {body}");
        assert_eq!(body["type"], "urn:tycho:problem:cluster-refused");
        // Nothing left: the Deployment and everything created before the failure are gone.
        wait_for_count(fake, baseline, &format!("{plural}: objects left over")).await;
        let list = s.client(ALICE).list().await.unwrap();
        assert!(list.is_empty(), "{plural}: {list:?}");
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn fake_only_failures_quota_crash_and_unreachable() {
    let cluster = TestCluster::start_fake("server-fake-failures").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    fake.set_image_behavior("quota", PodBehavior::QuotaExceeded);
    fake.set_image_behavior("crashes", PodBehavior::CrashLoopBackOff);
    fake.set_image_behavior("toobig", PodBehavior::Unschedulable);
    fake.set_image_behavior("UPPER", PodBehavior::InvalidImageName);
    let s = TestServer::on(&cluster).await;
    let cases = [
        ("example/quota:1", Phase::Failed, "QuotaExceeded"),
        ("example/crashes:1", Phase::Failed, "CrashLoopBackOff"),
        ("example/toobig:1", Phase::Pending, "Unschedulable"),
        ("example/UPPER:1", Phase::Failed, "InvalidImageName"),
    ];
    for (image, phase, reason) in cases {
        let guid = s.start_system(ALICE, &compose(image), "f").await;
        let st = s
            .wait_until(ALICE, &guid, Duration::from_secs(20), |st| {
                st.reason == reason
            })
            .await;
        assert_eq!(st.phase, phase, "{image}: {st:?}");
        assert!(!st.message.is_empty());
        s.delete_gone(ALICE, &guid).await;
    }

    fake.set_unreachable(true);
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["cluster"]["reachable"], false);
    fake.set_unreachable(false);
    let (code, _) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::OK);
    cluster.cleanup().await;
}

/// Only the fake counts the API requests the server makes: reads answer from the watches.
#[tokio::test]
async fn status_reads_cost_the_api_server_nothing() {
    let cluster = TestCluster::start_fake("server-list-calls").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    let s = TestServer::on(&cluster).await;
    let mut guids = Vec::new();
    for i in 0..5 {
        guids.push(
            s.start_system(ALICE, &compose(IMAGE), &format!("s{i}"))
                .await,
        );
    }
    fake.reset_requests();
    for _ in 0..3 {
        let list = s.client(ADMIN).list().await.unwrap();
        assert_eq!(list.len(), 5);
        assert_eq!(s.client(ALICE).list().await.unwrap().len(), 5);
        assert!(s.client(BOB).list().await.unwrap().is_empty());
    }
    for g in &guids {
        let (code, body) = s
            .json(
                Method::GET,
                &format!("/api/v1/systems/{g}"),
                Some(ALICE),
                None,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let (code, body) = s
            .json(
                Method::GET,
                &format!("/api/v1/systems/{g}/kube-events"),
                Some(ALICE),
                None,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
    }
    assert_eq!(
        fake.request_count(),
        0,
        "lists, status and events read the cache: {:?}",
        fake.requests()
    );
    // A start is seen by the very next list (it waits for its own change in the cache).
    let guid = s.start_system(ALICE, &compose(IMAGE), "six").await;
    let list = s.client(ALICE).list().await.unwrap();
    assert!(list.iter().any(|st| st.guid == guid), "{list:?}");
    guids.push(guid);
    for g in &guids {
        s.delete_gone(ALICE, g).await;
    }
    cluster.cleanup().await;
}
