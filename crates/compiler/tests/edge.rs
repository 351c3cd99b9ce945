//! Connect through the operator's own edge: `connect.mode: ingress` (an Ingress per system) and
//! `connect.mode: gateway` (a Gateway API HTTPRoute per system). Templates, base path,
//! NetworkPolicy, warnings, a username that tries to inject, and the HTTPRoute checked field by
//! field against the rules of the Gateway API v1 `HTTPRoute` CRD (k8s-openapi has no schema for
//! it, and `kubernetes-validate` knows only built-in kinds; the Ingress is checked by
//! `scripts/check-manifests.sh`).

use serde_json::Value;
use tycho_compiler::{
    CompileOptions, Compiled, ConnectMode, GatewayParent, KubeObject, Plan, Policy, codes, compile,
    connect::BASE_PATH_ENV,
};

const WEB: &str = "services:\n  web:\n    image: a\n    ports: [\"8080:80\"]\n";
const STRIP: &str = "services:\n  web:\n    image: a\n    ports: [\"8080:80\"]\nx-tycho:\n  connect:\n    rewrite: strip\n";

fn ingress_policy(host: &str) -> Policy {
    let mut policy = Policy::default();
    policy.connect.mode = ConnectMode::Ingress;
    policy.connect.ingress.host = host.into();
    policy.network.ingress_namespaces = vec!["ingress-nginx".into()];
    policy
}

fn gateway_policy(hostnames: &[&str]) -> Policy {
    let mut policy = Policy::default();
    policy.connect.mode = ConnectMode::Gateway;
    policy.connect.gateway.parent_refs = vec![GatewayParent {
        name: "edge".into(),
        namespace: "gateway-system".into(),
        section_name: String::new(),
    }];
    policy.connect.gateway.hostnames = hostnames.iter().map(|h| h.to_string()).collect();
    policy.network.ingress_namespaces = vec!["gateway-system".into()];
    policy
}

fn run(text: &str, username: &str, policy: Policy) -> Compiled {
    compile(
        text,
        &CompileOptions {
            name: "lab".into(),
            guid: "abc123".into(),
            username: username.into(),
            policy,
            ..Default::default()
        },
    )
}

fn plan(compiled: &Compiled) -> &Plan {
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    compiled.plan.as_ref().expect("a plan")
}

fn codes_of(compiled: &Compiled) -> Vec<&str> {
    compiled
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

fn json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap()
}

fn base_path(plan: &Plan) -> String {
    let pod = plan
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref();
    pod.unwrap().containers[0]
        .env
        .iter()
        .flatten()
        .find(|e| e.name == BASE_PATH_ENV)
        .and_then(|e| e.value.clone())
        .unwrap()
}

