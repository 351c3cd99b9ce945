//! Diagnostics: what is wrong with a compose file (or was not translated), and where.
//!
//! The compiler reports these, the REST API carries them (`ValidateResponse`, a 422
//! [`crate::Problem`]'s `errors`) and the wasm package returns them: one type for all.

use serde::{Deserialize, Serialize};

/// How bad a [`Diagnostic`] is. Errors sort before warnings (the compiler sorts by position,
/// then severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about the input: a stable code, a JSON Pointer into the compose document and a
/// 1-based line and column in the original text. Line and column 0 mean "no position" (for
/// example a problem with the options rather than the text).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable identifier, e.g. `TY0101` (the compiler's `codes` module lists them).
    pub code: String,
    pub message: String,
    /// JSON Pointer into the compose document, e.g. `/services/web/ports/0`.
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// The file the position is in, by project path (e.g. `common/base.yaml`, a file an
    /// `extends:` names); empty for the compose file itself.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub file: String,
}

impl Diagnostic {
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// A diagnostic about the options or the policy, not a place in the file (line 0).
    pub fn unpositioned(severity: Severity, code: &str, message: String) -> Diagnostic {
        Diagnostic {
            severity,
            code: code.into(),
            message,
            path: String::new(),
            line: 0,
            column: 0,
            file: String::new(),
        }
    }
}
