//! Several compose files merged in order (issue 13, item 1), as `docker compose -f
//! compose.yaml -f compose.prod.yaml`: later files override earlier ones by Compose's merge
//! rules (the same as `extends`). Findings in an override file point into it.

mod common;

use common::{files, options, pod};
use serde_json::{Value, json};
use tycho_compiler::{
    Files, ReferenceKind, codes, compile_with_overrides, diagnostic,
    referenced_files_with_overrides,
};

fn overrides(paths: &[&str]) -> Vec<String> {
    paths.iter().map(|p| p.to_string()).collect()
}

const MAIN: &str = "services:\n  web:\n    image: nginx:1\n    ports: ['8080:80']\n    environment:\n      A: '1'\n      B: '1'\n";

#[test]
fn a_later_file_overrides_the_image_adds_a_port_and_merges_environment() {
    let prod = "services:\n  web:\n    image: nginx:2\n    ports: ['8443:443']\n    environment:\n      B: '2'\n      C: '3'\n";
    let files = files(&[("compose.prod.yaml", prod)]);
    let compiled =
        compile_with_overrides(MAIN, &overrides(&["compose.prod.yaml"]), &files, &options());
    let pod = pod(&compiled);
    let web = &pod["spec"]["containers"][0];
    assert_eq!(web["image"], "nginx:2");
    let ports: Vec<&Value> = web["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["containerPort"])
        .collect();
    assert_eq!(ports, [&json!(80), &json!(443)]);
    assert_eq!(
        web["env"].as_array().unwrap()[..3],
        [
            json!({"name": "A", "value": "1"}),
            json!({"name": "B", "value": "2"}),
            json!({"name": "C", "value": "3"})
        ]
    );
}

#[test]
fn files_merge_in_order_and_may_add_services_and_sections() {
    let second = "services:\n  web:\n    image: nginx:2\n  cache:\n    image: redis\n    volumes: [data:/data]\n";
    let third = "services:\n  web:\n    image: nginx:3\nvolumes:\n  data:\n";
    let files = files(&[("b.yaml", second), ("c.yaml", third)]);
    let compiled =
        compile_with_overrides(MAIN, &overrides(&["b.yaml", "c.yaml"]), &files, &options());
    let pod = pod(&compiled);
    let images: Vec<&Value> = pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["image"])
        .collect();
    assert_eq!(images, [&json!("nginx:3"), &json!("redis")]);
}

#[test]
fn relative_paths_in_an_override_file_start_at_the_project_folder() {
    let dev = "services:\n  web:\n    env_file: ./dev.env\n";
    let files = files(&[("envs/dev.yaml", dev), ("dev.env", "DEV=1\n")]);
    let compiled = compile_with_overrides(MAIN, &overrides(&["envs/dev.yaml"]), &files, &options());
    let env = pod(&compiled)["spec"]["containers"][0]["env"].clone();
    assert!(
        env.as_array()
            .unwrap()
            .contains(&json!({"name": "DEV", "value": "1"})),
        "{env}"
    );
}

#[test]
fn an_error_in_the_override_file_points_there() {
    let prod = "services:\n  web:\n    ports: ['abc']\n";
    let files = files(&[("compose.prod.yaml", prod)]);
    let compiled =
        compile_with_overrides(MAIN, &overrides(&["compose.prod.yaml"]), &files, &options());
    let found: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| {
            (
                d.code.as_str(),
                d.file.as_str(),
                d.line,
                d.column,
                d.path.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            codes::INVALID_PORT,
            "compose.prod.yaml",
            3,
            13,
            "/services/web/ports/0"
        )]
    );
    let rendered =
        diagnostic::render_with_files(&compiled.diagnostics, "compose.yaml", MAIN, &files);
    assert!(
        rendered.contains("--> compose.prod.yaml:3:13\n  |\n3 |     ports: ['abc']"),
        "{rendered}"
    );
}

#[test]
fn an_error_in_the_first_file_stays_there() {
    let main = MAIN.replace("nginx:1\n", "nginx:1\n    imagee: x\n");
    let files = files(&[("b.yaml", "services:\n  web:\n    image: nginx:2\n")]);
    let compiled = compile_with_overrides(&main, &overrides(&["b.yaml"]), &files, &options());
    let found: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code.as_str(), d.file.as_str(), d.line, d.column))
        .collect();
    assert_eq!(found, [(codes::UNKNOWN_KEY, "", 4, 5)]);
}

#[test]
fn a_missing_override_file_is_an_error() {
    let compiled =
        compile_with_overrides(MAIN, &overrides(&["prod.yaml"]), &Files::new(), &options());
    let found: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code.as_str(), d.message.contains("`prod.yaml`")))
        .collect();
    assert_eq!(found, [(codes::MISSING_FILE, true)]);
}

#[test]
fn what_an_override_file_names_is_listed() {
    let prod = "services:\n  web:\n    env_file: ./prod.env\n";
    let files = files(&[("compose.prod.yaml", prod)]);
    let listed: Vec<_> = referenced_files_with_overrides(
        MAIN,
        &overrides(&["compose.prod.yaml"]),
        &files,
        &options(),
    )
    .into_iter()
    .map(|r| (r.path, r.kind))
    .collect();
    assert_eq!(listed, [("prod.env".to_string(), ReferenceKind::EnvFile)]);
}

#[test]
fn a_name_in_an_override_file_is_not_read_and_says_so() {
    let main = format!("name: shop\n{MAIN}");
    let files = files(&[(
        "b.yaml",
        "name: other\nservices:\n  web:\n    image: nginx:2\n",
    )]);
    let options = tycho_compiler::CompileOptions {
        guid: String::new(),
        ..options()
    };
    let compiled = compile_with_overrides(&main, &overrides(&["b.yaml"]), &files, &options);
    assert_eq!(
        compiled.plan.as_ref().map(|p| p.name.as_str()),
        Some("shop")
    );
    let warned: Vec<_> = compiled
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.file.as_str(), d.line))
        .collect();
    assert_eq!(warned, [(codes::NOT_TRANSLATED, "b.yaml", 1)]);
}
