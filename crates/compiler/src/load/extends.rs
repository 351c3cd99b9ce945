//! `extends:`: a service starts from another service's definition (in this file, or in another
//! file sent with it) and its own keys are merged on top, by Compose's merge rules
//! (compose-spec `13-merge.md`, and the keys Compose's loader treats specially).
//!
//! Works on the YAML tree, before the service is read, so the rest of the loader sees one
//! service as if it were written whole. Every node keeps where it was written ([`Origin`]):
//! after the merge, [`Origins`] maps the merged service's JSON Pointers back to the file and
//! pointer each part came from, so a finding in a base service points at that service, in its
//! own file.

use super::compose_file::{self, NamedAt};
use super::reader::{Reader, child};
use crate::bundle::{self, ReferenceKind};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;

/// What a base service does not pass on: the keys that tie a service to other services
/// (compose-spec, services `extends`, "Restrictions").
const NOT_INHERITED: &[&str] = &["depends_on", "links", "volumes_from"];

/// Where a node was written: a file (project path, `""` for the compose file) and a JSON
/// Pointer in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Origin {
    pub(super) file: String,
    pub(super) pointer: String,
}

impl Origin {
    pub(super) fn new(file: &str, pointer: &str) -> Origin {
        Origin {
            file: file.to_string(),
            pointer: pointer.to_string(),
        }
    }

    fn child(&self, segment: &str) -> Origin {
        Origin {
            file: self.file.clone(),
            pointer: child(&self.pointer, segment),
        }
    }
}

/// A YAML node with the origin of every node in it.
#[derive(Debug, Clone)]
pub(super) struct Traced {
    /// The node itself; for a list or mapping its items are in `shape`, not here.
    pub(super) node: Node,
    shape: Shape,
    pub(super) origin: Origin,
}

#[derive(Debug, Clone)]
enum Shape {
    Scalar,
    Seq(Vec<Traced>),
    Map(Vec<(Node, Traced)>),
}

