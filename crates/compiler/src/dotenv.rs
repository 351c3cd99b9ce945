//! `.env` files as Docker Compose reads them (its "env file" syntax), for every shell: the CLI
//! reads the file from disk, the dashboard and the API take its text, and all get the same
//! variables from it.
//!
//! - `#` lines and blank lines are skipped; `export ` before a key is allowed.
//! - `KEY=value`: unquoted values are trimmed; ` #` starts a comment (`a#b` is kept whole).
//! - `KEY='value'` is literal; `\'` is a quote.
//! - `KEY="value"` may span lines, knows `\n`, `\r`, `\t`, `\\`, `\"` and `\$`, and a comment
//!   may follow the closing quote.
//! - Unquoted and double-quoted values interpolate `${VAR}` (all of Compose's forms) from the
//!   keys above them and then from `env`, as `.env` files do.
//! - `KEY` alone takes `env`'s value, and is left out when `env` has none.

use std::collections::BTreeMap;
use std::fmt;

use crate::diagnostic::Severity;
use crate::interpolate::interpolate;

/// Why an env file cannot be read: a 1-based line and column and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for EnvFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for EnvFileError {}

/// The variables an env file sets, in file order (a key set twice keeps its last value, at
/// its first place).
pub fn parse_env_file(
    text: &str,
    env: &BTreeMap<String, String>,
) -> Result<Vec<(String, String)>, EnvFileError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    while index < lines.len() {
        let line_number = index + 1;
        let line = lines[index];
        index += 1;
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let indent = line.len() - body.len();
        let body = body.strip_prefix("export ").map_or(body, str::trim_start);
        let key_column = line.len() - body.len() + 1;
        let (key, value) = match body.split_once('=') {
            Some((key, value)) => (key.trim_end(), Some(value)),
            None => (body.trim_end(), None),
        };
        check_key(key, line_number, key_column)?;
        let Some(raw) = value else {
            if let Some(inherited) = env.get(key) {
                set(&mut pairs, key, inherited.clone());
            }
            continue;
        };
        let value_column = indent + (body.len() - raw.len()) + 1;
        let at = |offset: usize, message: String| EnvFileError {
            line: line_number,
            column: value_column + offset,
            message,
        };
        let raw_trimmed = raw.trim_start();
        let lead = raw.len() - raw_trimmed.len();
        let value = match raw_trimmed.chars().next() {
            Some('\'') => single_quoted(&raw_trimmed[1..]).map_err(|m| at(lead, m))?,
            Some('"') => {
                let (content, extra_lines) =
                    double_quoted(&raw_trimmed[1..], &lines[index..]).map_err(|m| at(lead, m))?;
                index += extra_lines;
                expand(&content, &pairs, env).map_err(|m| at(lead, m))?
            }
            _ => expand(unquoted(raw_trimmed), &pairs, env).map_err(|m| at(lead, m))?,
        };
        set(&mut pairs, key, value);
    }
    Ok(pairs)
}

fn check_key(key: &str, line: usize, column: usize) -> Result<(), EnvFileError> {
    let mut chars = key.chars();
    let valid = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if valid {
        return Ok(());
    }
    let message = if key.is_empty() {
        "expected KEY=VALUE: the key is missing".to_string()
    } else {
        format!(
            "`{key}` is not a variable name: expected KEY=VALUE with a key of letters, digits and `_`"
        )
    };
    Err(EnvFileError {
        line,
        column,
        message,
    })
}

fn set(pairs: &mut Vec<(String, String)>, key: &str, value: String) {
    match pairs.iter_mut().find(|(k, _)| k == key) {
        Some(pair) => pair.1 = value,
        None => pairs.push((key.to_string(), value)),
    }
}

/// An unquoted value: up to a ` #` comment, trimmed.
fn unquoted(raw: &str) -> &str {
    let mut end = raw.len();
    for (i, c) in raw.char_indices() {
        if c == '#' && raw[..i].ends_with([' ', '\t']) {
            end = i;
            break;
        }
    }
    raw[..end].trim()
}

/// After the opening `'`: literal up to the closing quote, `\'` being a quote.
fn single_quoted(rest: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.as_str().starts_with('\'') => {
                out.push('\'');
                chars.next();
            }
            '\'' => return after_quote(chars.as_str()).map(|()| out),
            c => out.push(c),
        }
    }
    Err("this single-quoted value has no closing `'`".into())
}

/// After the opening `"`: the value with its escapes resolved, and how many further lines it
/// took. `\$` stays `$$`, so interpolation leaves it a literal dollar.
fn double_quoted(rest: &str, following: &[&str]) -> Result<(String, usize), String> {
    let mut out = String::new();
    let mut text = rest.to_string();
    let mut extra = 0;
    loop {
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('$') => out.push_str("$$"),
                    Some(other @ ('\\' | '"')) => out.push(other),
                    Some(other) => {
                        out.push('\\');
                        out.push(other);
                    }
                    None => out.push('\\'),
                },
                '"' => return after_quote(chars.as_str()).map(|()| (out, extra)),
                c => out.push(c),
            }
        }
        let Some(next) = following.get(extra) else {
            return Err("this double-quoted value has no closing `\"`".into());
        };
        out.push('\n');
        text = next.to_string();
        extra += 1;
    }
}

