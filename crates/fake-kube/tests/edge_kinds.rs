//! Ingresses and Gateway API HTTPRoutes: served (discovery, CRUD, label selectors, garbage
//! collection with their owner) and validated like the real server validates them.

mod common;

use common::{api_err, deployment, fake};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, PostParams,
};
use serde_json::{Value, json};
use std::time::Duration;

fn routes_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        "httproutes",
    )
}

fn ingress(name: &str, spec: Value) -> Ingress {
    common::obj(json!({"metadata": {"name": name, "labels": {"tycho-guid": "g1"}}, "spec": spec}))
}

fn good_ingress_spec() -> Value {
    json!({"ingressClassName": "nginx", "rules": [{"host": "g1.apps.example.org", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"number": 80}}}}
    ]}}], "tls": [{"hosts": ["g1.apps.example.org"], "secretName": "tls"}]})
}

fn route(name: &str, spec: Value) -> DynamicObject {
    common::obj(
        json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": name, "labels": {"tycho-guid": "g1"}}, "spec": spec}),
    )
}

fn good_route_spec() -> Value {
    json!({"parentRefs": [{"name": "edge", "namespace": "gateway-system"}],
        "hostnames": ["apps.example.org"],
        "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/connect/g1/"}}],
            "filters": [{"type": "URLRewrite", "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
            "backendRefs": [{"name": "web", "port": 80}]}]})
}

#[tokio::test]
async fn discovery_lists_both_kinds() {
    let (_fake, c) = fake().await;
    let networking = c
        .list_api_group_resources("networking.k8s.io/v1")
        .await
        .unwrap();
    assert!(networking.resources.iter().any(|r| r.name == "ingresses"));
    let gateway = c
        .list_api_group_resources("gateway.networking.k8s.io/v1")
        .await
        .unwrap();
    let names: Vec<&str> = gateway.resources.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["httproutes", "httproutes/status"]);
}

