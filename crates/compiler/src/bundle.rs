//! The files that travel with a compose file: its folder's config files, env files, secrets
//! and small data folders, by path relative to the compose file.
//!
//! The compiler reads no disk. A shell asks [`crate::referenced_files`] what the text names,
//! reads those paths (relative to the compose file's folder; a folder by every file below it),
//! and passes the bytes to [`crate::compile_with_files`]. What is not sent counts as absent:
//! a missing `env_file` is an error, a missing bind-mount folder becomes a volume.

use crate::model::Pos;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// File contents by project path: relative to the compose file's folder, `/`-separated, with
/// no `.` or `..` segments (what [`project_path`] gives).
pub type Files = BTreeMap<String, Vec<u8>>;

/// A path the compose text names, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// The project path ([`project_path`] of what was written).
    pub path: String,
    pub kind: ReferenceKind,
    /// JSON Pointer of the value that names it.
    #[serde(rename = "pointer")]
    pub json_path: String,
    pub line: usize,
    pub column: usize,
}

/// What a referenced path is for, which says whether it may be a folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReferenceKind {
    /// A relative bind mount: a file, or a folder (every file below it is sent).
    Mount,
    /// `env_file:`.
    EnvFile,
    /// A top-level config's `file:`.
    Config,
    /// A top-level secret's `file:`.
    Secret,
    /// Another compose file: the `file:` of an `extends:`, or a file `include:` names.
    ComposeFile,
}

impl ReferenceKind {
    /// Whether the path may name a folder (only bind mounts may).
    pub fn may_be_folder(self) -> bool {
        self == ReferenceKind::Mount
    }
}

/// What the bundle holds at a project path.
pub(crate) enum Found<'f> {
    File(&'f [u8]),
    /// The files below the path, each with its path inside the folder, in path order.
    Folder(Vec<(String, &'f [u8])>),
    Missing,
}

/// Looks up `path` (a project path) in `files`: the file itself, else the files below it.
pub(crate) fn find<'f>(files: &'f Files, path: &str) -> Found<'f> {
    if let Some(bytes) = files.get(path) {
        return Found::File(bytes);
    }
    let prefix = if path.is_empty() {
        String::new()
    } else {
        format!("{path}/")
    };
    let below: Vec<(String, &[u8])> = files
        .range(prefix.clone()..)
        .take_while(|(key, _)| key.starts_with(&prefix))
        .map(|(key, bytes)| (key[prefix.len()..].to_string(), bytes.as_slice()))
        .collect();
    if below.is_empty() {
        Found::Missing
    } else {
        Found::Folder(below)
    }
}

/// A path as written in the compose file (`./conf/nginx.conf`, `conf//a/../b`) → its project
/// path (`conf/nginx.conf`, `conf/b`); `.` alone is the folder itself (`""`). Refused: absolute
/// paths, `~`, backslashes and anything that climbs above the folder.
pub fn project_path(written: &str) -> Result<String, String> {
    if written.starts_with('/') || written.starts_with('~') {
        return Err(format!("`{written}` is not relative to the compose file"));
    }
    if written.contains('\\') {
        return Err(format!(
            "`{written}` uses `\\`; write project paths with `/`"
        ));
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in written.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                if segments.pop().is_none() {
                    return Err(format!(
                        "`{written}` leaves the compose file's folder; only that folder travels with it"
                    ));
                }
            }
            other => segments.push(other),
        }
    }
    Ok(segments.join("/"))
}

/// Every path the loader looked up, for [`crate::referenced_files`].
#[derive(Debug, Default)]
pub(crate) struct Lookups {
    pub references: Vec<Reference>,
}

impl Lookups {
    pub fn record(&mut self, path: &str, kind: ReferenceKind, pos: &Pos) {
        self.references.push(Reference {
            path: path.to_string(),
            kind,
            json_path: pos.path.clone(),
            line: pos.line,
            column: pos.column,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_paths() {
        assert_eq!(project_path("./nginx.conf").unwrap(), "nginx.conf");
        assert_eq!(project_path("conf//a/../b").unwrap(), "conf/b");
        assert_eq!(project_path(".").unwrap(), "");
        assert_eq!(project_path("./").unwrap(), "");
        assert_eq!(project_path("a/..").unwrap(), "");
        for bad in ["../x", "a/../../x", "/etc/passwd", "~/x", "a\\b", ".."] {
            assert!(project_path(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn a_path_is_a_file_or_the_folder_of_the_files_below_it() {
        let files = Files::from([
            ("conf/a.conf".to_string(), b"a".to_vec()),
            ("conf/sub/b.conf".to_string(), b"b".to_vec()),
            ("conf2/c".to_string(), b"c".to_vec()),
            ("top".to_string(), b"t".to_vec()),
        ]);
        assert!(matches!(find(&files, "top"), Found::File(b"t")));
        let Found::Folder(below) = find(&files, "conf") else {
            panic!("conf is a folder")
        };
        let names: Vec<&str> = below.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(names, ["a.conf", "sub/b.conf"]);
        assert!(matches!(find(&files, "con"), Found::Missing));
        assert!(matches!(find(&files, "data"), Found::Missing));
        let Found::Folder(all) = find(&files, "") else {
            panic!("the project folder holds every file")
        };
        assert_eq!(all.len(), 4);
    }
}