impl Traced {
    pub(super) fn new(node: &Node, origin: Origin) -> Traced {
        let shape = match &node.value {
            Value::Seq(items) => Shape::Seq(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| Traced::new(item, origin.child(&i.to_string())))
                    .collect(),
            ),
            Value::Map(entries) => Shape::Map(
                entries
                    .iter()
                    .map(|(k, v)| (k.clone(), Traced::new(v, origin.child(&k.text()))))
                    .collect(),
            ),
            _ => Shape::Scalar,
        };
        let mut shell = node.clone();
        if !matches!(shape, Shape::Scalar) {
            shell.value = Value::Null;
        }
        Traced {
            node: shell,
            shape,
            origin,
        }
    }

    /// Back to a plain node at `pointer`, noting in `origins` each part written elsewhere than
    /// its place in the merged tree says (`expected`).
    pub(super) fn into_node(self, pointer: &str, expected: &Origin, origins: &mut Origins) -> Node {
        if self.origin != *expected {
            origins
                .entries
                .push((pointer.to_string(), self.origin.clone()));
        }
        let mut node = self.node;
        match self.shape {
            Shape::Scalar => {}
            Shape::Seq(items) => {
                node.value = Value::Seq(
                    items
                        .into_iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let segment = i.to_string();
                            let expected = self.origin.child(&segment);
                            item.into_node(&child(pointer, &segment), &expected, origins)
                        })
                        .collect(),
                )
            }
            Shape::Map(entries) => {
                node.value = Value::Map(
                    entries
                        .into_iter()
                        .map(|(k, v)| {
                            let segment = k.text();
                            let expected = self.origin.child(&segment);
                            let v = v.into_node(&child(pointer, &segment), &expected, origins);
                            (k, v)
                        })
                        .collect(),
                )
            }
        }
        node
    }

    pub(super) fn entries(&self) -> Option<&[(Node, Traced)]> {
        match &self.shape {
            Shape::Map(entries) => Some(entries),
            _ => None,
        }
    }

    fn text(&self) -> String {
        self.node.text()
    }

    /// The items of a list, or `None` for anything else.
    pub(super) fn items(&self) -> Option<&[Traced]> {
        match &self.shape {
            Shape::Seq(items) => Some(items),
            _ => None,
        }
    }

    pub(super) fn entries_mut(&mut self) -> Option<&mut Vec<(Node, Traced)>> {
        match &mut self.shape {
            Shape::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// Takes the entry `key` out of a mapping.
    pub(super) fn take(&mut self, key: &str) -> Option<(Node, Traced)> {
        let entries = self.entries_mut()?;
        let at = entries.iter().position(|(k, _)| k.text() == key)?;
        Some(entries.remove(at))
    }
}

/// Where the parts of merged services were written, by JSON Pointer in the merged file.
#[derive(Debug, Default, Clone)]
pub struct Origins {
    /// (pointer in the merged tree, where the node there was written); the longest pointer
    /// that is a prefix of a diagnostic's path says where it is.
    entries: Vec<(String, Origin)>,
}

impl Origins {
    /// Points a diagnostic about the merged tree at the file and pointer its node was written
    /// in (its line and column are already that node's).
    pub fn attribute(&self, d: &mut Diagnostic) {
        if !d.file.is_empty() || d.path.is_empty() {
            return;
        }
        let best = self
            .entries
            .iter()
            .filter(|(at, _)| {
                d.path == *at
                    || (d.path.starts_with(at.as_str()) && d.path[at.len()..].starts_with('/'))
            })
            .max_by_key(|(at, _)| at.len());
        if let Some((at, origin)) = best {
            d.path = format!("{}{}", origin.pointer, &d.path[at.len()..]);
            d.file = origin.file.clone();
        }
    }
}

/// The services with every `extends` applied, in file order, and where their parts came from.
pub(super) fn apply<'s>(
    services: &'s [(Node, Node)],
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> (std::borrow::Cow<'s, [(Node, Node)]>, Origins) {
    let extends = |value: &Node| matches!(&value.value, Value::Map(fields) if fields.iter().any(|(k, _)| k.text() == "extends"));
    // Most files extend nothing: their services are read as written, without a copy.
    if !services.iter().any(|(_, value)| extends(value)) {
        return (std::borrow::Cow::Borrowed(services), Origins::default());
    }
    let mut resolver = Resolver {
        main: services,
        env,
        other_files: BTreeMap::new(),
        resolved: BTreeMap::new(),
        trail: Vec::new(),
    };
    let mut origins = Origins::default();
    let mut out = Vec::with_capacity(services.len());
    for (key, value) in services {
        if !extends(value) {
            out.push((key.clone(), value.clone()));
            continue;
        }
        let pointer = child("/services", &key.text());
        let merged = resolver
            .resolve("", &key.text(), r)
            .map(|traced| {
                let expected = Origin {
                    file: String::new(),
                    pointer: pointer.clone(),
                };
                traced.into_node(&pointer, &expected, &mut origins)
            })
            .unwrap_or_else(|| value.clone());
        out.push((key.clone(), merged));
    }
    (std::borrow::Cow::Owned(out), origins)
}

struct Resolver<'a> {
    main: &'a [(Node, Node)],
    env: &'a BTreeMap<String, String>,
    /// Each other file read, by project path: its (interpolated) tree, or `None` when it
    /// could not be read (said once).
    other_files: BTreeMap<String, Option<Node>>,
    /// Each service resolved, by (file, name).
    resolved: BTreeMap<(String, String), Option<Traced>>,
    /// The services being resolved, outermost first, to find cycles.
    trail: Vec<(String, String)>,
}

/// What an `extends:` names.
struct Target {
    service: String,
    /// The node naming the service (where a cycle or an unknown service is reported).
    service_node: Node,
    service_pointer: String,
    /// The `file:` as a project path, with its node and pointer.
    file: Option<(String, Node, String)>,
}

