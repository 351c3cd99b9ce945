//! The executor under crashes, a slow or refusing API server and look-alike usernames (issue
//! 12: items 8, 12, 15, 16, 18, 20, 21, 22). Fault injection needs the fake, so most tests
//! start it whatever `TYCHO_TEST_KUBECONFIG` says.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{Api, ListParams, PostParams};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tycho_api::Phase;
use tycho_fake_kube::Termination;
use tycho_server::executor::{ExecError, Executor, Filter, owner_hash};
use tycho_server::{KubeExecutor, Settings};
use tycho_test_server::*;

fn plan_for(cluster: &TestCluster, username: &str, text: &str) -> tycho_compiler::Plan {
    let options = tycho_compiler::CompileOptions {
        guid: tycho_server::ops::new_guid(),
        username: username.into(),
        namespace: cluster.namespace.clone(),
        policy: test_policy(),
        ..Default::default()
    };
    let compiled = tycho_compiler::compile(text, &options);
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    compiled.plan.expect("a plan")
}

fn executor(cluster: &TestCluster) -> KubeExecutor {
    KubeExecutor::new(cluster.client.clone(), cluster.namespace.clone())
}

fn deployments(cluster: &TestCluster) -> Api<Deployment> {
    Api::namespaced(cluster.client.clone(), &cluster.namespace)
}

fn pods(cluster: &TestCluster) -> Api<Pod> {
    Api::namespaced(cluster.client.clone(), &cluster.namespace)
}

async fn pods_of(cluster: &TestCluster, guid: &str) -> Vec<Pod> {
    let lp = ListParams::default().labels(&tycho_compiler::labels::system_selector(guid));
    pods(cluster).list(&lp).await.expect("list pods").items
}

