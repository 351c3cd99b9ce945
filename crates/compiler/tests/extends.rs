//! `extends:` (issue 13, item 1): a service starts from another service's definition, in the
//! same file or in another file sent with it, and its own keys merge on top by Compose's
//! rules. Findings in the other file point into it (`file`, line and column there).

mod common;

use common::{files, options, pod};
use serde_json::{Value, json};
use tycho_compiler::{
    Compiled, Diagnostic, Files, ReferenceKind, codes, compile, compile_with_files, diagnostic,
    referenced_files, referenced_files_with_files,
};

fn errors(compiled: &Compiled) -> Vec<&Diagnostic> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect()
}

/// The base file every rule's base service is written in, and what it reads beside it.
const BASE_FILE: &str = "common/base.yaml";

/// `web` extending `base` (in `common/base.yaml`, `image: nginx` plus `base_keys`), with
/// `web_keys` of its own.
fn extended(base_keys: &str, web_keys: &str) -> Compiled {
    let base = format!("services:\n  base:\n    image: nginx\n{base_keys}");
    let text = format!(
        "services:\n  web:\n    extends: {{file: {BASE_FILE}, service: base}}\n{web_keys}volumes:\n  data:\n  logs:\n  other:\nconfigs:\n  a:\n    content: x\n  b:\n    content: y\n"
    );
    let files = files(&[
        (BASE_FILE, &base),
        ("common/a.env", "A=1\n"),
        ("b.env", "B=2\n"),
    ]);
    compile_with_files(&text, &files, &options())
}

const BASE_PATH: &str = "/connect/abc/";