#[tokio::test]
async fn ingresses_and_routes_round_trip_and_go_with_their_owner() {
    let (_fake, c) = fake().await;
    let pp = PostParams::default();
    let owner = Api::<Deployment>::default_namespaced(c.clone())
        .create(&pp, &deployment("web", "nginx", 1))
        .await
        .unwrap();
    let owner_ref = json!([{"apiVersion": "apps/v1", "kind": "Deployment", "name": "web",
        "uid": owner.metadata.uid.clone().unwrap()}]);

    let ingresses = Api::<Ingress>::default_namespaced(c.clone());
    let mut i = ingress("web", good_ingress_spec());
    i.metadata.owner_references = Some(common::obj(owner_ref.clone()));
    let created = ingresses.create(&pp, &i).await.unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(created.metadata.uid.is_some());

    let routes: Api<DynamicObject> = Api::default_namespaced_with(c.clone(), &routes_resource());
    let mut r = route("web", good_route_spec());
    r.metadata.owner_references = Some(common::obj(owner_ref));
    let created = routes.create(&pp, &r).await.unwrap();
    assert_eq!(
        created.data["spec"]["rules"][0]["backendRefs"][0]["port"],
        80
    );

    let lp = ListParams::default().labels("tycho-guid=g1");
    assert_eq!(ingresses.list(&lp).await.unwrap().items.len(), 1);
    assert_eq!(routes.list(&lp).await.unwrap().items.len(), 1);

    // Deleting the Deployment collects both.
    Api::<Deployment>::default_namespaced(c.clone())
        .delete("web", &DeleteParams::background())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    loop {
        let left = ingresses.list(&lp).await.unwrap().items.len()
            + routes.list(&lp).await.unwrap().items.len();
        if left == 0 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{left} left");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn ingress_validation_matches_the_api_server() {
    let (_fake, c) = fake().await;
    let api = Api::<Ingress>::default_namespaced(c);
    let pp = PostParams::default();
    let path = |p: Value| {
        let mut spec = good_ingress_spec();
        spec["rules"][0]["http"]["paths"][0] = p;
        spec
    };
    let backend = json!({"service": {"name": "web", "port": {"number": 80}}});
    let cases = [
        (
            path(json!({"path": "/", "backend": backend})),
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified",
        ),
        (
            path(json!({"path": "connect/", "pathType": "Prefix", "backend": backend})),
            "spec.rules[0].http.paths[0].path: Invalid value: \"connect/\": must be an absolute path",
        ),
        (
            path(json!({"path": "/a//b", "pathType": "Prefix", "backend": backend})),
            "must not contain '//'",
        ),
        (
            path(json!({"path": "/", "pathType": "Regex", "backend": backend})),
            "Unsupported value: \"Regex\"",
        ),
        (
            path(
                json!({"path": "/", "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {}}}}),
            ),
            "port name or number is required",
        ),
        (
            json!({"rules": [{"host": "*.*.example.org", "http": {"paths": []}}]}),
            "a wildcard DNS-1123 subdomain must start with '*.'",
        ),
        (
            json!({"rules": [{"host": "Apps.Example.org"}]}),
            "spec.rules[0].host: Invalid value: \"Apps.Example.org\": a lowercase RFC 1123 subdomain",
        ),
        (
            json!({"rules": [{"host": "10.0.0.1"}]}),
            "must be a DNS name, not an IP address",
        ),
        (
            json!({}),
            "either `defaultBackend` or `rules` must be specified",
        ),
    ];
    for (spec, says) in cases {
        let (code, reason, message) = api_err(api.create(&pp, &ingress("bad", spec.clone())).await);
        assert_eq!((code, reason.as_str()), (422, "Invalid"), "{spec}");
        assert!(
            message.starts_with("Ingress.networking.k8s.io \"bad\" is invalid: "),
            "{message}"
        );
        assert!(message.contains(says), "{spec}: {message}");
    }
    // A wildcard host used properly is fine.
    let mut spec = good_ingress_spec();
    spec["rules"][0]["host"] = json!("*.apps.example.org");
    api.create(&pp, &ingress("wild", spec)).await.unwrap();
}

#[tokio::test]
async fn http_route_validation_matches_the_crd() {
    let (_fake, c) = fake().await;
    let api: Api<DynamicObject> = Api::default_namespaced_with(c, &routes_resource());
    let pp = PostParams::default();
    let with = |pointer: &str, v: Value| {
        let mut spec = good_route_spec();
        *spec.pointer_mut(pointer).unwrap() = v;
        spec
    };
    let cases = [
        (
            with("/parentRefs/0", json!({"namespace": "x"})),
            "spec.parentRefs[0].name: Required value",
        ),
        (
            with("/hostnames/0", json!("Bad_Host")),
            "spec.hostnames[0] in body should match",
        ),
        (
            with("/rules/0/matches/0/path/value", json!("connect/")),
            "must be an absolute path when type one of ['Exact', 'PathPrefix']",
        ),
        (
            with("/rules/0/matches/0/path/type", json!("Exact")),
            "exactly one PathPrefix match must be specified",
        ),
        (
            with("/rules/0/backendRefs/0", json!({"name": "web"})),
            "Must have port for Service reference",
        ),
        (
            with("/rules/0/filters/0", json!({"type": "URLRewrite"})),
            "filter.urlRewrite must be specified for URLRewrite filter.type",
        ),
    ];
    for (spec, says) in cases {
        let (code, _, message) = api_err(api.create(&pp, &route("bad", spec.clone())).await);
        assert_eq!(code, 422, "{spec}");
        assert!(
            message.starts_with("HTTPRoute.gateway.networking.k8s.io \"bad\" is invalid: "),
            "{message}"
        );
        assert!(message.contains(says), "{spec}: {message}");
    }
    // The CRD does not require parentRefs (the route then attaches to nothing).
    let mut spec = good_route_spec();
    spec.as_object_mut().unwrap().remove("parentRefs");
    api.create(&pp, &route("orphan", spec)).await.unwrap();
}
