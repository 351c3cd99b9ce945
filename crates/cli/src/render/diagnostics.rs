//! The server's diagnostics (a 422, or a start's warnings) rendered against the compose file.

use tycho_client::api::Diagnostic;

/// The server's diagnostics rendered the way `tycho validate` renders the compiler's (they are
/// the same type).
pub fn server_diagnostics(diagnostics: &[Diagnostic], name: &str, text: &str) -> String {
    tycho_compiler::diagnostic::render(diagnostics, name, text)
}
