//! Injected failures, "cluster down", and the request log.

mod common;

use common::{api_err, fake, obj};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Event, Service};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use std::time::{Duration, Instant};

fn cm(name: &str) -> ConfigMap {
    obj(json!({"metadata": {"name": name}}))
}

#[tokio::test]
async fn fail_nth_create_fails_exactly_that_post() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c.clone());
    cms.create(&PostParams::default(), &cm("before"))
        .await
        .unwrap();
    fake.fail_nth_create("configmaps", 2, 500);
    fake.fail_nth_create("services", 1, 403);
    cms.create(&PostParams::default(), &cm("one"))
        .await
        .unwrap();
    let (code, reason, _) = api_err(cms.create(&PostParams::default(), &cm("two")).await);
    assert_eq!((code, reason.as_str()), (500, "InternalError"));
    assert_eq!(
        api_err(cms.get("two").await).0,
        404,
        "the failed create stored nothing"
    );
    cms.create(&PostParams::default(), &cm("three"))
        .await
        .unwrap();

    let svc: Service = obj(json!({"metadata": {"name": "web"}, "spec": {"ports": [{"port": 80}]}}));
    let svcs = Api::<Service>::default_namespaced(c);
    let (code, reason, msg) = api_err(svcs.create(&PostParams::default(), &svc).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert!(msg.starts_with("services \"web\" is forbidden"), "{msg}");
    svcs.create(&PostParams::default(), &svc).await.unwrap();
}

#[tokio::test]
async fn injected_codes_get_matching_reasons() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c);
    for (i, (code, reason)) in [
        (409, "AlreadyExists"),
        (422, "Invalid"),
        (503, "ServiceUnavailable"),
        (429, "TooManyRequests"),
    ]
    .into_iter()
    .enumerate()
    {
        fake.fail_nth_create("configmaps", 1, code);
        let got = api_err(
            cms.create(&PostParams::default(), &cm(&format!("c{i}")))
                .await,
        );
        assert_eq!((got.0, got.1.as_str()), (code, reason));
    }
}

#[tokio::test]
async fn unreachable_cluster_answers_503_then_recovers() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c);
    cms.create(&PostParams::default(), &cm("kept"))
        .await
        .unwrap();
    fake.set_unreachable(true);
    let (code, reason, _) = api_err(cms.list(&ListParams::default()).await);
    assert_eq!((code, reason.as_str()), (503, "ServiceUnavailable"));
    assert_eq!(
        api_err(cms.create(&PostParams::default(), &cm("lost")).await).0,
        503
    );
    fake.set_unreachable(false);
    let names: Vec<String> = cms
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .collect();
    assert_eq!(names, ["kept"]);
}

#[tokio::test]
async fn requests_are_counted_and_logged_in_order() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::namespaced(c, "default");
    fake.reset_requests();
    assert_eq!(fake.request_count(), 0);
    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    cms.list(&ListParams::default().labels("app=web,tier in (a,b)"))
        .await
        .unwrap();
    let _ = cms.get("missing").await;
    assert_eq!(fake.request_count(), 3);
    let log = fake.requests();
    assert!(
        log[0].starts_with("POST /api/v1/namespaces/default/configmaps"),
        "{log:?}"
    );
    assert_eq!(
        log[1],
        "GET /api/v1/namespaces/default/configmaps?labelSelector=app=web,tier in (a,b)"
    );
    assert_eq!(log[2], "GET /api/v1/namespaces/default/configmaps/missing");
    fake.reset_requests();
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_parallel_creates() {
    let (fake, c) = fake().await;
    let before = fake.object_count();
    let cms = Api::<ConfigMap>::default_namespaced(c);
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let cms = cms.clone();
            tokio::spawn(async move {
                cms.create(&PostParams::default(), &cm(&format!("c{i}")))
                    .await
            })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    assert_eq!(fake.object_count(), before + 200);
    assert_eq!(
        cms.list(&ListParams::default()).await.unwrap().items.len(),
        200
    );
}