impl Resolver<'_> {
    /// `name` of `file` with its own `extends` applied; `None` when there is no such service.
    fn resolve(&mut self, file: &str, name: &str, r: &mut Reader) -> Option<Traced> {
        let id = (file.to_string(), name.to_string());
        if let Some(done) = self.resolved.get(&id) {
            return done.clone();
        }
        let node = self.service(file, name)?;
        let pointer = child("/services", name);
        let mut node = node;
        if !file.is_empty() {
            rebase_paths(&mut node, folder(file));
        }
        let mut own = Traced::new(
            &node,
            Origin {
                file: file.to_string(),
                pointer: pointer.clone(),
            },
        );
        let Shape::Map(entries) = &mut own.shape else {
            return Some(own);
        };
        let Some(at) = entries.iter().position(|(k, _)| k.text() == "extends") else {
            return Some(own);
        };
        let (_, extends) = entries.remove(at);
        let outer_file = std::mem::replace(&mut r.file, file.to_string());
        let target = self.target(name, &extends, file, &child(&pointer, "extends"), r);
        r.file = outer_file;
        self.trail.push(id.clone());
        let base = target.and_then(|target| self.base(file, name, &target, r));
        self.trail.pop();
        let merged = match base {
            Some(mut base) => {
                if let Shape::Map(entries) = &mut base.shape {
                    entries.retain(|(k, _)| !NOT_INHERITED.contains(&k.text().as_str()));
                }
                merge(base, own, "")
            }
            None => own,
        };
        self.resolved.insert(id, Some(merged.clone()));
        Some(merged)
    }

    /// The base an `extends` names, resolved, or `None` (said) when it cannot be had.
    fn base(&mut self, file: &str, name: &str, target: &Target, r: &mut Reader) -> Option<Traced> {
        let base_file = match &target.file {
            Some((path, node, pointer)) => {
                if !self.read_file(path, node, pointer, file, r) {
                    return None;
                }
                path.clone()
            }
            None => file.to_string(),
        };
        let outer_file = std::mem::replace(&mut r.file, file.to_string());
        let id = (base_file.clone(), target.service.clone());
        let found = self.service(&base_file, &target.service).is_some();
        let closing = self.trail.iter().position(|t| *t == id);
        if !found {
            let place = if base_file == file {
                "this file".to_string()
            } else {
                format!("`{base_file}`")
            };
            r.error(
                codes::UNKNOWN_DEPENDENCY,
                format!(
                    "`extends` of `{name}` names `{}`, which is not a service in {place}",
                    target.service
                ),
                &target.service_node,
                &target.service_pointer,
            );
        } else if let Some(start) = closing {
            let names: Vec<&str> = self.trail[start..]
                .iter()
                .map(|(_, n)| n.as_str())
                .chain([target.service.as_str()])
                .collect();
            r.error(
                codes::DEPENDENCY_CYCLE,
                format!(
                    "`extends` makes a cycle: {}; a service cannot extend itself",
                    names.join(" → ")
                ),
                &target.service_node,
                &target.service_pointer,
            );
        }
        r.file = outer_file;
        if !found || closing.is_some() {
            return None;
        }
        self.resolve(&base_file, &target.service, r)
    }

    /// Reads `extends:` (a service name, or `{service, file}`), reporting what is wrong in it.
    fn target(
        &mut self,
        name: &str,
        extends: &Traced,
        file: &str,
        pointer: &str,
        r: &mut Reader,
    ) -> Option<Target> {
        let Some(fields) = extends.entries() else {
            return match &extends.node.value {
                Value::Str(service) => Some(Target {
                    service: service.clone(),
                    service_node: extends.node.clone(),
                    service_pointer: pointer.to_string(),
                    file: None,
                }),
                _ => {
                    r.error(
                        codes::WRONG_TYPE,
                        format!("`extends` of `{name}` must be a service name or a mapping with `service:` (and `file:`)"),
                        &extends.node,
                        pointer,
                    );
                    None
                }
            };
        };
        let mut service = None;
        let mut written_file = None;
        for (k, v) in fields {
            let kpath = child(pointer, &k.text());
            match k.text().as_str() {
                "service" => {
                    service = r
                        .string(&v.node, &kpath)
                        .map(|s| (s, v.node.clone(), kpath))
                }
                "file" => {
                    written_file = r
                        .string(&v.node, &kpath)
                        .map(|s| (s, v.node.clone(), kpath))
                }
                _ => r.unknown_key(k, &kpath, &["service", "file"]),
            }
        }
        let Some((service, service_node, service_pointer)) = service else {
            r.error(
                codes::MISSING_KEY,
                format!("`extends` of `{name}` needs `service:`"),
                &extends.node,
                pointer,
            );
            return None;
        };
        let file = match written_file {
            None => None,
            Some((written, node, fpointer)) => {
                // Relative to the folder of the file that names it, as Compose reads it.
                let joined = join(folder(file), &written);
                match bundle::project_path(&joined) {
                    Ok(path) => {
                        let pos = r.pos(&node, &fpointer);
                        r.lookups.record(&path, ReferenceKind::ComposeFile, &pos);
                        Some((path, node, fpointer))
                    }
                    Err(why) => {
                        r.error(codes::OUTSIDE_PROJECT, why, &node, &fpointer);
                        return None;
                    }
                }
            }
        };
        Some(Target {
            service,
            service_node,
            service_pointer,
            file,
        })
    }

    /// Reads (once) the compose file at project path `path`, which `file` names at `node`;
    /// whether it could be read.
    fn read_file(
        &mut self,
        path: &str,
        node: &Node,
        pointer: &str,
        file: &str,
        r: &mut Reader,
    ) -> bool {
        if let Some(read) = self.other_files.get(path) {
            return read.is_some();
        }
        let outer_file = std::mem::replace(&mut r.file, file.to_string());
        // Unset variables are matched to findings by pointer, and this file's pointers are
        // not the compose file's.
        let unset = r.unset_variables.len();
        let root = compose_file::read(path, "`extends`", NamedAt::Node(node, pointer), self.env, r);
        r.unset_variables.truncate(unset);
        r.file = outer_file;
        let readable = root.is_some();
        self.other_files.insert(path.to_string(), root);
        readable
    }

    /// The definition of service `name` in `file` (read already), as written.
    fn service(&self, file: &str, name: &str) -> Option<Node> {
        let services: &[(Node, Node)] = if file.is_empty() {
            self.main
        } else {
            let root = self.other_files.get(file)?.as_ref()?;
            let Value::Map(top) = &root.value else {
                return None;
            };
            match top.iter().find(|(k, _)| k.text() == "services") {
                Some((
                    _,
                    Node {
                        value: Value::Map(services),
                        ..
                    },
                )) => services,
                _ => return None,
            }
        };
        services
            .iter()
            .find(|(k, _)| k.text() == name)
            .map(|(_, v)| v.clone())
    }
}

