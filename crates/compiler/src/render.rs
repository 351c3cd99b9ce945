//! JSON values → YAML text. Kubernetes objects are plain JSON trees, so a small emitter that
//! quotes every string which could be read back as something else is all we need, and it keeps
//! the output byte-for-byte stable.

use serde_json::Value;
use std::fmt::Write as _;

/// Multi-document YAML, one document per value, each starting with `---`.
pub fn documents(values: &[Value]) -> String {
    let mut out = String::new();
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
                out.push_str(&scalar_string(key));
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
                            out.push_str(&scalar_string(key));
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
            out.push_str(&inline(other));
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
            out.push_str(&inline(other));
            out.push('\n');
        }
    }
}

fn inline(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => scalar_string(s),
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn pad(out: &mut String, indent: usize) {
    let _ = write!(out, "{:indent$}", "");
}

/// A string as a YAML scalar: plain when it cannot be mistaken for anything else, otherwise
/// double-quoted with JSON escapes (valid YAML).
fn scalar_string(s: &str) -> String {
    if is_safe_plain(s) {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

fn is_safe_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || matches!(first, '/' | '.' | '_')) {
        return false;
    }
    if s.ends_with(' ') || s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if !s.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return false;
    }
    // Anything a YAML 1.1 or 1.2 reader could take as null, a boolean or a number stays quoted.
    let lower = s.to_ascii_lowercase();
    let reserved = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", ".nan", ".inf", "-.inf",
    ];
    if reserved.contains(&lower.as_str()) {
        return false;
    }
    let looks_numeric = s.chars().all(|c| {
        c.is_ascii_hexdigit() || matches!(c, '.' | '+' | '-' | '_' | 'x' | 'o' | ':' | 'e' | 'E')
    }) && s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.');
    !looks_numeric
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
    fn multi_line_strings_become_literal_blocks() {
        let value = json!({"config": "a: 1\nb: 2\n"});
        assert_eq!(documents(&[value]), "---\nconfig: |\n  a: 1\n  b: 2\n");
    }
}
