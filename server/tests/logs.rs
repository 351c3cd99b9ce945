//! `GET /api/v1/systems/{guid}/logs` (issue 14, item 5): one container's log, a wrong
//! container answered with the names of the real ones, someone else's system answered like an
//! unknown GUID, and `follow=true` streaming until the system is gone. Runs on a real cluster
//! too (`TYCHO_TEST_KUBECONFIG`): the containers print what the fake is told to answer.

use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use tycho_api::Phase;
use tycho_client::LogOptions;
use tycho_test_server::*;

async fn running_system(cluster: &TestCluster, server: &TestServer, name: &str) -> String {
    write_logger_lines(cluster);
    let guid = server.start_system(ALICE, LOGGING_COMPOSE, name).await;
    server
        .wait_until(ALICE, &guid, ready_timeout(cluster), |s| {
            s.phase == Phase::Running
        })
        .await;
    guid
}

fn container(name: &str) -> LogOptions {
    LogOptions {
        container: Some(name.into()),
        ..Default::default()
    }
}

#[tokio::test]
async fn the_tail_of_a_container_is_plain_text() {
    let cluster = TestCluster::start("logs-tail").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-tail").await;
    let client = server.client(ALICE);

    let all = client
        .logs(&guid, &container("logger"))
        .await
        .expect("logs");
    assert_eq!(all, "one\ntwo\nthree\n");
    let tail = LogOptions {
        tail: Some(2),
        ..container("logger")
    };
    assert_eq!(
        client.logs(&guid, &tail).await.expect("tail"),
        "two\nthree\n"
    );
    // Without a container: the first app container (no port published, so no primary).
    assert_eq!(
        client
            .logs(&guid, &LogOptions::default())
            .await
            .expect("default"),
        "one\ntwo\nthree\n"
    );

    let r = server
        .call(
            Method::GET,
            &format!("/api/v1/systems/{guid}/logs?container=logger&tail=1"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap_or(""),
        "text/plain; charset=utf-8"
    );
    assert_eq!(r.text().await.unwrap_or_default(), "three\n");

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn an_unknown_container_is_404_naming_the_real_ones() {
    let cluster = TestCluster::start("logs-unknown").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-unknown").await;

    let (status, body) = server
        .json(
            Method::GET,
            &format!("/api/v1/systems/{guid}/logs?container=db"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(detail.contains("\"db\""), "{detail}");
    assert!(
        detail.contains("logger") && detail.contains("ticker"),
        "{detail}"
    );

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// A container whose image cannot be pulled has never run: the cluster's 400 says it is
/// waiting to start (the dashboard explains that in words), rather than an empty log.
#[tokio::test]
async fn a_container_that_never_started_is_400_waiting_to_start() {
    let cluster = TestCluster::start("logs-waiting").await;
    make_bad_image_fail(&cluster);
    let server = TestServer::on(&cluster).await;
    let guid = server
        .start_system(ALICE, &compose(BAD_IMAGE), "logs-waiting")
        .await;
    server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == Phase::Failed
        })
        .await;

    let (status, body) = server
        .json(
            Method::GET,
            &format!("/api/v1/systems/{guid}/logs"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(detail.contains("is waiting to start"), "{detail}");

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// The problem document with the GUID taken out, to compare two answers about two GUIDs.
fn without_guid(body: &Value, guid: &str) -> String {
    body.to_string().replace(guid, "GUID")
}

#[tokio::test]
async fn another_users_system_is_404_like_an_unknown_guid() {
    let cluster = TestCluster::start("logs-owner").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-owner").await;

    let ask = |token: &'static str, guid: String| {
        let server = &server;
        async move {
            server
                .json(
                    Method::GET,
                    &format!("/api/v1/systems/{guid}/logs?container=logger"),
                    Some(token),
                    None,
                )
                .await
        }
    };
    let unknown = "0123456789abcdef0123456789abcdef";
    let (theirs, theirs_body) = ask(BOB, guid.clone()).await;
    let (none, none_body) = ask(BOB, unknown.to_string()).await;
    assert_eq!(theirs, StatusCode::NOT_FOUND);
    assert_eq!(none, StatusCode::NOT_FOUND);
    assert_eq!(
        without_guid(&theirs_body, &guid),
        without_guid(&none_body, unknown)
    );
    // The owner and an admin read it.
    let (mine, _) = ask(ALICE, guid.clone()).await;
    assert_eq!(mine, StatusCode::OK);
    let (admin, _) = ask(ADMIN, guid.clone()).await;
    assert_eq!(admin, StatusCode::OK);

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn follow_sends_later_lines_and_ends_with_the_system() {
    let cluster = TestCluster::start("logs-follow").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-follow").await;
    let client = server.client(ALICE);

    let options = LogOptions {
        tail: Some(0),
        ..container("ticker")
    };
    let mut follow = client.follow_logs(&guid, &options).await.expect("follow");
    // Written after the request started (on a real cluster the ticker writes every second).
    if let Some(fake) = &cluster.fake {
        fake.append_logs("ticker", &["tick"]);
    }
    let first = tokio::time::timeout(Duration::from_secs(30), follow.next_chunk())
        .await
        .expect("a line within 30 s")
        .expect("the stream")
        .expect("a chunk, not the end");
    assert!(
        String::from_utf8_lossy(&first).starts_with("tick\n"),
        "{first:?}"
    );

    client.delete(&guid).await.expect("delete");
    // The stream ends once the pod is gone (on a real cluster: once its container exits).
    let ended = tokio::time::timeout(Duration::from_secs(90), async {
        let mut last = Vec::new();
        while let Ok(Some(chunk)) = follow.next_chunk().await {
            last = chunk.to_vec();
        }
        String::from_utf8_lossy(&last).into_owned()
    })
    .await;
    let last = ended.expect("the followed log did not end with the system");
    // Its last line says why.
    assert!(
        last.ends_with(tycho_server::ops::followed_log_end(true)),
        "{last:?}"
    );

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// What only the fake can arrange: a previous (crashed) instance's log, and the cluster's own
/// 400 for one that never restarted, passed through.
#[tokio::test]
async fn previous_gives_the_crashed_instances_log() {
    let cluster = TestCluster::start_fake("logs-previous").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-previous").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    fake.set_previous_logs("logger", &["booting", "panic: out of luck"]);
    let client = server.client(ALICE);

    let previous = LogOptions {
        previous: true,
        ..container("logger")
    };
    assert_eq!(
        client.logs(&guid, &previous).await.expect("previous"),
        "booting\npanic: out of luck\n"
    );
    let never_restarted = LogOptions {
        previous: true,
        ..container("ticker")
    };
    let e = client
        .logs(&guid, &never_restarted)
        .await
        .expect_err("no previous instance");
    assert_eq!(e.status(), Some(400), "{e}");
    assert!(
        e.to_string().contains("previous terminated container"),
        "{e}"
    );

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// A browser asks for gzip: the compressed log reads to its end (the compression layer polls
/// the log stream once more after its end, which used to panic and cut the connection).
#[tokio::test]
async fn a_compressed_log_reads_to_its_end() {
    let cluster = TestCluster::start("logs-gzip").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-gzip").await;
    write_logger_lines(&cluster);

    let response = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/systems/{guid}/logs?container=logger",
            server.base
        ))
        .bearer_auth(ALICE)
        .header("Accept-Encoding", "gzip")
        .send()
        .await
        .expect("the log");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("content-encoding")
            .map(|v| v.as_bytes()),
        Some(&b"gzip"[..])
    );
    let body = response.bytes().await.expect("the whole compressed body");
    assert_eq!(&body[..2], &[0x1f, 0x8b], "a gzip stream");

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// `tail` is cut to the server's bound, and the bound reaches the cluster as `tailLines`.
#[tokio::test]
async fn tail_is_bounded() {
    let cluster = TestCluster::start_fake("logs-bound").await;
    let server = TestServer::on(&cluster).await;
    let guid = running_system(&cluster, &server, "logs-bound").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    fake.reset_requests();
    let huge = LogOptions {
        tail: Some(u32::MAX),
        ..container("logger")
    };
    server.client(ALICE).logs(&guid, &huge).await.expect("logs");
    server
        .client(ALICE)
        .logs(&guid, &container("logger"))
        .await
        .expect("logs");
    let asked: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.contains("/log?"))
        .collect();
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(asked[0].contains("tailLines=10000"), "{asked:?}");
    assert!(
        asked[1].contains("tailLines=1000") && !asked[1].contains("tailLines=10000"),
        "{asked:?}"
    );

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}
