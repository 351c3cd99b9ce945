//! One compose service → [`Service`].

use super::files::{self, Declarations};
use super::keys;
use super::reader::{NotTranslated, Reader, child};
use super::{ports, volumes};
use crate::codes;
use crate::diagnostic::Severity;
use crate::model::{
    Dependency, HealthTest, Healthcheck, Pos, ResourceAmounts, Service, StartCondition, Store, User,
};
use crate::names::is_dns_label;
use crate::quantity;
use crate::shell_words;
use crate::yaml::{Node, Value};

pub fn load_service(
    key: &Node,
    node: &Node,
    path: &str,
    context: &super::Context,
    declarations: &Declarations,
    r: &mut Reader,
    not_translated: &mut Vec<NotTranslated>,
) -> Option<Service> {
    let env = context.env;
    let name = service_name(&key.text(), key, path, r);
    let mut service = Service {
        name: name.clone(),
        pos: r.pos(key, path),
        ..Default::default()
    };
    let entries = r.map(node, path)?;
    let mut image_seen = false;
    let mut own_not_translated = Vec::new();
    let mut env_file = Vec::new();
    let mut stored_mounts = Vec::new();
    for (k, v) in entries {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "image" => {
                image_seen = true;
                // `image:` with nothing after it is one problem (no image), not also a type error.
                let image = match v.value {
                    Value::Null => Some(String::new()),
                    _ => r.string(v, &kpath),
                };
                if image.as_deref().is_some_and(|i| i.trim().is_empty()) {
                    r.error(
                        codes::INVALID_VALUE,
                        format!("service `{name}` has an empty `image`"),
                        v,
                        &kpath,
                    );
                }
                service.image = image.unwrap_or_default();
            }
            "command" => service.command = command(v, &kpath, r),
            "entrypoint" => service.entrypoint = command(v, &kpath, r),
            "environment" | "env" => {
                if kname == "env" {
                    r.warn(
                        codes::DEPRECATED_ALIAS,
                        "`env:` is Tycho's spelling; compose calls it `environment:` (read the same way)",
                        k,
                        &kpath,
                    );
                }
                for (var, value, pos) in r.key_values(v, &kpath) {
                    if var == crate::connect::BASE_PATH_ENV {
                        // Tycho sets it after the service's own env (see plan::container).
                        if value.is_some() {
                            r.at(
                                Severity::Warning,
                                codes::RESERVED_VARIABLE,
                                format!("{var} is set by Tycho to the system's base path; this value is replaced"),
                                &pos,
                            );
                        }
                        continue;
                    }
                    if let Err(why) = crate::names::check_env_name(&var) {
                        r.at(Severity::Error, codes::INVALID_NAME, why, &pos);
                        continue;
                    }
                    // `- NAME` without a value takes it from the request env, or is left out.
                    let value = value.or_else(|| env.get(&var).cloned());
                    if let Some(value) = value {
                        service.environment.retain(|(existing, _)| existing != &var);
                        service.environment.push((var, value));
                    }
                }
            }
            "env_file" => env_file = files::env_files(v, &kpath, env, r),
            // Read before the service is (see load::profiles): it only decides whether it runs.
            "profiles" => {}
            "configs" | "secrets" => {
                let store = if kname == "configs" {
                    Store::ConfigMap
                } else {
                    Store::Secret
                };
                stored_mounts.extend(files::service_files(
                    v,
                    &kpath,
                    store,
                    declarations,
                    env,
                    r,
                    &mut own_not_translated,
                ));
            }
            "ports" => service.ports = ports::load_ports(v, &kpath, true, r),
            "expose" => service.expose = ports::load_ports(v, &kpath, false, r),
            "volumes" => service.volumes = volumes::load_mounts(v, &kpath, r, &mut service.tmpfs),
            "tmpfs" => service.tmpfs.extend(volumes::load_tmpfs(v, &kpath, r)),
            "shm_size" => service.shm_size = volumes::size(v, &kpath, r),
            "deploy" => deploy(v, &kpath, &mut service, r, &mut own_not_translated),
            "cpus" => service.resources.limits.cpu = cpus(v, &kpath, r),
            "mem_limit" => service.resources.limits.memory = memory(v, &kpath, r),
            "mem_reservation" => service.resources.reservations.memory = memory(v, &kpath, r),
            "gpus" => service.resources.limits.gpus = gpus(v, &kpath, r),
            "healthcheck" => {
                service.healthcheck = healthcheck(v, &kpath, r, &mut own_not_translated)
            }
            "labels" | "annotations" => {
                service.labels.extend(r.annotations(v, &kpath));
            }
            "working_dir" => service.working_dir = r.string(v, &kpath),
            "user" => service.user = user(v, &kpath, r, &mut own_not_translated, k),
            "read_only" => service.read_only = r.bool(v, &kpath).unwrap_or(false),
            "privileged" => {
                if r.bool(v, &kpath) == Some(true) {
                    service.privileged = Some(r.pos(v, &kpath));
                }
            }
            "cap_add" => service.cap_add = r.strings(v, &kpath),
            "cap_drop" => {
                service.cap_drop = r.strings(v, &kpath).into_iter().map(|(s, _)| s).collect()
            }
            "stdin_open" => service.stdin_open = r.bool(v, &kpath).unwrap_or(false),
            "tty" => service.tty = r.bool(v, &kpath).unwrap_or(false),
            "extra_hosts" => service.extra_hosts = extra_hosts(v, &kpath, r),
            "pull_policy" => {
                service.pull_policy = pull_policy(v, &kpath, r, &mut own_not_translated, k)
            }
            "stop_grace_period" => {
                service.stop_grace_period = duration(v, &kpath, r).map(|s| (s, r.pos(v, &kpath)))
            }
            "depends_on" => service.depends_on = depends_on(v, &kpath, r, &mut own_not_translated),
            "restart" => restart(v, &kpath, r, &mut own_not_translated, k),
            "scale" => service.replicas = replicas(v, &kpath, r),
            "securityContext" => security_context(v, &kpath, &mut service, r),
            "ext" => ext(v, &kpath, &mut service, r),
            _ => r.other_key(k, &kpath, keys::SERVICE, &mut own_not_translated),
        }
    }
    let build = entries.iter().find(|(k, _)| k.text() == "build");
    match build {
        _ if image_seen => {}
        Some((build_key, _)) if !context.image_template.is_empty() => {
            service.image = context
                .image_template
                .replace("{project}", context.project)
                .replace("{service}", &name);
            r.warn(
                codes::NOT_TRANSLATED,
                format!("`build:` is not run on the cluster: service `{name}` runs `{}`, the image the policy's `image_template` names (your CI builds and pushes it)", service.image),
                build_key,
                &child(path, "build"),
            );
        }
        Some(_) => r.error(
            codes::MISSING_KEY,
            format!("service `{name}` has no `image`; Tycho does not build images, so `build:` needs an `image:` beside it (or the operator's policy an `image_template`)"),
            key,
            path,
        ),
        None => r.error(
            codes::MISSING_KEY,
            format!("service `{name}` has no `image`"),
            key,
            path,
        ),
    }
    merge_env_file(&mut service, env_file, path, r);
    service.volumes.extend(stored_mounts);
    r.diagnostics_from_not_translated(&own_not_translated);
    not_translated.extend(own_not_translated);
    Some(service)
}

