//! Tycho's dashboard (Leptos, client-side rendered, built with Trunk).
//!
//! - [`model`]: catalog, analysis of the compose text, formatting; pure and tested natively.
//! - `app` (wasm32 only): the components, the REST calls and the live systems feed.

pub mod model;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod app;
