//! The simulated controllers: Deployments make ReplicaSets and Pods, PodBehavior shapes their
//! status, ownerReferences drive garbage collection.

mod common;

use std::time::Duration;

use common::{api_err, deployment, fake, obj};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod, Service};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, Resource, ResourceExt};
use serde_json::json;
use tycho_fake_kube::PodBehavior;

async fn create_dep(c: &Client, name: &str, image: &str, replicas: i32) -> Deployment {
    Api::<Deployment>::default_namespaced(c.clone())
        .create(&PostParams::default(), &deployment(name, image, replicas))
        .await
        .unwrap()
}

async fn pods_of(c: &Client, app: &str) -> Vec<Pod> {
    Api::<Pod>::default_namespaced(c.clone())
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .unwrap()
        .items
}

async fn dep_status(c: &Client, name: &str) -> k8s_openapi::api::apps::v1::DeploymentStatus {
    Api::<Deployment>::default_namespaced(c.clone())
        .get_status(name)
        .await
        .unwrap()
        .status
        .unwrap()
}

fn condition<'a>(
    s: &'a k8s_openapi::api::apps::v1::DeploymentStatus,
    t: &str,
) -> &'a k8s_openapi::api::apps::v1::DeploymentCondition {
    s.conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == t)
        .unwrap_or_else(|| panic!("no {t} condition in {s:?}"))
}

fn pod_condition(p: &Pod, t: &str) -> (String, Option<String>, Option<String>) {
    let c = p
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == t)
        .unwrap();
    (c.status.clone(), c.reason.clone(), c.message.clone())
}

fn waiting(p: &Pod) -> (String, String) {
    let cs = &p
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    let w = cs
        .state
        .as_ref()
        .unwrap()
        .waiting
        .as_ref()
        .expect("container is waiting");
    (
        w.reason.clone().unwrap_or_default(),
        w.message.clone().unwrap_or_default(),
    )
}

#[tokio::test]
async fn deployment_creates_replicaset_and_ready_pods() {
    let (_fake, c) = fake().await;
    let d = create_dep(&c, "web", "nginx:1.27", 3).await;
    assert_eq!(d.metadata.generation, Some(1));

    let rss = Api::<ReplicaSet>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    assert_eq!(rss.len(), 1);
    let rs = &rss[0];
    let rs_owner = &rs.owner_references()[0];
    assert_eq!(
        (
            rs_owner.kind.as_str(),
            rs_owner.uid.as_str(),
            rs_owner.controller
        ),
        ("Deployment", d.uid().unwrap().as_str(), Some(true))
    );

    let pods = pods_of(&c, "web").await;
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let suffix = p
            .name_any()
            .strip_prefix(&format!("{}-", rs.name_any()))
            .unwrap()
            .to_string();
        assert!(
            suffix.len() == 5
                && suffix
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit()),
            "{}",
            p.name_any()
        );
        assert_eq!(p.owner_references()[0].uid, rs.uid().unwrap());
        assert_eq!(p.labels()["executor"], "tycho");
        let st = p.status.as_ref().unwrap();
        assert_eq!(st.phase.as_deref(), Some("Running"));
        assert_eq!(pod_condition(p, "Ready").0, "True");
        assert_eq!(pod_condition(p, "ContainersReady").0, "True");
        assert_eq!(pod_condition(p, "PodScheduled").0, "True");
        let cs = &st.container_statuses.as_ref().unwrap()[0];
        assert!(cs.ready && cs.state.as_ref().unwrap().running.is_some());
    }

    let s = dep_status(&c, "web").await;
    assert_eq!(
        (
            s.replicas,
            s.ready_replicas,
            s.available_replicas,
            s.updated_replicas
        ),
        (Some(3), Some(3), Some(3), Some(3))
    );
    assert_eq!(condition(&s, "Available").status, "True");
    assert_eq!(
        condition(&s, "Progressing").reason.as_deref(),
        Some("NewReplicaSetAvailable")
    );
}

