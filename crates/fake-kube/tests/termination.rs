//! Deletion as a real cluster finishes it: pods terminate gracefully, the garbage collector
//! removes dependents after their owner, per `propagationPolicy`, and a namespace stays
//! Terminating until it is empty. The pod and GC tests run on a real cluster too
//! (`TYCHO_TEST_KUBECONFIG`): there the behaviour is the cluster's own, here the fake's after
//! `set_termination`.

mod common;

use std::time::{Duration, Instant};

use common::{api_err, obj};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use tycho_fake_kube::{FakeKube, Termination, TestCluster};

/// PID 1 `sleep` ignores SIGTERM, so on a real cluster the pod stays Terminating for its whole
/// grace period, as the fake's pods do with an `exit_after` longer than it.
const IGNORES_SIGTERM: &str = "busybox:1.36";
const GRACE_SECONDS: i64 = 3;

async fn cluster(name: &str) -> TestCluster {
    let cluster = TestCluster::start(name).await;
    if let Some(fake) = &cluster.fake {
        fake.set_termination(Termination {
            collect_after: Duration::from_millis(100),
            exit_after: Duration::from_secs(3600),
        });
    }
    cluster
}

fn sleeper_spec() -> serde_json::Value {
    json!({
        "terminationGracePeriodSeconds": GRACE_SECONDS,
        "containers": [{"name": "main", "image": IGNORES_SIGTERM, "command": ["sleep", "3600"]}],
    })
}

fn sleeper_deployment(name: &str) -> Deployment {
    obj(json!({
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": sleeper_spec()},
        }
    }))
}

