//! What Compose refuses although each key reads fine alone: a service naming a network, secret
//! or config the top level does not declare, or a service the file does not define (`links`,
//! `volumes_from`, `network_mode: service:x`; `extends` is load::extends's); `network_mode`
//! beside `networks`; one `container_name` for two services; and `depends_on` cycles. Checked on the YAML tree,
//! since most of these keys have no Kubernetes translation of their own, so that `validate`
//! refuses what `docker compose config` refuses. The services are the ones `extends:` made.

use std::collections::BTreeSet;

use crate::codes;
use crate::diagnostic::Severity;
use crate::model::System;
use crate::yaml::{Node, Value};

use super::reader::{Reader, child};

/// The names a mapping declares (top-level `networks:`, `secrets:`, `configs:`).
fn declared(top: &[(Node, Node)], key: &str) -> BTreeSet<String> {
    top.iter()
        .filter(|(k, _)| k.text() == key)
        .flat_map(|(_, v)| match &v.value {
            Value::Map(entries) => entries.iter().map(|(k, _)| k.text()).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// The names a service's list or mapping refers to, each with its node and path: list items
/// as strings (or their `source:`), mapping keys as they are.
fn named<'a>(node: &'a Node, path: &str) -> Vec<(String, &'a Node, String)> {
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let name = match &item.value {
                    Value::Map(fields) => fields
                        .iter()
                        .find(|(k, _)| k.text() == "source")
                        .map(|(_, v)| v.text())?,
                    _ => item.text(),
                };
                Some((name, item, child(path, &i.to_string())))
            })
            .collect(),
        Value::Map(entries) => entries
            .iter()
            .map(|(k, _)| (k.text(), k, child(path, &k.text())))
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn check(
    top: &[(Node, Node)],
    services: &[(Node, Node)],
    system: &System,
    r: &mut Reader,
) {
    let service_names: BTreeSet<String> = services.iter().map(|(k, _)| k.text()).collect();
    let mut networks = declared(top, "networks");
    networks.insert("default".into()); // every project has it without declaring it
    let secrets = declared(top, "secrets");
    let configs = declared(top, "configs");
    let mut container_names: Vec<(String, String)> = Vec::new();
    for (key, service) in services {
        let name = key.text();
        let path = child("/services", &name);
        let Value::Map(fields) = &service.value else {
            continue;
        };
        let field = |wanted: &str| fields.iter().find(|(k, _)| k.text() == wanted);
        for (what, list) in [
            ("network", &networks),
            ("secret", &secrets),
            ("config", &configs),
        ] {
            let Some((_, value)) = field(&format!("{what}s")) else {
                continue;
            };
            for (used, node, at) in named(value, &child(&path, &format!("{what}s"))) {
                if !list.contains(&used) {
                    let message =
                        format!("{what} `{used}` is not declared under the top-level `{what}s:`");
                    r.error(codes::UNDECLARED, message, node, &at);
                }
            }
        }
        if let (Some((mode_key, _)), Some(_)) = (field("network_mode"), field("networks")) {
            r.error(
                codes::CONFLICTING_KEYS,
                format!("service `{name}` sets both `network_mode` and `networks`; Compose allows only one"),
                mode_key,
                &child(&path, "network_mode"),
            );
        }
        let mut services_named: Vec<(String, &Node, String, &str)> = Vec::new();
        if let Some((_, mode)) = field("network_mode")
            && let Some(target) = mode.text().strip_prefix("service:")
        {
            services_named.push((
                target.into(),
                mode,
                child(&path, "network_mode"),
                "network_mode",
            ));
        }
        for (key_name, separator) in [("links", ':'), ("volumes_from", ':')] {
            if let Some((_, value)) = field(key_name) {
                for (used, node, at) in named(value, &child(&path, key_name)) {
                    if used.starts_with("container:") {
                        continue; // another project's container: nothing to check here
                    }
                    let target = used.split(separator).next().unwrap_or("").to_string();
                    services_named.push((target, node, at, key_name));
                }
            }
        }
        for (target, node, at, key_name) in services_named {
            if !service_names.contains(&target) {
                let message = format!(
                    "`{key_name}` of `{name}` names `{target}`, which is not a service in this file"
                );
                r.error(codes::UNKNOWN_DEPENDENCY, message, node, &at);
            }
        }
        if let Some((_, container)) = field("container_name") {
            let container_name = container.text();
            match container_names.iter().find(|(c, _)| *c == container_name) {
                Some((_, first)) => r.error(
                    codes::CONFLICTING_KEYS,
                    format!("container_name `{container_name}` is also the name of service `{first}`'s container"),
                    container,
                    &child(&path, "container_name"),
                ),
                None => container_names.push((container_name, name.clone())),
            }
        }
    }
    dependency_cycles(system, r);
}

/// Reports each `depends_on` cycle once, at the dependency that closes it, naming it whole.
fn dependency_cycles(system: &System, r: &mut Reader) {
    let index = |name: &str| system.services.iter().position(|s| s.name == name);
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; system.services.len()];
    let mut trail: Vec<usize> = Vec::new();
    fn visit(
        at: usize,
        system: &System,
        index: &dyn Fn(&str) -> Option<usize>,
        state: &mut [u8],
        trail: &mut Vec<usize>,
        r: &mut Reader,
    ) {
        state[at] = 1;
        trail.push(at);
        for dependency in &system.services[at].depends_on {
            let pos = &dependency.pos;
            let Some(next) = index(&dependency.service) else {
                continue;
            };
            match state[next] {
                0 => visit(next, system, index, state, trail, r),
                1 => {
                    let start = trail.iter().position(|&i| i == next).unwrap_or(0);
                    let mut names: Vec<&str> = trail[start..]
                        .iter()
                        .map(|&i| system.services[i].name.as_str())
                        .collect();
                    names.push(&system.services[next].name);
                    r.at(
                        Severity::Error,
                        codes::DEPENDENCY_CYCLE,
                        format!("`depends_on` goes round in a circle: {}", names.join(" → ")),
                        pos,
                    );
                }
                _ => {}
            }
        }
        trail.pop();
        state[at] = 2;
    }
    for start in 0..system.services.len() {
        if state[start] == 0 {
            visit(start, system, &index, &mut state, &mut trail, r);
        }
    }
}
