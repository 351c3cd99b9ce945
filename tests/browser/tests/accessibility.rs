//! The dashboard for people who use a keyboard, a screen reader or a phone: a launch and a delete
//! with Tab, Enter and Space only; axe-core (npm, `scripts/install.sh axe-core`) run on every
//! view, failing on serious and critical violations; and every view at phone width without
//! horizontal scrolling, its content first. Screenshots go to `artifacts/browser/`.

use fantoccini::key::Key;
use std::path::PathBuf;
use std::time::Duration;
use tycho_browser_tests::{Browser, settings, with_browser};
use tycho_test_server::{
    ADMIN, BAD_IMAGE, BOB, TestCluster, TestServer, compose, make_bad_image_fail, tokens,
};

const WAIT: Duration = Duration::from_secs(20);
/// For a pod to become ready or go away (longer on a real cluster, as in dashboard.rs).
const POD_WAIT: Duration = Duration::from_secs(180);
/// A phone (an iPhone 12–15's CSS pixels).
const PHONE: (u32, u32) = (390, 844);
const DESKTOP: (u32, u32) = (1280, 800);
/// Most Tab presses to reach one control before the test says it cannot be reached.
const MAX_TABS: usize = 120;

/// axe-core's browser build, where scripts/install.sh puts it (beside binaryen).
fn axe_source() -> String {
    let tools = std::env::var_os("TYCHO_TOOLS_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache/tycho-tools"))
        })
        .expect("HOME or TYCHO_TOOLS_DIR");
    let path = tools.join("node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "axe-core is not installed ({}: {e}): run scripts/install.sh axe-core",
            path.display()
        )
    })
}

/// Runs axe-core on the page as it is and fails on serious or critical violations, listing
/// each with its help text and the elements it found. Loaded with `execute` (never from a
/// CDN), so the page's own Content-Security-Policy stays as it is.
async fn assert_accessible(b: &Browser, view: &str, axe: &str) {
    let loaded = format!("{axe}\n;return typeof window.axe === 'object';");
    assert_eq!(
        b.js(&loaded).await,
        serde_json::json!(true),
        "axe-core did not load"
    );
    let violations = b
        .client
        .execute_async(
            "const done = arguments[0];
             axe.run(document, { resultTypes: ['violations'] })
               .then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => ({ id: v.id, impact: v.impact, help: v.help,
                                nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ': ' + n.failureSummary) }))),
                     e => done([{ id: 'axe-error', help: String(e), nodes: [] }]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    let list = violations.as_array().cloned().unwrap_or_default();
    assert!(
        list.is_empty(),
        "{view}: {} serious or critical accessibility violations:\n{}",
        list.len(),
        serde_json::to_string_pretty(&violations).unwrap_or_default()
    );
}

/// Presses Tab (or Shift+Tab) until the focused element matches `css`, as a keyboard user
/// moving through the page; fails when it is not reached.
async fn tab_to(b: &Browser, css: &str, backwards: bool) {
    let matches = format!(
        "return document.activeElement !== null && document.activeElement.matches({})",
        serde_json::Value::String(css.to_string())
    );
    let key = if backwards {
        Key::Shift + &Key::Tab
    } else {
        Key::Tab.to_string()
    };
    for _ in 0..MAX_TABS {
        if b.js(&matches).await == serde_json::json!(true) {
            return;
        }
        press(b, &key).await;
    }
    let focused = b
        .js("const e = document.activeElement; return e ? e.outerHTML.slice(0, 200) : null")
        .await;
    panic!("{css} is not reachable with the keyboard (focus ends on {focused})");
}

/// Presses `keys` in order on the keyboard (WebDriver key actions, as a person would: sent to
/// whatever has the focus, a file input too); a modifier such as Shift is held until the end.
async fn press(b: &Browser, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let modifiers = [char::from(Key::Shift)];
    let mut actions = KeyActions::new("keyboard".into());
    let mut held = Vec::new();
    for key in keys.chars() {
        actions = actions.then(KeyAction::Down { value: key });
        if modifiers.contains(&key) {
            held.push(key);
        } else {
            actions = actions.then(KeyAction::Up { value: key });
        }
    }
    for key in held.into_iter().rev() {
        actions = actions.then(KeyAction::Up { value: key });
    }
    b.client.perform_actions(actions).await.expect("press keys");
}