/// Deletes a system whose pods ignore SIGTERM (as most images run as PID 1 do) and waits
/// until its Deployment is gone and its pods are Terminating: how a system looks during its
/// grace period. On the fake, deletion is made asynchronous as on a real cluster.
async fn make_terminating(cluster: &TestCluster, guid: &str) {
    if let Some(fake) = &cluster.fake {
        fake.set_termination(Termination {
            collect_after: Duration::from_millis(50),
            exit_after: Duration::from_secs(3600),
        });
    }
    executor(cluster).delete(guid).await.expect("delete");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let pods = pods_of(cluster, guid).await;
        let deployment_left = !deployments(cluster)
            .list(&ListParams::default().labels(&tycho_compiler::labels::system_selector(guid)))
            .await
            .expect("list deployments")
            .items
            .is_empty();
        let terminating = pods.iter().all(|p| p.metadata.deletion_timestamp.is_some());
        if !deployment_left && !pods.is_empty() && terminating {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "system {guid} did not start terminating"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---- 8: look-alike usernames ---------------------------------------------------------------

#[tokio::test]
async fn look_alike_owners_cannot_see_each_others_terminating_systems() {
    let cluster = TestCluster::start_fake("exec-look-alike-owners").await;
    let ex = executor(&cluster);
    let tricky = ex
        .start(&plan_for(&cluster, "../bob", &compose(IMAGE)))
        .await
        .expect("start ../bob");
    let plain = ex
        .start(&plan_for(&cluster, "bob", &compose(IMAGE)))
        .await
        .expect("start bob");
    for guid in [&tricky.guid, &plain.guid] {
        make_terminating(&cluster, guid).await;
    }
    for (user, own, other) in [
        ("bob", &plain.guid, &tricky.guid),
        ("../bob", &tricky.guid, &plain.guid),
    ] {
        let seen: Vec<String> = ex
            .list(&Filter::user(user))
            .await
            .expect("list")
            .into_iter()
            .map(|s| {
                assert_eq!(s.phase, Phase::Terminating);
                s.guid
            })
            .collect();
        assert_eq!(seen, vec![own.clone()], "{user} sees only their own");
        // A GET by GUID decides by the status's owner: exactly the other user.
        let status = ex.status(other).await.expect("status").expect("exists");
        assert_ne!(status.username, user, "{user} must not own {other}");
    }
    let status = ex.status(&tricky.guid).await.unwrap().unwrap();
    assert_eq!(status.username, "../bob");

    // Every object carries the injective owner label.
    let d_lp = ListParams::default().labels(&format!(
        "{}={}",
        tycho_server::executor::LABEL_OWNER_HASH,
        owner_hash("../bob")
    ));
    assert_eq!(pods(&cluster).list(&d_lp).await.unwrap().items.len(), 1);
    assert_ne!(owner_hash("../bob"), owner_hash("bob"));
    assert_eq!(owner_hash("bob").len(), 63);
    cluster.cleanup().await;
}

// ---- 12: terminating systems count toward the limit ------------------------------------------

#[tokio::test]
async fn terminating_systems_count_toward_the_per_user_limit() {
    let cluster = TestCluster::start_fake("exec-limit-terminating").await;
    let s = TestServer::start(
        &cluster,
        Settings {
            max_systems_per_user: 1,
            ..settings(&cluster)
        },
    )
    .await;
    // Two seconds to stop, and an image that ignores SIGTERM: it stays Terminating for them.
    let slow_to_stop = format!("{}    stop_grace_period: 2s\n", compose(IMAGE));
    let guid = s.start_system(ALICE, &slow_to_stop, "one").await;
    make_terminating(&cluster, &guid).await;
    let (_, body) = s.status(ALICE, &guid).await;
    assert_eq!(body["phase"], "Terminating", "{body}");
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The refusal says when to try again.
    let again = s
        .call(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": compose(IMAGE)})),
        )
        .await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(again.headers()["retry-after"], "30");
    // Once its pods are gone (the grace period is over), the slot is free.
    s.delete_gone(ALICE, &guid).await;
    let again = s.start_system(ALICE, &compose(IMAGE), "two").await;
    s.delete_gone(ALICE, &again).await;
    cluster.cleanup().await;
}

// ---- 15: compiles off the async workers -------------------------------------------------------

/// About 900 KB of valid compose: many services with environment entries.
fn big_compose() -> String {
    let mut text = String::from("services:\n");
    let mut i = 0;
    while text.len() < 900_000 {
        text.push_str(&format!("  s{i}:\n    image: {IMAGE}\n    environment:\n"));
        for k in 0..20 {
            text.push_str(&format!(
                "      VAR_{k}: \"value-{i}-{k}-xxxxxxxxxxxxxxxx\"\n"
            ));
        }
        i += 1;
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_answers_while_large_files_compile() {
    let s = TestServer::without_cluster(Settings {
        auth: tokens(),
        max_body_bytes: 4 << 20,
        ..Settings::default()
    })
    .await;
    // Raw YAML: the compile, not the request's JSON parse, is what is measured.
    let body = Arc::new(big_compose());
    let started = Instant::now();
    let validates: Vec<_> = (0..40)
        .map(|_| {
            let (http, base, body) = (s.http.clone(), s.base.clone(), body.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/v1/validate"))
                    .bearer_auth(ALICE)
                    .header("content-type", "application/yaml")
                    .body(String::clone(&body))
                    .send()
                    .await
                    .map(|r| r.status())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut slowest = Duration::ZERO;
    for _ in 0..5 {
        let t = Instant::now();
        let r = s.call(Method::GET, "/healthz", None, None).await;
        assert_eq!(r.status(), StatusCode::OK);
        slowest = slowest.max(t.elapsed());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for v in validates {
        let code = v.await.expect("task").expect("validate answered");
        assert!(
            code.is_success() || code == StatusCode::UNPROCESSABLE_ENTITY,
            "{code}"
        );
    }
    eprintln!(
        "slowest /healthz during 40 validates of {} KB: {slowest:?} (validates took {:?})",
        body.len() / 1000,
        started.elapsed()
    );
    // Compiling on the async workers: 3.8–7 s (debug build, 2 shared cores); off them,
    // 0.3–0.7 s. The bound leaves room for a loaded machine.
    assert!(
        slowest < Duration::from_secs(2),
        "/healthz took {slowest:?}"
    );
}

// ---- 16: creation order, crashes and the sweep -------------------------------------------------

#[tokio::test]
async fn no_pod_runs_before_its_network_policy_exists() {
    let cluster = TestCluster::start_fake("exec-create-order").await;
    let fake = cluster.fake.clone().expect("fake");
    let ex = Arc::new(executor(&cluster));
    let plan = plan_for(&cluster, "alice", &compose(IMAGE));
    let guid = plan.guid.clone();
    fake.delay_nth_create("networkpolicies", 1, Duration::from_millis(1500));
    fake.reset_requests();
    let start = {
        let ex = ex.clone();
        tokio::spawn(async move { ex.start(&plan).await })
    };
    // While the NetworkPolicy is still being created: a Deployment at zero replicas, marked
    // incomplete, and no pod.
    let deadline = Instant::now() + Duration::from_secs(5);
    let deployment = loop {
        let lp = ListParams::default().labels(&tycho_compiler::labels::system_selector(&guid));
        if let Some(d) = deployments(&cluster).list(&lp).await.unwrap().items.pop() {
            break d;
        }
        assert!(Instant::now() < deadline, "no Deployment appeared");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(deployment.spec.as_ref().and_then(|s| s.replicas), Some(0));
    let annotations = deployment.metadata.annotations.clone().unwrap_or_default();
    assert_eq!(
        annotations
            .get(tycho_server::executor::ANNOTATION_COMPLETE)
            .map(String::as_str),
        Some("false")
    );
    assert!(pods_of(&cluster, &guid).await.is_empty());
    let status = ex.status(&guid).await.unwrap().expect("listed");
    assert_eq!(
        (status.phase, status.reason.as_str()),
        (Phase::Pending, "Incomplete"),
        "{status:?}"
    );

    start.await.unwrap().expect("start");
    let name = deployment.metadata.name.clone().unwrap_or_default();
    let done = deployments(&cluster).get(&name).await.unwrap();
    assert_eq!(done.spec.as_ref().and_then(|s| s.replicas), Some(1));
    let annotations = done.metadata.annotations.unwrap_or_default();
    assert!(!annotations.contains_key(tycho_server::executor::ANNOTATION_COMPLETE));
    assert_eq!(pods_of(&cluster, &guid).await.len(), 1);
    // The Deployment is created first and scaled up last.
    let writes: Vec<String> = fake
        .requests()
        .into_iter()
        .filter(|r| r.starts_with("POST") || r.starts_with("PATCH"))
        .collect();
    assert!(
        writes[0].starts_with("POST") && writes[0].contains("/deployments"),
        "{writes:?}"
    );
    let last = writes.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("PATCH") && last.contains("/deployments/"),
        "{writes:?}"
    );
    ex.delete(&guid).await.unwrap();
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_start_cut_short_runs_nothing_and_the_sweep_removes_it() {
    let cluster = TestCluster::start_fake("exec-crash-mid-start").await;
    let fake = cluster.fake.clone().expect("fake");
    let baseline = fake.object_count();
    let plan = plan_for(&cluster, "alice", &compose(IMAGE));
    fake.delay_nth_create("networkpolicies", 1, Duration::from_secs(5));
    // A crash: the start's future is dropped mid-way, nothing of it runs again.
    let ex = executor(&cluster);
    let cut = tokio::time::timeout(Duration::from_millis(400), ex.start(&plan)).await;
    assert!(cut.is_err(), "the start was cut short");
    assert!(
        pods_of(&cluster, &plan.guid).await.is_empty(),
        "no pod runs"
    );
    assert!(fake.object_count() > baseline, "the Deployment was left");

    // Too young for the default grace: a start on another replica may still be creating it.
    assert_eq!(ex.sweep().await.unwrap(), Vec::<String>::new());
    let sweeper = executor(&cluster).with_sweep_grace(Duration::ZERO);
    assert_eq!(sweeper.sweep().await.unwrap(), vec![plan.guid.clone()]);
    wait_for_count(&fake, baseline, "after the sweep").await;
    // The other executor (another replica) learns of it through its watches.
    let deadline = Instant::now() + Duration::from_secs(5);
    while ex.status(&plan.guid).await.unwrap().is_some() {
        assert!(
            Instant::now() < deadline,
            "the first executor still sees it"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn the_server_sweeps_at_start_up() {
    let cluster = TestCluster::start_fake("exec-sweep-at-start-up").await;
    let fake = cluster.fake.clone().expect("fake");
    let baseline = fake.object_count();
    let plan = plan_for(&cluster, "alice", &compose(IMAGE));
    fake.delay_nth_create("networkpolicies", 1, Duration::from_secs(5));
    let ex = executor(&cluster);
    let _ = tokio::time::timeout(Duration::from_millis(400), ex.start(&plan)).await;
    assert!(fake.object_count() > baseline);
    let sweeping = executor(&cluster).with_sweep_grace(Duration::ZERO);
    let _s = TestServer::with_executor(settings(&cluster), sweeping).await;
    wait_for_count(&fake, baseline, "after the start-up sweep").await;
    cluster.cleanup().await;
}

// ---- 18: deadlines ------------------------------------------------------------------------------

#[tokio::test]
async fn a_stalled_api_server_times_the_start_out_and_rolls_it_back() {
    let cluster = TestCluster::start_fake("exec-stalled-start").await;
    let fake = cluster.fake.clone().expect("fake");
    let baseline = fake.object_count();
    let ex = executor(&cluster).with_deadline(Duration::from_secs(1));
    let plan = plan_for(&cluster, "alice", &compose(IMAGE));
    fake.delay_nth_create("services", 1, Duration::from_secs(20));
    let t = Instant::now();
    let err = ex.start(&plan).await.expect_err("timed out");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    match err {
        ExecError::Unreachable(m) => {
            assert!(m.contains("did not answer within 1 s (start)"), "{m}")
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    wait_for_count(&fake, baseline, "after the rollback").await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_stalled_start_answers_503_with_the_reason() {
    let cluster = TestCluster::start_fake("exec-stalled-start-http").await;
    let fake = cluster.fake.clone().expect("fake");
    let ex = executor(&cluster).with_deadline(Duration::from_secs(1));
    let s = TestServer::with_executor(settings(&cluster), ex).await;
    fake.delay_nth_create("deployments", 1, Duration::from_secs(20));
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    let detail = body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains("did not answer within"), "{body}");
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_create_stored_then_answered_504_is_recognised_as_ours() {
    let cluster = TestCluster::start_fake("exec-stored-then-504").await;
    let fake = cluster.fake.clone().expect("fake");
    let baseline = fake.object_count();
    let ex = executor(&cluster);
    let plan = plan_for(&cluster, "alice", &compose(IMAGE));
    fake.store_then_fail_nth_create("services", 1, 504);
    let started = ex
        .start(&plan)
        .await
        .expect("the retry meets our own Service");
    assert_eq!(started.guid, plan.guid);
    let status = ex.status(&plan.guid).await.unwrap().expect("listed");
    assert!(!status.address.is_empty(), "{status:?}");

    // Stored, answered 504, and the retry refused: the rollback still removes it.
    let failing = plan_for(&cluster, "alice", &compose(IMAGE));
    fake.store_then_fail_nth_create("networkpolicies", 1, 504);
    fake.fail_nth_create("networkpolicies", 2, 503);
    ex.start(&failing).await.expect_err("the retry failed");
    let lp = ListParams::default().labels(&tycho_compiler::labels::system_selector(&failing.guid));
    let policies: Api<k8s_openapi::api::networking::v1::NetworkPolicy> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    assert!(policies.list(&lp).await.unwrap().items.is_empty());

    ex.delete(&plan.guid).await.unwrap();
    wait_for_count(&fake, baseline, "after the deletes").await;
    cluster.cleanup().await;
}

// ---- 20: delete without a body, per object where deletecollection is missing ------------------

#[tokio::test]
async fn delete_sends_no_options_and_falls_back_to_per_object_deletes() {
    let cluster = TestCluster::start_fake("exec-delete-fallback").await;
    let fake = cluster.fake.clone().expect("fake");
    let baseline = fake.object_count();
    let ex = executor(&cluster);
    let plan = plan_for(&cluster, "alice", &compose(IMAGE));
    ex.start(&plan).await.expect("start");
    fake.refuse_delete_collection_body(true);
    fake.refuse_delete_collection("services");
    ex.delete(&plan.guid).await.expect("delete");
    wait_for_count(&fake, baseline, "after the delete").await;
    cluster.cleanup().await;
}

// ---- 21: /readyz says what is wrong -----------------------------------------------------------

#[tokio::test]
async fn readyz_names_a_missing_permission() {
    let cluster = TestCluster::start_fake("exec-readyz-forbidden").await;
    let fake = cluster.fake.clone().expect("fake");
    let s = TestServer::on(&cluster).await;
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::OK, "{body}");

    fake.forbid("list", "deployments");
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["cluster"]["reachable"], true, "{body}");
    let message = body["cluster"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(&format!(
            "forbidden: list deployments.apps in namespace {}",
            cluster.namespace
        )),
        "{body}"
    );

    cluster.cleanup().await;
}

#[tokio::test]
async fn readyz_names_a_missing_namespace() {
    let cluster = TestCluster::start("exec-readyz-no-namespace").await;
    let elsewhere = KubeExecutor::new(cluster.client.clone(), "no-such-namespace");
    let s = TestServer::with_executor(settings(&cluster), elsewhere).await;
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(
        body["cluster"]["message"], "namespace \"no-such-namespace\" does not exist",
        "{body}"
    );
    cluster.cleanup().await;
}

// ---- 22: events of the system's objects, claims included ---------------------------------------------------

#[tokio::test]
async fn events_include_the_claims_and_come_from_the_watch() {
    let cluster = TestCluster::start_fake("exec-events-per-object").await;
    let fake = cluster.fake.clone().expect("fake");
    let ex = executor(&cluster);
    let text = format!(
        "services:\n  web:\n    image: {IMAGE}\n    volumes:\n      - data:/data\nvolumes:\n  data: {{}}\n"
    );
    let plan = plan_for(&cluster, "alice", &text);
    ex.start(&plan).await.expect("start");
    let object_name = plan.deployment.metadata.name.clone().unwrap_or_default();
    let claim = format!("data-{}", plan.guid);
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    for (name, kind, object, reason) in [
        (
            "c1",
            "PersistentVolumeClaim",
            claim.as_str(),
            "ProvisioningFailed",
        ),
        ("o1", "Pod", "someone-else-1", "Started"),
    ] {
        let e: Event = serde_json::from_value(json!({
            "metadata": {"name": name},
            "involvedObject": {"kind": kind, "name": object, "namespace": cluster.namespace},
            "reason": reason, "message": "m", "type": "Warning",
            "firstTimestamp": "2026-01-02T03:00:00Z", "lastTimestamp": "2026-01-02T03:00:00Z"
        }))
        .unwrap();
        events.create(&PostParams::default(), &e).await.unwrap();
    }
    // The events reach the server through its watch: wait for both.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let got = loop {
        let got = ex.kube_events(&object_name).await.expect("events");
        let objects: Vec<&str> = got.iter().map(|e| e.object.as_str()).collect();
        let both = objects.contains(&format!("PersistentVolumeClaim/{claim}").as_str())
            && objects.iter().any(|o| o.starts_with("Pod/"));
        if both || std::time::Instant::now() > deadline {
            break got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    fake.reset_requests();
    assert_eq!(ex.kube_events(&object_name).await.expect("events"), got);
    let objects: Vec<&str> = got.iter().map(|e| e.object.as_str()).collect();
    assert!(
        objects.contains(&format!("PersistentVolumeClaim/{claim}").as_str()),
        "{objects:?}"
    );
    assert!(
        !objects.iter().any(|o| o.contains("someone-else")),
        "{objects:?}"
    );
    assert!(
        got.iter().any(|e| e.object.starts_with("Pod/")),
        "{objects:?}"
    );
    // Read from the watch of Events: no list per object any more.
    assert_eq!(fake.request_count(), 0, "{:?}", fake.requests());
    ex.delete(&plan.guid).await.unwrap();
    cluster.cleanup().await;
}
