//! Helpers shared by the integration tests: build typed objects from JSON literals and
//! unpack `kube::Error::Api`.
#![allow(dead_code)]

use k8s_openapi::api::apps::v1::Deployment;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tycho_fake_kube::FakeKube;

pub fn obj<T: DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).expect("test object literal deserializes")
}

pub async fn fake() -> (FakeKube, kube::Client) {
    let fake = FakeKube::start().await;
    let client = fake.client();
    (fake, client)
}

/// (code, reason, message) of an API error; panics on anything else.
pub fn api_err<T: std::fmt::Debug>(r: Result<T, kube::Error>) -> (u16, String, String) {
    match r {
        Err(kube::Error::Api(s)) => (s.code, s.reason.clone(), s.message.clone()),
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn deployment(name: &str, image: &str, replicas: i32) -> Deployment {
    obj(json!({
        "metadata": {"name": name, "labels": {"app": name, "executor": "tycho"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name, "executor": "tycho"}},
                "spec": {"containers": [{"name": "main", "image": image, "ports": [{"containerPort": 8080}]}]}
            }
        }
    }))
}