/// The focused element shows where it is: an outline or a box shadow, not nothing.
async fn assert_focus_visible(b: &Browser, what: &str) {
    let shown = b
        .js("const e = document.activeElement; if (!e || e === document.body) return 'nothing focused';
             const s = getComputedStyle(e), f = e.closest('.editor, .card.upload, .files .choose');
             const own = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
             const around = f !== null && getComputedStyle(f).boxShadow !== 'none';
             return own || around ? 'shown' : e.outerHTML.slice(0, 160)")
        .await;
    assert_eq!(
        shown,
        serde_json::json!("shown"),
        "no visible focus on {what}"
    );
}

/// Every control has a name a screen reader can say (axe checks this too; this says which).
async fn assert_every_control_labelled(b: &Browser, view: &str) {
    let unnamed = b
        .js(
            "const named = e => (e.labels && e.labels.length > 0) || e.getAttribute('aria-label')
                 || e.getAttribute('aria-labelledby') || e.getAttribute('title')
                 || (e.tagName !== 'INPUT' && e.tagName !== 'SELECT' && e.tagName !== 'TEXTAREA'
                     && e.textContent.trim() !== '');
             return [...document.querySelectorAll('button, input, select, textarea, a[href]')]
                 .filter(e => e.offsetParent !== null && e.type !== 'hidden' && !named(e))
                 .map(e => e.outerHTML.slice(0, 160))",
        )
        .await;
    assert_eq!(
        unnamed,
        serde_json::json!([]),
        "{view}: controls without a label"
    );
}

/// At phone width: no horizontal scrolling, and the view's own content starts within the
/// first screen (not pushed below it by the header and banners).
async fn assert_fits_a_phone(b: &Browser, view: &str, content: &str) {
    let fits = b
        .js("return document.documentElement.scrollWidth <= window.innerWidth")
        .await;
    let widths = b
        .js("return [document.documentElement.scrollWidth, window.innerWidth]")
        .await;
    assert_eq!(
        fits,
        serde_json::json!(true),
        "{view}: horizontal overflow {widths}"
    );
    let top = b
        .js(&format!(
            "window.scrollTo(0, 0); const e = document.querySelector({});
             return e === null ? null : e.getBoundingClientRect().top",
            serde_json::Value::String(content.to_string())
        ))
        .await;
    assert!(
        top.as_f64().is_some_and(|t| t < f64::from(PHONE.1) / 2.0),
        "{view}: its content ({content}) starts at {top}px, below the first half of a phone's screen"
    );
}

async fn resize(b: &Browser, (width, height): (u32, u32)) {
    b.client
        .set_window_size(width, height)
        .await
        .expect("resize the window");
}

/// Launch and delete with the keyboard only; axe-core and a phone's width on each view.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyboard_only_launch_and_delete_on_accessible_views() {
    let cluster = TestCluster::start("browser-a11y").await;
    if let Some(fake) = &cluster.fake {
        fake.set_ready_delay(Duration::from_secs(2));
    }
    let server = TestServer::start(&cluster, settings(&cluster.namespace)).await;
    let base = server.base.clone();
    let axe = axe_source();
    with_browser(async |b: &Browser| {
        resize(b, DESKTOP).await;
        b.open(&base).await;
        b.wait_js(
            "return document.getElementById('feed') !== null
                 && document.getElementById('feed').textContent === 'live'",
            WAIT,
        )
        .await;

        // The first screen says what Tycho is for and what to do first, as numbered steps.
        let intro = b.wait_text("#intro-h", WAIT).await;
        assert!(intro.contains("docker-compose"), "{intro}");
        let steps = b
            .js("return [...document.querySelectorAll('.steps li')].map(l => l.textContent)")
            .await;
        assert_eq!(steps.as_array().map(Vec::len), Some(3), "{steps}");
        b.screenshot("70-first-screen").await;
        assert_accessible(b, "the workbench", &axe).await;
        assert_every_control_labelled(b, "the workbench").await;

        // 1. A card, with Tab and Enter; the editor comes into view.
        tab_to(b, "button.card[data-slug=nginx]", false).await;
        assert_focus_visible(b, "a catalog card").await;
        press(b, &Key::Enter).await;
        b.wait_js(
            "return document.querySelector('button.card[data-slug=nginx]').getAttribute('aria-pressed') === 'true'",
            WAIT,
        )
        .await;
        // 2. The editor takes the keyboard (Tab leaves it: it does not type a tab).
        tab_to(b, "#compose", false).await;
        assert_focus_visible(b, "the editor").await;
        // 3. A name, then Launch with Space.
        tab_to(b, "#system-name", false).await;
        assert_focus_visible(b, "the name field").await;
        press(b, "keyboard-demo").await;
        tab_to(b, "#launch", false).await;
        assert_focus_visible(b, "Launch").await;
        press(b, " ").await;
        let launched = b.wait_text("#launched", WAIT).await;
        assert!(launched.starts_with("Starting keyboard-demo"), "{launched}");
        b.wait_js(
            "const r = document.querySelector('tr[data-guid]');
             return r !== null && r.dataset.phase === 'running'",
            POD_WAIT,
        )
        .await;
        b.screenshot("71-keyboard-launched").await;

        // My systems, its own view, reached from the header with Shift+Tab and Enter.
        tab_to(b, "#nav-systems", true).await;
        assert_focus_visible(b, "the My systems link").await;
        press(b, &Key::Enter).await;
        b.wait_js(
            "return location.hash === '#/systems'
                 && document.querySelector('.workbench').hidden
                 && document.getElementById('nav-systems').getAttribute('aria-current') === 'page'",
            WAIT,
        )
        .await;
        b.screenshot("72-my-systems").await;
        assert_accessible(b, "My systems", &axe).await;
        assert_every_control_labelled(b, "My systems").await;

        // The system's page with Tab and Enter, checked too; then back.
        tab_to(b, "tr[data-guid] a.name", false).await;
        press(b, &Key::Enter).await;
        b.wait_text("#plain-status", WAIT).await;
        b.screenshot("73-system-page").await;
        assert_accessible(b, "the system page", &axe).await;
        assert_every_control_labelled(b, "the system page").await;
        // Back to where it was opened from, with Shift+Tab and Enter.
        tab_to(b, "a.back", true).await;
        // It names the view it goes back to (All systems for an admin, as this user is).
        assert_eq!(
            b.js("return document.activeElement.textContent === '← ' + document.getElementById('systems-h').textContent")
                .await,
            serde_json::json!(true)
        );
        press(b, &Key::Enter).await;
        b.wait_js(
            "return document.querySelector('.system-page') === null && location.hash === '#/systems'
                 && document.activeElement.matches('tr[data-guid] a.name')",
            WAIT,
        )
        .await;

        // Phone width: every view fits, its content first.
        resize(b, PHONE).await;
        assert_fits_a_phone(b, "My systems", "#systems-h").await;
        b.screenshot("74-phone-my-systems").await;
        b.client
            .goto(&format!("{base}/#/"))
            .await
            .expect("the workbench");
        b.wait_js("return !document.querySelector('.workbench').hidden", WAIT)
            .await;
        assert_fits_a_phone(b, "the workbench", "#intro-h").await;
        b.screenshot("75-phone-workbench").await;
        b.js("document.getElementById('editor-h').scrollIntoView(); return true")
            .await;
        b.screenshot("76-phone-editor").await;
        b.js("document.getElementById('launch-h').scrollIntoView(); return true")
            .await;
        b.screenshot("77-phone-launch").await;
        let guid = b
            .js("return document.querySelector('tr[data-guid]').dataset.guid")
            .await;
        let guid = guid.as_str().unwrap_or_default().to_string();
        b.client
            .goto(&format!("{base}/#/systems/{guid}"))
            .await
            .expect("the system page");
        b.wait_text("#plain-status", WAIT).await;
        assert_fits_a_phone(b, "the system page", "#system-h").await;
        b.screenshot("78-phone-system-page").await;
        assert_accessible(b, "the system page on a phone", &axe).await;
        b.client
            .goto(&format!("{base}/#/systems"))
            .await
            .expect("My systems");
        b.wait_text("tr[data-guid]", WAIT).await;
        resize(b, DESKTOP).await;

        // Delete with the keyboard: Tab to Delete, Space, then Enter on the confirmation.
        b.js("window.scrollTo(0, 0); document.activeElement && document.activeElement.blur(); return true")
            .await;
        tab_to(b, "tr[data-guid] button.delete", false).await;
        assert_focus_visible(b, "Delete").await;
        press(b, " ").await;
        b.wait_js(
            "return document.activeElement !== null && document.activeElement.classList.contains('confirm-yes')",
            WAIT,
        )
        .await;
        assert_focus_visible(b, "the delete confirmation").await;
        b.screenshot("79-keyboard-confirm-delete").await;
        assert_accessible(b, "the delete confirmation", &axe).await;
        press(b, &Key::Enter).await;
        b.wait_js("return document.querySelector('tr[data-guid]') === null", POD_WAIT)
            .await;
        b.wait_text("#no-systems", WAIT).await;
    })
    .await;
    cluster.cleanup().await;
}