/// (rule, the base's keys, the service's own keys, JSON Pointer into the pod template, value).
fn merge_rules() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Value,
)> {
    vec![
        (
            "the service's scalar replaces the base's",
            "",
            "    image: nginx:2\n",
            "/spec/containers/0/image",
            json!("nginx:2"),
        ),
        (
            "a key only the base has is inherited",
            "    working_dir: /w\n",
            "",
            "/spec/containers/0/workingDir",
            json!("/w"),
        ),
        (
            "command is replaced, not appended",
            "    command: [a, b]\n",
            "    command: [c]\n",
            "/spec/containers/0/args",
            json!(["c"]),
        ),
        (
            "entrypoint is replaced, not appended",
            "    entrypoint: [sh, -c]\n",
            "    entrypoint: [bash]\n",
            "/spec/containers/0/command",
            json!(["bash"]),
        ),
        (
            "healthcheck.test is replaced",
            "    healthcheck:\n      test: [CMD, a]\n      interval: 10s\n",
            "    healthcheck:\n      test: [CMD, b]\n",
            "/spec/containers/0/readinessProbe/exec/command",
            json!(["b"]),
        ),
        (
            "the other healthcheck keys merge",
            "    healthcheck:\n      test: [CMD, a]\n      interval: 10s\n",
            "    healthcheck:\n      test: [CMD, b]\n",
            "/spec/containers/0/readinessProbe/periodSeconds",
            json!(10),
        ),
        (
            "environment mappings merge by key",
            "    environment: {A: '1', B: '2'}\n",
            "    environment: {B: '3', C: '4'}\n",
            "/spec/containers/0/env",
            json!([
                {"name": "A", "value": "1"},
                {"name": "B", "value": "3"},
                {"name": "C", "value": "4"},
                {"name": "TYCHO_BASE_PATH", "value": BASE_PATH},
            ]),
        ),
        (
            "an environment list and mapping merge by key",
            "    environment: [A=1, B=2]\n",
            "    environment: {B: '3'}\n",
            "/spec/containers/0/env",
            json!([
                {"name": "A", "value": "1"},
                {"name": "B", "value": "3"},
                {"name": "TYCHO_BASE_PATH", "value": BASE_PATH},
            ]),
        ),
        (
            "labels merge by key",
            "    labels: {a: x, b: y}\n",
            "    labels: [b=z]\n",
            "/metadata/annotations",
            json!({"a": "x", "b": "z"}),
        ),
        (
            "ports are appended, each once",
            "    ports: ['80']\n",
            "    ports: ['81', '80']\n",
            "/spec/containers/0/ports",
            json!([
                {"containerPort": 80, "protocol": "TCP"},
                {"containerPort": 81, "protocol": "TCP"},
            ]),
        ),
        (
            "expose is appended, each once",
            "    expose: ['90']\n",
            "    expose: ['90', '91']\n",
            "/spec/containers/0/ports",
            json!([
                {"containerPort": 90, "protocol": "TCP"},
                {"containerPort": 91, "protocol": "TCP"},
            ]),
        ),
        (
            "volumes merge by target",
            "    volumes: ['data:/work', 'logs:/logs']\n",
            "    volumes: ['other:/work']\n",
            "/spec/containers/0/volumeMounts",
            json!([
                {"mountPath": "/work", "name": "volume-other"},
                {"mountPath": "/logs", "name": "volume-logs"},
            ]),
        ),
        (
            "tmpfs is appended (a single value is a list of one)",
            "    tmpfs: /t\n",
            "    tmpfs: [/u]\n",
            "/spec/containers/0/volumeMounts",
            json!([
                {"mountPath": "/t", "name": "tmpfs-web-0"},
                {"mountPath": "/u", "name": "tmpfs-web-1"},
            ]),
        ),
        (
            "extra_hosts merge by host",
            "    extra_hosts: ['h1:10.0.0.1', 'h2:10.0.0.2']\n",
            "    extra_hosts: ['h1:10.0.0.9']\n",
            "/spec/hostAliases",
            // (The pod lists host aliases by address.)
            json!([
                {"hostnames": ["h2"], "ip": "10.0.0.2"},
                {"hostnames": ["h1"], "ip": "10.0.0.9"},
                {"hostnames": ["web"], "ip": "127.0.0.1"},
            ]),
        ),
        (
            "env_file is appended, each relative to its own file",
            "    env_file: ./a.env\n",
            "    env_file: ./b.env\n",
            "/spec/containers/0/env",
            json!([
                {"name": "A", "value": "1"},
                {"name": "B", "value": "2"},
                {"name": "TYCHO_BASE_PATH", "value": BASE_PATH},
            ]),
        ),
        (
            "configs merge by target",
            "    configs: [a]\n",
            "    configs: [{source: b, target: /a}]\n",
            // One file at /a: config `b`'s.
            "/spec/volumes",
            json!([{
                "configMap": {"items": [{"key": "b", "path": "a"}], "name": "system-abc-files"},
                "name": "files-web-0",
            }]),
        ),
        (
            // Not inherited, so `db` (no service here) is not asked for.
            "depends_on, links and volumes_from are not inherited",
            "    depends_on: [db]\n    links: [db]\n    volumes_from: [db]\n",
            "",
            "/spec/containers/0/image",
            json!("nginx"),
        ),
    ]
}

#[test]
fn each_merge_rule() {
    for (rule, base, web, pointer, expected) in merge_rules() {
        let pod = pod(&extended(base, web));
        assert_eq!(pod.pointer(pointer), Some(&expected), "{rule}");
    }
}

#[test]
fn same_file_extends_in_short_and_long_form() {
    let text = "services:\n  base:\n    image: nginx\n    working_dir: /w\n    environment: [A=1]\n  web:\n    extends: base\n    environment: [B=2]\n  api:\n    extends: {service: base}\n    image: nginx:2\n";
    let pod = pod(&compile(text, &options()));
    let containers = pod["spec"]["containers"].as_array().unwrap();
    let container = |name: &str| containers.iter().find(|c| c["name"] == name).unwrap();
    assert_eq!(
        container("web")["env"],
        json!([
            {"name": "A", "value": "1"},
            {"name": "B", "value": "2"},
            {"name": "TYCHO_BASE_PATH", "value": BASE_PATH},
        ])
    );
    assert_eq!(container("api")["workingDir"], "/w");
    assert_eq!(container("api")["image"], "nginx:2");
    assert_eq!(container("base")["image"], "nginx");
}