/// The folder of a project path (`""` for the project folder itself).
pub(super) fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(folder, _)| folder)
}

pub(super) fn join(folder: &str, path: &str) -> String {
    if folder.is_empty() || path.starts_with('/') || path.starts_with('~') {
        path.to_string()
    } else {
        format!("{folder}/{path}")
    }
}

/// A path relative to another file's folder, rewritten relative to the compose file's
/// (`./conf` in `other/base.yaml` is `./other/conf`); a path that leaves the project folder is
/// left for the loader to refuse.
pub(super) fn rebased(folder: &str, written: &str) -> String {
    let joined = join(folder, written);
    match bundle::project_path(&joined) {
        Ok(path) if path.is_empty() => ".".into(),
        Ok(path) => format!("./{path}"),
        Err(_) => format!("./{joined}"),
    }
}

/// Rewrites the relative paths of a service from a file in `folder` (bind-mount sources and
/// `env_file`s) so they name the same files from the compose file's folder, as Compose does.
pub(super) fn rebase_paths(service: &mut Node, folder: &str) {
    if folder.is_empty() {
        return;
    }
    let Value::Map(fields) = &mut service.value else {
        return;
    };
    for (key, value) in fields.iter_mut() {
        match key.text().as_str() {
            "volumes" => {
                let Value::Seq(items) = &mut value.value else {
                    continue;
                };
                for item in items {
                    rebase_mount(item, folder);
                }
            }
            "env_file" => match &mut value.value {
                Value::Seq(items) => items
                    .iter_mut()
                    .for_each(|item| rebase_env_file(item, folder)),
                _ => rebase_env_file(value, folder),
            },
            _ => {}
        }
    }
}

