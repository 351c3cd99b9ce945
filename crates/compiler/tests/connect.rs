//! Connect: the base path the app sees, the primary port behind Tycho's proxy, the Ambassador
//! mapping, and a NetworkPolicy that admits the Tycho server and only the CIDRs allowed.

use serde_json::Value;
use tycho_compiler::connect::{self, BASE_PATH_ENV, connect_path};
use tycho_compiler::{
    CompileOptions, Compiled, ConnectMode, ConnectTarget, Plan, Policy, PrimaryPort, Rewrite,
    Severity, codes, compile, labels,
};

const TWO_PORTS: &str = "services:
  web:
    image: a
    ports: [\"8080:80\", \"9000\"]
  api:
    image: b
    ports: [\"5000/udp\", \"7000:7001\"]
";

fn options() -> CompileOptions {
    CompileOptions {
        guid: "abc".into(),
        username: "alice".into(),
        ..Default::default()
    }
}

fn plan(compiled: &Compiled) -> &Plan {
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    compiled.plan.as_ref().expect("a plan")
}

fn env_of(plan: &Plan, container: usize) -> Vec<(String, String)> {
    let pod = plan
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref();
    pod.unwrap().containers[container]
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
        .collect()
}

fn with_code<'c>(compiled: &'c Compiled, code: &str) -> Vec<&'c tycho_compiler::Diagnostic> {
    compiled
        .diagnostics
        .iter()
        .filter(|d| d.code == code)
        .collect()
}

#[test]
fn base_path_is_the_same_in_env_and_interpolation_without_a_guid_option() {
    let text = "name: lab
services:
  nb:
    image: a
    command: start.sh --ServerApp.base_url=${TYCHO_BASE_PATH}
    ports: [\"8888\"]
";
    let options = CompileOptions::default();
    let compiled = compile(text, &options);
    let plan = plan(&compiled);
    // The GUID is derived as before (object names do not change) ...
    assert_eq!(plan.guid, tycho_compiler::content_guid(text, "lab"));
    let expected = connect_path(&plan.guid);
    // ... and the env, the interpolated command and the connect target agree on it.
    let env = env_of(plan, 0);
    assert_eq!(
        env.last(),
        Some(&(BASE_PATH_ENV.to_string(), expected.clone()))
    );
    let pod = plan
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref();
    let args = pod.unwrap().containers[0].args.clone().unwrap();
    assert_eq!(
        args,
        ["start.sh", &format!("--ServerApp.base_url={expected}")]
    );
    assert_eq!(plan.connect.as_ref().unwrap().path, expected);
}

#[test]
fn an_interpolated_name_gives_the_guid_and_base_path_of_that_name() {
    let text =
        "name: ${NAME:-lab}\nservices:\n  nb:\n    image: a\n    command: run ${TYCHO_BASE_PATH}\n";
    let mut options = CompileOptions::default();
    options.env.insert("NAME".into(), "other".into());
    let plan = plan(&compile(text, &options)).clone();
    assert_eq!(plan.name, "other");
    assert_eq!(plan.guid, tycho_compiler::content_guid(text, "other"));
    let pod = plan.deployment.spec.unwrap().template.spec.unwrap();
    let expected = connect_path(&plan.guid);
    assert_eq!(
        pod.containers[0].args.clone().unwrap(),
        ["run", expected.as_str()]
    );
}

#[test]
fn tycho_base_path_cannot_be_overridden() {
    let text = "services:
  web:
    image: a
    command: echo ${TYCHO_BASE_PATH}
    environment:
      A: \"1\"
      TYCHO_BASE_PATH: /mine/
";
    let mut options = options();
    options.env.insert(BASE_PATH_ENV.into(), "/request/".into());
    let compiled = compile(text, &options);
    let plan = plan(&compiled);
    assert_eq!(
        env_of(plan, 0),
        [
            ("A".to_string(), "1".to_string()),
            (BASE_PATH_ENV.to_string(), "/connect/abc/".to_string())
        ]
    );
    let pod = plan
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref();
    assert_eq!(
        pod.unwrap().containers[0].args.clone().unwrap(),
        ["echo", "/connect/abc/"]
    );
    let warnings = with_code(&compiled, codes::RESERVED_VARIABLE);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings.iter().all(|d| d.severity == Severity::Warning));
    assert_eq!((warnings[1].line, warnings[1].column), (7, 7));
}