/// `env_file` variables go first, and `environment:` wins over them, as in Compose. A name
/// Kubernetes refuses is an error at the service's `env_file`.
fn merge_env_file(
    service: &mut Service,
    env_file: Vec<(String, String)>,
    path: &str,
    r: &mut Reader,
) {
    let at = Pos {
        path: child(path, "env_file"),
        ..service.pos.clone()
    };
    let mut merged = Vec::new();
    for (name, value) in env_file {
        if name == crate::connect::BASE_PATH_ENV
            || service.environment.iter().any(|(n, _)| *n == name)
        {
            continue;
        }
        if let Err(why) = crate::names::check_env_name(&name) {
            r.at(
                Severity::Error,
                codes::INVALID_NAME,
                format!("env_file: {why}"),
                &at,
            );
            continue;
        }
        merged.push((name, value));
    }
    merged.append(&mut service.environment);
    service.environment = merged;
}

/// Service names become container names and host aliases: DNS-1123 labels. A name Compose
/// accepts but Kubernetes does not is used in its Kubernetes form, with a warning.
fn service_name(written: &str, key: &Node, path: &str, r: &mut Reader) -> String {
    let name = crate::names::kubernetes_name(written);
    if name != written && is_dns_label(&name) {
        r.warn(
            codes::INVALID_NAME,
            format!("service `{written}` is called `{name}` in Kubernetes (its container, and the host name the other services reach it by)"),
            key,
            path,
        );
        return name;
    }
    check_service_name(written, key, path, r);
    written.to_string()
}

