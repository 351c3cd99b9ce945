//! CRUD, metadata, selectors, errors and patches through the real kube::Client.

mod common;

use common::{api_err, fake, obj};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolumeClaim, Pod, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::fmt::Debug;

/// create → get → list → replace → patch → delete → 404, for one kind.
async fn roundtrip<K>(api: Api<K>, body: serde_json::Value)
where
    K: Resource + Clone + Debug + Serialize + DeserializeOwned,
    K::DynamicType: Default,
{
    let name = body["metadata"]["name"].as_str().unwrap().to_string();
    let created = api
        .create(&PostParams::default(), &obj(body))
        .await
        .unwrap();
    assert!(
        created.meta().uid.as_ref().is_some_and(|u| u.len() == 36),
        "uid set"
    );
    let rv1: u64 = created.resource_version().unwrap().parse().unwrap();
    assert!(created.meta().creation_timestamp.is_some());

    let got = api.get(&name).await.unwrap();
    assert_eq!(got.meta().uid, created.meta().uid);
    assert_eq!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .iter()
            .filter(|o| o.name_any() == name)
            .count(),
        1
    );

    let mut changed = got.clone();
    changed.labels_mut().insert("touched".into(), "yes".into());
    let replaced = api
        .replace(&name, &PostParams::default(), &changed)
        .await
        .unwrap();
    let rv2: u64 = replaced.resource_version().unwrap().parse().unwrap();
    assert!(rv2 > rv1, "resourceVersion grows: {rv1} -> {rv2}");
    assert_eq!(
        replaced.meta().uid,
        created.meta().uid,
        "uid survives replace"
    );

    let patched = api
        .patch(
            &name,
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"patched": "1"}}})),
        )
        .await
        .unwrap();
    assert_eq!(
        patched.labels().get("touched").map(String::as_str),
        Some("yes")
    );
    assert_eq!(
        patched.labels().get("patched").map(String::as_str),
        Some("1")
    );

    api.delete(&name, &DeleteParams::default()).await.unwrap();
    let (code, reason, _) = api_err(api.get(&name).await);
    assert_eq!((code, reason.as_str()), (404, "NotFound"));
}

#[tokio::test]
async fn every_kind_supports_crud() {
    let (_fake, c) = fake().await;
    let container = json!([{"name": "c", "image": "busybox"}]);
    roundtrip(
        Api::<ConfigMap>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "cm"}, "data": {"a": "b"}}),
    )
    .await;
    roundtrip(
        Api::<Secret>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "sec"}, "stringData": {"k": "v"}}),
    )
    .await;
    roundtrip(
        Api::<ServiceAccount>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "sa"}}),
    )
    .await;
    roundtrip(
        Api::<Pod>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "pod"}, "spec": {"containers": container}}),
    )
    .await;
    roundtrip(
        Api::<Service>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}]}}),
    )
    .await;
    roundtrip(
        Api::<PersistentVolumeClaim>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "pvc"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}),
    )
    .await;
    roundtrip(
        Api::<Event>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "ev"},
        "involvedObject": {"kind": "Pod", "name": "x"}, "reason": "Test", "message": "m"}),
    )
    .await;
    roundtrip(
        Api::<NetworkPolicy>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "np"}, "spec": {"podSelector": {}}}),
    )
    .await;
    roundtrip(
        Api::<Deployment>::default_namespaced(c.clone()),
        serde_json::to_value(common::deployment("dep", "nginx", 1)).unwrap(),
    )
    .await;
    roundtrip(
        Api::<ReplicaSet>::default_namespaced(c.clone()),
        json!({"metadata": {"name": "rs"}, "spec": {
        "replicas": 1, "selector": {"matchLabels": {"a": "b"}},
        "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": container}}}}),
    )
    .await;
    roundtrip(
        Api::<Namespace>::all(c.clone()),
        json!({"metadata": {"name": "scratch"}}),
    )
    .await;
}

#[tokio::test]
async fn secret_string_data_is_folded_into_data() {
    let (_fake, c) = fake().await;
    let api = Api::<Secret>::default_namespaced(c);
    let s = api
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "s"}, "stringData": {"pw": "hunter2"}})),
        )
        .await
        .unwrap();
    assert_eq!(s.data.unwrap()["pw"].0, b"hunter2");
    assert!(s.string_data.is_none());
    assert_eq!(s.type_.as_deref(), Some("Opaque"));
}

