//! The server end to end: real axum server, real kube::Client, fake (or real) cluster.

mod common;

use common::*;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tycho_fake_kube::TestCluster;
use tycho_server::Settings;

#[tokio::test]
async fn start_status_delete() {
    let cluster = TestCluster::start("server-start-status-delete").await;
    let s = server(&cluster).await;

    // A raw compose body works too; Location points at the status resource.
    let r = s
        .http
        .post(format!("{}/api/v1/systems?name=web", s.base))
        .bearer_auth(ALICE)
        .header("content-type", "application/yaml")
        .body(compose(IMAGE))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let body: Value = r.json().await.unwrap();
    let guid = body["guid"].as_str().unwrap().to_string();
    assert_eq!(guid.len(), 32);
    assert!(guid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(location, format!("/api/v1/systems/{guid}"));
    assert_eq!(body["username"], "alice");
    assert_eq!(body["name"], "web");
    assert_eq!(body["ports"][0]["port"], 8080);

    let running = s
        .wait_for(ALICE, &guid, ready_timeout(&cluster), |b| {
            b["phase"] == "Running"
        })
        .await;
    assert_eq!(running["ready"], 1);
    assert_eq!(running["desired"], 1);
    assert_eq!(running["username"], "alice");
    assert_eq!(running["resources"]["cpu"], TEST_CPU, "the server's policy");
    assert_eq!(running["resources"]["memory"], "256Mi");
    assert_eq!(running["ports"][0]["container_port"], 8080);
    assert!(running["url"].as_str().unwrap().contains(":8080/"));
    assert!(!running["created"].as_str().unwrap().is_empty());
    assert_eq!(running["containers"][0]["image"], IMAGE);

    let (code, list) = s
        .json(Method::GET, "/api/v1/systems", Some(ALICE), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert!(guids(&list).contains(&guid));

    s.delete_gone(ALICE, &guid).await;
    // Idempotent: gone stays gone.
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/systems/{guid}"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(s.status(ALICE, &guid).await.0, StatusCode::NOT_FOUND);
    cluster.cleanup().await;
}

/// Fake only, on every run (also when TYCHO_TEST_KUBECONFIG names a cluster): a real API
/// server cannot be told to fail the nth create, nor counted exactly.
#[tokio::test]
async fn failure_mid_start_leaves_nothing_behind() {
    let cluster = TestCluster::start_fake("server-failure-mid-start").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    let s = server(&cluster).await;
    let baseline = fake.object_count();
    for plural in ["services", "networkpolicies"] {
        fake.fail_nth_create(plural, 1, 500);
        let (code, body) = s
            .json(
                Method::POST,
                "/api/v1/systems",
                Some(ALICE),
                Some(json!({"compose": compose(IMAGE)})),
            )
            .await;
        assert_eq!(code, StatusCode::BAD_GATEWAY, "{plural}: {body}");
        assert_eq!(body["type"], "urn:tycho:problem:cluster-refused");
        // Nothing left: the Deployment and everything created before the failure are gone.
        wait_for_count(fake, baseline, &format!("{plural}: objects left over")).await;
        let (_, list) = s
            .json(Method::GET, "/api/v1/systems", Some(ALICE), None)
            .await;
        assert_eq!(list["systems"], json!([]), "{plural}");
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_new_server_still_lists_the_systems() {
    let cluster = TestCluster::start("server-restart").await;
    let first = server(&cluster).await;
    let guid = first.start(ALICE, &compose(IMAGE), "keep").await;
    drop(first);

    let second = server(&cluster).await;
    let (code, list) = second
        .json(Method::GET, "/api/v1/systems", Some(ALICE), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    let found = list["systems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["guid"] == guid)
        .cloned()
        .expect("the second server sees the first one's system");
    assert_eq!(found["name"], "keep");
    assert_eq!(found["username"], "alice");
    second.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn users_see_and_delete_only_their_own_systems() {
    let cluster = TestCluster::start("server-users").await;
    let s = server(&cluster).await;
    let alices = s.start(ALICE, &compose(IMAGE), "a").await;
    let bobs = s.start(BOB, &compose(IMAGE), "b").await;

    let (_, bob_list) = s
        .json(Method::GET, "/api/v1/systems", Some(BOB), None)
        .await;
    assert_eq!(guids(&bob_list), vec![bobs.clone()]);
    assert_eq!(s.status(BOB, &alices).await.0, StatusCode::NOT_FOUND);
    let r = s
        .call(
            Method::DELETE,
            &format!("/api/v1/systems/{alices}"),
            Some(BOB),
            None,
        )
        .await;
    // The same answer as for a GUID that never existed, so DELETE tells nothing about others.
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = s
        .call(
            Method::DELETE,
            "/api/v1/systems/0123456789abcdef0123456789abcdef",
            Some(BOB),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        s.status(ALICE, &alices).await.0,
        StatusCode::OK,
        "still there"
    );
    let (code, _) = s
        .json(Method::GET, "/api/v1/systems?user=alice", Some(BOB), None)
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    // Compat endpoints apply the same rule.
    let (code, body) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(BOB),
            Some(json!({"name": alices})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(
        s.status(ALICE, &alices).await.0,
        StatusCode::OK,
        "still there after Bob's compat delete"
    );
    let (_, st) = s
        .json(
            Method::POST,
            "/system/status",
            Some(BOB),
            Some(json!({"name": alices})),
        )
        .await;
    assert_eq!(st["result"], json!([]));

    // Admins see everyone, may filter by user, and may delete.
    let (_, all) = s
        .json(Method::GET, "/api/v1/systems", Some(ROOT), None)
        .await;
    let all = guids(&all);
    assert!(all.contains(&alices) && all.contains(&bobs));
    let (_, only) = s
        .json(Method::GET, "/api/v1/systems?user=alice", Some(ROOT), None)
        .await;
    assert_eq!(guids(&only), vec![alices.clone()]);
    s.delete_gone(ROOT, &alices).await;
    s.delete_gone(BOB, &bobs).await;

    // No token, wrong token.
    let (code, body) = s.json(Method::GET, "/api/v1/systems", None, None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401);
    let (code, _) = s
        .json(Method::GET, "/api/v1/systems", Some("not-a-token"), None)
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    cluster.cleanup().await;
}

#[tokio::test]
async fn compat_endpoints_answer_with_the_original_shapes() {
    let cluster = TestCluster::start("server-compat").await;
    let s = server(&cluster).await;
    let system = json!({
        "version": "3",
        "services": {"web": {"image": IMAGE, "ports": ["8080:8080"]}}
    });
    let (code, body) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ROOT),
            Some(json!({
                "name": "jupyter",
                "principal": "{\"username\": \"carol\", \"access_token\": \"x\"}",
                "serviceaccount": null,
                "env": {"HOST_PORT": "8080"},
                "system": system,
                "services": {"web": {"port": "8080", "clients": ["10.1.0.0/16"]}}
            })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert!(body["message"].as_str().unwrap().contains("jupyter"));
    let result = &body["result"];
    let keys: Vec<&str> = result
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["conn_string", "containers", "name", "sid"]);
    assert_eq!(result["name"], "jupyter");
    let sid = result["sid"].as_str().unwrap().to_string();
    // Proxy mode (the default): the absolute connect URL, at the Host the server was reached by.
    assert_eq!(result["conn_string"], format!("{}/connect/{sid}/", s.base));
    let web = result["containers"]["web"]
        .as_object()
        .expect("container entry");
    assert!(web.contains_key("ip_address"));
    assert_eq!(web.len(), 2, "ip_address and one port: {web:?}");

    for request in [
        json!({}),
        json!({"name": sid}),
        json!({"username": "carol"}),
    ] {
        let (code, body) = s
            .json(
                Method::POST,
                "/system/status",
                Some(ROOT),
                Some(request.clone()),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "success");
        let items = body["result"].as_array().unwrap();
        let item = items
            .iter()
            .find(|i| i["sid"] == sid)
            .unwrap_or_else(|| panic!("{request}: {body}"));
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "app_id",
                "creation_time",
                "ip_address",
                "is_ready",
                "name",
                "port",
                "sid",
                "username",
                "utilization",
                "workspace_name"
            ]
        );
        assert_eq!(item["username"], "carol");
        assert_eq!(item["app_id"], "jupyter");
        assert_eq!(item["port"], "8080");
        assert!(item["is_ready"].is_boolean());
        assert!(item["utilization"]["web"].is_object());
        assert_eq!(
            item["creation_time"].as_str().unwrap().matches('-').count(),
            2
        );
    }

    let (code, body) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(ROOT),
            Some(json!({"name": sid})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "success");
    let (code, _) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(ROOT),
            Some(json!({"name": sid})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "deleting twice is fine");

    // Errors keep the envelope, with a real code.
    let (code, body) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ROOT),
            Some(json!({"name": "bad", "principal": "{}", "system": {"services": {"web": {"ports": ["x"]}}}})),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["status"], "error");
    assert!(body["result"]["error"].is_string());
    assert!(body["message"].is_string());
    let (code, body) = s
        .json(Method::POST, "/system/status", None, Some(json!({})))
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], "error");
    // A non-admin may not start for someone else.
    let (code, _) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ALICE),
            Some(json!({"name": "x", "principal": "{\"username\": \"bob\"}", "system": system})),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    cluster.cleanup().await;
}