#[test]
fn a_chain_takes_every_link() {
    let text = "services:\n  a:\n    extends: b\n    environment: [A=a]\n  b:\n    extends: c\n    environment: [B=b]\n  c:\n    image: nginx\n    environment: [C=c]\n";
    let pod = pod(&compile(text, &options()));
    let a = pod["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "a")
        .unwrap()
        .clone();
    let names: Vec<&str> = a["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["C", "B", "A", "TYCHO_BASE_PATH"]);
}

#[test]
fn a_cycle_is_an_error_naming_it() {
    let text =
        "services:\n  a:\n    image: x\n    extends: b\n  b:\n    image: x\n    extends: a\n";
    common::only_error(text, codes::DEPENDENCY_CYCLE, 7, 14, "a → b → a");
    let itself = "services:\n  a:\n    image: x\n    extends: {service: a}\n";
    common::only_error(itself, codes::DEPENDENCY_CYCLE, 4, 24, "a → a");
}

#[test]
fn an_unknown_base_is_an_error_at_its_name() {
    let text = "services:\n  web:\n    image: x\n    extends: bse\n";
    common::only_error(text, codes::UNKNOWN_DEPENDENCY, 4, 14, "`bse`");
    let long = "services:\n  web:\n    image: x\n    extends:\n      file: base.yaml\n      service: nope\n";
    let base = files(&[("base.yaml", "services:\n  base:\n    image: nginx\n")]);
    let compiled = compile_with_files(long, &base, &options());
    let found: Vec<_> = errors(&compiled)
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.column, d.file.as_str()))
        .collect();
    assert_eq!(found, [(codes::UNKNOWN_DEPENDENCY, 6, 16, "")]);
    assert!(errors(&compiled)[0].message.contains("`base.yaml`"));
}