#[tokio::test]
async fn scaling_and_template_changes_are_rolled_out() {
    let (_fake, c) = fake().await;
    create_dep(&c, "web", "nginx:1", 2).await;
    let deps = Api::<Deployment>::default_namespaced(c.clone());
    let scaled = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 4}})),
        )
        .await
        .unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    assert_eq!(pods_of(&c, "web").await.len(), 4);

    let new_image = json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": "nginx:2"}]}}}});
    deps.patch("web", &PatchParams::default(), &Patch::Merge(new_image))
        .await
        .unwrap();
    let pods = pods_of(&c, "web").await;
    assert_eq!(pods.len(), 4);
    assert!(
        pods.iter()
            .all(|p| p.spec.as_ref().unwrap().containers[0].image.as_deref() == Some("nginx:2"))
    );
    let rss = Api::<ReplicaSet>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items;
    let replicas: Vec<i32> = rss
        .iter()
        .map(|r| r.spec.as_ref().unwrap().replicas.unwrap())
        .collect();
    assert_eq!(rss.len(), 2, "old ReplicaSet kept at zero");
    assert!(
        replicas.contains(&0) && replicas.contains(&4),
        "{replicas:?}"
    );
    assert_eq!(
        deps.get("web").await.unwrap().annotations()["deployment.kubernetes.io/revision"],
        "2"
    );
}

#[tokio::test]
async fn deleted_pod_is_replaced_by_its_replicaset() {
    let (_fake, c) = fake().await;
    create_dep(&c, "web", "nginx", 1).await;
    let first = pods_of(&c, "web").await.remove(0);
    Api::<Pod>::default_namespaced(c.clone())
        .delete(&first.name_any(), &DeleteParams::default())
        .await
        .unwrap();
    let now = pods_of(&c, "web").await;
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].name_any(), first.name_any());
}

#[tokio::test]
async fn deleting_a_deployment_collects_everything_it_owns() {
    let (fake, c) = fake().await;
    let before = fake.object_count();
    let d = create_dep(&c, "web", "nginx", 2).await;
    let owner = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "uid": d.uid().unwrap(), "controller": false}]);
    Api::<Service>::default_namespaced(c.clone())
        .create(&PostParams::default(), &obj(json!({"metadata": {"name": "web", "ownerReferences": owner}, "spec": {"ports": [{"port": 80}]}})))
        .await
        .unwrap();
    Api::<PersistentVolumeClaim>::default_namespaced(c.clone())
        .create(&PostParams::default(), &obj(json!({"metadata": {"name": "data", "ownerReferences": owner},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}})))
        .await
        .unwrap();
    // Deployment, ReplicaSet, 2 pods, Service, claim (Events are not counted: they outlive
    // their objects, as on a real API server).
    let events = Api::<Event>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert!(events > 0, "the controllers record events");
    assert_eq!(fake.object_count(), before + 6);

    let resp = Api::<Deployment>::default_namespaced(c.clone())
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        resp.is_right(),
        "an immediately deleted Deployment answers a Success Status"
    );
    assert!(pods_of(&c, "web").await.is_empty());
    assert!(
        Api::<ReplicaSet>::default_namespaced(c.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        api_err(
            Api::<Service>::default_namespaced(c.clone())
                .get("web")
                .await
        )
        .0,
        404
    );
    assert_eq!(
        api_err(
            Api::<PersistentVolumeClaim>::default_namespaced(c.clone())
                .get("data")
                .await
        )
        .0,
        404
    );
    assert_eq!(fake.object_count(), before, "nothing left behind");
    let kept = Api::<Event>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(kept, events, "the Events stay until they expire");
}

