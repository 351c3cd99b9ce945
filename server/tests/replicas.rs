//! Several server replicas on one cluster: the same answers from each, a start on one streamed
//! by the others (through their watches, not a timer), quotas that hold when concurrent starts
//! of one user land on different replicas, and the start lock a dead replica leaves behind.

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_server::Settings;
use tycho_server::lease::ClusterLocks;
use tycho_test_server::*;

/// Streams that could only learn of a change by polling would wait this long.
fn watch_only(cluster: &TestCluster) -> Settings {
    Settings {
        events_interval: Duration::from_secs(120),
        ..settings(cluster)
    }
}

async fn replicas(cluster: &TestCluster, settings: Settings, n: usize) -> Vec<Arc<TestServer>> {
    let mut servers = Vec::new();
    for _ in 0..n {
        servers.push(Arc::new(TestServer::start(cluster, settings.clone()).await));
    }
    servers
}

async fn guids(s: &TestServer, token: &str) -> BTreeSet<String> {
    let list = s.client(token).list().await.expect("list");
    list.into_iter().map(|st| st.guid).collect()
}

/// Waits until every replica lists exactly `want` for `token`.
async fn all_agree(servers: &[Arc<TestServer>], token: &str, want: &BTreeSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for (i, s) in servers.iter().enumerate() {
        loop {
            let got = guids(s, token).await;
            if &got == want {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "replica {i} lists {got:?}, not {want:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Reads `stream` until an event whose data contains `needle`, within `limit`.
async fn until_event(
    stream: &mut reqwest::Response,
    text: &mut String,
    needle: &str,
    limit: Duration,
) -> bool {
    let deadline = Instant::now() + limit;
    while !text.contains(needle) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return false,
        }
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_answer_alike_and_stream_each_others_changes() {
    let cluster = TestCluster::start("server-replicas-alike").await;
    let servers = replicas(&cluster, watch_only(&cluster), 3).await;
    // Streams on the second and third replica, opened before anything exists.
    let mut streams = Vec::new();
    for s in &servers[1..] {
        let r = s
            .http
            .get(format!("{}/api/v1/events", s.base))
            .bearer_auth(ALICE)
            .send()
            .await
            .expect("stream");
        assert_eq!(r.status(), StatusCode::OK);
        streams.push(r);
    }
    for r in &mut streams {
        let mut text = String::new();
        let snapshot = until_event(r, &mut text, "snapshot", Duration::from_secs(10)).await;
        assert!(snapshot, "{text}");
    }

    let began = Instant::now();
    let guid = servers[0].start_system(ALICE, &compose(IMAGE), "web").await;
    for (i, r) in streams.iter_mut().enumerate() {
        let mut text = String::new();
        assert!(
            until_event(r, &mut text, &guid, Duration::from_secs(10)).await,
            "replica {} did not stream the start: {text}",
            i + 1
        );
    }
    println!(
        "a start on one replica reached the streams of two others in {} ms",
        began.elapsed().as_millis()
    );
    let want = BTreeSet::from([guid.clone()]);
    all_agree(&servers, ALICE, &want).await;
    all_agree(&servers, ADMIN, &want).await;
    all_agree(&servers, BOB, &BTreeSet::new()).await;
    for s in &servers {
        let (code, body) = s.status(ALICE, &guid).await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let (code, _) = s.status(BOB, &guid).await;
        assert_eq!(
            code,
            StatusCode::NOT_FOUND,
            "Bob learns nothing on any replica"
        );
    }

    // Deleted through the third: the stream on the second says so.
    servers[2].delete_gone(ALICE, &guid).await;
    let mut text = String::new();
    assert!(
        until_event(
            &mut streams[0],
            &mut text,
            "removed",
            Duration::from_secs(10)
        )
        .await,
        "{text}"
    );
    all_agree(&servers, ALICE, &BTreeSet::new()).await;
    cluster.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_holds_when_one_users_starts_land_on_different_replicas() {
    const ALLOWED: u32 = 5;
    const STARTS: usize = 18;
    let cluster = TestCluster::start("server-replicas-quota").await;
    let mut policy = test_policy();
    policy.quota = tycho_compiler::parse_policy(&format!("quota: {{cpu: {}m}}\n", ALLOWED * 10))
        .expect("a quota")
        .quota;
    let quota = Settings {
        policy,
        max_systems_per_user: 0,
        max_concurrent_starts: 50,
        ..settings(&cluster)
    };
    let servers = replicas(&cluster, quota, 3).await;
    let began = Instant::now();
    let tasks: Vec<_> = (0..STARTS)
        .map(|i| {
            let s = servers[i % servers.len()].clone();
            tokio::spawn(async move {
                let r = s
                    .call(
                        Method::POST,
                        "/api/v1/systems",
                        Some(ALICE),
                        Some(json!({"compose": compose(IMAGE)})),
                    )
                    .await;
                let status = r.status();
                (status, r.json::<Value>().await.unwrap_or_default())
            })
        })
        .collect();
    let (mut started, mut refused) = (Vec::new(), 0);
    for t in tasks {
        let (status, body) = t.await.expect("the start task");
        match status {
            StatusCode::ACCEPTED => started.push(body["guid"].as_str().unwrap().to_string()),
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(body["quota"]["resource"], "cpu", "{body}");
                refused += 1;
            }
            other => panic!("a start answered {other}: {body}"),
        }
    }
    println!(
        "{STARTS} concurrent starts over 3 replicas against a CPU quota for {ALLOWED}: {} started, {refused} refused, in {} ms",
        started.len(),
        began.elapsed().as_millis()
    );
    assert_eq!(started.len(), ALLOWED as usize);
    assert_eq!(refused, STARTS - ALLOWED as usize);
    // No start lock is left behind.
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let left: Vec<String> = leases
        .list(&Default::default())
        .await
        .expect("leases")
        .items
        .into_iter()
        .filter_map(|l| l.metadata.name)
        .filter(|n| n.starts_with("tycho-start-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    for g in &started {
        servers[0].delete_gone(ALICE, g).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_start_lock_waits_for_its_holder_and_is_taken_over_once_it_expires() {
    let cluster = TestCluster::start("server-replicas-lock").await;
    let leases: Api<Lease> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let a = ClusterLocks::new(cluster.client.clone(), &cluster.namespace, "replica-a");
    let b = ClusterLocks::new(cluster.client.clone(), &cluster.namespace, "replica-b");

    let held = a
        .lock("tycho-start-test", Duration::from_secs(1))
        .await
        .expect("lock")
        .expect("free");
    let waited = Instant::now();
    let none = b
        .lock("tycho-start-test", Duration::from_millis(300))
        .await
        .expect("lock");
    assert!(none.is_none(), "held by a: b must not get it");
    assert!(waited.elapsed() >= Duration::from_millis(300));
    held.release().await;
    let held = b
        .lock("tycho-start-test", Duration::from_secs(1))
        .await
        .expect("lock")
        .expect("given back");
    held.release().await;
    assert!(
        leases.get_opt("tycho-start-test").await.unwrap().is_none(),
        "released locks are deleted"
    );

    // A replica that died holding it: its Lease expired long ago, so the next one takes it.
    let long_ago =
        k8s_openapi::jiff::Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_secs(600);
    let dead = Lease {
        metadata: ObjectMeta {
            name: Some("tycho-start-dead".into()),
            ..Default::default()
        },
        spec: Some(LeaseSpec {
            holder_identity: Some("replica-that-died".into()),
            lease_duration_seconds: Some(60),
            acquire_time: Some(MicroTime(long_ago)),
            renew_time: Some(MicroTime(long_ago)),
            ..Default::default()
        }),
    };
    leases
        .create(&PostParams::default(), &dead)
        .await
        .expect("create");
    let held = a
        .lock("tycho-start-dead", Duration::from_secs(2))
        .await
        .expect("lock")
        .expect("taken over");
    let now = leases.get("tycho-start-dead").await.expect("get");
    assert_eq!(
        now.spec.and_then(|s| s.holder_identity).as_deref(),
        Some("replica-a")
    );
    held.release().await;
    cluster.cleanup().await;
}