/// `conn_string` is where users open the system: the connect URL under `--public-url` in proxy
/// mode, the original's `/private/<app>/<user>/<guid>/` in ambassador mode, the Service URL
/// when Tycho offers no way in (`connect.mode: none`).
#[tokio::test]
async fn compat_conn_string_follows_the_connect_mode() {
    let cluster = TestCluster::start("server-compat-conn-string").await;
    let start = json!({
        "name": "jupyter",
        "principal": "{\"username\": \"carol\"}",
        "system": {"services": {"web": {"image": IMAGE, "ports": ["8080:8080"]}}},
    });
    let mut proxy = settings(&cluster);
    proxy.connect.public_url = Some("https://tycho.example.org".into());
    let mut ambassador = settings(&cluster);
    ambassador.policy.connect.mode = tycho_compiler::ConnectMode::Ambassador;
    let mut none = settings(&cluster);
    none.policy.connect.mode = tycho_compiler::ConnectMode::None;
    for (settings, expected) in [
        (proxy, "https://tycho.example.org/connect/{sid}/"),
        (ambassador, "/private/jupyter/carol/{sid}/"),
        (none, "http://jupyter-{sid}."),
    ] {
        let s = server_with(&cluster, settings).await;
        let (code, body) = s
            .json(
                Method::POST,
                "/system/start",
                Some(ROOT),
                Some(start.clone()),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let sid = body["result"]["sid"].as_str().unwrap();
        let conn = body["result"]["conn_string"].as_str().unwrap();
        let expected = expected.replace("{sid}", sid);
        assert!(conn.starts_with(&expected), "{conn} is not {expected}…");
        s.delete_gone(ROOT, sid).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn invalid_compose_is_422_with_diagnostics() {
    let cluster = TestCluster::start("server-invalid").await;
    let s = server(&cluster).await;
    let bad = "services:\n  web:\n    ports:\n      - \"not-a-port\"\n";
    let r = s
        .call(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": bad})),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    let problem: Value = r.json().await.unwrap();
    assert_eq!(problem["status"], 422);
    let errors = problem["errors"].as_array().unwrap();
    assert!(!errors.is_empty());
    for e in errors {
        assert!(e["code"].as_str().unwrap().starts_with("TY"), "{e}");
        assert!(e["line"].as_u64().unwrap() >= 1, "{e}");
    }

    let (code, v) = s
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(json!({"compose": bad})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["valid"], false);
    assert!(v["errors"].as_u64().unwrap() >= 1);

    let (code, c) = s
        .json(
            Method::POST,
            "/api/v1/compile",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE), "name": "web", "guid": "abc123"})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{c}");
    assert_eq!(c["guid"], "abc123");
    assert!(c["yaml"].as_str().unwrap().contains("kind: Deployment"));
    assert!(c["objects"].as_array().unwrap().len() >= 2);
    // Same output as the compiler (what the CLI prints).
    let plan = tycho_compiler::compile(
        &compose(IMAGE),
        &tycho_compiler::CompileOptions {
            name: "web".into(),
            guid: "abc123".into(),
            username: "alice".into(),
            namespace: cluster.namespace.clone(),
            policy: test_policy(),
            ..Default::default()
        },
    )
    .plan
    .unwrap();
    assert_eq!(c["yaml"].as_str().unwrap(), plan.to_yaml());

    // Not JSON at all.
    let r = s
        .http
        .post(format!("{}/api/v1/systems", s.base))
        .bearer_auth(ALICE)
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    cluster.cleanup().await;
}

#[tokio::test]
async fn limits_body_size_and_systems_per_user() {
    let cluster = TestCluster::start("server-limits").await;
    let s = server_with(
        &cluster,
        Settings {
            max_systems_per_user: 2,
            max_body_bytes: 4096,
            ..settings(&cluster)
        },
    )
    .await;
    let a = s.start(ALICE, &compose(IMAGE), "one").await;
    let b = s.start(ALICE, &compose(IMAGE), "two").await;
    let (code, body) = s
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE)})),
        )
        .await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["type"], "urn:tycho:problem:too-many-systems");
    // Bob is not affected by Alice's count.
    let c = s.start(BOB, &compose(IMAGE), "three").await;

    let huge = format!("{}# {}\n", compose(IMAGE), "x".repeat(10_000));
    let (code, body) = s
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(BOB),
            Some(json!({"compose": huge})),
        )
        .await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    for (t, g) in [(ALICE, &a), (ALICE, &b), (BOB, &c)] {
        s.delete_gone(t, g).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn no_cluster_answers_503_but_compiles() {
    let s = server_without_cluster(Settings {
        auth: tokens(),
        ..Settings::default()
    })
    .await;
    let (code, body) = s
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE)})),
        )
        .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["type"], "urn:tycho:problem:no-cluster");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("no Kubernetes cluster is configured")
    );
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["cluster"]["configured"], false);
    assert_eq!(body["cluster"]["message"], "no cluster in this test");
    let (code, _) = s.json(Method::GET, "/healthz", None, None).await;
    assert_eq!(code, StatusCode::OK);
    let (code, v) = s
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE)})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(v["valid"], true);
    let (code, _) = s
        .json(
            Method::POST,
            "/api/v1/compile",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE)})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    let (code, body) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ROOT),
            Some(json!({"name": "x", "system": {}})),
        )
        .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "error");
    // The dashboard placeholder, the docs and the metrics are served without a cluster.
    let page = s
        .call(Method::GET, "/", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("/apidocs"));
    let (code, doc) = s.json(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(code, StatusCode::OK);
    for path in [
        "/api/v1/systems",
        "/api/v1/systems/{guid}",
        "/system/start",
        "/api/v1/events",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let ui = s.call(Method::GET, "/apidocs/", None, None).await;
    assert_eq!(ui.status(), StatusCode::OK);
    assert!(ui.text().await.unwrap().contains("swagger"));
    let metrics = s
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "tycho_http_requests_total{method=\"POST\",route=\"/api/v1/systems\",status=\"503\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("tycho_cluster_reachable 0"));
}

#[tokio::test]
async fn dashboard_is_served_from_dist_with_spa_fallback() {
    let dir = dist_dir(
        "spa",
        &[
            ("index.html", "<html>tycho dashboard</html>"),
            ("app.js", "console.log(1)"),
        ],
    );
    let s = server_without_cluster(Settings {
        dist: Some(dir.clone()),
        ..Settings::default()
    })
    .await;
    for path in ["/", "/systems/abc"] {
        let r = s.call(Method::GET, path, None, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.text().await.unwrap().contains("tycho dashboard"),
            "{path}"
        );
    }
    let js = s
        .call(Method::GET, "/app.js", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(js, "console.log(1)");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn image_pull_failure_has_a_plain_reason() {
    let cluster = TestCluster::start("server-image-pull").await;
    if let Some(fake) = cluster.fake.as_ref() {
        fake.set_image_behavior(
            "does-not-exist",
            tycho_fake_kube::PodBehavior::ImagePullBackOff,
        );
    }
    let s = server(&cluster).await;
    // On a real cluster this registry does not resolve, so the pull fails for real.
    let image = "registry.invalid/tycho/does-not-exist:1";
    let guid = s.start(ALICE, &compose(image), "broken").await;
    let failed = s
        .wait_for(ALICE, &guid, ready_timeout(&cluster), |b| {
            b["phase"] == "Failed"
        })
        .await;
    let reason = failed["reason"].as_str().unwrap();
    assert!(
        reason == "ImagePullBackOff" || reason == "ErrImagePull",
        "{failed}"
    );
    let message = failed["message"].as_str().unwrap();
    assert!(
        message.contains("cannot be pulled") && message.contains(image),
        "{message}"
    );
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// Fake only, on every run: a real cluster cannot be made to exceed a quota, crash-loop or
/// become unreachable on demand.
#[tokio::test]
async fn fake_only_failures_quota_crash_and_unreachable() {
    let cluster = TestCluster::start_fake("server-fake-failures").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    use tycho_fake_kube::PodBehavior;
    fake.set_image_behavior("quota", PodBehavior::QuotaExceeded);
    fake.set_image_behavior("crashes", PodBehavior::CrashLoopBackOff);
    fake.set_image_behavior("toobig", PodBehavior::Unschedulable);
    fake.set_image_behavior("UPPER", PodBehavior::InvalidImageName);
    let s = server(&cluster).await;
    let cases = [
        ("example/quota:1", "Failed", "QuotaExceeded"),
        ("example/crashes:1", "Failed", "CrashLoopBackOff"),
        ("example/toobig:1", "Pending", "Unschedulable"),
        ("example/UPPER:1", "Failed", "InvalidImageName"),
    ];
    for (image, phase, reason) in cases {
        let guid = s.start(ALICE, &compose(image), "f").await;
        let st = s
            .wait_for(ALICE, &guid, Duration::from_secs(20), |b| {
                b["reason"] == reason
            })
            .await;
        assert_eq!(st["phase"], phase, "{image}: {st}");
        assert!(!st["message"].as_str().unwrap().is_empty());
        s.delete_gone(ALICE, &guid).await;
    }

    fake.set_unreachable(true);
    let (code, body) = s
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE)})),
        )
        .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["cluster"]["reachable"], false);
    fake.set_unreachable(false);
    let (code, _) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::OK);
    cluster.cleanup().await;
}

