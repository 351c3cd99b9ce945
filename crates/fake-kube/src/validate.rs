//! The subset of API-server validation that a compiler of Kubernetes objects can get wrong:
//! names, labels, pod templates, selectors and service ports. Messages copy the real ones so a
//! test failure against the fake reads like one against a cluster.

use serde_json::Value;

use crate::config_data;
use crate::kinds::{self, Kind};
use crate::status::Cause;

const SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const LABEL_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn is_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// Returns the reasons `s` is not a DNS-1123 subdomain (empty when it is one).
pub(crate) fn dns1123_subdomain(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if !s.split('.').all(is_label) {
        errs.push(SUBDOMAIN_MSG.to_string());
    }
    errs
}

pub(crate) fn dns1123_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !is_label(s) {
        errs.push(LABEL_MSG.to_string());
    }
    errs
}

pub(crate) fn dns1035_label(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 63 {
        errs.push("must be no more than 63 characters".to_string());
    }
    if !is_label(s) || !s.starts_with(|c: char| c.is_ascii_lowercase()) {
        errs.push(DNS1035_MSG.to_string());
    }
    errs
}

fn qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

fn label_key_errors(key: &str) -> Vec<String> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let mut errs = Vec::new();
    if let Some(p) = prefix {
        errs.extend(
            dns1123_subdomain(p)
                .into_iter()
                .map(|e| format!("prefix part {e}")),
        );
    }
    if name.len() > 63 {
        errs.push("name part must be no more than 63 characters".into());
    }
    if !qualified_name_part(name) {
        errs.push(LABEL_NAME_MSG.into());
    }
    errs
}

fn label_value_errors(v: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if v.len() > 63 {
        errs.push("must be no more than 63 characters".into());
    }
    if !v.is_empty() && !qualified_name_part(v) {
        errs.push(LABEL_VALUE_MSG.into());
    }
    errs
}

fn push_all(out: &mut Vec<Cause>, field: &str, value: &str, errs: Vec<String>) {
    out.extend(errs.iter().map(|e| Cause::invalid(field, value, e)));
}

/// Name rule per kind, as in the real registry strategies.
pub(crate) fn name_errors(kind: &Kind, name: &str) -> Vec<String> {
    if kind == &kinds::SERVICES {
        dns1035_label(name)
    } else if kind == &kinds::NAMESPACES {
        dns1123_label(name)
    } else {
        dns1123_subdomain(name)
    }
}

pub(crate) fn labels(out: &mut Vec<Cause>, field: &str, labels: Option<&Value>) {
    let Some(map) = labels.and_then(Value::as_object) else {
        return;
    };
    for (k, v) in map {
        push_all(out, field, k, label_key_errors(k));
        match v.as_str() {
            Some(s) => push_all(out, field, s, label_value_errors(s)),
            None => out.push(Cause::invalid(
                field,
                &v.to_string(),
                "label values must be strings",
            )),
        }
    }
}

fn port_number(out: &mut Vec<Cause>, field: String, v: Option<&Value>) {
    if let Some(n) = v
        .and_then(Value::as_i64)
        .filter(|n| !(1..=65535).contains(n))
    {
        out.push(Cause::invalid_num(
            field,
            n,
            "must be between 1 and 65535, inclusive",
        ));
    }
}

/// IANA service names, which container port names must be.
fn port_name_errors(s: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if s.len() > 15 {
        errs.push("must be no more than 15 characters".into());
    }
    if !s
        .bytes()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if s.contains("--") {
        errs.push("must not contain consecutive hyphens".into());
    }
    if !s.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        errs.push("must not begin or end with a hyphen".into());
    }
    errs
}

