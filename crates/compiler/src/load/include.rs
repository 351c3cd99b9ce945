//! Top-level `include:` (compose-spec `14-include.md`): each entry names compose files that are
//! loaded as a project of their own (relative paths from their own project directory, their
//! own `include:`, their own `env_file` for interpolation) whose services, networks, volumes,
//! configs and secrets are then copied into the including file's model.
//!
//! Compose does not merge what is copied: a resource defined both by the including file and
//! by an included one is refused ("conflicts with imported resource"), and so is it here,
//! unless both definitions are the same (as when two included files include a third).

use super::compose_file::{self, NamedAt};
use super::extends::{Origin, Traced, folder, join, merge_files, rebase_paths, rebased};
use super::reader::{Reader, child};
use crate::bundle::{self, Found, ReferenceKind};
use crate::codes;
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;

/// The top-level sections `include` copies, with what one entry of each is called.
const RESOURCES: &[(&str, &str)] = &[
    ("services", "service"),
    ("networks", "network"),
    ("volumes", "volume"),
    ("configs", "config"),
    ("secrets", "secret"),
];

const ENTRY_KEYS: &[&str] = &["path", "project_directory", "env_file"];

/// Takes `include:` out of `root` (a project whose relative paths start at `project_dir`) and
/// copies in what its entries define. `trail` holds the files being included, outermost
/// first, to find cycles; `env` interpolates the included files (under their `env_file`s).
pub(super) fn apply(
    root: &mut Traced,
    project_dir: &str,
    trail: &mut Vec<String>,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) {
    let Some((_, include)) = root.take("include") else {
        return;
    };
    let entries = match (include.items(), &include.node.value) {
        (Some(items), _) => items.to_vec(),
        (None, Value::Str(_)) => vec![include.clone()],
        (None, Value::Null) => Vec::new(),
        (None, _) => {
            let message =
                "`include` must be a list of compose files (paths, or mappings with `path:`)";
            report(r, codes::WRONG_TYPE, message.into(), &include);
            return;
        }
    };
    for entry in &entries {
        let Some(entry) = read_entry(entry, project_dir, r) else {
            continue;
        };
        if let Some(included) = load_project(&entry, trail, env, r) {
            copy_resources(root, included, r);
        }
    }
}

/// One `include` entry, its paths made project paths.
struct Entry {
    /// The compose files, merged in order, each with the value that names it.
    files: Vec<(String, Traced)>,
    /// Where the included project's relative paths start.
    project_dir: String,
    env_files: Vec<(String, Traced)>,
}

/// Reads an entry: a path, or `{path, project_directory, env_file}` (each path relative to
/// the including project's directory).
fn read_entry(entry: &Traced, project_dir: &str, r: &mut Reader) -> Option<Entry> {
    let mut files = Vec::new();
    let mut directory = None;
    let mut env_files = Vec::new();
    match entry.entries() {
        None => files = paths(entry, project_dir, ReferenceKind::ComposeFile, r),
        Some(fields) => {
            for (key, value) in fields {
                match key.text().as_str() {
                    "path" => files = paths(value, project_dir, ReferenceKind::ComposeFile, r),
                    "env_file" => env_files = paths(value, project_dir, ReferenceKind::EnvFile, r),
                    "project_directory" => {
                        directory = string(value, r).and_then(|written| {
                            let joined = join(project_dir, &written);
                            bundle::project_path(&joined)
                                .map_err(|why| report(r, codes::OUTSIDE_PROJECT, why, value))
                                .ok()
                        })
                    }
                    _ => {
                        let outer = std::mem::replace(&mut r.file, value.origin.file.clone());
                        r.unknown_key(key, &value.origin.pointer, ENTRY_KEYS);
                        r.file = outer;
                    }
                }
            }
            if !fields.iter().any(|(k, _)| k.text() == "path") {
                let message = "an `include` entry needs `path:` (the compose file to include)";
                report(r, codes::MISSING_KEY, message.into(), entry);
            }
        }
    }
    let (first, _) = files.first()?;
    // Compose: "defaults to the directory of the included Compose file".
    let project_dir = directory.unwrap_or_else(|| folder(first).to_string());
    Some(Entry {
        files,
        project_dir,
        env_files,
    })
}

