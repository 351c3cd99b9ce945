//! Data that outlives a system: a delete keeps its volumes unless `volumes=delete`, the home
//! follows the user from system to system, reused volumes come back with the system name, a
//! ReadWriteOnce claim is mounted by one system at a time, kept volumes expire after the
//! policy's TTL (time injected), and only their owner deletes them.

use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use tycho_client::api::{Phase, Volume, VolumeKind};
use tycho_compiler::plan::{home_claim_name, reuse_claim_name};
use tycho_compiler::{AccessMode, HomePolicy, Policy};
use tycho_server::{KubeExecutor, Settings};
use tycho_test_server::*;

/// `web` with a named volume `data` (and, when asked, the home at /home/web).
fn with_volume(home: bool) -> String {
    let x_tycho = if home {
        "x-tycho:\n  home: /home/web\n"
    } else {
        ""
    };
    format!(
        "{x_tycho}services:\n  web:\n    image: {IMAGE}\n    ports: [\"8080:8080\"]\n    volumes: [\"data:/data\"]\nvolumes:\n  data: {{}}\n"
    )
}

fn home_policy() -> Policy {
    let mut policy = test_policy();
    policy.home = Some(HomePolicy {
        size: "2Gi".into(),
        access_mode: AccessMode::ReadWriteOnce,
        ..HomePolicy::default()
    });
    policy
}

async fn volumes(s: &TestServer, token: &str) -> Vec<Volume> {
    s.client(token).volumes().await.expect("volumes")
}

fn named<'a>(volumes: &'a [Volume], name: &str) -> Option<&'a Volume> {
    volumes.iter().find(|v| v.name == name)
}

/// The claims the system's Deployment mounts (read from the cluster, fake or real).
async fn mounted_claims(cluster: &TestCluster, guid: &str) -> Vec<String> {
    let api: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let lp = kube::api::ListParams::default().labels(&format!("tycho-guid={guid}"));
    let list = api.list(&lp).await.expect("list deployments");
    let pod = list.items[0].spec.clone().unwrap().template.spec.unwrap();
    let mut claims: Vec<String> = pod
        .volumes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.persistent_volume_claim.map(|c| c.claim_name))
        .collect();
    claims.sort();
    claims
}

/// `DELETE /api/v1/systems/{guid}[?volumes=…]` once: the status and the body.
async fn delete_once(s: &TestServer, token: &str, guid: &str, query: &str) -> (StatusCode, Value) {
    s.json(
        Method::DELETE,
        &format!("/api/v1/systems/{guid}{query}"),
        Some(token),
        None,
    )
    .await
}

async fn running(s: &TestServer, cluster: &TestCluster, guid: &str) {
    s.wait_until(ALICE, guid, ready_timeout(cluster), |st| {
        st.phase == Phase::Running
    })
    .await;
}