/// `spec` of a Pod or `spec.template.spec` of a Deployment/ReplicaSet.
pub(crate) fn pod_spec(out: &mut Vec<Cause>, at: &str, spec: Option<&Value>) {
    let Some(spec) = spec else {
        out.push(Cause::required(at));
        return;
    };
    let volumes: Vec<&str> = spec
        .get("volumes")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .filter_map(|v| v.get("name").and_then(Value::as_str))
                .collect()
        })
        .unwrap_or_default();
    for (i, v) in volumes.iter().enumerate() {
        push_all(out, &format!("{at}.volumes[{i}].name"), v, dns1123_label(v));
        if volumes[..i].contains(v) {
            out.push(Cause::duplicate(format!("{at}.volumes[{i}].name"), v));
        }
    }
    for (i, volume) in spec
        .get("volumes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        config_data::volume_items(out, &format!("{at}.volumes[{i}]"), volume);
    }
    host_aliases(out, at, spec.get("hostAliases"));
    ids_in_range(
        out,
        &format!("{at}.securityContext"),
        spec.get("securityContext"),
    );
    let containers = spec.get("containers").and_then(Value::as_array);
    if containers.is_none_or(|c| c.is_empty()) {
        out.push(Cause::required(format!("{at}.containers")));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (group, list) in [
        ("initContainers", spec.get("initContainers")),
        ("containers", spec.get("containers")),
    ] {
        for (i, c) in list
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let f = format!("{at}.{group}[{i}]");
            match c.get("name").and_then(Value::as_str) {
                None | Some("") => out.push(Cause::required(format!("{f}.name"))),
                Some(n) => {
                    push_all(out, &format!("{f}.name"), n, dns1123_label(n));
                    if seen.contains(&n) {
                        out.push(Cause::duplicate(format!("{f}.name"), n));
                    }
                    seen.push(n);
                }
            }
            if c.get("image")
                .and_then(Value::as_str)
                .is_none_or(|s| s.trim().is_empty())
            {
                out.push(Cause::required(format!("{f}.image")));
            }
            for (j, p) in c
                .get("ports")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let pf = format!("{f}.ports[{j}]");
                match p.get("containerPort") {
                    None => out.push(Cause::required(format!("{pf}.containerPort"))),
                    v => port_number(out, format!("{pf}.containerPort"), v),
                }
                if let Some(n) = p.get("name").and_then(Value::as_str) {
                    push_all(out, &format!("{pf}.name"), n, port_name_errors(n));
                }
            }
            env_names(out, &f, c.get("env"));
            restart_rules(out, &f, group, c);
            ids_in_range(
                out,
                &format!("{f}.securityContext"),
                c.get("securityContext"),
            );
            let mut paths: Vec<&str> = Vec::new();
            for (j, m) in c
                .get("volumeMounts")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let n = m.get("name").and_then(Value::as_str).unwrap_or("");
                if !volumes.contains(&n) {
                    out.push(Cause::not_found(format!("{f}.volumeMounts[{j}].name"), n));
                }
                match m.get("mountPath").and_then(Value::as_str) {
                    None | Some("") => {
                        out.push(Cause::required(format!("{f}.volumeMounts[{j}].mountPath")))
                    }
                    Some(p) if paths.contains(&p) => out.push(Cause::invalid(
                        format!("{f}.volumeMounts[{j}].mountPath"),
                        p,
                        "must be unique",
                    )),
                    Some(p) => paths.push(p),
                }
            }
        }
    }
}

/// `restartPolicy` makes an init container a sidecar (the only value allowed, and only there);
/// an init container that runs to completion may not have probes.
fn restart_rules(out: &mut Vec<Cause>, f: &str, group: &str, c: &Value) {
    let policy = c.get("restartPolicy").and_then(Value::as_str);
    match (group, policy) {
        ("containers", Some(_)) => out.push(Cause::forbidden(
            format!("{f}.restartPolicy"),
            "may not be set for non-init containers",
        )),
        ("initContainers", Some(p)) if p != "Always" => out.push(Cause {
            field: format!("{f}.restartPolicy"),
            reason: "FieldValueNotSupported",
            detail: format!("Unsupported value: \"{p}\": supported values: \"Always\""),
        }),
        ("initContainers", None) => {
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                if c.get(probe).is_some() {
                    out.push(Cause::forbidden(
                        format!("{f}.{probe}"),
                        "may not be set for init containers without restartPolicy=Always",
                    ));
                }
            }
        }
        _ => {}
    }
}

