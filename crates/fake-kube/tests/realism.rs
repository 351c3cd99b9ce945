//! What the real API server refuses and what a real kubelet and provisioner do, which the fake
//! used to let through: each test runs on a real cluster too (`TYCHO_TEST_KUBECONFIG`).

mod common;

use std::time::{Duration, Instant};

use common::obj;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};
use tycho_fake_kube::{PodBehavior, TestCluster};

/// An image whose `USER` is root (the official nginx image).
const ROOT_IMAGE: &str = "nginx:1.27-alpine";
const NON_ROOT_IMAGE: &str = "nginxinc/nginx-unprivileged:stable-alpine";

fn pod(name: &str, spec: Value) -> Pod {
    obj(json!({"metadata": {"name": name}, "spec": spec}))
}

fn container(extra: Value) -> Value {
    let mut c = json!({"name": "web", "image": NON_ROOT_IMAGE});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    c
}

/// The 422 message of a create that must be refused.
async fn refused<K>(api: &Api<K>, object: &K) -> String
where
    K: kube::Resource + Clone + serde::Serialize + serde::de::DeserializeOwned + std::fmt::Debug,
{
    match api.create(&PostParams::default(), object).await {
        Err(kube::Error::Api(s)) => {
            assert_eq!(
                (s.code, s.reason.as_str()),
                (422, "Invalid"),
                "{}",
                s.message
            );
            s.message
        }
        other => panic!("expected 422 Invalid, got {other:?}"),
    }
}

fn pods(cluster: &TestCluster) -> Api<Pod> {
    Api::namespaced(cluster.client.clone(), &cluster.namespace)
}

#[tokio::test]
async fn host_aliases_need_ip_addresses() {
    let cluster = TestCluster::start("realism-host-aliases").await;
    let api = pods(&cluster);
    let bad = pod(
        "aliases",
        json!({"containers": [container(json!({}))],
            "hostAliases": [{"ip": "db.example.org", "hostnames": ["db"]}]}),
    );
    let msg = refused(&api, &bad).await;
    assert!(
        msg.contains(
            "spec.hostAliases[0].ip: Invalid value: \"db.example.org\": must be a valid IP address"
        ),
        "{msg}"
    );
    let good = pod(
        "aliases",
        json!({"containers": [container(json!({}))],
            "hostAliases": [{"ip": "10.1.2.3", "hostnames": ["db"]}]}),
    );
    api.create(&PostParams::default(), &good).await.unwrap();
    cluster.cleanup().await;
}

#[tokio::test]
async fn environment_names_and_user_ids_are_checked() {
    let cluster = TestCluster::start("realism-env-ids").await;
    let api = pods(&cluster);
    let env = |name: &str| {
        pod(
            "env",
            json!({"containers": [container(json!({"env": [{"name": name, "value": "x"}]}))]}),
        )
    };
    let msg = refused(&api, &env("A=B")).await;
    assert!(
        msg.contains("spec.containers[0].env[0].name: Invalid value: \"A=B\""),
        "{msg}"
    );
    let msg = refused(&api, &env("")).await;
    assert!(
        msg.contains("spec.containers[0].env[0].name: Required value"),
        "{msg}"
    );
    let user = pod(
        "user",
        json!({"securityContext": {"runAsUser": 3_000_000_000_i64},
            "containers": [container(json!({"securityContext": {"runAsGroup": -1}}))]}),
    );
    let msg = refused(&api, &user).await;
    for field in [
        "spec.securityContext.runAsUser: Invalid value: 3000000000: must be between 0 and 2147483647, inclusive",
        "spec.containers[0].securityContext.runAsGroup: Invalid value: -1: must be between 0 and 2147483647, inclusive",
    ] {
        assert!(msg.contains(field), "{msg}");
    }
    api.create(&PostParams::default(), &env("A.b-c"))
        .await
        .expect("a name Kubernetes accepts");
    cluster.cleanup().await;
}

