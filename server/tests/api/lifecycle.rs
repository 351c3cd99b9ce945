//! A system's life through `/api/v1/systems`: start, status, list, delete, and what a new
//! server or many starts at once see.

use reqwest::StatusCode;
use std::sync::Arc;
use tycho_client::Deletion;
use tycho_client::api::{Phase, StartResponse};
use tycho_server::Settings;
use tycho_test_server::*;

#[tokio::test]
async fn start_status_delete() {
    let cluster = TestCluster::start("server-start-status-delete").await;
    let s = TestServer::on(&cluster).await;
    let alice = s.client(ALICE);

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
    let body: StartResponse = r.json().await.unwrap();
    let guid = body.guid.clone();
    assert_eq!(guid.len(), 32);
    assert!(guid.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(location, format!("/api/v1/systems/{guid}"));
    assert_eq!(body.username, "alice");
    assert_eq!(body.name, "web");
    assert_eq!(body.ports[0].port, 8080);

    let running = s
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |st| {
            st.phase == Phase::Running
        })
        .await;
    assert_eq!(running.ready, 1);
    assert_eq!(running.desired, 1);
    assert_eq!(running.username, "alice");
    assert_eq!(running.resources.cpu, TEST_CPU, "the server's policy");
    assert_eq!(running.resources.memory, "256Mi");
    assert_eq!(running.ports[0].published.container_port, 8080);
    assert!(running.url.as_deref().unwrap().contains(":8080/"));
    assert!(!running.created.is_empty());
    assert_eq!(running.containers[0].image, IMAGE);

    let list = alice.list().await.unwrap();
    assert!(list.iter().any(|x| x.guid == guid));

    s.delete_gone(ALICE, &guid).await;
    // Idempotent: gone stays gone.
    assert_eq!(alice.delete(&guid).await.unwrap(), Deletion::Gone);
    assert!(alice.get(&guid).await.unwrap_err().is_not_found());
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_new_server_still_lists_the_systems() {
    let cluster = TestCluster::start("server-restart").await;
    let first = TestServer::on(&cluster).await;
    let guid = first.start_system(ALICE, &compose(IMAGE), "keep").await;
    drop(first);

    let second = TestServer::on(&cluster).await;
    let list = second.client(ALICE).list().await.unwrap();
    let found = list
        .into_iter()
        .find(|x| x.guid == guid)
        .expect("the second server sees the first one's system");
    assert_eq!(found.name, "keep");
    assert_eq!(found.username, "alice");
    second.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn image_pull_failure_has_a_plain_reason() {
    let cluster = TestCluster::start("server-image-pull").await;
    // On a real cluster this registry does not resolve, so the pull fails for real.
    make_bad_image_fail(&cluster);
    let s = TestServer::on(&cluster).await;
    let guid = s.start_system(ALICE, &compose(BAD_IMAGE), "broken").await;
    let failed = s
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |st| {
            st.phase == Phase::Failed
        })
        .await;
    let reason = failed.reason.as_str();
    assert!(
        reason == "ImagePullBackOff" || reason == "ErrImagePull",
        "{failed:?}"
    );
    let message = failed.message.as_str();
    assert!(
        message.contains("cannot be pulled") && message.contains(BAD_IMAGE),
        "{message}"
    );
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn concurrent_starts_get_distinct_guids() {
    let cluster = TestCluster::start("server-concurrent").await;
    let s = Arc::new(
        TestServer::start(
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
            tokio::spawn(async move {
                s.start_system(ALICE, &compose(IMAGE), &format!("c{i}"))
                    .await
            })
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
    let mut listed: Vec<String> = s
        .client(ALICE)
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|x| x.guid)
        .collect();
    listed.sort();
    assert_eq!(listed, unique, "the list shows exactly the started systems");
    for g in &guids {
        s.delete_gone(ALICE, g).await;
    }
    cluster.cleanup().await;
}
