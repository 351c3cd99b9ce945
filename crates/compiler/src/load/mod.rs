//! compose text → typed model, with diagnostics.
//!
//! Order of work: read the YAML tree (positions kept), interpolate `$VARS` in every string value,
//! then walk the tree with one function per compose section. Every key is either translated,
//! reported as "not translated", or an error (unknown keys must not pass: typos matter).

mod compose_file;
mod consistency;
mod extends;
mod files;
mod include;
mod keys;
mod ports;
mod profiles;
mod project_files;
mod reader;
mod service;
mod volumes;

use crate::bundle::{Files, Reference};
use crate::codes;
use crate::connect::{BASE_PATH_ENV, Rewrite};
use crate::diagnostic::{Diagnostic, Severity};
use crate::interpolate::interpolate;
use crate::model::{
    ConnectSpec, HealthTest, MountSource, StartCondition, Store, System, VolumeDecl,
};
use crate::options::CompileOptions;
use crate::yaml::{self, Node, Value};
use reader::{NotTranslated, Reader, child};
use std::collections::BTreeMap;

pub struct Loaded {
    pub system: Option<System>,
    pub diagnostics: Vec<Diagnostic>,
    /// Every project path the file names (bind mounts, env files, configs, secrets, the
    /// files `extends:` names).
    pub references: Vec<Reference>,
    /// Where the parts of the tree written elsewhere were written, to point diagnostics
    /// about them there: first what `extends:` merged, then what the override files and
    /// `include:` brought (applied in this order: the first maps into the second's tree).
    pub origins: [extends::Origins; 2],
}

/// What the system is called and where it is served, known once the file's own top-level
/// `name:` is read (see [`crate::compile`]).
pub struct Project {
    pub name: String,
    /// `TYCHO_BASE_PATH`.
    pub base_path: String,
}

/// `project` gives the [`Project`] for the file's top-level `name:` (interpolated), if any.
/// `files` are the files sent with the compose file; `overrides` the project paths of the
/// override files among them, merged over it in order.
pub fn load(
    text: &str,
    overrides: &[String],
    files: &Files,
    options: &CompileOptions,
    project: &dyn Fn(Option<&str>) -> Project,
) -> Loaded {
    let (parsed, findings) = yaml::parse(text);
    let mut diagnostics: Vec<Diagnostic> = findings
        .iter()
        .map(|finding| yaml_diagnostic(finding, text))
        .collect();
    let root = match parsed {
        Ok(Some(root)) => root,
        Ok(None) => {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: codes::ROOT_NOT_MAPPING.into(),
                message: "the file is empty; a compose file needs a `services:` mapping".into(),
                path: String::new(),
                line: 1,
                column: 1,
                file: String::new(),
            });
            return Loaded {
                system: None,
                diagnostics,
                references: Vec::new(),
                origins: Default::default(),
            };
        }
        Err(error) => {
            diagnostics.push(yaml_diagnostic(&error, text));
            return Loaded {
                system: None,
                diagnostics,
                references: Vec::new(),
                origins: Default::default(),
            };
        }
    };
    let mut reader = Reader::new(files);
    let mut root = root;
    let (env, project) = interpolate_root(&mut root, &options.env, project, &mut reader);
    let (root, file_origins) = project_files::assemble(root, overrides, &env, &mut reader);
    let context = Context {
        env: &env,
        project: &project.name,
        profiles: profiles::active(options, &env),
        image_template: &options.policy.image_template,
    };
    let mut origins = extends::Origins::default();
    let system = load_system(&root, &context, &mut reader, &mut origins);
    diagnostics.extend(reader.diagnostics);
    Loaded {
        system,
        diagnostics,
        references: reader.lookups.references,
        origins: [origins, file_origins],
    }
}

/// A YAML reader's finding in `text` (a syntax error worded for people: see `syntax_words`).
fn yaml_diagnostic(e: &yaml::YamlError, text: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        code: e.code.into(),
        message: crate::syntax_words::message(e, text),
        path: String::new(),
        line: e.line,
        column: e.column,
        file: String::new(),
    }
}

