//! What the dashboard needs from the server: the policy, a system's Kubernetes Events, event
//! streams a browser can open (token in the query), and compressed answers.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::{Duration, Instant};
use tycho_server::Settings;
use tycho_test_server::*;

#[tokio::test]
async fn policy_is_the_one_the_server_compiles_with() {
    let mut policy = tycho_compiler::Policy::default();
    policy.max_resources.memory = "4Gi".into();
    let s = TestServer::without_cluster(Settings {
        auth: tokens(),
        policy,
        ..Settings::default()
    })
    .await;
    let (code, body) = s
        .json(Method::GET, "/api/v1/policy", Some(ALICE), None)
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    let policy = &body["policy"];
    assert_eq!(policy["max_resources"]["memory"], "4Gi");
    assert_eq!(policy["max_resources"]["cpu"], "8");
    assert_eq!(policy["default_resources"]["memory"], "256Mi");
    assert_eq!(policy["allow_root"], false);
    // The same keys the compiler reads: the answer is a policy file the server would accept.
    let back = tycho_compiler::parse_policy(&policy.to_string()).unwrap();
    assert_eq!(back.max_resources.memory, "4Gi");

    let (code, body) = s.json(Method::GET, "/api/v1/policy", None, None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
    assert_eq!(body["status"], 401);
}

/// Polls a system's kube-events until `pred` holds for the list (events arrive asynchronously
/// on a real cluster).
async fn kube_events_until(
    s: &TestServer,
    cluster: &TestCluster,
    guid: &str,
    pred: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + ready_timeout(cluster);
    loop {
        let (code, body) = s
            .json(
                Method::GET,
                &format!("/api/v1/systems/{guid}/kube-events"),
                Some(ALICE),
                None,
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let items = body["items"].as_array().expect("items").clone();
        if pred(&items) {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for events: {body}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The name part of `"Kind/name"`.
fn object_name(event: &Value) -> &str {
    let object = event["object"].as_str().expect("object");
    object.split_once('/').map(|(_, n)| n).unwrap_or(object)
}

#[tokio::test]
async fn kube_events_are_those_of_the_system() {
    let cluster = TestCluster::start("server-kube-events").await;
    let s = TestServer::on(&cluster).await;
    let mine = s.start_system(ALICE, &compose(IMAGE), "evone").await;
    let other = s.start_system(ALICE, &compose(IMAGE), "evtwo").await;
    for guid in [&mine, &other] {
        s.wait_for(ALICE, guid, ready_timeout(&cluster), |b| {
            b["phase"] == "Running"
        })
        .await;
    }
    let object = s.status(ALICE, &mine).await.1["object_name"]
        .as_str()
        .unwrap()
        .to_string();
    let other_object = s.status(ALICE, &other).await.1["object_name"]
        .as_str()
        .unwrap()
        .to_string();

    // Things a real kube-controller-manager and kubelet also report: the Deployment scaling
    // its ReplicaSet, and something about the pod.
    let about_pod = |e: &Value| {
        e["object"]
            .as_str()
            .is_some_and(|o| o.starts_with(&format!("Pod/{object}-")))
    };
    let items = kube_events_until(&s, &cluster, &mine, |items| {
        items.iter().any(|e| e["reason"] == "ScalingReplicaSet") && items.iter().any(about_pod)
    })
    .await;
    let scaling = items
        .iter()
        .find(|e| e["reason"] == "ScalingReplicaSet")
        .unwrap();
    assert_eq!(scaling["object"], format!("Deployment/{object}"));
    for e in &items {
        let name = object_name(e);
        assert!(
            name == object || name.starts_with(&format!("{object}-")),
            "an event of another object: {e}"
        );
        assert!(e["type"] == "Normal" || e["type"] == "Warning", "{e}");
        assert!(e["count"].as_u64().unwrap() >= 1, "{e}");
        assert!(!e["reason"].as_str().unwrap().is_empty(), "{e}");
        assert!(e["last_seen"].is_string(), "{e}");
    }
    // The other system has events of its own, and none of them showed up above.
    let others = kube_events_until(&s, &cluster, &other, |items| !items.is_empty()).await;
    assert!(
        others
            .iter()
            .all(|e| object_name(e).starts_with(&other_object)),
        "{others:?}"
    );

    // Someone else's system, or none at all: 404 problem.
    let path = format!("/api/v1/systems/{mine}/kube-events");
    let r = s.call(Method::GET, &path, Some(BOB), None).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let (code, body) = s
        .json(
            Method::GET,
            "/api/v1/systems/0123456789abcdef/kube-events",
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["type"], "urn:tycho:problem:not-found");
    // An admin may look.
    let r = s.call(Method::GET, &path, Some(ADMIN), None).await;
    assert_eq!(r.status(), StatusCode::OK);

    s.delete_gone(ALICE, &mine).await;
    s.delete_gone(ALICE, &other).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn kube_events_without_a_cluster_are_503() {
    let s = TestServer::without_cluster(Settings {
        auth: tokens(),
        ..Settings::default()
    })
    .await;
    let (code, body) = s
        .json(
            Method::GET,
            "/api/v1/systems/0123456789abcdef/kube-events",
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["type"], "urn:tycho:problem:no-cluster");
}

#[tokio::test]
async fn event_streams_take_the_token_from_the_query_and_nothing_else_does() {
    let cluster = TestCluster::start("server-sse-token").await;
    let s = TestServer::on(&cluster).await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "stream").await;
    for path in ["/api/v1/events", &format!("/api/v1/systems/{guid}/events")] {
        let r = s
            .get_with(&format!("{path}?access_token={ALICE}"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/event-stream"),
            "{path}"
        );
        drop(r);
        let r = s
            .get_with(&format!("{path}?access_token=not-a-token"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    // Bob's token in the query does not open Alice's system.
    let r = s
        .get_with(
            &format!("/api/v1/systems/{guid}/events?access_token={BOB}"),
            &[],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    // Every other route ignores the query parameter.
    for path in ["/api/v1/systems", "/api/v1/whoami", "/api/v1/policy"] {
        let r = s
            .get_with(&format!("{path}?access_token={ALICE}"), &[])
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn answers_are_gzipped_except_event_streams() {
    let script = "console.log('tycho dashboard');\n".repeat(200);
    let dir = dist_dir(
        "gzip",
        &[
            ("index.html", "<html>tycho dashboard</html>"),
            ("app.js", &script),
        ],
    );
    let cluster = TestCluster::start("server-gzip").await;
    let s = TestServer::start(
        &cluster,
        Settings {
            dist: Some(dir.clone()),
            ..settings(&cluster)
        },
    )
    .await;
    let gzip = [("accept-encoding", "gzip")];

    for path in ["/openapi.json", "/app.js"] {
        let plain = s.get_with(path, &[]).await;
        assert_eq!(plain.status(), StatusCode::OK, "{path}");
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain_len = plain.bytes().await.unwrap().len();
        let packed = s.get_with(path, &gzip).await;
        assert_eq!(packed.status(), StatusCode::OK, "{path}");
        assert_eq!(packed.headers()["content-encoding"], "gzip", "{path}");
        let packed_len = packed.bytes().await.unwrap().len();
        assert!(
            packed_len < plain_len / 2,
            "{path}: {packed_len} of {plain_len}"
        );
    }
    let (_, doc) = s.json(Method::GET, "/openapi.json", None, None).await;
    for p in ["/api/v1/policy", "/api/v1/systems/{guid}/kube-events"] {
        assert!(
            doc["paths"][p].is_object(),
            "{p} missing from the OpenAPI document"
        );
    }

    let events = s
        .get_with(
            "/api/v1/events",
            &[
                ("accept-encoding", "gzip"),
                ("authorization", &format!("Bearer {ALICE}")),
            ],
        )
        .await;
    assert_eq!(events.status(), StatusCode::OK);
    assert!(
        events.headers().get("content-encoding").is_none(),
        "event streams are not compressed"
    );
    drop(events);
    let _ = std::fs::remove_dir_all(dir);
    cluster.cleanup().await;
}
