//! Compose `profiles:` (which services run) and the policy's `image_template` (the image of a
//! service that only has `build:`).

mod common;

use common::options;
use tycho_compiler::{CompileOptions, Severity, codes, compile};

const FILE: &str = "services:\n  web:\n    image: web\n  debug:\n    image: busybox\n    profiles: [debug]\n  test:\n    image: tester\n    profiles: [test, ci]\n    depends_on: [web]\n";

/// The pod of a plan.
fn pod(compiled: tycho_compiler::Compiled) -> k8s_openapi::api::core::v1::PodSpec {
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let deployment = compiled.plan.expect("compiles").deployment;
    deployment.spec.unwrap().template.spec.unwrap()
}

fn containers(text: &str, options: &CompileOptions) -> Vec<String> {
    let pod = pod(compile(text, options));
    let mut names: Vec<String> = pod
        .init_containers
        .into_iter()
        .flatten()
        .chain(pod.containers)
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

#[test]
fn services_in_profiles_run_only_when_one_is_active() {
    assert_eq!(containers(FILE, &options()), ["web"]);
    let with = |profiles: &[&str]| CompileOptions {
        profiles: profiles.iter().map(|p| p.to_string()).collect(),
        ..options()
    };
    assert_eq!(containers(FILE, &with(&["debug"])), ["debug", "web"]);
    assert_eq!(containers(FILE, &with(&["ci"])), ["test", "web"]);
    assert_eq!(containers(FILE, &with(&["*"])), ["debug", "test", "web"]);
    // COMPOSE_PROFILES from the env when no profile is given, comma-separated.
    let mut from_env = options();
    from_env
        .env
        .insert("COMPOSE_PROFILES".into(), "debug, test".into());
    assert_eq!(containers(FILE, &from_env), ["debug", "test", "web"]);
    // The option wins over the env.
    let mut both = with(&["ci"]);
    both.env.insert("COMPOSE_PROFILES".into(), "debug".into());
    assert_eq!(containers(FILE, &both), ["test", "web"]);
}

#[test]
fn a_dependency_on_a_service_left_out_is_an_error_unless_not_required() {
    let text = "services:\n  app:\n    image: app\n    depends_on:\n      tools:\n        condition: service_started\n  tools:\n    image: t\n    profiles: [dev]\n";
    let compiled = compile(text, &options());
    let error = compiled
        .diagnostics
        .iter()
        .find(|d| d.code == codes::UNKNOWN_DEPENDENCY)
        .expect("refused");
    assert_eq!(
        (error.severity, error.line, error.column),
        (Severity::Error, 5, 7)
    );
    assert!(
        error.message.contains("only runs with profile `dev`"),
        "{}",
        error.message
    );
    let optional = text.replace(
        "condition: service_started",
        "condition: service_started\n        required: false",
    );
    let compiled = compile(&optional, &options());
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    assert!(
        compiled
            .diagnostics
            .iter()
            .any(|d| d.code == codes::UNKNOWN_DEPENDENCY && d.severity == Severity::Warning)
    );
    assert_eq!(containers(&optional, &options()), ["app"]);
}

#[test]
fn nothing_enabled_says_which_profiles_would_and_bad_names_are_refused() {
    let text = "services:\n  a:\n    image: a\n    profiles: [dev]\n";
    let errors: Vec<_> = compile(text, &options())
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, codes::NO_SERVICES);
    assert!(
        errors[0].message.contains("activate one of `dev`"),
        "{}",
        errors[0].message
    );
    let bad = compile(
        "services:\n  a:\n    image: a\n    profiles: [\"-x\"]\n",
        &options(),
    );
    let error = bad
        .diagnostics
        .iter()
        .find(|d| d.code == codes::INVALID_NAME)
        .expect("refused");
    assert_eq!((error.line, error.column), (4, 16));
}

#[test]
fn build_without_image_takes_the_policys_image_template() {
    let text = "name: shop\nservices:\n  api:\n    build: ./api\n  db:\n    image: postgres\n";
    let refused = compile(text, &options());
    let error = refused
        .diagnostics
        .iter()
        .find(|d| d.is_error())
        .expect("refused");
    assert!(
        error.message.contains("`image_template`"),
        "{}",
        error.message
    );
    let mut options = options();
    options.policy.image_template = "registry.example.org/{project}-{service}:latest".into();
    let compiled = compile(text, &options);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let warning = compiled
        .diagnostics
        .iter()
        .find(|d| d.line == 4)
        .expect("said at build:");
    assert!(
        warning
            .message
            .contains("registry.example.org/shop-api:latest")
    );
    let pod = pod(compiled);
    let images: Vec<_> = pod
        .containers
        .iter()
        .map(|c| c.image.clone().unwrap())
        .collect();
    assert_eq!(images, ["registry.example.org/shop-api:latest", "postgres"]);
}
