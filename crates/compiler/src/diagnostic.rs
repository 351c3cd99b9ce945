//! Diagnostics: what went wrong (or was not translated), and where.
//!
//! Every diagnostic carries a stable code, a JSON Pointer into the compose document and a 1-based
//! line and column in the original text, so every shell (CLI, server, browser) can point at it.

// The type is the wire type (crates/api), so the server, the CLI, the dashboard and the wasm
// package carry the compiler's diagnostics as they are, without a copy.
use std::fmt::Write as _;
pub use tycho_api::diagnostic::{Diagnostic, Severity};

/// An invalid compile option or policy entry: an unpositioned error with code
/// [`crate::codes::INVALID_OPTION`].
pub fn option_error(message: String) -> Diagnostic {
    Diagnostic::unpositioned(Severity::Error, crate::codes::INVALID_OPTION, message)
}

/// Renders diagnostics for people the way rustc does: a header, `file:line:col`, the source
/// line and a caret under the column.
pub fn render(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> String {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = String::new();
    for d in diagnostics {
        let label = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let _ = writeln!(out, "{label}[{}]: {}", d.code, d.message);
        if d.line == 0 {
            let _ = writeln!(out, "  --> {file_name}");
            out.push('\n');
            continue;
        }
        let number = d.line.to_string();
        let gutter = " ".repeat(number.len());
        let _ = writeln!(out, "{gutter}--> {file_name}:{}:{}", d.line, d.column);
        if let Some(text) = lines.get(d.line - 1) {
            let caret_pad: String = text
                .chars()
                .take(d.column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{number} | {text}");
            let _ = writeln!(out, "{gutter} | {caret_pad}^");
        }
        if !d.path.is_empty() {
            let _ = writeln!(out, "{gutter} = at {}", d.path);
        }
        out.push('\n');
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors > 0 || warnings > 0 {
        let _ = writeln!(out, "{file_name}: {errors} error(s), {warnings} warning(s)");
    }
    out
}
