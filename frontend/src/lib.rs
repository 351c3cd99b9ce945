//! Tycho's dashboard (Leptos, client-side rendered, built with Trunk).
//!
//! - [`model`]: catalog, analysis of the compose text (diagnostics, preview, resources against the
//!   operator's policy), routes, formatting; pure and tested natively.
//! - [`bundle`]: the files sent with the compose file (a folder upload, what is still missing);
//!   pure too.
//! - [`logs`]: the log pane's rules (first container, route, lines kept, refusals in words).
//! - `api` (wasm32 only): every call to the server.
//! - `app` (wasm32 only): the shell and state, one module per component (catalog, editor,
//!   preview, systems table, system page) and the live feed.

pub mod bundle;
pub mod logs;
pub mod model;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod app;
