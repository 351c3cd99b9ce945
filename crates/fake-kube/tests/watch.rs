//! Watch streams through kube's `Api::watch`.

mod common;

use std::time::Duration;

use common::{fake, obj};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn describe(e: &WatchEvent<ConfigMap>) -> String {
    match e {
        WatchEvent::Added(o) => format!("ADDED {}", o.name_any()),
        WatchEvent::Modified(o) => format!("MODIFIED {}", o.name_any()),
        WatchEvent::Deleted(o) => format!("DELETED {}", o.name_any()),
        WatchEvent::Bookmark(_) => "BOOKMARK".into(),
        WatchEvent::Error(s) => format!("ERROR {}", s.code),
    }
}

#[tokio::test]
async fn watch_yields_added_then_deleted_for_matching_objects() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    api.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "old", "labels": {"w": "1"}}})),
    )
    .await
    .unwrap();
    let stream = api
        .watch(&WatchParams::default().labels("w=1").timeout(5), "0")
        .await
        .unwrap();
    let mut stream = stream.boxed();
    let first = stream.try_next().await.unwrap().unwrap();
    assert_eq!(describe(&first), "ADDED old", "current objects come first");

    api.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "other"}})),
    )
    .await
    .unwrap();
    api.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "new", "labels": {"w": "1"}}})),
    )
    .await
    .unwrap();
    api.delete("new", &DeleteParams::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        let e = tokio::time::timeout(Duration::from_secs(5), stream.try_next())
            .await
            .expect("event in time")
            .unwrap()
            .unwrap();
        seen.push(describe(&e));
    }
    assert_eq!(
        seen,
        ["ADDED new", "DELETED new"],
        "non-matching 'other' is filtered out"
    );
}

#[tokio::test]
async fn watch_resumes_from_a_resource_version_and_times_out() {
    let (_fake, c) = fake().await;
    let api = Api::<ConfigMap>::default_namespaced(c);
    let list = api.list(&ListParams::default()).await.unwrap();
    let rv = list.metadata.resource_version.unwrap();
    api.create(
        &PostParams::default(),
        &obj(json!({"metadata": {"name": "after"}})),
    )
    .await
    .unwrap();
    let events: Vec<String> = api
        .watch(&WatchParams::default().timeout(1), &rv)
        .await
        .unwrap()
        .map(|e| describe(&e.unwrap()))
        .collect()
        .await;
    assert_eq!(
        events,
        ["ADDED after"],
        "history after {rv}, then the stream ends at timeoutSeconds"
    );
}
