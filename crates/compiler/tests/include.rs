//! Top-level `include:` (issue 13, item 1; compose-spec `14-include.md`): each entry names
//! compose files sent with the compose file, loaded as a project of their own (relative paths
//! from their own folder), whose services, volumes, configs and secrets join the model. A
//! resource defined both by the including file and by an included one is refused.

mod common;

use common::{files, options, pod};
use serde_json::json;
use tycho_compiler::{
    Compiled, Diagnostic, Files, ReferenceKind, codes, compile_with_files, diagnostic,
    referenced_files, referenced_files_with_files,
};

/// The containers' names and images, in order.
fn containers(compiled: &Compiled) -> Vec<(String, String)> {
    pod(compiled)["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_string(),
                c["image"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Each error as (code, file, line, column, pointer).
fn errors(compiled: &Compiled) -> Vec<(&str, &str, usize, usize, &str)> {
    compiled
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
        .collect()
}

fn error_messages(compiled: &Compiled) -> Vec<&str> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.message.as_str())
        .collect()
}

const DB: &str = "services:\n  db:\n    image: postgres\n";

#[test]
fn the_short_form_adds_the_included_services() {
    let text = "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[("db/compose.yaml", DB)]);
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        containers(&compiled),
        [
            ("web".to_string(), "nginx".to_string()),
            ("db".to_string(), "postgres".to_string())
        ]
    );
    // The including file may name what is included, as if it wrote it.
    let waits = text.replace("image: nginx\n", "image: nginx\n    depends_on: [db]\n");
    let compiled = compile_with_files(&waits, &files, &options());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
}