/// Environment variable names, as 1.33 checks them (RelaxedEnvironmentVariableValidation).
fn env_names(out: &mut Vec<Cause>, container: &str, env: Option<&Value>) {
    for (j, e) in env
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let field = format!("{container}.env[{j}].name");
        match e.get("name").and_then(Value::as_str) {
            None | Some("") => out.push(Cause::required(field)),
            Some(n) if n.chars().any(|c| c == '=' || !(' '..='~').contains(&c)) => {
                out.push(Cause::invalid(
                    field,
                    n,
                    "a valid environment variable name must consist only of printable ASCII characters other than '='",
                ))
            }
            Some(_) => {}
        }
    }
}

/// `runAsUser`, `runAsGroup` (and a pod's `fsGroup`) must fit the kernel's 31-bit ids.
fn ids_in_range(out: &mut Vec<Cause>, at: &str, security_context: Option<&Value>) {
    for key in ["runAsUser", "runAsGroup", "fsGroup"] {
        if let Some(id) = security_context
            .and_then(|sc| sc.get(key))
            .and_then(Value::as_i64)
            .filter(|id| !(0..=2_147_483_647).contains(id))
        {
            out.push(Cause::invalid_num(
                format!("{at}.{key}"),
                id,
                "must be between 0 and 2147483647, inclusive",
            ));
        }
    }
}

const IP_MSG: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";
const CIDR_MSG: &str = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)";
/// Total size of an object's annotations (keys and values) the API server accepts.
const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

/// `hostAliases`: every `ip` an IP address, every hostname a DNS-1123 subdomain.
fn host_aliases(out: &mut Vec<Cause>, at: &str, aliases: Option<&Value>) {
    for (i, a) in aliases
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let f = format!("{at}.hostAliases[{i}]");
        match a.get("ip").and_then(Value::as_str) {
            None | Some("") => out.push(Cause::required(format!("{f}.ip"))),
            Some(ip) if !is_ip(ip) => out.push(Cause::invalid(format!("{f}.ip"), ip, IP_MSG)),
            Some(_) => {}
        }
        for (j, h) in a
            .get("hostnames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let h = h.as_str().unwrap_or_default();
            push_all(out, &format!("{f}.hostnames[{j}]"), h, dns1123_subdomain(h));
        }
    }
}

/// Annotation keys are qualified names like label keys; keys and values together are at most
/// 256 KiB.
pub(crate) fn annotations(out: &mut Vec<Cause>, field: &str, annotations: Option<&Value>) {
    let Some(map) = annotations.and_then(Value::as_object) else {
        return;
    };
    let mut total = 0;
    for (k, v) in map {
        let errs: Vec<String> = label_key_errors(&k.to_ascii_lowercase());
        push_all(out, field, k, errs);
        total += k.len() + v.as_str().map_or(0, str::len);
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        out.push(Cause {
            field: field.into(),
            reason: "FieldValueTooLong",
            detail: format!("Too long: may not be more than {TOTAL_ANNOTATION_SIZE_LIMIT} bytes"),
        });
    }
}

/// Every owner reference names the owner's apiVersion, kind, name and uid.
fn owner_references(out: &mut Vec<Cause>, refs: Option<&Value>) {
    for r in refs.and_then(Value::as_array).into_iter().flatten() {
        for (key, what) in [
            ("apiVersion", "version"),
            ("kind", "kind"),
            ("name", "name"),
        ] {
            if r.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
                out.push(Cause::invalid(
                    format!("metadata.ownerReferences.{key}"),
                    "",
                    &format!("{what} must not be empty"),
                ));
            }
        }
        if r.get("uid")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            out.push(Cause::invalid(
                "metadata.ownerReferences.uid",
                "",
                "uid must not be empty",
            ));
        }
    }
}