#[tokio::test]
async fn generate_name_and_missing_name() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    let a = api
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"generateName": "job-"}})),
        )
        .await
        .unwrap();
    let b = api
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"generateName": "job-"}})),
        )
        .await
        .unwrap();
    assert!(
        a.name_any().starts_with("job-") && a.name_any().len() == 9,
        "{}",
        a.name_any()
    );
    assert_ne!(a.name_any(), b.name_any());
    let (code, reason, msg) = api_err(
        api.create(&PostParams::default(), &obj(json!({"metadata": {}})))
            .await,
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(msg.contains("name or generateName is required"), "{msg}");
}

#[tokio::test]
async fn errors_are_real_status_objects() {
    let (_fake, c) = fake().await;
    let deps = Api::<Deployment>::default_namespaced(c.clone());
    let (code, reason, msg) = api_err(deps.get("nope").await);
    assert_eq!(
        (code, reason.as_str(), msg.as_str()),
        (404, "NotFound", "deployments.apps \"nope\" not found")
    );

    let cms = Api::<ConfigMap>::default_namespaced(c.clone());
    let cm: ConfigMap = obj(json!({"metadata": {"name": "dup"}}));
    cms.create(&PostParams::default(), &cm).await.unwrap();
    let (code, reason, msg) = api_err(cms.create(&PostParams::default(), &cm).await);
    assert_eq!(
        (code, reason.as_str(), msg.as_str()),
        (409, "AlreadyExists", "configmaps \"dup\" already exists")
    );

    let (code, reason, msg) = api_err(
        cms.create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "Bad_Name"}})),
        )
        .await,
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(msg.starts_with("ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain"), "{msg}");

    let svcs = Api::<Service>::default_namespaced(c.clone());
    for bad in ["web.v1", "1web", &"a".repeat(64)] {
        let s: Service = obj(json!({"metadata": {"name": bad}, "spec": {"ports": [{"port": 80}]}}));
        let (code, _, msg) = api_err(svcs.create(&PostParams::default(), &s).await);
        assert_eq!(code, 422, "{bad}: {msg}");
    }

    let elsewhere = Api::<ConfigMap>::namespaced(c.clone(), "missing-ns");
    let (code, reason, msg) = api_err(
        elsewhere
            .create(
                &PostParams::default(),
                &obj(json!({"metadata": {"name": "x"}})),
            )
            .await,
    );
    assert_eq!(
        (code, reason.as_str(), msg.as_str()),
        (404, "NotFound", "namespaces \"missing-ns\" not found")
    );
}

#[tokio::test]
async fn invalid_deployment_names_the_field() {
    let (_fake, c) = fake().await;
    let deps = Api::<Deployment>::default_namespaced(c);
    let mut d = common::deployment("web", "nginx", 1);
    d.spec
        .as_mut()
        .unwrap()
        .template
        .metadata
        .as_mut()
        .unwrap()
        .labels = Some([("app".to_string(), "other".to_string())].into());
    let (code, reason, msg) = api_err(deps.create(&PostParams::default(), &d).await);
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(
        msg.starts_with("Deployment.apps \"web\" is invalid: spec.template.metadata.labels"),
        "{msg}"
    );
}

#[tokio::test]
async fn stale_resource_version_conflicts() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    let v1 = api
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "cm"}, "data": {"n": "1"}})),
        )
        .await
        .unwrap();
    let mut v2 = v1.clone();
    v2.data = Some([("n".to_string(), "2".to_string())].into());
    api.replace("cm", &PostParams::default(), &v2)
        .await
        .unwrap();
    // v1 still carries the old resourceVersion.
    let (code, reason, msg) = api_err(api.replace("cm", &PostParams::default(), &v1).await);
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert!(msg.contains("the object has been modified"), "{msg}");
    let stale_patch = Patch::Merge(
        json!({"metadata": {"resourceVersion": v1.resource_version()}, "data": {"n": "3"}}),
    );
    assert_eq!(
        api_err(api.patch("cm", &PatchParams::default(), &stale_patch).await).0,
        409
    );
    assert_eq!(api.get("cm").await.unwrap().data.unwrap()["n"], "2");
}

