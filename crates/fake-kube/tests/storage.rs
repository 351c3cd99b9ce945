//! Claims and StorageClasses: a claim binds only through a StorageClass, as on a real cluster.
//! Fake only: the tests remove the cluster's default StorageClass, which a shared real cluster
//! must keep.

mod common;

use std::time::{Duration, Instant};

use common::{fake, obj};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use k8s_openapi::api::storage::v1::StorageClass;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

fn claim(name: &str) -> PersistentVolumeClaim {
    obj(json!({
        "metadata": {"name": name},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}},
    }))
}

fn pod_mounting(name: &str, claim: &str) -> Pod {
    obj(json!({
        "metadata": {"name": name},
        "spec": {
            "containers": [{"name": "main", "image": "nginxinc/nginx-unprivileged:stable-alpine",
                "volumeMounts": [{"name": "data", "mountPath": "/data"}]}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}],
        }
    }))
}

fn phase(claim: &PersistentVolumeClaim) -> String {
    claim
        .status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default()
}

fn scheduled_message(pod: &Pod) -> String {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"))
        .map(|c| format!("{} {}", c.status, c.message.clone().unwrap_or_default()))
        .unwrap_or_default()
}

async fn eventually<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_fresh_cluster_has_a_default_class_that_binds_on_first_use() {
    let (_fake, client) = fake().await;
    let classes: Api<StorageClass> = Api::all(client.clone());
    let standard = classes.get("standard").await.expect("the default class");
    assert_eq!(
        standard.volume_binding_mode.as_deref(),
        Some("WaitForFirstConsumer")
    );
    let claims: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let made = claims
        .create(&PostParams::default(), &claim("data"))
        .await
        .expect("create");
    assert_eq!(
        made.spec
            .as_ref()
            .and_then(|s| s.storage_class_name.as_deref()),
        Some("standard")
    );
    assert_eq!(phase(&made), "Pending", "no consumer yet");
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    pods.create(&PostParams::default(), &pod_mounting("user", "data"))
        .await
        .expect("create pod");
    assert_eq!(phase(&claims.get("data").await.expect("get")), "Bound");
}

#[tokio::test]
async fn without_a_default_class_a_claim_stays_pending_until_one_appears() {
    let (_fake, client) = fake().await;
    let classes: Api<StorageClass> = Api::all(client.clone());
    classes
        .delete("standard", &DeleteParams::default())
        .await
        .expect("remove the default class");
    let claims: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let made = claims
        .create(&PostParams::default(), &claim("data"))
        .await
        .expect("create");
    assert_eq!(made.spec.and_then(|s| s.storage_class_name), None);
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    pods.create(&PostParams::default(), &pod_mounting("user", "data"))
        .await
        .expect("create pod");
    // Neither the claim nor the pod that mounts it gets anywhere.
    assert_eq!(phase(&claims.get("data").await.expect("get")), "Pending");
    let pod = pods.get("user").await.expect("get pod");
    let message = scheduled_message(&pod);
    assert!(
        message.starts_with("False")
            && message.contains("unbound immediate PersistentVolumeClaims"),
        "{message}"
    );
    let events: Api<Event> = Api::default_namespaced(client.clone());
    let reasons: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some("data"))
        .filter_map(|e| e.reason)
        .collect();
    assert!(
        reasons.contains(&"FailedBinding".to_string()),
        "{reasons:?}"
    );

    // A default class appears: the claim gets it (retroactively), the pod is scheduled and
    // binds it.
    let class: StorageClass = obj(json!({
        "metadata": {"name": "local", "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path",
        "volumeBindingMode": "WaitForFirstConsumer",
    }));
    classes
        .create(&PostParams::default(), &class)
        .await
        .expect("create class");
    eventually("the claim binds", || async {
        phase(&claims.get("data").await.expect("get")) == "Bound"
    })
    .await;
    let claim = claims.get("data").await.expect("get");
    assert_eq!(
        claim.spec.and_then(|s| s.storage_class_name).as_deref(),
        Some("local")
    );
    let pod = pods.get("user").await.expect("get pod");
    assert!(scheduled_message(&pod).starts_with("True"), "{pod:?}");
}

#[tokio::test]
async fn a_claim_naming_a_missing_class_says_so_and_an_immediate_class_binds_at_once() {
    let (_fake, client) = fake().await;
    let claims: Api<PersistentVolumeClaim> = Api::default_namespaced(client.clone());
    let mut fast = claim("fast");
    fast.spec.get_or_insert_default().storage_class_name = Some("fast".into());
    claims
        .create(&PostParams::default(), &fast)
        .await
        .expect("create");
    let events: Api<Event> = Api::default_namespaced(client.clone());
    let messages: Vec<String> = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("ProvisioningFailed"))
        .filter_map(|e| e.message)
        .collect();
    assert_eq!(
        messages,
        vec!["storageclass.storage.k8s.io \"fast\" not found".to_string()]
    );
    let classes: Api<StorageClass> = Api::all(client.clone());
    let class: StorageClass = obj(json!({
        "metadata": {"name": "fast"},
        "provisioner": "example.com/fast",
        "volumeBindingMode": "Immediate",
    }));
    classes
        .create(&PostParams::default(), &class)
        .await
        .expect("create class");
    assert_eq!(phase(&claims.get("fast").await.expect("get")), "Bound");
}

/// A claim a pod mounts is not removed by its DELETE: it stays Terminating (the
/// `kubernetes.io/pvc-protection` finalizer) until no pod mounts it, as on a real cluster; one
/// that no pod mounts goes at once. Runs on a real cluster too.
#[tokio::test]
async fn a_claim_in_use_stays_terminating_until_its_pod_is_gone() {
    let cluster = tycho_fake_kube::TestCluster::start("fake-pvc-protection").await;
    let claims: Api<PersistentVolumeClaim> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pp = PostParams::default();
    let created = claims.create(&pp, &claim("held")).await.unwrap();
    let finalizers = created.metadata.finalizers.clone().unwrap_or_default();
    assert!(
        finalizers.contains(&"kubernetes.io/pvc-protection".to_string()),
        "{finalizers:?}"
    );
    pods.create(&pp, &pod_mounting("holder", "held"))
        .await
        .unwrap();
    claims
        .delete("held", &DeleteParams::default())
        .await
        .unwrap();
    let held = claims.get("held").await.expect("still there while mounted");
    assert!(held.metadata.deletion_timestamp.is_some(), "{held:?}");

    pods.delete("holder", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    eventually("the claim goes with its last pod", || async {
        claims.get_opt("held").await.unwrap().is_none()
    })
    .await;

    claims.create(&pp, &claim("free")).await.unwrap();
    claims
        .delete("free", &DeleteParams::default())
        .await
        .unwrap();
    eventually("an unused claim goes at once", || async {
        claims.get_opt("free").await.unwrap().is_none()
    })
    .await;
    cluster.cleanup().await;
}
