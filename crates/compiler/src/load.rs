//! compose text → model. (stub while being written)
use crate::{diagnostic::Diagnostic, model::System};
use std::collections::BTreeMap;

pub struct Loaded {
    pub system: Option<System>,
    pub diagnostics: Vec<Diagnostic>,
}

pub fn load(_text: &str, _env: &BTreeMap<String, String>) -> Loaded {
    Loaded {
        system: None,
        diagnostics: Vec::new(),
    }
}