/// `ipBlock.cidr` and `ipBlock.except` of every ingress and egress peer.
fn network_policy(out: &mut Vec<Cause>, spec: Option<&Value>) {
    let Some(spec) = spec else {
        return;
    };
    for (direction, peers) in [("ingress", "from"), ("egress", "to")] {
        for (i, rule) in spec
            .get(direction)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            for (j, peer) in rule
                .get(peers)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                let Some(block) = peer.get("ipBlock") else {
                    continue;
                };
                let f = format!("spec.{direction}[{i}].{peers}[{j}].ipBlock");
                let cidr = block.get("cidr").and_then(Value::as_str).unwrap_or("");
                if cidr.is_empty() {
                    out.push(Cause::required(format!("{f}.cidr")));
                } else if !is_cidr(cidr) {
                    out.push(Cause::invalid(format!("{f}.cidr"), cidr, CIDR_MSG));
                }
                for (k, e) in block
                    .get("except")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let e = e.as_str().unwrap_or_default();
                    if !is_cidr(e) {
                        out.push(Cause::invalid(format!("{f}.except[{k}]"), e, CIDR_MSG));
                    }
                }
            }
        }
    }
}

fn template(out: &mut Vec<Cause>, spec: &Value) {
    let selector = spec.pointer("/selector");
    let tmpl_labels = spec
        .pointer("/template/metadata/labels")
        .and_then(Value::as_object);
    match selector {
        None => out.push(Cause::required("spec.selector")),
        Some(sel) => {
            let ml = sel.get("matchLabels").and_then(Value::as_object);
            let exprs = sel.get("matchExpressions").and_then(Value::as_array);
            if ml.is_none_or(|m| m.is_empty()) && exprs.is_none_or(|e| e.is_empty()) {
                out.push(Cause::invalid(
                    "spec.selector",
                    &sel.to_string(),
                    "empty selector is invalid for deployment",
                ));
            }
            let matches = ml
                .into_iter()
                .flatten()
                .all(|(k, v)| tmpl_labels.and_then(|t| t.get(k)) == Some(v));
            if !matches {
                out.push(Cause::invalid(
                    "spec.template.metadata.labels",
                    &tmpl_labels
                        .map(|t| Value::Object(t.clone()).to_string())
                        .unwrap_or_default(),
                    "`selector` does not match template `labels`",
                ));
            }
        }
    }
    labels(
        out,
        "spec.template.metadata.labels",
        spec.pointer("/template/metadata/labels"),
    );
    annotations(
        out,
        "spec.template.metadata.annotations",
        spec.pointer("/template/metadata/annotations"),
    );
    if let Some(r) = spec
        .get("replicas")
        .and_then(Value::as_i64)
        .filter(|r| *r < 0)
    {
        out.push(Cause::invalid_num(
            "spec.replicas",
            r,
            "must be greater than or equal to 0",
        ));
    }
    if let Some(p) = spec
        .pointer("/template/spec/restartPolicy")
        .and_then(Value::as_str)
        .filter(|p| *p != "Always")
    {
        out.push(Cause {
            field: "spec.template.spec.restartPolicy".into(),
            reason: "FieldValueNotSupported",
            detail: format!("Unsupported value: \"{p}\": supported values: \"Always\""),
        });
    }
    pod_spec(out, "spec.template.spec", spec.pointer("/template/spec"));
}

