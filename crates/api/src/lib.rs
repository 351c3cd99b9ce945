//! Tycho's REST types: what the server answers and the CLI and the browser dashboard read.
//!
//! Serde only (plus optional `utoipa` schemas behind the `openapi` feature), so the same types
//! build natively and for `wasm32-unknown-unknown`.
//!
//! - [`diagnostic`]: the compiler's findings (`{severity, code, message, path, line, column}`).
//! - [`systems`]: the `/api/v1` request and response bodies.
//! - [`problem`]: RFC 9457 `application/problem+json` errors, with compiler diagnostics on 422.
//! - [`compat`]: the original Tycho endpoints (`/system/start|status|delete`), same JSON shapes.
//! - [`events`]: the Server-Sent Events payloads.
//! - [`connect`]: where a system's proxy prefix leads.
//! - [`cluster`]: Kubernetes Events about a system, and the operator's policy.

pub mod cluster;
pub mod compat;
pub mod connect;
pub mod diagnostic;
pub mod events;
pub mod problem;
pub mod systems;

pub use cluster::{KubeEvent, KubeEventList, PolicyResponse};
pub use connect::{ConnectTarget, Rewrite, ServedBy};
pub use diagnostic::{Diagnostic, Severity};
pub use events::SystemEvent;
pub use problem::Problem;
pub use systems::*;

/// Media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";
