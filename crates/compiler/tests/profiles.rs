//! The policy's security profiles, named after the Pod Security Standards (issue 13, item 2):
//! `restricted` (the default) and `baseline`, under which images that start as root run.

use k8s_openapi::api::core::v1::{PodSpec, SecurityContext};
use tycho_compiler::{CompileOptions, Policy, SecurityProfile, codes, compile, parse_policy};

fn options(policy: Policy) -> CompileOptions {
    CompileOptions {
        guid: "abc".into(),
        policy,
        ..Default::default()
    }
}

fn pod(text: &str, policy: Policy) -> PodSpec {
    let compiled = compile(text, &options(policy));
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = compiled.plan.expect("a plan");
    plan.deployment
        .spec
        .and_then(|s| s.template.spec)
        .expect("a pod spec")
}

fn container_context(pod: &PodSpec) -> SecurityContext {
    pod.containers[0]
        .security_context
        .clone()
        .expect("a security context")
}

const POSTGRES: &str = "services:\n  db:\n    image: postgres:16\n";

#[test]
fn restricted_runs_non_root_with_every_capability_dropped() {
    let pod = pod(POSTGRES, Policy::default());
    let pod_context = pod.security_context.clone().expect("pod security context");
    assert_eq!(pod_context.run_as_non_root, Some(true));
    assert_eq!(
        pod_context.seccomp_profile.map(|s| s.type_).as_deref(),
        Some("RuntimeDefault")
    );
    let container = container_context(&pod);
    assert_eq!(
        container.capabilities.and_then(|c| c.drop),
        Some(vec!["ALL".to_string()])
    );
    assert_eq!(container.allow_privilege_escalation, Some(false));
}

#[test]
fn baseline_lets_a_root_image_run_with_the_default_capabilities_less_net_raw() {
    let baseline = Policy {
        profile: SecurityProfile::Baseline,
        ..Policy::default()
    };
    let pod = pod(POSTGRES, baseline.clone());
    let pod_context = pod.security_context.clone().expect("pod security context");
    assert_eq!(pod_context.run_as_non_root, None, "root may run");
    assert_eq!(
        pod_context.seccomp_profile.map(|s| s.type_).as_deref(),
        Some("RuntimeDefault")
    );
    let container = container_context(&pod);
    assert_eq!(
        container.capabilities.and_then(|c| c.drop),
        Some(vec!["NET_RAW".to_string()])
    );
    assert_eq!(container.allow_privilege_escalation, Some(false));
    assert_eq!(container.privileged, None);

    // A numeric user is honoured under both profiles.
    let as_user = "services:\n  db:\n    image: postgres:16\n    user: \"999:999\"\n";
    for policy in [Policy::default(), baseline.clone()] {
        let context = container_context(&self::pod(as_user, policy));
        assert_eq!(
            (context.run_as_user, context.run_as_group),
            (Some(999), Some(999))
        );
    }

    // Baseline is not privileged: those stay the operator's separate switches.
    let privileged = "services:\n  db:\n    image: postgres:16\n    privileged: true\n    cap_add: [NET_ADMIN]\n";
    let codes_seen: Vec<String> = compile(privileged, &options(baseline))
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .map(|d| d.code)
        .collect();
    assert_eq!(
        codes_seen,
        vec![
            codes::PRIVILEGED_REFUSED.to_string(),
            codes::CAP_ADD_REFUSED.to_string()
        ]
    );
}

#[test]
fn root_under_restricted_is_refused_naming_the_profile() {
    let compiled = compile(
        "services:\n  db:\n    image: postgres:16\n    user: \"0\"\n",
        &options(Policy::default()),
    );
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0].code, codes::ROOT_REFUSED);
    assert!(
        errors[0].message.contains("`profile: baseline`"),
        "{}",
        errors[0].message
    );
}

#[test]
fn the_profile_is_read_from_the_policy_file() {
    let policy = parse_policy("profile: baseline\n").expect("reads");
    assert_eq!(policy.profile, SecurityProfile::Baseline);
    assert_eq!(Policy::default().profile, SecurityProfile::Restricted);
    let error = parse_policy("profile: privileged\n").expect_err("not a profile");
    assert!(error.contains("privileged"), "{error}");
}

/// A file that says its images start as root (`x-tycho: {profile: baseline}`, as the catalog's
/// RStudio does) is refused under `restricted` before launch, at that line, with both ways out;
/// under `baseline` it compiles without `runAsNonRoot`.
#[test]
fn a_file_that_needs_the_baseline_profile_says_so_under_restricted() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../assets/catalog/rstudio/docker-compose.yaml"
    );
    let text = std::fs::read_to_string(path).expect("the catalog's RStudio");
    let line = text
        .lines()
        .position(|l| l.trim() == "profile: baseline")
        .expect("RStudio says it needs baseline")
        + 1;
    let options = tycho_compiler::CompileOptions {
        guid: "abc".into(),
        ..Default::default()
    };
    let compiled = tycho_compiler::compile(&text, &options);
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(
        (errors[0].code.as_str(), errors[0].line),
        (tycho_compiler::codes::ROOT_REFUSED, line)
    );
    assert!(
        errors[0]
            .message
            .contains("`profile: baseline` in the policy"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0].message.contains("numeric `user:`"),
        "{}",
        errors[0].message
    );
    let mut baseline = options.clone();
    baseline.policy.profile = tycho_compiler::SecurityProfile::Baseline;
    let plan = tycho_compiler::compile(&text, &baseline)
        .plan
        .expect("compiles under baseline");
    assert!(!plan.to_yaml().contains("runAsNonRoot"));
}
