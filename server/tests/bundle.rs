//! Files sent with the compose file through `/api/v1` (issue 13, item 1): a start creates the
//! system's ConfigMap and Secret, owned by its Deployment and mounted where the file says; the
//! secret's value is in no answer; a delete removes both; a path that is not a plain project
//! path is a 400. Runs on a real cluster too (`TYCHO_TEST_KUBECONFIG`).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use kube::api::ListParams;
use reqwest::{Method, StatusCode};
use serde_json::json;
use tycho_api::Phase;
use tycho_test_server::*;

const PASSWORD: &str = "correct-horse-battery-staple";

fn compose() -> String {
    format!(
        "services:
  web:
    image: {IMAGE}
    ports: [\"8080:8080\"]
    env_file: ./web.env
    volumes:
      - ./site:/usr/share/nginx/html:ro
    secrets: [db_password]
secrets:
  db_password:
    file: ./secrets/db.txt
"
    )
}

fn files() -> serde_json::Value {
    json!({
        "web.env": STANDARD.encode("GREETING=hello\n"),
        "site/index.html": STANDARD.encode("<h1>from the bundle</h1>"),
        "secrets/db.txt": STANDARD.encode(PASSWORD),
    })
}

#[tokio::test]
async fn a_start_with_files_creates_and_deletes_the_systems_config_map_and_secret() {
    let cluster = TestCluster::start("bundle").await;
    let server = TestServer::on(&cluster).await;
    let (status, body) = server
        .json(
            Method::POST,
            "/api/v1/systems",
            Some(ALICE),
            Some(json!({"compose": compose(), "name": "bundled", "files": files()})),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert!(!body.to_string().contains(PASSWORD));
    let guid = body["guid"].as_str().unwrap().to_string();
    let status = server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == Phase::Running
        })
        .await;
    assert_eq!(status.phase, Phase::Running);

    let selector =
        ListParams::default().labels(&format!("{}={guid}", tycho_compiler::labels::GUID));
    let config_maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let files = config_maps.list(&selector).await.unwrap().items;
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].data.as_ref().unwrap()["site_index.html"],
        "<h1>from the bundle</h1>"
    );
    let secret_name = format!("{}-secrets", status.object_name);
    let secret = secrets.get(&secret_name).await.unwrap();
    assert_eq!(
        secret.data.as_ref().unwrap()["secrets_db.txt"].0,
        PASSWORD.as_bytes()
    );
    let deployment = deployments.get(&status.object_name).await.unwrap();
    let owner = &secret.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(Some(&owner.uid), deployment.metadata.uid.as_ref());
    let pod = deployment.spec.unwrap().template.spec.unwrap();
    let web = &pod.containers[0];
    let env = web.env.as_ref().unwrap();
    assert!(
        env.iter()
            .any(|e| e.name == "GREETING" && e.value.as_deref() == Some("hello"))
    );
    let mounts: Vec<&str> = web
        .volume_mounts
        .as_ref()
        .unwrap()
        .iter()
        .map(|m| m.mount_path.as_str())
        .collect();
    assert_eq!(
        mounts,
        ["/usr/share/nginx/html", "/run/secrets/db_password"]
    );

    // Nothing the user can read says the secret.
    let (_, shown) = server.status(ALICE, &guid).await;
    assert!(!shown.to_string().contains(PASSWORD));

    server.delete_gone(ALICE, &guid).await;
    assert!(config_maps.list(&selector).await.unwrap().items.is_empty());
    assert!(secrets.get_opt(&secret_name).await.unwrap().is_none());
    cluster.cleanup().await;
}

#[tokio::test]
async fn compile_shows_the_secret_masked_and_bad_paths_are_refused() {
    let cluster = TestCluster::start("bundle-compile").await;
    let server = TestServer::on(&cluster).await;
    let (status, body) = server
        .json(
            Method::POST,
            "/api/v1/compile",
            Some(ALICE),
            Some(json!({"compose": compose(), "files": files()})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let text = body.to_string();
    assert!(!text.contains(PASSWORD) && !text.contains(&STANDARD.encode(PASSWORD)));
    assert!(body["yaml"].as_str().unwrap().contains("kind: Secret"));

    // Without its files the same compose file says what is missing, where.
    let (_, validated) = server
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(json!({"compose": compose()})),
        )
        .await;
    let codes: Vec<&str> = validated["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(validated["valid"], false);
    assert!(codes.contains(&"TY0320"), "{validated}");

    for bad in ["../x", "./site/a", "site//a", "/etc/passwd", ""] {
        let (status, body) = server
            .json(
                Method::POST,
                "/api/v1/validate",
                Some(ALICE),
                Some(json!({"compose": compose(), "files": {bad: "eA=="}})),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["detail"].as_str().unwrap().contains("files:"),
            "{body}"
        );
    }
    let (status, body) = server
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(json!({"compose": compose(), "files": {"web.env": "not base64!"}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body.to_string().contains("`web.env` is not base64"),
        "{body}"
    );
    cluster.cleanup().await;
}

/// Files up to what Kubernetes keeps in one ConfigMap fit in a request with the default body
/// limit, base64 and all; above the policy's cap the answer says which cap.
#[tokio::test]
async fn files_up_to_the_configmap_limit_fit_in_a_request() {
    let cluster = TestCluster::start("bundle-size").await;
    let server = TestServer::on(&cluster).await;
    let text =
        format!("services:\n  web:\n    image: {IMAGE}\n    volumes: [\"./big.txt:/big.txt\"]\n");
    let validate = |bytes: usize| json!({"compose": text, "files": {"big.txt": STANDARD.encode("x".repeat(bytes))}});
    let (status, body) = server
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(validate(1000 * 1000)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["valid"], true, "{body}");
    let (status, body) = server
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(validate(1100 * 1000)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.to_string().contains("max_files_size"), "{body}");
    cluster.cleanup().await;
}

/// `override_files` merges files sent beside the compose file over it, in order, as `docker
/// compose -f compose.yaml -f compose.prod.yaml` does; a finding in one names that file.
#[tokio::test]
async fn override_files_merge_in_order_and_findings_name_their_file() {
    let cluster = TestCluster::start("bundle-overrides").await;
    let server = TestServer::on(&cluster).await;
    let base = "services:\n  web:\n    image: base-image\n    ports: [\"8080:8080\"]\n";
    let prod =
        format!("services:\n  web:\n    image: {IMAGE}\n    environment:\n      MODE: prod\n");
    let request = |prod: &str| {
        json!({
            "compose": base,
            "guid": "abc",
            "files": {"compose.prod.yaml": STANDARD.encode(prod)},
            "override_files": ["compose.prod.yaml"],
        })
    };
    let (status, body) = server
        .json(
            Method::POST,
            "/api/v1/compile",
            Some(ALICE),
            Some(request(&prod)),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let yaml = body["yaml"].as_str().unwrap();
    assert!(
        yaml.contains(&format!("image: {IMAGE}")) && !yaml.contains("base-image"),
        "{yaml}"
    );
    assert!(yaml.contains("name: MODE"), "{yaml}");
    let broken = "services:\n  web:\n    imgae: x\n";
    let (_, body) = server
        .json(
            Method::POST,
            "/api/v1/validate",
            Some(ALICE),
            Some(request(broken)),
        )
        .await;
    let finding = &body["diagnostics"][0];
    assert_eq!(finding["file"], "compose.prod.yaml", "{body}");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(3), Some(5))
    );
    cluster.cleanup().await;
}