#[test]
fn first_published_tcp_port_is_the_default_target() {
    let compiled = compile(TWO_PORTS, &options());
    let target = plan(&compiled).connect.clone().unwrap();
    assert_eq!(
        target,
        ConnectTarget {
            service: "web".into(),
            container_port: 80,
            port: 8080,
            path: "/connect/abc/".into(),
            rewrite: Rewrite::Keep,
            url: String::new(),
            served_by: tycho_compiler::connect::ServedBy::Proxy,
        }
    );
    let annotations = plan(&compiled)
        .deployment
        .metadata
        .annotations
        .clone()
        .unwrap();
    assert_eq!(connect::connect_target(&annotations), Some(target));
    assert!(annotations.contains_key(labels::ANNOTATION_CONNECT));
    assert_eq!(connect::port_path("abc", 9000), "/connect/abc.9000/");
}

#[test]
fn the_primary_option_wins_by_container_or_published_port() {
    for port in [7000, 7001] {
        let mut options = options();
        options.primary = Some(PrimaryPort {
            service: "api".into(),
            port,
        });
        let compiled = compile(TWO_PORTS, &options);
        let target = plan(&compiled).connect.clone().unwrap();
        assert_eq!(
            (target.service.as_str(), target.container_port, target.port),
            ("api", 7001, 7000)
        );
    }
}

#[test]
fn a_primary_option_that_is_not_published_names_the_ports() {
    let mut options = options();
    options.primary = Some(PrimaryPort {
        service: "api".into(),
        port: 5000,
    });
    let compiled = compile(TWO_PORTS, &options);
    assert!(compiled.plan.is_none());
    let errors = with_code(&compiled, codes::UNKNOWN_CONNECT_PORT);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("`api` 7000 (container 7001)"),
        "{}",
        errors[0].message
    );
}

#[test]
fn x_tycho_connect_chooses_the_port_and_the_rewrite() {
    let text = format!(
        "x-tycho:\n  title: T\n  connect: {{service: web, port: 9000, rewrite: /app/}}\nx-other: {{anything: 1}}\n{TWO_PORTS}"
    );
    let compiled = compile(&text, &options());
    let target = plan(&compiled).connect.clone().unwrap();
    assert_eq!((target.port, target.container_port), (9000, 9000));
    assert_eq!(target.rewrite, Rewrite::Target("/app/".into()));

    let strip = format!("x-tycho:\n  connect:\n    rewrite: strip\n{TWO_PORTS}");
    let target = plan(&compile(&strip, &options())).connect.clone().unwrap();
    assert_eq!((target.port, target.rewrite), (8080, Rewrite::Strip));

    let service_only = format!("x-tycho:\n  connect:\n    service: api\n{TWO_PORTS}");
    let target = plan(&compile(&service_only, &options()))
        .connect
        .clone()
        .unwrap();
    assert_eq!((target.service.as_str(), target.port), ("api", 7000));
}

#[test]
fn x_tycho_mistakes_point_at_the_key_or_value() {
    // (text before TWO_PORTS, code, line, column, message part)
    let rows: &[(&str, &str, usize, usize, &str)] = &[
        (
            "x-tycho:\n  conect: {}\n",
            codes::UNKNOWN_KEY,
            2,
            3,
            "did you mean `connect`",
        ),
        (
            "x-tycho:\n  connect:\n    rewrit: strip\n",
            codes::UNKNOWN_KEY,
            3,
            5,
            "did you mean `rewrite`",
        ),
        (
            "x-tycho:\n  connect:\n    rewrite: sometimes\n",
            codes::INVALID_VALUE,
            3,
            14,
            "`keep`, `strip`",
        ),
        (
            "x-tycho:\n  connect:\n    port: 70000\n",
            codes::INVALID_PORT,
            3,
            11,
            "65535",
        ),
        (
            "x-tycho:\n  connect:\n    service: db\n",
            codes::UNKNOWN_CONNECT_PORT,
            3,
            14,
            "service `db`",
        ),
        (
            "x-tycho:\n  connect: {service: web, port: 5000}\n",
            codes::UNKNOWN_CONNECT_PORT,
            2,
            33,
            "`web` 8080 (container 80), `web` 9000",
        ),
        ("x-tycho: [1]\n", codes::WRONG_TYPE, 1, 10, "mapping"),
    ];
    for (head, code, line, column, part) in rows {
        let text = format!("{head}{TWO_PORTS}");
        let compiled = compile(&text, &options());
        let found = with_code(&compiled, code);
        let Some(d) = found.first() else {
            panic!("{head:?}: no {code} in {:?}", compiled.diagnostics)
        };
        assert_eq!((d.line, d.column), (*line, *column), "{head:?}: {d:?}");
        assert!(d.message.contains(part), "{head:?}: {}", d.message);
        assert!(compiled.plan.is_none(), "{head:?} must not compile");
    }
}