/// What every service of the file is loaded with.
pub struct Context<'a> {
    /// The request env with `TYCHO_BASE_PATH` (`environment: [NAME]` entries read it).
    pub env: &'a BTreeMap<String, String>,
    /// The system's name (`{project}` in the policy's `image_template`).
    pub project: &'a str,
    /// The active Compose profiles.
    pub profiles: Vec<String>,
    pub image_template: &'a str,
}

/// Interpolates the top-level `name:` with the request env, then the rest of the file with the
/// request env plus `TYCHO_BASE_PATH`, which needs the name (see [`crate::compile`]). Each value
/// is interpolated once. Returns the env the rest of the loader reads (`environment: [NAME]`)
/// and the project.
fn interpolate_root(
    root: &mut Node,
    env: &BTreeMap<String, String>,
    project: &dyn Fn(Option<&str>) -> Project,
    reader: &mut Reader,
) -> (BTreeMap<String, String>, Project) {
    let mut env = env.clone();
    if env.remove(BASE_PATH_ENV).is_some() {
        reader.push(
            Severity::Warning,
            codes::RESERVED_VARIABLE,
            format!("the request env sets {BASE_PATH_ENV}, which Tycho sets to the system's base path; the request's value is ignored"),
            "",
            0,
            0,
        );
    }
    let Value::Map(entries) = &mut root.value else {
        let project = project(None);
        env.insert(BASE_PATH_ENV.into(), project.base_path.clone());
        interpolate_tree(root, &String::new, &env, reader);
        return (env, project);
    };
    let mut top_name = None;
    for (_, value) in entries.iter_mut().filter(|(k, _)| k.text() == "name") {
        interpolate_tree(value, &|| "/name".into(), &env, reader);
        // As `Reader::string` reads it; the last `name:` wins, as in `load_system`.
        top_name = match value.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(value.text()),
            _ => None,
        };
    }
    let project = project(top_name.as_deref());
    env.insert(BASE_PATH_ENV.into(), project.base_path.clone());
    for (key, value) in entries.iter_mut().filter(|(k, _)| k.text() != "name") {
        let key = &*key;
        interpolate_tree(value, &|| child("", &key.text()), &env, reader);
    }
    (env, project)
}

/// Replaces every string value by its interpolation, reporting findings at their character.
/// The JSON Pointer is built lazily: only a value with a finding needs it.
fn interpolate_tree(
    node: &mut Node,
    path: &dyn Fn() -> String,
    env: &BTreeMap<String, String>,
    reader: &mut Reader,
) {
    match &mut node.value {
        Value::Str(s) if s.contains('$') => {
            let (output, findings) = interpolate(s, env);
            for f in findings {
                if let Some(name) = &f.unset {
                    reader.unset_variables.push((path(), name.clone()));
                }
                let column = match node.content_offset {
                    Some(offset) => node.column + offset + f.offset,
                    None => node.column,
                };
                reader.push(f.severity, f.code, f.message, &path(), node.line, column);
            }
            *s = output;
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                interpolate_tree(item, &|| child(&path(), &i.to_string()), env, reader);
            }
        }
        Value::Map(entries) => {
            for (key, value) in entries.iter_mut() {
                let key = &*key;
                interpolate_tree(value, &|| child(&path(), &key.text()), env, reader);
            }
        }
        _ => {}
    }
}

