//! Compose `profiles:`: a service that lists profiles runs only when one of them is active
//! (`CompileOptions::profiles`, else the env's `COMPOSE_PROFILES`, comma-separated; `*` is
//! every profile); a service without profiles always runs.

use super::reader::{Reader, child};
use crate::codes;
use crate::options::CompileOptions;
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;

/// The variable Compose reads the active profiles from.
pub const COMPOSE_PROFILES: &str = "COMPOSE_PROFILES";

/// A service the active profiles leave out, and its profiles.
pub struct Disabled {
    pub name: String,
    pub profiles: Vec<String>,
}

impl Disabled {
    /// `` `debug` `` or `` `debug` or `test` ``.
    pub fn profiles_named(&self) -> String {
        let named: Vec<String> = self.profiles.iter().map(|p| format!("`{p}`")).collect();
        named.join(" or ")
    }
}

/// The active profiles: the options', else `COMPOSE_PROFILES` from the env.
pub fn active(options: &CompileOptions, env: &BTreeMap<String, String>) -> Vec<String> {
    if !options.profiles.is_empty() {
        return options.profiles.clone();
    }
    env.get(COMPOSE_PROFILES)
        .map(|list| {
            list.split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether the service at `node` runs under the `active` profiles; its `profiles:` checked.
pub fn enabled(
    key: &Node,
    node: &Node,
    path: &str,
    active: &[String],
    r: &mut Reader,
) -> Result<(), Disabled> {
    let Value::Map(entries) = &node.value else {
        return Ok(());
    };
    let Some((_, list)) = entries.iter().find(|(k, _)| k.text() == "profiles") else {
        return Ok(());
    };
    let lpath = child(path, "profiles");
    let profiles: Vec<String> = r
        .strings(list, &lpath)
        .into_iter()
        .filter_map(|(name, pos)| {
            if valid(&name) {
                Some(name)
            } else {
                r.at(
                    crate::Severity::Error,
                    codes::INVALID_NAME,
                    format!("profile `{name}` is not a profile name (a letter or digit, then letters, digits, `_`, `.` or `-`)"),
                    &pos,
                );
                None
            }
        })
        .collect();
    let on = profiles.is_empty()
        || active.iter().any(|a| a == "*")
        || profiles.iter().any(|p| active.contains(p));
    if on {
        Ok(())
    } else {
        Err(Disabled {
            name: crate::names::kubernetes_name(&key.text()),
            profiles,
        })
    }
}

/// Compose's profile names: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
fn valid(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

/// Why nothing would run: every service is in a profile that is not active.
pub fn none_enabled(disabled: &[Disabled], active: &[String]) -> String {
    let mut profiles: Vec<&str> = disabled
        .iter()
        .flat_map(|d| d.profiles.iter().map(String::as_str))
        .collect();
    profiles.sort_unstable();
    profiles.dedup();
    let active = if active.is_empty() {
        "no profile is active".to_string()
    } else {
        format!("the active profiles are `{}`", active.join("`, `"))
    };
    format!(
        "every service is in a profile and {active}; activate one of `{}` (--profile or COMPOSE_PROFILES)",
        profiles.join("`, `")
    )
}
