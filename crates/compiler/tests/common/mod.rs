//! Helpers the compiler's integration tests share: compile with the default policy and look at
//! the errors, each as (code, line, column, message).
#![allow(dead_code)]

use tycho_compiler::{CompileOptions, Diagnostic, compile};

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