fn load_system(
    root: &Node,
    context: &Context,
    r: &mut Reader,
    origins: &mut extends::Origins,
) -> Option<System> {
    let Value::Map(entries) = &root.value else {
        r.error(
            codes::ROOT_NOT_MAPPING,
            format!(
                "a compose file is a mapping with a `services:` key, but this file is {}",
                root.kind()
            ),
            root,
            "",
        );
        return None;
    };
    let mut system = System::default();
    let mut declarations = files::Declarations::default();
    let mut services_node = None;
    let mut top_not_translated = Vec::new();
    let version_one = version_one_services(entries);
    for (key, value) in entries {
        let name = key.text();
        let path = child("", &name);
        match name.as_str() {
            _ if version_one.contains(&name) => {} // said once below, not as unknown keys
            "version" => {} // obsolete in the compose spec; accepted and ignored, as compose does
            "name" => system.name = r.string(value, &path),
            "services" => services_node = Some((key, value)),
            "volumes" => {
                system.volumes = volume_declarations(value, &path, r, &mut top_not_translated)
            }
            "configs" => {
                declarations.configs =
                    files::declarations(value, &path, Store::ConfigMap, r, &mut top_not_translated)
            }
            "secrets" => {
                declarations.secrets =
                    files::declarations(value, &path, Store::Secret, r, &mut top_not_translated)
            }
            // Other `x-` extensions are ignored (as compose does); Tycho reads its own.
            "x-tycho" => x_tycho(value, &path, r, &mut system),
            _ => r.other_key(key, &path, keys::TOP_LEVEL, &mut top_not_translated),
        }
    }
    r.diagnostics_from_not_translated(&top_not_translated);
    system.not_translated = top_not_translated;
    let Some((services_key, services)) = services_node else {
        if !version_one.is_empty() {
            let names = version_one.join("`, `");
            r.error(
                codes::MISSING_KEY,
                format!("this is a version-1 compose file: its services (`{names}`) sit at the top level; nest them under `services:`"),
                root,
                "",
            );
            return None;
        }
        r.error(
            codes::MISSING_KEY,
            "the file has no `services:`; it must define at least one service",
            root,
            "",
        );
        return None;
    };
    let written_services = r.map(services, "/services").unwrap_or(&[]);
    if written_services.is_empty() {
        r.error(
            codes::NO_SERVICES,
            "`services:` is empty; define at least one service",
            services_key,
            "/services",
        );
    }
    let (service_entries, merged_from) = extends::apply(written_services, context.env, r);
    *origins = merged_from;
    let service_entries = &*service_entries;
    // Each Kubernetes name with the name the file wrote, to name both sides of a collision.
    let mut written: Vec<(String, String)> = Vec::new();
    let mut disabled: Vec<profiles::Disabled> = Vec::new();
    for (key, value) in service_entries {
        let path = child("/services", &key.text());
        if let Err(off) = profiles::enabled(key, value, &path, &context.profiles, r) {
            disabled.push(off);
            continue;
        }
        if let Some(service) = service::load_service(
            key,
            value,
            &path,
            context,
            &declarations,
            r,
            &mut system.not_translated,
        ) {
            if let Some((_, first)) = written.iter().find(|(name, _)| *name == service.name) {
                let message = format!(
                    "services `{first}` and `{}` are both `{}` in Kubernetes; rename one",
                    key.text(),
                    service.name
                );
                r.error(codes::INVALID_NAME, message, key, &path);
                continue;
            }
            written.push((service.name.clone(), key.text()));
            system.services.push(service);
        }
    }
    if system.services.is_empty() && !disabled.is_empty() {
        r.error(
            codes::NO_SERVICES,
            profiles::none_enabled(&disabled, &context.profiles),
            services_key,
            "/services",
        );
    }
    system.volumes.append(&mut r.folder_volumes);
    system.stored = std::mem::take(&mut r.stored);
    check_references(&system, &disabled, r);
    // What was refused above, or is `required: false` and not there, does not start anything.
    let names: Vec<String> = system.services.iter().map(|s| s.name.clone()).collect();
    for service in &mut system.services {
        service.depends_on.retain(|d| names.contains(&d.service));
    }
    consistency::check(entries, service_entries, &system, r);
    Some(system)
}

