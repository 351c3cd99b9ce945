//! The TypeScript declarations (`TYPES` in lib.rs, shipped in `tycho_wasm.d.ts`) against the Rust
//! types they describe: every `export interface` must list exactly the fields that the JSON of
//! its Rust type has, so a field added, renamed or recased in Rust fails here until the
//! declarations say the same.

use std::collections::{BTreeMap, BTreeSet};
use tycho_compiler::connect::ServedBy;
use tycho_compiler::{
    CompileOptions, ConnectTarget, Diagnostic, GatewayParent, NotTranslated, Policy, PrimaryPort,
    Rewrite, Severity,
};

/// The text of the `TYPES` custom section, read from lib.rs (wasm-bindgen takes the constant
/// for the `.d.ts` and leaves no Rust item to read).
fn declarations() -> &'static str {
    let source = include_str!("lib.rs");
    let start = "const TYPES: &'static str = r#\"";
    let from = source.find(start).expect("the TYPES section") + start.len();
    let to = source[from..].find("\"#;").expect("the end of TYPES");
    &source[from..from + to]
}

/// Interfaces that describe no type of ours (Kubernetes objects are k8s-openapi's).
const NOT_OURS: [&str; 1] = ["KubeObject"];

const NGINX: &str = "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n";

/// The text without its `/* … */` comments (their braces and colons are prose).
fn without_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        rest = rest[start..]
            .find("*/")
            .map_or("", |end| &rest[start + end + 2..]);
    }
    out.push_str(rest);
    out
}

/// Each `export interface`'s own field names (not those of inline object types).
fn declared_fields(declarations: &str) -> BTreeMap<String, BTreeSet<String>> {
    let text = without_comments(declarations);
    let mut interfaces = BTreeMap::new();
    for chunk in text.split("export interface ").skip(1) {
        let (name, body) = chunk.split_once('{').expect("an interface body");
        let mut fields = BTreeSet::new();
        let mut depth = 1;
        let mut member = String::new();
        for c in body.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                break;
            }
            if depth == 1 && (c == ';' || c == '\n') {
                let field = member.trim().split([':', '?']).next().unwrap_or("").trim();
                if !field.is_empty() && !field.starts_with('[') {
                    fields.insert(field.to_string());
                }
                member.clear();
            } else {
                member.push(c);
            }
        }
        interfaces.insert(name.trim().to_string(), fields);
    }
    interfaces
}

/// The keys of a JSON object.
fn keys(value: &serde_json::Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

fn json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).expect("serialises")
}

