//! One row per diagnostic code: a compose text that triggers it, and the exact line and column
//! where it must point.

use std::collections::BTreeMap;
use tycho_compiler::{CompileOptions, Policy, codes, compile};

struct Case {
    code: &'static str,
    text: &'static str,
    line: usize,
    column: usize,
}

const fn case(code: &'static str, text: &'static str, line: usize, column: usize) -> Case {
    Case {
        code,
        text,
        line,
        column,
    }
}

const CASES: &[Case] = &[
    case(
        codes::HOME_NOT_OFFERED,
        "x-tycho:\n  home: /home/jovyan\nservices:\n  web:\n    image: a\n",
        2,
        9,
    ),
    case(
        codes::UNDECLARED,
        "services:\n  web:\n    image: a\n    networks: [front]\n",
        4,
        16,
    ),
    case(
        codes::DEPENDENCY_CYCLE,
        "services:\n  a:\n    image: a\n    depends_on: [b]\n  b:\n    image: b\n    depends_on: [a]\n",
        7,
        18,
    ),
    case(
        codes::CONFLICTING_KEYS,
        "services:\n  a:\n    image: a\n    container_name: x\n  b:\n    image: b\n    container_name: x\n",
        7,
        21,
    ),
    case(codes::YAML_SYNTAX, "services:\n  web: [1, 2\n", 3, 1),
    case(
        codes::DUPLICATE_KEY,
        "services:\n  web:\n    image: a\n    image: b\n",
        4,
        5,
    ),
    case(
        codes::MULTIPLE_DOCUMENTS,
        "services: {}\n---\nservices: {}\n",
        2,
        1,
    ),
    case(codes::ROOT_NOT_MAPPING, "- just\n- a list\n", 1, 1),
    case(codes::ALIAS_EXPANSION, BOMB, 6, 10),
    case(
        codes::INVALID_MERGE,
        "services:\n  web:\n    <<: 3\n    image: a\n",
        3,
        9,
    ),
    case(
        codes::UNKNOWN_KEY,
        "services:\n  web:\n    image: a\n    imgae: b\n",
        4,
        5,
    ),
    case(
        codes::NOT_TRANSLATED,
        "services:\n  web:\n    image: a\n    build: .\n",
        4,
        5,
    ),
    case(
        codes::WRONG_TYPE,
        "services:\n  web:\n    image: a\n    ports: 80\n",
        4,
        12,
    ),
    case(
        codes::DEPRECATED_ALIAS,
        "services:\n  web:\n    image: a\n    env: [A=1]\n",
        4,
        5,
    ),
    case(
        codes::MISSING_KEY,
        "services:\n  web:\n    ports: [\"80\"]\n",
        2,
        3,
    ),
    case(
        codes::INVALID_VALUE,
        "services:\n  web:\n    image: a\n    restart: sometimes\n",
        4,
        14,
    ),
    case(
        codes::UNSET_VARIABLE,
        "services:\n  web:\n    image: \"nginx:${TAG}\"\n",
        3,
        19,
    ),
    case(
        codes::REQUIRED_VARIABLE,
        "services:\n  web:\n    image: ${IMAGE:?give an image}\n",
        3,
        12,
    ),
    case(
        codes::INVALID_INTERPOLATION,
        "services:\n  web:\n    image: a\n    command: echo ${1}\n",
        4,
        19,
    ),
    case(
        codes::RESERVED_VARIABLE,
        "services:\n  web:\n    image: a\n    environment:\n      TYCHO_BASE_PATH: /x/\n",
        5,
        7,
    ),
    case(
        codes::INVALID_NAME,
        "services:\n  Web_App:\n    image: a\n",
        2,
        3,
    ),
    case(codes::NAME_TOO_LONG, LONG_NAME, 2, 3),
    case(
        codes::INVALID_PORT,
        "services:\n  web:\n    image: a\n    ports:\n      - \"80:70000\"\n",
        5,
        9,
    ),
    case(
        codes::PORT_CLASH,
        "services:\n  a:\n    image: a\n    expose: [\"80\"]\n  b:\n    image: b\n    ports: [\"8080:80\"]\n",
        7,
        13,
    ),
    case(
        codes::UNKNOWN_VOLUME,
        "services:\n  web:\n    image: a\n    volumes:\n      - data:/data\n",
        5,
        9,
    ),
    case(
        codes::UNKNOWN_DEPENDENCY,
        "services:\n  web:\n    image: a\n    depends_on: [db]\n",
        4,
        18,
    ),
    case(
        codes::INVALID_QUANTITY,
        "services:\n  web:\n    image: a\n    mem_limit: lots\n",
        4,
        16,
    ),
    case(codes::NO_SERVICES, "services: {}\n", 1, 1),
    case(
        codes::INVALID_VOLUME,
        "services:\n  web:\n    image: a\n    volumes: [\"~/data:/data\"]\n",
        4,
        15,
    ),
    case(
        codes::FOLDER_BECOMES_VOLUME,
        "services:\n  web:\n    image: a\n    volumes: [\"./data:/data\"]\n",
        4,
        15,
    ),
    case(
        codes::OUTSIDE_PROJECT,
        "services:\n  web:\n    image: a\n    volumes:\n      - ../shared/x.conf:/x.conf\n",
        5,
        9,
    ),
    case(
        codes::MISSING_FILE,
        "services:\n  web:\n    image: a\n    env_file: [base.env, ./web.env]\n",
        4,
        16,
    ),
    case(
        codes::EXTERNAL_REFUSED,
        "services:\n  web:\n    image: a\n    configs: [site]\nconfigs:\n  site:\n    external: true\n",
        7,
        15,
    ),
    case(
        codes::INVALID_COMMAND,
        "services:\n  web:\n    image: a\n    command: echo 'oops\n",
        4,
        19,
    ),
    case(
        codes::INVALID_DURATION,
        "services:\n  web:\n    image: a\n    stop_grace_period: soon\n",
        4,
        24,
    ),
    case(codes::REQUEST_ABOVE_LIMIT, RESERVATION_ABOVE_LIMIT, 9, 17),
    case(
        codes::UNKNOWN_CONNECT_PORT,
        "x-tycho:\n  connect:\n    port: 9000\nservices:\n  web:\n    image: a\n    ports: [\"80\"]\n",
        3,
        11,
    ),
    case(
        codes::INVALID_ANNOTATION_KEY,
        "services:\n  web:\n    image: a\n    labels:\n      \"bad key\": x\n",
        5,
        7,
    ),
    case(
        codes::RESERVED_ANNOTATION_KEY,
        "services:\n  web:\n    image: a\n    labels:\n      container.apparmor.security.beta.kubernetes.io/web: unconfined\n",
        5,
        7,
    ),
    case(
        codes::CLAIM_NOT_ALLOWED,
        "services:\n  web:\n    image: a\n    volumes: [\"pvc://home/bob:/home\"]\n",
        4,
        15,
    ),
    case(
        codes::PROBE_HOST_REFUSED,
        "services:\n  web:\n    image: a\n    ext:\n      kube:\n        livenessProbe:\n          httpGet: {host: example.org, port: 80}\n",
        7,
        27,
    ),
    case(
        codes::HOST_PATH_REFUSED,
        "services:\n  web:\n    image: a\n    volumes: [\"/etc:/host-etc\"]\n",
        4,
        15,
    ),
    case(
        codes::PRIVILEGED_REFUSED,
        "services:\n  web:\n    image: a\n    privileged: true\n",
        4,
        17,
    ),
    case(
        codes::CAP_ADD_REFUSED,
        "services:\n  web:\n    image: a\n    cap_add: [NET_ADMIN]\n",
        4,
        15,
    ),
    case(
        codes::ROOT_REFUSED,
        "services:\n  web:\n    image: a\n    user: \"0\"\n",
        4,
        11,
    ),
    case(
        codes::ABOVE_POLICY_MAX,
        "services:\n  web:\n    image: a\n    cpus: 64\n",
        4,
        11,
    ),
    case(
        codes::INVALID_OPTION,
        "services:\n  web:\n    image: a\n",
        0,
        0,
    ),
    // Options, not the file: no position.
    case(
        codes::INVALID_CIDR,
        "services:\n  web:\n    image: a\n",
        0,
        0,
    ),
    case(
        codes::CIDR_NOT_ALLOWED,
        "services:\n  web:\n    image: a\n",
        0,
        0,
    ),
    case(
        codes::CONTROLLER_NOT_ADMITTED,
        "services:\n  web:\n    image: a\n    ports: [\"80\"]\n",
        0,
        0,
    ),
    case(
        codes::REWRITE_NOT_APPLIED,
        "services:\n  web:\n    image: a\n    ports: [\"80\"]\nx-tycho:\n  connect:\n    rewrite: strip\n",
        0,
        0,
    ),
    case(
        codes::ROUTE_NOT_UNIQUE,
        "services:\n  web:\n    image: a\n    ports: [\"80\"]\n",
        0,
        0,
    ),
];