/// In a file without `services:`, the top-level keys that look like services (a mapping with
/// `image` or `build`): how version-1 files were written.
fn version_one_services(entries: &[(Node, Node)]) -> Vec<String> {
    if entries.iter().any(|(k, _)| k.text() == "services") {
        return Vec::new();
    }
    entries
        .iter()
        .filter(|(_, v)| match &v.value {
            Value::Map(fields) => fields
                .iter()
                .any(|(f, _)| matches!(f.text().as_str(), "image" | "build")),
            _ => false,
        })
        .map(|(k, _)| k.text())
        .collect()
}

/// The top-level `x-tycho:` block: `title` and `description` (for catalogs), `connect:
/// {service, port, rewrite}`, and `profile` (`baseline` when the images start as root; where
/// it is written). Unknown keys are errors, as everywhere else.
/// The top-level `x-tycho:` block into `system`: `connect`, `profile`, `home`.
fn x_tycho(node: &Node, path: &str, r: &mut Reader, system: &mut System) {
    let mut spec = ConnectSpec::default();
    let mut needs_baseline = None;
    for (key, value) in r.map(node, path).unwrap_or(&[]) {
        let name = key.text();
        let kpath = child(path, &name);
        match name.as_str() {
            "title" | "description" => {
                r.string(value, &kpath);
            }
            "connect" => spec = x_tycho_connect(value, &kpath, r),
            "profile" => match r.string(value, &kpath).as_deref() {
                Some("baseline") => needs_baseline = Some(r.pos(value, &kpath)),
                Some("restricted") | None => {}
                Some(other) => r.error(
                    codes::INVALID_VALUE,
                    format!("`profile` is `restricted` or `baseline` (the Pod Security Standard the images need), not `{other}`"),
                    value,
                    &kpath,
                ),
            },
            "home" => system.home = home_request(value, &kpath, r),
            "lifetime" => system.lifetime = x_tycho_lifetime(value, &kpath, r),
            _ => r.unknown_key(key, &kpath, &known(keys::X_TYCHO)),
        }
    }
    system.connect = spec;
    system.needs_baseline = needs_baseline;
}

/// `home: /absolute/path` or `home: true` (the policy's path); `false` asks for none.
fn home_request(node: &Node, path: &str, r: &mut Reader) -> Option<crate::model::HomeRequest> {
    let pos = r.pos(node, path);
    let asked = match &node.value {
        Value::Bool(b) => Some(*b),
        // What interpolation gives for `home: ${HOME_ON}`.
        Value::Str(s) if s == "true" || s == "false" => Some(s == "true"),
        _ => None,
    };
    if let Some(asked) = asked {
        return asked.then_some(crate::model::HomeRequest { path: None, pos });
    }
    let text = r.string(node, path)?;
    match home_path_problem(&text) {
        None => Some(crate::model::HomeRequest {
            path: Some(text),
            pos,
        }),
        Some(problem) => {
            r.error(
                codes::INVALID_VALUE,
                format!("`home` is an absolute path in the containers (like `/home/jovyan`) or `true`, but `{text}` {problem}"),
                node,
                path,
            );
            None
        }
    }
}

/// What is wrong with `path` as a mount target for the home, if anything.
pub(crate) fn home_path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("is not absolute");
    }
    if path == "/" {
        return Some("is the root of the container's file system");
    }
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Some("has an empty, `.` or `..` segment");
    }
    if path.contains(':') || path.chars().any(char::is_control) {
        return Some("holds `:` or a control character");
    }
    None
}

