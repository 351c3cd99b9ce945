//! Service address allocation.

mod common;

use std::collections::HashSet;

use common::{api_err, fake, obj};
use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

fn svc(name: &str, ty: &str, ports: serde_json::Value) -> Service {
    obj(
        json!({"metadata": {"name": name}, "spec": {"type": ty, "selector": {"app": name}, "ports": ports}}),
    )
}

fn node_ports(s: &Service) -> Vec<i32> {
    s.spec
        .as_ref()
        .unwrap()
        .ports
        .as_ref()
        .unwrap()
        .iter()
        .filter_map(|p| p.node_port)
        .collect()
}

#[tokio::test]
async fn cluster_ips_are_allocated_unless_headless() {
    let (_fake, c) = fake().await;
    let api = Api::<Service>::default_namespaced(c);
    let a = api
        .create(
            &PostParams::default(),
            &svc("a", "ClusterIP", json!([{"port": 80}])),
        )
        .await
        .unwrap();
    let b = api
        .create(
            &PostParams::default(),
            &svc("b", "ClusterIP", json!([{"port": 80}])),
        )
        .await
        .unwrap();
    let (ipa, ipb) = (
        a.spec.as_ref().unwrap().cluster_ip.clone().unwrap(),
        b.spec.as_ref().unwrap().cluster_ip.clone().unwrap(),
    );
    assert!(
        ipa.starts_with("10.96.") && ipb.starts_with("10.96."),
        "{ipa} {ipb}"
    );
    assert_ne!(ipa, ipb);
    let p = &a.spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    assert_eq!(p.protocol.as_deref(), Some("TCP"));
    assert!(p.node_port.is_none(), "ClusterIP services get no nodePort");

    let headless: Service = obj(
        json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None", "selector": {"app": "h"}}}),
    );
    let h = api.create(&PostParams::default(), &headless).await.unwrap();
    assert_eq!(h.spec.unwrap().cluster_ip.as_deref(), Some("None"));

    let moved = Patch::Merge(json!({"spec": {"clusterIP": "10.96.200.200"}}));
    let (code, _, msg) = api_err(api.patch("a", &PatchParams::default(), &moved).await);
    assert_eq!(code, 422);
    assert!(msg.contains("field is immutable"), "{msg}");
}

#[tokio::test]
async fn node_ports_are_unique_across_fifty_services() {
    let (_fake, c) = fake().await;
    let api = Api::<Service>::default_namespaced(c);
    let mut seen = HashSet::new();
    for i in 0..50 {
        let ty = if i % 2 == 0 {
            "NodePort"
        } else {
            "LoadBalancer"
        };
        let s = api
            .create(
                &PostParams::default(),
                &svc(
                    &format!("s{i}"),
                    ty,
                    json!([{"name": "http", "port": 80}, {"name": "https", "port": 443}]),
                ),
            )
            .await
            .unwrap();
        for np in node_ports(&s) {
            assert!((30000..=32767).contains(&np), "{np}");
            assert!(seen.insert(np), "nodePort {np} handed out twice");
        }
    }
    assert_eq!(seen.len(), 100);
}

#[tokio::test]
async fn requested_node_ports_are_honoured_or_refused() {
    let (_fake, c) = fake().await;
    let api = Api::<Service>::default_namespaced(c);
    let a = api
        .create(
            &PostParams::default(),
            &svc("a", "NodePort", json!([{"port": 80, "nodePort": 30080}])),
        )
        .await
        .unwrap();
    assert_eq!(node_ports(&a), [30080]);
    let (code, reason, msg) = api_err(
        api.create(
            &PostParams::default(),
            &svc("b", "NodePort", json!([{"port": 80, "nodePort": 30080}])),
        )
        .await,
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(
        msg.contains(
            "spec.ports[0].nodePort: Invalid value: 30080: provided port is already allocated"
        ),
        "{msg}"
    );
    let (code, _, _) = api_err(
        api.create(
            &PostParams::default(),
            &svc("c", "NodePort", json!([{"port": 80, "nodePort": 80}])),
        )
        .await,
    );
    assert_eq!(code, 422);

    // An update that leaves nodePort out keeps the allocated one.
    let patched = api
        .patch(
            "a",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"ports": [{"port": 80}]}})),
        )
        .await
        .unwrap();
    assert_eq!(node_ports(&patched), [30080]);
}

#[tokio::test]
async fn multi_port_services_need_names() {
    let (_fake, c) = fake().await;
    let api = Api::<Service>::default_namespaced(c);
    let (code, _, msg) = api_err(
        api.create(
            &PostParams::default(),
            &svc("m", "ClusterIP", json!([{"port": 80}, {"port": 81}])),
        )
        .await,
    );
    assert_eq!(code, 422);
    assert!(msg.contains("spec.ports[0].name: Required value"), "{msg}");
}
