//! `$VAR` interpolation from the request env, as Docker Compose does it:
//! `$V`, `${V}`, `${V:-default}`, `${V-default}`, `${V:?message}`, `${V?message}`,
//! `${V:+alternative}`, `${V+alternative}`, and `$$` for a literal `$`. Defaults may nest. A `$`
//! followed by anything else (`$1`, `$(date)`) is not a reference and stays as written.

use crate::codes;
use crate::diagnostic::Severity;
use std::collections::BTreeMap;

/// A finding at a character offset inside the interpolated string.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub offset: usize,
    pub severity: Severity,
    pub code: &'static str,
    pub message: String,
    /// The variable that is not set, for an unset-variable warning.
    pub unset: Option<String>,
}

/// Interpolates `input`; unset variables without a default become empty with a warning.
pub fn interpolate(input: &str, env: &BTreeMap<String, String>) -> (String, Vec<Finding>) {
    let chars: Vec<char> = input.chars().collect();
    let mut out = String::with_capacity(input.len());
    let mut findings = Vec::new();
    expand(&chars, 0, env, &mut out, &mut findings);
    (out, findings)
}

fn expand(
    chars: &[char],
    base: usize,
    env: &BTreeMap<String, String>,
    out: &mut String,
    findings: &mut Vec<Finding>,
) {
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        let at = base + i;
        match chars.get(i + 1) {
            Some('$') => {
                out.push('$');
                i += 2;
            }
            Some('{') => {
                let Some(close) = matching_brace(chars, i + 2) else {
                    findings.push(error(
                        at,
                        codes::INVALID_INTERPOLATION,
                        "`${` is not closed by `}`".into(),
                    ));
                    return;
                };
                braced(&chars[i + 2..close], base + i + 2, at, env, out, findings);
                i = close + 1;
            }
            Some(c) if is_name_start(*c) => {
                let end = (i + 1..chars.len())
                    .find(|&j| !is_name_char(chars[j]))
                    .unwrap_or(chars.len());
                let name: String = chars[i + 1..end].iter().collect();
                match env.get(&name) {
                    Some(value) => out.push_str(value),
                    None => findings.push(unset(at, &name)),
                }
                i = end;
            }
            // Not a reference (`$1`, `$(date)`, `a$ b`): Compose leaves it as written.
            _ => {
                out.push('$');
                i += 1;
            }
        }
    }
}

/// Handles the inside of `${…}`; `inner_base` is the offset of its first character.
fn braced(
    inner: &[char],
    inner_base: usize,
    at: usize,
    env: &BTreeMap<String, String>,
    out: &mut String,
    findings: &mut Vec<Finding>,
) {
    let name_len = inner.iter().take_while(|c| is_name_char(**c)).count();
    let name: String = inner[..name_len].iter().collect();
    if name.is_empty() || !is_name_start(inner[0]) {
        let text: String = inner.iter().collect();
        findings.push(error(
            at,
            codes::INVALID_INTERPOLATION,
            format!("`${{{text}}}` does not start with a variable name"),
        ));
        return;
    }
    let rest = &inner[name_len..];
    let value = env.get(&name);
    let set_and_nonempty = value.is_some_and(|v| !v.is_empty());
    let (colon, op, arg_start) = match rest {
        [] => {
            match value {
                Some(v) => out.push_str(v),
                None => findings.push(unset(at, &name)),
            }
            return;
        }
        [':', op, ..] => (true, *op, 2),
        [op, ..] => (false, *op, 1),
    };
    let arg = &rest[arg_start..];
    let arg_base = inner_base + name_len + arg_start;
    // With `:` an empty value counts as unset, as in the shell.
    let present = if colon {
        set_and_nonempty
    } else {
        value.is_some()
    };
    match op {
        '-' => {
            if present {
                out.push_str(value.map_or("", String::as_str));
            } else {
                expand(arg, arg_base, env, out, findings);
            }
        }
        '+' => {
            if present {
                expand(arg, arg_base, env, out, findings);
            }
        }
        '?' => {
            if present {
                out.push_str(value.map_or("", String::as_str));
            } else {
                let mut message = String::new();
                expand(arg, arg_base, env, &mut message, &mut Vec::new());
                let detail = if message.is_empty() {
                    "it is required".to_string()
                } else {
                    message
                };
                findings.push(error(
                    at,
                    codes::REQUIRED_VARIABLE,
                    format!(
                        "variable {name} is {}: {detail}",
                        if colon { "unset or empty" } else { "unset" }
                    ),
                ));
            }
        }
        _ => {
            let text: String = inner.iter().collect();
            findings.push(error(
                at,
                codes::INVALID_INTERPOLATION,
                format!(
                    "`${{{text}}}`: after the name expected `}}`, `:-`, `-`, `:?`, `?`, `:+` or `+`"
                ),
            ));
        }
    }
}

