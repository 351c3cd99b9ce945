//! Another compose file from the bundle, parsed and interpolated: an `extends:` base, an
//! included file, or an override file (`-f`). Findings inside it carry its project path.

use super::interpolate_tree;
use super::reader::Reader;
use crate::bundle::{self, Found};
use crate::codes;
use crate::diagnostic::Severity;
use crate::yaml::{self, Node};
use std::collections::BTreeMap;

/// Where a file was named: a node (and its JSON Pointer) of the file being read (`r.file`), or
/// the request itself (an override file), which has no place in any file.
#[derive(Clone, Copy)]
pub(super) enum NamedAt<'n> {
    Node(&'n Node, &'n str),
    Request,
}

impl NamedAt<'_> {
    fn error(self, r: &mut Reader, code: &str, message: String) {
        match self {
            NamedAt::Node(node, pointer) => r.error(code, message, node, pointer),
            NamedAt::Request => r.push(Severity::Error, code, message, "", 0, 0),
        }
    }
}

/// The tree of the compose file at project path `path`, interpolated with `env`; `None` (said)
/// when it is not in the bundle, not text, not YAML or empty. `what` names the key that names
/// it, for the messages (`` `extends` ``, `` `include` ``, `the override file`).
pub(super) fn read(
    path: &str,
    what: &str,
    named_at: NamedAt,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> Option<Node> {
    let text = match bundle::find(r.files, path) {
        Found::File(bytes) => match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                named_at.error(
                    r,
                    codes::INVALID_VALUE,
                    format!("`{path}` is not UTF-8 text"),
                );
                return None;
            }
        },
        Found::Folder(_) => {
            let message = format!("{what} names the folder `{path}`; name a compose file");
            named_at.error(r, codes::INVALID_VALUE, message);
            return None;
        }
        Found::Missing => {
            let message = format!(
                "`{path}` was not sent with the compose file; send it beside the compose file"
            );
            named_at.error(r, codes::MISSING_FILE, message);
            return None;
        }
    };
    let outer_file = std::mem::replace(&mut r.file, path.to_string());
    let (parsed, findings) = yaml::parse(text);
    for finding in findings {
        r.push_yaml(&finding, text);
    }
    let root = match parsed {
        Ok(Some(mut root)) => {
            interpolate_tree(&mut root, &String::new, env, r);
            Some(root)
        }
        Ok(None) => {
            let message =
                format!("the file is empty; a file {what} names needs a `services:` mapping");
            match named_at {
                NamedAt::Node(node, _) => r.error(codes::ROOT_NOT_MAPPING, message, node, ""),
                NamedAt::Request => {
                    r.push(Severity::Error, codes::ROOT_NOT_MAPPING, message, "", 1, 1)
                }
            }
            None
        }
        Err(e) => {
            r.push_yaml(&e, text);
            None
        }
    };
    r.file = outer_file;
    root
}
