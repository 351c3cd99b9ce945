//! Connect through the operator's own edge: in `connect.mode: ingress` a start creates an
//! Ingress and in `gateway` an HTTPRoute, both labelled and owned by the system's Deployment,
//! and a delete removes them; a cluster without the Gateway API answers a clear error.

use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use reqwest::{Method, StatusCode};
use std::time::Duration;
use tycho_compiler::{ConnectMode, GatewayParent, labels};
use tycho_test_server::*;

fn edge_settings(cluster: &TestCluster, mode: ConnectMode) -> tycho_server::Settings {
    let mut settings = settings(cluster);
    let policy = &mut settings.policy;
    policy.connect.mode = mode;
    policy.connect.ingress.host = "{guid}.apps.example.org".into();
    policy.connect.ingress.class = "nginx".into();
    policy.connect.gateway.parent_refs = vec![GatewayParent {
        name: "edge".into(),
        namespace: "gateway-system".into(),
        section_name: String::new(),
    }];
    policy.connect.gateway.hostnames = vec!["{guid}.apps.example.org".into()];
    policy.network.ingress_namespaces = vec!["ingress-nginx".into()];
    settings
}

fn routes(cluster: &TestCluster) -> Api<DynamicObject> {
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("gateway.networking.k8s.io", "v1", "HTTPRoute"),
        "httproutes",
    );
    Api::namespaced_with(cluster.client.clone(), &cluster.namespace, &resource)
}

#[tokio::test]
async fn ingress_mode_creates_an_owned_ingress_that_goes_with_the_system() {
    let cluster = TestCluster::start("server-connect-ingress").await;
    let s = TestServer::start(&cluster, edge_settings(&cluster, ConnectMode::Ingress)).await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "web").await;

    let api = Api::<Ingress>::namespaced(cluster.client.clone(), &cluster.namespace);
    let lp = ListParams::default().labels(&labels::system_selector(&guid));
    let found = api.list(&lp).await.unwrap().items;
    assert_eq!(found.len(), 1);
    let ingress = &found[0];
    let object_name = format!("web-{guid}");
    assert_eq!(ingress.metadata.name.as_deref(), Some(object_name.as_str()));
    let labels_of = ingress.metadata.labels.as_ref().unwrap();
    assert_eq!(labels_of[labels::USERNAME], "alice");
    assert_eq!(labels_of[labels::GUID], guid);
    let owners = ingress.metadata.owner_references.as_ref().unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(
        (owners[0].kind.as_str(), owners[0].name.as_str()),
        ("Deployment", object_name.as_str())
    );
    let spec = ingress.spec.as_ref().unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    let rule = &spec.rules.as_ref().unwrap()[0];
    assert_eq!(
        rule.host.as_deref(),
        Some(format!("{guid}.apps.example.org").as_str())
    );
    let path = &rule.http.as_ref().unwrap().paths[0];
    assert_eq!(path.path.as_deref(), Some("/"));
    let backend = path.backend.service.as_ref().unwrap();
    assert_eq!(backend.name, object_name);
    assert_eq!(backend.port.as_ref().unwrap().number, Some(8080));

    s.delete_gone(ALICE, &guid).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !api.list(&lp).await.unwrap().items.is_empty() {
        assert!(std::time::Instant::now() < deadline, "the Ingress stays");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    cluster.cleanup().await;
}

/// Fake only: a real cluster may not have the Gateway API CRDs.
#[tokio::test]
async fn gateway_mode_creates_an_owned_http_route_that_goes_with_the_system() {
    let cluster = TestCluster::start_fake("server-connect-gateway").await;
    let s = TestServer::start(&cluster, edge_settings(&cluster, ConnectMode::Gateway)).await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "web").await;
    let api = routes(&cluster);
    let lp = ListParams::default().labels(&labels::system_selector(&guid));
    let found = api.list(&lp).await.unwrap().items;
    assert_eq!(found.len(), 1);
    let route = &found[0];
    let owners = route.metadata.owner_references.as_ref().unwrap();
    assert_eq!(owners[0].kind, "Deployment");
    assert_eq!(route.data["spec"]["parentRefs"][0]["name"], "edge");
    assert_eq!(
        route.data["spec"]["hostnames"][0],
        format!("{guid}.apps.example.org")
    );
    assert_eq!(
        route.data["spec"]["rules"][0]["backendRefs"][0]["port"],
        8080
    );
    s.delete_gone(ALICE, &guid).await;
    assert!(api.list(&lp).await.unwrap().items.is_empty());
    cluster.cleanup().await;
}

/// Fake only: the cluster answers the HTTPRoute create with 404 (no such kind); the start
/// says what to do and leaves nothing behind.
#[tokio::test]
async fn a_cluster_without_http_routes_gets_a_clear_error_and_nothing_left() {
    let cluster = TestCluster::start_fake("server-connect-no-gateway-api").await;
    let fake = cluster.fake.as_ref().expect("start_fake gives the fake");
    let s = TestServer::start(&cluster, edge_settings(&cluster, ConnectMode::Gateway)).await;
    let baseline = fake.object_count();
    fake.fail_nth_create("httproutes", 1, 404);
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_ne!(code, StatusCode::ACCEPTED, "{body}");
    assert!(
        body.to_string()
            .contains(tycho_server::executor::kubernetes::NO_HTTP_ROUTE_KIND),
        "{body}"
    );
    wait_for_count(fake, baseline, "objects left over").await;
    cluster.cleanup().await;
}

/// An edge-served system opens at the edge's URL, and Tycho's proxy does not pretend to serve
/// it (its NetworkPolicy admits the controller, not the server).
#[tokio::test]
async fn an_ingress_served_system_opens_at_its_host_not_through_the_proxy() {
    let cluster = TestCluster::start("server-connect-ingress-url").await;
    let mut settings = edge_settings(&cluster, ConnectMode::Ingress);
    let upstream = tycho_server::connect::upstream::LocalUpstream::default();
    settings.connect.upstream = Some(std::sync::Arc::new(upstream.clone()));
    let s = TestServer::start(&cluster, settings).await;
    let guid = s.start_system(ALICE, &compose(IMAGE), "web").await;
    let status = s
        .wait_for(ALICE, &guid, ready_timeout(&cluster), |v| {
            v["phase"] == "Running"
        })
        .await;
    assert_eq!(
        status["connect_url"],
        format!("http://{guid}.apps.example.org/")
    );
    assert_eq!(status["connect"]["served_by"], "ingress");
    let free = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    upstream.route(&format!("web-{guid}"), free.local_addr().unwrap());
    let r = s
        .call(Method::GET, &format!("/connect/{guid}/"), Some(ALICE), None)
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    cluster.cleanup().await;
}
