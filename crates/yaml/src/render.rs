//! JSON values → YAML text (and compact JSON text). Kubernetes objects are plain JSON trees, so
//! a small emitter that quotes every string which could be read back as something else is all we
//! need, and it keeps the output byte-for-byte stable. It writes into one buffer, without a
//! string per scalar: rendering runs on every keystroke in the browser editor.

use serde_json::Value;
use std::fmt::Write as _;

/// Multi-document YAML, one document per value, each starting with `---`.
pub fn documents(values: &[Value]) -> String {
    let mut out = String::with_capacity(8192);
    for value in values {
        out.push_str("---\n");
        write_block(&mut out, value, 0);
    }
    out
}

fn write_block(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, item) in map {
                pad(out, indent);
                push_scalar_string(out, key);
                out.push(':');
                write_child(out, item, indent);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            for item in items {
                pad(out, indent);
                out.push('-');
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // First key on the dash line, the rest aligned under it.
                        let mut first = true;
                        for (key, child) in map {
                            if first {
                                out.push(' ');
                                first = false;
                            } else {
                                pad(out, indent + 2);
                            }
                            push_scalar_string(out, key);
                            out.push(':');
                            write_child(out, child, indent + 2);
                        }
                    }
                    _ => write_child(out, item, indent),
                }
            }
        }
        other => {
            pad(out, indent);
            push_inline(out, other);
            out.push('\n');
        }
    }
}

/// Writes what follows `key:` or `-`: an inline scalar, or a nested block on the next lines.
fn write_child(out: &mut String, value: &Value, indent: usize) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            write_block(out, value, indent + 2);
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_block(out, value, indent + 2);
        }
        Value::String(s) if s.contains('\n') => {
            out.push_str(" |");
            if s.starts_with(' ') {
                out.push('2');
            }
            if !s.ends_with('\n') {
                out.push('-');
            } else if s.ends_with("\n\n") {
                out.push('+');
            }
            out.push('\n');
            for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
                if !line.is_empty() {
                    pad(out, indent + 2);
                    out.push_str(line);
                }
                out.push('\n');
            }
        }
        other => {
            out.push(' ');
            push_inline(out, other);
            out.push('\n');
        }
    }
}

fn push_inline(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Value::String(s) => push_scalar_string(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn pad(out: &mut String, indent: usize) {
    out.extend(std::iter::repeat_n(' ', indent));
}

/// A string as a YAML scalar: plain when it cannot be mistaken for anything else, otherwise
/// double-quoted with JSON escapes (valid YAML).
fn push_scalar_string(out: &mut String, s: &str) {
    if is_safe_plain(s) {
        out.push_str(s);
    } else {
        push_json_string(out, s);
    }
}

fn is_safe_plain(s: &str) -> bool {
    let Some(&first) = s.as_bytes().first() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || matches!(first, b'/' | b'.' | b'_')) {
        return false;
    }
    if s.ends_with(' ') || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if !s.bytes().all(|c| c.is_ascii_graphic() || c == b' ') {
        return false;
    }
    // Anything a YAML 1.1 or 1.2 reader could take as null, a boolean or a number stays quoted.
    const RESERVED: [&str; 13] = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".nan", ".inf", "-.inf",
    ];
    if s.len() <= 5 && RESERVED.iter().any(|r| r.eq_ignore_ascii_case(s)) {
        return false;
    }
    let looks_numeric = s.bytes().all(|c| {
        c.is_ascii_hexdigit()
            || matches!(
                c,
                b'.' | b'+' | b'-' | b'_' | b'x' | b'o' | b':' | b'e' | b'E'
            )
    }) && (first.is_ascii_digit() || first == b'.');
    !looks_numeric
}

/// `value` as compact JSON text, byte for byte what `serde_json::to_string` writes. Written by
/// hand so the browser build links one serializer (into `Value`) rather than two.
pub fn json_text(value: &Value) -> String {
    let mut out = String::with_capacity(4096);
    push_json(&mut out, value);
    out
}

/// Appends `value` as compact JSON text.
pub fn push_json(out: &mut String, value: &Value) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, key);
                out.push(':');
                push_json(out, item);
            }
            out.push('}');
        }
        Value::String(s) => push_json_string(out, s),
        scalar => push_inline(out, scalar),
    }
}

/// Appends `s` as a JSON string literal, escaping as serde_json does.
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut plain_from = 0;
    for (i, byte) in s.bytes().enumerate() {
        let escape = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[plain_from..i]);
        plain_from = i + 1;
        if escape.is_empty() {
            let _ = write!(out, "\\u{byte:04x}");
        } else {
            out.push_str(escape);
        }
    }
    out.push_str(&s[plain_from..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_objects_and_lists() {
        let value = json!({"a": {"b": [1, {"c": "x", "d": []}], "e": {}}, "f": "true"});
        assert_eq!(
            documents(&[value]),
            "---\na:\n  b:\n    - 1\n    - c: x\n      d: []\n  e: {}\nf: \"true\"\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        for s in [
            "", "8080", "1e3", "0x1F", "yes", "null", "a: b", "-x", "*x", "10:30",
        ] {
            assert!(!is_safe_plain(s), "{s} must be quoted");
        }
        for s in [
            "nginx",
            "nginx:1.25",
            "/data",
            "250m",
            "app.kubernetes.io/name",
        ] {
            assert!(is_safe_plain(s), "{s} may be plain");
        }
    }

    #[test]
    fn json_text_is_what_serde_json_writes() {
        let value = json!({
            "a": "quote \" back \\ nl \n tab \t cr \r bs \u{8} ff \u{c} ctl \u{1f} del \u{7f} é 😀",
            "n": [1, -2, 2.5, 1e300, -0.0, u64::MAX, i64::MIN, null, true, false],
            "e": {}, "l": [], "k\"ey": {"nested": [[]]}
        });
        assert_eq!(json_text(&value), serde_json::to_string(&value).unwrap());
    }

    #[test]
    fn multi_line_strings_become_literal_blocks() {
        let value = json!({"config": "a: 1\nb: 2\n"});
        assert_eq!(documents(&[value]), "---\nconfig: |\n  a: 1\n  b: 2\n");
    }
}