#[tokio::test]
async fn resource_versions_are_global_and_increasing() {
    let (_fake, c) = fake().await;
    let cms = Api::<ConfigMap>::default_namespaced(c.clone());
    let sas = Api::<ServiceAccount>::default_namespaced(c);
    let a = cms
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "a"}})),
        )
        .await
        .unwrap();
    let b = sas
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "b"}})),
        )
        .await
        .unwrap();
    let (ra, rb): (u64, u64) = (
        a.resource_version().unwrap().parse().unwrap(),
        b.resource_version().unwrap().parse().unwrap(),
    );
    assert!(rb > ra);
    let list = cms.list(&ListParams::default()).await.unwrap();
    let rl: u64 = list.metadata.resource_version.unwrap().parse().unwrap();
    assert!(rl >= rb, "list resourceVersion is the store's current one");
}

async fn labelled(api: &Api<ConfigMap>) {
    for (name, labels) in [
        ("a", json!({"app": "web", "tier": "front"})),
        ("b", json!({"app": "web", "tier": "back"})),
        ("c", json!({"app": "db"})),
        ("d", json!({})),
    ] {
        api.create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": name, "labels": labels}})),
        )
        .await
        .unwrap();
    }
}

async fn names(api: &Api<ConfigMap>, lp: &ListParams) -> Vec<String> {
    api.list(lp)
        .await
        .unwrap()
        .items
        .iter()
        .map(|o| o.name_any())
        .collect()
}

#[tokio::test]
async fn list_with_every_label_selector_form() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    labelled(&api).await;
    for (sel, want) in [
        ("app=web", vec!["a", "b"]),
        ("app==web", vec!["a", "b"]),
        ("app!=web", vec!["c", "d"]),
        ("tier", vec!["a", "b"]),
        ("!tier", vec!["c", "d"]),
        ("tier in (front,side)", vec!["a"]),
        ("tier notin (front)", vec!["b", "c", "d"]),
        ("app=web,tier!=front", vec!["b"]),
        ("app in (web,db),!tier", vec!["c"]),
    ] {
        assert_eq!(
            names(&api, &ListParams::default().labels(sel)).await,
            want,
            "selector {sel}"
        );
    }
    let (code, reason, _) = api_err(api.list(&ListParams::default().labels("app in web")).await);
    assert_eq!((code, reason.as_str()), (400, "BadRequest"));
}

#[tokio::test]
async fn list_with_field_selectors_and_pages() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c.clone());
    labelled(&api).await;
    assert_eq!(
        names(&api, &ListParams::default().fields("metadata.name=c")).await,
        ["c"]
    );
    assert_eq!(
        names(
            &api,
            &ListParams::default().fields("metadata.name!=c,metadata.namespace=default")
        )
        .await,
        ["a", "b", "d"]
    );
    assert!(
        names(
            &api,
            &ListParams::default().fields("metadata.namespace=other")
        )
        .await
        .is_empty()
    );

    let page1 = api.list(&ListParams::default().limit(3)).await.unwrap();
    assert_eq!(page1.items.len(), 3);
    let token = page1.metadata.continue_.clone().expect("continue token");
    let page2 = api
        .list(&ListParams::default().limit(3).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(
        page2.items.iter().map(|o| o.name_any()).collect::<Vec<_>>(),
        ["d"]
    );
    assert!(page2.metadata.continue_.is_none());

    // Cluster-wide list sees every namespace.
    let ns = Api::<Namespace>::all(c.clone());
    ns.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "other"}})),
    )
    .await
    .unwrap();
    Api::<ConfigMap>::namespaced(c.clone(), "other")
        .create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "z"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        Api::<ConfigMap>::all(c)
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        5
    );
}

#[tokio::test]
async fn delete_collection_by_label() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    labelled(&api).await;
    let deleted = api
        .delete_collection(
            &DeleteParams::default(),
            &ListParams::default().labels("app=web"),
        )
        .await
        .unwrap();
    let deleted = deleted
        .left()
        .expect("deletecollection returns the deleted list");
    assert_eq!(deleted.items.len(), 2);
    assert_eq!(names(&api, &ListParams::default()).await, ["c", "d"]);
}

