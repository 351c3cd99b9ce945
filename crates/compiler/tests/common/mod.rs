//! Helpers the compiler's integration tests share: compile with the default policy and look at
//! the errors, each as (code, line, column, message).
#![allow(dead_code)]

use tycho_compiler::{CompileOptions, Compiled, Diagnostic, Files, compile};

pub fn options() -> CompileOptions {
    CompileOptions {
        guid: "abc".into(),
        ..Default::default()
    }
}

/// Each error of `text` as (code, line, column, message).
pub fn errors(text: &str) -> Vec<(String, usize, usize, String)> {
    compile(text, &options())
        .diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .map(|d| (d.code, d.line, d.column, d.message))
        .collect()
}

/// `text` has exactly one error: `code` at `line:column`, its message containing `says`.
#[track_caller]
pub fn only_error(text: &str, code: &str, line: usize, column: usize, says: &str) {
    let errors = errors(text);
    assert!(
        matches!(errors.as_slice(), [(c, l, col, m)] if c == code && (*l, *col) == (line, column) && m.contains(says)),
        "expected only {code} at {line}:{column} saying {says:?}, got {errors:#?}"
    );
}

/// Files sent with a compose file, from (project path, text) pairs.
pub fn files(entries: &[(&str, &str)]) -> Files {
    entries
        .iter()
        .map(|(path, text)| (path.to_string(), text.as_bytes().to_vec()))
        .collect()
}

/// The pod template of a plan that must compile, as JSON.
#[track_caller]
pub fn pod(compiled: &Compiled) -> serde_json::Value {
    assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
    let plan = compiled.plan.as_ref().expect("compiles");
    serde_json::to_value(&plan.deployment).unwrap()["spec"]["template"].clone()
}
