//! What the caller decides: naming, the request env and the operator's policy.
//!
//! Options come in through [`CompileOptions`]; the compiler reads no globals, clock or randomness.
//! Every field has a default so a JSON/YAML policy file only needs the keys it changes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CompileOptions {
    /// System name (DNS-1123 label, at most [`crate::MAX_SYSTEM_NAME`] characters). When empty,
    /// the compose top-level `name:` is used, then `"system"`.
    pub name: String,
    /// Unique id of this instance: lowercase letters and digits, at most 32 characters.
    /// When empty, [`crate::content_guid`] derives a stable one from the input.
    pub guid: String,
    /// Who the system belongs to; copied into the `username` label (sanitised) and an annotation.
    pub username: String,
    /// Namespace written into the objects' metadata; left out when empty.
    pub namespace: String,
    /// The request env: values for `$VAR` interpolation and for `environment: [NAME]` entries.
    pub env: BTreeMap<String, String>,
    /// Extra CIDRs allowed to reach the published ports (the compat API's `clients`).
    pub client_cidrs: Vec<String>,
    pub policy: Policy,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            name: String::new(),
            guid: String::new(),
            username: "tycho".into(),
            namespace: String::new(),
            env: BTreeMap::new(),
            client_cidrs: Vec::new(),
            policy: Policy::default(),
        }
    }
}

/// The operator's rules: defaults, caps and what is allowed beyond the secure baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    /// Resources for a container that asks for none.
    pub default_resources: ResourceSpec,
    /// Caps: a request or limit above these is an error naming the field.
    pub max_resources: ResourceSpec,
    /// The extended resource a GPU request becomes, e.g. `nvidia.com/gpu`.
    pub gpu_resource_name: String,
    /// Host path prefixes that bind mounts may use. Empty: bind mounts are refused.
    pub allowed_host_paths: Vec<String>,
    pub allow_privileged: bool,
    pub allow_cap_add: bool,
    /// Allow containers to run as root (otherwise `runAsNonRoot: true` is set).
    pub allow_root: bool,
    pub service_type: ServiceType,
    pub network: NetworkPolicyOptions,
    pub ambassador: AmbassadorOptions,
    /// Storage class for claims of named volumes; the cluster default when empty.
    pub storage_class: String,
    /// Size of a claim for a named volume that does not say (`x-tycho-size` or `driver_opts.size`).
    pub default_volume_size: String,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            default_resources: ResourceSpec {
                cpu: "250m".into(),
                memory: "256Mi".into(),
                gpus: 0,
            },
            max_resources: ResourceSpec {
                cpu: "8".into(),
                memory: "32Gi".into(),
                gpus: 1,
            },
            gpu_resource_name: "nvidia.com/gpu".into(),
            allowed_host_paths: Vec::new(),
            allow_privileged: false,
            allow_cap_add: false,
            allow_root: false,
            service_type: ServiceType::ClusterIP,
            network: NetworkPolicyOptions::default(),
            ambassador: AmbassadorOptions::default(),
            storage_class: String::new(),
            default_volume_size: "1Gi".into(),
        }
    }
}

/// CPU and memory as Kubernetes quantities (`"500m"`, `"2Gi"`); empty means "no value".
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResourceSpec {
    pub cpu: String,
    pub memory: String,
    pub gpus: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ServiceType {
    #[default]
    ClusterIP,
    NodePort,
    LoadBalancer,
}

impl ServiceType {
    pub fn as_str(self) -> &'static str {
        match self {
            ServiceType::ClusterIP => "ClusterIP",
            ServiceType::NodePort => "NodePort",
            ServiceType::LoadBalancer => "LoadBalancer",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NetworkPolicyOptions {
    /// Write a NetworkPolicy for each system.
    pub enabled: bool,
    /// Sources allowed to reach the published ports, as CIDRs.
    pub ingress_cidrs: Vec<String>,
    /// Namespaces (e.g. the ingress controller's) whose pods may reach the published ports.
    pub ingress_namespaces: Vec<String>,
    pub egress: EgressMode,
}

impl Default for NetworkPolicyOptions {
    fn default() -> Self {
        NetworkPolicyOptions {
            enabled: true,
            // A launched notebook has to be reachable; operators narrow this to their proxy.
            ingress_cidrs: vec!["0.0.0.0/0".into()],
            ingress_namespaces: Vec::new(),
            egress: EgressMode::Open,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EgressMode {
    /// Anything may be reached (DNS included).
    #[default]
    Open,
    /// Only DNS (port 53) and the system's own pods.
    DnsOnly,
    /// Only the system's own pods; no DNS.
    None,
}

/// Ambassador `Mapping` annotations on the Service, as the original Tycho wrote them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmbassadorOptions {
    pub enabled: bool,
    /// Rewrite requests to the `/private/<app>/<user>/<guid>/` prefix itself (the app is served
    /// under that path), instead of to `/`.
    pub rewrite_to_prefix: bool,
    /// Rewrite to this path instead (wins over `rewrite_to_prefix`).
    pub rewrite_target: String,
}