#[tokio::test]
async fn apply_creates_then_merges() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    let pp = PatchParams::apply("tycho").force();
    let first = api
        .patch(
            "cfg",
            &pp,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg"}, "data": {"a": "1"}})),
        )
        .await
        .unwrap();
    let second = api
        .patch(
            "cfg",
            &pp,
            &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cfg"}, "data": {"b": "2"}})),
        )
        .await
        .unwrap();
    assert_eq!(first.uid(), second.uid());
    let data = second.data.unwrap();
    assert_eq!((data["a"].as_str(), data["b"].as_str()), ("1", "2"));
    let (code, _, _) = api_err(
        api.patch(
            "absent",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {}})),
        )
        .await,
    );
    assert_eq!(code, 404);
}

#[tokio::test]
async fn dry_run_changes_nothing() {
    let (fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    let before = fake.object_count();
    let made = api
        .create(
            &PostParams {
                dry_run: true,
                ..Default::default()
            },
            &obj(json!({"metadata": {"name": "dry"}})),
        )
        .await
        .unwrap();
    assert_eq!(made.name_any(), "dry");
    assert_eq!(fake.object_count(), before);
    assert_eq!(api_err(api.get("dry").await).0, 404);
}

#[tokio::test]
async fn namespaces_delete_their_contents_and_default_is_protected() {
    let (fake, c) = fake().await;
    let ns = Api::<Namespace>::all(c.clone());
    ns.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "team"}})),
    )
    .await
    .unwrap();
    let before = fake.object_count();
    let cms = Api::<ConfigMap>::namespaced(c.clone(), "team");
    for n in ["a", "b"] {
        cms.create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": n}})),
        )
        .await
        .unwrap();
    }
    let deps = Api::<Deployment>::namespaced(c.clone(), "team");
    deps.create(
        &PostParams::default(),
        &common::deployment("web", "nginx", 2),
    )
    .await
    .unwrap();
    let events = Api::<Event>::namespaced(c.clone(), "team")
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    assert!(events > 0, "the controllers recorded events");
    assert_eq!(
        fake.object_count(),
        before + 2 + 1 + 1 + 2,
        "2 cms, deployment, rs, 2 pods (Events are not counted: they outlive their objects)"
    );
    let gone = ns.delete("team", &DeleteParams::default()).await.unwrap();
    assert_eq!(
        gone.left().unwrap().status.unwrap().phase.as_deref(),
        Some("Terminating")
    );
    assert_eq!(fake.object_count(), before - 1);
    assert_eq!(api_err(cms.get("a").await).0, 404);
    let left = Api::<Event>::namespaced(c.clone(), "team")
        .list(&ListParams::default())
        .await
        .unwrap();
    assert!(
        left.items.is_empty(),
        "a namespace takes its events with it"
    );
    let (code, reason, msg) = api_err(ns.delete("default", &DeleteParams::default()).await);
    assert_eq!((code, reason.as_str()), (403, "Forbidden"), "{msg}");
}

#[tokio::test]
async fn discovery_and_version_endpoints() {
    let (fake, c) = fake().await;
    let v = c.apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "33"));
    let groups = c.list_api_groups().await.unwrap();
    let names: Vec<&str> = groups.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "apps",
            "coordination.k8s.io",
            "gateway.networking.k8s.io",
            "networking.k8s.io",
            "storage.k8s.io"
        ]
    );
    let core = c.list_core_api_resources("v1").await.unwrap();
    assert!(
        core.resources
            .iter()
            .any(|r| r.name == "pods" && r.namespaced)
    );
    let body = reqwest_free_get(&fake.url(), "/healthz").await;
    assert_eq!(body, "ok");
}

/// Minimal HTTP GET over a TcpStream (the workspace has no HTTP client besides kube's).
async fn reqwest_free_get(url: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = url.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out.split("\r\n\r\n").nth(1).unwrap_or("").to_string()
}

#[tokio::test]
async fn list_shows_each_object_as_last_written() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    api.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "a"}, "data": {"k": "1"}})),
    )
    .await
    .unwrap();
    let patched = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"k": "2"}})),
        )
        .await
        .unwrap();
    let listed = api.list(&ListParams::default()).await.unwrap();
    assert_eq!(listed.items.len(), 1);
    assert_eq!(listed.items[0].data.as_ref().unwrap()["k"], "2");
    assert_eq!(
        listed.items[0].resource_version(),
        patched.resource_version()
    );
    assert_eq!(listed.items[0], api.get("a").await.unwrap());
    api.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(
        api.list(&ListParams::default())
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
