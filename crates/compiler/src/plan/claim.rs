//! How a volume becomes a PersistentVolumeClaim, and which claims outlive their system.
//!
//! A named volume of the file (`volumes: {data: …}`) that is declared, not `external:` and
//! mounted by some service gets one claim of its own, named `<volume>-<guid>` so that two
//! systems never share one. Its size is the file's (`driver_opts.size`) or the policy's
//! default, in the policy's storage class, `ReadWriteOnce`, annotated with the volume's
//! `labels:`. An `external:` volume or a `pvc://CLAIM` mount uses an existing claim instead
//! (no object here; see `plan::pod_volumes` for the mount and `checks::allowed_claims` for
//! which existing claims the policy lets a user mount).
//!
//! Every claim says what it outlives in its [`labels::CLAIM_KIND`] label, which is all the
//! executor goes by:
//! - `system`: the claim above. It carries the system's GUID label, so a failed start's
//!   rollback removes it; a delete keeps it unless asked (`volumes=delete`).
//! - `reuse`: a volume with `x-tycho: {reuse: true}`. Named for the user, the system name and
//!   the volume ([`reuse_claim_name`]), never the GUID, so the next start of that system name
//!   by that user plans the same name; the executor creates it only when it is absent.
//! - `home`: the user's home (policy `home`, file `x-tycho: {home: PATH}`), one per user
//!   ([`home_claim_name`]), mounted in every service, created when absent, never deleted with
//!   a system.
//!
//! Neither `reuse` nor `home` claims carry a GUID label: nothing that removes a system by its
//! GUID reaches them.

use super::checks::report::error;
use super::identity::{Identity, annotation_map};
use crate::codes;
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::labels;
use crate::model::{HomeRequest, MountSource, System, VolumeDecl};
use crate::options::Policy;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// Kubernetes' limit on an object name (DNS-1123 label).
const MAX_NAME: usize = 63;

/// A claim for each declared, used, non-external named volume, and the home when the file
/// asks for it.
pub(crate) fn claims(
    system: &System,
    identity: &Identity,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PersistentVolumeClaim> {
    let mut claims = Vec::new();
    for decl in system.volumes.iter().filter(|d| gets_claim(d, system)) {
        let name = claim_name(decl, identity);
        if name.len() > MAX_NAME {
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
        let mut meta = if decl.reuse.is_some() {
            reuse_meta(&name, identity)
        } else {
            let mut meta = identity.meta(&name);
            labels_of(&mut meta).insert(labels::CLAIM_KIND.into(), labels::CLAIM_SYSTEM.into());
            meta
        };
        let annotations = meta.annotations.get_or_insert_with(BTreeMap::new);
        annotations.extend(annotation_map(&decl.labels));
        annotations.insert(labels::ANNOTATION_SYSTEM_NAME.into(), identity.name.clone());
        annotations.insert(labels::ANNOTATION_VOLUME.into(), decl.name.clone());
        claims.push(claim(meta, "ReadWriteOnce", &policy.storage_class, size));
    }
    if let Some(home) = home_claim(system, identity, policy, diagnostics) {
        claims.push(home);
    }
    claims
}

fn claim(
    metadata: ObjectMeta,
    access_mode: &str,
    storage_class: &str,
    size: String,
) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata,
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access_mode.into()]),
            storage_class_name: (!storage_class.is_empty()).then(|| storage_class.to_string()),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_string(), Quantity(size))])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn labels_of(meta: &mut ObjectMeta) -> &mut BTreeMap<String, String> {
    meta.labels.get_or_insert_with(BTreeMap::new)
}

/// The labels of a claim that outlives the system: Tycho's and the owner's, not the GUID's
/// or the instance's (nothing that removes a system by its GUID may reach it).
fn lasting_meta(name: &str, identity: &Identity, kind: &str) -> ObjectMeta {
    let mut meta = identity.meta(name);
    let lasting = labels_of(&mut meta);
    lasting.remove(labels::GUID);
    lasting.remove(labels::INSTANCE);
    lasting.insert(labels::CLAIM_KIND.into(), kind.into());
    meta
}