/// `lifetime: {idle_timeout: 30m, max_lifetime: 8h}`: durations as the policy writes them.
fn x_tycho_lifetime(node: &Node, path: &str, r: &mut Reader) -> crate::lifetime::LifetimeRequest {
    let mut asked = crate::lifetime::LifetimeRequest::default();
    for (key, value) in r.map(node, path).unwrap_or(&[]) {
        let name = key.text();
        let kpath = child(path, &name);
        let slot = match name.as_str() {
            "idle_timeout" => &mut asked.idle_timeout,
            "max_lifetime" => &mut asked.max_lifetime,
            _ => {
                r.unknown_key(key, &kpath, &known(keys::X_TYCHO_LIFETIME));
                continue;
            }
        };
        let Some(text) = r.string(value, &kpath) else {
            continue;
        };
        match crate::lifetime::PolicyDuration::try_from(text.as_str()) {
            Ok(duration) => *slot = Some(duration),
            Err(why) => r.error(codes::INVALID_VALUE, why, value, &kpath),
        }
    }
    asked
}

fn x_tycho_connect(node: &Node, path: &str, r: &mut Reader) -> ConnectSpec {
    let mut spec = ConnectSpec::default();
    for (key, value) in r.map(node, path).unwrap_or(&[]) {
        let name = key.text();
        let kpath = child(path, &name);
        match name.as_str() {
            "service" => {
                spec.service = r
                    .string(value, &kpath)
                    .map(|s| (crate::names::kubernetes_name(&s), r.pos(value, &kpath)));
            }
            "port" => {
                spec.port = r.int(value, &kpath).and_then(|n| match u16::try_from(n) {
                    Ok(port) if port > 0 => Some((port, r.pos(value, &kpath))),
                    _ => {
                        r.error(
                            codes::INVALID_PORT,
                            format!("`port` must be between 1 and 65535, not {n}"),
                            value,
                            &kpath,
                        );
                        None
                    }
                });
            }
            "rewrite" => spec.rewrite = rewrite(value, &kpath, r),
            _ => r.unknown_key(key, &kpath, &known(keys::X_TYCHO_CONNECT)),
        }
    }
    spec
}

/// `keep`, `strip`, or a path that starts and ends with `/`.
fn rewrite(node: &Node, path: &str, r: &mut Reader) -> Option<Rewrite> {
    let text = r.string(node, path)?;
    match text.as_str() {
        "keep" => Some(Rewrite::Keep),
        "strip" => Some(Rewrite::Strip),
        p if p.starts_with('/') && p.ends_with('/') && !p.contains(char::is_whitespace) => {
            Some(Rewrite::Target(p.to_string()))
        }
        _ => {
            r.error(
                codes::INVALID_VALUE,
                format!(
                    "`rewrite` must be `keep`, `strip` or a path that starts and ends with `/`, not `{text}`"
                ),
                node,
                path,
            );
            None
        }
    }
}