#[tokio::test]
async fn init_containers_run_first_and_sidecars_keep_running() {
    let cluster = TestCluster::start("realism-sidecars").await;
    let api = pods(&cluster);
    let probe = json!({"exec": {"command": ["true"]}});
    let probed_init = pod(
        "probed-init",
        json!({"initContainers": [{"name": "setup", "image": "busybox:1.36", "command": ["true"],
                "readinessProbe": probe}],
            "containers": [container(json!({"restartPolicy": "Always"}))]}),
    );
    let msg = refused(&api, &probed_init).await;
    for expected in [
        "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
        "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
    ] {
        assert!(msg.contains(expected), "{msg}");
    }
    let ordered = pod(
        "ordered",
        json!({"initContainers": [
                {"name": "setup", "image": "busybox:1.36", "command": ["true"]},
                {"name": "sidecar", "image": NON_ROOT_IMAGE, "restartPolicy": "Always",
                    "startupProbe": {"tcpSocket": {"port": 8080}}}],
            "containers": [container(json!({}))]}),
    );
    api.create(&PostParams::default(), &ordered)
        .await
        .expect("a sidecar may have probes");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = api
            .get("ordered")
            .await
            .expect("get")
            .status
            .unwrap_or_default();
        let init = status.init_container_statuses.unwrap_or_default();
        let setup_done = init.first().is_some_and(|s| {
            s.state
                .as_ref()
                .and_then(|st| st.terminated.as_ref())
                .is_some_and(|t| t.exit_code == 0)
        });
        let sidecar_runs = init.get(1).is_some_and(|s| {
            s.state
                .as_ref()
                .and_then(|st| st.running.as_ref())
                .is_some()
        });
        let web_runs = status
            .container_statuses
            .unwrap_or_default()
            .iter()
            .any(|s| {
                s.state
                    .as_ref()
                    .and_then(|st| st.running.as_ref())
                    .is_some()
            });
        if setup_done && sidecar_runs && web_runs {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the init containers did not run in order"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn annotation_keys_are_qualified_names_and_all_fit_in_256_kib() {
    let cluster = TestCluster::start("realism-annotations").await;
    let api = pods(&cluster);
    let with = |name: &str, annotations: Value| -> Pod {
        obj(
            json!({"metadata": {"name": name, "annotations": annotations},
            "spec": {"containers": [container(json!({}))]}}),
        )
    };
    let msg = refused(&api, &with("keys", json!({"not a key": "x"}))).await;
    assert!(
        msg.contains("metadata.annotations: Invalid value: \"not a key\""),
        "{msg}"
    );
    let big = "x".repeat(130 * 1024);
    let msg = refused(&api, &with("size", json!({"a": big, "b": big}))).await;
    assert!(msg.contains("metadata.annotations: Too long"), "{msg}");
    api.create(
        &PostParams::default(),
        &with("fine", json!({"example.org/Note": "x", "note": big})),
    )
    .await
    .unwrap();
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_container_mounts_one_volume_per_path() {
    let cluster = TestCluster::start("realism-mount-paths").await;
    let mounts = json!({"volumeMounts": [
        {"name": "a", "mountPath": "/data"}, {"name": "b", "mountPath": "/data"}]});
    let bad = pod(
        "mounts",
        json!({"containers": [container(mounts)],
            "volumes": [{"name": "a", "emptyDir": {}}, {"name": "b", "emptyDir": {}}]}),
    );
    let msg = refused(&pods(&cluster), &bad).await;
    assert!(
        msg.contains(
            "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/data\": must be unique"
        ),
        "{msg}"
    );
    cluster.cleanup().await;
}

#[tokio::test]
async fn network_policy_cidrs_must_be_valid() {
    let cluster = TestCluster::start("realism-policy-cidrs").await;
    let api: Api<NetworkPolicy> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let policy = |cidr: &str| -> NetworkPolicy {
        obj(
            json!({"metadata": {"name": "p"}, "spec": {"podSelector": {},
            "ingress": [{"from": [{"ipBlock": {"cidr": cidr}}]}]}}),
        )
    };
    for bad in ["10.0.0.0/33", "10.0.0.0", "example.org/8"] {
        let msg = refused(&api, &policy(bad)).await;
        assert!(
            msg.contains(&format!(
                "spec.ingress[0].from[0].ipBlock.cidr: Invalid value: \"{bad}\": must be a valid CIDR value"
            )),
            "{msg}"
        );
    }
    api.create(&PostParams::default(), &policy("10.0.0.0/8"))
        .await
        .unwrap();
    cluster.cleanup().await;
}

#[tokio::test]
async fn owner_references_need_a_uid() {
    let cluster = TestCluster::start("realism-owner-uid").await;
    let owned: Pod = obj(json!({"metadata": {"name": "owned", "ownerReferences": [
            {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": ""}]},
        "spec": {"containers": [container(json!({}))]}}));
    let msg = refused(&pods(&cluster), &owned).await;
    assert!(
        msg.contains("metadata.ownerReferences.uid: Invalid value: \"\": uid must not be empty"),
        "{msg}"
    );
    cluster.cleanup().await;
}

/// The waiting reason and message of the pod's first container, once it has one.
async fn waiting(api: &Api<Pod>, name: &str) -> (String, String) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let p = api.get(name).await.unwrap();
        let w = p
            .status
            .and_then(|s| s.container_statuses)
            .and_then(|cs| cs.into_iter().next())
            .and_then(|c| c.state)
            .and_then(|s| s.waiting);
        let reason = w
            .as_ref()
            .and_then(|w| w.reason.clone())
            .unwrap_or_default();
        if !reason.is_empty() && reason != "ContainerCreating" {
            return (reason, w.and_then(|w| w.message).unwrap_or_default());
        }
        assert!(Instant::now() < deadline, "{name}: still {reason:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_kubelet_refuses_root_images_under_run_as_non_root() {
    let cluster = TestCluster::start("realism-run-as-non-root").await;
    if let Some(fake) = &cluster.fake {
        fake.set_image_behavior(ROOT_IMAGE, PodBehavior::RunsAsRoot);
    }
    let api = pods(&cluster);
    let root = |name: &str, security: Value| {
        pod(
            name,
            json!({"securityContext": security,
                "containers": [{"name": "web", "image": ROOT_IMAGE}]}),
        )
    };
    api.create(
        &PostParams::default(),
        &root("refused", json!({"runAsNonRoot": true})),
    )
    .await
    .unwrap();
    let (reason, message) = waiting(&api, "refused").await;
    assert_eq!(reason, "CreateContainerConfigError");
    assert!(
        message.starts_with("container has runAsNonRoot and image will run as root"),
        "{message}"
    );
    let p = api.get("refused").await.unwrap();
    assert_eq!(p.status.and_then(|s| s.phase).as_deref(), Some("Pending"));

    // Without the setting, the same image runs.
    api.create(&PostParams::default(), &root("allowed", json!({})))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let phase = api
            .get("allowed")
            .await
            .unwrap()
            .status
            .and_then(|s| s.phase);
        if phase.as_deref() == Some("Running") {
            break;
        }
        assert!(Instant::now() < deadline, "still {phase:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn claims_stay_pending_until_a_pod_uses_them() {
    let cluster = TestCluster::start("realism-claims-wait").await;
    let claims: Api<PersistentVolumeClaim> =
        Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let claim: PersistentVolumeClaim = obj(json!({"metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}));
    claims.create(&PostParams::default(), &claim).await.unwrap();
    let phase = |c: PersistentVolumeClaim| c.status.and_then(|s| s.phase).unwrap_or_default();
    assert_eq!(phase(claims.get("data").await.unwrap()), "Pending");

    let user = pod(
        "user",
        json!({"containers": [container(json!({"volumeMounts": [{"name": "d", "mountPath": "/data"}]}))],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]}),
    );
    pods(&cluster)
        .create(&PostParams::default(), &user)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while phase(claims.get("data").await.unwrap()) != "Bound" {
        assert!(Instant::now() < deadline, "the claim was not bound");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.cleanup().await;
}

#[tokio::test]
async fn a_pod_with_a_missing_claim_is_unschedulable_and_says_which() {
    let cluster = TestCluster::start("realism-missing-claim").await;
    let api = pods(&cluster);
    let orphan = pod(
        "orphan",
        json!({"containers": [container(json!({"volumeMounts": [{"name": "d", "mountPath": "/data"}]}))],
            "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "nowhere"}}]}),
    );
    api.create(&PostParams::default(), &orphan).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let conditions = api
            .get("orphan")
            .await
            .unwrap()
            .status
            .and_then(|s| s.conditions)
            .unwrap_or_default();
        let scheduled = conditions.iter().find(|c| c.type_ == "PodScheduled");
        if let Some(c) = scheduled.filter(|c| c.status == "False") {
            assert_eq!(c.reason.as_deref(), Some("Unschedulable"));
            let message = c.message.clone().unwrap_or_default();
            assert!(
                message.contains("persistentvolumeclaim \"nowhere\" not found"),
                "{message}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{conditions:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.cleanup().await;
}

/// Events stay after the objects they are about are deleted, until their TTL runs out, as
/// the API server's `--event-ttl` (an hour by default) keeps them.
#[tokio::test]
async fn events_outlive_their_objects_until_they_expire() {
    let cluster = TestCluster::start_fake("fake-events-ttl").await;
    let fake = cluster.fake.as_ref().unwrap();
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let pod: Pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "nginx"}]}
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    let events: Api<Event> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let about_p = ListParams::default().fields("involvedObject.name=p");
    let before = events.list(&about_p).await.unwrap().items.len();
    assert!(before > 0, "the pod got events");
    pods.delete("p", &DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while pods.get_opt("p").await.unwrap().is_some() {
        assert!(Instant::now() < deadline, "the pod was not deleted");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        events.list(&about_p).await.unwrap().items.len(),
        before,
        "kept after the pod"
    );
    fake.set_event_ttl(Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        events.list(&about_p).await.unwrap().items.is_empty(),
        "expired"
    );
    cluster.cleanup().await;
}