/// What may follow a closing quote: nothing, or a comment.
fn after_quote(rest: &str) -> Result<(), String> {
    let rest = rest.trim_start();
    if rest.is_empty() || rest.starts_with('#') {
        Ok(())
    } else {
        Err(format!(
            "unexpected `{rest}` after the closing quote (a comment starts with `#`)"
        ))
    }
}

/// Interpolates a value from the keys above it, then from `env`. An unset variable is empty,
/// as in Compose; a refused form (`${A:?…}` unset, an unclosed `${`) is an error.
fn expand(
    value: &str,
    pairs: &[(String, String)],
    env: &BTreeMap<String, String>,
) -> Result<String, String> {
    if !value.contains('$') {
        return Ok(value.to_string());
    }
    let mut scope = env.clone();
    scope.extend(pairs.iter().cloned());
    let (out, findings) = interpolate(value, &scope);
    match findings.into_iter().find(|f| f.severity == Severity::Error) {
        Some(error) => Err(error.message),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<(String, String)>, EnvFileError> {
        let env = BTreeMap::from([("HOME".to_string(), "/home/ada".to_string())]);
        parse_env_file(text, &env)
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_compose_syntax_rules() {
        let text = "\
# a comment
A=1
export B=\"two words\"

C='x=y'
D=VAL # comment
E=VAL# not a comment
F=\"VAL # not a comment\" # comment
G='$HOME ${HOME}'
H=\"$HOME/x\"
I=${A}-$B
J=\"some\\tvalue\\n\"
K='Let\\'s go!'
L=\"{\\\"hello\\\": \\\"json\\\"}\"
M=\"costs \\$5\"
N=
  O = spaced  
";
        assert_eq!(
            parse(text).unwrap(),
            pairs(&[
                ("A", "1"),
                ("B", "two words"),
                ("C", "x=y"),
                ("D", "VAL"),
                ("E", "VAL# not a comment"),
                ("F", "VAL # not a comment"),
                ("G", "$HOME ${HOME}"),
                ("H", "/home/ada/x"),
                ("I", "1-two words"),
                ("J", "some\tvalue\n"),
                ("K", "Let's go!"),
                ("L", "{\"hello\": \"json\"}"),
                ("M", "costs $5"),
                ("N", ""),
                ("O", "spaced"),
            ])
        );
    }

    #[test]
    fn double_quoted_values_span_lines_and_keys_alone_inherit() {
        let text = "KEY=\"-----BEGIN\nline two\n-----END\"\nHOME\nUNSET_HERE\nKEY2=after\n";
        assert_eq!(
            parse(text).unwrap(),
            pairs(&[
                ("KEY", "-----BEGIN\nline two\n-----END"),
                ("HOME", "/home/ada"),
                ("KEY2", "after"),
            ])
        );
    }

    /// The CLI's reader before the compiler had one: what it read is read the same. (It refused
    /// a key alone, `oops`; Compose inherits it, so now only a line that cannot be a key fails.)
    #[test]
    fn what_the_cli_read_before() {
        assert_eq!(
            parse("# c\nA=1\nexport B=\"two words\"\n\nC='x=y'\n").unwrap(),
            pairs(&[("A", "1"), ("B", "two words"), ("C", "x=y")])
        );
        assert!(parse("oops!").is_err());
    }

    #[test]
    fn the_last_value_of_a_key_wins_at_its_first_place() {
        assert_eq!(
            parse("A=1\nB=2\nA=3\n").unwrap(),
            pairs(&[("A", "3"), ("B", "2")])
        );
    }

    #[test]
    fn errors_say_where() {
        let cases = [
            ("A=1\nNO WORK=1\n", 2, 1, "is not a variable name"),
            ("A=1\n=value\n", 2, 1, "the key is missing"),
            ("export  2MUCH=1\n", 1, 9, "is not a variable name"),
            ("A='open\n", 1, 3, "no closing `'`"),
            ("A=\"open\nstill open\n", 1, 3, "no closing `\"`"),
            ("A=\"done\" trailing\n", 1, 3, "after the closing quote"),
            ("A=${NEEDED:?set it}\n", 1, 3, "set it"),
        ];
        for (text, line, column, says) in cases {
            let error = parse(text).expect_err(text);
            assert_eq!(
                (error.line, error.column),
                (line, column),
                "{text:?}: {error}"
            );
            assert!(error.message.contains(says), "{text:?}: {error}");
        }
    }
}