fn service(out: &mut Vec<Cause>, spec: Option<&Value>) {
    let Some(spec) = spec else {
        out.push(Cause::required("spec"));
        return;
    };
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP");
    if !["ClusterIP", "NodePort", "LoadBalancer", "ExternalName"].contains(&ty) {
        out.push(Cause {
            field: "spec.type".into(),
            reason: "FieldValueNotSupported",
            detail: format!("Unsupported value: \"{ty}\": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\""),
        });
    }
    let headless = spec.get("clusterIP").and_then(Value::as_str) == Some("None");
    let ports = spec
        .get("ports")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if ports.is_empty() && ty != "ExternalName" && !headless {
        out.push(Cause::required("spec.ports"));
    }
    let mut seen = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let f = format!("spec.ports[{i}]");
        match p.get("name").and_then(Value::as_str) {
            Some(n) if !n.is_empty() => {
                push_all(out, &format!("{f}.name"), n, dns1123_label(n));
                if seen.contains(&n.to_string()) {
                    out.push(Cause::duplicate(format!("{f}.name"), n));
                }
                seen.push(n.to_string());
            }
            _ if ports.len() > 1 => out.push(Cause::required(format!("{f}.name"))),
            _ => {}
        }
        match p.get("port") {
            None => out.push(Cause::required(format!("{f}.port"))),
            v => port_number(out, format!("{f}.port"), v),
        }
        if let Some(np) = p
            .get("nodePort")
            .and_then(Value::as_i64)
            .filter(|n| *n != 0)
        {
            if ty == "ClusterIP" || ty == "ExternalName" {
                out.push(Cause::forbidden(
                    format!("{f}.nodePort"),
                    &format!("may not be used when `type` is '{ty}'"),
                ));
            } else if !(30000..=32767).contains(&np) {
                out.push(Cause::invalid_num(
                    format!("{f}.nodePort"),
                    np,
                    "provided port is not in the valid range. The range of valid ports is 30000-32767",
                ));
            }
        }
    }
}

const WILDCARD_MSG: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// An Ingress host or TLS host: a DNS subdomain, or `*.` and one; never an IP address.
fn ingress_host(out: &mut Vec<Cause>, field: &str, host: &str) {
    if host.parse::<std::net::IpAddr>().is_ok() {
        out.push(Cause::invalid(
            field,
            host,
            "must be a DNS name, not an IP address",
        ));
    }
    if host.contains('*') {
        let ok = host
            .strip_prefix("*.")
            .is_some_and(|rest| dns1123_subdomain(rest).is_empty());
        if !ok {
            out.push(Cause::invalid(field, host, WILDCARD_MSG));
        }
    } else {
        push_all(out, field, host, dns1123_subdomain(host));
    }
}

/// What the path validation of `Exact` and `Prefix` Ingress paths (and HTTPRoute `Exact` and
/// `PathPrefix` matches) refuses, with the real messages.
fn path_problems(path: &str) -> Vec<String> {
    if !path.starts_with('/') {
        return vec!["must be an absolute path".into()];
    }
    let mut errs = Vec::new();
    for bad in ["//", "/./", "/../", "%2f", "%2F"] {
        if path.contains(bad) {
            errs.push(format!("must not contain '{bad}'"));
        }
    }
    for bad in ["/..", "/."] {
        if path.ends_with(bad) {
            errs.push(format!("cannot end with '{bad}'"));
        }
    }
    errs
}

fn ingress_backend(out: &mut Vec<Cause>, at: &str, backend: Option<&Value>) {
    let Some(service) = backend.and_then(|b| b.get("service")) else {
        if backend.and_then(|b| b.get("resource")).is_none() {
            out.push(Cause::invalid(
                at,
                "",
                "one backend (`service` or `resource`) must be specified",
            ));
        }
        return;
    };
    let name = service.get("name").and_then(Value::as_str).unwrap_or("");
    if name.is_empty() {
        out.push(Cause::required(format!("{at}.service.name")));
    } else {
        push_all(
            out,
            &format!("{at}.service.name"),
            name,
            dns1035_label(name),
        );
    }
    let port = service.get("port");
    let number = port.and_then(|p| p.get("number"));
    let port_name = port.and_then(|p| p.get("name")).and_then(Value::as_str);
    let field = format!("{at}.service.port");
    match (number, port_name) {
        (Some(_), Some(n)) if !n.is_empty() => out.push(Cause::invalid(
            field,
            n,
            "cannot set both port name & port number",
        )),
        (Some(n), _) => port_number(out, format!("{field}.number"), Some(n)),
        (None, Some(n)) if !n.is_empty() => {
            push_all(out, &format!("{field}.name"), n, port_name_errors(n))
        }
        _ => out.push(Cause::invalid(field, "", "port name or number is required")),
    }
}