#[tokio::test]
async fn image_pull_backoff_pods_and_events() {
    let (fake, c) = fake().await;
    fake.set_image_behavior("ghcr.io/nope", PodBehavior::ImagePullBackOff);
    create_dep(&c, "bad", "ghcr.io/nope/app:1", 1).await;
    let pod = pods_of(&c, "bad").await.remove(0);
    assert_eq!(
        pod.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    let (reason, msg) = waiting(&pod);
    assert_eq!(reason, "ImagePullBackOff");
    assert_eq!(msg, "Back-off pulling image \"ghcr.io/nope/app:1\"");
    let events = Api::<Event>::default_namespaced(c.clone())
        .list(&ListParams::default().fields(&format!("involvedObject.name={}", pod.name_any())))
        .await
        .unwrap()
        .items;
    let failed = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("Failed"))
        .expect("a Failed event");
    assert!(
        failed
            .message
            .as_ref()
            .unwrap()
            .starts_with("Failed to pull image \"ghcr.io/nope/app:1\"")
    );
    assert!(failed.message.as_ref().unwrap().ends_with("not found"));
    assert_eq!(failed.involved_object.uid, pod.uid());
    let s = dep_status(&c, "bad").await;
    assert_eq!(
        s.ready_replicas, None,
        "zero counts are omitted like the real API"
    );
    assert_eq!(s.unavailable_replicas, Some(1));
    assert_eq!(condition(&s, "Available").status, "False");
    assert_eq!(
        condition(&s, "Progressing").reason.as_deref(),
        Some("ReplicaSetUpdated")
    );
}

#[tokio::test]
async fn invalid_image_name_and_crash_loop() {
    let (fake, c) = fake().await;
    fake.set_image_behavior("UPPER", PodBehavior::InvalidImageName);
    fake.set_image_behavior("crashy", PodBehavior::CrashLoopBackOff);
    create_dep(&c, "inv", "UPPER/x", 1).await;
    create_dep(&c, "crash", "crashy:1", 1).await;

    let inv = pods_of(&c, "inv").await.remove(0);
    assert_eq!(
        inv.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    let (reason, msg) = waiting(&inv);
    assert_eq!(reason, "InvalidImageName");
    assert!(msg.contains("invalid reference format"), "{msg}");

    let crash = pods_of(&c, "crash").await.remove(0);
    let st = crash.status.as_ref().unwrap();
    assert_eq!(st.phase.as_deref(), Some("Running"));
    assert_eq!(waiting(&crash).0, "CrashLoopBackOff");
    let cs = &st.container_statuses.as_ref().unwrap()[0];
    assert!(!cs.ready && cs.restart_count > 0);
    assert_eq!(
        pod_condition(&crash, "Ready").1.as_deref(),
        Some("ContainersNotReady")
    );
    assert_eq!(dep_status(&c, "crash").await.available_replicas, None);
}

#[tokio::test]
async fn pending_and_unschedulable_pods() {
    let (fake, c) = fake().await;
    fake.set_image_behavior("slow", PodBehavior::Pending);
    fake.set_image_behavior("huge", PodBehavior::Unschedulable);
    create_dep(&c, "slow", "slow:1", 1).await;
    create_dep(&c, "huge", "huge:1", 1).await;
    let slow = pods_of(&c, "slow").await.remove(0);
    assert_eq!(
        slow.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    assert_eq!(waiting(&slow).0, "ContainerCreating");

    let huge = pods_of(&c, "huge").await.remove(0);
    assert_eq!(
        huge.status.as_ref().unwrap().phase.as_deref(),
        Some("Pending")
    );
    let (status, reason, msg) = pod_condition(&huge, "PodScheduled");
    assert_eq!(
        (status.as_str(), reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
    assert_eq!(
        msg.as_deref(),
        Some("0/3 nodes are available: 3 Insufficient cpu.")
    );
    assert!(huge.spec.as_ref().unwrap().node_name.is_none());
}

#[tokio::test]
async fn quota_exceeded_creates_no_pod() {
    let (fake, c) = fake().await;
    fake.set_image_behavior("greedy", PodBehavior::QuotaExceeded);
    create_dep(&c, "greedy", "greedy:1", 2).await;
    assert!(pods_of(&c, "greedy").await.is_empty());
    let rs = Api::<ReplicaSet>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0);
    let rs_cond = &rs.status.as_ref().unwrap().conditions.as_ref().unwrap()[0];
    assert_eq!(rs_cond.type_, "ReplicaFailure");
    let msg = rs_cond.message.clone().unwrap();
    assert!(
        msg.starts_with(&format!("pods \"{}-", rs.name_any()))
            && msg.contains("is forbidden: exceeded quota: compute-resources, requested: "),
        "{msg}"
    );
    let s = dep_status(&c, "greedy").await;
    let rf = condition(&s, "ReplicaFailure");
    assert_eq!(
        (rf.status.as_str(), rf.message.as_deref()),
        ("True", Some(msg.as_str()))
    );

    // A bare pod with that image is refused by admission, as ResourceQuota does.
    let pod: Pod = obj(
        json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "greedy:1"}]}}),
    );
    let (code, reason, msg) = api_err(
        Api::<Pod>::default_namespaced(c)
            .create(&PostParams::default(), &pod)
            .await,
    );
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert!(msg.contains("exceeded quota"), "{msg}");
}