/// Without a cluster (the first thing many see): the banner, an error in the editor, the
/// variables table: accessible, and fitting a phone with the content first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_visit_without_a_cluster_is_accessible_on_a_phone() {
    let server = TestServer::without_cluster(settings("default")).await;
    let base = server.base.clone();
    let axe = axe_source();
    with_browser(async |b: &Browser| {
        resize(b, PHONE).await;
        b.open(&base).await;
        b.wait_text("#no-cluster", WAIT).await;
        assert_fits_a_phone(b, "the workbench without a cluster", "#intro-h").await;
        b.screenshot("80-phone-no-cluster").await;
        assert_accessible(b, "the workbench without a cluster", &axe).await;

        // An error and a required variable: the diagnostics and the table, checked too.
        b.type_into(
            "#compose",
            "services:\n  web:\n    image: ${IMAGE:?name the image}\n    ports:\n      - eighty\n",
        )
        .await;
        b.wait_text("li.diag.error", WAIT).await;
        b.wait_text("tr[data-var-row=IMAGE] .required-note", WAIT)
            .await;
        assert_fits_a_phone(b, "the editor with errors", "#intro-h").await;
        b.js("document.getElementById('diagnostics').scrollIntoView(); return true")
            .await;
        b.screenshot("81-phone-errors").await;
        assert_accessible(b, "the editor with errors", &axe).await;
        assert_every_control_labelled(b, "the editor with errors").await;

        b.client
            .goto(&format!("{base}/#/systems"))
            .await
            .expect("My systems");
        b.wait_text("#no-systems", WAIT).await;
        assert_fits_a_phone(b, "My systems without a cluster", "#systems-h").await;
        b.screenshot("82-phone-my-systems-empty").await;
        assert_accessible(b, "My systems without a cluster", &axe).await;

        // The dark theme (prefers-color-scheme) passes the same checks.
        b.emulate_media("prefers-color-scheme", "dark").await;
        assert_eq!(
            b.js("return matchMedia('(prefers-color-scheme: dark)').matches")
                .await,
            serde_json::json!(true)
        );
        b.screenshot("83-phone-my-systems-dark").await;
        assert_accessible(b, "My systems, dark", &axe).await;
        b.client
            .goto(&format!("{base}/#/"))
            .await
            .expect("the workbench");
        b.wait_text("li.diag.error", WAIT).await;
        b.screenshot("84-phone-editor-dark").await;
        assert_accessible(b, "the editor with errors, dark", &axe).await;
    })
    .await;
}