#[tokio::test]
async fn store_then_fail_stores_the_object_and_answers_the_code() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c);
    fake.store_then_fail_nth_create("configmaps", 1, 504);
    let (code, reason, _) = api_err(cms.create(&PostParams::default(), &cm("late")).await);
    assert_eq!((code, reason.as_str()), (504, "Timeout"));
    assert!(cms.get("late").await.is_ok(), "the object was stored");
    let (code, reason, _) = api_err(cms.create(&PostParams::default(), &cm("late")).await);
    assert_eq!(
        (code, reason.as_str()),
        (409, "AlreadyExists"),
        "a retry meets it"
    );
}

#[tokio::test]
async fn a_delayed_create_given_up_on_stores_nothing() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c);
    fake.delay_nth_create("configmaps", 1, Duration::from_millis(800));
    let started = Instant::now();
    let gave_up = tokio::time::timeout(
        Duration::from_millis(200),
        cms.create(&PostParams::default(), &cm("slow")),
    )
    .await;
    assert!(gave_up.is_err(), "the create was still waiting");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert_eq!(api_err(cms.get("slow").await).0, 404);
    // The next create is not delayed.
    cms.create(&PostParams::default(), &cm("quick"))
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));

    fake.delay_nth_create("configmaps", 1, Duration::from_millis(300));
    let started = Instant::now();
    cms.create(&PostParams::default(), &cm("patient"))
        .await
        .unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn forbidden_verbs_answer_the_rbac_message() {
    let (fake, c) = fake().await;
    fake.forbid("list", "deployments");
    let deployments = Api::<Deployment>::default_namespaced(c.clone());
    let (code, reason, msg) = api_err(deployments.list(&ListParams::default()).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert!(
        msg.starts_with("deployments.apps is forbidden: User ")
            && msg.contains("cannot list resource \"deployments\" in API group \"apps\" in the namespace \"default\""),
        "{msg}"
    );
    // Other verbs and kinds are untouched.
    assert!(
        deployments
            .get("x")
            .await
            .is_err_and(|e| matches!(e, kube::Error::Api(s) if s.code == 404))
    );
    Api::<ConfigMap>::default_namespaced(c)
        .list(&ListParams::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn delete_collection_can_be_refused_or_refuse_a_body() {
    let (fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c);
    cms.create(&PostParams::default(), &cm("a")).await.unwrap();
    let lp = ListParams::default();
    fake.refuse_delete_collection_body(true);
    let (code, _, _) = api_err(
        cms.delete_collection(&DeleteParams::background(), &lp)
            .await,
    );
    assert_eq!(code, 400, "a body is refused");
    cms.delete_collection(&DeleteParams::default(), &lp)
        .await
        .unwrap();
    assert_eq!(api_err(cms.get("a").await).0, 404);

    fake.refuse_delete_collection("configmaps");
    let (code, reason, _) = api_err(cms.delete_collection(&DeleteParams::default(), &lp).await);
    assert_eq!((code, reason.as_str()), (405, "MethodNotAllowed"));
}

#[tokio::test]
async fn events_are_selected_by_involved_object_name() {
    let (_fake, c) = fake().await;
    let events = Api::<Event>::default_namespaced(c);
    for (name, object) in [("e1", "web-1"), ("e2", "web-10"), ("e3", "web-1")] {
        let e: Event = obj(json!({
            "metadata": {"name": name},
            "involvedObject": {"kind": "Pod", "name": object, "namespace": "default"},
            "reason": "Started", "message": "m", "type": "Normal"
        }));
        events.create(&PostParams::default(), &e).await.unwrap();
    }
    let picked = events
        .list(&ListParams::default().fields("involvedObject.name=web-1"))
        .await
        .unwrap();
    let mut names: Vec<String> = picked
        .items
        .into_iter()
        .filter_map(|e| e.metadata.name)
        .collect();
    names.sort();
    assert_eq!(names, ["e1", "e3"]);
}
