//! The compose keys the loader knows, per section: translated (empty reason, handled by the
//! loader) or accepted but not translated, with the reason shown to the user. A key in none of
//! these tables is unknown (an error with a "did you mean" hint).
//!
//! A table of keys, not the catalog: "catalog" in Tycho means the ready-made systems.

const ONE_POD: &str = "all services share one pod and reach each other by service name";

pub const TOP_LEVEL: &[(&str, &str)] = &[
    ("version", ""),
    ("name", ""),
    ("services", ""),
    ("volumes", ""),
    ("networks", ONE_POD),
    ("configs", ""),
    ("secrets", ""),
    // Applied before the file is read (load::include).
    ("include", ""),
    ("models", "AI models are not provisioned"),
];

/// Tycho's own top-level `x-tycho:` block.
pub const X_TYCHO: &[(&str, &str)] = &[
    ("title", ""),
    ("description", ""),
    ("connect", ""),
    ("profile", ""),
    ("home", ""),
    ("lifetime", ""),
];

/// `x-tycho: {lifetime: …}`: a file's own, shorter lifetimes.
pub const X_TYCHO_LIFETIME: &[(&str, &str)] = &[("idle_timeout", ""), ("max_lifetime", "")];

/// A volume's `x-tycho:`: whether the next start of the same system mounts it again.
pub const X_TYCHO_VOLUME: &[(&str, &str)] = &[("reuse", "")];

/// `x-tycho: {connect: …}`: which port Tycho's proxy serves and how it rewrites the path.
pub const X_TYCHO_CONNECT: &[(&str, &str)] = &[("service", ""), ("port", ""), ("rewrite", "")];

pub const SERVICE: &[(&str, &str)] = &[
    // Translated.
    ("image", ""),
    // Applied before the service is read (load::extends).
    ("extends", ""),
    ("command", ""),
    ("entrypoint", ""),
    ("environment", ""),
    ("env", ""),
    ("ports", ""),
    ("expose", ""),
    ("volumes", ""),
    ("tmpfs", ""),
    ("shm_size", ""),
    ("deploy", ""),
    ("cpus", ""),
    ("mem_limit", ""),
    ("mem_reservation", ""),
    ("gpus", ""),
    ("healthcheck", ""),
    ("labels", ""),
    ("annotations", ""),
    ("working_dir", ""),
    ("user", ""),
    ("read_only", ""),
    ("privileged", ""),
    ("cap_add", ""),
    ("cap_drop", ""),
    ("stdin_open", ""),
    ("tty", ""),
    ("extra_hosts", ""),
    ("pull_policy", ""),
    ("stop_grace_period", ""),
    ("depends_on", ""),
    ("restart", ""),
    ("scale", ""),
    ("securityContext", ""),
    ("ext", ""),
    ("env_file", ""),
    ("profiles", ""),
    ("configs", ""),
    ("secrets", ""),
    // Accepted, not translated.
    (
        "build",
        "images are not built on the cluster; push the image and name it in `image:`",
    ),
    ("container_name", "containers are named after their service"),
    ("hostname", ONE_POD),
    ("domainname", ONE_POD),
    ("networks", ONE_POD),
    ("network_mode", ONE_POD),
    ("links", ONE_POD),
    ("external_links", ONE_POD),
    ("mac_address", ONE_POD),
    ("dns", "the cluster's DNS is used"),
    ("dns_opt", "the cluster's DNS is used"),
    ("dns_search", "the cluster's DNS is used"),
    ("label_file", "labels are read from the compose file only"),
    ("logging", "logs go to the cluster's log collection"),
    ("devices", "host devices are not exposed to pods"),
    (
        "device_cgroup_rules",
        "host devices are not exposed to pods",
    ),
    ("platform", "the cluster schedules on its own nodes"),
    ("runtime", "the cluster's container runtime is used"),
    ("isolation", "the cluster's container runtime is used"),
    ("init", "no init process is injected"),
    ("ipc", "pods do not share IPC namespaces with the host"),
    ("pid", "pods do not share the host's PID namespace"),
    ("uts", "pods do not share the host's UTS namespace"),
    ("userns_mode", "user namespaces are set by the cluster"),
    ("cgroup", "cgroups are managed by the cluster"),
    ("cgroup_parent", "cgroups are managed by the cluster"),
    (
        "security_opt",
        "seccomp is RuntimeDefault; other options are not mapped",
    ),
    ("sysctls", "sysctls need cluster-level allow-listing"),
    ("ulimits", "ulimits are set by the container runtime"),
    ("storage_opt", "storage options are set by the cluster"),
    (
        "oom_kill_disable",
        "memory limits are enforced by the cluster",
    ),
    ("oom_score_adj", "memory limits are enforced by the cluster"),
    ("mem_swappiness", "swap is managed by the cluster"),
    ("memswap_limit", "swap is managed by the cluster"),
    ("pids_limit", "PID limits are set by the cluster"),
    ("cpu_count", "use `cpus` or deploy.resources"),
    ("cpu_percent", "use `cpus` or deploy.resources"),
    ("cpu_shares", "use `cpus` or deploy.resources"),
    ("cpu_period", "use `cpus` or deploy.resources"),
    ("cpu_quota", "use `cpus` or deploy.resources"),
    ("cpu_rt_runtime", "use `cpus` or deploy.resources"),
    ("cpu_rt_period", "use `cpus` or deploy.resources"),
    ("cpuset", "use `cpus` or deploy.resources"),
    ("blkio_config", "block I/O limits are not available to pods"),
    ("stop_signal", "Kubernetes stops containers with SIGTERM"),
    ("group_add", "supplemental groups are not mapped"),
    ("attach", "logs are read with the cluster's tools"),
    ("develop", "compose watch is a local development feature"),
    (
        "credential_spec",
        "Windows credential specs are not supported",
    ),
    (
        "volumes_from",
        "mount the same volume in both services instead",
    ),
    ("post_start", "lifecycle hooks are not mapped"),
    ("pre_stop", "lifecycle hooks are not mapped"),
    ("provider", "compose providers are not run"),
    (
        "use_api_socket",
        "the Docker API socket does not exist on a cluster",
    ),
    ("models", "AI models are not provisioned"),
];

