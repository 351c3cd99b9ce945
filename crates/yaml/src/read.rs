//! YAML text → a small tree of [`Node`]s that remember their line and column.
//!
//! Built from saphyr-parser's event stream (rather than a ready-made document type) so that we
//! control what a hostile file can cost: input size, nesting depth and alias expansion are
//! bounded, duplicate keys are reported, and `<<` merge keys are applied here.

use crate::codes;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::borrow::Cow;
use std::collections::HashMap;

/// Largest accepted input. Compose files are a few kilobytes; this leaves ample room.
pub const MAX_BYTES: usize = 1024 * 1024;
/// Deepest accepted nesting of sequences and mappings.
pub const MAX_DEPTH: usize = 64;
/// Most values in the tree after expanding aliases (stops "billion laughs").
pub const MAX_NODES: usize = 200_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: Value,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub column: usize,
    /// Column offset from `column` to the first character of a single-line string's content
    /// (1 for quoted scalars); `None` for block scalars, whose content starts on a later line.
    pub content_offset: Option<usize>,
}

impl Node {
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// What a key or scalar says, for messages and key comparison.
    pub fn text(&self) -> String {
        match &self.value {
            Value::Null => String::new(),
            Value::Bool(b) => b.to_string(),
            Value::Int(i) => i.to_string(),
            Value::Float(f) => f.to_string(),
            Value::Str(s) => s.clone(),
            Value::Seq(_) => "[…]".into(),
            Value::Map(_) => "{…}".into(),
        }
    }

    /// Whether two mapping keys are the same key (without allocating for string keys).
    fn same_key(&self, other: &Node) -> bool {
        match (&self.value, &other.value) {
            (Value::Str(a), Value::Str(b)) => a == b,
            _ => self.text() == other.text(),
        }
    }

    /// The kind of value, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    fn size(&self) -> usize {
        1 + match &self.value {
            Value::Seq(items) => items.iter().map(Node::size).sum(),
            Value::Map(entries) => entries.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    /// The node as plain JSON (for pass-through objects such as Tycho's `ext.kube` probes).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.text(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// A problem found while reading: code, message and 1-based position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub code: &'static str,
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// The YAML parser's own words, for a syntax error the parser found (`message` is then
    /// "YAML syntax: " and these words). The compiler turns them into a sentence for people;
    /// `None` for the problems this crate words itself.
    pub parser_text: Option<String>,
}

/// The root node (None for an empty stream), or the first fatal error; plus non-fatal findings
/// (duplicate keys).
pub fn parse(text: &str) -> (Result<Option<Node>, YamlError>, Vec<YamlError>) {
    let mut builder = Builder::default();
    let result = builder.run(text);
    (result, builder.findings)
}

enum Frame {
    Seq {
        start: Node,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        start: Node,
        anchor: usize,
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        merges: Vec<Node>,
    },
}

#[derive(Default)]
struct Builder {
    stack: Vec<Frame>,
    anchors: HashMap<usize, (Node, usize)>,
    nodes: usize,
    findings: Vec<YamlError>,
}

fn error_at(code: &'static str, message: impl Into<String>, span: &Span) -> YamlError {
    YamlError {
        code,
        message: message.into(),
        line: span.start.line(),
        column: span.start.col() + 1,
        parser_text: None,
    }
}

fn empty_node(value: Value, span: &Span) -> Node {
    Node {
        value,
        line: span.start.line(),
        column: span.start.col() + 1,
        content_offset: Some(0),
    }
}

impl Builder {
    fn run(&mut self, text: &str) -> Result<Option<Node>, YamlError> {
        if text.len() > MAX_BYTES {
            return Err(YamlError {
                code: codes::INPUT_TOO_LARGE,
                message: format!(
                    "the file is {} bytes; Tycho reads compose files up to {} bytes",
                    text.len(),
                    MAX_BYTES
                ),
                line: 1,
                column: 1,
                parser_text: None,
            });
        }
        let mut root = None;
        let mut documents = 0;
        for event in Parser::new_from_str(text) {
            let (event, span) = event.map_err(|e| {
                // The scanner bounds flow nesting itself; report that as the nesting limit.
                let (code, message, parser_text) = if e.info() == "recursion limit exceeded" {
                    (
                        codes::NESTING_TOO_DEEP,
                        format!("nesting is deeper than {MAX_DEPTH} levels"),
                        None,
                    )
                } else {
                    (
                        codes::YAML_SYNTAX,
                        format!("YAML syntax: {}", e.info()),
                        Some(e.info().to_string()),
                    )
                };
                YamlError {
                    code,
                    message,
                    parser_text,
                    line: e.marker().line(),
                    column: e.marker().col() + 1,
                }
            })?;
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        return Err(error_at(
                            codes::MULTIPLE_DOCUMENTS,
                            "a second YAML document starts here; a compose file is a single document (remove the extra `---`)",
                            &span,
                        ));
                    }
                }
                Event::Scalar(value, style, anchor, _tag) => {
                    let node = scalar_node(value, style, &span);
                    self.count(1, &span)?;
                    self.remember(anchor, &node);
                    if let Some(done) = self.push(node, &span)? {
                        root = Some(done);
                    }
                }
                Event::SequenceStart(anchor, _) => {
                    self.enter(&span)?;
                    let start = empty_node(Value::Null, &span);
                    self.stack.push(Frame::Seq {
                        start,
                        anchor,
                        items: Vec::new(),
                    });
                }
                Event::MappingStart(anchor, _) => {
                    self.enter(&span)?;
                    let start = empty_node(Value::Null, &span);
                    self.stack.push(Frame::Map {
                        start,
                        anchor,
                        entries: Vec::new(),
                        key: None,
                        merges: Vec::new(),
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let (node, anchor) = match self.stack.pop() {
                        Some(Frame::Seq {
                            mut start,
                            anchor,
                            items,
                        }) => {
                            start.value = Value::Seq(items);
                            (start, anchor)
                        }
                        Some(Frame::Map {
                            mut start,
                            anchor,
                            entries,
                            merges,
                            ..
                        }) => {
                            start.value = Value::Map(merge(entries, merges, &mut self.findings)?);
                            (start, anchor)
                        }
                        None => continue,
                    };
                    self.count(1, &span)?;
                    self.remember(anchor, &node);
                    if let Some(done) = self.push(node, &span)? {
                        root = Some(done);
                    }
                }
                Event::Alias(id) => {
                    let Some((node, size)) = self.anchors.get(&id).cloned() else {
                        return Err(error_at(
                            codes::UNKNOWN_ALIAS,
                            "this alias names no anchor defined before it",
                            &span,
                        ));
                    };
                    self.count(size, &span)?;
                    if let Some(done) = self.push(node, &span)? {
                        root = Some(done);
                    }
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        Ok(root)
    }

    fn enter(&self, span: &Span) -> Result<(), YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(error_at(
                codes::NESTING_TOO_DEEP,
                format!("nesting is deeper than {MAX_DEPTH} levels"),
                span,
            ));
        }
        Ok(())
    }