const BOMB: &str = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]
a1: &a1 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]
a2: &a2 [*a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1, *a1]
a3: &a3 [*a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2, *a2]
a4: &a4 [*a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3, *a3]
a5: &a5 [*a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4, *a4]
a6: &a6 [*a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5, *a5]
a7: &a7 [*a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6, *a6]
a8: &a8 [*a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7, *a7]
a9: &a9 [*a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8, *a8]
b: [*a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9, *a9]
";

const LONG_NAME: &str = "services:\n  a-service-name-that-goes-on-and-on-and-on-well-past-what-kubernetes-allows:\n    image: a\n";

const RESERVATION_ABOVE_LIMIT: &str = "services:
  web:
    image: a
    deploy:
      resources:
        limits:
          cpus: '1'
        reservations:
          cpus: '2'
";

fn options_for(code: &str) -> CompileOptions {
    let mut options = CompileOptions {
        guid: "abc".into(),
        env: BTreeMap::new(),
        ..Default::default()
    };
    if code == codes::INVALID_OPTION {
        options.name = "Not A Name".into();
    }
    if code == codes::INVALID_CIDR {
        options.client_cidrs = vec!["10.0.0/8".into()];
    }
    if code == codes::CIDR_NOT_ALLOWED {
        options.client_cidrs = vec!["10.0.0.0/8".into()];
    }
    options.policy = Policy::default();
    if [
        codes::CONTROLLER_NOT_ADMITTED,
        codes::REWRITE_NOT_APPLIED,
        codes::ROUTE_NOT_UNIQUE,
    ]
    .contains(&code)
    {
        options.policy.connect.mode = tycho_compiler::ConnectMode::Ingress;
        options.policy.connect.ingress.host = "apps.example.org".into();
    }
    if code == codes::ROUTE_NOT_UNIQUE {
        options.policy.connect.ingress.path = "/shared/".into();
    }
    options
}