#[tokio::test]
async fn a_delete_keeps_the_volumes_and_volumes_delete_removes_them() {
    let cluster = TestCluster::start("server-volumes-kept").await;
    let s = TestServer::on(&cluster).await;
    let guid = s.start_system(ALICE, &with_volume(false), "keeper").await;
    running(&s, &cluster, &guid).await;
    let claim = format!("data-{guid}");

    let listed = volumes(&s, ALICE).await;
    let v = named(&listed, &claim).expect("the running system's volume is listed");
    assert_eq!(v.kind, VolumeKind::System);
    assert_eq!((v.volume.as_str(), v.system.as_str()), ("data", "keeper"));
    assert_eq!(
        (v.guid.as_str(), v.username.as_str()),
        (guid.as_str(), "alice")
    );
    assert!(v.in_use && v.used_by[0].guid == guid, "{v:?}");
    assert_eq!(v.size, "1Gi");
    assert_eq!(v.size_bytes, 1 << 30);
    assert!(v.released_at.is_empty() && v.expires_at.is_empty());

    // The delete says what it kept; the volume outlives the system.
    let (code, body) = delete_once(&s, ALICE, &guid, "").await;
    assert!(
        matches!(code, StatusCode::OK | StatusCode::ACCEPTED),
        "{code} {body}"
    );
    assert_eq!(body["kept"][0]["name"], claim, "{body}");
    assert_eq!(body["kept"][0]["size"], "1Gi");
    assert!(body.get("deleted").is_none(), "{body}");
    s.delete_gone(ALICE, &guid).await;
    let listed = volumes(&s, ALICE).await;
    let v = named(&listed, &claim).expect("kept after the delete");
    assert!(!v.in_use && v.used_by.is_empty(), "{v:?}");
    assert!(!v.released_at.is_empty(), "{v:?}");
    assert!(v.expires_at.is_empty(), "no TTL in this policy: {v:?}");
    // Another user sees nothing of it, and cannot delete it: the 404 of a name that does not
    // exist.
    assert!(named(&volumes(&s, BOB).await, &claim).is_none());
    let (bobs, bobs_body) = s
        .json(
            Method::DELETE,
            &format!("/api/v1/volumes/{claim}"),
            Some(BOB),
            None,
        )
        .await;
    let (unknown, unknown_body) = s
        .json(
            Method::DELETE,
            "/api/v1/volumes/data-nosuchclaim",
            Some(BOB),
            None,
        )
        .await;
    assert_eq!(
        (bobs, unknown),
        (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND)
    );
    assert_eq!(bobs_body["title"], unknown_body["title"]);
    // Nor through a delete of the gone system with volumes=delete.
    let (code, _) = delete_once(&s, BOB, &guid, "?volumes=delete").await;
    assert_eq!(code, StatusCode::NO_CONTENT);
    assert!(
        named(&volumes(&s, ALICE).await, &claim).is_some(),
        "bob removed alice's volume"
    );
    // The owner deletes it.
    alice_deletes_volume(&s, &claim).await;

    // `volumes=delete` removes them with the system.
    let guid = s.start_system(ALICE, &with_volume(false), "dropper").await;
    running(&s, &cluster, &guid).await;
    let (code, body) = delete_once(&s, ALICE, &guid, "?volumes=delete").await;
    assert!(
        matches!(code, StatusCode::OK | StatusCode::ACCEPTED),
        "{code} {body}"
    );
    assert_eq!(body["deleted"][0]["name"], format!("data-{guid}"), "{body}");
    assert!(body.get("kept").is_none(), "{body}");
    s.delete_gone(ALICE, &guid).await;
    wait_volume_gone(&s, &format!("data-{guid}")).await;
    let (code, body) = delete_once(&s, ALICE, &guid, "?volumes=everything").await;
    assert_eq!(code, StatusCode::BAD_REQUEST, "{body}");
    cluster.cleanup().await;
}

async fn alice_deletes_volume(s: &TestServer, claim: &str) {
    s.client(ALICE)
        .delete_volume(claim)
        .await
        .expect("delete volume");
    wait_volume_gone(s, claim).await;
}

