//! Diagnostics: what went wrong (or was not translated), and where.
//!
//! Every diagnostic carries a stable code, a JSON Pointer into the compose document and a 1-based
//! line and column in the original text, so every shell (CLI, server, browser) can point at it.

// The type is the wire type (crates/api), so the server, the CLI, the dashboard and the wasm
// package carry the compiler's diagnostics as they are, without a copy.
use crate::bundle::Files;
use std::collections::BTreeMap;
use std::fmt::Write as _;
pub use tycho_api::diagnostic::{Diagnostic, Severity};

/// An invalid compile option or policy entry: an unpositioned error with code
/// [`crate::codes::INVALID_OPTION`].
pub fn option_error(message: String) -> Diagnostic {
    Diagnostic::unpositioned(Severity::Error, crate::codes::INVALID_OPTION, message)
}

/// Renders diagnostics for people the way rustc does: a header, `file:line:col`, the source
/// line and a caret under the column. For diagnostics in the compose file only; see
/// [`render_with_files`] for those in the files sent with it.
pub fn render(diagnostics: &[Diagnostic], file_name: &str, source: &str) -> String {
    render_with_files(diagnostics, file_name, source, &Files::new())
}

/// [`render`] for a compose file and the files sent with it (what
/// [`crate::compile_with_files`] read): a diagnostic in another file (its `file` set, as for
/// an `extends:` base) shows that file's name, beside `file_name`, and its line.
pub fn render_with_files(
    diagnostics: &[Diagnostic],
    file_name: &str,
    source: &str,
    files: &Files,
) -> String {
    let main_lines: Vec<&str> = source.lines().collect();
    let other_texts: BTreeMap<&str, String> = diagnostics
        .iter()
        .filter(|d| !d.file.is_empty())
        .filter_map(|d| {
            let bytes = files.get(&d.file)?;
            Some((d.file.as_str(), String::from_utf8_lossy(bytes).into_owned()))
        })
        .collect();
    let other_lines: BTreeMap<&str, Vec<&str>> = other_texts
        .iter()
        .map(|(file, text)| (*file, text.lines().collect()))
        .collect();
    let mut out = String::new();
    for d in diagnostics {
        if d.file.is_empty() {
            render_one(&mut out, d, file_name, &main_lines);
        } else {
            let lines = other_lines
                .get(d.file.as_str())
                .map_or(&[][..], Vec::as_slice);
            render_one(&mut out, d, &beside(file_name, &d.file), lines);
        }
    }
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    let warnings = diagnostics.len() - errors;
    if errors > 0 || warnings > 0 {
        let _ = writeln!(out, "{file_name}: {errors} error(s), {warnings} warning(s)");
    }
    out
}

/// A project path as a shell names it: beside the compose file `file_name`.
fn beside(file_name: &str, project_path: &str) -> String {
    match file_name.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/{project_path}"),
        None => project_path.to_string(),
    }
}

fn render_one(out: &mut String, d: &Diagnostic, file_name: &str, lines: &[&str]) {
    let label = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let _ = writeln!(out, "{label}[{}]: {}", d.code, d.message);
    if d.line == 0 {
        let _ = writeln!(out, "  --> {file_name}");
        out.push('\n');
        return;
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
