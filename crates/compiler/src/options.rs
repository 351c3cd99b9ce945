//! What the caller decides: naming, the request env and the operator's policy.
//!
//! Options come in through [`CompileOptions`]; the compiler reads no globals, clock or randomness.
//! Every field has a default so a JSON/YAML policy file only needs the keys it changes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
/// The policy's resource blocks are the wire's resources: CPU and memory as Kubernetes
/// quantities (`"500m"`, `"2Gi"`; empty means "no value") and a GPU count.
pub use tycho_api::Resources;

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
    /// CIDRs allowed to reach the published ports (the compat API's `clients`). They may only
    /// narrow the policy's `network.ingress_cidrs`: one outside all of those is dropped with a
    /// warning, and when any is given they replace the policy's list.
    pub client_cidrs: Vec<String>,
    /// The port Tycho's proxy serves at `/connect/<guid>/` (the compat API's `services:
    /// {name: {port}}`); else the file's `x-tycho: {connect: …}`, else the first published TCP port.
    pub primary: Option<PrimaryPort>,
    /// The active Compose profiles (`--profile`); when empty, the env's `COMPOSE_PROFILES`.
    /// Services that list profiles run only when one is active; `*` activates all.
    pub profiles: Vec<String>,
    pub policy: Policy,
}

/// A published port of one compose service: `port` is its container port or its Service port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrimaryPort {
    pub service: String,
    pub port: u16,
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
            primary: None,
            profiles: Vec::new(),
            policy: Policy::default(),
        }
    }
}