async fn wait_until<F, Fut>(what: &str, timeout: Duration, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn pods_of(api: &Api<Pod>, app: &str) -> Vec<Pod> {
    api.list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .expect("list pods")
        .items
}

fn terminating(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_some()
}

#[tokio::test]
async fn a_deleted_pod_terminates_for_its_grace_period_and_is_replaced() {
    let cluster = cluster("termination-pod").await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    deployments
        .create(&PostParams::default(), &sleeper_deployment("sleeper"))
        .await
        .expect("create");
    wait_until("the pod exists", Duration::from_secs(60), || async {
        pods_of(&pods, "sleeper").await.len() == 1
    })
    .await;
    let first = pods_of(&pods, "sleeper").await.remove(0);
    let name = first.metadata.name.clone().expect("name");

    let answer = pods
        .delete(&name, &DeleteParams::default())
        .await
        .expect("delete");
    let answered = answer
        .left()
        .expect("a pod DELETE answers the terminating pod");
    assert!(terminating(&answered), "{:?}", answered.metadata);
    assert_eq!(
        answered.metadata.deletion_grace_period_seconds,
        Some(GRACE_SECONDS)
    );

    // Still there, Terminating, while its ReplicaSet already runs a replacement.
    let still = pods.get(&name).await.expect("the pod is still there");
    assert!(terminating(&still));
    wait_until("a replacement exists", Duration::from_secs(30), || async {
        pods_of(&pods, "sleeper")
            .await
            .iter()
            .any(|p| !terminating(p))
    })
    .await;
    let deleted_at = Instant::now();
    wait_until("the pod is gone", Duration::from_secs(60), || async {
        pods.get_opt(&name).await.expect("get").is_none()
    })
    .await;
    assert!(
        deleted_at.elapsed() >= Duration::from_secs(1),
        "a pod that ignores SIGTERM stays for its grace period"
    );
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_zero_grace_period_removes_a_pod_at_once() {
    let cluster = cluster("termination-force").await;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pod: Pod = obj(json!({"metadata": {"name": "forced"}, "spec": sleeper_spec()}));
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create");
    let force = DeleteParams {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    pods.delete("forced", &force).await.expect("delete");
    wait_until("the pod is gone", Duration::from_secs(10), || async {
        pods.get_opt("forced").await.expect("get").is_none()
    })
    .await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn background_deletion_collects_replicasets_and_pods_after_the_deployment() {
    let cluster = cluster("termination-background").await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let replicasets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    deployments
        .create(&PostParams::default(), &sleeper_deployment("bg"))
        .await
        .expect("create");
    wait_until("the pod exists", Duration::from_secs(60), || async {
        !pods_of(&pods, "bg").await.is_empty()
    })
    .await;
    deployments
        .delete("bg", &DeleteParams::background())
        .await
        .expect("delete");
    assert!(
        deployments.get_opt("bg").await.expect("get").is_none(),
        "the owner goes at once"
    );
    wait_until(
        "the ReplicaSet is collected",
        Duration::from_secs(30),
        || async {
            replicasets
                .list(&ListParams::default().labels("app=bg"))
                .await
                .expect("list")
                .items
                .is_empty()
        },
    )
    .await;
    wait_until("the pods are gone", Duration::from_secs(60), || async {
        pods_of(&pods, "bg").await.is_empty()
    })
    .await;
    cluster.cleanup().await;
}

#[tokio::test]
async fn foreground_deletion_keeps_the_owner_until_its_pods_are_gone() {
    let cluster = cluster("termination-foreground").await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    deployments
        .create(&PostParams::default(), &sleeper_deployment("fg"))
        .await
        .expect("create");
    wait_until("the pod exists", Duration::from_secs(60), || async {
        !pods_of(&pods, "fg").await.is_empty()
    })
    .await;
    let answer = deployments
        .delete("fg", &DeleteParams::foreground())
        .await
        .expect("delete");
    let owner = answer
        .left()
        .expect("a foreground DELETE answers the object");
    assert!(owner.metadata.deletion_timestamp.is_some());
    assert!(
        owner
            .metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"foregroundDeletion".to_string())
    );
    wait_until("a pod is terminating", Duration::from_secs(30), || async {
        pods_of(&pods, "fg").await.iter().any(terminating)
    })
    .await;
    assert!(
        deployments.get_opt("fg").await.expect("get").is_some(),
        "the owner waits for its pods"
    );
    wait_until("the owner is gone", Duration::from_secs(60), || async {
        deployments.get_opt("fg").await.expect("get").is_none()
    })
    .await;
    assert!(pods_of(&pods, "fg").await.is_empty());
    cluster.cleanup().await;
}

#[tokio::test]
async fn orphan_deletion_leaves_the_replicaset_without_its_owner() {
    let cluster = cluster("termination-orphan").await;
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let replicasets: Api<ReplicaSet> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    deployments
        .create(&PostParams::default(), &sleeper_deployment("orphan"))
        .await
        .expect("create");
    let by_app = ListParams::default().labels("app=orphan");
    wait_until("the ReplicaSet exists", Duration::from_secs(30), || async {
        !replicasets
            .list(&by_app)
            .await
            .expect("list")
            .items
            .is_empty()
    })
    .await;
    deployments
        .delete("orphan", &DeleteParams::orphan())
        .await
        .expect("delete");
    wait_until(
        "the ReplicaSet has no owner",
        Duration::from_secs(30),
        || async {
            deployments.get_opt("orphan").await.expect("get").is_none()
                && replicasets
                    .list(&by_app)
                    .await
                    .expect("list")
                    .items
                    .iter()
                    .all(|rs| {
                        rs.metadata
                            .owner_references
                            .as_deref()
                            .unwrap_or_default()
                            .is_empty()
                    })
        },
    )
    .await;
    // Given time to collect, the orphan is still there: nothing owns it, so nothing deletes it.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let left = replicasets.list(&by_app).await.expect("list").items;
    assert_eq!(left.len(), 1, "the orphaned ReplicaSet stays");
    let cleanup = DeleteParams::background();
    for rs in left {
        replicasets
            .delete(&rs.metadata.name.unwrap_or_default(), &cleanup)
            .await
            .expect("delete the orphan");
    }
    cluster.cleanup().await;
}

/// Fake only: the test deletes a namespace of its own and needs to see it linger.
#[tokio::test]
async fn a_terminating_namespace_refuses_new_content_and_goes_once_empty() {
    let fake = FakeKube::start().await;
    fake.set_termination(Termination {
        collect_after: Duration::from_millis(200),
        exit_after: Duration::from_millis(300),
    });
    let client = fake.client();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    namespaces
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "doomed"}})),
        )
        .await
        .expect("create namespace");
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), "doomed");
    let cm: ConfigMap = obj(json!({"metadata": {"name": "a"}}));
    configmaps
        .create(&PostParams::default(), &cm)
        .await
        .expect("create");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "doomed");
    let pod: Pod = obj(json!({"metadata": {"name": "p"}, "spec": sleeper_spec()}));
    pods.create(&PostParams::default(), &pod)
        .await
        .expect("create pod");

    namespaces
        .delete("doomed", &DeleteParams::background())
        .await
        .expect("delete namespace");
    let ns = namespaces.get("doomed").await.expect("still there");
    assert_eq!(
        ns.status.and_then(|s| s.phase).as_deref(),
        Some("Terminating")
    );
    let second: ConfigMap = obj(json!({"metadata": {"name": "b"}}));
    let (code, reason, message) = api_err(configmaps.create(&PostParams::default(), &second).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert!(
        message.contains(
            "unable to create new content in namespace doomed because it is being terminated"
        ),
        "{message}"
    );
    wait_until("the namespace is gone", Duration::from_secs(10), || async {
        namespaces.get_opt("doomed").await.expect("get").is_none()
    })
    .await;
    assert_eq!(fake.object_count(), 1, "only \"default\" is left");
}
