//! A server without a cluster: systems answer 503, everything else (validate, compile, the
//! dashboard, docs, metrics) is served.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tycho_client::api::{CompileRequest, StartRequest};
use tycho_server::Settings;
use tycho_test_server::*;

#[tokio::test]
async fn no_cluster_answers_503_but_compiles() {
    let s = TestServer::without_cluster(Settings {
        auth: tokens(),
        ..Settings::default()
    })
    .await;
    let (code, body) = s.try_start(ALICE, &compose(IMAGE)).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["type"], "urn:tycho:problem:no-cluster");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("no Kubernetes cluster is configured")
    );
    let (code, body) = s.json(Method::GET, "/readyz", None, None).await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["cluster"]["configured"], false);
    assert_eq!(body["cluster"]["message"], NO_CLUSTER_REASON);
    let (code, _) = s.json(Method::GET, "/healthz", None, None).await;
    assert_eq!(code, StatusCode::OK);
    let alice = s.client(ALICE);
    let request = CompileRequest {
        system: StartRequest {
            compose: compose(IMAGE).into(),
            ..Default::default()
        },
        ..Default::default()
    };
    assert!(alice.validate(&request).await.unwrap().valid);
    let compiled = alice
        .compile(&request)
        .await
        .expect("compiles without a cluster");
    // The preview's documents and the resources table come with the manifests, as from wasm.
    let kinds: Vec<&str> = compiled.documents.iter().map(|d| d.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["NetworkPolicy", "Service", "Deployment"],
        "in apply order"
    );
    assert_eq!(
        tycho_client::api::Document::join(&compiled.documents),
        compiled.yaml
    );
    assert_eq!(compiled.resources.services[0].service, "web");
    let (code, body) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ADMIN),
            Some(json!({"name": "x", "system": {}})),
        )
        .await;
    assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "error");
    // The dashboard placeholder, the docs and the metrics are served without a cluster.
    let page = s
        .call(Method::GET, "/", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("/apidocs"));
    let (code, doc) = s.json(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(code, StatusCode::OK);
    for path in [
        "/api/v1/systems",
        "/api/v1/systems/{guid}",
        "/system/start",
        "/api/v1/events",
    ] {
        assert!(
            doc["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    let ui = s.call(Method::GET, "/apidocs/", None, None).await;
    assert_eq!(ui.status(), StatusCode::OK);
    assert!(ui.text().await.unwrap().contains("swagger"));
    let metrics = s
        .call(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains(
            "tycho_http_requests_total{method=\"POST\",route=\"/api/v1/systems\",status=\"503\"} 1"
        ),
        "{metrics}"
    );
    assert!(metrics.contains("tycho_cluster_reachable 0"));
}

#[tokio::test]
async fn dashboard_is_served_from_dist_with_spa_fallback() {
    let dir = dist_dir(
        "spa",
        &[
            ("index.html", "<html>tycho dashboard</html>"),
            ("app.js", "console.log(1)"),
        ],
    );
    let s = TestServer::without_cluster(Settings {
        dist: Some(dir.clone()),
        ..Settings::default()
    })
    .await;
    for path in ["/", "/systems/abc"] {
        let r = s.call(Method::GET, path, None, None).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert!(
            r.text().await.unwrap().contains("tycho dashboard"),
            "{path}"
        );
    }
    let js = s
        .call(Method::GET, "/app.js", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(js, "console.log(1)");
    let _ = std::fs::remove_dir_all(dir);
}