/// `networking.k8s.io/v1` Ingress, as `ValidateIngressSpec` checks it.
fn ingress(out: &mut Vec<Cause>, spec: Option<&Value>) {
    let Some(spec) = spec else {
        out.push(Cause::required("spec"));
        return;
    };
    let rules = spec.get("rules").and_then(Value::as_array);
    let default_backend = spec.get("defaultBackend");
    if rules.is_none_or(|r| r.is_empty()) && default_backend.is_none() {
        out.push(Cause::invalid(
            "spec",
            "",
            "either `defaultBackend` or `rules` must be specified",
        ));
    }
    if default_backend.is_some() {
        ingress_backend(out, "spec.defaultBackend", default_backend);
    }
    if let Some(class) = spec.get("ingressClassName").and_then(Value::as_str) {
        push_all(
            out,
            "spec.ingressClassName",
            class,
            dns1123_subdomain(class),
        );
    }
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        let at = format!("spec.rules[{i}]");
        if let Some(host) = rule
            .get("host")
            .and_then(Value::as_str)
            .filter(|h| !h.is_empty())
        {
            ingress_host(out, &format!("{at}.host"), host);
        }
        let Some(http) = rule.get("http") else {
            continue;
        };
        let paths = http.get("paths").and_then(Value::as_array);
        if paths.is_none_or(|p| p.is_empty()) {
            out.push(Cause::required(format!("{at}.http.paths")));
        }
        for (j, p) in paths.into_iter().flatten().enumerate() {
            let pat = format!("{at}.http.paths[{j}]");
            let path = p.get("path").and_then(Value::as_str).unwrap_or("");
            match p.get("pathType").and_then(Value::as_str) {
                None | Some("") => out.push(Cause {
                    field: format!("{pat}.pathType"),
                    reason: "FieldValueRequired",
                    detail: "Required value: pathType must be specified".into(),
                }),
                Some("Exact" | "Prefix") => {
                    for e in path_problems(path) {
                        out.push(Cause::invalid(format!("{pat}.path"), path, &e));
                    }
                }
                Some("ImplementationSpecific") => {
                    if !path.is_empty() && !path.starts_with('/') {
                        out.push(Cause::invalid(format!("{pat}.path"), path, "must be an absolute path"));
                    }
                }
                Some(other) => out.push(Cause {
                    field: format!("{pat}.pathType"),
                    reason: "FieldValueNotSupported",
                    detail: format!("Unsupported value: \"{other}\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\""),
                }),
            }
            ingress_backend(out, &format!("{pat}.backend"), p.get("backend"));
        }
    }
    for (i, tls) in spec
        .get("tls")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        for (j, host) in tls
            .get("hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let host = host.as_str().unwrap_or("");
            ingress_host(out, &format!("spec.tls[{i}].hosts[{j}]"), host);
        }
        if let Some(secret) = tls
            .get("secretName")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            push_all(
                out,
                &format!("spec.tls[{i}].secretName"),
                secret,
                dns1123_subdomain(secret),
            );
        }
    }
}

const HOSTNAME_PATTERN: &str =
    r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/// `gateway.networking.k8s.io/v1` HTTPRoute: the parts of the CRD's OpenAPI schema and CEL
