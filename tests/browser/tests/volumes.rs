//! Volumes in the dashboard (issue 14, item 1): a system's delete asks whether its data goes
//! too and says how much, in which volumes; kept volumes are listed under "My volumes" with the
//! system they came from, and deleted from there. Runs on the fake Kubernetes API, or a real
//! cluster with `TYCHO_TEST_KUBECONFIG`.

use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_test_server::{ALICE, IMAGE, TestCluster, TestServer, ready_timeout, tokens};

const WAIT: Duration = Duration::from_secs(20);
/// For a system's pods to go: seconds on the fake, a grace period on a real cluster.
const GONE_WAIT: Duration = Duration::from_secs(180);

fn with_volume() -> String {
    format!(
        "services:\n  web:\n    image: {IMAGE}\n    volumes:\n      - data:/data\nvolumes:\n  data: {{}}\n"
    )
}

/// Deletes the system named `name` from its row, with or without its data.
async fn delete_row(b: &Browser, name: &str, with_data: bool) {
    let row = format!(
        "[...document.querySelectorAll('tr[data-guid]')].find(r => r.textContent.includes('{name}'))"
    );
    // The list may render after the volumes (two answers, either first).
    b.wait_js(&format!("return {row} !== undefined"), WAIT)
        .await;
    b.js(&format!(
        "{row}.querySelector('button.delete').click(); return true"
    ))
    .await;
    b.wait_js(
        &format!("const r = {row}; return r.querySelector('.with-data') !== null"),
        WAIT,
    )
    .await;
    let offer = b
        .js(&format!(
            "return {row}.querySelector('.with-data').textContent"
        ))
        .await;
    assert!(
        offer
            .as_str()
            .is_some_and(|t| t.contains("Also delete its data: 1 volume (data), ")),
        "{offer}"
    );
    if with_data {
        b.js(&format!(
            "{row}.querySelector('input.delete-data').click(); return true"
        ))
        .await;
    }
    b.js(&format!(
        "{row}.querySelector('button.confirm-yes').click(); return true"
    ))
    .await;
    b.wait_js(&format!("return {row} === undefined"), GONE_WAIT)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_keeps_the_data_unless_asked_and_kept_volumes_are_listed() {
    let cluster = TestCluster::start("browser-volumes").await;
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let kept = server.start_system(ALICE, &with_volume(), "keeper").await;
    let dropped = server.start_system(ALICE, &with_volume(), "dropper").await;
    for guid in [&kept, &dropped] {
        server
            .wait_until(ALICE, guid, ready_timeout(&cluster), |s| {
                s.phase == tycho_api::Phase::Running
            })
            .await;
    }

    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.type_into("#token", ALICE).await;
        b.click("form.sign-in button[type=submit]").await;
        // My volumes is part of My systems' own view.
        b.click("#nav-systems").await;
        // Both systems' volumes are listed, in use by them.
        b.wait_js(
            "return [...document.querySelectorAll('#volumes tr[data-volume]')]
                 .filter(r => r.textContent.includes('in use by')).length === 2",
            WAIT,
        )
        .await;

        // Deleted without its data: the volume stays, said kept, and can be deleted.
        delete_row(b, "keeper", false).await;
        b.wait_js(
            &format!(
                "const r = document.querySelector('#volumes tr[data-volume$=\"{kept}\"]');
                 return r !== null && r.textContent.includes('kept after its system was deleted')
                     && r.textContent.includes('keeper') && r.querySelector('button.delete') !== null"
            ),
            WAIT,
        )
        .await;
        b.scroll_to("section.volumes").await;
        b.screenshot("60-volume-kept").await;

        // Deleted with its data: its volume goes with it.
        delete_row(b, "dropper", true).await;
        b.wait_js(
            &format!(
                "return document.querySelector('#volumes tr[data-volume$=\"{dropped}\"]') === null"
            ),
            GONE_WAIT,
        )
        .await;

        // The kept one, deleted from the list after a confirmation.
        let row = format!("document.querySelector('#volumes tr[data-volume$=\"{kept}\"]')");
        b.js(&format!("{row}.querySelector('button.delete').click(); return true"))
            .await;
        b.wait_js(&format!("return {row}.querySelector('button.confirm-yes') !== null"), WAIT)
            .await;
        b.screenshot("61-volume-delete-confirm").await;
        b.js(&format!("{row}.querySelector('button.confirm-yes').click(); return true"))
            .await;
        b.wait_text("#no-volumes", GONE_WAIT).await;
    })
    .await;

    cluster.cleanup().await;
}