/// (reason, type, object kind, object name) of every Event in the namespace.
async fn events(c: &Client) -> Vec<(String, String, String, String)> {
    Api::<Event>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|e| {
            (
                e.reason.unwrap_or_default(),
                e.type_.unwrap_or_default(),
                e.involved_object.kind.unwrap_or_default(),
                e.involved_object.name.unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn controllers_record_scaling_scheduling_and_start_events() {
    let (fake, c) = fake().await;
    fake.set_image_behavior("crashy", PodBehavior::CrashLoopBackOff);
    create_dep(&c, "web", "nginx", 1).await;
    let pod = pods_of(&c, "web").await.remove(0).name_any();
    let rs = Api::<ReplicaSet>::default_namespaced(c.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .remove(0)
        .name_any();
    let all = events(&c).await;
    let has = |reason: &str, kind: &str, name: &str| {
        all.iter()
            .any(|e| e.0 == reason && e.1 == "Normal" && e.2 == kind && e.3 == name)
    };
    assert!(has("ScalingReplicaSet", "Deployment", "web"), "{all:?}");
    for reason in ["Scheduled", "Pulled", "Created", "Started"] {
        assert!(has(reason, "Pod", &pod), "{reason}: {all:?}");
    }
    let scaled = Api::<Event>::default_namespaced(c.clone())
        .list(&ListParams::default().fields("involvedObject.name=web"))
        .await
        .unwrap()
        .items;
    assert_eq!(
        scaled[0].message.as_deref(),
        Some(format!("Scaled up replica set {rs} from 0 to 1").as_str())
    );

    // Scaling down is reported too, and a crash-looping container gets a Warning.
    Api::<Deployment>::default_namespaced(c.clone())
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 0}})),
        )
        .await
        .unwrap();
    create_dep(&c, "crash", "crashy:1", 1).await;
    let crash_pod = pods_of(&c, "crash").await.remove(0).name_any();
    let all = events(&c).await;
    let down = format!("Scaled down replica set {rs} from 1 to 0");
    let scaled = Api::<Event>::default_namespaced(c.clone())
        .list(&ListParams::default().fields("involvedObject.name=web"))
        .await
        .unwrap()
        .items;
    assert!(
        scaled
            .iter()
            .any(|e| e.message.as_deref() == Some(down.as_str())),
        "{scaled:?}"
    );
    assert!(
        all.iter()
            .any(|e| e.0 == "BackOff" && e.1 == "Warning" && e.3 == crash_pod),
        "{all:?}"
    );
}

#[tokio::test]
async fn events_can_be_created_read_and_listed_by_object() {
    let (_fake, c) = fake().await;
    let api = Api::<Event>::default_namespaced(c.clone());
    for (name, object) in [("a.1", "web-abc"), ("b.1", "web-abc-x1"), ("c.1", "other")] {
        api.create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": name},
                "involvedObject": {"kind": "Pod", "name": object, "namespace": "default"},
                "reason": "Test", "message": "m", "type": "Warning", "count": 2})),
        )
        .await
        .unwrap();
    }
    let got = api.get("b.1").await.unwrap();
    assert_eq!(got.involved_object.name.as_deref(), Some("web-abc-x1"));
    assert_eq!(
        (got.type_.as_deref(), got.count),
        (Some("Warning"), Some(2))
    );
    let about_web = api
        .list(&ListParams::default().fields("involvedObject.name=web-abc"))
        .await
        .unwrap()
        .items;
    assert_eq!(about_web.len(), 1);
    assert_eq!(about_web[0].name_any(), "a.1");
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        3
    );
}

