//! Which variables a compose text refers to, beside the interpolation that fills them in (as
//! compose-go keeps `template/variables.go` beside `template.go`): the same grammar, so a
//! dashboard's variables table and the compiler never disagree about `${A:-${B}}`, `${A:?…}`,
//! `${A:+…}` or `$$`.

use serde::{Deserialize, Serialize};

use crate::interpolate::{is_name_char, is_name_start, matching_brace};
use crate::yaml::{self, Node, Value};

/// One variable the text refers to, with what its first use says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    /// `${NAME:-default}` or `${NAME-default}`: the default as written (it may refer to other
    /// variables, which are listed too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// `${NAME:?message}` or `${NAME?message}`: the file cannot compile without it; the
    /// message as written (empty when there is none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required: Option<String>,
}

impl Variable {
    /// Set by Tycho itself for every system (`TYCHO_BASE_PATH`, the connect prefix): shown, not
    /// asked for; a request's env may not set it.
    pub fn set_by_tycho(&self) -> bool {
        self.name == crate::connect::BASE_PATH_ENV
    }
}

/// The variables `text` refers to, in order of first use. Only string values are interpolated
/// (as by Compose), so keys and comments do not count; while the text is not valid YAML (a
/// dashboard asks as the user types), every line that is not a comment is read instead.
pub fn variables(text: &str) -> Vec<Variable> {
    let mut found = Vec::new();
    match yaml::parse(text).0 {
        Ok(Some(root)) => scalars(&root, &mut found),
        Ok(None) => {}
        Err(_) => {
            for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
                references(line, &mut found);
            }
        }
    }
    found
}

fn scalars(node: &Node, found: &mut Vec<Variable>) {
    match &node.value {
        Value::Str(s) if s.contains('$') => references(s, found),
        Value::Seq(items) => items.iter().for_each(|item| scalars(item, found)),
        Value::Map(entries) => entries.iter().for_each(|(_, value)| scalars(value, found)),
        _ => {}
    }
}

/// Adds the variables one string refers to. What interpolation would refuse is skipped: its
/// diagnostic comes from the compiler.
fn references(input: &str, found: &mut Vec<Variable>) {
    let chars: Vec<char> = input.chars().collect();
    walk(&chars, found);
}

fn walk(chars: &[char], found: &mut Vec<Variable>) {
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            i += 1;
            continue;
        }
        match chars.get(i + 1) {
            Some('$') => i += 2,
            Some('{') => {
                let Some(close) = matching_brace(chars, i + 2) else {
                    return;
                };
                braced(&chars[i + 2..close], found);
                i = close + 1;
            }
            Some(c) if is_name_start(*c) => {
                let end = (i + 1..chars.len())
                    .find(|&j| !is_name_char(chars[j]))
                    .unwrap_or(chars.len());
                note(found, chars[i + 1..end].iter().collect(), None, None);
                i = end;
            }
            _ => i += 1,
        }
    }
}

/// The inside of `${…}`: the name, then `-`/`:-` (default), `?`/`:?` (required) or `+`/`:+`
/// (alternative), whose argument may refer to further variables.
fn braced(inner: &[char], found: &mut Vec<Variable>) {
    let name_len = inner.iter().take_while(|c| is_name_char(**c)).count();
    if name_len == 0 || !is_name_start(inner[0]) {
        return;
    }
    let name: String = inner[..name_len].iter().collect();
    let rest = &inner[name_len..];
    let (op, arg) = match rest {
        [] => return note(found, name, None, None),
        [':', op, arg @ ..] | [op, arg @ ..] if matches!(op, '-' | '?' | '+') => (*op, arg),
        _ => return,
    };
    let text: String = arg.iter().collect();
    match op {
        '-' => note(found, name, Some(text), None),
        '?' => note(found, name, None, Some(text)),
        _ => note(found, name, None, None),
    }
    walk(arg, found);
}

/// Records a use: the first one places the variable; a later one may add a default or a
/// requirement the first did not say.
fn note(
    found: &mut Vec<Variable>,
    name: String,
    default: Option<String>,
    required: Option<String>,
) {
    match found.iter_mut().find(|v| v.name == name) {
        Some(known) => {
            known.default = known.default.take().or(default);
            known.required = known.required.take().or(required);
        }
        None => found.push(Variable {
            name,
            default,
            required,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn var(name: &str, default: Option<&str>, required: Option<&str>) -> Variable {
        Variable {
            name: name.into(),
            default: default.map(String::from),
            required: required.map(String::from),
        }
    }

    #[test]
    fn every_form_of_reference_is_found_in_order_of_first_use() {
        let text = "services:\n  web:\n    image: \"${IMAGE:-nginx}:$TAG\"\n    environment:\n      A: ${PASSWORD:?set a password}\n      B: ${EXTRA:+--extra}\n      C: ${HOST-${FALLBACK:-localhost}}\n      D: $$NOT_A_VARIABLE\n      E: ${TAG?}\n";
        assert_eq!(
            variables(text),
            vec![
                var("IMAGE", Some("nginx"), None),
                var("TAG", None, Some("")),
                var("PASSWORD", None, Some("set a password")),
                var("EXTRA", None, None),
                var("HOST", Some("${FALLBACK:-localhost}"), None),
                var("FALLBACK", Some("localhost"), None),
            ]
        );
    }

    #[test]
    fn comments_and_keys_are_not_interpolated() {
        let text = "# uses $COMMENTED\nservices:\n  web:\n    image: nginx # ${TRAILING}\n    labels:\n      $KEY: value\n";
        assert_eq!(variables(text), vec![]);
    }

    #[test]
    fn text_that_is_not_yaml_yet_is_read_line_by_line() {
        let text = "services:\n  web:\n    image: ${IMAGE:-nginx}\n   - broken: [\n# $COMMENTED\n";
        assert_eq!(variables(text), vec![var("IMAGE", Some("nginx"), None)]);
    }

    #[test]
    fn what_interpolation_refuses_is_skipped() {
        let text = "a: ${1BAD} ${OPEN ${GOOD} ${NAME!x}\n";
        assert_eq!(variables(text), vec![]);
        assert_eq!(
            variables("a: ${GOOD} ${NAME!x}\n"),
            vec![var("GOOD", None, None)]
        );
    }

    #[test]
    fn the_base_path_is_set_by_tycho() {
        let found = variables("a: ${TYCHO_BASE_PATH}\n");
        assert!(found[0].set_by_tycho());
    }
}
