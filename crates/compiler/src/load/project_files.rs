//! The compose files of one project as one tree: the compose file, the override files merged
//! over it in order (`docker compose -f compose.yaml -f compose.prod.yaml`), then `include:`
//! applied, which Compose evaluates after the merge so conflicts between files are found.
//!
//! Relative paths in override files start at the project folder (the first file's), as
//! Compose reads them; only included files have a folder of their own.

use super::compose_file::{self, NamedAt};
use super::extends::{Origin, Origins, Traced, merge_files};
use super::include;
use super::reader::Reader;
use crate::bundle;
use crate::codes;
use crate::diagnostic::Severity;
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;

/// `root` (the compose file, interpolated) with `overrides` (project paths of files in the
/// bundle) merged over it and its `include:` applied, and where each part of the result was
/// written.
pub(super) fn assemble(
    root: Node,
    overrides: &[String],
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> (Node, Origins) {
    let top_level = Origin::new("", "");
    let Value::Map(entries) = &root.value else {
        // Said by the loader, which reads the root.
        return (root, Origins::default());
    };
    // One file that includes nothing is the project as written: no copy to trace.
    if overrides.is_empty() && !entries.iter().any(|(k, _)| k.text() == "include") {
        return (root, Origins::default());
    }
    let mut merged = Traced::new(&root, top_level.clone());
    for written in overrides {
        let path = match bundle::project_path(written) {
            Ok(path) => path,
            Err(why) => {
                let message = format!("override file: {why}");
                r.push(Severity::Error, codes::OUTSIDE_PROJECT, message, "", 0, 0);
                continue;
            }
        };
        let Some(file) = compose_file::read(&path, "the override list", NamedAt::Request, env, r)
        else {
            continue;
        };
        if !matches!(file.value, Value::Map(_)) {
            let outer = std::mem::replace(&mut r.file, path.clone());
            let message = format!(
                "an override file is a mapping of compose sections, but this file is {}",
                file.kind()
            );
            r.error(codes::ROOT_NOT_MAPPING, message, &file, "");
            r.file = outer;
            continue;
        }
        let mut file = Traced::new(&file, Origin::new(&path, ""));
        // The system's name (and the base path in the env every file was interpolated with)
        // comes from the compose file, read before any override file; a later one cannot
        // change it without making the two disagree.
        if let Some((key, _)) = file.take("name") {
            let outer = std::mem::replace(&mut r.file, path.clone());
            let message = "`name:` in an override file is not read: the system takes its name from the compose file's `name:` (or the name given with the request)";
            r.warn(codes::NOT_TRANSLATED, message, &key, "/name");
            r.file = outer;
        }
        merged = merge_files(merged, file);
    }
    include::apply(&mut merged, "", &mut Vec::new(), env, r);
    let mut origins = Origins::default();
    let root = merged.into_node("", &top_level, &mut origins);
    (root, origins)
}
