//! The watch cache through its failures, on the fake (a real API server cannot be made to drop
//! its watches or forget its history on demand): a watch that breaks mid-stream resumes, an
//! API server restart makes the server list again, and the clients' streams get every change
//! once, none lost.

use kube::api::{Api, DeleteParams, ListParams};
use reqwest::StatusCode;
use std::time::{Duration, Instant};
use tycho_server::Settings;
use tycho_test_server::*;

/// Streams that could only learn of a change by polling would wait this long.
fn watch_only(cluster: &TestCluster) -> Settings {
    Settings {
        events_interval: Duration::from_secs(120),
        ..settings(cluster)
    }
}

/// The SSE events of `text`: (name, data).
fn events(text: &str) -> Vec<(String, String)> {
    text.split("\n\n")
        .filter_map(|block| {
            let name = block.lines().find_map(|l| l.strip_prefix("event:"))?;
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .collect();
            Some((name.trim().to_string(), data))
        })
        .collect()
}

/// Reads `stream` until `done(text)` holds, within `limit`.
async fn read_until(
    stream: &mut reqwest::Response,
    text: &mut String,
    limit: Duration,
    done: impl Fn(&str) -> bool,
) -> bool {
    let deadline = Instant::now() + limit;
    while !done(text) {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.chunk()).await {
            Ok(Ok(Some(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
            _ => return false,
        }
    }
    true
}

async fn wait_for_list(s: &TestServer, want: impl Fn(&[String]) -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Ok(list) = s.client(ALICE).list().await {
            let guids: Vec<String> = list.into_iter().map(|st| st.guid).collect();
            if want(&guids) {
                return;
            }
        }
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_dropped_watch_resumes_and_a_restart_makes_the_server_list_again() {
    let cluster = TestCluster::start_fake("server-watch-restart").await;
    let fake = cluster.fake.clone().expect("fake");
    let s = TestServer::start(&cluster, watch_only(&cluster)).await;
    let kept = s.start_system(ALICE, &compose(IMAGE), "kept").await;
    let doomed = s.start_system(ALICE, &compose(IMAGE), "doomed").await;
    let mut stream = s
        .http
        .get(format!("{}/api/v1/events", s.base))
        .bearer_auth(ALICE)
        .send()
        .await
        .expect("stream");
    assert_eq!(stream.status(), StatusCode::OK);
    let mut text = String::new();
    assert!(
        read_until(&mut stream, &mut text, Duration::from_secs(10), |t| t
            .contains("snapshot"))
        .await
    );

    // 1. The watches break mid-stream (the fake closes them) and resume from where they were:
    //    a start made right after is seen.
    fake.set_unreachable(true);
    fake.set_unreachable(false);
    let third = s.start_system(ALICE, &compose(IMAGE), "third").await;
    wait_for_list(
        &s,
        |g| g.contains(&third),
        "the start after the break is listed",
    )
    .await;
    assert!(
        read_until(&mut stream, &mut text, Duration::from_secs(10), |t| t
            .contains(&third))
        .await,
        "{text}"
    );

    // 2. While the server cannot watch, a system is deleted behind its back; then the API
    //    server restarts and has forgotten the changes the watch would resume from (410).
    for plural in ["deployments", "pods", "services", "events"] {
        fake.forbid("watch", plural);
    }
    fake.set_unreachable(true);
    fake.set_unreachable(false);
    let by_label = ListParams::default().labels(&format!("tycho-guid={doomed}"));
    let deployments: Api<k8s_openapi::api::apps::v1::Deployment> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    deployments
        .delete_collection(&DeleteParams::default(), &by_label)
        .await
        .expect("delete behind the server's back");
    fake.restart();
    fake.allow_all();
    wait_for_list(
        &s,
        |g| !g.contains(&doomed) && g.contains(&kept) && g.contains(&third),
        "after the relist the deleted system is gone and the others stay",
    )
    .await;
    assert!(
        read_until(&mut stream, &mut text, Duration::from_secs(10), |t| {
            events(t)
                .iter()
                .any(|(n, d)| n == "removed" && d.contains(&doomed))
        })
        .await,
        "{text}"
    );
    // Every change once: one `removed` for the deleted system, none for the others.
    let removed: Vec<String> = events(&text)
        .into_iter()
        .filter(|(n, _)| n == "removed")
        .map(|(_, d)| d)
        .collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(removed[0].contains(&doomed));

    for g in [&kept, &third] {
        s.delete_gone(ALICE, g).await;
    }
    cluster.cleanup().await;
}