/// Fake only, on every run: only the fake counts the API requests the server makes.
#[tokio::test]
async fn status_lists_use_one_call_per_kind() {
    let cluster = TestCluster::start_fake("server-list-calls").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    let s = server(&cluster).await;
    let mut guids = Vec::new();
    for i in 0..5 {
        guids.push(s.start(ALICE, &compose(IMAGE), &format!("s{i}")).await);
    }
    fake.reset_requests();
    let (code, list) = s
        .json(Method::GET, "/api/v1/systems", Some(ROOT), None)
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(list["systems"].as_array().unwrap().len(), 5);
    assert_eq!(
        fake.request_count(),
        3,
        "deployments, pods, services: {:?}",
        fake.requests()
    );
    for g in &guids {
        s.delete_gone(ALICE, g).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn events_stream_a_snapshot_then_changes() {
    use futures::StreamExt;
    let cluster = TestCluster::start("server-events").await;
    let s = server(&cluster).await;
    let r = s
        .http
        .get(format!("{}/api/v1/events", s.base))
        .bearer_auth(ALICE)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut stream = r.bytes_stream();
    let mut buffer = String::new();
    let mut next_event = async || -> (String, Value) {
        loop {
            if let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = n.trim().to_string();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if name.is_empty() {
                    continue; // keepalive comment
                }
                return (
                    name,
                    serde_json::from_str(&data).unwrap_or(Value::String(data)),
                );
            }
            let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
                .await
                .expect("an event within 30 s")
                .expect("stream open")
                .unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    };
    let (name, first) = next_event().await;
    assert_eq!(name, "snapshot");
    assert_eq!(first["type"], "snapshot");
    assert!(first["systems"].as_array().unwrap().is_empty());

    let guid = s.start(ALICE, &compose(IMAGE), "ev").await;
    let (name, changed) = next_event().await;
    assert_eq!(name, "changed", "{changed}");
    assert_eq!(changed["system"]["guid"], guid);

    // Per-system stream: snapshot of just that system; others' systems are 404.
    let r = s
        .http
        .get(format!("{}/api/v1/systems/{guid}/events", s.base))
        .bearer_auth(BOB)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);

    s.delete_gone(ALICE, &guid).await;
    loop {
        let (name, e) = next_event().await;
        if name == "removed" {
            assert_eq!(e["guid"], guid);
            break;
        }
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn concurrent_starts_get_distinct_guids() {
    let cluster = TestCluster::start("server-concurrent").await;
    let s = Arc::new(
        server_with(
            &cluster,
            Settings {
                max_systems_per_user: 0,
                max_concurrent_starts: 4,
                ..settings(&cluster)
            },
        )
        .await,
    );
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let s = s.clone();
            tokio::spawn(async move { s.start(ALICE, &compose(IMAGE), &format!("c{i}")).await })
        })
        .collect();
    let mut guids = Vec::new();
    for t in tasks {
        guids.push(t.await.unwrap());
    }
    let mut unique = guids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 12);
    let (_, list) = s
        .json(Method::GET, "/api/v1/systems", Some(ALICE), None)
        .await;
    let mut listed = common::guids(&list);
    listed.sort();
    assert_eq!(listed, unique, "the list shows exactly the started systems");
    for g in &guids {
        s.delete_gone(ALICE, g).await;
    }
    cluster.cleanup().await;
}
