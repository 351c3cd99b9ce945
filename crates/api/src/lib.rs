//! Tycho's wire types: every value that crosses a boundary. The server answers with them, the
//! CLI, the client and the browser dashboard read them, the compiler produces them (it depends
//! on this crate and re-exports them, as `kube` re-exports `kube-core`), and the wasm package
//! returns them. One definition each, no conversions between copies.
//!
//! Serde only (plus optional `utoipa` schemas behind the `openapi` feature), so the same types
//! build natively and for `wasm32-unknown-unknown`.
//!
//! # One JSON casing
//!
//! Field names are snake_case (`container_port`, `not_translated`, `object_name`,
//! `client_cidrs`), in the REST API and in the wasm package alike. The REST names are a public
//! contract shared with the original Tycho: they do not change. Enum values are spelled as each
//! type documents (`"error"`, `"proxy"`, the [`Phase`] `"Running"`). Two texts stored in
//! Kubernetes annotations keep the bytes clusters already hold (see [`compiled`]); they are not
//! API.
//!
//! - [`diagnostic`]: the compiler's findings (`{severity, code, message, path, line, column}`).
//! - [`compiled`]: what a compile reports beside the objects: published ports, keys not
//!   translated, the pod's resources.
//! - [`resources_report`]: what each service asks for against the operator's maxima, made
//!   whether or not the file compiles.
//! - [`document`]: one object of a compiled system as YAML, for previews.
//! - [`systems`]: the `/api/v1` request and response bodies.
//! - [`quota`]: per-user limits and use (`GET /api/v1/quota`, the 429 above one).
//! - [`problem`]: RFC 9457 `application/problem+json` errors, with compiler diagnostics on 422.
//! - [`compat`]: the original Tycho endpoints (`/system/start|status|delete`), same JSON shapes.
//! - [`events`]: the Server-Sent Events payloads.
//! - [`connect`]: where a system's proxy prefix leads.
//! - [`cluster`]: Kubernetes Events about a system, and the operator's policy.
//! - [`volumes`]: the claims that outlive a system, and what a delete did with them.

pub mod cluster;
pub mod compat;
pub mod compiled;
pub mod connect;
pub mod diagnostic;
pub mod document;
pub mod events;
pub mod files;
pub mod problem;
pub mod quota;
pub mod resources_report;
pub mod systems;
pub mod volumes;

pub use cluster::{KubeEvent, KubeEventList, PolicyResponse};
pub use compiled::{NotTranslated, PublishedPort, Resources};
pub use connect::{ConnectTarget, Rewrite, ServedBy};
pub use diagnostic::{Diagnostic, Severity};
pub use document::Document;
pub use events::SystemEvent;
pub use problem::Problem;
pub use quota::{Amounts, QuotaLine, QuotaRefusal, QuotaReport, QuotaResource};
pub use resources_report::{ResourcesReport, ServiceUsage, SystemUsage, Total, Usage};
pub use systems::*;
pub use volumes::{Volume, VolumeKind, VolumeList, VolumeRef, VolumeUser};

/// Media type of problem bodies.
pub const PROBLEM_JSON: &str = "application/problem+json";