    fn count(&mut self, added: usize, span: &Span) -> Result<(), YamlError> {
        self.nodes = self.nodes.saturating_add(added);
        if self.nodes > MAX_NODES {
            return Err(error_at(
                codes::ALIAS_EXPANSION,
                format!(
                    "the document expands to more than {MAX_NODES} values (aliases included); refusing to read further"
                ),
                span,
            ));
        }
        Ok(())
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor > 0 {
            self.anchors.insert(anchor, (node.clone(), node.size()));
        }
    }

    /// Adds a finished node to its parent; returns it when it is the document root.
    fn push(&mut self, node: Node, span: &Span) -> Result<Option<Node>, YamlError> {
        match self.stack.last_mut() {
            None => Ok(Some(node)),
            Some(Frame::Seq { items, .. }) => {
                items.push(node);
                Ok(None)
            }
            Some(Frame::Map {
                entries,
                key,
                merges,
                ..
            }) => {
                match key.take() {
                    None => {
                        if matches!(node.value, Value::Seq(_) | Value::Map(_)) {
                            return Err(error_at(
                                codes::YAML_SYNTAX,
                                "a mapping key must be a plain value, not a list or mapping",
                                span,
                            ));
                        }
                        *key = Some(node);
                    }
                    Some(k)
                        if k.value == Value::Str("<<".into()) && k.content_offset == Some(0) =>
                    {
                        merges.push(node)
                    }
                    Some(k) => {
                        if let Some((first, _)) = entries.iter().find(|(e, _)| e.text() == k.text())
                        {
                            self.findings.push(YamlError {
                                code: codes::DUPLICATE_KEY,
                                message: format!(
                                    "duplicate key `{}` (first defined at line {}): a key is written once per mapping; remove one of the two",
                                    k.text(),
                                    first.line
                                ),
                                line: k.line,
                                column: k.column,
                                parser_text: None,
                            });
                        } else {
                            entries.push((k, node));
                        }
                    }
                }
                Ok(None)
            }
        }
    }
}

/// Applies `<<` merge keys: keys written in the mapping win, then earlier merged mappings.
fn merge(
    mut entries: Vec<(Node, Node)>,
    merges: Vec<Node>,
    findings: &mut Vec<YamlError>,
) -> Result<Vec<(Node, Node)>, YamlError> {
    for merged in merges {
        let sources = match merged.value {
            Value::Map(_) => vec![merged],
            Value::Seq(items) => items,
            _ => vec![merged],
        };
        for source in sources {
            let Value::Map(pairs) = source.value else {
                findings.push(YamlError {
                    code: codes::INVALID_MERGE,
                    message: format!("`<<` merges mappings, but this is {}", source.kind()),
                    line: source.line,
                    column: source.column,
                    parser_text: None,
                });
                continue;
            };
            for (k, v) in pairs {
                if !entries.iter().any(|(e, _)| e.same_key(&k)) {
                    entries.push((k, v));
                }
            }
        }
    }
    Ok(entries)
}

// Takes the parser's string (usually already owned) so a scalar is not copied again.
fn scalar_node(text: Cow<'_, str>, style: ScalarStyle, span: &Span) -> Node {
    let (value, content_offset) = match style {
        ScalarStyle::Plain => (resolve_plain(text), Some(0)),
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => {
            (Value::Str(text.into_owned()), Some(1))
        }
        _ => (Value::Str(text.into_owned()), None),
    };
    let mut node = empty_node(value, span);
    node.content_offset = content_offset;
    node
}

/// YAML 1.2 core schema for plain scalars (so `8080:80` stays a string, unlike YAML 1.1).
fn resolve_plain(owned: Cow<'_, str>) -> Value {
    let text: &str = &owned;
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = text.parse::<i64>()
    {
        return Value::Int(i);
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return Value::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return Value::Int(i);
    }
    let float_chars = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if float_chars
        && digits.bytes().any(|b| b.is_ascii_digit())
        && !digits.starts_with(['e', 'E'])
        && let Ok(f) = text.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(owned.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        parse(text).0.expect("parses").expect("has a root")
    }

    fn error(text: &str) -> YamlError {
        parse(text).0.expect_err("fails")
    }

    #[test]
    fn positions_are_one_based() {
        let node = root("a:\n  b: [1, x]\n");
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        let (_, b) = &entries[0];
        let Value::Map(inner) = &b.value else {
            panic!()
        };
        assert_eq!((inner[0].0.line, inner[0].0.column), (2, 3));
        let Value::Seq(items) = &inner[0].1.value else {
            panic!()
        };
        assert_eq!(items[1].value, Value::Str("x".into()));
        assert_eq!((items[1].line, items[1].column), (2, 10));
    }

    #[test]
    fn core_schema_scalars() {
        assert_eq!(
            resolve_plain("8080:80".into()),
            Value::Str("8080:80".into())
        );
        assert_eq!(resolve_plain("42".into()), Value::Int(42));
        assert_eq!(resolve_plain("0.5".into()), Value::Float(0.5));
        assert_eq!(resolve_plain("yes".into()), Value::Str("yes".into()));
        assert_eq!(resolve_plain("~".into()), Value::Null);
        assert_eq!(resolve_plain("1e3".into()), Value::Float(1000.0));
        assert_eq!(resolve_plain("e3".into()), Value::Str("e3".into()));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let node = root("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n");
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        let Value::Map(other) = &entries[1].1.value else {
            panic!()
        };
        let flat: Vec<(String, String)> = other.iter().map(|(k, v)| (k.text(), v.text())).collect();
        assert_eq!(flat, [("y".into(), "3".into()), ("x".into(), "1".into())]);
    }

    #[test]
    fn quoted_merge_key_is_an_ordinary_key() {
        let node = root("'<<': 1\n");
        let Value::Map(entries) = &node.value else {
            panic!()
        };
        assert_eq!(entries[0].0.text(), "<<");
    }

    #[test]
    fn duplicate_keys_are_reported_at_the_second() {
        let (result, findings) = parse("a: 1\nb: 2\na: 3\n");
        assert!(result.is_ok());
        assert_eq!(findings.len(), 1);
        assert_eq!(
            (findings[0].code, findings[0].line, findings[0].column),
            (codes::DUPLICATE_KEY, 3, 1)
        );
    }

    #[test]
    fn second_document_is_an_error() {
        let e = error("a: 1\n---\nb: 2\n");
        assert_eq!((e.code, e.line), (codes::MULTIPLE_DOCUMENTS, 2));
    }

    #[test]
    fn syntax_errors_carry_position() {
        let e = error("a: [1, 2\nb: 3\n");
        assert_eq!(e.code, codes::YAML_SYNTAX);
        assert!(e.line >= 1);
    }

    #[test]
    fn billion_laughs_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            text.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        assert_eq!(error(&text).code, codes::ALIAS_EXPANSION);
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(error(&text).code, codes::NESTING_TOO_DEEP);
    }

    #[test]
    fn huge_input_is_refused() {
        let text = "a".repeat(MAX_BYTES + 1);
        assert_eq!(error(&text).code, codes::INPUT_TOO_LARGE);
    }
}
