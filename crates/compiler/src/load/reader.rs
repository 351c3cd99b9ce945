//! Typed access to YAML nodes, each failure reported as a diagnostic at the node.

use crate::bundle::{Files, Lookups};
use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Annotation, Pos, Store, StoredFiles, VolumeDecl};
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;

/// A compose key with no Kubernetes translation, and why.
pub type NotTranslated = (String, Pos, String);

/// Reads the tree and collects what the loader finds beside the model.
pub struct Reader<'f> {
    pub diagnostics: Vec<Diagnostic>,
    /// (JSON Pointer, variable) for each value an unset variable left (partly) empty, so an
    /// error about that value can name the variable.
    pub unset_variables: Vec<(String, String)>,
    /// The files sent with the compose file.
    pub files: &'f Files,
    /// Every project path the file names, looked up or not.
    pub lookups: Lookups,
    /// The files services mount, with the key each got (by store and source, so one file
    /// mounted twice is stored once).
    pub stored: StoredFiles,
    pub stored_keys: BTreeMap<(Store, String), String>,
    /// A claim each for relative bind-mount folders that were not sent (`./data`).
    pub folder_volumes: Vec<VolumeDecl>,
    /// The file being read when it is not the compose file (one an `extends:` names), by
    /// project path: the diagnostics pushed meanwhile are in it.
    pub file: String,
}

/// Appends a JSON Pointer segment (escaping `~` and `/`).
pub fn child(path: &str, key: &str) -> String {
    let mut out = String::with_capacity(path.len() + key.len() + 1);
    out.push_str(path);
    out.push('/');
    for c in key.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            c => out.push(c),
        }
    }
    out
}

impl<'f> Reader<'f> {
    pub fn new(files: &'f Files) -> Self {
        Reader {
            diagnostics: Vec::new(),
            unset_variables: Vec::new(),
            files,
            lookups: Lookups::default(),
            stored: StoredFiles::default(),
            stored_keys: BTreeMap::new(),
            folder_volumes: Vec::new(),
            file: String::new(),
        }
    }

    pub fn pos(&self, node: &Node, path: &str) -> Pos {
        Pos {
            path: path.to_string(),
            line: node.line,
            column: node.column,
        }
    }

    pub fn push(
        &mut self,
        severity: Severity,
        code: &str,
        message: String,
        path: &str,
        line: usize,
        column: usize,
    ) {
        let message = match self.emptied_by(path) {
            Some(names) if severity == Severity::Error => {
                format!("{message} ({names} not set, so empty here)")
            }
            _ => message,
        };
        self.diagnostics.push(Diagnostic {
            severity,
            code: code.into(),
            message,
            path: path.into(),
            line,
            column,
            file: self.file.clone(),
        });
    }

    /// A YAML reader's finding in `text`, the file being read.
    pub fn push_yaml(&mut self, e: &crate::yaml::YamlError, text: &str) {
        self.diagnostics.push(Diagnostic {
            file: self.file.clone(),
            ..super::yaml_diagnostic(e, text)
        });
    }

    /// The unset variables that emptied the value at `path`, as `` `A` `` or `` `A`, `B` ``.
    fn emptied_by(&self, path: &str) -> Option<String> {
        let names: Vec<String> = self
            .unset_variables
            .iter()
            .filter(|(at, _)| at == path)
            .map(|(_, name)| format!("`{name}`"))
            .collect();
        (!names.is_empty()).then(|| names.join(", "))
    }

    pub fn at(&mut self, severity: Severity, code: &str, message: String, pos: &Pos) {
        self.push(severity, code, message, &pos.path, pos.line, pos.column);
    }

    pub fn error(&mut self, code: &str, message: impl Into<String>, node: &Node, path: &str) {
        self.push(
            Severity::Error,
            code,
            message.into(),
            path,
            node.line,
            node.column,
        );
    }

    pub fn warn(&mut self, code: &str, message: impl Into<String>, node: &Node, path: &str) {
        self.push(
            Severity::Warning,
            code,
            message.into(),
            path,
            node.line,
            node.column,
        );
    }

    fn wrong_type(&mut self, node: &Node, path: &str, expected: &str) {
        let message = format!(
            "`{}` must be {expected}, but it is {}",
            last_segment(path),
            node.kind()
        );
        self.error(codes::WRONG_TYPE, message, node, path);
    }

    /// A mapping's entries; `null` reads as an empty mapping.
    pub fn map<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [(Node, Node)]> {
        match &node.value {
            Value::Map(entries) => Some(entries),
            Value::Null => Some(&[]),
            _ => {
                self.wrong_type(node, path, "a mapping");
                None
            }
        }
    }

