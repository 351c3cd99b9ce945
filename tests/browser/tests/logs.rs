//! The log pane of a system's page (issue 14, item 5): it opens on a container's log, follows
//! new lines live, switches container, downloads the log as a file, and explains a container
//! that never started in words. Runs on the fake Kubernetes API, or a real cluster with
//! `TYCHO_TEST_KUBECONFIG` (the containers print what the fake is told to answer).

use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_test_server::{
    ALICE, BAD_IMAGE, LOGGING_COMPOSE, TestCluster, TestServer, compose, make_bad_image_fail,
    ready_timeout, tokens, write_logger_lines,
};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_system_page_follows_and_downloads_a_log() {
    let cluster = TestCluster::start("browser-logs").await;
    make_bad_image_fail(&cluster);
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let guid = server.start_system(ALICE, LOGGING_COMPOSE, "chatty").await;
    server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == tycho_api::Phase::Running
        })
        .await;
    write_logger_lines(&cluster);
    let broken = server
        .start_system(ALICE, &compose(BAD_IMAGE), "broken")
        .await;

    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.type_into("#token", ALICE).await;
        b.click("form.sign-in button[type=submit]").await;
        b.client
            .goto(&format!("{base}/#/systems/{guid}"))
            .await
            .expect("the system's page");

        // It opens on the first container's log (no port, no crash: the first), following.
        let log = b.wait_text("#log", WAIT).await;
        b.wait_js(
            "const t = document.getElementById('log').textContent;
             return t.includes('one\\ntwo\\nthree\\n')",
            WAIT,
        )
        .await;
        assert!(!log.contains("tick"), "the logger's log only: {log:?}");
        let chosen = b
            .js("return document.getElementById('log-container').value")
            .await;
        assert_eq!(chosen, serde_json::json!("logger"));
        b.wait_js(
            "return document.querySelector('#log-state .live') !== null",
            WAIT,
        )
        .await;

        // Another container: its own lines, then a line written later arrives by itself.
        b.js("const s = document.getElementById('log-container');
              s.value = 'ticker'; s.dispatchEvent(new Event('change')); return true")
            .await;
        if let Some(fake) = &cluster.fake {
            // Give the stream time to open before the line is written, as the ticker would.
            tokio::time::sleep(Duration::from_millis(300)).await;
            fake.append_logs("ticker", &["tick"]);
        }
        b.wait_js(
            "return document.getElementById('log').textContent.includes('tick\\n')
                 && !document.getElementById('log').textContent.includes('three')",
            WAIT,
        )
        .await;
        b.scroll_to("section.logs").await;
        b.screenshot("55-log-pane-following").await;

        // Download: the file is named after the system and container and holds the log.
        b.js("window.__saved = null;
              const create = URL.createObjectURL;
              URL.createObjectURL = blob => { window.__saved = blob; return create(blob); };
              HTMLAnchorElement.prototype.click = function () { window.__savedName = this.download; };
              return true")
            .await;
        b.click("#log-download").await;
        b.wait_js("return window.__saved !== null", WAIT).await;
        let saved = b
            .js("return window.__saved.text().then(t => [window.__savedName, t])")
            .await;
        assert_eq!(saved[0], serde_json::json!("chatty-ticker.log"), "{saved}");
        assert!(
            saved[1].as_str().is_some_and(|t| t.contains("tick\n")),
            "{saved}"
        );

        // A container that never started: a sentence with the next step, not an empty box.
        b.client
            .goto(&format!("{base}/#/systems/{broken}"))
            .await
            .expect("the broken system's page");
        let state = b.wait_text("#log-state .refused", Duration::from_secs(180)).await;
        assert!(
            state.starts_with("No log yet: the container has not started"),
            "{state}"
        );
        // No empty box under the sentence.
        let shown = b
            .js("return document.getElementById('log').offsetHeight > 0")
            .await;
        assert_eq!(shown, serde_json::json!(false));
        b.scroll_to("section.logs").await;
        b.screenshot("56-log-pane-not-started").await;

        // Phone width: the controls wrap, nothing overflows sideways.
        b.client.set_window_size(390, 844).await.expect("resize");
        let overflow = b
            .js("return document.documentElement.scrollWidth > document.documentElement.clientWidth")
            .await;
        assert_eq!(overflow, serde_json::json!(false), "horizontal overflow");
        b.scroll_to("section.logs").await;
        b.screenshot("57-log-pane-phone").await;
    })
    .await;

    server.delete_gone(ALICE, &guid).await;
    server.delete_gone(ALICE, &broken).await;
    cluster.cleanup().await;
}