fn check_service_name(name: &str, key: &Node, path: &str, r: &mut Reader) {
    if name.len() > 63 {
        r.error(
            codes::NAME_TOO_LONG,
            format!(
                "service name `{name}` is {} characters; Kubernetes allows 63",
                name.len()
            ),
            key,
            path,
        );
    } else if !is_dns_label(name) {
        r.error(
            codes::INVALID_NAME,
            format!("service name `{name}` cannot name a container: use lowercase letters, digits and `-`, starting and ending with a letter or digit"),
            key,
            path,
        );
    }
}

/// `command`/`entrypoint`: a list as is, or a string split like a shell would.
fn command(node: &Node, path: &str, r: &mut Reader) -> Option<Vec<String>> {
    match &node.value {
        Value::Seq(_) => Some(r.strings(node, path).into_iter().map(|(s, _)| s).collect()),
        Value::Null => None,
        _ => {
            let text = r.string(node, path)?;
            match shell_words::split(&text) {
                Ok(words) => Some(words),
                Err(at) => {
                    let column = node.column + node.content_offset.unwrap_or(0) + at;
                    r.push(
                        crate::Severity::Error,
                        codes::INVALID_COMMAND,
                        "this quote is never closed".into(),
                        path,
                        node.line,
                        if node.content_offset.is_some() {
                            column
                        } else {
                            node.column
                        },
                    );
                    None
                }
            }
        }
    }
}

fn deploy(
    node: &Node,
    path: &str,
    service: &mut Service,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
) {
    for (k, v) in r.map(node, path).unwrap_or(&[]) {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "replicas" => service.replicas = replicas(v, &kpath, r),
            "mode" => match r.string(v, &kpath).as_deref() {
                Some("replicated" | "replicated-job") | None => {}
                Some(_) => {
                    r.not_translated(k, &kpath, "only replicated services are supported", nt)
                }
            },
            "resources" => {
                for (rk, rv) in r.map(v, &kpath).unwrap_or(&[]) {
                    let rname = rk.text();
                    let rpath = child(&kpath, &rname);
                    match rname.as_str() {
                        "limits" => {
                            resource_amounts(rv, &rpath, &mut service.resources.limits, r, nt)
                        }
                        "reservations" => {
                            resource_amounts(rv, &rpath, &mut service.resources.reservations, r, nt)
                        }
                        _ => r.unknown_key(rk, &rpath, &["limits", "reservations"]),
                    }
                }
            }
            _ => r.other_key(k, &kpath, keys::DEPLOY, nt),
        }
    }
}

fn replicas(node: &Node, path: &str, r: &mut Reader) -> Option<(u32, Pos)> {
    r.count(node, path, 100)
        .map(|n| (n as u32, r.pos(node, path)))
}

fn resource_amounts(
    node: &Node,
    path: &str,
    amounts: &mut ResourceAmounts,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
) {
    for (k, v) in r.map(node, path).unwrap_or(&[]) {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "cpus" => amounts.cpu = cpus(v, &kpath, r),
            "memory" => amounts.memory = memory(v, &kpath, r),
            "gpus" => amounts.gpus = gpus(v, &kpath, r),
            "devices" => {
                if let Some(count) = device_gpus(v, &kpath, r, nt) {
                    amounts.gpus = Some(count);
                }
            }
            _ => r.other_key(k, &kpath, keys::RESOURCE_AMOUNTS, nt),
        }
    }
}