#[test]
fn every_code_points_at_the_right_place() {
    let mut failures = Vec::new();
    for case in CASES {
        let compiled = compile(case.text, &options_for(case.code));
        let found = compiled.diagnostics.iter().find(|d| d.code == case.code);
        match found {
            Some(d) if (d.line, d.column) == (case.line, case.column) => {}
            Some(d) => failures.push(format!(
                "{}: expected {}:{}, got {}:{} ({})",
                case.code, case.line, case.column, d.line, d.column, d.message
            )),
            None => failures.push(format!(
                "{}: not reported; got {:?}",
                case.code, compiled.diagnostics
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_has_a_case() {
    let source = include_str!("../src/codes.rs");
    for line in source.lines().filter(|l| l.starts_with("pub const")) {
        let code = line.split('"').nth(1).expect("a code literal");
        let covered = CASES.iter().any(|c| c.code == code)
            || [
                codes::UNKNOWN_ALIAS,
                codes::INPUT_TOO_LARGE,
                codes::NESTING_TOO_DEEP,
                // Needs 256 KiB of text: `annotations_over_256_kib_are_refused_where_they_cross`.
                codes::ANNOTATIONS_TOO_LARGE,
                // Needs files sent beside the text: tests/files.rs.
                codes::FILES_TOO_LARGE,
            ]
            .contains(&code);
        assert!(covered, "{code} has no test case");
    }
}

#[test]
fn errors_block_the_plan_and_warnings_do_not() {
    let options = CompileOptions {
        guid: "abc".into(),
        ..Default::default()
    };
    let warned = compile("services:\n  web:\n    image: a\n    build: .\n", &options);
    assert!(warned.plan.is_some() && !warned.diagnostics.is_empty());
    let failed = compile("services:\n  web:\n    image: a\n    imgae: b\n", &options);
    assert!(failed.plan.is_none());
    assert!(
        failed.diagnostics[0]
            .message
            .contains("did you mean `image`"),
        "{}",
        failed.diagnostics[0].message
    );
}

#[test]
fn policy_can_allow_what_the_default_refuses() {
    let text = "services:\n  web:\n    image: a\n    privileged: true\n    cap_add: [NET_ADMIN]\n    user: \"0\"\n    volumes: [\"/data/x:/x\"]\n";
    let mut options = CompileOptions {
        guid: "abc".into(),
        ..Default::default()
    };
    options.policy.allow_privileged = true;
    options.policy.allow_cap_add = true;
    options.policy.allow_root = true;
    options.policy.allowed_host_paths = vec!["/data".into()];
    let compiled = compile(text, &options);
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    let yaml = compiled.plan.unwrap().to_yaml();
    assert!(
        yaml.contains("privileged: true")
            && yaml.contains("NET_ADMIN")
            && yaml.contains("path: /data/x"),
        "{yaml}"
    );
}
