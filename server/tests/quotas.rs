//! Per-user quotas through the HTTP API: exactly the allowed number of 50 concurrent starts
//! succeed, terminating systems count until their pods are gone, a lowered quota leaves
//! running systems alone, and `GET /api/v1/quota` reports use and limits.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_fake_kube::Termination;
use tycho_server::Settings;
use tycho_test_server::*;

/// Every test system asks for [`TEST_CPU`] (10m): a CPU quota of `n` × 10m allows `n`.
fn cpu_quota(systems: u32) -> tycho_compiler::Policy {
    let mut policy = test_policy();
    policy.quota = tycho_compiler::parse_policy(&format!("quota: {{cpu: {}m}}\n", systems * 10))
        .expect("a quota")
        .quota;
    policy
}

fn quota_settings(cluster: &TestCluster, policy: tycho_compiler::Policy) -> Settings {
    Settings {
        policy,
        // The quota alone decides.
        max_systems_per_user: 0,
        max_concurrent_starts: 50,
        ..settings(cluster)
    }
}

async fn quota_of(s: &TestServer, token: &str, query: &str) -> (StatusCode, Value) {
    s.json(
        Method::GET,
        &format!("/api/v1/quota{query}"),
        Some(token),
        None,
    )
    .await
}

fn line<'a>(report: &'a Value, resource: &str) -> &'a Value {
    report["resources"]
        .as_array()
        .and_then(|lines| lines.iter().find(|l| l["resource"] == resource))
        .unwrap_or_else(|| panic!("no {resource} line in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_fifty_concurrent_starts_exactly_the_allowed_number_succeed() {
    const ALLOWED: u32 = 7;
    const STARTS: usize = 50;
    let cluster = TestCluster::start("server-quota-concurrent").await;
    let s =
        Arc::new(TestServer::start(&cluster, quota_settings(&cluster, cpu_quota(ALLOWED))).await);
    let began = Instant::now();
    let tasks: Vec<_> = (0..STARTS)
        .map(|_| {
            let s = s.clone();
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
    let mut started = Vec::new();
    let mut refused = Vec::new();
    for t in tasks {
        let (status, body) = t.await.expect("the start task");
        match status {
            StatusCode::ACCEPTED => started.push(body["guid"].as_str().unwrap().to_string()),
            StatusCode::TOO_MANY_REQUESTS => refused.push(body),
            other => panic!("a start answered {other}: {body}"),
        }
    }
    let elapsed = began.elapsed();
    println!(
        "{STARTS} concurrent starts against a CPU quota for {ALLOWED}: {} started, {} refused (429), in {} ms",
        started.len(),
        refused.len(),
        elapsed.as_millis()
    );
    assert_eq!(started.len(), ALLOWED as usize);
    assert_eq!(refused.len(), STARTS - ALLOWED as usize);
    let refusal = &refused[0];
    assert_eq!(
        refusal["type"], "urn:tycho:problem:quota-exceeded",
        "{refusal}"
    );
    assert_eq!(
        refusal["quota"],
        json!({"resource": "cpu", "used": 70, "asked": 10, "limit": 70})
    );
    assert_eq!(
        refusal["detail"],
        "alice: you use 0.07 of 0.07 CPUs; this system asks for 0.01 CPUs more"
    );

    let (code, report) = quota_of(&s, ALICE, "").await;
    assert_eq!(code, StatusCode::OK, "{report}");
    assert_eq!(report["username"], "alice");
    assert_eq!(line(&report, "cpu")["used"], 70);
    assert_eq!(line(&report, "cpu")["limit"], 70);
    assert_eq!(line(&report, "systems")["used"], ALLOWED);
    assert_eq!(line(&report, "systems")["limit"], Value::Null);
    assert_eq!(
        report["systems"].as_array().map(Vec::len),
        Some(ALLOWED as usize)
    );
    // Bob's quota is his own; only admins read someone else's.
    let (_, bob) = quota_of(&s, BOB, "").await;
    assert_eq!(line(&bob, "cpu")["used"], 0);
    let (code, _) = quota_of(&s, BOB, "?user=alice").await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    let (code, of_alice) = quota_of(&s, ADMIN, "?user=alice").await;
    assert_eq!(
        (code, &of_alice["username"]),
        (StatusCode::OK, &json!("alice"))
    );
    // The policy's per-user entries are not shown to users.
    let (_, policy) = s
        .json(Method::GET, "/api/v1/policy", Some(ALICE), None)
        .await;
    assert!(policy["policy"]["quota"].get("users").is_none(), "{policy}");

    for guid in &started {
        s.delete_gone(ALICE, guid).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_deleted_system_counts_until_its_pods_are_gone() {
    let cluster = TestCluster::start_fake("server-quota-terminating").await;
    let s = TestServer::start(&cluster, quota_settings(&cluster, cpu_quota(1))).await;
    // Two seconds to stop, and pods that ignore SIGTERM: they stay Terminating that long.
    let slow_to_stop = format!("{}    stop_grace_period: 2s\n", compose(IMAGE));
    let guid = s.start_system(ALICE, &slow_to_stop, "one").await;
    if let Some(fake) = &cluster.fake {
        fake.set_termination(Termination {
            collect_after: Duration::from_millis(50),
            exit_after: Duration::from_secs(3600),
        });
    }
    let (code, _) = s
        .json(
            Method::DELETE,
            &format!("/api/v1/systems/{guid}"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::ACCEPTED);
    // At once, and again once the Deployment is gone and only terminating pods are left.
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["quota"]["used"], 10, "{body}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, status) = s.status(ALICE, &guid).await;
        if status["phase"] == "Terminating" && status["object_name"] == "" {
            break;
        }
        assert!(Instant::now() < deadline, "never only pods left: {status}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(
        body["quota"]["used"], 10,
        "the terminating pod's request: {body}"
    );
    // Its pods gone, the place is free.
    s.delete_gone(ALICE, &guid).await;
    let again = s.start_system(ALICE, &compose(IMAGE), "two").await;
    s.delete_gone(ALICE, &again).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_lowered_quota_leaves_running_systems_alone_and_refuses_new_ones() {
    let cluster = TestCluster::start("server-quota-lowered").await;
    let before = TestServer::start(&cluster, quota_settings(&cluster, cpu_quota(3))).await;
    let mut guids = Vec::new();
    for name in ["a", "b", "c"] {
        guids.push(before.start_system(ALICE, &compose(IMAGE), name).await);
    }
    drop(before);
    // The operator lowers the quota to one system's worth and restarts the server.
    let after = TestServer::start(&cluster, quota_settings(&cluster, cpu_quota(1))).await;
    let (_, report) = quota_of(&after, ALICE, "").await;
    assert_eq!(
        line(&report, "cpu")["text"],
        "0.03 of 0.01 CPUs",
        "{report}"
    );
    for guid in &guids {
        let (code, status) = after.status(ALICE, guid).await;
        assert_eq!(code, StatusCode::OK);
        assert_ne!(status["phase"], "Terminating", "{status}");
    }
    let (code, body) = after.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    for guid in &guids {
        after.delete_gone(ALICE, guid).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn the_systems_flag_is_the_default_and_the_policy_wins() {
    let cluster = TestCluster::start("server-quota-systems").await;
    let mut policy = test_policy();
    policy.quota = tycho_compiler::parse_policy("quota: {systems: 1}\n")
        .unwrap()
        .quota;
    let s = TestServer::start(
        &cluster,
        Settings {
            policy,
            max_systems_per_user: 5,
            ..settings(&cluster)
        },
    )
    .await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "one").await;
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["type"], "urn:tycho:problem:too-many-systems");
    assert_eq!(
        body["detail"],
        "alice: you run 1 of 1 system, the most allowed; delete one to start another"
    );
    let (_, report) = quota_of(&s, ALICE, "").await;
    assert_eq!(line(&report, "systems")["text"], "1 of 1 system");
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}