fn rebase_mount(item: &mut Node, folder: &str) {
    match &mut item.value {
        Value::Str(text) => {
            if let Some((source, rest)) = text.split_once(':')
                && source.starts_with('.')
            {
                *text = format!("{}:{rest}", rebased(folder, source));
            }
        }
        Value::Map(fields) => {
            let bind = fields
                .iter()
                .any(|(k, v)| k.text() == "type" && v.text() == "bind");
            for (_, v) in fields.iter_mut().filter(|(k, _)| k.text() == "source") {
                if let Value::Str(source) = &mut v.value {
                    let relative = source.starts_with('.')
                        || (bind && !source.starts_with('/') && !source.starts_with('~'));
                    if relative {
                        *source = rebased(folder, source);
                    }
                }
            }
        }
        _ => {}
    }
}

fn rebase_env_file(item: &mut Node, folder: &str) {
    let relative = |p: &str| !p.starts_with('/') && !p.starts_with('~');
    match &mut item.value {
        Value::Str(path) if relative(path) => *path = rebased(folder, path),
        Value::Map(fields) => {
            for (_, v) in fields.iter_mut().filter(|(k, _)| k.text() == "path") {
                if let Value::Str(path) = &mut v.value
                    && relative(path)
                {
                    *path = rebased(folder, path);
                }
            }
        }
        _ => {}
    }
}

// ---- Merge rules ----

/// A later compose file (`local`) over an earlier one (`base`), as `docker compose -f base -f
/// local` merges them: each service by the same rules as `extends`, every other top-level
/// section by the generic rules (mappings by key, lists appended, scalars replaced). The
/// result keeps `base`'s place: the first file is the document.
pub(super) fn merge_files(base: Traced, local: Traced) -> Traced {
    let Traced {
        node,
        shape,
        origin,
    } = base;
    let (mut merged, sections) = match (shape, local.shape) {
        (Shape::Map(merged), Shape::Map(sections)) => (merged, sections),
        // A later file that is not a mapping is refused by the caller.
        (Shape::Map(merged), _) => (merged, Vec::new()),
        (_, shape) => {
            return Traced {
                node: local.node,
                shape,
                origin: local.origin,
            };
        }
    };
    for (key, value) in sections {
        let name = key.text();
        match merged.iter().position(|(k, _)| k.text() == name) {
            Some(i) if name == "services" => {
                let (k, earlier) = merged.remove(i);
                merged.insert(i, (k, merge_entries(earlier, value, |_| "")));
            }
            // Extension keys are taken whole, as Compose does.
            Some(i) if !name.starts_with("x-") => {
                let (k, earlier) = merged.remove(i);
                merged.insert(i, (k, merge(earlier, value, TOP_LEVEL)));
            }
            Some(i) => merged[i] = (key, value),
            None => merged.push((key, value)),
        }
    }
    Traced {
        node,
        shape: Shape::Map(merged),
        origin,
    }
}

/// The key path given to [`merge`] for a top-level section other than `services`: no
/// service key starts with `/`, so none of a service's special rules applies.
const TOP_LEVEL: &str = "/";

/// Two mappings merged entry by entry (`at` gives the key path each pair merges at); the
/// result keeps `base`'s place.
fn merge_entries(base: Traced, local: Traced, at: impl Fn(&str) -> &str) -> Traced {
    let Shape::Map(mut merged) = base.shape else {
        return local;
    };
    let Shape::Map(overrides) = local.shape else {
        return Traced {
            shape: Shape::Map(merged),
            ..base
        };
    };
    for (key, value) in overrides {
        let name = key.text();
        match merged.iter().position(|(k, _)| k.text() == name) {
            Some(i) => {
                let (k, earlier) = merged.remove(i);
                merged.insert(i, (k, merge(earlier, value, at(&name))));
            }
            None => merged.push((key, value)),
        }
    }
    Traced {
        shape: Shape::Map(merged),
        ..base
    }
}

