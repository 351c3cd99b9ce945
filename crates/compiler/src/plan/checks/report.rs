//! How a check reports a refusal: an error at the text that caused it, so every shell can point
//! at the line (the checks say what to change there).

use crate::diagnostic::{Diagnostic, Severity};
use crate::model::Pos;

/// An error with `code` at `pos`.
pub(crate) fn error(out: &mut Vec<Diagnostic>, code: &str, message: String, pos: &Pos) {
    out.push(Diagnostic {
        severity: Severity::Error,
        code: code.into(),
        message,
        path: pos.path.clone(),
        line: pos.line,
        column: pos.column,
        file: String::new(),
    });
}