fn reuse_meta(name: &str, identity: &Identity) -> ObjectMeta {
    let mut meta = lasting_meta(name, identity, labels::CLAIM_REUSE);
    labels_of(&mut meta).insert(labels::LAST_SYSTEM.into(), identity.guid.clone());
    meta
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

/// The claim created for a named volume: `<volume>-<guid>`, or for a reused one
/// [`reuse_claim_name`].
pub(crate) fn claim_name(decl: &VolumeDecl, identity: &Identity) -> String {
    if decl.reuse.is_some() {
        reuse_claim_name(&identity.username, &identity.name, &decl.name)
    } else {
        format!("{}-{}", dns_part(&decl.name), identity.guid)
    }
}

/// A reused volume's claim: `<system>-<volume>-<hash>`, the hash of the exact user, system
/// name and volume (so `alice` and `Alice`, or volumes `a_b` and `a-b`, differ), the volume
/// part shortened to keep 63 characters. The same three give the same name on every start.
pub fn reuse_claim_name(username: &str, system: &str, volume: &str) -> String {
    let hash = crate::names::name_hash(&[username, system, volume]);
    let system = dns_part(system);
    let room = MAX_NAME.saturating_sub(system.len() + hash.len() + 2);
    let volume: String = dns_part(volume).chars().take(room).collect();
    let volume = volume.trim_end_matches('-');
    if volume.is_empty() {
        format!("{system}-{hash}")
    } else {
        format!("{system}-{volume}-{hash}")
    }
}

/// The user's home claim: `home-<user>-<hash>`, the user as a DNS label (shortened) and the
/// hash of the exact username (two users whose names clean to the same label still differ;
/// the executor checks the owner of an existing claim anyway). Never holds a GUID.
pub fn home_claim_name(username: &str) -> String {
    let hash = crate::names::name_hash(&[username]);
    let room = MAX_NAME - "home-".len() - hash.len() - 1;
    let user: String = labels::username_dns_label(username)
        .chars()
        .take(room)
        .collect();
    format!("home-{}-{hash}", user.trim_end_matches('-'))
}

/// A name as lowercase letters, digits and `-`, without `-` at either end.
fn dns_part(name: &str) -> String {
    let cleaned: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    cleaned.trim_matches('-').to_string()
}

/// The size a named volume's claim asks for: the file's, else the policy's default.
pub(crate) fn claim_size(decl: &VolumeDecl, policy: &Policy) -> String {
    decl.size
        .as_ref()
        .map(|(size, _)| size.clone())
        .unwrap_or_else(|| policy.default_volume_size.clone())
}

/// Where the home is mounted in every container, and its claim: when the file asks for a home
/// that the policy offers (errors for the rest are [`home_claim`]'s).
pub(crate) struct HomeMount {
    pub claim: String,
    pub path: String,
}

/// The home mount the file asks for, if the policy offers one and the path is known.
pub(crate) fn home_mount(
    system: &System,
    identity: &Identity,
    policy: &Policy,
) -> Option<HomeMount> {
    let request = system.home.as_ref()?;
    let offered = policy.home.as_ref()?;
    let path = request
        .path
        .clone()
        .or_else(|| (!offered.mount_path.is_empty()).then(|| offered.mount_path.clone()))?;
    Some(HomeMount {
        claim: home_claim_name(&identity.username),
        path,
    })
}

/// The home claim, or an error where the file asks for what the policy cannot give.
fn home_claim(
    system: &System,
    identity: &Identity,
    policy: &Policy,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<PersistentVolumeClaim> {
    let request = system.home.as_ref()?;
    let Some(offered) = &policy.home else {
        error(
            diagnostics,
            codes::HOME_NOT_OFFERED,
            "this file asks for a home folder (`x-tycho.home`), but the operator's policy offers none (no `home:` in the policy); remove `home`, or ask the operator for homes".into(),
            &request.pos,
        );
        return None;
    };
    let Some(mount) = home_mount(system, identity, policy) else {
        error(
            diagnostics,
            codes::INVALID_VALUE,
            "`home: true` mounts the home at the policy's `home.mount_path`, but the policy names none; write the path, e.g. `home: /home/jovyan`".into(),
            &request.pos,
        );
        return None;
    };
    check_home_target(system, request, &mount.path, diagnostics);
    if crate::quantity::parse_kube_bytes(&offered.size).is_none() {
        diagnostics.push(diagnostic::option_error(format!(
            "the policy's `home.size` `{}` is not a Kubernetes quantity (e.g. 10Gi)",
            offered.size
        )));
        return None;
    }
    let mut meta = lasting_meta(&mount.claim, identity, labels::CLAIM_HOME);
    labels_of(&mut meta).remove(labels::NAME);
    meta.annotations = Some(BTreeMap::from([(
        labels::ANNOTATION_VOLUME.to_string(),
        labels::CLAIM_HOME.to_string(),
    )]));
    let storage_class = if offered.storage_class.is_empty() {
        &policy.storage_class
    } else {
        &offered.storage_class
    };
    Some(claim(
        meta,
        offered.access_mode.as_str(),
        storage_class,
        offered.size.clone(),
    ))
}

/// A service that mounts something else at the home's path (Kubernetes refuses two mounts at
/// one path) is an error at the `home` key.
fn check_home_target(
    system: &System,
    request: &HomeRequest,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let same = |target: &str| target.trim_end_matches('/') == path.trim_end_matches('/');
    for service in &system.services {
        let taken = service.volumes.iter().any(|m| same(&m.target))
            || service.tmpfs.iter().any(|t| same(&t.target));
        if taken {
            error(
                diagnostics,
                codes::CONFLICTING_KEYS,
                format!(
                    "the home is mounted at `{path}` in every service, but service `{}` already mounts something there; mount the home elsewhere or move that volume",
                    service.name
                ),
                &request.pos,
            );
        }
    }
}