/// Signed out (the sign-in form), then an admin with a failed system: the filters, the owner
/// column and the failed system's page with its folded details pass the same checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_and_a_failed_system_are_accessible() {
    let cluster = TestCluster::start("browser-a11y-failed").await;
    make_bad_image_fail(&cluster);
    let mut settings = settings(&cluster.namespace);
    settings.auth = tokens();
    let server = TestServer::start(&cluster, settings).await;
    let base = server.base.clone();
    let broken = server
        .start_system(BOB, &compose(BAD_IMAGE), "broken")
        .await;
    server
        .wait_until(BOB, &broken, POD_WAIT, |s| {
            s.phase == tycho_api::Phase::Failed
        })
        .await;
    let axe = axe_source();
    with_browser(async |b: &Browser| {
        resize(b, DESKTOP).await;
        b.open(&base).await;
        b.wait_text("form.sign-in", WAIT).await;
        assert_accessible(b, "signed out", &axe).await;
        assert_every_control_labelled(b, "signed out").await;

        // Sign in with the keyboard: Tab to the token, type it, Enter.
        tab_to(b, "#token", false).await;
        assert_focus_visible(b, "the token field").await;
        press(b, ADMIN).await;
        press(b, &Key::Enter).await;
        b.wait_js(
            "return document.querySelectorAll('tr[data-guid]').length === 1",
            WAIT,
        )
        .await;
        b.client
            .goto(&format!("{base}/#/systems"))
            .await
            .expect("All systems");
        b.wait_text("button.filter[data-filter=failed]", WAIT).await;
        b.screenshot("85-admin-all-systems").await;
        assert_accessible(b, "All systems, as an admin", &axe).await;
        assert_every_control_labelled(b, "All systems, as an admin").await;

        b.client
            .goto(&format!("{base}/#/systems/{broken}"))
            .await
            .expect("the failed system's page");
        b.wait_text("#plain-status", WAIT).await;
        b.wait_text("#kube-events", POD_WAIT).await;
        b.screenshot("86-failed-system-page").await;
        assert_accessible(b, "a failed system's page", &axe).await;
        resize(b, PHONE).await;
        assert_fits_a_phone(b, "a failed system's page", "#system-h").await;
        b.screenshot("87-phone-failed-system-page").await;
    })
    .await;
    server.delete_gone(BOB, &broken).await;
    cluster.cleanup().await;
}
