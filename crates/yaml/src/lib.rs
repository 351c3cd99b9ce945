//! YAML in and out for Tycho's compiler.
//!
//! - [`parse`]: YAML text → a tree of [`Node`]s that remember their line and column, with the
//!   costs a hostile file can cause bounded (size, depth, alias expansion).
//! - [`render`]: JSON values → stable YAML (and compact JSON) text, for the manifests.
//!
//! A crate of its own so the browser builds can optimise it for speed while the rest of the
//! compiler is optimised for size: it runs on every keystroke in an editor, and the YAML parser's
//! generic code is compiled (and optimised) in the crate that uses it, which is this one.

pub mod codes;
mod read;
pub mod render;

pub use read::{MAX_BYTES, MAX_DEPTH, MAX_NODES, Node, Value, YamlError, parse};