/// Claims may take a moment to go on a real cluster (their finalizer).
async fn wait_volume_gone(s: &TestServer, claim: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while named(&volumes(s, ALICE).await, claim).is_some() {
        assert!(
            std::time::Instant::now() < deadline,
            "{claim} is still listed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_volume_in_use_is_not_deleted_and_the_refusal_names_the_system() {
    let cluster = TestCluster::start("server-volumes-in-use").await;
    let s = TestServer::on(&cluster).await;
    let guid = s.start_system(ALICE, &with_volume(false), "busy").await;
    let claim = format!("data-{guid}");
    let (code, body) = s
        .json(
            Method::DELETE,
            &format!("/api/v1/volumes/{claim}"),
            Some(ALICE),
            None,
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("busy") && detail.contains(&guid), "{body}");
    assert!(named(&volumes(&s, ALICE).await, &claim).is_some());
    s.delete_gone(ALICE, &guid).await;
    alice_deletes_volume(&s, &claim).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn the_home_follows_the_user_through_three_systems() {
    let cluster = TestCluster::start("server-volumes-home").await;
    let s = TestServer::start(
        &cluster,
        Settings {
            policy: home_policy(),
            ..settings(&cluster)
        },
    )
    .await;
    let home = home_claim_name("alice");
    for (i, query) in ["", "?volumes=delete", ""].into_iter().enumerate() {
        let guid = s
            .start_system(ALICE, &with_volume(true), &format!("lab{i}"))
            .await;
        running(&s, &cluster, &guid).await;
        // The same claim each time, beside the system's own.
        let mut expected = vec![format!("data-{guid}"), home.clone()];
        expected.sort();
        assert_eq!(mounted_claims(&cluster, &guid).await, expected);
        let listed = volumes(&s, ALICE).await;
        let v = named(&listed, &home).expect("the home is listed");
        assert_eq!(v.kind, VolumeKind::Home);
        assert_eq!(v.used_by.len(), 1);
        assert_eq!(v.used_by[0].guid, guid);
        assert_eq!(v.size, "2Gi");
        // A delete, even with its volumes, never takes the home.
        let (_, body) = delete_once(&s, ALICE, &guid, query).await;
        let names: Vec<&str> = ["kept", "deleted"]
            .iter()
            .flat_map(|k| body[k].as_array().into_iter().flatten())
            .filter_map(|v| v["name"].as_str())
            .collect();
        assert!(!names.contains(&home.as_str()), "{body}");
        s.delete_gone(ALICE, &guid).await;
        let v = named(&volumes(&s, ALICE).await, &home)
            .cloned()
            .expect("home kept");
        assert!(!v.in_use && v.expires_at.is_empty(), "{v:?}");
    }
    // Bob's home is another claim; he never sees alice's.
    let bobs = s.start_system(BOB, &with_volume(true), "lab").await;
    assert!(
        mounted_claims(&cluster, &bobs)
            .await
            .contains(&home_claim_name("bob"))
    );
    assert!(named(&volumes(&s, BOB).await, &home).is_none());
    s.delete_gone(BOB, &bobs).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_reused_volume_comes_back_with_the_system_name() {
    let cluster = TestCluster::start("server-volumes-reuse").await;
    let s = TestServer::on(&cluster).await;
    let text = format!(
        "services:\n  web:\n    image: {IMAGE}\n    ports: [\"8080:8080\"]\n    volumes: [\"work:/work\"]\nvolumes:\n  work:\n    x-tycho:\n      reuse: true\n"
    );
    let claim = reuse_claim_name("alice", "notebook", "work");
    let first = s.start_system(ALICE, &text, "notebook").await;
    running(&s, &cluster, &first).await;
    assert_eq!(mounted_claims(&cluster, &first).await, vec![claim.clone()]);
    s.delete_gone(ALICE, &first).await;
    let v = named(&volumes(&s, ALICE).await, &claim)
        .cloned()
        .expect("kept");
    assert_eq!(
        (v.kind, v.guid.as_str()),
        (VolumeKind::Reuse, first.as_str())
    );
    assert!(!v.released_at.is_empty());

    let second = s.start_system(ALICE, &text, "notebook").await;
    running(&s, &cluster, &second).await;
    assert_eq!(mounted_claims(&cluster, &second).await, vec![claim.clone()]);
    let v = named(&volumes(&s, ALICE).await, &claim)
        .cloned()
        .expect("in use");
    assert_eq!(v.guid, second, "the last system that mounted it");
    assert!(v.in_use && v.released_at.is_empty(), "{v:?}");
    // Another name is another claim.
    let other = s.start_system(ALICE, &text, "other").await;
    assert_eq!(
        mounted_claims(&cluster, &other).await,
        vec![reuse_claim_name("alice", "other", "work")]
    );
    s.delete_gone(ALICE, &other).await;
    // `down -v` of the system that mounted it last removes it.
    let (_, body) = delete_once(&s, ALICE, &second, "?volumes=delete").await;
    assert_eq!(body["deleted"][0]["name"], claim, "{body}");
    s.delete_gone(ALICE, &second).await;
    wait_volume_gone(&s, &claim).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_readwriteonce_home_is_mounted_by_one_system_at_a_time() {
    // The fake, so that a deleted pod stays Terminating as long as the test needs.
    let cluster = TestCluster::start_fake("server-volumes-rwo").await;
    let fake = cluster.fake.clone().expect("the fake");
    fake.set_termination(tycho_fake_kube::Termination {
        collect_after: Duration::from_millis(50),
        exit_after: Duration::from_secs(3600),
    });
    let s = TestServer::start(
        &cluster,
        Settings {
            policy: home_policy(),
            ..settings(&cluster)
        },
    )
    .await;
    let text = format!(
        "x-tycho:\n  home: /home/web\nservices:\n  web:\n    image: {IMAGE}\n    stop_grace_period: 1s\n"
    );
    let first = s.start_system(ALICE, &text, "first").await;
    running(&s, &cluster, &first).await;
    let (code, body) = s
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": text, "name": "second"})),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("`first`") && detail.contains(&first),
        "{detail}"
    );
    assert!(detail.contains("one system at a time"), "{detail}");
    // Nothing of the refused start is left.
    assert_eq!(s.client(ALICE).list().await.unwrap().len(), 1);

    // While the first one's pod terminates, the reason says so.
    let (code, _) = delete_once(&s, ALICE, &first, "").await;
    assert_eq!(code, StatusCode::ACCEPTED);
    let (code, body) = s
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": text, "name": "second"})),
        )
        .await;
    assert_eq!(code, StatusCode::CONFLICT, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("being deleted") && detail.contains("try again"),
        "{detail}"
    );
    s.delete_gone(ALICE, &first).await;
    let second = s.start_system(ALICE, &text, "second").await;
    // Another user's start is not held up by alice's home.
    let bobs = s.start_system(BOB, &text, "first").await;
    s.delete_gone(ALICE, &second).await;
    s.delete_gone(BOB, &bobs).await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn kept_volumes_expire_after_the_policy_ttl_with_a_warning_first() {
    let cluster = TestCluster::start("server-volumes-ttl").await;
    let day = 86_400;
    // The executor's clock: now plus the days the test moves it on (no sleeping).
    let offset = Arc::new(AtomicI64::new(0));
    let clock = {
        let offset = offset.clone();
        Arc::new(move || {
            let now = k8s_openapi::jiff::Timestamp::now();
            k8s_openapi::jiff::Timestamp::from_second(
                now.as_second() + offset.load(Ordering::SeqCst),
            )
            .unwrap()
        })
    };
    let executor = KubeExecutor::new(cluster.client.clone(), cluster.namespace.clone())
        .with_volume_ttl(Some(Duration::from_secs(30 * day as u64)))
        .with_clock(clock);
    let s = TestServer::with_executor(settings(&cluster), executor).await;
    let sweep = || async {
        s.state
            .executor()
            .expect("executor")
            .sweep()
            .await
            .expect("sweep");
    };
    let guid = s.start_system(ALICE, &with_volume(false), "expiring").await;
    let claim = format!("data-{guid}");
    // In use: no expiry.
    let v = named(&volumes(&s, ALICE).await, &claim).cloned().unwrap();
    assert!(v.expires_at.is_empty(), "{v:?}");
    s.delete_gone(ALICE, &guid).await;

    let v = named(&volumes(&s, ALICE).await, &claim).cloned().unwrap();
    let released: k8s_openapi::jiff::Timestamp = v.released_at.parse().unwrap();
    let expires: k8s_openapi::jiff::Timestamp = v.expires_at.parse().unwrap();
    assert_eq!(expires.as_second() - released.as_second(), 30 * day);
    assert!(v.warning.is_empty(), "{v:?}");

    offset.store(28 * day, Ordering::SeqCst);
    sweep().await;
    let v = named(&volumes(&s, ALICE).await, &claim)
        .cloned()
        .expect("not yet expired");
    assert!(
        v.warning.contains("will be deleted at") && v.warning.contains("30d"),
        "{v:?}"
    );

    offset.store(30 * day + 60, Ordering::SeqCst);
    sweep().await;
    assert!(
        named(&volumes(&s, ALICE).await, &claim).is_none(),
        "expired and removed"
    );
    cluster.cleanup().await;
}

#[tokio::test]
async fn the_compat_delete_removes_the_systems_own_claims() {
    let cluster = TestCluster::start("server-volumes-compat").await;
    let s = TestServer::on(&cluster).await;
    let guid = s.start_system(ALICE, &with_volume(false), "old").await;
    let (code, body) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(ALICE),
            Some(json!({"name": guid})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    s.delete_gone(ALICE, &guid).await;
    wait_volume_gone(&s, &format!("data-{guid}")).await;
    cluster.cleanup().await;
}
