//! `/api/v1/events`: the server-sent event stream (its framing is the point: read raw).

use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;
use tycho_test_server::*;

#[tokio::test]
async fn events_stream_a_snapshot_then_changes() {
    use futures::StreamExt;
    let cluster = TestCluster::start("server-events").await;
    let s = TestServer::on(&cluster).await;
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

    let guid = s.start_system(ALICE, &compose(IMAGE), "ev").await;
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