fn cpus(node: &Node, path: &str, r: &mut Reader) -> Option<(u64, Pos)> {
    let text = r.string(node, path)?;
    match quantity::parse_cpus(&text) {
        Some(milli) => Some((milli, r.pos(node, path))),
        None => {
            let below_step = text
                .trim()
                .parse::<f64>()
                .is_ok_and(|cpus| cpus > 0.0 && cpus < 0.0005);
            let message = if below_step {
                format!(
                    "`{text}` CPU is below Kubernetes' smallest step, 1m (0.001 CPU); write at least 0.001"
                )
            } else {
                format!("`{text}` is not a CPU amount; write e.g. 0.5 or 2")
            };
            r.error(codes::INVALID_QUANTITY, message, node, path);
            None
        }
    }
}

fn memory(node: &Node, path: &str, r: &mut Reader) -> Option<(u64, Pos)> {
    let text = r.string(node, path)?;
    match quantity::parse_compose_bytes(&text) {
        Some(bytes) => Some((bytes, r.pos(node, path))),
        None => {
            r.error(
                codes::INVALID_QUANTITY,
                format!("`{text}` is not a memory size; write e.g. 512M or 2G"),
                node,
                path,
            );
            None
        }
    }
}

/// Tycho's `gpus: N` (in resources) and compose's service-level `gpus: all | N`.
fn gpus(node: &Node, path: &str, r: &mut Reader) -> Option<(u32, Pos)> {
    if node.as_str() == Some("all") {
        r.warn(
            codes::INVALID_VALUE,
            "`gpus: all` cannot be requested from a cluster; one GPU is requested",
            node,
            path,
        );
        return Some((1, r.pos(node, path)));
    }
    if let Value::Seq(items) = &node.value {
        // compose's long form: a list of device requests, like deploy.resources.*.devices.
        let requested: i64 = items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| {
                let ipath = child(path, &i.to_string());
                let count = r
                    .map(item, &ipath)?
                    .iter()
                    .find(|(k, _)| k.text() == "count")?;
                r.count(&count.1, &child(&ipath, "count"), 64)
            })
            .sum();
        return Some((requested.max(1) as u32, r.pos(node, path)));
    }
    r.count(node, path, 64)
        .map(|n| (n as u32, r.pos(node, path)))
}

/// GPUs from compose `devices: [{capabilities: [gpu], count: N}]`.
fn device_gpus(
    node: &Node,
    path: &str,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
) -> Option<(u32, Pos)> {
    let mut total = 0u32;
    let mut found = false;
    for (i, device) in r.list(node, path).unwrap_or(&[]).iter().enumerate() {
        let dpath = child(path, &i.to_string());
        let mut is_gpu = false;
        let mut count = 1u32;
        for (k, v) in r.map(device, &dpath).unwrap_or(&[]) {
            let kname = k.text();
            let kpath = child(&dpath, &kname);
            match kname.as_str() {
                "capabilities" => is_gpu = r.strings(v, &kpath).iter().any(|(c, _)| c == "gpu"),
                "count" => {
                    count = if v.as_str() == Some("all") {
                        r.warn(
                            codes::INVALID_VALUE,
                            "`count: all` cannot be requested from a cluster; one GPU is requested",
                            v,
                            &kpath,
                        );
                        1
                    } else {
                        r.count(v, &kpath, 64).unwrap_or(1) as u32
                    }
                }
                "driver" => {}
                _ => r.other_key(k, &kpath, keys::DEVICE, nt),
            }
        }
        if is_gpu {
            found = true;
            total += count;
        } else {
            r.warn(
                codes::NOT_TRANSLATED,
                "not translated: devices (only GPU devices are requested)",
                device,
                &dpath,
            );
        }
    }
    found.then(|| (total, r.pos(node, path)))
}

fn healthcheck(
    node: &Node,
    path: &str,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
) -> Option<Healthcheck> {
    let mut check = Healthcheck {
        test: HealthTest::Disabled,
        interval: None,
        timeout: None,
        retries: None,
        start_period: None,
        pos: r.pos(node, path),
    };
    let mut disabled = false;
    let mut has_test = false;
    for (k, v) in r.map(node, path)? {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "test" => {
                has_test = true;
                check.test = health_test(v, &kpath, r)?;
            }
            "interval" => check.interval = duration(v, &kpath, r),
            "timeout" => check.timeout = duration(v, &kpath, r),
            "start_period" => check.start_period = duration(v, &kpath, r),
            "retries" => check.retries = r.count(v, &kpath, 1000).map(|n| n as i32),
            "disable" => disabled = r.bool(v, &kpath).unwrap_or(false),
            _ => r.other_key(k, &kpath, keys::HEALTHCHECK, nt),
        }
    }
    if disabled || !has_test || check.test == HealthTest::Disabled {
        return None;
    }
    Some(check)
}