/// rules (Gateway API v1.2, standard channel) that apply to what Tycho emits. `parentRefs` is
/// optional in the CRD (a route without parents attaches to nothing); each one needs a `name`.
fn http_route(out: &mut Vec<Cause>, spec: Option<&Value>) {
    let Some(spec) = spec else {
        out.push(Cause::required("spec"));
        return;
    };
    let parents = spec.get("parentRefs").and_then(Value::as_array);
    if let Some(p) = parents.filter(|p| p.len() > 32) {
        out.push(Cause {
            field: "spec.parentRefs".into(),
            reason: "FieldValueTooMany",
            detail: format!("Too many: {}: must have at most 32 items", p.len()),
        });
    }
    for (i, p) in parents.into_iter().flatten().enumerate() {
        let name = p.get("name").and_then(Value::as_str).unwrap_or("");
        if name.is_empty() {
            out.push(Cause::required(format!("spec.parentRefs[{i}].name")));
        }
    }
    let hostnames = spec.get("hostnames").and_then(Value::as_array);
    if let Some(h) = hostnames.filter(|h| h.len() > 16) {
        out.push(Cause {
            field: "spec.hostnames".into(),
            reason: "FieldValueTooMany",
            detail: format!("Too many: {}: must have at most 16 items", h.len()),
        });
    }
    for (i, h) in hostnames.into_iter().flatten().enumerate() {
        let h = h.as_str().unwrap_or("");
        let bare = h.strip_prefix("*.").unwrap_or(h);
        if h.is_empty() || h.len() > 253 || !bare.split('.').all(is_label) {
            let field = format!("spec.hostnames[{i}]");
            let why = format!("{field} in body should match '{HOSTNAME_PATTERN}'");
            out.push(Cause::invalid(field, h, &why));
        }
    }
    for (i, rule) in spec
        .get("rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let at = format!("spec.rules[{i}]");
        let matches = rule.get("matches").and_then(Value::as_array);
        let mut prefix_matches = 0;
        for (j, m) in matches.into_iter().flatten().enumerate() {
            let ty = m
                .pointer("/path/type")
                .and_then(Value::as_str)
                .unwrap_or("PathPrefix");
            let value = m
                .pointer("/path/value")
                .and_then(Value::as_str)
                .unwrap_or("/");
            if ty == "PathPrefix" {
                prefix_matches += 1;
            }
            if ty == "Exact" || ty == "PathPrefix" {
                for e in path_problems(value) {
                    let why = format!("{e} when type one of ['Exact', 'PathPrefix']");
                    out.push(Cause::invalid(
                        format!("{at}.matches[{j}].path"),
                        value,
                        &why,
                    ));
                }
            }
        }
        for (j, f) in rule
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = format!("{at}.filters[{j}]");
            let is_rewrite = f.get("type").and_then(Value::as_str) == Some("URLRewrite");
            match (is_rewrite, f.get("urlRewrite")) {
                (true, None) => out.push(Cause::invalid(
                    &field,
                    "",
                    "filter.urlRewrite must be specified for URLRewrite filter.type",
                )),
                (false, Some(_)) => out.push(Cause::invalid(
                    &field,
                    "",
                    "filter.urlRewrite must be nil if the filter.type is not URLRewrite",
                )),
                _ => {}
            }
            let path = f.pointer("/urlRewrite/path");
            if path.and_then(|p| p.get("type")).and_then(Value::as_str)
                == Some("ReplacePrefixMatch")
            {
                if path.and_then(|p| p.get("replacePrefixMatch")).is_none() {
                    out.push(Cause::invalid(format!("{field}.urlRewrite.path"), "", "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"));
                }
                if prefix_matches != 1 || matches.is_none_or(|m| m.len() != 1) {
                    out.push(Cause::invalid(&at, "", "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"));
                }
            }
        }
        for (j, b) in rule
            .get("backendRefs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let field = format!("{at}.backendRefs[{j}]");
            if b.get("name")
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                out.push(Cause::required(format!("{field}.name")));
            }
            let service = b
                .get("kind")
                .and_then(Value::as_str)
                .is_none_or(|k| k == "Service")
                && b.get("group")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty);
            match b.get("port") {
                None if service => out.push(Cause::invalid(
                    &field,
                    "",
                    "Must have port for Service reference",
                )),
                v => port_number(out, format!("{field}.port"), v),
            }
        }
    }
}

