//! What a hostile file may not get past the compiler: annotations Kubernetes or Tycho act on,
//! other users' claims, probes of other hosts, and systems beyond the operator's caps. Each
//! refusal is checked at its line and column, and with the policy key an operator would change.

use tycho_compiler::{CompileOptions, Diagnostic, codes, compile};

fn options() -> CompileOptions {
    CompileOptions {
        guid: "abc".into(),
        username: "alice".into(),
        ..Default::default()
    }
}

fn errors(text: &str, options: &CompileOptions) -> Vec<Diagnostic> {
    compile(text, options)
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect()
}

/// The only error `text` gets must be `code` at `line:column`; returns its message.
#[track_caller]
fn only_error(
    text: &str,
    options: &CompileOptions,
    code: &str,
    line: usize,
    column: usize,
) -> String {
    let errors = errors(text, options);
    assert!(
        matches!(errors.as_slice(), [e] if e.code == code && (e.line, e.column) == (line, column)),
        "expected only {code} at {line}:{column}, got {errors:#?}"
    );
    errors[0].message.clone()
}

#[track_caller]
fn compiles(text: &str, options: &CompileOptions) -> tycho_compiler::Plan {
    let compiled = compile(text, options);
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    compiled.plan.expect("a plan")
}

// ---- 1. annotations ----

#[test]
fn apparmor_and_other_kubernetes_annotations_are_refused_at_their_key() {
    let text = "services:
  web:
    image: a
    labels:
      - container.apparmor.security.beta.kubernetes.io/web=unconfined
  db:
    image: b
    annotations:
      seccomp.security.alpha.kubernetes.io/pod: unconfined
      node.k8s.io/x: y
volumes:
  data:
    labels:
      tycho.io/username: bob
";
    let found: Vec<_> = errors(text, &options())
        .into_iter()
        .map(|e| (e.code, e.line, e.column))
        .collect();
    let reserved = codes::RESERVED_ANNOTATION_KEY.to_string();
    assert_eq!(
        found,
        vec![
            (reserved.clone(), 5, 9),
            (reserved.clone(), 9, 7),
            (reserved.clone(), 10, 7),
            (reserved, 14, 7),
        ]
    );
}

#[test]
fn tychos_own_label_keys_are_refused_as_annotations() {
    for key in ["tycho-guid", "executor", "username", "x.tycho.io/connect"] {
        let text = format!("services:\n  web:\n    image: a\n    labels:\n      {key}: v\n");
        let message = only_error(&text, &options(), codes::RESERVED_ANNOTATION_KEY, 5, 7);
        assert!(message.contains(key), "{message}");
    }
}

#[test]
fn annotation_keys_the_api_server_refuses_are_refused_here() {
    for key in [
        "\"a b\"",
        "\"-x\"",
        "\"Example.org/x\"",
        "\"a/b/c\"",
        &"k".repeat(64),
    ] {
        let text = format!("services:\n  web:\n    image: a\n    labels:\n      {key}: v\n");
        only_error(&text, &options(), codes::INVALID_ANNOTATION_KEY, 5, 7);
    }
}

