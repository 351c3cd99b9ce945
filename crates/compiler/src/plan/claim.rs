//! How a volume becomes a PersistentVolumeClaim.
//!
//! A named volume of the file (`volumes: {data: …}`) that is declared, not `external:` and
//! mounted by some service gets one claim of its own, named `<volume>-<guid>` so that two
//! systems never share one. Its size is the file's (`driver_opts.size`) or the policy's
//! default, in the policy's storage class, `ReadWriteOnce`, annotated with the volume's
//! `labels:`. An `external:` volume or a `pvc://CLAIM` mount uses an existing claim instead
//! (no object here; see `plan::pod_volumes` for the mount and `checks::allowed_claims` for
//! which existing claims the policy lets a user mount).

use super::identity::{Identity, annotation_map};
use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{MountSource, System, VolumeDecl};
use crate::options::Policy;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;

/// A claim for each declared, used, non-external named volume.
pub(crate) fn claims(
    system: &System,
    identity: &Identity,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PersistentVolumeClaim> {
    let mut claims = Vec::new();
    for decl in system.volumes.iter().filter(|d| gets_claim(d, system)) {
        let name = claim_name(&decl.name, identity);
        if name.len() > 63 {
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: codes::NAME_TOO_LONG.into(),
                message: format!("the claim for volume `{}` would be named `{name}` ({} characters); Kubernetes allows 63, so shorten the volume name", decl.name, name.len()),
                path: decl.pos.path.clone(),
                line: decl.pos.line,
                column: decl.pos.column,
                file: String::new(),
            });
            continue;
        }
        let size = claim_size(decl, policy);
        if crate::quantity::parse_kube_bytes(&size).is_none() {
            let pos = decl.size.as_ref().map_or(&decl.pos, |(_, pos)| pos);
            diagnostics.push(Diagnostic {
                severity: Severity::Error,
                code: codes::INVALID_QUANTITY.into(),
                message: format!("volume size `{size}` is not a Kubernetes quantity (e.g. 10Gi)"),
                path: pos.path.clone(),
                line: pos.line,
                column: pos.column,
                file: String::new(),
            });
            continue;
        }
        let mut meta = identity.meta(&name);
        if !decl.labels.is_empty() {
            meta.annotations = Some(annotation_map(&decl.labels));
        }
        claims.push(PersistentVolumeClaim {
            metadata: meta,
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: (!policy.storage_class.is_empty())
                    .then(|| policy.storage_class.clone()),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([("storage".to_string(), Quantity(size))])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    claims
}

/// Whether a named volume gets a claim of its own: declared, not external, and mounted.
pub(crate) fn gets_claim(decl: &VolumeDecl, system: &System) -> bool {
    decl.external.is_none()
        && system
            .services
            .iter()
            .flat_map(|s| &s.volumes)
            .any(|m| m.source == MountSource::Named(decl.name.clone()))
}

/// The claim created for a named volume: `<volume>-<guid>`.
pub(crate) fn claim_name(volume: &str, identity: &Identity) -> String {
    let cleaned: String = volume
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{}-{}", cleaned.trim_matches('-'), identity.guid)
}

/// The size a named volume's claim asks for: the file's, else the policy's default.
pub(crate) fn claim_size(decl: &VolumeDecl, policy: &Policy) -> String {
    decl.size
        .as_ref()
        .map(|(size, _)| size.clone())
        .unwrap_or_else(|| policy.default_volume_size.clone())
}