#[test]
fn udp_only_and_none_mode_have_no_target() {
    let udp = "services:\n  dns:\n    image: a\n    ports: [\"53/udp\"]\n";
    assert_eq!(plan(&compile(udp, &options())).connect, None);

    let mut none = options();
    none.policy.connect.mode = ConnectMode::None;
    let compiled = compile(TWO_PORTS, &none);
    let plan = plan(&compiled);
    assert_eq!(plan.connect, None);
    assert_eq!(env_of(plan, 0).last().unwrap().1, "/");
    let annotations = plan.deployment.metadata.annotations.clone().unwrap();
    assert!(!annotations.contains_key(labels::ANNOTATION_CONNECT));
    // Nothing connects through Tycho: the server is not admitted either.
    let yaml = plan.to_yaml();
    assert!(!yaml.contains("DoesNotExist"), "{yaml}");
}

#[test]
fn old_ambassador_policies_mean_ambassador_mode() {
    let policy = tycho_compiler::parse_policy("ambassador: {enabled: true}\n").unwrap();
    assert_eq!(policy.connect_mode(), ConnectMode::Ambassador);
    let policy = tycho_compiler::parse_policy("connect: {mode: ambassador}\n").unwrap();
    assert_eq!(policy.connect_mode(), ConnectMode::Ambassador);
    assert_eq!(Policy::default().connect_mode(), ConnectMode::Proxy);
    assert!(tycho_compiler::parse_policy("connect: {mode: tunnel}\n").is_err());

    let mut options = options();
    options.name = "lab".into();
    options.policy = policy;
    let compiled = compile(TWO_PORTS, &options);
    let plan = plan(&compiled);
    let target = plan.connect.clone().unwrap();
    assert_eq!(target.path, "/private/lab/alice/abc/");
    assert_eq!(target.rewrite, Rewrite::Strip);
    assert_eq!(env_of(plan, 0).last().unwrap().1, "/private/lab/alice/abc/");
    let mapping = mapping(plan);
    assert_eq!(mapping["prefix"], "/private/lab/alice/abc/");
    assert_eq!(mapping["rewrite"], "/");
    assert_eq!(mapping["service"], "lab-abc:8080");
    assert_eq!(mapping["headers"]["remote_user"], "alice");
}

fn mapping(plan: &Plan) -> Value {
    let service = plan.service.as_ref().unwrap();
    let text = &service.metadata.annotations.as_ref().unwrap()["getambassador.io/config"];
    assert!(text.starts_with("---\n"), "{text}");
    let (root, findings) = tycho_yaml::parse(text);
    assert!(findings.is_empty(), "{findings:?}");
    root.unwrap().unwrap().to_json()
}

#[test]
fn a_username_cannot_inject_mapping_keys() {
    let mut options = options();
    options.username = "eve\nprefix: /private/\nrewrite: /".into();
    options.policy.connect.mode = ConnectMode::Ambassador;
    let compiled = compile(TWO_PORTS, &options);
    let plan = plan(&compiled);
    let text = &plan
        .service
        .as_ref()
        .unwrap()
        .metadata
        .annotations
        .as_ref()
        .unwrap()["getambassador.io/config"];
    // The whole username is one scalar under `remote_user:` (the YAML writer renders a
    // multi-line string as one literal block scalar, `|-`); no line starts a new key.
    assert_eq!(
        text.lines().filter(|l| l.starts_with("prefix:")).count(),
        1,
        "{text}"
    );
    let mapping = mapping(plan);
    assert_eq!(mapping["headers"]["remote_user"], options.username.as_str());
    assert_eq!(
        mapping["prefix"],
        format!("/private/system/{}/abc/", options.username).as_str()
    );
    assert_eq!(mapping["rewrite"], "/");
    assert_eq!(mapping.as_object().unwrap().len(), 10);
}

/// The source peers of the published-ports rule of the NetworkPolicy.
fn sources(plan: &Plan) -> Vec<Value> {
    let policy = serde_json::to_value(plan.network_policy.as_ref().unwrap()).unwrap();
    let ingress = policy["spec"]["ingress"].as_array().unwrap().clone();
    match ingress.get(1) {
        Some(rule) => rule["from"].as_array().unwrap().clone(),
        None => Vec::new(),
    }
}