pub const DEPLOY: &[(&str, &str)] = &[
    ("resources", ""),
    ("replicas", ""),
    ("mode", ""),
    (
        "labels",
        "deploy labels have no place on the pod; use service labels",
    ),
    ("placement", "node placement is the cluster scheduler's"),
    (
        "update_config",
        "Deployments roll out with their own strategy",
    ),
    (
        "rollback_config",
        "Deployments roll out with their own strategy",
    ),
    ("restart_policy", "pods of a Deployment always restart"),
    ("endpoint_mode", "the Service provides the endpoint"),
];

pub const RESOURCE_AMOUNTS: &[(&str, &str)] = &[
    ("cpus", ""),
    ("memory", ""),
    ("gpus", ""),
    ("devices", ""),
    ("pids", "PID limits are set by the cluster"),
    ("generic_resources", "generic resources are not mapped"),
];

pub const DEVICE: &[(&str, &str)] = &[
    ("capabilities", ""),
    ("count", ""),
    ("driver", ""),
    (
        "device_ids",
        "specific devices cannot be chosen; a count is requested",
    ),
    ("options", "driver options are not mapped"),
];

pub const HEALTHCHECK: &[(&str, &str)] = &[
    ("test", ""),
    ("interval", ""),
    ("timeout", ""),
    ("retries", ""),
    ("start_period", ""),
    ("disable", ""),
    ("start_interval", "probes run at `interval` from the start"),
];

pub const PORT: &[(&str, &str)] = &[
    ("target", ""),
    ("published", ""),
    ("protocol", ""),
    (
        "host_ip",
        "ports are published on the system's Service, not on a host address",
    ),
    ("mode", "ports are published on the system's Service"),
    ("app_protocol", ""),
    ("name", ""),
];

pub const MOUNT: &[(&str, &str)] = &[
    ("type", ""),
    ("source", ""),
    ("target", ""),
    ("read_only", ""),
    ("volume", ""),
    ("tmpfs", ""),
    ("bind", ""),
    (
        "consistency",
        "mount consistency is a Docker Desktop option",
    ),
    ("image", "image volumes are not supported"),
];

pub const VOLUME: &[(&str, &str)] = &[
    ("driver", "claims use the cluster's storage class"),
    ("driver_opts", ""),
    ("external", ""),
    ("labels", ""),
    ("name", ""),
];

pub const DEPENDS_ON: &[(&str, &str)] = &[
    ("condition", ""),
    ("restart", "services start together in one pod"),
    ("required", ""),
];

pub const SECURITY_CONTEXT: &[(&str, &str)] = &[
    ("runAsUser", ""),
    ("runAsGroup", ""),
    ("fsGroup", ""),
    ("runAsNonRoot", ""),
    ("privileged", ""),
    ("allowPrivilegeEscalation", ""),
    ("readOnlyRootFilesystem", ""),
];
