//! RFC 9457 problem details.

use crate::diagnostic::Diagnostic;
use serde::{Deserialize, Serialize};

/// An error answer (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` or `urn:tycho:problem:<slug>`.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub instance: String,
    /// The compiler's diagnostics (on 422 for an invalid compose file).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<Diagnostic>,
    /// The Kubernetes `Status` reason when the cluster refused (`AlreadyExists`, `Forbidden`, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// On a 429 for a quota: the resource, what is in use, what was asked and the limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<crate::quota::QuotaRefusal>,
}

impl Problem {
    pub fn new(status: u16, slug: &str, title: impl Into<String>) -> Self {
        Problem {
            kind: format!("urn:tycho:problem:{slug}"),
            title: title.into(),
            status,
            detail: String::new(),
            instance: String::new(),
            errors: Vec::new(),
            reason: String::new(),
            quota: None,
        }
    }

    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = detail.into();
        self
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.title, self.status)?;
        if !self.detail.is_empty() {
            write!(f, ": {}", self.detail)?;
        }
        for e in &self.errors {
            write!(f, "\n  {} {}:{} {}", e.code, e.line, e.column, e.message)?;
        }
        Ok(())
    }
}