/// Index of the `}` closing a `${` whose content starts at `from`, skipping nested `${…}`.
pub(crate) fn matching_brace(chars: &[char], from: usize) -> Option<usize> {
    let mut depth = 1;
    let mut i = from;
    while i < chars.len() {
        match chars[i] {
            '$' if chars.get(i + 1) == Some(&'$') => i += 1,
            '$' if chars.get(i + 1) == Some(&'{') => {
                depth += 1;
                i += 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

pub(crate) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(crate) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn error(offset: usize, code: &'static str, message: String) -> Finding {
    Finding {
        offset,
        severity: Severity::Error,
        code,
        message,
        unset: None,
    }
}

fn unset(offset: usize, name: &str) -> Finding {
    Finding {
        offset,
        severity: Severity::Warning,
        code: codes::UNSET_VARIABLE,
        message: format!(
            "variable {name} is not set; using an empty string (pass it with --env {name}=…)"
        ),
        unset: Some(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [("SET", "value"), ("EMPTY", ""), ("PORT", "8080")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// (input, output, findings as (offset, code))
    type Row = (&'static str, &'static str, &'static [(usize, &'static str)]);
    const TABLE: &[Row] = &[
        ("plain", "plain", &[]),
        ("$SET", "value", &[]),
        ("${SET}", "value", &[]),
        ("a${SET}b", "avalueb", &[]),
        ("$SET.x", "value.x", &[]),
        ("$PORT:80", "8080:80", &[]),
        ("$$SET", "$SET", &[]),
        ("$$", "$", &[]),
        ("$UNSET", "", &[(0, codes::UNSET_VARIABLE)]),
        ("x ${UNSET}", "x ", &[(2, codes::UNSET_VARIABLE)]),
        ("${UNSET:-d}", "d", &[]),
        ("${EMPTY:-d}", "d", &[]),
        ("${EMPTY-d}", "", &[]),
        ("${UNSET-d}", "d", &[]),
        ("${SET:-d}", "value", &[]),
        ("${UNSET:-${SET}}", "value", &[]),
        ("${UNSET:-${ALSO_UNSET:-deep}}", "deep", &[]),
        ("${SET:+alt}", "alt", &[]),
        ("${EMPTY:+alt}", "", &[]),
        ("${EMPTY+alt}", "alt", &[]),
        ("${UNSET+alt}", "", &[]),
        ("${SET:?needed}", "value", &[]),
        ("ab${UNSET:?needed}", "ab", &[(2, codes::REQUIRED_VARIABLE)]),
        ("${EMPTY:?needed}", "", &[(0, codes::REQUIRED_VARIABLE)]),
        ("${EMPTY?needed}", "", &[]),
        ("${UNSET?needed}", "", &[(0, codes::REQUIRED_VARIABLE)]),
        ("cost $5", "cost $5", &[]),
        ("$(date) a$ b $", "$(date) a$ b $", &[]),
        ("${SET", "", &[(0, codes::INVALID_INTERPOLATION)]),
        ("${}", "", &[(0, codes::INVALID_INTERPOLATION)]),
        ("${SET*x}", "", &[(0, codes::INVALID_INTERPOLATION)]),
        ("${UNSET:-${NOPE}}", "", &[(9, codes::UNSET_VARIABLE)]),
        ("é$UNSET", "é", &[(1, codes::UNSET_VARIABLE)]),
    ];

    #[test]
    fn compose_interpolation_table() {
        for (input, expected, expected_findings) in TABLE {
            let (output, findings) = interpolate(input, &env());
            assert_eq!(&output, expected, "output of {input:?}");
            let got: Vec<(usize, &str)> = findings.iter().map(|f| (f.offset, f.code)).collect();
            assert_eq!(&got, expected_findings, "findings of {input:?}");
        }
    }

    #[test]
    fn required_message_is_used() {
        let (_, findings) = interpolate("${TOKEN:?set a token}", &env());
        assert!(
            findings[0].message.contains("set a token"),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].severity, Severity::Error);
    }
}