fn known(keys: &[(&'static str, &str)]) -> Vec<&'static str> {
    keys.iter().map(|(k, _)| *k).collect()
}

fn volume_declarations(
    node: &Node,
    path: &str,
    r: &mut Reader,
    not_translated: &mut Vec<NotTranslated>,
) -> Vec<VolumeDecl> {
    let mut declarations = Vec::new();
    for (key, value) in r.map(node, path).unwrap_or(&[]) {
        let name = key.text();
        let vpath = child(path, &name);
        let mut decl = VolumeDecl {
            name: name.clone(),
            pos: r.pos(key, &vpath),
            ..Default::default()
        };
        let mut external_name = None;
        let mut external = false;
        for (k, v) in r.map(value, &vpath).unwrap_or(&[]) {
            let kname = k.text();
            let kpath = child(&vpath, &kname);
            match kname.as_str() {
                "external" => match &v.value {
                    Value::Map(_) => {
                        external = true;
                        for (ek, ev) in r.map(v, &kpath).unwrap_or(&[]) {
                            if ek.text() == "name" {
                                external_name = r.string(ev, &child(&kpath, "name"));
                            } else {
                                r.unknown_key(ek, &child(&kpath, &ek.text()), &["name"]);
                            }
                        }
                    }
                    _ => external = r.bool(v, &kpath).unwrap_or(false),
                },
                "name" => external_name = r.string(v, &kpath),
                "labels" => decl.labels = r.annotations(v, &kpath),
                "driver_opts" => {
                    for (ok, ov) in r.map(v, &kpath).unwrap_or(&[]) {
                        if ok.text() == "size" {
                            let spath = child(&kpath, "size");
                            decl.size = r.string(ov, &spath).map(|s| (s, r.pos(ov, &spath)));
                        } else {
                            let opath = child(&kpath, &ok.text());
                            r.not_translated(
                                ok,
                                &opath,
                                "driver options other than `size` do not apply to claims",
                                not_translated,
                            );
                        }
                    }
                }
                "x-tycho-size" => decl.size = r.string(v, &kpath).map(|s| (s, r.pos(v, &kpath))),
                "x-tycho" => decl.reuse = volume_x_tycho(v, &kpath, r),
                _ => r.other_key(k, &kpath, keys::VOLUME, not_translated),
            }
        }
        if external {
            decl.external = Some(external_name.unwrap_or_else(|| name.clone()));
            if let Some(pos) = decl.reuse.take() {
                r.at(
                    Severity::Error,
                    codes::CONFLICTING_KEYS,
                    format!("volume `{name}` is `external:` (an existing claim, which outlives every system anyway), so it cannot also be `reuse: true`"),
                    &pos,
                );
            }
        }
        declarations.push(decl);
    }
    declarations
}

/// A volume's `x-tycho: {reuse: true}`: where it was written, when true.
fn volume_x_tycho(node: &Node, path: &str, r: &mut Reader) -> Option<crate::model::Pos> {
    let mut reuse = None;
    for (key, value) in r.map(node, path).unwrap_or(&[]) {
        let kpath = child(path, &key.text());
        match key.text().as_str() {
            "reuse" => {
                if r.bool(value, &kpath).unwrap_or(false) {
                    reuse = Some(r.pos(key, &kpath));
                }
            }
            _ => r.unknown_key(key, &kpath, &known(keys::X_TYCHO_VOLUME)),
        }
    }
    reuse
}

/// Checks that need the whole file: named volumes declared, depends_on targets defined (and
/// enabled by the active profiles, unless the dependency is `required: false`).
fn check_references(system: &System, disabled: &[profiles::Disabled], r: &mut Reader) {
    for service in &system.services {
        for dependency in &service.depends_on {
            let target = &dependency.service;
            let Some(depended) = system.services.iter().find(|s| &s.name == target) else {
                let off = disabled.iter().find(|d| &d.name == target);
                let message = match off {
                    Some(off) => format!(
                        "`{}` depends on `{target}`, which only runs with profile {} (not active): activate one, or make the dependency `required: false`",
                        service.name,
                        off.profiles_named()
                    ),
                    None => format!(
                        "`{}` depends on `{target}`, which is not a service in this file",
                        service.name
                    ),
                };
                let severity = if dependency.required {
                    Severity::Error
                } else {
                    Severity::Warning
                };
                r.at(
                    severity,
                    codes::UNKNOWN_DEPENDENCY,
                    message,
                    &dependency.pos,
                );
                continue;
            };
            let checked = depended
                .healthcheck
                .as_ref()
                .is_some_and(|h| h.test != HealthTest::Disabled);
            if dependency.condition == StartCondition::Healthy && !checked {
                r.at(
                    Severity::Error,
                    codes::INVALID_VALUE,
                    format!("`{}` waits for `{target}` to be healthy, but `{target}` has no healthcheck: give it one, or wait for service_started", service.name),
                    dependency.condition_pos.as_ref().unwrap_or(&dependency.pos),
                );
            }
        }
        for mount in &service.volumes {
            if let MountSource::Named(volume) = &mount.source
                && !system.volumes.iter().any(|d| &d.name == volume)
            {
                r.at(
                    Severity::Error,
                    codes::UNKNOWN_VOLUME,
                    format!("volume `{volume}` is not declared under the top-level `volumes:`"),
                    &mount.pos,
                );
            }
        }
    }
}
