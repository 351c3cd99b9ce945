//! Lifetimes with an injected clock (no sleeping through timeouts): an idle system is warned
//! (in its status and its event stream) and then culled, a keepalive postpones the cull, a
//! start that never becomes ready is marked Failed, and of two servers on one cluster only
//! the one holding the Lease acts (the other takes over once it expires).

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_fake_kube::PodBehavior;
use tycho_server::Settings;
use tycho_server::lifetime::{ManualClock, Round};
use tycho_test_server::*;

fn lifetime_settings(cluster: &TestCluster, lifetime: &str, clock: &Arc<ManualClock>) -> Settings {
    let mut policy = test_policy();
    policy.lifetime = tycho_compiler::parse_policy(lifetime)
        .expect("a lifetime policy")
        .lifetime;
    Settings {
        policy,
        clock: clock.clone(),
        // The test runs each round itself.
        lifetime_interval: None,
        ..settings(cluster)
    }
}

async fn round(s: &TestServer) -> Round {
    s.state
        .lifetimes()
        .expect("the policy sets a lifetime")
        .round()
        .await
        .expect("a round")
}

fn minutes_after(t: Timestamp, minutes: i64) -> Timestamp {
    t + SignedDuration::from_mins(minutes)
}

async fn created(s: &TestServer, guid: &str) -> Timestamp {
    let (_, status) = s.status(ALICE, guid).await;
    status["created"]
        .as_str()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no creation time: {status}"))
}

/// The next `changed` event of the system's stream whose status passes `check`.
async fn changed_until<S, B>(
    stream: &mut S,
    buffer: &mut String,
    check: impl Fn(&Value) -> bool,
) -> Value
where
    S: futures::Stream<Item = reqwest::Result<B>> + Unpin,
    B: AsRef<[u8]>,
{
    use futures::StreamExt;
    loop {
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let data: String = block
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            let Ok(event) = serde_json::from_str::<Value>(&data) else {
                continue;
            };
            let system = if event["type"] == "snapshot" {
                event["systems"][0].clone()
            } else {
                event["system"].clone()
            };
            if check(&system) {
                return system;
            }
        }
        let chunk = tokio::time::timeout(Duration::from_secs(30), stream.next())
            .await
            .expect("an event within 30 s")
            .expect("the stream stays open")
            .expect("a chunk");
        buffer.push_str(&String::from_utf8_lossy(chunk.as_ref()));
    }
}

#[tokio::test]
async fn an_idle_system_is_warned_then_culled_and_a_keepalive_postpones_it() {
    let cluster = TestCluster::start("server-lifetime-idle").await;
    let clock = ManualClock::new(Timestamp::now());
    let s = TestServer::start(
        &cluster,
        lifetime_settings(
            &cluster,
            "lifetime: {idle_timeout: 1h, warn_before: 10m}\n",
            &clock,
        ),
    )
    .await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "idle").await;
    let t0 = created(&s, &guid).await;
    let events = s
        .http
        .get(format!("{}/api/v1/systems/{guid}/events", s.base))
        .bearer_auth(ALICE)
        .send()
        .await
        .expect("the event stream");
    let mut stream = events.bytes_stream();
    let mut buffer = String::new();

    clock.set(minutes_after(t0, 49));
    let r = round(&s).await;
    assert!(r.leader && r.actions.is_empty(), "{r:?}");

    // Ten minutes before the hour: the warning, in the status and in the stream.
    clock.set(minutes_after(t0, 50));
    let r = round(&s).await;
    assert_eq!(r.actions.len(), 1, "{r:?}");
    let cull_at = minutes_after(t0, 60).to_string();
    let (_, status) = s.status(ALICE, &guid).await;
    assert_eq!(status["cull_at"], cull_at.as_str(), "{status}");
    assert_eq!(status["cull_reason"], "idle");
    assert!(
        status["warning"]
            .as_str()
            .unwrap_or_default()
            .contains("deleted"),
        "{status}"
    );
    let streamed = changed_until(&mut stream, &mut buffer, |s| s["cull_at"].is_string()).await;
    assert_eq!(streamed["cull_at"], cull_at.as_str());

    // Only its owner (or an admin) may keep it alive; Bob learns nothing.
    let keepalive = format!("/api/v1/systems/{guid}/keepalive");
    let (code, _) = s.json(Method::POST, &keepalive, Some(BOB), None).await;
    assert_eq!(code, StatusCode::NOT_FOUND);
    clock.set(minutes_after(t0, 55));
    let (code, status) = s.json(Method::POST, &keepalive, Some(ALICE), None).await;
    assert_eq!(code, StatusCode::OK, "{status}");
    assert_eq!(status["last_activity"], minutes_after(t0, 55).to_string());
    assert!(
        status.get("cull_at").is_none(),
        "the warning went: {status}"
    );

    // The hour passes without a cull: the idle time counts from the keepalive.
    clock.set(minutes_after(t0, 61));
    let r = round(&s).await;
    assert!(r.actions.is_empty(), "{r:?}");
    clock.set(minutes_after(t0, 105));
    let r = round(&s).await;
    assert_eq!(
        r.actions[0].1,
        format!("warned: idle at {}", minutes_after(t0, 115))
    );

    // At 1h55 (an hour after the keepalive) it is culled: deleted as its owner's delete does.
    clock.set(minutes_after(t0, 115));
    let began = Instant::now();
    let r = round(&s).await;
    assert_eq!(r.actions, [(guid.clone(), "culled: idle".to_string())]);
    let (code, status) = s.status(ALICE, &guid).await;
    assert!(
        code == StatusCode::NOT_FOUND || status["phase"] == "Terminating",
        "{code}: {status}"
    );
    println!(
        "idle cull: warned at +50m for +60m, kept alive at +55m, warned at +105m, culled at +115m (injected time); the culling round took {} ms",
        began.elapsed().as_millis()
    );
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