/// The operator's rules: defaults, caps and what is allowed beyond the secure baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Policy {
    // The three resource blocks refuse unknown keys like the rest of the policy, although
    // `Resources` itself (read from annotations and status) accepts them.
    /// Resources for a container that asks for none.
    #[serde(deserialize_with = "crate::strict_keys::deserialize")]
    pub default_resources: Resources,
    /// Caps per container: a request or limit above these is an error naming the field.
    #[serde(deserialize_with = "crate::strict_keys::deserialize")]
    pub max_resources: Resources,
    /// Caps for the whole system: what all its containers may use together (each container's
    /// limit, else its request, else `default_resources`), times the replicas.
    #[serde(deserialize_with = "crate::strict_keys::deserialize")]
    pub max_pod_resources: Resources,
    /// Most services (containers) one file may define.
    pub max_services: u32,
    /// Most ports one system may publish on its Service (a range counts each port).
    pub max_published_ports: u32,
    /// Most replicas a system may ask for (`deploy.replicas`, `scale`).
    pub max_replicas: u32,
    /// Largest claim one named volume may ask for (a Kubernetes quantity; empty: no cap).
    pub max_volume_size: String,
    /// Largest sum of the claims of one system (empty: no cap).
    pub max_total_volume_size: String,
    /// Largest `tmpfs` size (memory-backed; empty: no cap). A tmpfs without a size is bounded
    /// by its container's memory limit.
    pub max_tmpfs_size: String,
    /// Largest `shm_size` (memory-backed; empty: no cap).
    pub max_shm_size: String,
    /// Most bytes of files one system may mount from those sent with its compose file
    /// (bind-mounted files and folders and configs together; secrets apart). Kubernetes keeps
    /// at most 1Mi in one ConfigMap or Secret, which caps this too.
    pub max_files_size: String,
    /// Longest `stop_grace_period`, in seconds.
    pub max_stop_grace_period_seconds: u32,
    /// The extended resource a GPU request becomes, e.g. `nvidia.com/gpu`.
    pub gpu_resource_name: String,
    /// Host path prefixes that bind mounts may use. Empty: bind mounts are refused.
    pub allowed_host_paths: Vec<String>,
    /// Existing claims a file may mount (`pvc://CLAIM[/SUBPATH]`, `external:` volumes). Empty
    /// (the default): none. An entry `CLAIM` allows that claim whole and every subpath of it;
    /// `CLAIM/SUB/PATH` allows `SUB/PATH` and the directories below it, not the claim's root.
    /// `{username}` in the subpath is the compiling user's name, and only a name that is one
    /// plain path segment (no `/`, not `.` or `..`) matches; segments compare exactly (no
    /// wildcards), so `home/{username}` lets alice mount `home/alice` and `home/alice/x` only.
    pub allowed_claims: Vec<String>,
    pub allow_privileged: bool,
    pub allow_cap_add: bool,
    /// The Pod Security Standard containers are shaped to: `restricted` (the default) or
    /// `baseline`, which lets the official images that start as root (postgres, nginx, mysql…)
    /// run.
    pub profile: SecurityProfile,
    /// Keep Compose's `depends_on` order with native sidecar containers (Kubernetes ≥ 1.29).
    /// `false` for older clusters: all services start together, with a warning.
    pub sidecars: bool,
    /// Allow containers to run as root under the `restricted` profile too (otherwise
    /// `runAsNonRoot: true` is set). Kept for older policies; `profile: baseline` is the way.
    pub allow_root: bool,
    pub service_type: ServiceType,
    pub network: NetworkPolicyOptions,
    /// How users reach a system: Tycho's proxy (default), Ambassador, or not at all.
    pub connect: ConnectOptions,
    /// Kept for old policies: `enabled: true` means `connect: {mode: ambassador}`.
    pub ambassador: AmbassadorOptions,
    /// The image of a service that has `build:` but no `image:`, for teams whose CI builds and
    /// pushes them: `{project}` is the system's name, `{service}` the service's, e.g.
    /// `registry.example.org/{project}-{service}:latest`. Empty: such a service is an error.
    pub image_template: String,
    /// Storage class for claims of named volumes; the cluster default when empty.
    pub storage_class: String,
    /// Size of a claim for a named volume that does not say (`x-tycho-size` or `driver_opts.size`).
    pub default_volume_size: String,
    /// Each user's home claim, mounted where a file asks (`x-tycho: {home: /home/jovyan}`);
    /// absent (the default): no homes, and a file that asks for one is an error.
    pub home: Option<HomePolicy>,
    /// How long a claim kept by a delete (a system's volume, a reused one) lives on after its
    /// system was deleted, e.g. `30d`; the server's sweep removes it then (a claim a system
    /// mounts again is kept). Absent (the default): forever. Homes never expire.
    pub volume_ttl: Option<crate::lifetime::PolicyDuration>,
    /// Per-user limits on systems, CPU, memory and GPUs (the server enforces them at start).
    pub quota: crate::quota::QuotaPolicy,
    /// Idle culling, maximum lifetime and start timeout (the server's singleton task).
    pub lifetime: crate::lifetime::LifetimePolicy,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            default_resources: Resources {
                cpu: "250m".into(),
                memory: "256Mi".into(),
                gpus: 0,
            },
            max_resources: Resources {
                cpu: "8".into(),
                memory: "32Gi".into(),
                gpus: 1,
            },
            max_pod_resources: Resources {
                cpu: "16".into(),
                memory: "64Gi".into(),
                gpus: 2,
            },
            max_services: 20,
            // A port range may expand to 100 ports (see load::ports).
            max_published_ports: 100,
            max_replicas: 10,
            max_volume_size: "100Gi".into(),
            max_total_volume_size: "500Gi".into(),
            max_tmpfs_size: "2Gi".into(),
            // Enough for the shared memory of data-science frameworks (PyTorch, Spark).
            max_shm_size: "4Gi".into(),
            max_files_size: "1Mi".into(),
            max_stop_grace_period_seconds: 300,
            gpu_resource_name: "nvidia.com/gpu".into(),
            allowed_host_paths: Vec::new(),
            allowed_claims: Vec::new(),
            allow_privileged: false,
            allow_cap_add: false,
            profile: SecurityProfile::Restricted,
            sidecars: true,
            allow_root: false,
            service_type: ServiceType::ClusterIP,
            network: NetworkPolicyOptions::default(),
            connect: ConnectOptions::default(),
            ambassador: AmbassadorOptions::default(),
            image_template: String::new(),
            storage_class: String::new(),
            default_volume_size: "1Gi".into(),
            home: None,
            volume_ttl: None,
            quota: Default::default(),
            lifetime: Default::default(),
        }
    }
}

impl Policy {
    /// May a container run as root: under `baseline`, or where `allow_root` says so.
    pub fn root_allowed(&self) -> bool {
        self.allow_root || self.profile == SecurityProfile::Baseline
    }

    /// The connect mode in effect: `connect.mode`, except that the old `ambassador: {enabled:
    /// true}` turns the default `proxy` into `ambassador`.
    pub fn connect_mode(&self) -> ConnectMode {
        match self.connect.mode {
            ConnectMode::Proxy if self.ambassador.enabled => ConnectMode::Ambassador,
            mode => mode,
        }
    }
}

/// `home: {size, storage_class, mount_path, access_mode}`: one claim per user, created by the
/// first start that asks for it, mounted by every later one, never deleted with a system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HomePolicy {
    /// The claim's size (a Kubernetes quantity).
    pub size: String,
    /// Its storage class; empty: the policy's `storage_class` (else the cluster's default).
    pub storage_class: String,
    /// Where `x-tycho: {home: true}` mounts it; empty: a file must name the path.
    pub mount_path: String,
    /// `ReadWriteOnce` (the default): one running system of the user mounts it at a time, a
    /// second start is refused; `ReadWriteMany` (a shared file system) lets several.
    pub access_mode: AccessMode,
}

