//! What the server refuses before it creates anything: invalid compose files (422 with
//! diagnostics, as `validate` and `compile` report them), bodies that are not JSON or too
//! large, and more systems than a user may have.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tycho_client::api::{CompileRequest, StartRequest};
use tycho_server::Settings;
use tycho_test_server::*;

#[tokio::test]
async fn invalid_compose_is_422_with_diagnostics() {
    let cluster = TestCluster::start("server-invalid").await;
    let s = TestServer::on(&cluster).await;
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

    let alice = s.client(ALICE);
    let v = alice
        .validate(&CompileRequest {
            system: StartRequest {
                compose: bad.into(),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(!v.valid);
    assert!(v.errors >= 1);

    let c = alice
        .compile(&CompileRequest {
            system: StartRequest {
                compose: compose(IMAGE).into(),
                name: "web".into(),
                ..Default::default()
            },
            guid: "abc123".into(),
        })
        .await
        .unwrap();
    assert_eq!(c.guid, "abc123");
    assert!(c.yaml.contains("kind: Deployment"));
    assert!(c.objects.len() >= 2);
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
    assert_eq!(c.yaml, plan.to_yaml());

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
    let s = TestServer::start(
        &cluster,
        Settings {
            max_systems_per_user: 2,
            max_body_bytes: 4096,
            ..settings(&cluster)
        },
    )
    .await;
    let a = s.start_system(ALICE, &compose(IMAGE), "one").await;
    let b = s.start_system(ALICE, &compose(IMAGE), "two").await;
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert_eq!(body["type"], "urn:tycho:problem:too-many-systems");
    // Bob is not affected by Alice's count.
    let c = s.start_system(BOB, &compose(IMAGE), "three").await;

    let huge = format!("{}# {}\n", compose(IMAGE), "x".repeat(10_000));
    let (code, body) = s.try_start(BOB, &huge).await;
    assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    for (t, g) in [(ALICE, &a), (ALICE, &b), (BOB, &c)] {
        s.delete_gone(t, g).await;
    }
    cluster.cleanup().await;
}