/// A path or a list of paths, each as a project path (recorded, so a shell sends it); what
/// leaves the project folder is said and left out.
fn paths(
    value: &Traced,
    project_dir: &str,
    kind: ReferenceKind,
    r: &mut Reader,
) -> Vec<(String, Traced)> {
    let items = match value.items() {
        Some(items) => items.to_vec(),
        None => vec![value.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        let Some(written) = string(&item, r) else {
            continue;
        };
        match bundle::project_path(&join(project_dir, &written)) {
            Ok(path) => {
                let pos = r.pos(&item.node, &item.origin.pointer);
                r.lookups.record(&path, kind, &pos);
                out.push((path, item));
            }
            Err(why) => report(r, codes::OUTSIDE_PROJECT, why, &item),
        }
    }
    out
}

fn string(value: &Traced, r: &mut Reader) -> Option<String> {
    match &value.node.value {
        Value::Str(text) => Some(text.clone()),
        _ => {
            let message = "`include` takes paths here: write a string".to_string();
            report(r, codes::WRONG_TYPE, message, value);
            None
        }
    }
}

/// The included project: its files read and merged, its paths rebased onto the project
/// folder, its own `include:` applied.
fn load_project(
    entry: &Entry,
    trail: &mut Vec<String>,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> Option<Traced> {
    for (path, naming) in &entry.files {
        if let Some(start) = trail.iter().position(|p| p == path) {
            let mut names: Vec<&str> = trail[start..].iter().map(String::as_str).collect();
            names.push(path);
            let message = format!(
                "`include` makes a cycle: {}; a file cannot include itself",
                names.join(" → ")
            );
            report(r, codes::DEPENDENCY_CYCLE, message, naming);
            return None;
        }
    }
    let env = project_env(entry, env, r);
    let mut merged: Option<Traced> = None;
    for (path, naming) in &entry.files {
        let outer = std::mem::replace(&mut r.file, naming.origin.file.clone());
        let named_at = NamedAt::Node(&naming.node, &naming.origin.pointer);
        let root = compose_file::read(path, "`include`", named_at, &env, r);
        r.file = outer;
        let mut root = root?;
        if !matches!(root.value, Value::Map(_)) {
            let message = format!(
                "`{path}` is {}; a compose file is a mapping with a `services:` key",
                root.kind()
            );
            report(r, codes::ROOT_NOT_MAPPING, message, naming);
            return None;
        }
        check_sections(&root, path, r);
        rebase(&mut root, &entry.project_dir);
        let traced = Traced::new(&root, Origin::new(path, ""));
        merged = Some(match merged {
            Some(earlier) => merge_files(earlier, traced),
            None => traced,
        });
    }
    let mut merged = merged?;
    let depth = trail.len();
    trail.extend(entry.files.iter().map(|(path, _)| path.clone()));
    apply(&mut merged, &entry.project_dir, trail, &env, r);
    trail.truncate(depth);
    Some(merged)
}

/// Refuses a top-level key of an included file that no compose file has: a typo there would
/// drop a whole section without a word.
fn check_sections(root: &Node, path: &str, r: &mut Reader) {
    let Value::Map(entries) = &root.value else {
        return;
    };
    let known = super::known(super::keys::TOP_LEVEL);
    let outer = std::mem::replace(&mut r.file, path.to_string());
    for (key, _) in entries {
        let name = key.text();
        if !name.starts_with("x-") && !known.contains(&name.as_str()) {
            r.unknown_key(key, &child("", &name), &known);
        }
    }
    r.file = outer;
}

/// The env the included files are interpolated with: their `env_file`s, under the request's
/// env (which wins, as the shell's environment does in Compose).
fn project_env(
    entry: &Entry,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> BTreeMap<String, String> {
    let mut project_env = BTreeMap::new();
    for (path, naming) in &entry.env_files {
        let text = match bundle::find(r.files, path) {
            Found::File(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        };
        let Some(text) = text else {
            let message = format!(
                "`{path}` was not sent with the compose file (or is not a text file); send it beside the compose file"
            );
            report(r, codes::MISSING_FILE, message, naming);
            continue;
        };
        match crate::dotenv::parse_env_file(text, env) {
            Ok(pairs) => project_env.extend(pairs),
            Err(e) => report(
                r,
                codes::INVALID_VALUE,
                format!("env_file `{path}`, {e}"),
                naming,
            ),
        }
    }
    project_env.extend(env.iter().map(|(k, v)| (k.clone(), v.clone())));
    project_env
}

/// The relative paths of an included file, rewritten from its project directory to the
/// project folder: each service's mounts, `env_file`s and `extends: {file}`, and the `file:`
/// of top-level configs and secrets.
fn rebase(root: &mut Node, project_dir: &str) {
    if project_dir.is_empty() {
        return;
    }
    let Value::Map(sections) = &mut root.value else {
        return;
    };
    for (key, section) in sections.iter_mut() {
        let Value::Map(entries) = &mut section.value else {
            continue;
        };
        let section = key.text();
        for (_, value) in entries.iter_mut() {
            match section.as_str() {
                "services" => {
                    rebase_paths(value, project_dir);
                    if let Some(extends) = field_mut(value, "extends") {
                        rebase_field(extends, "file", project_dir);
                    }
                }
                "configs" | "secrets" => rebase_field(value, "file", project_dir),
                _ => {}
            }
        }
    }
}

fn field_mut<'n>(node: &'n mut Node, name: &str) -> Option<&'n mut Node> {
    let Value::Map(fields) = &mut node.value else {
        return None;
    };
    fields
        .iter_mut()
        .find(|(k, _)| k.text() == name)
        .map(|(_, v)| v)
}

fn rebase_field(node: &mut Node, name: &str, project_dir: &str) {
    if let Some(Node {
        value: Value::Str(path),
        ..
    }) = field_mut(node, name)
        && !path.starts_with('/')
        && !path.starts_with('~')
    {
        *path = rebased(project_dir, path);
    }
}

/// Copies the included project's resources into `root`; one `root` defines already is
/// refused, naming both definitions.
fn copy_resources(root: &mut Traced, mut included: Traced, r: &mut Reader) {
    for (section, noun) in RESOURCES {
        let Some((section_key, definitions)) = included.take(section) else {
            continue;
        };
        let Some(entries) = root.entries_mut() else {
            return;
        };
        let Some((_, target)) = entries.iter_mut().find(|(k, _)| k.text() == *section) else {
            entries.push((section_key, definitions));
            continue;
        };
        if matches!(target.node.value, Value::Null) && target.entries().is_none() {
            *target = definitions;
            continue;
        }
        let (Some(added), Some(existing)) = (definitions.entries(), target.entries_mut()) else {
            continue;
        };
        let mut conflicts = Vec::new();
        for (key, value) in added {
            match existing.iter().find(|(k, _)| k.text() == key.text()) {
                Some((_, here)) if same(here, value) => {}
                Some((here_key, here)) => {
                    conflicts.push((here_key.clone(), here.origin.clone(), key, value))
                }
                None => existing.push((key.clone(), value.clone())),
            }
        }
        for (here_key, here, key, value) in conflicts {
            let message = format!(
                "{noun} `{}` is defined here and in `{}` (line {}), which `include` brings in; Compose refuses a resource defined twice: rename one, or remove one definition",
                key.text(),
                value.origin.file,
                key.line,
            );
            let outer = std::mem::replace(&mut r.file, here.file.clone());
            r.error(codes::CONFLICTING_KEYS, message, &here_key, &here.pointer);
            r.file = outer;
        }
    }
}

/// Whether two definitions say the same (paths already rebased, variables interpolated), as
/// Compose compares them; where each was written does not count.
fn same(a: &Traced, b: &Traced) -> bool {
    let plain = |t: &Traced| {
        let origin = t.origin.clone();
        t.clone()
            .into_node("", &origin, &mut Default::default())
            .to_json()
    };
    plain(a) == plain(b)
}

/// An error at `at`, in the file it was written in.
fn report(r: &mut Reader, code: &str, message: String, at: &Traced) {
    let outer = std::mem::replace(&mut r.file, at.origin.file.clone());
    r.error(code, message, &at.node, &at.origin.pointer);
    r.file = outer;
}
