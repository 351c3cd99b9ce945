//! The server's diagnostics (a 422, or a start's warnings) rendered against the compose file.

use tycho_client::api::{Diagnostic, Severity};

/// The server's diagnostics rendered the way `tycho validate` renders the compiler's.
pub fn server_diagnostics(diagnostics: &[Diagnostic], name: &str, text: &str) -> String {
    let converted: Vec<tycho_compiler::Diagnostic> = diagnostics
        .iter()
        .map(|d| tycho_compiler::Diagnostic {
            severity: match d.severity {
                Severity::Error => tycho_compiler::Severity::Error,
                Severity::Warning => tycho_compiler::Severity::Warning,
            },
            code: d.code.clone(),
            message: d.message.clone(),
            path: d.path.clone(),
            line: d.line,
            column: d.column,
        })
        .collect();
    tycho_compiler::diagnostic::render(&converted, name, text)
}