/// `local` over `base` at `at` (the key path inside the service, `.`-separated; `""` for the
/// service itself), by Compose's rules.
fn merge(base: Traced, local: Traced, at: &str) -> Traced {
    match at {
        // Shell commands are replaced, not appended.
        "command" | "entrypoint" | "healthcheck.test" => local,
        // Mappings or `KEY=value` lists: merged by key, the later value winning in place.
        "environment" | "labels" | "annotations" | "sysctls" | "deploy.labels" | "extra_hosts" => {
            by_key(base, local)
        }
        // A single value or a list: appended, each value once.
        "dns" | "dns_opt" | "dns_search" | "tmpfs" | "expose" | "cap_add" | "cap_drop"
        | "profiles" => unique(base, local, |t| Some(t.text())),
        "env_file" => unique(base, local, env_file_key),
        "ports" => unique(base, local, port_key),
        "volumes" | "devices" => unique(base, local, mount_target),
        "secrets" => unique(base, local, |t| file_target(t, "/run/secrets/")),
        "configs" => unique(base, local, |t| file_target(t, "/")),
        "logging"
            if driver(&base).is_some()
                && driver(&local).is_some()
                && driver(&base) != driver(&local) =>
        {
            local
        }
        "networks" => merge_maps(as_map(base), as_map(local), at),
        _ => match (&base.shape, &local.shape) {
            (Shape::Map(_), Shape::Map(_)) => merge_maps(base, local, at),
            (Shape::Seq(_), Shape::Seq(_)) => unique(base, local, |_| None),
            _ => local,
        },
    }
}

fn merge_maps(base: Traced, local: Traced, at: &str) -> Traced {
    let (Shape::Map(mut merged), Shape::Map(overrides)) = (base.shape, local.shape.clone()) else {
        return local;
    };
    for (key, value) in overrides {
        let name = key.text();
        match merged.iter().position(|(k, _)| k.text() == name) {
            // Extension keys are taken whole, as Compose does.
            Some(i) if !name.starts_with("x-") => {
                let (_, earlier) = merged.remove(i);
                let path = if at.is_empty() {
                    name
                } else {
                    format!("{at}.{name}")
                };
                merged.insert(i, (key, merge(earlier, value, &path)));
            }
            Some(i) => merged[i] = (key, value),
            None => merged.push((key, value)),
        }
    }
    Traced {
        shape: Shape::Map(merged),
        ..local
    }
}

/// Both as lists (a single value is a one-item list), `local`'s items after `base`'s; an item
/// whose key (`key`) an earlier one has replaces it where it stands. Items without a key are
/// all kept.
fn unique(base: Traced, local: Traced, key: impl Fn(&Traced) -> Option<String>) -> Traced {
    let mut merged: Vec<Traced> = Vec::new();
    let mut keys: Vec<Option<String>> = Vec::new();
    for item in as_items(base).into_iter().chain(as_items(local.clone())) {
        let k = key(&item);
        match k
            .as_ref()
            .and_then(|k| keys.iter().position(|seen| seen.as_ref() == Some(k)))
        {
            Some(i) => merged[i] = item,
            None => {
                keys.push(k);
                merged.push(item);
            }
        }
    }
    let mut shell = local.node.clone();
    shell.value = Value::Null;
    Traced {
        node: shell,
        shape: Shape::Seq(merged),
        origin: local.origin,
    }
}