#[test]
fn ordinary_labels_become_pod_and_claim_annotations() {
    let text = "services:
  web:
    image: a
    labels:
      com.example.team: research
      traefik.enable: \"false\"
    volumes: [\"data:/data\"]
volumes:
  data:
    labels:
      org.example/backup: daily
";
    let yaml = compiles(text, &options()).to_yaml();
    assert!(yaml.contains("com.example.team: research"), "{yaml}");
    assert!(yaml.contains("org.example/backup: daily"), "{yaml}");
}

#[test]
fn annotations_over_256_kib_are_refused_where_they_cross() {
    let big = "x".repeat(100 * 1024);
    let text = format!(
        "services:\n  web:\n    image: a\n    labels:\n      a: {big}\n      b: {big}\n  db:\n    image: b\n    labels:\n      c: {big}\n"
    );
    let message = only_error(&text, &options(), codes::ANNOTATIONS_TOO_LARGE, 10, 7);
    assert!(message.contains("262144"), "{message}");
    // One key given again replaces its value, as in the object: no double counting.
    let text = format!(
        "services:\n  web:\n    image: a\n    labels:\n      a: {big}\n      b: {big}\n  db:\n    image: b\n    labels:\n      a: {big}\n"
    );
    compiles(&text, &options());
}

// ---- 2. existing claims ----

fn with_claims(username: &str, claims: &[&str]) -> CompileOptions {
    let mut options = options();
    options.username = username.into();
    options.policy.allowed_claims = claims.iter().map(|c| c.to_string()).collect();
    options
}

fn mount(source: &str) -> String {
    format!("services:\n  web:\n    image: a\n    volumes:\n      - {source}:/mnt\n")
}

#[test]
fn by_default_no_existing_claim_may_be_mounted() {
    let message = only_error(
        &mount("pvc://cloud-top/projects"),
        &options(),
        codes::CLAIM_NOT_ALLOWED,
        5,
        9,
    );
    assert!(
        message.contains("`allowed_claims`") && message.contains("no existing claim"),
        "{message}"
    );
}

#[test]
fn a_home_template_admits_the_users_own_directory_only() {
    let alice = with_claims("alice", &["home/{username}", "scratch"]);
    for ok in [
        "pvc://home/alice",
        "pvc://home/alice/notebooks",
        "pvc://scratch",
        "pvc://scratch/any/where",
    ] {
        let plan = compiles(&mount(ok), &alice);
        assert!(plan.to_yaml().contains("claimName:"), "{ok}");
    }
    for refused in [
        "pvc://home/bob",
        "pvc://home",
        "pvc://home/alice2",
        "pvc://homes/alice",
        "pvc://other",
    ] {
        let message = only_error(&mount(refused), &alice, codes::CLAIM_NOT_ALLOWED, 5, 9);
        assert!(message.contains("home/{username}, scratch"), "{message}");
    }
}

#[test]
fn a_username_cannot_reach_another_users_directory() {
    for username in ["../bob", "bob/..", "*", "", ".", "alice\nbob"] {
        let options = with_claims(username, &["home/{username}"]);
        for target in ["pvc://home/bob", "pvc://home"] {
            only_error(&mount(target), &options, codes::CLAIM_NOT_ALLOWED, 5, 9);
        }
    }
}

#[test]
fn subpaths_that_leave_their_directory_are_refused_even_when_the_claim_is_allowed() {
    let alice = with_claims("alice", &["home/{username}", "scratch"]);
    for bad in [
        "pvc://home/alice/../bob",
        "pvc://scratch/..",
        "pvc://scratch//etc",
        "pvc://scratch/a//b",
    ] {
        only_error(&mount(bad), &alice, codes::INVALID_VOLUME, 5, 9);
    }
    let long = "services:
  web:
    image: a
    volumes:
      - type: volume
        source: pvc://home
        target: /mnt
        volume:
          subpath: alice/../bob
";
    only_error(long, &alice, codes::INVALID_VOLUME, 9, 20);
}

#[test]
fn external_volumes_are_existing_claims_too() {
    let text = "services:
  web:
    image: a
    volumes:
      - shared:/shared
      - type: volume
        source: homes
        target: /home/me
        volume:
          subpath: alice
volumes:
  shared:
    external: true
  homes:
    external:
      name: home
";
    let found: Vec<_> = errors(text, &options())
        .into_iter()
        .map(|e| (e.code, e.line, e.column))
        .collect();
    let refused = codes::CLAIM_NOT_ALLOWED.to_string();
    assert_eq!(found, vec![(refused.clone(), 5, 9), (refused, 6, 9)]);
    let plan = compiles(text, &with_claims("alice", &["shared", "home/{username}"]));
    assert!(plan.to_yaml().contains("claimName: home"));
}

#[test]
fn a_malformed_allowed_claims_entry_is_the_operators_error() {
    let options = with_claims("alice", &["home/../{username}"]);
    let errors = errors(&mount("pvc://home/alice"), &options);
    assert!(
        errors
            .iter()
            .any(|e| e.code == codes::INVALID_OPTION && e.message.contains("allowed_claims")),
        "{errors:#?}"
    );
}

// ---- 6. probes ----

#[test]
fn probes_of_other_hosts_are_refused_at_the_host() {
    let text = "services:
  web:
    image: a
    ext:
      kube:
        livenessProbe:
          httpGet:
            path: /
            port: 80
            host: 169.254.169.254
        readinessProbe:
          tcpSocket:
            port: 5432
            host: db.other-namespace
";
    let found: Vec<_> = errors(text, &options())
        .into_iter()
        .map(|e| (e.code, e.line, e.column))
        .collect();
    let refused = codes::PROBE_HOST_REFUSED.to_string();
    assert_eq!(found, vec![(refused.clone(), 10, 19), (refused, 14, 19)]);
    let without_host = text
        .replace("            host: 169.254.169.254\n", "")
        .replace(
            "            host: db.other-namespace\n",
            "            host: \"\"\n",
        );
    compiles(&without_host, &options());
}

// ---- 10, 11. caps ----

#[track_caller]
fn above_cap(text: &str, key: &str, line: usize, column: usize) {
    let message = only_error(text, &options(), codes::ABOVE_POLICY_MAX, line, column);
    assert!(message.contains(&format!("policy `{key}`")), "{message}");
}

#[test]
fn a_hundred_services_of_eight_cpus_do_not_make_one_pod_of_800() {
    let mut text = String::from("services:\n");
    for i in 0..3 {
        text.push_str(&format!(
            "  s{i}:\n    image: a\n    cpus: 8\n    mem_limit: 8g\n"
        ));
    }
    // 8 + 8 fit the default 16 CPUs; the third service's 8 do not.
    above_cap(&text, "max_pod_resources.cpu", 12, 11);
    let mut options = options();
    options.policy.max_pod_resources.cpu = "24".into();
    compiles(&text, &options);
}

#[test]
fn replicas_multiply_the_pod() {
    let text =
        "services:\n  web:\n    image: a\n    mem_limit: 24g\n    deploy:\n      replicas: 3\n";
    // One pod of 24 GiB fits 64 GiB; three do not. Reported at the replica count.
    above_cap(text, "max_pod_resources.memory", 6, 17);
    let gpus = "services:\n  a:\n    image: a\n    gpus: 1\n  b:\n    image: b\n    gpus: 1\n  c:\n    image: c\n    gpus: 1\n";
    above_cap(gpus, "max_pod_resources.gpus", 10, 11);
}

#[test]
fn services_ports_and_replicas_are_capped() {
    let mut text = String::from("services:\n");
    for i in 0..21 {
        text.push_str(&format!(
            "  s{i}:\n    image: a\n    mem_limit: 1m\n    cpus: 0.1\n"
        ));
    }
    // The 21st service (s20) starts at line 2 + 20 * 4.
    above_cap(&text, "max_services", 82, 3);
    let ports = "services:\n  web:\n    image: a\n    ports:\n      - \"8000-8099:8000-8099\"\n      - \"9000\"\n";
    above_cap(ports, "max_published_ports", 6, 9);
    above_cap(
        "services:\n  web:\n    image: a\n    scale: 11\n",
        "max_replicas",
        4,
        12,
    );
}

#[test]
fn claims_tmpfs_and_shared_memory_are_capped() {
    let big = "services:\n  web:\n    image: a\n    volumes: [\"data:/data\"]\nvolumes:\n  data:\n    x-tycho-size: 200Gi\n";
    above_cap(big, "max_volume_size", 7, 19);
    let mut many = String::from("services:\n  web:\n    image: a\n    volumes:\n");
    for i in 0..6 {
        many.push_str(&format!("      - v{i}:/v{i}\n"));
    }
    many.push_str("volumes:\n");
    for i in 0..6 {
        many.push_str(&format!("  v{i}:\n    driver_opts:\n      size: 100Gi\n"));
    }
    // Five claims of 100 GiB make the 500 GiB allowed; the sixth's size crosses it.
    above_cap(&many, "max_total_volume_size", 29, 13);
    above_cap(
        "services:\n  web:\n    image: a\n    tmpfs: [\"/run:size=4g\"]\n",
        "max_tmpfs_size",
        4,
        13,
    );
    above_cap(
        "services:\n  web:\n    image: a\n    shm_size: 8g\n",
        "max_shm_size",
        4,
        15,
    );
    compiles(
        "services:\n  web:\n    image: a\n    shm_size: 2g\n    tmpfs: [\"/run:size=1g\"]\n",
        &options(),
    );
}

#[test]
fn stop_grace_period_is_capped() {
    above_cap(
        "services:\n  web:\n    image: a\n    stop_grace_period: 999999999h\n",
        "max_stop_grace_period_seconds",
        4,
        24,
    );
    let plan = compiles(
        "services:\n  web:\n    image: a\n    stop_grace_period: 5m\n",
        &options(),
    );
    assert!(
        plan.to_yaml()
            .contains("terminationGracePeriodSeconds: 300")
    );
}

#[test]
fn an_unreadable_cap_is_reported_not_ignored() {
    let mut options = options();
    options.policy.max_pod_resources.memory = "lots".into();
    let errors = errors("services:\n  web:\n    image: a\n", &options);
    assert!(
        errors
            .iter()
            .any(|e| e.code == codes::INVALID_OPTION
                && e.message.contains("max_pod_resources.memory")),
        "{errors:#?}"
    );
}
