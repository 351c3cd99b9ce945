//! The request log never shows an event stream's `?access_token=`.
//!
//! Its own test binary: tracing caches per-callsite interest globally, so capturing logs with a
//! thread-local subscriber is only reliable when no other test runs at the same time.

use reqwest::StatusCode;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tycho_test_server::*;

/// Collects what the server logs.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn request_log_leaves_the_query_out() {
    // `#[tokio::test]` runs the server on this thread, so a thread-local subscriber sees its logs.
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let cluster = TestCluster::start("server-log-privacy").await;
    let s = TestServer::on(&cluster).await;
    let r = s
        .get_with(&format!("/api/v1/events?access_token={ALICE}"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    drop(r);
    let r = s
        .get_with("/api/v1/events?access_token=token-wrong-0000", &[])
        .await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        logged.contains("path=/api/v1/events"),
        "requests are logged: {logged}"
    );
    assert!(!logged.contains(ALICE), "the token leaked into the log");
    assert!(
        !logged.contains("token-wrong-0000"),
        "a token leaked into the log"
    );
    assert!(!logged.contains("access_token"), "the query was logged");
    cluster.cleanup().await;
}