#[test]
fn the_long_form_merges_its_paths_and_reads_its_env_file() {
    let text = "include:\n  - path: [db/compose.yaml, db/compose.override.yaml]\n    env_file: db/db.env\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[
        (
            "db/compose.yaml",
            "services:\n  db:\n    image: postgres:${PG}\n    environment: {A: '1'}\n",
        ),
        (
            "db/compose.override.yaml",
            "services:\n  db:\n    environment: {B: '2'}\n",
        ),
        ("db/db.env", "PG=16\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    let pod = pod(&compiled);
    let db = &pod["spec"]["containers"][1];
    assert_eq!(db["image"], "postgres:16");
    assert_eq!(
        db["env"].as_array().unwrap()[..2],
        [
            json!({"name": "A", "value": "1"}),
            json!({"name": "B", "value": "2"})
        ]
    );
}

#[test]
fn a_single_path_is_a_one_entry_list() {
    let text = "include: db/compose.yaml\nservices:\n  web:\n    image: nginx\n";
    let compiled = compile_with_files(text, &files(&[("db/compose.yaml", DB)]), &options());
    assert_eq!(containers(&compiled).len(), 2);
}

#[test]
fn a_resource_defined_twice_is_an_error_naming_both() {
    let text =
        "include:\n  - db.yaml\nservices:\n  web:\n    image: nginx\n  db:\n    image: mysql\n";
    let compiled = compile_with_files(text, &files(&[("db.yaml", DB)]), &options());
    assert_eq!(
        errors(&compiled),
        [(codes::CONFLICTING_KEYS, "", 6, 3, "/services/db")]
    );
    let message = error_messages(&compiled)[0];
    assert!(
        message.contains("service `db`") && message.contains("`db.yaml` (line 2)"),
        "{message}"
    );
}

#[test]
fn volumes_configs_and_secrets_are_added_and_conflict_too() {
    // `data` is declared differently in both (the same declaration would be accepted).
    let included = "services:\n  db:\n    image: postgres\n    volumes: [data:/var/lib/postgresql/data]\n    configs: [initdb]\nvolumes:\n  data:\nconfigs:\n  initdb:\n    file: ./init.sql\n";
    let text = "include: [db/compose.yaml]\nservices:\n  web:\n    image: nginx\nvolumes:\n  data:\n    labels: {kept: 'yes'}\n";
    let files = files(&[
        ("db/compose.yaml", included),
        ("db/init.sql", "select 1;\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        errors(&compiled),
        [(codes::CONFLICTING_KEYS, "", 6, 3, "/volumes/data")]
    );
    let without = text.replace("volumes:\n  data:\n    labels: {kept: 'yes'}\n", "");
    let compiled = compile_with_files(&without, &files, &options());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = compiled.plan.unwrap();
    let data = plan.config_map.unwrap().data.unwrap();
    assert_eq!(data.values().collect::<Vec<_>>(), ["select 1;\n"]);
}

#[test]
fn a_missing_included_file_is_an_error_at_its_entry() {
    let text = "services:\n  web:\n    image: nginx\ninclude:\n  - other.yaml\n";
    let compiled = compile_with_files(text, &Files::new(), &options());
    assert_eq!(
        errors(&compiled),
        [(codes::MISSING_FILE, "", 5, 5, "/include/0")]
    );
}

#[test]
fn an_included_file_must_be_in_the_folder() {
    let text = "include:\n  - path: ../other.yaml\nservices:\n  web:\n    image: nginx\n";
    let compiled = compile_with_files(text, &Files::new(), &options());
    assert_eq!(
        errors(&compiled),
        [(codes::OUTSIDE_PROJECT, "", 2, 11, "/include/0/path")]
    );
}

#[test]
fn includes_of_includes_are_followed_from_their_own_folder() {
    let text = "include: [a/compose.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[
        (
            "a/compose.yaml",
            "include: [b/compose.yaml]\nservices:\n  a:\n    image: a\n",
        ),
        ("a/b/compose.yaml", "services:\n  b:\n    image: b\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    let names: Vec<String> = containers(&compiled).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["web", "a", "b"]);
}

#[test]
fn a_cycle_is_an_error_naming_it() {
    let text = "include: [a.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[
        (
            "a.yaml",
            "include: [b.yaml]\nservices:\n  a:\n    image: a\n",
        ),
        (
            "b.yaml",
            "services:\n  b:\n    image: b\ninclude:\n  - a.yaml\n",
        ),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        errors(&compiled),
        [(codes::DEPENDENCY_CYCLE, "b.yaml", 5, 5, "/include/0")]
    );
    assert!(
        error_messages(&compiled)[0].contains("a.yaml → b.yaml → a.yaml"),
        "{:?}",
        error_messages(&compiled)
    );
}

#[test]
fn relative_paths_start_at_the_included_files_folder() {
    let included = "services:\n  app:\n    image: app\n    env_file: ./app.env\n    volumes: ['./conf:/etc/app']\n";
    let text = "include: [app/compose.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[
        ("app/compose.yaml", included),
        ("app/app.env", "APP=1\n"),
        ("app/conf/app.conf", "x\n"),
        // Same names beside the compose file, which must not be read.
        ("app.env", "APP=wrong\n"),
        ("conf/app.conf", "wrong\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    let pod = pod(&compiled);
    assert_eq!(
        pod["spec"]["containers"][1]["env"][0],
        json!({"name": "APP", "value": "1"})
    );
    let plan = compiled.plan.unwrap();
    let data = plan.config_map.unwrap().data.unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), ["app_conf_app.conf"]);
}

#[test]
fn project_directory_moves_where_relative_paths_start() {
    let included = "services:\n  app:\n    image: app\n    env_file: ./app.env\n";
    let text = "include:\n  - path: defs/app.yaml\n    project_directory: app\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[("defs/app.yaml", included), ("app/app.env", "APP=1\n")]);
    let pod = pod(&compile_with_files(text, &files, &options()));
    assert_eq!(
        pod["spec"]["containers"][1]["env"][0],
        json!({"name": "APP", "value": "1"})
    );
}

#[test]
fn findings_in_an_included_file_point_into_it() {
    let included = "services:\n  db:\n    image: postgres\n    ports: ['abc']\n";
    let text = "include: [db/compose.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[("db/compose.yaml", included)]);
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        errors(&compiled),
        [(
            codes::INVALID_PORT,
            "db/compose.yaml",
            4,
            13,
            "/services/db/ports/0"
        )]
    );
    let rendered =
        diagnostic::render_with_files(&compiled.diagnostics, "compose.yaml", text, &files);
    assert!(
        rendered.contains("--> db/compose.yaml:4:13\n  |\n4 |     ports: ['abc']"),
        "{rendered}"
    );
}

#[test]
fn referenced_files_lists_included_files_and_what_they_name() {
    let text = "include:\n  - path: db/compose.yaml\n    env_file: db/.env\nservices:\n  web:\n    image: nginx\n";
    let listed: Vec<_> = referenced_files(text, &options())
        .into_iter()
        .map(|r| (r.path, r.kind, r.json_path, r.line))
        .collect();
    assert_eq!(
        listed,
        [
            (
                "db/compose.yaml".to_string(),
                ReferenceKind::ComposeFile,
                "/include/0/path".to_string(),
                2
            ),
            (
                "db/.env".to_string(),
                ReferenceKind::EnvFile,
                "/include/0/env_file".to_string(),
                3
            ),
        ]
    );
    let included = "services:\n  db:\n    image: postgres\n    env_file: ./db.env\n";
    let files = files(&[("db/compose.yaml", included), ("db/.env", "")]);
    let listed: Vec<_> = referenced_files_with_files(text, &files, &options())
        .into_iter()
        .map(|r| (r.path, r.kind))
        .collect();
    assert_eq!(
        listed,
        [
            ("db/compose.yaml".to_string(), ReferenceKind::ComposeFile),
            ("db/.env".to_string(), ReferenceKind::EnvFile),
            ("db/db.env".to_string(), ReferenceKind::EnvFile),
        ]
    );
}

#[test]
fn include_is_no_longer_reported_as_not_translated() {
    let text = "include: [db.yaml]\nservices:\n  web:\n    image: nginx\n";
    let compiled = compile_with_files(text, &files(&[("db.yaml", DB)]), &options());
    let about_include: Vec<&Diagnostic> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.path.starts_with("/include"))
        .collect();
    assert!(about_include.is_empty(), "{about_include:#?}");
}