#[test]
fn ingress_routes_its_host_and_path_to_the_service_port() {
    let compiled = run(WEB, "alice", ingress_policy("{guid}.apps.example.org"));
    let plan = plan(&compiled);
    assert!(plan.http_route.is_none());
    let ingress = json(plan.ingress.as_ref().expect("an Ingress"));
    assert_eq!(ingress["apiVersion"], "networking.k8s.io/v1");
    assert_eq!(ingress["metadata"]["name"], "lab-abc123");
    assert_eq!(ingress["metadata"]["labels"]["tycho-guid"], "abc123");
    let rule = &ingress["spec"]["rules"][0];
    assert_eq!(rule["host"], "abc123.apps.example.org");
    let path = &rule["http"]["paths"][0];
    assert_eq!(path["path"], "/");
    assert_eq!(path["pathType"], "Prefix");
    assert_eq!(path["backend"]["service"]["name"], "lab-abc123");
    assert_eq!(path["backend"]["service"]["port"]["number"], 8080);
    assert!(ingress["spec"].get("ingressClassName").is_none());
    assert!(ingress["spec"].get("tls").is_none());
    // The base path and the connect target agree with the route.
    assert_eq!(base_path(plan), "/");
    assert_eq!(plan.connect.as_ref().unwrap().path, "/");
    // Apply order: Service, then the Ingress, then the Deployment.
    let kinds: Vec<&str> = plan.objects().iter().map(KubeObject::kind).collect();
    assert_eq!(kinds, ["NetworkPolicy", "Service", "Ingress", "Deployment"]);
    let listed: Vec<String> = plan
        .to_json_objects()
        .iter()
        .map(|o| o["kind"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(listed, kinds);
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
}

#[test]
fn a_fixed_host_gets_the_connect_path_and_a_warning_for_a_strip_rewrite() {
    let compiled = run(STRIP, "alice", ingress_policy("apps.example.org"));
    let plan = plan(&compiled);
    let ingress = json(plan.ingress.as_ref().unwrap());
    assert_eq!(
        ingress["spec"]["rules"][0]["http"]["paths"][0]["path"],
        "/connect/abc123/"
    );
    assert_eq!(base_path(plan), "/connect/abc123/");
    assert_eq!(codes_of(&compiled), [codes::REWRITE_NOT_APPLIED]);
    // Its own host: the path is `/`, and stripping it changes nothing.
    let compiled = run(STRIP, "alice", ingress_policy("{guid}.apps.example.org"));
    assert!(
        compiled.diagnostics.is_empty(),
        "{:?}",
        compiled.diagnostics
    );
}

#[test]
fn templates_without_a_guid_warn_and_bad_templates_are_errors() {
    let mut policy = ingress_policy("apps.example.org");
    policy.connect.ingress.path = "/u/{user}/".into();
    let compiled = run(WEB, "alice", policy);
    assert_eq!(codes_of(&compiled), [codes::ROUTE_NOT_UNIQUE]);
    assert_eq!(plan(&compiled).connect.as_ref().unwrap().path, "/u/alice/");

    for (host, path, says) in [
        ("{guid}.{domain}", "", "`{domain}`"),
        ("*.apps.example.org", "", "wildcard"),
        ("10.1.2.3", "", "IP address"),
        ("{guid}.apps.example.org", "/a/../b/", "segment"),
        ("{guid}.apps.example.org", "/a b/", "may hold only"),
    ] {
        let mut policy = ingress_policy(host);
        policy.connect.ingress.path = path.into();
        let compiled = run(WEB, "alice", policy);
        assert!(compiled.plan.is_none(), "{host} {path}");
        let error = compiled.diagnostics.iter().find(|d| d.is_error()).unwrap();
        assert_eq!(error.code, codes::INVALID_OPTION);
        assert!(
            error.message.contains(says),
            "{host} {path}: {}",
            error.message
        );
        assert!(
            error.message.contains("policy `connect.ingress."),
            "{}",
            error.message
        );
    }
}

#[test]
fn a_username_cannot_inject_into_hosts_paths_or_annotations() {
    let hostile = [
        "Alice.Smith@Example.org",
        "x\n  annotations:\n    evil: yes",
        "}{guid}.evil.com/",
        "../../admin",
        "a\"b'c\\d",
        "%2e%2e/x?y#z",
        "élise/📦",
        "*",
        "",
    ];
    for username in hostile {
        let mut policy = ingress_policy("{user}-{guid}.apps.example.org");
        policy.connect.ingress.path = "/u/{user}/{guid}/".into();
        let compiled = run(WEB, username, policy);
        let plan = plan(&compiled);
        let ingress = json(plan.ingress.as_ref().unwrap());
        let rule = &ingress["spec"]["rules"][0];
        let host = rule["host"].as_str().unwrap();
        let (user, rest) = host.split_once("-abc123.").unwrap();
        assert_eq!(rest, "apps.example.org", "{username:?}: {host}");
        assert!(
            !user.is_empty()
                && user.len() <= 63
                && user
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !user.starts_with('-')
                && !user.ends_with('-'),
            "{username:?}: {host}"
        );
        let path = rule["http"]["paths"][0]["path"].as_str().unwrap();
        assert_eq!(path, format!("/u/{user}/abc123/"), "{username:?}");
        assert_eq!(base_path(plan), path);
        // Only the keys we write, whatever the name.
        let meta = ingress["metadata"].as_object().unwrap();
        let mut keys: Vec<&String> = meta.keys().collect();
        keys.sort();
        assert_eq!(keys, ["labels", "name"], "{username:?}");
        assert_eq!(rule.as_object().unwrap().len(), 2, "{username:?}");
    }
    // The same in gateway mode: hostnames and the PathPrefix.
    let mut policy = gateway_policy(&["{user}.apps.example.org"]);
    policy.connect.gateway.path = "/{guid}/".into();
    let compiled = run(WEB, "Eve}.evil.com\n- x", policy);
    let route = json(plan(&compiled).http_route.as_ref().unwrap());
    assert_eq!(
        route["spec"]["hostnames"],
        serde_json::json!(["eve-evil-com-x.apps.example.org"])
    );
}

#[test]
fn edge_modes_admit_the_controller_namespace_not_the_tycho_server() {
    for policy in [ingress_policy("{guid}.a.example.org"), gateway_policy(&[])] {
        let compiled = run(WEB, "alice", policy.clone());
        let np = json(plan(&compiled).network_policy.as_ref().unwrap());
        let from = &np["spec"]["ingress"][1]["from"];
        assert_eq!(from.as_array().unwrap().len(), 1, "{np}");
        assert!(from[0].get("podSelector").is_none(), "no server pods: {np}");
        let ns = &from[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"];
        assert_eq!(ns, &policy.network.ingress_namespaces[0]);

        // No namespace and no CIDR: nothing reaches the ports, and the policy says so.
        let mut open = policy.clone();
        open.network.ingress_namespaces.clear();
        let compiled = run(WEB, "alice", open.clone());
        assert_eq!(codes_of(&compiled), [codes::CONTROLLER_NOT_ADMITTED]);
        let np = json(plan(&compiled).network_policy.as_ref().unwrap());
        assert_eq!(np["spec"]["ingress"].as_array().unwrap().len(), 1);
        // CIDRs (a controller on the host network) are enough.
        open.network.ingress_cidrs = vec!["10.0.0.0/8".into()];
        assert!(run(WEB, "alice", open).diagnostics.is_empty());
    }
}

#[test]
fn gateway_without_parents_is_an_error() {
    let mut policy = gateway_policy(&[]);
    policy.connect.gateway.parent_refs.clear();
    let compiled = run(WEB, "alice", policy);
    assert!(compiled.plan.is_none());
    assert!(
        compiled.diagnostics[0]
            .message
            .contains("connect.gateway.parent_refs")
    );
}

#[test]
fn policies_read_the_edge_keys() {
    let policy = tycho_compiler::parse_policy(
        "connect:\n  mode: gateway\n  gateway:\n    parent_refs: [{name: edge}]\n    hostnames: ['{guid}.x.org']\n",
    )
    .unwrap();
    assert_eq!(policy.connect_mode(), ConnectMode::Gateway);
    assert_eq!(policy.connect.gateway.parent_refs[0].name, "edge");
    assert!(tycho_compiler::parse_policy("connect:\n  ingress:\n    hots: x\n").is_err());
}

/// The HTTPRoute against the rules of the Gateway API v1 CRD (standard channel, v1.2):
/// required fields, patterns, lengths and the CEL rules that apply to what we emit.
fn check_http_route(route: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let mut fail = |e: String| errors.push(e);
    let label = |s: &str| {
        !s.is_empty()
            && s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
    };
    let subdomain = |s: &str| s.len() <= 253 && s.split('.').all(label);
    let known = |v: &Value, keys: &[&str], at: &str, fail: &mut dyn FnMut(String)| {
        for k in v.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !keys.contains(&k.as_str()) {
                fail(format!("{at}.{k}: unknown field"));
            }
        }
    };
    known(
        route,
        &["apiVersion", "kind", "metadata", "spec"],
        "",
        &mut fail,
    );
    if route["apiVersion"] != "gateway.networking.k8s.io/v1" || route["kind"] != "HTTPRoute" {
        fail("apiVersion/kind".into());
    }
    let spec = &route["spec"];
    known(
        spec,
        &["parentRefs", "hostnames", "rules"],
        "spec",
        &mut fail,
    );
    let parents = spec["parentRefs"].as_array().cloned().unwrap_or_default();
    if parents.len() > 32 {
        fail("spec.parentRefs: at most 32".into());
    }
    for (i, p) in parents.iter().enumerate() {
        known(
            p,
            &["group", "kind", "namespace", "name", "sectionName", "port"],
            "parentRef",
            &mut fail,
        );
        let name = p["name"].as_str().unwrap_or("");
        if name.is_empty() || !subdomain(name) {
            fail(format!("spec.parentRefs[{i}].name: required, a subdomain"));
        }
        if p.get("namespace")
            .is_some_and(|n| !label(n.as_str().unwrap_or("")))
        {
            fail(format!("spec.parentRefs[{i}].namespace: a label"));
        }
        if p.get("sectionName")
            .is_some_and(|n| !subdomain(n.as_str().unwrap_or("")))
        {
            fail(format!("spec.parentRefs[{i}].sectionName: pattern"));
        }
    }
    let hostnames = spec["hostnames"].as_array().cloned().unwrap_or_default();
    if hostnames.len() > 16 {
        fail("spec.hostnames: at most 16".into());
    }
    for h in &hostnames {
        let h = h.as_str().unwrap_or("");
        let bare = h.strip_prefix("*.").unwrap_or(h);
        if h.is_empty() || !subdomain(bare) {
            fail(format!("spec.hostnames: `{h}` does not match the pattern"));
        }
    }
    let rules = spec["rules"].as_array().cloned().unwrap_or_default();
    if rules.is_empty() || rules.len() > 16 {
        fail("spec.rules: 1 to 16 (the default is one rule to nothing)".into());
    }
    for rule in &rules {
        known(
            rule,
            &["matches", "filters", "backendRefs"],
            "rule",
            &mut fail,
        );
        let matches = rule["matches"].as_array().cloned().unwrap_or_default();
        for m in &matches {
            known(m, &["path"], "match", &mut fail);
            let (ty, value) = (m["path"]["type"].as_str(), m["path"]["value"].as_str());
            if !matches!(ty, Some("Exact" | "PathPrefix" | "RegularExpression")) {
                fail(format!("match.path.type {ty:?}"));
            }
            let value = value.unwrap_or("");
            if !value.starts_with('/')
                || value.len() > 1024
                || value.contains("//")
                || value.contains("/./")
                || value.contains("/../")
                || value.contains("%2f")
                || value.contains("%2F")
                || value.contains('#')
            {
                fail(format!(
                    "match.path.value `{value}`: an absolute path (CEL rules)"
                ));
            }
        }
        for f in rule["filters"].as_array().into_iter().flatten() {
            known(f, &["type", "urlRewrite"], "filter", &mut fail);
            if f["type"] != "URLRewrite" || f.get("urlRewrite").is_none() {
                fail("filter: type URLRewrite needs urlRewrite".into());
            }
            let path = &f["urlRewrite"]["path"];
            if path["type"] == "ReplacePrefixMatch" {
                if path.get("replacePrefixMatch").is_none() {
                    fail("replacePrefixMatch must be set for ReplacePrefixMatch".into());
                }
                let prefix_matches = !matches.is_empty()
                    && matches.iter().all(|m| m["path"]["type"] == "PathPrefix");
                if !prefix_matches {
                    fail("ReplacePrefixMatch needs PathPrefix matches (CEL rule)".into());
                }
            }
        }
        for b in rule["backendRefs"].as_array().into_iter().flatten() {
            known(
                b,
                &[
                    "group",
                    "kind",
                    "name",
                    "namespace",
                    "port",
                    "weight",
                    "filters",
                ],
                "backendRef",
                &mut fail,
            );
            if !b["name"]
                .as_str()
                .is_some_and(|n| !n.is_empty() && n.len() <= 253)
            {
                fail("backendRef.name required".into());
            }
            if !b["port"].as_u64().is_some_and(|p| (1..=65535).contains(&p)) {
                fail("backendRef.port: must be set for a Service (CEL rule), 1-65535".into());
            }
        }
    }
    errors
}

#[test]
fn http_routes_match_the_gateway_api_crd_rules() {
    for (hostnames, path, text) in [
        (vec!["{guid}.apps.example.org"], "", WEB),
        (vec!["apps.example.org", "lab.example.org"], "", STRIP),
        (vec![], "/u/{user}/{guid}/", STRIP),
    ] {
        let mut policy = gateway_policy(&hostnames);
        policy.connect.gateway.path = path.into();
        let compiled = run(text, "alice", policy);
        let plan = plan(&compiled);
        let route = json(plan.http_route.as_ref().unwrap());
        assert_eq!(check_http_route(&route), Vec::<String>::new(), "{route}");
        let rule = &route["spec"]["rules"][0];
        assert_eq!(rule["backendRefs"][0]["name"], "lab-abc123");
        assert_eq!(rule["backendRefs"][0]["port"], 8080);
        let prefix = rule["matches"][0]["path"]["value"].as_str().unwrap();
        assert_eq!(base_path(plan), prefix);
        // A strip rewrite becomes the filter, unless the prefix is `/` already.
        let stripped = text == STRIP && prefix != "/";
        assert_eq!(rule.get("filters").is_some(), stripped, "{route}");
        if stripped {
            assert_eq!(
                rule["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"],
                "/"
            );
        }
    }
    // The checker itself catches what the CRD refuses.
    let bad = serde_json::json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {}, "spec": {"parentRefs": [{"name": ""}], "rules": [{"matches": [{"path":
        {"type": "Exact", "value": "x"}}], "filters": [{"type": "URLRewrite", "urlRewrite": {"path":
        {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}], "backendRefs": [{"name": "s"}]}]}});
    assert_eq!(
        check_http_route(&bad).len(),
        4,
        "{:?}",
        check_http_route(&bad)
    );
}

#[test]
fn the_edge_url_is_known_when_the_edge_has_a_host() {
    let url = |policy: Policy| {
        plan(&run(WEB, "alice", policy))
            .connect
            .clone()
            .unwrap()
            .url
    };
    assert_eq!(
        url(ingress_policy("{guid}.apps.example.org")),
        "http://abc123.apps.example.org/"
    );
    let mut tls = ingress_policy("apps.example.org");
    tls.connect.ingress.tls_secret = "apps-tls".into();
    assert_eq!(url(tls), "https://apps.example.org/connect/abc123/");
    assert_eq!(
        url(gateway_policy(&["{guid}.lab.example.org"])),
        "https://abc123.lab.example.org/"
    );
    // No host: the server's own address goes in front of the path.
    assert_eq!(url(ingress_policy("")), "");
    assert_eq!(
        url(Policy::default()),
        "",
        "Tycho's proxy: the server knows its address"
    );
}