/// `environment`-like keys: two mappings merge key by key; otherwise both become
/// `KEY=value` lists and merge by key.
fn by_key(base: Traced, local: Traced) -> Traced {
    if matches!(base.shape, Shape::Map(_)) && matches!(local.shape, Shape::Map(_)) {
        let (Shape::Map(mut merged), Shape::Map(overrides)) = (base.shape, local.shape.clone())
        else {
            return local;
        };
        for (key, value) in overrides {
            match merged.iter().position(|(k, _)| k.text() == key.text()) {
                Some(i) => merged[i] = (key, value),
                None => merged.push((key, value)),
            }
        }
        return Traced {
            shape: Shape::Map(merged),
            ..local
        };
    }
    unique(as_list(base), as_list(local), |t| {
        let text = t.text();
        let cut = text.find(['=', ':']).unwrap_or(text.len());
        Some(text[..cut].to_string())
    })
}

/// A `KEY: value` mapping as a `KEY=value` list (each item where its key was written).
fn as_list(t: Traced) -> Traced {
    let Shape::Map(entries) = t.shape else {
        return t;
    };
    let items = entries
        .into_iter()
        .map(|(k, v)| {
            let mut node = k.clone();
            node.value = Value::Str(match v.node.value {
                Value::Null if matches!(v.shape, Shape::Scalar) => k.text(),
                _ => format!("{}={}", k.text(), v.text()),
            });
            node.content_offset = None;
            Traced {
                node,
                shape: Shape::Scalar,
                origin: v.origin,
            }
        })
        .collect();
    Traced {
        shape: Shape::Seq(items),
        ..t
    }
}

/// `networks`/`depends_on` written as a list of names, as the equivalent mapping.
fn as_map(t: Traced) -> Traced {
    let Shape::Seq(items) = t.shape else {
        return t;
    };
    let entries = items
        .into_iter()
        .map(|item| {
            let key = item.node.clone();
            let mut value = item.clone();
            value.node.value = Value::Null;
            (key, value)
        })
        .collect();
    Traced {
        shape: Shape::Map(entries),
        ..t
    }
}

fn as_items(t: Traced) -> Vec<Traced> {
    match t.shape {
        Shape::Seq(items) => items,
        Shape::Scalar if matches!(t.node.value, Value::Null) => Vec::new(),
        _ => vec![t],
    }
}

fn field(t: &Traced, name: &str) -> Option<String> {
    t.entries()?
        .iter()
        .find(|(k, _)| k.text() == name)
        .map(|(_, v)| v.text())
}

fn driver(t: &Traced) -> Option<String> {
    field(t, "driver")
}

fn env_file_key(t: &Traced) -> Option<String> {
    match t.shape {
        Shape::Map(_) => field(t, "path"),
        _ => Some(t.text()),
    }
}

/// A port's identity: {ip, target, published, protocol}.
fn port_key(t: &Traced) -> Option<String> {
    match t.shape {
        Shape::Map(_) => Some(
            ["host_ip", "target", "published", "protocol"]
                .map(|f| field(t, f).unwrap_or_default())
                .join("|"),
        ),
        _ => Some(t.text()),
    }
}

/// A mount's target: `target:` in long syntax, the part after the source in short syntax
/// (the whole text for an anonymous volume).
fn mount_target(t: &Traced) -> Option<String> {
    match t.shape {
        Shape::Map(_) => field(t, "target"),
        _ => {
            let text = t.text();
            let mut parts = text.splitn(3, ':');
            let first = parts.next().unwrap_or_default();
            Some(parts.next().unwrap_or(first).to_string())
        }
    }
}

/// A config's or secret's target: as written, else `default` + its source.
fn file_target(t: &Traced, default: &str) -> Option<String> {
    match t.shape {
        Shape::Map(_) => {
            field(t, "target").or_else(|| field(t, "source").map(|s| format!("{default}{s}")))
        }
        _ => Some(format!("{default}{}", t.text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_rebased_onto_the_compose_files_folder() {
        assert_eq!(rebased("other", "./conf"), "./other/conf");
        assert_eq!(rebased("other", "../x"), "./x");
        assert_eq!(rebased("a/b", "."), "./a/b");
        assert_eq!(rebased("other", "../../x"), "./other/../../x");
        assert_eq!(folder("other/x.yaml"), "other");
        assert_eq!(folder("x.yaml"), "");
    }
}
