//! `/api/v1` bodies.

use crate::compiled::{NotTranslated, PublishedPort, Resources};
use crate::diagnostic::Diagnostic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Start a system: `POST /api/v1/systems`.
///
/// The server also accepts a raw compose file as the body (`Content-Type: application/yaml`),
/// with `name` as a query parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartRequest {
    /// The compose file: YAML text (a string) or the document as a JSON object.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub compose: serde_json::Value,
    /// System name (DNS-1123 label, at most 30 characters); the compose `name:` otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// Values for `$VAR` interpolation.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
    /// Extra CIDRs allowed to reach the published ports.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_cidrs: Vec<String>,
    /// Active Compose profiles; when empty, `COMPOSE_PROFILES` from `env`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub profiles: Vec<String>,
    /// Files the compose file names (bind-mounted config files and folders, `env_file`,
    /// configs' and secrets' `file:`), by path relative to it, each as base64.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        with = "crate::files::base64_map"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, String>))]
    pub files: BTreeMap<String, Vec<u8>>,
    /// Override files merged over the compose file in this order, as `docker compose -f
    /// compose.yaml -f compose.prod.yaml` merges them: paths of files sent in `files`
    /// (e.g. `["compose.prod.yaml"]`). Their relative paths start at the compose file's
    /// folder; a finding in one names it in `file`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub override_files: Vec<String>,
}

/// `POST /api/v1/validate` and `POST /api/v1/compile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompileRequest {
    /// What a start sends (the same JSON keys, beside `guid`).
    #[serde(flatten)]
    pub system: StartRequest,
    /// GUID to name the objects with; derived from the input when empty (stable output).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guid: String,
}

/// Returns the compose text of a request's `compose` value: a string as is, anything else as
/// JSON text (JSON is YAML, so the compiler reads it; positions then refer to that text).
pub fn compose_text(compose: &serde_json::Value) -> String {
    match compose {
        serde_json::Value::String(text) => text.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ValidateResponse {
    /// True when there is no error (warnings allowed).
    pub valid: bool,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<Diagnostic>,
}

/// The plan as the CLI's `tycho compile` prints it, plus the facts around it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CompileResponse {
    pub name: String,
    pub guid: String,
    pub object_name: String,
    /// The Kubernetes objects in apply order, as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub objects: Vec<serde_json::Value>,
    /// The same objects as multi-document YAML (what `kubectl apply -f -` takes).
    pub yaml: String,
    /// The same YAML, one document per object with its kind and name (for previews); joined,
    /// they are `yaml`.
    #[serde(default)]
    pub documents: Vec<crate::document::Document>,
    /// What each service asks for against the policy's maxima, and the system's totals.
    #[serde(default)]
    pub resources: crate::resources_report::ResourcesReport,
    pub ports: Vec<PublishedPort>,
    pub not_translated: Vec<NotTranslated>,
    /// Warnings (a plan exists only without errors).
    pub diagnostics: Vec<Diagnostic>,
}

/// Answer to a start: 202 with `Location: /api/v1/systems/{guid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartResponse {
    pub guid: String,
    pub name: String,
    pub username: String,
    /// Path of the system's status resource.
    pub location: String,
    pub ports: Vec<PublishedPort>,
    /// Warnings from the compiler (unsupported keys and the like).
    pub diagnostics: Vec<Diagnostic>,
}

/// Where a system is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Phase {
    /// Accepted; no pod is scheduled yet (or it cannot be).
    Pending,
    /// Pods are scheduled and starting (pulling images, not ready yet).
    Starting,
    /// Every replica is ready.
    Running,
    /// Cannot become ready without a change (bad image, crash loop, quota).
    Failed,
    /// Being deleted.
    Terminating,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Starting => "Starting",
            Phase::Running => "Running",
            Phase::Failed => "Failed",
            Phase::Terminating => "Terminating",
        }
    }
}

/// A published port and what the cluster allocated for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortStatus {
    // The compiler's port, its fields inline on the wire as they always were
    // (`{"service","container_port","port","protocol","node_port","url"}`); in the OpenAPI
    // document an `allOf` of `PortInfo` and the two fields below.
    #[serde(flatten)]
    pub published: PublishedPort,
    /// Allocated node port (NodePort/LoadBalancer services).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_port: Option<u16>,
    /// Where to reach it from inside the cluster (`http://<service>.<ns>:<port>/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContainerState {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: i32,
    /// `running`, `waiting` or `terminated`.
    pub state: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Resource limits (`cpu`, `memory`, …) as quantities.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub limits: BTreeMap<String, String>,
}