/// A file (a catalog entry for short sessions) asks for a shorter idle timeout than the
/// policy's: it applies; a longer one would not (see `LifetimePolicy::shortened_by`).
#[tokio::test]
async fn a_files_shorter_idle_timeout_applies() {
    let cluster = TestCluster::start("server-lifetime-file").await;
    let clock = ManualClock::new(Timestamp::now());
    let s = TestServer::start(
        &cluster,
        lifetime_settings(
            &cluster,
            "lifetime: {idle_timeout: 2h, warn_before: 10m}\n",
            &clock,
        ),
    )
    .await;
    let text = format!(
        "x-tycho:\n  lifetime: {{idle_timeout: 30m}}\nservices:\n  web:\n    image: {IMAGE}\n"
    );
    let guid = s.start_system(ALICE, &text, "short").await;
    let t0 = created(&s, &guid).await;
    let (_, status) = s.status(ALICE, &guid).await;
    assert_eq!(status["lifetime"]["idle_timeout"], "30m", "{status}");

    clock.set(minutes_after(t0, 19));
    assert!(round(&s).await.actions.is_empty());
    clock.set(minutes_after(t0, 20));
    let r = round(&s).await;
    assert_eq!(
        r.actions,
        [(
            guid.clone(),
            format!("warned: idle at {}", minutes_after(t0, 30))
        )]
    );
    clock.set(minutes_after(t0, 30));
    let r = round(&s).await;
    assert_eq!(r.actions, [(guid.clone(), "culled: idle".to_string())]);
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_start_that_never_becomes_ready_is_marked_failed_and_removed_if_asked() {
    let cluster = TestCluster::start_fake("server-lifetime-start").await;
    const NEVER_READY: &str = "registry.example.org/never-ready:1";
    if let Some(fake) = &cluster.fake {
        fake.set_image_behavior("never-ready", PodBehavior::Pending);
    }
    let clock = ManualClock::new(Timestamp::now());
    let s = TestServer::start(
        &cluster,
        lifetime_settings(&cluster, "lifetime: {start_timeout: 15m}\n", &clock),
    )
    .await;
    let guid = s.start_system(ALICE, &compose(NEVER_READY), "slow").await;
    let t0 = created(&s, &guid).await;
    clock.set(minutes_after(t0, 14));
    assert!(round(&s).await.actions.is_empty());
    clock.set(minutes_after(t0, 15));
    let r = round(&s).await;
    assert_eq!(
        r.actions,
        [(guid.clone(), "failed: start timeout".to_string())]
    );
    let (_, status) = s.status(ALICE, &guid).await;
    assert_eq!(status["phase"], "Failed", "{status}");
    assert_eq!(status["reason"], "StartTimeout");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(message.contains("within 15m"), "{message}");
    // Marked once; it stays for its owner to read why.
    clock.set(minutes_after(t0, 30));
    assert!(round(&s).await.actions.is_empty());
    drop(s);

    // With `remove_failed_starts`, a start that timed out is removed (by a new server, once
    // the old one's Lease has run out).
    clock.set(minutes_after(t0, 32));
    let s = TestServer::start(
        &cluster,
        lifetime_settings(
            &cluster,
            "lifetime: {start_timeout: 15m, remove_failed_starts: true}\n",
            &clock,
        ),
    )
    .await;
    let r = round(&s).await;
    assert_eq!(
        r.actions,
        [(guid.clone(), "removed: start timeout".to_string())]
    );
    s.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn only_the_lease_holder_culls_and_another_takes_over_after_it_expires() {
    let cluster = TestCluster::start("server-lifetime-lease").await;
    let clock = ManualClock::new(Timestamp::now());
    let policy = "lifetime: {idle_timeout: 1h}\n";
    let a = TestServer::start(&cluster, lifetime_settings(&cluster, policy, &clock)).await;
    let b = TestServer::start(&cluster, lifetime_settings(&cluster, policy, &clock)).await;
    let guid = a.start_system(ALICE, &compose(IMAGE), "shared").await;
    let t0 = created(&a, &guid).await;

    clock.set(minutes_after(t0, 1));
    assert!(round(&a).await.leader, "the first to ask takes the Lease");
    assert!(!round(&b).await.leader, "the other is a follower");

    // A renews (and warns) near the end of the idle hour; past it, the follower does
    // nothing, the holder culls.
    clock.set(minutes_after(t0, 59));
    let by_a = round(&a).await;
    assert!(
        by_a.leader && by_a.actions[0].1.starts_with("warned"),
        "{by_a:?}"
    );
    clock.set(minutes_after(t0, 60));
    assert_eq!(round(&b).await, Round::default());
    let (code, _) = b.status(ALICE, &guid).await;
    assert_eq!(code, StatusCode::OK, "still there");
    let by_a = round(&a).await;
    assert_eq!(by_a.actions, [(guid.clone(), "culled: idle".to_string())]);
    a.delete_gone(ALICE, &guid).await;

    // A stops renewing (as if it were gone); once the Lease's 90 s have passed, B takes it.
    clock.set(minutes_after(t0, 60) + SignedDuration::from_secs(90));
    assert!(!round(&b).await.leader, "not expired at exactly 90 s");
    clock.set(minutes_after(t0, 60) + SignedDuration::from_secs(91));
    assert!(round(&b).await.leader, "taken over");
    assert!(!round(&a).await.leader, "A is now the follower");
    cluster.cleanup().await;
}