fn health_test(node: &Node, path: &str, r: &mut Reader) -> Option<HealthTest> {
    if let Value::Seq(_) = node.value {
        let words: Vec<String> = r.strings(node, path).into_iter().map(|(s, _)| s).collect();
        return match words.split_first() {
            Some((first, rest)) if first == "CMD" && !rest.is_empty() => {
                Some(HealthTest::Exec(rest.to_vec()))
            }
            Some((first, rest)) if first == "CMD-SHELL" && !rest.is_empty() => {
                Some(HealthTest::Shell(rest.join(" ")))
            }
            Some((first, _)) if first == "NONE" => Some(HealthTest::Disabled),
            _ => {
                r.error(codes::INVALID_VALUE, "a healthcheck test list starts with CMD, CMD-SHELL or NONE, followed by the command", node, path);
                None
            }
        };
    }
    r.string(node, path).map(HealthTest::Shell)
}

fn duration(node: &Node, path: &str, r: &mut Reader) -> Option<i64> {
    if matches!(node.value, Value::Int(_) | Value::Float(_)) {
        let number = node.text();
        r.error(
            codes::INVALID_DURATION,
            format!("`{number}` has no unit, and Compose refuses it; write e.g. {number}s"),
            node,
            path,
        );
        return None;
    }
    let text = r.string(node, path)?;
    let seconds = quantity::parse_duration_seconds(&text);
    if seconds.is_none() {
        r.error(
            codes::INVALID_DURATION,
            format!("`{text}` is not a duration; write e.g. 30s, 1m30s or 500ms"),
            node,
            path,
        );
    }
    seconds
}

/// The user and group ids Kubernetes accepts (`runAsUser`, `runAsGroup`, `fsGroup`).
const ID_RANGE: std::ops::RangeInclusive<i64> = 0..=2_147_483_647;

/// An id from a service's `securityContext`, refused at its value when out of range.
fn id_in_range(v: &Node, path: &str, r: &mut Reader) -> Option<i64> {
    let id = r.int(v, path)?;
    if ID_RANGE.contains(&id) {
        return Some(id);
    }
    let message = format!(
        "id {id} is out of range: Kubernetes takes 0 to {}",
        ID_RANGE.end()
    );
    r.error(codes::INVALID_VALUE, message, v, path);
    None
}

fn user(
    node: &Node,
    path: &str,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
    key: &Node,
) -> Option<User> {
    let text = r.string(node, path)?;
    let (uid, gid) = match text.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (text.as_str(), None),
    };
    let Ok(uid) = uid.parse::<i64>() else {
        r.not_translated(
            key,
            path,
            "Kubernetes needs a numeric user id (e.g. `1000` or `1000:100`)",
            nt,
        );
        return None;
    };
    for (what, id) in [
        ("user", Some(uid)),
        ("group", gid.and_then(|g| g.parse().ok())),
    ] {
        if let Some(id) = id.filter(|id| !ID_RANGE.contains(id)) {
            let message = format!(
                "{what} id {id} is out of range: Kubernetes takes 0 to {}",
                ID_RANGE.end()
            );
            r.error(codes::INVALID_VALUE, message, node, path);
            return None;
        }
    }
    let gid = match gid.map(str::parse::<i64>) {
        Some(Ok(g)) => Some(g),
        Some(Err(_)) => {
            r.not_translated(key, path, "Kubernetes needs a numeric group id", nt);
            None
        }
        None => None,
    };
    Some(User {
        uid,
        gid,
        pos: r.pos(node, path),
    })
}

