//! How a system is reached through Tycho's proxy: the compiler writes a [`ConnectTarget`] into
//! the Deployment's `tycho.io/connect` annotation, status reads it back, the proxy follows it.

use serde::{Deserialize, Serialize};

/// The port the proxy serves at a system's prefix, and what it does with the prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectTarget {
    /// The compose service (container) that listens.
    pub service: String,
    pub container_port: u16,
    /// The port on the Kubernetes Service.
    pub port: u16,
    /// Prefix the browser uses, e.g. `/connect/<guid>/`, ending in `/`.
    pub path: String,
    /// The whole URL when the operator's edge (an Ingress or a Gateway with a host) serves the
    /// system; empty when Tycho's proxy does (the server then puts its public URL before
    /// `path`) or when no host is known.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub url: String,
    #[serde(default)]
    pub rewrite: Rewrite,
    /// What serves `path`: Tycho's own proxy, or the operator's edge.
    #[serde(default)]
    pub served_by: ServedBy,
}

/// Who serves a system's connect path (the policy's `connect.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ServedBy {
    /// Tycho's reverse proxy at `/connect/<guid>/`.
    #[default]
    Proxy,
    /// An Ingress controller (`connect.mode: ingress`).
    Ingress,
    /// A Gateway API implementation (`connect.mode: gateway`).
    Gateway,
    /// Ambassador, through the Service's Mapping annotation (`connect.mode: ambassador`).
    Ambassador,
}

/// What the proxy does with the prefix before forwarding (the original Tycho's `proxy_rewrite`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rewrite {
    /// Forward the path as the browser sent it (apps that know their base path).
    #[default]
    Keep,
    /// Remove the prefix: `/connect/<guid>/a/b` → `/a/b`.
    Strip,
    /// Replace the prefix with this path (starts and ends with `/`).
    Target(String),
}
