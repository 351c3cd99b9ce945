//! The diagnostic codes of reading YAML (TY00xx). The compiler's `codes` module lists them with
//! the others; a code never changes meaning.

pub const YAML_SYNTAX: &str = "TY0001";
pub const DUPLICATE_KEY: &str = "TY0002";
pub const MULTIPLE_DOCUMENTS: &str = "TY0003";
pub const ROOT_NOT_MAPPING: &str = "TY0004";
pub const INPUT_TOO_LARGE: &str = "TY0005";
pub const NESTING_TOO_DEEP: &str = "TY0006";
pub const ALIAS_EXPANSION: &str = "TY0007";
pub const INVALID_MERGE: &str = "TY0008";
pub const UNKNOWN_ALIAS: &str = "TY0009";