/// What a system is doing, computed from the cluster's objects.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemStatus {
    pub guid: String,
    pub name: String,
    pub username: String,
    pub phase: Phase,
    /// Ready replicas.
    pub ready: u32,
    /// Desired replicas.
    pub desired: u32,
    /// Machine-readable cause for Pending/Failed (e.g. `ImagePullBackOff`, `Unschedulable`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The cause in plain words.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// What the cluster or the container runtime said, as it said it: the raw text behind
    /// `message` (dashboards fold it away; empty when there is none).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
    pub ports: Vec<PortStatus>,
    /// The first published port's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// RFC 3339 creation time of the Deployment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created: String,
    #[serde(default)]
    pub age_seconds: u64,
    /// What the pod asked for (from the `tycho.io/resources` annotation).
    #[serde(default)]
    pub resources: Resources,
    #[serde(default)]
    pub containers: Vec<ContainerState>,
    /// Name of the Deployment (every object's name starts with it).
    #[serde(default)]
    pub object_name: String,
    /// The Service's address (load balancer ingress, else cluster IP); empty without a Service.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// The port Tycho's proxy serves at the system's prefix; absent when nothing is published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<crate::ConnectTarget>,
    /// Where the owner opens the system in a browser: the server's public URL and the connect
    /// prefix (absolute). Absent when the system publishes no port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_url: Option<String>,
    /// RFC 3339 time of the last request through the proxy; empty when there was none.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub last_activity: String,
    // The policy's lifetimes (written by the server's lifetime task, read by every replica).
    /// RFC 3339 time the system will be deleted, set the policy's `warn_before` ahead of it;
    /// empty while no cull is near. A keepalive (or a request through the proxy) moves an
    /// idle cull; a maximum lifetime stays.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cull_at: String,
    /// Why it will be culled at `cull_at`: `idle` or `max_lifetime`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cull_reason: String,
    /// The warning in plain words, for the owner.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub warning: String,
    /// RFC 3339 time the lifetime task first saw every replica ready (the start timeout no
    /// longer applies); empty before, or when no lifetime is set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ready_at: String,
    /// The file's own, shorter lifetimes (`x-tycho: {lifetime: …}`), as written; they apply
    /// where they shorten the operator's (never longer, never one the policy leaves off).
    #[serde(default, skip_serializing_if = "FileLifetime::is_empty")]
    pub lifetime: FileLifetime,
}

/// `x-tycho: {lifetime: {idle_timeout, max_lifetime}}` of a system's file (durations as
/// written, e.g. `30m`; empty: not asked).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileLifetime {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub idle_timeout: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max_lifetime: String,
}

impl FileLifetime {
    pub fn is_empty(&self) -> bool {
        self.idle_timeout.is_empty() && self.max_lifetime.is_empty()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemList {
    pub systems: Vec<SystemStatus>,
}

/// `DELETE /api/v1/systems/{guid}`: 202 with this body while objects are terminating, 200 when
/// nothing is left but volumes were kept or deleted (204, no body, when there were none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteResponse {
    pub guid: String,
    /// `Terminating` while objects terminate; absent once nothing is left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// The system's volumes that were kept (the default; `tycho volumes` lists them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<crate::volumes::VolumeRef>,
    /// The system's volumes that were deleted (`?volumes=delete`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deleted: Vec<crate::volumes::VolumeRef>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClusterHealth {
    /// A cluster configuration was found.
    pub configured: bool,
    /// The last probe reached the API server.
    pub reachable: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// `/healthz` and `/readyz`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok`, or `degraded` when no cluster is reachable.
    pub status: String,
    pub version: String,
    pub cluster: ClusterHealth,
}

/// Who the server thinks the caller is: `GET /api/v1/whoami`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhoAmI {
    pub username: String,
    pub admin: bool,
}

/// How one may sign in here: `GET /api/v1/signin` (no credentials needed). The dashboard shows
/// "Sign in with <name>" when `oidc` is set.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignInOptions {
    /// Single sign-on at an OIDC issuer, when the server has a client there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oidc: Option<OidcSignIn>,
}

/// Sign-in at the OIDC issuer: open `login_url` in the browser (it comes back to the dashboard
/// with a token).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OidcSignIn {
    /// The issuer's name for the button.
    pub name: String,
    pub login_url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_port_status_carries_the_published_port_inline() {
        let status = PortStatus {
            published: PublishedPort {
                service: "web".into(),
                container_port: 8080,
                port: 80,
                protocol: "TCP".into(),
            },
            node_port: Some(30080),
            url: Some("http://web.ns.svc:80/".into()),
        };
        let wire = serde_json::to_string(&status).unwrap();
        assert_eq!(
            wire,
            r#"{"service":"web","container_port":8080,"port":80,"protocol":"TCP","node_port":30080,"url":"http://web.ns.svc:80/"}"#
        );
        assert_eq!(serde_json::from_str::<PortStatus>(&wire).unwrap(), status);
        let bare = PortStatus {
            node_port: None,
            url: None,
            ..status
        };
        let wire = serde_json::to_string(&bare).unwrap();
        assert_eq!(
            wire,
            r#"{"service":"web","container_port":8080,"port":80,"protocol":"TCP"}"#
        );
        assert_eq!(serde_json::from_str::<PortStatus>(&wire).unwrap(), bare);
    }
}
