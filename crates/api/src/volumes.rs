//! The claims that outlive a system: `GET /api/v1/volumes`, `DELETE /api/v1/volumes/{name}`,
//! and what a system's delete did with its volumes.

use serde::{Deserialize, Serialize};

/// What a claim outlives (its `tycho.io/claim` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum VolumeKind {
    /// A named volume of one system (`<volume>-<guid>`): kept by a delete unless
    /// `volumes=delete`.
    System,
    /// A named volume with `x-tycho: {reuse: true}`: the next start of the same system name
    /// mounts it again.
    Reuse,
    /// The user's home: mounted by every system that asks, never deleted with one.
    Home,
}

impl VolumeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VolumeKind::System => "system",
            VolumeKind::Reuse => "reuse",
            VolumeKind::Home => "home",
        }
    }

    /// The kind a `tycho.io/claim` label value names.
    pub fn from_label(value: &str) -> Option<VolumeKind> {
        match value {
            "system" => Some(VolumeKind::System),
            "reuse" => Some(VolumeKind::Reuse),
            "home" => Some(VolumeKind::Home),
            _ => None,
        }
    }
}

/// A system that mounts a claim now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolumeUser {
    pub guid: String,
    /// The system's name.
    pub name: String,
    /// Its pod is being deleted (the claim is free once it is gone).
    #[serde(default)]
    pub terminating: bool,
}

/// One claim of a user: `GET /api/v1/volumes`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Volume {
    /// The claim's name (what `DELETE /api/v1/volumes/{name}` takes).
    pub name: String,
    pub kind: VolumeKind,
    /// The compose volume it was made for (`home` for the home).
    pub volume: String,
    /// The name of the system it came from (empty for the home).
    #[serde(default)]
    pub system: String,
    /// The GUID of the system it came from (a reused claim: the last one that mounted it);
    /// empty for the home.
    #[serde(default)]
    pub guid: String,
    pub username: String,
    /// The size asked for, as a Kubernetes quantity (`10Gi`).
    pub size: String,
    /// The same in bytes, for sums (0 when unreadable).
    #[serde(default)]
    pub size_bytes: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub storage_class: String,
    #[serde(default)]
    pub access_modes: Vec<String>,
    /// `Pending`, `Bound`, `Lost`, or `Terminating` while it is being deleted.
    pub phase: String,
    /// RFC 3339 creation time.
    pub created: String,
    #[serde(default)]
    pub age_seconds: u64,
    /// Whether a system (running, starting or still terminating) mounts it.
    pub in_use: bool,
    /// The systems that mount it.
    #[serde(default)]
    pub used_by: Vec<VolumeUser>,
    /// RFC 3339 time its system was deleted (it was kept); empty while a system uses it and
    /// for the home.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub released_at: String,
    /// RFC 3339 time the policy's `volume_ttl` removes it; empty when it does not expire.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub expires_at: String,
    /// Set when it expires soon (the owner's warning), in plain words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub warning: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolumeList {
    pub volumes: Vec<Volume>,
}

/// A volume a system's delete kept or removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolumeRef {
    /// The claim's name.
    pub name: String,
    pub kind: VolumeKind,
    /// The compose volume.
    pub volume: String,
    /// The size asked for (`10Gi`).
    pub size: String,
}
