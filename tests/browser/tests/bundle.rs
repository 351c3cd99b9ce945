//! A project folder uploaded in the dashboard (issue 13): its compose file fills the editor, its
//! `.env` the variables, and the files it names are listed and sent; a file taken away is said
//! missing, with the error at its line, until it is chosen again where the compose file expects
//! it; the launch creates the system with its ConfigMap and Secret. Runs on the fake Kubernetes
//! API, or a real cluster with `TYCHO_TEST_KUBECONFIG`.

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::Api;
use std::path::PathBuf;
use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_test_server::{ALICE, IMAGE, TestCluster, TestServer, tokens};

const WAIT: Duration = Duration::from_secs(20);
const POD_WAIT: Duration = Duration::from_secs(180);
const TOKEN: &str = "not-a-real-token-5e1b";

/// A project as people keep one: the compose file, `.env`, a site folder, an env file, a secret.
fn project() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tycho-browser-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir = dir.join("welcome-site");
    let files = [
        (
            "docker-compose.yaml",
            format!(
                "services:\n  web:\n    image: {IMAGE}\n    ports: [\"8080:8080\"]\n    env_file: ./web.env\n    environment:\n      TITLE: ${{TITLE}}\n    volumes:\n      - ./site:/usr/share/nginx/html:ro\n    secrets: [api_token]\nsecrets:\n  api_token:\n    file: ./secrets/token.txt\n"
            ),
        ),
        (".env", "TITLE=Welcome # shown on the page\n".to_string()),
        ("web.env", "GREETING=hello\n".to_string()),
        ("site/index.html", "<h1>Welcome</h1>\n".to_string()),
        ("secrets/token.txt", TOKEN.to_string()),
    ];
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_project_folder_uploads_lists_its_files_and_launches() {
    let cluster = TestCluster::start("browser-bundle").await;
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let folder = project();
    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.type_into("#token", ALICE).await;
        b.click("form.sign-in button[type=submit]").await;
        b.wait_text(".account .user", WAIT).await;

        b.choose_file("#upload-folder", &folder).await;
        b.wait_js(
            "return document.getElementById('compose').value.includes('api_token')",
            WAIT,
        )
        .await;
        // The folder's name is the system's, .env filled the variables, the rest is listed.
        assert_eq!(
            b.js("return document.getElementById('system-name').value")
                .await,
            serde_json::json!("welcome-site")
        );
        assert_eq!(
            b.js("return document.querySelector('input[data-var=TITLE]').value")
                .await,
            serde_json::json!("Welcome")
        );
        b.wait_js(
            "return document.querySelectorAll('#sent-files li').length === 3",
            WAIT,
        )
        .await;
        let sent = b
            .js("return [...document.querySelectorAll('#sent-files li')].map(l => l.dataset.file)")
            .await;
        assert_eq!(
            sent,
            serde_json::json!(["secrets/token.txt", "site/index.html", "web.env"])
        );
        assert_eq!(
            b.js("return document.getElementById('missing-files')")
                .await,
            serde_json::Value::Null
        );
        assert_eq!(b.wait_text("#summary", WAIT).await, "No problems");
        // The preview shows the Secret by its size, never its value.
        let preview = b.js("return document.body.innerText").await;
        assert!(!preview.as_str().unwrap_or_default().contains(TOKEN));
        b.scroll_to("#files").await;
        b.screenshot("50-folder-uploaded").await;

        // Take web.env away: it is missing, and the editor says so at its line.
        b.click("#sent-files li[data-file='web.env'] button").await;
        b.wait_text("#missing-files li[data-missing='web.env']", WAIT)
            .await;
        let problems = b.wait_text("#diagnostics", WAIT).await;
        assert!(
            problems.contains("env_file `./web.env` was not sent"),
            "{problems}"
        );
        b.scroll_to("#files").await;
        b.screenshot("51-file-missing").await;
        // Choose it again where the compose file expects it.
        b.choose_file("input[data-for='web.env']", &folder.join("web.env"))
            .await;
        b.wait_js(
            "return document.getElementById('missing-files') === null",
            WAIT,
        )
        .await;
        assert_eq!(b.wait_text("#summary", WAIT).await, "No problems");

        b.click("#launch").await;
        b.wait_text("#launched", WAIT).await;
        b.wait_js(
            "const r = document.querySelector('tr[data-guid]');
             return r !== null && r.dataset.phase === 'running'",
            POD_WAIT,
        )
        .await;
        b.scroll_to(".systems").await;
        b.screenshot("52-folder-launched").await;
    })
    .await;

    // The cluster got the files and the secret, under the system's own names.
    let config_maps: Api<ConfigMap> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let secrets: Api<Secret> = Api::namespaced(cluster.client.clone(), &cluster.namespace);
    let lp = kube::api::ListParams::default()
        .labels(&format!("{}=alice", tycho_compiler::labels::USERNAME));
    let files = config_maps.list(&lp).await.unwrap().items;
    assert_eq!(files.len(), 1);
    assert_eq!(
        files[0].data.as_ref().unwrap()["site_index.html"],
        "<h1>Welcome</h1>\n"
    );
    let secret = secrets
        .get(
            &files[0]
                .metadata
                .name
                .clone()
                .unwrap()
                .replace("-files", "-secrets"),
        )
        .await
        .unwrap();
    assert_eq!(
        secret.data.unwrap()["secrets_token.txt"].0,
        TOKEN.as_bytes()
    );
    let _ = std::fs::remove_dir_all(folder.parent().unwrap());
    cluster.cleanup().await;
}
