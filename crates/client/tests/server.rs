//! The client against the real server and the fake Kubernetes API server (or a real cluster
//! when TYCHO_TEST_KUBECONFIG is set).

use std::time::Duration;
use tycho_client::api::{CompileRequest, Phase, StartRequest};
use tycho_client::{Client, Deletion, Error, WaitOptions};
use tycho_test_server::*;

fn wait_options(cluster: &TestCluster) -> WaitOptions {
    WaitOptions {
        interval: Duration::from_millis(200),
        timeout: Duration::from_secs(if cluster.fake.is_some() { 20 } else { 240 }),
    }
}

#[tokio::test]
async fn start_wait_list_delete() {
    let cluster = TestCluster::start("client-lifecycle").await;
    let server = TestServer::on(&cluster).await;
    let client = server.client(ALICE);

    assert_eq!(client.whoami().await.unwrap().username, "alice");
    assert_eq!(client.health().await.unwrap().status, "ok");
    let started = client
        .start(&StartRequest {
            compose: compose(IMAGE).into(),
            name: "web".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(started.ports[0].port, 8080);
    let mut seen = Vec::new();
    let running = client
        .wait_until_running(&started.guid, wait_options(&cluster), |s| {
            seen.push(s.phase)
        })
        .await
        .unwrap();
    assert_eq!(running.phase, Phase::Running);
    assert_eq!(seen.last(), Some(&Phase::Running));
    assert_eq!(client.get(&started.guid).await.unwrap().name, "web");
    let list = client.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(client.list_user("alice").await.unwrap().len(), 1);
    // What the cluster reported: the Deployment scaled its ReplicaSet (a real cluster's
    // deployment controller says so too); events may trail the status there, so poll.
    let object = format!("Deployment/{}", running.object_name);
    let mut events = Vec::new();
    for _ in 0..600 {
        events = client.kube_events(&started.guid).await.unwrap();
        if events.iter().any(|e| e.reason == "ScalingReplicaSet") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let scaling = events
        .iter()
        .find(|e| e.reason == "ScalingReplicaSet")
        .unwrap_or_else(|| panic!("no ScalingReplicaSet event: {events:?}"));
    assert_eq!(scaling.object, object);
    assert_eq!(scaling.kind, "Normal");
    assert!(
        client
            .kube_events("0123456789abcdef")
            .await
            .unwrap_err()
            .is_not_found()
    );
    assert_eq!(
        client.policy().await.unwrap()["default_resources"]["memory"],
        "256Mi"
    );

    let mut deletion = client.delete(&started.guid).await.unwrap();
    for _ in 0..600 {
        if deletion == Deletion::Gone {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        deletion = client.delete(&started.guid).await.unwrap();
    }
    assert_eq!(deletion, Deletion::Gone);
    assert!(client.get(&started.guid).await.unwrap_err().is_not_found());
    drop(server);
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_failing_image_ends_the_wait() {
    let cluster = TestCluster::start("client-failing-image").await;
    make_bad_image_fail(&cluster);
    let server = TestServer::on(&cluster).await;
    let client = server.client(ALICE);
    let started = client
        .start(&StartRequest {
            compose: compose(BAD_IMAGE).into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let mut options = wait_options(&cluster);
    options.timeout = Duration::from_secs(280);
    let err = client
        .wait_until_running(&started.guid, options, |_| {})
        .await
        .unwrap_err();
    match &err {
        Error::Failed(s) => {
            assert_eq!(s.phase, Phase::Failed);
            assert!(
                s.reason == "ImagePullBackOff" || s.reason == "ErrImagePull",
                "{s:?}"
            );
        }
        other => panic!("expected Failed, got {other:?}"),
    }
    assert!(err.to_string().contains("failed: Failed ("), "{err}");
    client.delete(&started.guid).await.unwrap();
    drop(server);
    cluster.cleanup().await;
}

#[tokio::test]
async fn errors_keep_the_problem() {
    let cluster = TestCluster::start("client-errors").await;
    let server = TestServer::on(&cluster).await;

    let anonymous = server.anonymous_client();
    let err = anonymous.list().await.unwrap_err();
    assert!(err.is_auth(), "{err:?}");
    assert_eq!(err.status(), Some(401));
    let wrong = Client::builder(&server.base)
        .token("wrong-token-0000")
        .build()
        .unwrap();
    assert!(wrong.whoami().await.unwrap_err().is_auth());

    let client = server.client(ALICE);
    let invalid = "services:\n  web:\n    image: nginx\n    privileged: true\n";
    let err = client
        .start(&StartRequest {
            compose: invalid.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let problem = err.problem().expect("a problem document");
    assert_eq!(problem.status, 422);
    assert_eq!(problem.errors[0].code, "TY0402");
    assert_eq!((problem.errors[0].line, problem.errors[0].column), (4, 17));

    let request = CompileRequest {
        system: StartRequest {
            compose: invalid.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let validated = client.validate(&request).await.unwrap();
    assert!(!validated.valid);
    assert_eq!(
        client.compile(&request).await.unwrap_err().status(),
        Some(422)
    );
    let compiled = client
        .compile(&CompileRequest {
            system: StartRequest {
                compose: compose(IMAGE).into(),
                name: "web".into(),
                ..Default::default()
            },
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(compiled.yaml.contains("kind: Deployment"));

    // Nobody listens on port 1.
    let gone = Client::builder("http://127.0.0.1:1")
        .token(ALICE)
        .build()
        .unwrap();
    match gone.list().await.unwrap_err() {
        Error::Unreachable { url, reason } => {
            assert_eq!(url, "http://127.0.0.1:1");
            assert!(!reason.is_empty());
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    drop(server);
    cluster.cleanup().await;
}