impl Default for HomePolicy {
    fn default() -> Self {
        HomePolicy {
            size: "10Gi".into(),
            storage_class: String::new(),
            mount_path: String::new(),
            access_mode: AccessMode::ReadWriteOnce,
        }
    }
}

/// A claim's access mode, as Kubernetes spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AccessMode {
    #[default]
    ReadWriteOnce,
    ReadWriteOncePod,
    ReadWriteMany,
}

impl AccessMode {
    pub fn as_str(self) -> &'static str {
        match self {
            AccessMode::ReadWriteOnce => "ReadWriteOnce",
            AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
            AccessMode::ReadWriteMany => "ReadWriteMany",
        }
    }

    /// Whether one system at a time may mount a claim of this mode (Tycho holds RWO to that,
    /// although Kubernetes lets pods on one node share it).
    pub fn single_system(mode: &str) -> bool {
        mode == "ReadWriteOnce" || mode == "ReadWriteOncePod"
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ConnectOptions {
    pub mode: ConnectMode,
    /// The Ingress each system gets in `ingress` mode.
    pub ingress: IngressOptions,
    /// The Gateway API `HTTPRoute` each system gets in `gateway` mode.
    pub gateway: GatewayOptions,
}

/// `connect: {mode: ingress, ingress: {…}}`: one `networking.k8s.io/v1` Ingress per system.
///
/// `host` and `path` are templates: `{guid}`, `{name}` (the system name) and `{user}` (the owner
/// as a DNS label: lowercase letters, digits and `-`) are replaced; nothing else is.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngressOptions {
    /// `spec.ingressClassName`; the cluster's default class when empty.
    pub class: String,
    /// The rule's host, e.g. `{guid}.apps.example.org` or a fixed `apps.example.org`; empty:
    /// every host.
    pub host: String,
    /// The path prefix (the app's `TYCHO_BASE_PATH`). Empty: `/` when the host holds `{guid}`,
    /// else `/connect/{guid}/`.
    pub path: String,
    /// A TLS Secret (in the systems' namespace) for the host; empty: no TLS section.
    pub tls_secret: String,
    /// Annotations for the Ingress controller, copied as given.
    pub annotations: BTreeMap<String, String>,
}

/// `connect: {mode: gateway, gateway: {…}}`: one `gateway.networking.k8s.io/v1` HTTPRoute per
/// system, attached to the operator's Gateway(s). `hostnames` and `path` are templates as in
/// [`IngressOptions`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayOptions {
    /// The Gateways (or their listeners) the route attaches to; at least one.
    pub parent_refs: Vec<GatewayParent>,
    /// The route's hostnames, e.g. `{guid}.apps.example.org`; empty: the listeners' hostnames.
    pub hostnames: Vec<String>,
    /// The path prefix (the app's `TYCHO_BASE_PATH`). Empty: `/` when a hostname holds
    /// `{guid}`, else `/connect/{guid}/`.
    pub path: String,
}

/// A Gateway a route attaches to.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GatewayParent {
    pub name: String,
    /// The Gateway's namespace; empty: the systems' namespace.
    pub namespace: String,
    /// One listener of the Gateway; empty: every listener that admits the route.
    pub section_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectMode {
    /// Tycho's own authenticated reverse proxy serves the system at `/connect/<guid>/`.
    #[default]
    Proxy,
    /// An Ambassador `Mapping` on the Service under `/private/<app>/<user>/<guid>/`, as the
    /// original Tycho did.
    Ambassador,
    /// No way in through Tycho: no connect target; the base path is `/`.
    None,
    /// The operator's Ingress controller: an Ingress per system (`connect.ingress`).
    Ingress,
    /// The operator's Gateway API implementation: an HTTPRoute per system (`connect.gateway`).
    Gateway,
}

impl ConnectMode {
    /// Whether users come in through the operator's own edge (an Ingress or Gateway controller)
    /// rather than through Tycho's server.
    pub fn is_edge(self) -> bool {
        matches!(self, ConnectMode::Ingress | ConnectMode::Gateway)
    }
}

/// The Pod Security Standards a system's containers are built to pass.
/// <https://kubernetes.io/docs/concepts/security/pod-security-standards/>
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SecurityProfile {
    /// Non-root, every capability dropped, no privilege escalation, RuntimeDefault seccomp.
    #[default]
    Restricted,
    /// Root allowed, with Kubernetes' default capabilities less `NET_RAW` (what Docker gives
    /// a container, which root images expect); still no privilege escalation, host namespaces
    /// or host paths beyond the policy's, and RuntimeDefault seccomp.
    Baseline,
}