fn cidrs(plan: &Plan) -> Vec<String> {
    sources(plan)
        .iter()
        .filter_map(|p| p["ipBlock"]["cidr"].as_str().map(String::from))
        .collect()
}

#[test]
fn the_server_pods_are_admitted_and_nothing_else_by_default() {
    let compiled = compile(TWO_PORTS, &options());
    let peers = sources(plan(&compiled));
    assert_eq!(
        peers,
        [serde_json::json!({"podSelector": {
            "matchLabels": {"app.kubernetes.io/name": "tycho", "app.kubernetes.io/component": "api"},
            "matchExpressions": [{"key": "executor", "operator": "DoesNotExist"}],
        }})]
    );
    let mut options = options();
    options.policy.network.server_pods.namespace = "tycho-system".into();
    let peers = sources(plan(&compile(TWO_PORTS, &options)));
    assert_eq!(
        peers[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "tycho-system"
    );
    options.policy.network.server_pods.labels.clear();
    assert!(sources(plan(&compile(TWO_PORTS, &options))).is_empty());
}

#[test]
fn request_cidrs_may_only_narrow() {
    // (policy CIDRs, request CIDRs, CIDRs in the policy, warnings, errors)
    type Row = (
        &'static [&'static str],
        &'static [&'static str],
        &'static [&'static str],
        usize,
        usize,
    );
    let rows: &[Row] = &[
        (&[], &[], &[], 0, 0),
        (&["10.0.0.0/8"], &[], &["10.0.0.0/8"], 0, 0),
        // Narrowing: the request's CIDR replaces the policy's wider one.
        (&["10.0.0.0/8"], &["10.1.0.0/16"], &["10.1.0.0/16"], 0, 0),
        (
            &["10.0.0.0/8", "fd00::/8"],
            &["10.1.0.0/16", "fd00:1::/32"],
            &["10.1.0.0/16", "fd00:1::/32"],
            0,
            0,
        ),
        // Widening: dropped with a warning, and the wider policy CIDR is not used either.
        (&["10.0.0.0/8"], &["0.0.0.0/0"], &[], 1, 0),
        (
            &["10.0.0.0/8"],
            &["0.0.0.0/0", "10.2.0.0/16"],
            &["10.2.0.0/16"],
            1,
            0,
        ),
        (&[], &["192.168.0.0/24"], &[], 1, 0),
        // Unparsable: an error naming it.
        (&["10.0.0.0/8"], &["10.0.0.0/40"], &[], 0, 1),
        (&["ten/8"], &[], &[], 0, 1),
    ];
    for (policy, request, expected, warnings, errors) in rows {
        let mut options = options();
        options.policy.network.ingress_cidrs = policy.iter().map(|s| s.to_string()).collect();
        options.client_cidrs = request.iter().map(|s| s.to_string()).collect();
        let compiled = compile(TWO_PORTS, &options);
        let row = format!("{policy:?} {request:?}");
        let dropped = with_code(&compiled, codes::CIDR_NOT_ALLOWED);
        let invalid = with_code(&compiled, codes::INVALID_CIDR);
        assert_eq!(dropped.len(), *warnings, "{row}: {dropped:?}");
        assert_eq!(invalid.len(), *errors, "{row}: {invalid:?}");
        if *errors > 0 {
            assert!(compiled.plan.is_none(), "{row}");
            let bad = request.first().or(policy.first()).unwrap();
            assert!(invalid[0].message.contains(bad), "{}", invalid[0].message);
            continue;
        }
        if let Some(d) = dropped.first() {
            assert_eq!(d.severity, Severity::Warning);
            assert!(d.message.contains("dropped"), "{}", d.message);
        }
        assert_eq!(&cidrs(plan(&compiled)), expected, "{row}");
    }
}

#[test]
fn compile_options_take_a_primary_port_as_json() {
    let options: CompileOptions =
        serde_json::from_value(serde_json::json!({"primary": {"service": "web", "port": 80}}))
            .unwrap();
    assert_eq!(
        options.primary,
        Some(PrimaryPort {
            service: "web".into(),
            port: 80
        })
    );
    assert!(serde_json::from_value::<CompileOptions>(serde_json::json!({"primry": {}})).is_err());
}
