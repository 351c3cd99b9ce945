//! The package in real headless Chromium (through the demo page, as another portal embeds it):
//! the same manifests and diagnostics as natively, errors shown as you type, misuse throws.
//!
//! Needs `scripts/install-tools.sh` (chromium, chromium-driver) and `scripts/build-wasm.sh` first;
//! fails, never skips, without them. `TYCHO_CLI=path/to/tycho` also compares with the CLI's output.

mod common;

use common::{Demo, Input, inputs, with_demo};
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::Duration;
use tycho_compiler::CompileOptions;

const GUID: &str = "abc123";

fn options(input: &Input, guid: &str) -> CompileOptions {
    CompileOptions {
        name: input.name.clone(),
        guid: guid.into(),
        env: input.env.clone(),
        ..Default::default()
    }
}

/// Compiles and validates `input` in the browser and natively; panics on any difference.
/// Returns whether it compiled.
async fn compare(browser: &Demo<'_>, input: &Input) -> bool {
    let what = input.file.display();
    let compile_options = options(input, GUID);
    let validate_options = options(input, "");
    let native = tycho_compiler::compile(&input.text, &compile_options);
    let wasm = browser
        .call(
            "compile",
            vec![
                json!(input.text),
                serde_json::to_value(&compile_options).unwrap(),
            ],
        )
        .await;
    assert_eq!(
        wasm["diagnostics"],
        serde_json::to_value(&native.diagnostics).unwrap(),
        "{what}: compile diagnostics differ"
    );
    assert_eq!(
        wasm["ok"],
        json!(native.plan.is_some()),
        "{what}: ok differs"
    );
    if let Some(plan) = &native.plan {
        assert_eq!(
            wasm["yaml"].as_str().unwrap_or_default(),
            plan.to_yaml(),
            "{what}: YAML differs"
        );
        assert_eq!(
            wasm["objects"],
            json!(plan.to_json_objects()),
            "{what}: objects differ"
        );
        assert_eq!(
            wasm["not_translated"],
            serde_json::to_value(&plan.not_translated).unwrap(),
            "{what}: not-translated list differs"
        );
        assert_eq!(wasm["guid"], json!(plan.guid), "{what}");
        assert_eq!(wasm["name"], json!(plan.name), "{what}");
    } else {
        assert_eq!(wasm["yaml"], json!(""), "{what}");
        assert_eq!(wasm["objects"], json!([]), "{what}");
    }

    let native_diagnostics = tycho_compiler::validate(&input.text, &validate_options);
    let wasm_diagnostics = browser
        .call(
            "validate",
            vec![
                json!(input.text),
                serde_json::to_value(&validate_options).unwrap(),
            ],
        )
        .await;
    assert_eq!(
        wasm_diagnostics,
        serde_json::to_value(&native_diagnostics).unwrap(),
        "{what}: validate diagnostics differ"
    );

    if let Some(cli) = std::env::var_os("TYCHO_CLI") {
        compare_with_cli(
            &cli,
            input,
            native.plan.as_ref().map(|p| p.to_yaml()),
            &native_diagnostics,
        );
    }
    native.plan.is_some()
}

/// The `tycho` binary on the same file (it reads the `.env` beside it itself).
fn compare_with_cli(
    cli: &std::ffi::OsStr,
    input: &Input,
    yaml: Option<String>,
    diagnostics: &[tycho_compiler::Diagnostic],
) {
    let what = input.file.display();
    // A file on disk is read by path (with its `.env`); an inline input goes through stdin.
    let on_disk = input.file.is_file();
    let run = |args: &[&str]| {
        use std::io::Write;
        let mut child = std::process::Command::new(cli)
            .args(args)
            .arg("-f")
            .arg(if on_disk {
                input.file.as_os_str()
            } else {
                "-".as_ref()
            })
            .args(["--name", &input.name])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("run {}: {e}", cli.to_string_lossy()));
        let mut stdin = child.stdin.take().expect("stdin");
        if !on_disk {
            stdin.write_all(input.text.as_bytes()).expect("write stdin");
        }
        drop(stdin);
        let output = child.wait_with_output().expect("tycho runs");
        String::from_utf8(output.stdout).expect("UTF-8 output")
    };
    let printed = run(&["compile", "--guid", GUID]);
    assert_eq!(
        printed,
        yaml.unwrap_or_default(),
        "{what}: `tycho compile` prints other YAML"
    );
    let printed: Value = serde_json::from_str(&run(&["validate", "--format", "json"]))
        .unwrap_or_else(|e| panic!("{what}: `tycho validate --format json`: {e}"));
    assert_eq!(
        printed,
        serde_json::to_value(diagnostics).unwrap(),
        "{what}: `tycho validate` reports other diagnostics"
    );
}

