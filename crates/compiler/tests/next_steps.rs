//! Diagnostics that say what to do (issue 13, item 6): each names the cause a user can act on,
//! at its line and column.

mod common;

use common::{errors, only_error};
use tycho_compiler::codes;

#[test]
fn a_version_one_file_is_told_to_nest_its_services() {
    only_error(
        "web:\n  image: nginx\ndb:\n  build: .\n",
        codes::MISSING_KEY,
        1,
        1,
        "version-1 compose file: its services (`web`, `db`) sit at the top level; nest them under `services:`",
    );
}

#[test]
fn windows_host_paths_are_named_as_such() {
    only_error(
        "services:\n  web:\n    image: a\n    volumes:\n      - C:\\data:/data:ro\n",
        codes::INVALID_VOLUME,
        5,
        9,
        "`C:\\data` is a Windows path",
    );
}

#[test]
fn a_cpu_amount_below_one_millicpu_is_below_the_step() {
    only_error(
        "services:\n  web:\n    image: a\n    cpus: 0.0001\n",
        codes::INVALID_QUANTITY,
        4,
        11,
        "below Kubernetes' smallest step, 1m",
    );
    // Not a number at all keeps the plain message.
    only_error(
        "services:\n  web:\n    image: a\n    cpus: lots\n",
        codes::INVALID_QUANTITY,
        4,
        11,
        "is not a CPU amount",
    );
}

#[test]
fn an_empty_value_names_the_variable_that_emptied_it() {
    only_error(
        "services:\n  web:\n    image: \"${IMAGE}\"\n",
        codes::INVALID_VALUE,
        3,
        12,
        "has an empty `image` (`IMAGE` not set, so empty here)",
    );
    // An error at a value no variable touched says nothing about variables.
    let errors =
        errors("services:\n  web:\n    image: \"\"\n    environment:\n      A: ${UNSET}\n");
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(!errors[0].3.contains("not set"), "{errors:#?}");
}

#[test]
fn service_names_compose_accepts_become_kubernetes_names_everywhere() {
    let text = "services:
  Front_End:
    image: web
    ports: [\"8080:8080\"]
    depends_on:
      App.Db:
        condition: service_started
  App.Db:
    image: db
x-tycho:
  connect:
    service: Front_End
";
    let compiled = tycho_compiler::compile(text, &common::options());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let warnings: Vec<String> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == codes::INVALID_NAME)
        .map(|d| format!("{}:{} {}", d.line, d.column, d.message))
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("2:3 service `Front_End` is called `front-end`"),
        "{warnings:#?}"
    );
    let plan = compiled.plan.expect("a plan");
    let pod = plan
        .deployment
        .spec
        .and_then(|s| s.template.spec)
        .expect("pod");
    assert_eq!(pod.containers[0].name, "front-end");
    let init = pod.init_containers.expect("the dependency starts first");
    assert_eq!(init[0].name, "app-db");
    let aliases: Vec<String> = pod
        .host_aliases
        .unwrap_or_default()
        .into_iter()
        .flat_map(|a| a.hostnames.unwrap_or_default())
        .collect();
    assert!(aliases.contains(&"app-db".to_string()), "{aliases:?}");
    assert_eq!(
        plan.connect.map(|c| c.service).as_deref(),
        Some("front-end")
    );

    only_error(
        "services:\n  front_end:\n    image: a\n  front-end:\n    image: b\n",
        codes::INVALID_NAME,
        4,
        3,
        "services `front_end` and `front-end` are both `front-end` in Kubernetes",
    );
}

#[test]
fn an_image_key_with_nothing_after_it_is_one_error() {
    // The blank catalog entry's text: no image yet is one problem, not also a type error.
    only_error(
        "services:\n  app:\n    image:\n",
        codes::INVALID_VALUE,
        3,
        10,
        "has an empty `image`",
    );
    // Not a string at all: the type error alone.
    let errors = errors("services:\n  app:\n    image: {a: 1}\n");
    assert_eq!(errors.len(), 1, "{errors:#?}");
}