    /// A list's items; `null` reads as an empty list.
    pub fn list<'n>(&mut self, node: &'n Node, path: &str) -> Option<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Some(items),
            Value::Null => Some(&[]),
            _ => {
                self.wrong_type(node, path, "a list");
                None
            }
        }
    }

    /// A string; numbers and booleans are taken as their text, as compose does.
    pub fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match &node.value {
            Value::Str(_) | Value::Int(_) | Value::Float(_) | Value::Bool(_) => Some(node.text()),
            _ => {
                self.wrong_type(node, path, "a string");
                None
            }
        }
    }

    pub fn bool(&mut self, node: &Node, path: &str) -> Option<bool> {
        match &node.value {
            Value::Bool(b) => Some(*b),
            Value::Str(s) if s == "true" || s == "false" => Some(s == "true"),
            _ => {
                self.wrong_type(node, path, "true or false");
                None
            }
        }
    }

    /// An integer, also from a string holding one (the result of interpolation).
    pub fn int(&mut self, node: &Node, path: &str) -> Option<i64> {
        match &node.value {
            Value::Int(i) => Some(*i),
            Value::Str(s) if s.trim().parse::<i64>().is_ok() => s.trim().parse().ok(),
            _ => {
                self.wrong_type(node, path, "a whole number");
                None
            }
        }
    }

    /// A whole number in `0..=max`.
    pub fn count(&mut self, node: &Node, path: &str, max: i64) -> Option<i64> {
        let value = self.int(node, path)?;
        if !(0..=max).contains(&value) {
            self.error(
                codes::INVALID_VALUE,
                format!(
                    "`{}` must be between 0 and {max}, not {value}",
                    last_segment(path)
                ),
                node,
                path,
            );
            return None;
        }
        Some(value)
    }

    /// A list of strings, or a single string as a one-item list.
    pub fn strings(&mut self, node: &Node, path: &str) -> Vec<(String, Pos)> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let ipath = child(path, &i.to_string());
                    self.string(item, &ipath)
                        .map(|s| (s, self.pos(item, &ipath)))
                })
                .collect(),
            Value::Null => Vec::new(),
            _ => self
                .string(node, path)
                .map(|s| vec![(s, self.pos(node, path))])
                .unwrap_or_default(),
        }
    }

    /// `KEY=value` list or `KEY: value` mapping (environment, labels, annotations).
    /// List entries without `=` get `None`.
    pub fn key_values(&mut self, node: &Node, path: &str) -> Vec<(String, Option<String>, Pos)> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    let ipath = child(path, &i.to_string());
                    let text = self.string(item, &ipath)?;
                    let pos = self.pos(item, &ipath);
                    Some(match text.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string()), pos),
                        None => (text, None, pos),
                    })
                })
                .collect(),
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| {
                    let kpath = child(path, &k.text());
                    let value = match v.value {
                        Value::Null => None,
                        _ => self.string(v, &kpath),
                    };
                    (k.text(), value, self.pos(k, &kpath))
                })
                .collect(),
            Value::Null => Vec::new(),
            _ => {
                self.wrong_type(node, path, "a list of KEY=value or a mapping");
                Vec::new()
            }
        }
    }

    /// Annotations (compose `labels:`): like [`Reader::key_values`], with missing values as
    /// empty strings and each key's position kept for the checks.
    pub fn annotations(&mut self, node: &Node, path: &str) -> Vec<Annotation> {
        self.key_values(node, path)
            .into_iter()
            .map(|(key, value, pos)| Annotation {
                key,
                value: value.unwrap_or_default(),
                pos,
            })
            .collect()
    }

    /// A key that is not handled explicitly: extension, known but not translated, or unknown.
    pub fn other_key(
        &mut self,
        key: &Node,
        path: &str,
        keys: &[(&str, &str)],
        not_translated: &mut Vec<NotTranslated>,
    ) {
        let name = key.text();
        if name.starts_with("x-") {
            return;
        }
        if let Some((_, reason)) = keys.iter().find(|(k, _)| *k == name)
            && !reason.is_empty()
        {
            self.not_translated(key, path, reason, not_translated);
            return;
        }
        let known: Vec<&str> = keys.iter().map(|(k, _)| *k).collect();
        self.unknown_key(key, path, &known);
    }

    pub fn not_translated(
        &mut self,
        key: &Node,
        path: &str,
        reason: &str,
        list: &mut Vec<NotTranslated>,
    ) {
        list.push((key.text(), self.pos(key, path), reason.to_string()));
    }

    /// Turns collected "not translated" items into warnings.
    pub fn diagnostics_from_not_translated(&mut self, list: &[NotTranslated]) {
        for (key, pos, reason) in list {
            self.at(
                Severity::Warning,
                codes::NOT_TRANSLATED,
                format!("not translated: {key} ({reason})"),
                pos,
            );
        }
    }

    pub fn unknown_key(&mut self, key: &Node, path: &str, known: &[&str]) {
        let name = key.text();
        let hint = closest(&name, known)
            .map(|k| format!("; did you mean `{k}`?"))
            .unwrap_or_default();
        let parent = parent_name(path);
        self.error(
            codes::UNKNOWN_KEY,
            format!("unknown key `{name}` in {parent}{hint}"),
            key,
            path,
        );
    }
}

fn last_segment(path: &str) -> String {
    path.rsplit('/')
        .next()
        .unwrap_or("")
        .replace("~1", "/")
        .replace("~0", "~")
}

fn parent_name(path: &str) -> String {
    let parent = path.rsplit_once('/').map_or("", |(p, _)| p);
    if parent.is_empty() {
        "the top level".into()
    } else {
        format!("`{parent}`")
    }
}

/// The known key nearest to `name` by edit distance, when near enough to be a typo.
fn closest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (edit_distance(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous + usize::from(ca != *cb);
            previous = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(previous + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_near_keys_only() {
        assert_eq!(closest("imgae", &["image", "ports"]), Some("image"));
        assert_eq!(
            closest("enviroment", &["environment", "entrypoint"]),
            Some("environment")
        );
        assert_eq!(closest("banana", &["image", "ports"]), None);
    }

    #[test]
    fn json_pointer_escapes() {
        assert_eq!(child("/services", "a/b~c"), "/services/a~1b~0c");
    }
}