fn extra_hosts(node: &Node, path: &str, r: &mut Reader) -> Vec<(String, String)> {
    let mut hosts = Vec::new();
    for (host, ip, pos) in r.key_values(node, path) {
        // compose writes `host:ip` in lists and `host=ip` in newer files.
        let (host, ip) = match ip {
            Some(ip) => (host, ip),
            None => match host.split_once(':') {
                Some((h, i)) => (h.to_string(), i.to_string()),
                None => {
                    r.at(
                        crate::Severity::Error,
                        codes::INVALID_VALUE,
                        format!("`{host}` is not HOST:IP"),
                        &pos,
                    );
                    continue;
                }
            },
        };
        let ip = ip.trim_matches(['[', ']']);
        if ip.parse::<std::net::IpAddr>().is_err() {
            let hint = if ip == "host-gateway" {
                "`host-gateway` is Docker's address of the host, and a pod has none: give the IP address the name should have, or leave the entry out"
            } else {
                "a pod's host entries need an IP address (e.g. 10.0.0.5 or 2001:db8::5)"
            };
            r.at(
                crate::Severity::Error,
                codes::INVALID_VALUE,
                format!("`{host}:{ip}`: `{ip}` is not an IP address; {hint}"),
                &pos,
            );
            continue;
        }
        hosts.push((host, ip.to_string()));
    }
    hosts
}

fn pull_policy(
    node: &Node,
    path: &str,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
    key: &Node,
) -> Option<String> {
    let text = r.string(node, path)?;
    match text.as_str() {
        "always" => Some("Always".into()),
        "never" => Some("Never".into()),
        "missing" | "if_not_present" => Some("IfNotPresent".into()),
        "build" => {
            r.not_translated(key, path, "images are not built on the cluster", nt);
            None
        }
        other => {
            r.error(codes::INVALID_VALUE, format!("pull_policy `{other}` is not one of always, never, missing, if_not_present, build"), node, path);
            None
        }
    }
}

fn depends_on(
    node: &Node,
    path: &str,
    r: &mut Reader,
    nt: &mut Vec<NotTranslated>,
) -> Vec<Dependency> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .map(|(k, v)| {
                let kpath = child(path, &k.text());
                let mut dependency = Dependency {
                    service: crate::names::kubernetes_name(&k.text()),
                    condition: StartCondition::Started,
                    pos: r.pos(k, &kpath),
                    condition_pos: None,
                    required: true,
                };
                for (ck, cv) in r.map(v, &kpath).unwrap_or(&[]) {
                    let cpath = child(&kpath, &ck.text());
                    match ck.text().as_str() {
                        "required" => dependency.required = r.bool(cv, &cpath).unwrap_or(true),
                        "condition" => {
                            if let Some(condition) = start_condition(cv, &cpath, r) {
                                dependency.condition = condition;
                                dependency.condition_pos = Some(r.pos(cv, &cpath));
                            }
                        }
                        _ => r.other_key(ck, &cpath, keys::DEPENDS_ON, nt),
                    }
                }
                dependency
            })
            .collect(),
        _ => r
            .strings(node, path)
            .into_iter()
            .map(|(service, pos)| Dependency {
                service: crate::names::kubernetes_name(&service),
                condition: StartCondition::Started,
                pos,
                condition_pos: None,
                required: true,
            })
            .collect(),
    }
}

fn start_condition(node: &Node, path: &str, r: &mut Reader) -> Option<StartCondition> {
    let text = r.string(node, path)?;
    match text.as_str() {
        "service_started" => Some(StartCondition::Started),
        "service_healthy" => Some(StartCondition::Healthy),
        "service_completed_successfully" => Some(StartCondition::CompletedSuccessfully),
        other => {
            r.error(
                codes::INVALID_VALUE,
                format!("condition `{other}` is not one of service_started, service_healthy, service_completed_successfully"),
                node,
                path,
            );
            None
        }
    }
}

fn restart(node: &Node, path: &str, r: &mut Reader, nt: &mut Vec<NotTranslated>, key: &Node) {
    match r.string(node, path).as_deref() {
        Some("always" | "unless-stopped") | None => {}
        Some(policy) if policy == "no" || policy.starts_with("on-failure") => {
            r.not_translated(key, path, "pods of a Deployment always restart", nt)
        }
        Some(other) => r.error(
            codes::INVALID_VALUE,
            format!("restart `{other}` is not one of no, always, on-failure, unless-stopped"),
            node,
            path,
        ),
    }
}