/// Everything the fake checks on a create or an update; an empty result means valid.
pub(crate) fn object(kind: &Kind, obj: &Value) -> Vec<Cause> {
    let mut out = Vec::new();
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("");
    push_all(&mut out, "metadata.name", name, name_errors(kind, name));
    labels(&mut out, "metadata.labels", obj.pointer("/metadata/labels"));
    annotations(
        &mut out,
        "metadata.annotations",
        obj.pointer("/metadata/annotations"),
    );
    owner_references(&mut out, obj.pointer("/metadata/ownerReferences"));
    if kind == &kinds::DEPLOYMENTS || kind == &kinds::REPLICASETS {
        match obj.get("spec") {
            Some(spec) => template(&mut out, spec),
            None => out.push(Cause::required("spec")),
        }
    } else if kind == &kinds::PODS {
        pod_spec(&mut out, "spec", obj.get("spec"));
    } else if kind == &kinds::SERVICES {
        service(&mut out, obj.get("spec"));
    } else if kind == &kinds::INGRESSES {
        ingress(&mut out, obj.get("spec"));
    } else if kind == &kinds::HTTPROUTES {
        http_route(&mut out, obj.get("spec"));
    } else if kind == &kinds::NETWORKPOLICIES {
        network_policy(&mut out, obj.get("spec"));
    } else if kind == &kinds::CONFIGMAPS {
        config_data::config_map(&mut out, obj);
    } else if kind == &kinds::SECRETS {
        config_data::secret(&mut out, obj);
    } else if kind == &kinds::LEASES {
        lease(&mut out, obj.get("spec"));
    }
    out
}

/// What the real server checks on a Lease (`ValidateLeaseSpec`): durations and transitions
/// that are set are positive, resp. not negative.
fn lease(out: &mut Vec<Cause>, spec: Option<&Value>) {
    let Some(spec) = spec else { return };
    if let Some(d) = spec.get("leaseDurationSeconds").and_then(Value::as_i64)
        && d <= 0
    {
        out.push(Cause::invalid_num(
            "spec.leaseDurationSeconds",
            d,
            "must be greater than 0",
        ));
    }
    if let Some(t) = spec.get("leaseTransitions").and_then(Value::as_i64)
        && t < 0
    {
        out.push(Cause::invalid_num(
            "spec.leaseTransitions",
            t,
            "must be greater than or equal to 0",
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn name_rules_differ_per_kind() {
        assert!(name_errors(&kinds::DEPLOYMENTS, "web.v1").is_empty());
        assert!(!name_errors(&kinds::SERVICES, "web.v1").is_empty());
        assert!(!name_errors(&kinds::SERVICES, "1web").is_empty());
        assert!(name_errors(&kinds::DEPLOYMENTS, "1web").is_empty());
        assert!(!name_errors(&kinds::PODS, "Web").is_empty());
        assert!(!name_errors(&kinds::SERVICES, &"a".repeat(64)).is_empty());
        assert!(!name_errors(&kinds::NAMESPACES, "a.b").is_empty());
    }

    #[test]
    fn deployment_selector_must_match_template() {
        let d = json!({"metadata": {"name": "web"}, "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "other"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}});
        let causes = object(&kinds::DEPLOYMENTS, &d);
        assert_eq!(causes.len(), 1, "{causes:?}");
        assert_eq!(causes[0].field, "spec.template.metadata.labels");
    }

    #[test]
    fn bad_labels_and_container_names_are_caught() {
        let p = json!({"metadata": {"name": "p", "labels": {"ok": "fine", "bad key!": "x", "v": "-x"}},
            "spec": {"containers": [{"name": "my_web", "image": "nginx",
                "volumeMounts": [{"name": "missing", "mountPath": "/d"}]}]}});
        let fields: Vec<String> = object(&kinds::PODS, &p)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            [
                "metadata.labels",
                "metadata.labels",
                "spec.containers[0].name",
                "spec.containers[0].volumeMounts[0].name"
            ]
        );
    }

    #[test]
    fn multi_port_services_need_port_names() {
        let s = json!({"metadata": {"name": "s"}, "spec": {"type": "ClusterIP",
            "ports": [{"port": 80}, {"port": 443, "nodePort": 30001}]}});
        let fields: Vec<String> = object(&kinds::SERVICES, &s)
            .into_iter()
            .map(|c| c.field)
            .collect();
        assert_eq!(
            fields,
            [
                "spec.ports[0].name",
                "spec.ports[1].name",
                "spec.ports[1].nodePort"
            ]
        );
    }
}
