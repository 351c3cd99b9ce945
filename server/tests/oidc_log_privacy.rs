//! Nothing the OIDC sign-in handles shows in the server's log: not the bearer JWTs (good, bad,
//! in the header or an event stream's query), not the ID token the callback hands over.
//!
//! Its own test binary: tracing caches per-callsite interest globally, so capturing logs with a
//! thread-local subscriber is only reliable when no other test runs at the same time.

#[path = "support/oidc_issuer.rs"]
mod issuer;

use issuer::*;
use reqwest::StatusCode;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, Mutex};
use tycho_server::Settings;
use tycho_server::oidc::keys::Timings;
use tycho_test_server::*;

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
async fn no_token_reaches_the_log() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let issuer = Issuer::start().await;
    let s = TestServer::without_cluster(with_oidc(
        Settings {
            auth: tokens(),
            ..Settings::default()
        },
        &issuer.base,
        Timings::default(),
    ))
    .await;
    let good = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &[]),
        "k1",
        ISSUER_KEY,
    );
    let mut expired_claims = claims(&issuer.base, AUDIENCE, "alice", &[]);
    expired_claims["exp"] = json!(now() - 600);
    let expired = sign(&expired_claims, "k1", ISSUER_KEY);
    let unknown_kid = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &[]),
        "k9",
        OTHER_KEY,
    );
    for (token, status) in [
        (&good, StatusCode::OK),
        (&expired, StatusCode::UNAUTHORIZED),
        (&unknown_kid, StatusCode::UNAUTHORIZED),
    ] {
        let (got, _) = s
            .json(reqwest::Method::GET, "/api/v1/whoami", Some(token), None)
            .await;
        assert_eq!(got, status);
    }
    s.get_with(&format!("/api/v1/events?access_token={good}"), &[])
        .await;

    // The sign-in: login, the issuer, the callback that hands over the ID token.
    let http = no_redirects();
    let login = http
        .get(format!("{}/auth/login", s.base))
        .send()
        .await
        .unwrap();
    let pending = cookie(&login, "tycho_oidc_login").unwrap();
    let back = http.get(location(&login)).send().await.unwrap();
    let signed_in = http
        .get(location(&back))
        .header("cookie", &pending)
        .send()
        .await
        .unwrap();
    let id_token = location(&signed_in)
        .strip_prefix("/#token=")
        .expect("signed in")
        .to_string();

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("OIDC keys fetched"),
        "the log was captured: {text}"
    );
    assert!(text.contains("signed in at the OIDC issuer"), "{text}");
    for (what, token) in [
        ("a good token", &good),
        ("an expired token", &expired),
        ("a token with an unknown kid", &unknown_kid),
        ("the ID token", &id_token),
    ] {
        // Its signature alone would be enough to tell.
        let signature = token.rsplit('.').next().unwrap();
        assert!(!text.contains(signature), "{what} is in the log:\n{text}");
    }
}
