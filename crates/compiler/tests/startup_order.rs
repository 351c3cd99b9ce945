//! `depends_on` in Tycho's one pod (issue 13, item 3): what others wait for starts first, as an
//! init container, a native sidecar (`restartPolicy: Always`) or a gated sidecar whose startup
//! probe is its healthcheck.

use k8s_openapi::api::core::v1::{Container, PodSpec};
use tycho_compiler::{CompileOptions, Diagnostic, Policy, codes, compile};

fn options(policy: Policy) -> CompileOptions {
    CompileOptions {
        guid: "abc".into(),
        policy,
        ..Default::default()
    }
}

fn pod(text: &str, policy: Policy) -> (PodSpec, Vec<Diagnostic>) {
    let compiled = compile(text, &options(policy));
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = compiled.plan.expect("a plan");
    let spec = plan
        .deployment
        .spec
        .and_then(|s| s.template.spec)
        .expect("a pod spec");
    (spec, compiled.diagnostics)
}

fn names(containers: &[Container]) -> Vec<&str> {
    containers.iter().map(|c| c.name.as_str()).collect()
}

const WEB_APP: &str = "services:
  web:
    image: web
    depends_on:
      db:
        condition: service_healthy
      migrate:
        condition: service_completed_successfully
      cache:
        condition: service_started
  db:
    image: postgres:16
    healthcheck:
      test: [\"CMD\", \"pg_isready\"]
      interval: 10s
      retries: 5
      start_period: 30s
  migrate:
    image: web
    command: migrate
    depends_on:
      db:
        condition: service_healthy
  cache:
    image: redis:7
    healthcheck:
      test: [\"CMD\", \"redis-cli\", \"ping\"]
";

#[test]
fn dependencies_start_first_in_the_order_they_need() {
    let (pod, _) = pod(WEB_APP, Policy::default());
    assert_eq!(names(&pod.containers), ["web"]);
    let init = pod.init_containers.expect("init containers");
    // db before migrate (migrate waits for it); cache after, in file order.
    assert_eq!(names(&init), ["db", "migrate", "cache"]);

    let db = &init[0];
    assert_eq!(db.restart_policy.as_deref(), Some("Always"), "a sidecar");
    let startup = db.startup_probe.as_ref().expect("gated by its healthcheck");
    assert_eq!(
        startup.exec.as_ref().and_then(|e| e.command.clone()),
        Some(vec!["pg_isready".to_string()])
    );
    // Checked every 5 s for the start period plus the retries: (30 + 10 × 5) / 5.
    assert_eq!(
        (startup.period_seconds, startup.failure_threshold),
        (Some(5), Some(16))
    );
    assert!(db.readiness_probe.is_some(), "still reports readiness");

    let migrate = &init[1];
    assert_eq!(migrate.restart_policy, None, "runs to completion");
    assert!(migrate.readiness_probe.is_none() && migrate.liveness_probe.is_none());

    let cache = &init[2];
    assert_eq!(cache.restart_policy.as_deref(), Some("Always"));
    assert!(
        cache.startup_probe.is_none(),
        "service_started waits for nothing"
    );
}

#[test]
fn the_strongest_condition_decides_and_chains_are_ordered() {
    let text = "services:
  app:
    image: a
    depends_on: [worker]
  worker:
    image: w
    depends_on:
      setup:
        condition: service_completed_successfully
  setup:
    image: s
  other:
    image: o
    depends_on:
      setup:
        condition: service_started
";
    let (pod, _) = pod(text, Policy::default());
    assert_eq!(names(&pod.containers), ["app", "other"]);
    let init = pod.init_containers.expect("init containers");
    assert_eq!(names(&init), ["setup", "worker"]);
    assert_eq!(init[0].restart_policy, None, "completed_successfully wins");
    assert_eq!(init[1].restart_policy.as_deref(), Some("Always"));
}

#[test]
fn waiting_for_health_needs_a_healthcheck() {
    let text = "services:
  web:
    image: web
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres
";
    let errors: Vec<Diagnostic> = compile(text, &options(Policy::default()))
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].code.as_str(), errors[0].line, errors[0].column),
        (codes::INVALID_VALUE, 6, 20)
    );
    assert!(
        errors[0].message.contains("`db` has no healthcheck"),
        "{}",
        errors[0].message
    );

    let bad = "services:\n  web:\n    image: a\n    depends_on:\n      db:\n        condition: service_ready\n  db:\n    image: b\n";
    let errors: Vec<Diagnostic> = compile(bad, &options(Policy::default()))
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    assert!(
        matches!(errors.as_slice(), [e] if e.message.contains("`service_ready` is not one of")),
        "{errors:#?}"
    );
}

#[test]
fn without_native_sidecars_everything_starts_together_with_a_warning() {
    let policy = Policy {
        sidecars: false,
        ..Policy::default()
    };
    let (pod, diagnostics) = pod(WEB_APP, policy);
    assert_eq!(names(&pod.containers), ["web", "db", "migrate", "cache"]);
    assert!(pod.init_containers.is_none());
    let warned: Vec<(usize, usize)> = diagnostics
        .iter()
        .filter(|d| d.message.contains("`sidecars: false`"))
        .map(|d| (d.line, d.column))
        .collect();
    // Each condition that can no longer be kept, at the condition (service_started is kept
    // well enough by starting together).
    assert_eq!(warned, vec![(6, 20), (8, 20), (23, 20)]);
}
