//! The launcher's limits in the dashboard (issue 14, items 3 and 4): the user's quota beside
//! Launch, a launch the quota would refuse stopped before it is sent (with the reason), and the
//! warning before an idle cull with the button that keeps the system running. Time is the
//! server's injected clock, not slept. Runs on the fake Kubernetes API, or a real cluster with
//! `TYCHO_TEST_KUBECONFIG`.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_server::lifetime::ManualClock;
use tycho_test_server::{ALICE, IMAGE, TestCluster, TestServer, compose, ready_timeout, tokens};

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quota_stops_a_launch_before_sending_and_a_keepalive_postpones_a_cull() {
    let cluster = TestCluster::start("browser-launcher").await;
    let clock = ManualClock::new(Timestamp::now());
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    // Room for one small system (the catalog's nginx asks for 0.25 CPU).
    settings.policy = tycho_compiler::parse_policy(
        "quota: {cpu: 300m}\nlifetime: {idle_timeout: 1h, warn_before: 10m}\n",
    )
    .expect("a policy");
    settings.clock = clock.clone();
    settings.lifetime_interval = None;
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let guid = server.start_system(ALICE, &compose(IMAGE), "idle").await;
    server
        .wait_until(ALICE, &guid, ready_timeout(&cluster), |s| {
            s.phase == tycho_api::Phase::Running
        })
        .await;

    with_browser(async |b: &Browser| {
        b.open(&base).await;
        b.type_into("#token", ALICE).await;
        b.click("form.sign-in button[type=submit]").await;
        // What is used of the quota, beside Launch; the catalog's nginx would go over it.
        let quota = b.wait_text("#quota", WAIT).await;
        assert!(quota.starts_with("Your quota: you use "), "{quota}");
        assert!(quota.contains("CPU"), "{quota}");
        b.click("button.card[data-slug=nginx]").await;
        b.wait_js(
            "return document.getElementById('launch-why').textContent.startsWith('Over your quota: ')
                 && document.getElementById('launch').disabled",
            WAIT,
        )
        .await;
        b.scroll_to(".launch").await;
        b.screenshot("62-over-quota").await;

        // Fifty minutes idle: the system's page warns and offers to keep it running.
        let created: Timestamp = server
            .client(ALICE)
            .get(&guid)
            .await
            .expect("the status")
            .created
            .parse()
            .expect("a creation time");
        clock.set(created + SignedDuration::from_mins(52));
        server
            .state
            .lifetimes()
            .expect("the policy sets a lifetime")
            .round()
            .await
            .expect("a round");
        b.client
            .goto(&format!("{base}/#/systems/{guid}"))
            .await
            .expect("the system's page");
        let warning = b.wait_text("#cull-warning", WAIT).await;
        assert!(!warning.is_empty(), "{warning}");
        b.wait_text("#keepalive", WAIT).await;
        b.screenshot("63-cull-warning").await;
        b.click("#keepalive").await;
        b.wait_js("return document.getElementById('cull-warning') === null", WAIT)
            .await;
    })
    .await;

    server.delete_gone(ALICE, &guid).await;
    cluster.cleanup().await;
}