#[test]
fn relative_paths_in_another_files_service_are_relative_to_that_file() {
    let text = "services:\n  web:\n    extends: {file: common/mid.yaml, service: mid}\n";
    let files = files(&[
        (
            "common/mid.yaml",
            "services:\n  mid:\n    extends: {file: lib/base.yaml, service: base}\n    env_file: ./mid.env\n",
        ),
        (
            "common/lib/base.yaml",
            "services:\n  base:\n    image: nginx\n    volumes:\n      - ./conf:/etc/app\n",
        ),
        ("common/lib/conf/app.conf", "x\n"),
        ("common/mid.env", "MID=1\n"),
        // Same names beside the compose file, which must not be read.
        ("conf/app.conf", "wrong\n"),
        ("mid.env", "MID=wrong\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = compiled.plan.as_ref().unwrap();
    let data = plan.config_map.as_ref().unwrap().data.as_ref().unwrap();
    assert_eq!(
        data.keys().collect::<Vec<_>>(),
        ["common_lib_conf_app.conf"]
    );
    let pod = pod(&compiled);
    assert_eq!(
        pod.pointer("/spec/containers/0/env/0"),
        Some(&json!({"name": "MID", "value": "1"}))
    );
}

#[test]
fn the_other_file_must_be_sent() {
    let text = "services:\n  web:\n    image: x\n    extends:\n      file: base.yaml\n      service: base\n";
    let compiled = compile_with_files(text, &Files::new(), &options());
    let found: Vec<_> = errors(&compiled)
        .iter()
        .map(|d| (d.code.as_str(), d.line, d.column, d.path.as_str()))
        .collect();
    assert_eq!(
        found,
        [(codes::MISSING_FILE, 5, 13, "/services/web/extends/file")]
    );
}

#[test]
fn the_other_file_must_be_in_the_folder() {
    let text =
        "services:\n  web:\n    image: x\n    extends: {file: ../base.yaml, service: base}\n";
    common::only_error(text, codes::OUTSIDE_PROJECT, 4, 21, "leaves");
}

#[test]
fn findings_in_the_other_file_point_into_it() {
    let base = "services:\n  base:\n    image: nginx\n    ports: ['abc']\n    imagee: x\n";
    let text = "services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n";
    let files = files(&[("common/base.yaml", base)]);
    let compiled = compile_with_files(text, &files, &options());
    let found: Vec<_> = errors(&compiled)
        .iter()
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
        [
            (
                codes::INVALID_PORT,
                "common/base.yaml",
                4,
                13,
                "/services/base/ports/0"
            ),
            (
                codes::UNKNOWN_KEY,
                "common/base.yaml",
                5,
                5,
                "/services/base/imagee"
            ),
        ]
    );
    let rendered =
        diagnostic::render_with_files(&compiled.diagnostics, "app/compose.yaml", text, &files);
    assert!(
        rendered.contains(
            "--> app/common/base.yaml:4:13\n  |\n4 |     ports: ['abc']\n  |             ^"
        ),
        "{rendered}"
    );
    // Without the files, the place is still named.
    let plain = diagnostic::render(&compiled.diagnostics, "compose.yaml", text);
    assert!(plain.contains("--> common/base.yaml:4:13\n"), "{plain}");
}

#[test]
fn a_yaml_error_in_the_other_file_is_in_that_file() {
    let text = "services:\n  web:\n    extends: {file: base.yaml, service: base}\n";
    let files = files(&[("base.yaml", "services:\n  base: [\n")]);
    let compiled = compile_with_files(text, &files, &options());
    let syntax: Vec<_> = errors(&compiled)
        .into_iter()
        .filter(|d| d.code == codes::YAML_SYNTAX)
        .map(|d| (d.file.as_str(), d.line))
        .collect();
    assert_eq!(syntax, [("base.yaml", 3)], "{:#?}", compiled.diagnostics);
}

#[test]
fn the_other_file_is_interpolated_with_the_same_variables() {
    let text = "services:\n  web:\n    extends: {file: base.yaml, service: base}\n";
    let files = files(&[("base.yaml", "services:\n  base:\n    image: nginx:${TAG}\n")]);
    let mut options = options();
    options.env.insert("TAG".into(), "1.27".into());
    let pod = pod(&compile_with_files(text, &files, &options));
    assert_eq!(pod["spec"]["containers"][0]["image"], "nginx:1.27");
}

#[test]
fn referenced_files_lists_the_other_file() {
    let text = "services:\n  web:\n    extends: {file: ./common/base.yaml, service: base}\n";
    let references = referenced_files(text, &options());
    let found: Vec<_> = references
        .iter()
        .map(|r| (r.path.as_str(), r.kind, r.json_path.as_str(), r.line))
        .collect();
    assert_eq!(
        found,
        [(
            "common/base.yaml",
            ReferenceKind::ComposeFile,
            "/services/web/extends/file",
            3
        )]
    );
}

#[test]
fn the_file_field_is_left_out_for_the_compose_file() {
    let d = Diagnostic::unpositioned(tycho_compiler::Severity::Error, "TY0000", "x".into());
    assert!(serde_json::to_value(&d).unwrap().get("file").is_none());
    let read: Diagnostic = serde_json::from_value(json!({
        "severity": "error", "code": "TY0000", "message": "x", "path": "", "line": 0, "column": 0
    }))
    .unwrap();
    assert_eq!(read.file, "");
}

#[test]
fn what_the_other_file_names_is_listed_once_it_is_sent() {
    let text = "services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n";
    let base = "services:\n  base:\n    image: nginx\n    env_file: ./base.env\n    volumes: ['./conf:/c']\n";
    let files = files(&[("common/base.yaml", base)]);
    let listed: Vec<_> = referenced_files_with_files(text, &files, &options())
        .into_iter()
        .map(|r| (r.path, r.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("common/base.yaml".to_string(), ReferenceKind::ComposeFile),
            ("common/base.env".to_string(), ReferenceKind::EnvFile),
            ("common/conf".to_string(), ReferenceKind::Mount),
        ]
    );
}