#[test]
fn extends_in_an_included_file_reads_from_its_folder() {
    let included = "services:\n  app:\n    extends: {file: base.yaml, service: base}\n  worker:\n    extends: app\n";
    let text = "include: [a/compose.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[
        ("a/compose.yaml", included),
        (
            "a/base.yaml",
            "services:\n  base:\n    image: b\n    env_file: ./b.env\n",
        ),
        ("a/b.env", "B=1\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        containers(&compiled),
        [
            ("web".to_string(), "nginx".to_string()),
            ("app".to_string(), "b".to_string()),
            ("worker".to_string(), "b".to_string())
        ]
    );
    let pod = pod(&compiled);
    assert_eq!(
        pod["spec"]["containers"][2]["env"][0],
        json!({"name": "B", "value": "1"})
    );
}

#[test]
fn an_override_file_may_include_too() {
    let text = "services:\n  web:\n    image: nginx\n";
    let files = files(&[
        ("prod.yaml", "include: [db/compose.yaml]\n"),
        ("db/compose.yaml", DB),
    ]);
    let compiled = tycho_compiler::compile_with_overrides(
        text,
        &["prod.yaml".to_string()],
        &files,
        &options(),
    );
    assert_eq!(containers(&compiled).len(), 2);
}

#[test]
fn the_same_definition_brought_twice_is_no_conflict() {
    // Two included files that both include a third, as Compose accepts it.
    let text = "include: [a/compose.yaml, b/compose.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[
        (
            "a/compose.yaml",
            "include: [../db.yaml]\nservices:\n  a:\n    image: a\n",
        ),
        (
            "b/compose.yaml",
            "include: [../db.yaml]\nservices:\n  b:\n    image: b\n",
        ),
        (
            "db.yaml",
            "services:\n  db:\n    image: postgres\n    env_file: ./db.env\n",
        ),
        ("db.env", "DB=1\n"),
    ]);
    let compiled = compile_with_files(text, &files, &options());
    let names: Vec<String> = containers(&compiled).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["web", "a", "db", "b"]);
    // A different definition under the same name is still refused.
    let mut files = files;
    files.insert(
        "b/compose.yaml".into(),
        b"services:\n  db:\n    image: mysql\n".to_vec(),
    );
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        errors(&compiled),
        [(codes::CONFLICTING_KEYS, "db.yaml", 2, 3, "/services/db")]
    );
    assert!(
        error_messages(&compiled)[0].contains("`b/compose.yaml` (line 2)"),
        "{:?}",
        error_messages(&compiled)
    );
}

#[test]
fn an_unknown_section_in_an_included_file_is_an_error_there() {
    let text = "include: [db.yaml]\nservices:\n  web:\n    image: nginx\n";
    let files = files(&[("db.yaml", "servics:\n  db:\n    image: postgres\n")]);
    let compiled = compile_with_files(text, &files, &options());
    assert_eq!(
        errors(&compiled),
        [(codes::UNKNOWN_KEY, "db.yaml", 1, 1, "/servics")]
    );
    assert!(error_messages(&compiled)[0].contains("did you mean `services`"));
}

#[test]
fn a_file_of_includes_only_is_a_project() {
    let files = files(&[
        ("db.yaml", DB),
        ("web.yaml", "services:\n  web:\n    image: nginx\n"),
    ]);
    for text in [
        "include: [web.yaml, db.yaml]\n",
        "include: [web.yaml, db.yaml]\nservices:\n",
    ] {
        let compiled = compile_with_files(text, &files, &options());
        let names: Vec<String> = containers(&compiled).into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["web", "db"], "{text}");
    }
}