#[tokio::test]
async fn ready_delay_turns_pods_ready_later() {
    let (fake, c) = fake().await;
    fake.set_ready_delay(Duration::from_millis(1000));
    create_dep(&c, "web", "nginx", 2).await;
    let s = dep_status(&c, "web").await;
    assert_eq!((s.replicas, s.ready_replicas), (Some(2), None));
    assert_eq!(waiting(&pods_of(&c, "web").await[0]).0, "ContainerCreating");
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let s = dep_status(&c, "web").await;
    assert_eq!((s.ready_replicas, s.available_replicas), (Some(2), Some(2)));
    assert_eq!(condition(&s, "Available").status, "True");
    assert!(
        pods_of(&c, "web")
            .await
            .iter()
            .all(|p| pod_condition(p, "Ready").0 == "True")
    );
}

#[tokio::test]
async fn progress_deadline_is_reported() {
    let (fake, c) = fake().await;
    fake.set_image_behavior("stuck", PodBehavior::Pending);
    let mut d = deployment("stuck", "stuck:1", 1);
    d.spec.as_mut().unwrap().progress_deadline_seconds = Some(1);
    Api::<Deployment>::default_namespaced(c.clone())
        .create(&PostParams::default(), &d)
        .await
        .unwrap();
    assert_eq!(
        condition(&dep_status(&c, "stuck").await, "Progressing").status,
        "True"
    );
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let s = dep_status(&c, "stuck").await;
    let p = condition(&s, "Progressing");
    assert_eq!(
        (p.status.as_str(), p.reason.as_deref()),
        ("False", Some("ProgressDeadlineExceeded"))
    );
}

#[tokio::test]
async fn deployment_selector_is_immutable_and_generation_tracks_spec() {
    let (_fake, c) = fake().await;
    create_dep(&c, "web", "nginx", 1).await;
    let deps = Api::<Deployment>::default_namespaced(c.clone());
    let same = deps
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        same.metadata.generation,
        Some(1),
        "metadata-only change keeps generation"
    );
    let bad = Patch::Merge(
        json!({"spec": {"selector": {"matchLabels": {"app": "web", "extra": "1"}},
        "template": {"metadata": {"labels": {"extra": "1"}}}}}),
    );
    let (code, _, msg) = api_err(deps.patch("web", &PatchParams::default(), &bad).await);
    assert_eq!(code, 422);
    assert!(
        msg.contains("spec.selector") && msg.contains("field is immutable"),
        "{msg}"
    );
    assert!(same.meta().resource_version.is_some());
}

/// kube-runtime's list-then-watch machinery (what `await_condition` uses) sees the pods turn
/// Ready without any other request poking the fake.
#[tokio::test]
async fn await_condition_sees_deployment_become_available() {
    use kube::runtime::wait::await_condition;
    let (fake, c) = fake().await;
    fake.set_ready_delay(Duration::from_millis(300));
    let started = std::time::Instant::now();
    create_dep(&c, "web", "nginx", 1).await;
    let deps = Api::<Deployment>::default_namespaced(c.clone());
    let available = |d: Option<&Deployment>| {
        d.and_then(|d| d.status.as_ref())
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| {
                cs.iter()
                    .any(|c| c.type_ == "Available" && c.status == "True")
            })
    };
    let got = tokio::time::timeout(
        Duration::from_secs(5),
        await_condition(deps, "web", available),
    )
    .await
    .expect("deployment became available in time")
    .unwrap();
    assert!(available(got.as_ref()));
    assert!(
        started.elapsed() >= Duration::from_millis(300),
        "not before the ready delay"
    );
}