fn security_context(node: &Node, path: &str, service: &mut Service, r: &mut Reader) {
    let sc = &mut service.security_context;
    for (k, v) in r.map(node, path).unwrap_or(&[]) {
        let kname = k.text();
        let kpath = child(path, &kname);
        let pos = r.pos(v, &kpath);
        match kname.as_str() {
            "runAsUser" => sc.run_as_user = id_in_range(v, &kpath, r).map(|u| (u, pos)),
            "runAsGroup" => sc.run_as_group = id_in_range(v, &kpath, r),
            "fsGroup" => sc.fs_group = id_in_range(v, &kpath, r),
            "runAsNonRoot" => sc.run_as_non_root = r.bool(v, &kpath).map(|b| (b, pos)),
            "allowPrivilegeEscalation" => {
                sc.allow_privilege_escalation = r.bool(v, &kpath).map(|b| (b, pos))
            }
            "readOnlyRootFilesystem" => sc.read_only_root_filesystem = r.bool(v, &kpath),
            "privileged" => {
                if r.bool(v, &kpath) == Some(true) {
                    service.privileged = Some(pos);
                }
            }
            _ => {
                let known: Vec<&str> = keys::SECURITY_CONTEXT.iter().map(|(k, _)| *k).collect();
                r.unknown_key(k, &kpath, &known);
            }
        }
    }
}

/// A probe's `httpGet.host` or `tcpSocket.host` makes the kubelet connect to that host from the
/// node's network instead of to the pod, so a user could probe (and time) anything the node
/// reaches. Each non-empty host is refused at its value; returns whether any was.
fn probe_hosts_refused(probe: &Node, path: &str, r: &mut Reader) -> bool {
    let mut refused = false;
    let Value::Map(sections) = &probe.value else {
        return false;
    };
    for (section, handler) in sections {
        let name = section.text();
        if !matches!(name.as_str(), "httpGet" | "tcpSocket") {
            continue;
        }
        let Value::Map(fields) = &handler.value else {
            continue;
        };
        for (field, value) in fields.iter().filter(|(k, _)| k.text() == "host") {
            if value.text().is_empty() {
                continue;
            }
            let fpath = child(&child(path, &name), &field.text());
            r.error(
                codes::PROBE_HOST_REFUSED,
                format!(
                    "`{name}.host` makes the kubelet probe `{}` from the node's network; probes go to the pod itself, so leave `host` out",
                    value.text()
                ),
                value,
                &fpath,
            );
            refused = true;
        }
    }
    refused
}

/// Tycho's `ext: {kube: {livenessProbe, readinessProbe}}`: Kubernetes probes written directly.
fn ext(node: &Node, path: &str, service: &mut Service, r: &mut Reader) {
    for (k, v) in r.map(node, path).unwrap_or(&[]) {
        let kpath = child(path, &k.text());
        if k.text() != "kube" {
            r.unknown_key(k, &kpath, &["kube"]);
            continue;
        }
        for (pk, pv) in r.map(v, &kpath).unwrap_or(&[]) {
            let pname = pk.text();
            let ppath = child(&kpath, &pname);
            let slot = match pname.as_str() {
                "livenessProbe" => &mut service.liveness_probe,
                "readinessProbe" => &mut service.readiness_probe,
                _ => {
                    r.unknown_key(pk, &ppath, &["livenessProbe", "readinessProbe"]);
                    continue;
                }
            };
            let json = pv.to_json();
            match serde_json::from_value::<k8s_openapi::api::core::v1::Probe>(json.clone()) {
                Ok(_) if json.is_object() => {
                    if probe_hosts_refused(pv, &ppath, r) {
                        continue;
                    }
                    *slot = Some(json)
                }
                Ok(_) => r.error(
                    codes::WRONG_TYPE,
                    format!("`{pname}` must be a Kubernetes Probe mapping"),
                    pv,
                    &ppath,
                ),
                Err(e) => r.error(
                    codes::INVALID_VALUE,
                    format!("`{pname}` is not a valid Kubernetes Probe: {e}"),
                    pv,
                    &ppath,
                ),
            }
        }
    }
}