impl SecurityProfile {
    /// What the containers' `capabilities.drop` says.
    pub fn dropped_capabilities(self) -> Vec<String> {
        match self {
            SecurityProfile::Restricted => vec!["ALL".into()],
            // Not in the baseline standard's allowed list, but in the runtime's defaults.
            SecurityProfile::Baseline => vec!["NET_RAW".into()],
        }
    }
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
    /// Sources allowed to reach the published ports, as CIDRs (default none: the Tycho server
    /// is the way in). A request's `client_cidrs` may only narrow these.
    pub ingress_cidrs: Vec<String>,
    /// Namespaces (e.g. the ingress controller's) whose pods may reach the published ports.
    pub ingress_namespaces: Vec<String>,
    /// The Tycho server's pods, admitted to the published ports (the proxy runs there).
    pub server_pods: ServerPods,
    pub egress: EgressMode,
}

impl Default for NetworkPolicyOptions {
    fn default() -> Self {
        NetworkPolicyOptions {
            enabled: true,
            ingress_cidrs: Vec::new(),
            ingress_namespaces: Vec::new(),
            server_pods: ServerPods::default(),
            egress: EgressMode::Open,
        }
    }
}

/// How the NetworkPolicy finds the Tycho server's pods (see `kubernetes/deployment.yaml`).
/// System pods carry `executor: tycho`, and the selector requires that label to be absent, so
/// a user's system named `tycho` never matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerPods {
    /// Labels of the server's pods. Empty: the server is not admitted.
    pub labels: BTreeMap<String, String>,
    /// The server's namespace; empty means the systems' own namespace.
    pub namespace: String,
}

impl Default for ServerPods {
    fn default() -> Self {
        ServerPods {
            labels: BTreeMap::from([
                ("app.kubernetes.io/name".to_string(), "tycho".to_string()),
                ("app.kubernetes.io/component".to_string(), "api".to_string()),
            ]),
            namespace: String::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The policy's resource blocks refuse a key they do not know, in serde's words and at the
    /// key, as every other block of the policy does.
    #[test]
    fn resource_blocks_refuse_unknown_keys() {
        for block in ["default_resources", "max_resources", "max_pod_resources"] {
            let error = crate::parse_policy(&format!("{block}:\n  cpus: 2\n")).unwrap_err();
            assert_eq!(
                error,
                "invalid policy: unknown field `cpus`, expected one of `cpu`, `memory`, `gpus`"
            );
            let json = format!(r#"{{"{block}": {{"cpu": "1", "gpu": 1}}}}"#);
            let error = serde_json::from_str::<Policy>(&json).unwrap_err();
            assert_eq!(
                error.to_string(),
                format!(
                    "unknown field `gpu`, expected one of `cpu`, `memory`, `gpus` at line 1 column {}",
                    block.len() + 23
                )
            );
        }
        let policy = crate::parse_policy("max_resources:\n  gpus: 3\n").unwrap();
        assert_eq!(policy.max_resources.gpus, 3);
        // The keys left out keep their defaults (the block's own `Default`, not the policy's).
        assert_eq!(policy.max_resources.cpu, "");
    }

    #[test]
    fn home_and_volume_ttl_are_read_strictly() {
        let policy = crate::parse_policy(
            "home:\n  size: 5Gi\n  mount_path: /home/jovyan\n  access_mode: ReadWriteMany\nvolume_ttl: 1d12h\n",
        )
        .unwrap();
        let home = policy.home.expect("home");
        assert_eq!(home.size, "5Gi");
        assert_eq!(home.mount_path, "/home/jovyan");
        assert_eq!(home.access_mode, AccessMode::ReadWriteMany);
        assert_eq!(policy.volume_ttl.map(|t| t.seconds()), Some(129_600));
        assert_eq!(Policy::default().home, None);
        assert_eq!(Policy::default().volume_ttl, None);
        let error = crate::parse_policy("home:\n  mountpath: /home\n").unwrap_err();
        assert!(error.contains("unknown field `mountpath`"), "{error}");
        for (bad, says) in [
            ("0d", "longer than 0"),
            ("thirty days", "is not a duration"),
            ("1w", "is not a duration"),
            ("", "is not a duration"),
            ("d", "is not a duration"),
        ] {
            let error = crate::parse_policy(&format!("volume_ttl: \"{bad}\"\n")).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
        // Shown as written (`GET /api/v1/policy`).
        let json = serde_json::to_value(crate::parse_policy("volume_ttl: 30d\n").unwrap()).unwrap();
        assert_eq!(json["volume_ttl"], "30d");
    }
}
