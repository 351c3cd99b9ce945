//! The compat API (`/system/start`, `/system/status`, `/system/delete`): the original's
//! envelopes and key sets are the point, so these tests read raw JSON.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tycho_test_server::*;

#[tokio::test]
async fn compat_endpoints_answer_with_the_original_shapes() {
    let cluster = TestCluster::start("server-compat").await;
    let s = TestServer::on(&cluster).await;
    let system = json!({
        "version": "3",
        "services": {"web": {"image": IMAGE, "ports": ["8080:8080"]}}
    });
    let (code, body) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ADMIN),
            Some(json!({
                "name": "jupyter",
                "principal": "{\"username\": \"carol\", \"access_token\": \"x\"}",
                "serviceaccount": null,
                "env": {"HOST_PORT": "8080"},
                "system": system,
                "services": {"web": {"port": "8080", "clients": ["10.1.0.0/16"]}}
            })),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert_eq!(body["status"], "success");
    assert!(body["message"].as_str().unwrap().contains("jupyter"));
    let result = &body["result"];
    let keys: Vec<&str> = result
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["conn_string", "containers", "name", "sid"]);
    assert_eq!(result["name"], "jupyter");
    let sid = result["sid"].as_str().unwrap().to_string();
    // Proxy mode (the default): the absolute connect URL, at the Host the server was reached by.
    assert_eq!(result["conn_string"], format!("{}/connect/{sid}/", s.base));
    let web = result["containers"]["web"]
        .as_object()
        .expect("container entry");
    assert!(web.contains_key("ip_address"));
    assert_eq!(web.len(), 2, "ip_address and one port: {web:?}");

    for request in [
        json!({}),
        json!({"name": sid}),
        json!({"username": "carol"}),
    ] {
        let (code, body) = s
            .json(
                Method::POST,
                "/system/status",
                Some(ADMIN),
                Some(request.clone()),
            )
            .await;
        assert_eq!(code, StatusCode::OK);
        assert_eq!(body["status"], "success");
        let items = body["result"].as_array().unwrap();
        let item = items
            .iter()
            .find(|i| i["sid"] == sid)
            .unwrap_or_else(|| panic!("{request}: {body}"));
        let mut keys: Vec<&str> = item
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort();
        assert_eq!(
            keys,
            [
                "app_id",
                "creation_time",
                "ip_address",
                "is_ready",
                "name",
                "port",
                "sid",
                "username",
                "utilization",
                "workspace_name"
            ]
        );
        assert_eq!(item["username"], "carol");
        assert_eq!(item["app_id"], "jupyter");
        assert_eq!(item["port"], "8080");
        assert!(item["is_ready"].is_boolean());
        assert!(item["utilization"]["web"].is_object());
        assert_eq!(
            item["creation_time"].as_str().unwrap().matches('-').count(),
            2
        );
    }

    let (code, body) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(ADMIN),
            Some(json!({"name": sid})),
        )
        .await;
    assert_eq!(code, StatusCode::OK);
    assert_eq!(body["status"], "success");
    let (code, _) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(ADMIN),
            Some(json!({"name": sid})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "deleting twice is fine");

    // Errors keep the envelope, with a real code.
    let (code, body) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ADMIN),
            Some(json!({"name": "bad", "principal": "{}", "system": {"services": {"web": {"ports": ["x"]}}}})),
        )
        .await;
    assert_eq!(code, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["status"], "error");
    assert!(body["result"]["error"].is_string());
    assert!(body["message"].is_string());
    let (code, body) = s
        .json(Method::POST, "/system/status", None, Some(json!({})))
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], "error");
    // A non-admin may not start for someone else.
    let (code, _) = s
        .json(
            Method::POST,
            "/system/start",
            Some(ALICE),
            Some(json!({"name": "x", "principal": "{\"username\": \"bob\"}", "system": system})),
        )
        .await;
    assert_eq!(code, StatusCode::FORBIDDEN);
    cluster.cleanup().await;
}

/// `conn_string` is where users open the system: the connect URL under `--public-url` in proxy
/// mode, the original's `/private/<app>/<user>/<guid>/` in ambassador mode, the Service URL
/// when Tycho offers no way in (`connect.mode: none`).
#[tokio::test]
async fn compat_conn_string_follows_the_connect_mode() {
    let cluster = TestCluster::start("server-compat-conn-string").await;
    let start = json!({
        "name": "jupyter",
        "principal": "{\"username\": \"carol\"}",
        "system": {"services": {"web": {"image": IMAGE, "ports": ["8080:8080"]}}},
    });
    let mut proxy = settings(&cluster);
    proxy.connect.public_url = Some("https://tycho.example.org".into());
    let mut ambassador = settings(&cluster);
    ambassador.policy.connect.mode = tycho_compiler::ConnectMode::Ambassador;
    let mut none = settings(&cluster);
    none.policy.connect.mode = tycho_compiler::ConnectMode::None;
    for (settings, expected) in [
        (proxy, "https://tycho.example.org/connect/{sid}/"),
        (ambassador, "/private/jupyter/carol/{sid}/"),
        (none, "http://jupyter-{sid}."),
    ] {
        let s = TestServer::start(&cluster, settings).await;
        let (code, body) = s
            .json(
                Method::POST,
                "/system/start",
                Some(ADMIN),
                Some(start.clone()),
            )
            .await;
        assert_eq!(code, StatusCode::OK, "{body}");
        let sid = body["result"]["sid"].as_str().unwrap();
        let conn = body["result"]["conn_string"].as_str().unwrap();
        let expected = expected.replace("{sid}", sid);
        assert!(conn.starts_with(&expected), "{conn} is not {expected}…");
        s.delete_gone(ADMIN, sid).await;
    }
    cluster.cleanup().await;
}
