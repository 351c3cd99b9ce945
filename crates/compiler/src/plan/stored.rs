//! How files sent with the compose file reach the pod: the system's ConfigMap
//! (`<object>-files`: bind-mounted files and folders, configs) and Secret (`<object>-secrets`:
//! `secrets:`), each key one file; `plan::pod_volumes` mounts their keys read-only.
//!
//! Kubernetes keeps at most 1 MiB in one ConfigMap or Secret; the policy's `max_files_size`
//! may lower that. A Secret's values leave the compiler only in the typed object the executor
//! creates: every text of a plan (YAML, JSON, previews) shows their sizes instead.

use super::identity::Identity;
use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Store, StoredFile, System};
use crate::options::Policy;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use std::collections::BTreeMap;

/// What Kubernetes stores in one ConfigMap or Secret at most.
pub(crate) const KUBERNETES_MAX_BYTES: u64 = 1024 * 1024;

/// The name of the system's ConfigMap or Secret.
pub(crate) fn store_name(store: Store, identity: &Identity) -> String {
    match store {
        Store::ConfigMap => format!("{}-files", identity.object_name),
        Store::Secret => format!("{}-secrets", identity.object_name),
    }
}

/// The system's ConfigMap, when it mounts any file sent with it.
pub(crate) fn config_map(
    system: &System,
    identity: &Identity,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<ConfigMap> {
    let files = &system.stored.config_map;
    if files.is_empty() {
        return None;
    }
    check_size(Store::ConfigMap, files, policy, diagnostics);
    let mut data = BTreeMap::new();
    let mut binary_data = BTreeMap::new();
    for (key, file) in files {
        match std::str::from_utf8(&file.bytes) {
            Ok(text) => {
                data.insert(key.clone(), text.to_string());
            }
            Err(_) => {
                binary_data.insert(key.clone(), ByteString(file.bytes.clone()));
            }
        }
    }
    Some(ConfigMap {
        metadata: identity.meta(&store_name(Store::ConfigMap, identity)),
        data: (!data.is_empty()).then_some(data),
        binary_data: (!binary_data.is_empty()).then_some(binary_data),
        ..Default::default()
    })
}

/// The system's Secret, when it mounts any `secrets:`.
pub(crate) fn secret(
    system: &System,
    identity: &Identity,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<Secret> {
    let files = &system.stored.secret;
    if files.is_empty() {
        return None;
    }
    check_size(Store::Secret, files, policy, diagnostics);
    let data = files
        .iter()
        .map(|(key, file)| (key.clone(), ByteString(file.bytes.clone())))
        .collect();
    Some(Secret {
        metadata: identity.meta(&store_name(Store::Secret, identity)),
        type_: Some("Opaque".into()),
        data: Some(data),
        ..Default::default()
    })
}

/// The Secret as plans are shown and written out: each value replaced by its size.
pub(crate) fn masked(secret: &Secret) -> Secret {
    let hidden = secret.data.as_ref().map(|data| {
        data.iter()
            .map(|(key, value)| {
                (
                    key.clone(),
                    format!(
                        "(hidden: {} bytes, given to the cluster only)",
                        value.0.len()
                    ),
                )
            })
            .collect()
    });
    Secret {
        data: None,
        string_data: hidden,
        ..secret.clone()
    }
}

/// The largest a store may be: the policy's `max_files_size` (empty: no cap of its own), at
/// most what Kubernetes keeps. A value that does not parse is the operator's error.
fn max_bytes(policy: &Policy, diagnostics: &mut Vec<Diagnostic>) -> u64 {
    let text = policy.max_files_size.trim();
    if text.is_empty() {
        return KUBERNETES_MAX_BYTES;
    }
    match crate::quantity::parse_kube_bytes(text) {
        Some(max) => max.min(KUBERNETES_MAX_BYTES),
        None => {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: codes::INVALID_OPTION.into(),
                message: format!(
                    "policy `max_files_size` is `{text}`, which is not a Kubernetes quantity"
                ),
                path: String::new(),
                line: 0,
                column: 0,
                file: String::new(),
            });
            KUBERNETES_MAX_BYTES
        }
    }
}

/// Refuses a store above its cap, at the file that takes it over (files in the order written).
fn check_size(
    store: Store,
    files: &BTreeMap<String, StoredFile>,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let max = max_bytes(policy, diagnostics);
    let total: u64 = files.values().map(|f| f.bytes.len() as u64).sum();
    if total <= max {
        return;
    }
    let mut written: Vec<&StoredFile> = files.values().collect();
    written.sort_by_key(|f| (f.pos.line, f.pos.column));
    let mut sum = 0;
    let over = written
        .iter()
        .find(|f| {
            sum += f.bytes.len() as u64;
            sum > max
        })
        .unwrap_or(&written[0]);
    let what = match store {
        Store::ConfigMap => "the files and configs sent with the compose file",
        Store::Secret => "the secrets",
    };
    diagnostics.push(Diagnostic {
        severity: Severity::Error,
        code: codes::FILES_TOO_LARGE.into(),
        message: format!(
            "{what} come to {total} bytes, above the {max} bytes the policy's `max_files_size` allows (Kubernetes keeps at most 1 MiB per object); put large data in a volume"
        ),
        path: over.pos.path.clone(),
        line: over.pos.line,
        column: over.pos.column,
        file: String::new(),
    });
}