/// Broken inputs, one per kind of problem: YAML syntax, structure, typo, interpolation, values,
/// policy, semantics. Each must give the native diagnostics, positions included.
const INVALID: &[&str] = &[
    "services:\n  web: [\n",
    "services:\n\tweb:\n    image: nginx\n",
    "services:\n  web:\n    imagee: nginx\n",
    "services:\n  web:\n    image: nginx\n    ports:\n      - \"http:80\"\n",
    "services:\n  web:\n    image: ${IMAGE:?the image is required}\n",
    "services:\n  web:\n    image: nginx\n    privileged: true\n    cap_add: [NET_ADMIN]\n",
    "services:\n  web:\n    image: nginx\n    depends_on: [db]\n    volumes:\n      - /etc:/host-etc\n",
    "services:\n  web:\n    image: nginx\n    deploy:\n      resources:\n        limits:\n          cpus: \"64\"\n          memory: 1Ti\n",
    "name: Not A Label!\nservices: {}\n",
    "",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wasm_gives_the_native_manifests_and_diagnostics() {
    with_demo(async |browser| {
        browser.open_demo().await;
        assert_eq!(
            browser.call("version", vec![]).await,
            json!(tycho_compiler::version())
        );
        let inputs = inputs();
        let mut compiled = 0;
        for input in &inputs {
            if compare(browser, input).await {
                compiled += 1;
            }
        }
        println!(
            "{} of {} catalog and sample files compiled; wasm == native for all",
            compiled,
            inputs.len()
        );
        assert!(compiled > 0, "no file compiled at all");

        for (i, text) in INVALID.iter().enumerate() {
            let input = Input {
                file: format!("INVALID[{i}]").into(),
                text: (*text).into(),
                name: "broken".into(),
                env: Default::default(),
            };
            assert!(!compare(browser, &input).await, "INVALID[{i}] compiled");
            let diagnostics = tycho_compiler::validate(text, &options(&input, ""));
            assert!(
                diagnostics.iter().any(|d| d.is_error() && d.line > 0),
                "INVALID[{i}] has no positioned error: {diagnostics:?}"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_lists_errors_with_line_and_column_as_you_type() {
    with_demo(async |browser| {
        browser.open_demo().await;
        let client = &browser.client;
        // The starting text compiles: manifests are shown.
        let manifests = client.find(Locator::Css("#manifests")).await.unwrap();
        assert!(manifests.text().await.unwrap().contains("kind: Deployment"));
        let shot = client.screenshot().await.expect("screenshot");
        std::fs::write(common::artifacts().join("wasm-demo.png"), shot).unwrap();

        // Type a file with a typo on line 4 and a bad port on line 6.
        let typed = "services:\n  web:\n    image: nginx\n    restrat: always\n    ports:\n      - \"http:80\"\n";
        let textarea = client.find(Locator::Css("#compose")).await.unwrap();
        textarea.clear().await.unwrap();
        textarea.send_keys(typed).await.unwrap();
        let value = textarea.prop("value").await.unwrap().unwrap_or_default();
        assert_eq!(value, typed, "the textarea holds what was typed");

        let expected = tycho_compiler::validate(typed, &CompileOptions::default());
        let first = expected.iter().find(|d| d.is_error()).expect("the typed text has an error");
        let wanted = format!("{}:{}", first.line, first.column);
        browser
            .wait_for_js(
                &format!(
                    "return [...document.querySelectorAll('#diagnostics li.error .pos')].some(e => e.textContent === '{wanted}');"
                ),
                Duration::from_secs(5),
            )
            .await;
        let items = client.find_all(Locator::Css("#diagnostics li")).await.unwrap();
        assert_eq!(items.len(), expected.len(), "one list item per diagnostic");
        for (item, d) in items.iter().zip(&expected) {
            let text = item.text().await.unwrap();
            assert!(
                text.starts_with(&format!("{}:{}", d.line, d.column)) && text.contains(&d.code) && text.contains(&d.message),
                "list item {text:?} does not show {d:?}"
            );
        }
        let status = client.find(Locator::Css("#status")).await.unwrap().text().await.unwrap();
        assert!(status.contains("error"), "status: {status}");
        let shot = client.screenshot().await.expect("screenshot");
        std::fs::write(common::artifacts().join("wasm-demo-errors.png"), shot).unwrap();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn misuse_throws_a_clear_error_and_bad_text_never_does() {
    with_demo(async |browser| {
        browser.open_demo().await;
        let outcome = |call: &str| {
            format!(
                "try {{ const r = {call}; return {{ok: true, value: r}}; }} \
                 catch (e) {{ return {{ok: false, error: e instanceof Error, message: String(e.message)}}; }}"
            )
        };
        let run = |call: &'static str| {
            let script = outcome(call);
            async move { browser.client.execute(&script, vec![]).await.expect("script runs") }
        };
        for (call, message) in [
            ("window.tycho.compile(42)", "tycho: the compose text must be a string"),
            ("window.tycho.validate(null, {})", "tycho: the compose text must be a string"),
            ("window.tycho.compile('services: {}', 'x')", "tycho: options must be an object"),
            ("window.tycho.compile('services: {}', [1])", "tycho: options must be an object"),
            ("window.tycho.compile('services: {}', {nmae: 'x'})", "tycho: invalid options: unknown field `nmae`"),
            ("window.tycho.validate('', {env: {A: 1}})", "tycho: invalid options: invalid type: integer `1`, expected a string"),
            ("window.tycho.compile('', {policy: {service_type: 'Ingress'}})", "tycho: invalid options: unknown variant `Ingress`"),
            ("window.tycho.compile('services: {}', {}, [1])", "tycho: files must be an object"),
            ("window.tycho.compile('services: {}', {}, {'a.txt': 1})", "tycho: files[\"a.txt\"] must be a string or a Uint8Array"),
        ] {
            let got = run(call).await;
            assert_eq!(got["ok"], json!(false), "{call} did not throw: {got}");
            assert_eq!(got["error"], json!(true), "{call} threw a non-Error: {got}");
            let text = got["message"].as_str().unwrap_or_default();
            assert!(text.starts_with(message), "{call}: message {text:?}, expected {message:?}…");
        }
        for call in [
            "window.tycho.compile('services: [')",
            "window.tycho.compile('\\u0000\\uffff', undefined)",
            "window.tycho.validate('x: 1', null)",
            "window.tycho.compile('services:\\n  a:\\n    image: nginx\\n', {})",
        ] {
            let got = run(call).await;
            assert_eq!(got["ok"], json!(true), "{call} threw: {got}");
        }
    })
    .await;
}

/// Files beside the compose file, as text or bytes: `referencedFiles` names what to send, and
/// `compile` mounts what was sent (the same manifests as natively).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_travel_as_text_or_bytes() {
    with_demo(async |browser| {
        browser.open_demo().await;
        let text = "services:\n  web:\n    image: nginx\n    env_file: web.env\n    volumes:\n      - ./site:/usr/share/nginx/html\n";
        let script = format!(
            "const text = {text:?};
             const refs = window.tycho.referencedFiles(text);
             const files = {{'web.env': 'A=1\\n', 'site/logo.png': new Uint8Array([137, 80, 78, 71, 255])}};
             const r = window.tycho.compile(text, {{guid: 'abc'}}, files);
             const without = window.tycho.validate(text, {{guid: 'abc'}});
             return {{refs, ok: r.ok, yaml: r.yaml, codes: without.map(d => d.code)}};"
        );
        let got = browser.client.execute(&script, vec![]).await.expect("script runs");
        let refs: Vec<(&str, &str)> = got["refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["path"].as_str().unwrap(), r["kind"].as_str().unwrap()))
            .collect();
        assert_eq!(refs, [("web.env", "env_file"), ("site", "mount")]);
        assert_eq!(got["ok"], json!(true), "{got}");
        let mut files = tycho_compiler::Files::new();
        files.insert("web.env".into(), b"A=1\n".to_vec());
        files.insert("site/logo.png".into(), vec![137, 80, 78, 71, 255]);
        let options = CompileOptions {
            guid: "abc".into(),
            ..Default::default()
        };
        let native = tycho_compiler::compile_with_files(text, &files, &options);
        assert_eq!(got["yaml"], json!(native.plan.unwrap().to_yaml()));
        assert!(got["yaml"].as_str().unwrap().contains("binaryData:"));
        assert!(got["codes"].as_array().unwrap().contains(&json!("TY0320")), "{got}");
    })
    .await;
}