/// One value of every declared type, each field present (optional ones filled in).
fn samples() -> Vec<(&'static str, serde_json::Value)> {
    let mut policy = Policy::default();
    policy.connect.gateway.parent_refs = vec![GatewayParent::default()];
    policy.home = Some(tycho_compiler::HomePolicy::default());
    policy.quota = tycho_compiler::parse_policy(
        "quota: {systems: 1, cpu: \"1\", memory: 1Gi, gpus: 0, groups: {g: {systems: 1, cpu: \"1\", memory: 1Gi, gpus: 1}}, users: {}}\n",
    )
    .expect("a quota")
    .quota;
    policy.lifetime = tycho_compiler::parse_policy(
        "lifetime: {idle_timeout: 1h, max_lifetime: 1h, start_timeout: 1h, remove_failed_starts: true, warn_before: 1m}\n",
    )
    .expect("a lifetime")
    .lifetime;
    let options = CompileOptions {
        primary: Some(PrimaryPort {
            service: "web".into(),
            port: 80,
        }),
        policy: policy.clone(),
        ..CompileOptions::default()
    };
    let policy = json(&policy);
    let compiled = super::compile_value(NGINX, &CompileOptions::default());
    let failed = super::compile_value("services: 1\n", &CompileOptions::default());
    let target = ConnectTarget {
        service: "web".into(),
        container_port: 8080,
        port: 80,
        path: "/connect/abc/".into(),
        url: "https://abc.apps.example.org/".into(),
        rewrite: Rewrite::Keep,
        served_by: ServedBy::Ingress,
    };
    let not_translated = NotTranslated {
        key: "build".into(),
        path: "/services/web/build".into(),
        line: 3,
        column: 5,
        reason: "images are not built".into(),
    };
    vec![
        (
            "Diagnostic",
            // With `file` set, so the optional field is checked too.
            json(&Diagnostic {
                file: "common.yaml".into(),
                ..Diagnostic::unpositioned(Severity::Warning, "TY0000", "x".into())
            }),
        ),
        ("Resources", policy["default_resources"].clone()),
        ("NetworkPolicyOptions", policy["network"].clone()),
        ("ServerPods", policy["network"]["server_pods"].clone()),
        ("ConnectOptions", policy["connect"].clone()),
        ("IngressOptions", policy["connect"]["ingress"].clone()),
        ("GatewayOptions", policy["connect"]["gateway"].clone()),
        (
            "GatewayParent",
            policy["connect"]["gateway"]["parent_refs"][0].clone(),
        ),
        ("AmbassadorOptions", policy["ambassador"].clone()),
        ("HomePolicy", policy["home"].clone()),
        ("QuotaPolicy", policy["quota"].clone()),
        ("QuotaLimits", policy["quota"]["groups"]["g"].clone()),
        ("LifetimePolicy", policy["lifetime"].clone()),
        ("Policy", policy.clone()),
        ("CompileOptions", json(&options)),
        ("PrimaryPort", json(&options.primary)),
        ("ConnectTarget", json(&target)),
        ("NotTranslated", json(&not_translated)),
        ("PublishedPort", compiled["ports"][0].clone()),
        ("ResourcesReport", compiled["resources"].clone()),
        ("ServiceUsage", compiled["resources"]["services"][0].clone()),
        ("Usage", compiled["resources"]["services"][0]["cpu"].clone()),
        ("SystemUsage", compiled["resources"]["system"].clone()),
        ("Total", compiled["resources"]["system"]["cpu"].clone()),
        (
            "Reference",
            json(
                &tycho_compiler::referenced_files(
                    "services:\n  web:\n    image: a\n    env_file: web.env\n",
                    &CompileOptions::default(),
                )[0],
            ),
        ),
        ("CompileResult", compiled.clone()),
        ("CompileResult", failed),
        (
            "CompileResult",
            json(&super::compile_result(NGINX, &CompileOptions::default())),
        ),
    ]
}

#[test]
fn every_interface_lists_the_fields_of_its_rust_type() {
    let declared = declared_fields(declarations());
    let mut checked = BTreeSet::new();
    for (name, sample) in samples() {
        let fields = declared
            .get(name)
            .unwrap_or_else(|| panic!("`interface {name}` is not declared"));
        assert_eq!(
            fields,
            &keys(&sample),
            "interface {name}: the declared fields (left) differ from the JSON of the Rust type (right)"
        );
        checked.insert(name);
    }
    for name in declared.keys() {
        assert!(
            checked.contains(name.as_str()) || NOT_OURS.contains(&name.as_str()),
            "interface {name} is declared but not checked against a Rust type: add a sample"
        );
    }
}

#[test]
fn the_parser_reads_fields_not_inline_types_or_comments() {
    let declared = declared_fields(
        "/** a {b: c} */\nexport interface A {\n  /** x: y */\n  one?: string;\n  two: { inner: number; }[];\n  [key: string]: unknown;\n}\n",
    );
    let expected: BTreeSet<String> = ["one", "two"].map(String::from).into();
    assert_eq!(declared["A"], expected);
}

#[test]
fn the_result_value_is_the_serialised_result() {
    let options = CompileOptions::default();
    for text in [NGINX, "services: 1\n"] {
        assert_eq!(
            super::compile_value(text, &options),
            json(&super::compile_result(text, &options))
        );
    }
}
