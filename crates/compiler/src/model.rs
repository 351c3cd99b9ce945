//! The typed compose model: what a system asks for, independent of Kubernetes.
//!
//! Every item keeps the [`Pos`] of the text it came from so later checks (in the planner) can
//! still point at the right line.

/// Where something was written: JSON Pointer plus 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Pos {
    pub path: String,
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct System {
    /// Top-level `name:`, if any.
    pub name: Option<String>,
    pub services: Vec<Service>,
    /// Top-level `volumes:` declarations.
    pub volumes: Vec<VolumeDecl>,
    /// Accepted keys that are not translated, with the reason.
    pub not_translated: Vec<(String, Pos, String)>,
    /// The top-level `x-tycho: {connect: …}`.
    pub connect: ConnectSpec,
    /// `x-tycho: {profile: baseline}`: the file says its images start as root, so it runs only
    /// under the operator's `baseline` profile; where it says so.
    pub needs_baseline: Option<Pos>,
    /// Files sent with the compose file that services mount or read as configs and secrets.
    pub stored: StoredFiles,
    /// `x-tycho: {home: …}`: the user's home claim, mounted in every service.
    pub home: Option<HomeRequest>,
    /// `x-tycho: {lifetime: …}`: shorter lifetimes than the policy's, for this system.
    pub lifetime: crate::lifetime::LifetimeRequest,
}

/// The top-level `x-tycho: {home: PATH}` (or `home: true`: at the policy's `home.mount_path`).
/// Top level rather than per service: a system is one pod of one user, and every container of
/// it sees the same home, as every process of a login does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeRequest {
    /// The absolute path asked for; `None`: the policy's.
    pub path: Option<String>,
    pub pos: Pos,
}

/// Where a file sent with the compose file is kept on the cluster: the system's ConfigMap, or
/// its Secret for `secrets:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Store {
    ConfigMap,
    Secret,
}

/// One file kept in a store: its bytes and where the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFile {
    pub bytes: Vec<u8>,
    pub pos: Pos,
}

/// The system's ConfigMap and Secret contents, by key (Kubernetes' `[-._a-zA-Z0-9]+`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredFiles {
    pub config_map: std::collections::BTreeMap<String, StoredFile>,
    pub secret: std::collections::BTreeMap<String, StoredFile>,
}

impl StoredFiles {
    pub fn of(&self, store: Store) -> &std::collections::BTreeMap<String, StoredFile> {
        match store {
            Store::ConfigMap => &self.config_map,
            Store::Secret => &self.secret,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Service {
    pub name: String,
    pub pos: Pos,
    pub image: String,
    /// Overrides the image's ENTRYPOINT (Kubernetes `command`).
    pub entrypoint: Option<Vec<String>>,
    /// Overrides the image's CMD (Kubernetes `args`).
    pub command: Option<Vec<String>>,
    pub environment: Vec<(String, String)>,
    pub ports: Vec<Port>,
    /// Container ports reachable inside the system only.
    pub expose: Vec<Port>,
    pub volumes: Vec<Mount>,
    pub tmpfs: Vec<Tmpfs>,
    pub shm_size: Option<Sized>,
    pub resources: Resources,
    pub replicas: Option<(u32, Pos)>,
    pub healthcheck: Option<Healthcheck>,
    pub liveness_probe: Option<serde_json::Value>,
    pub readiness_probe: Option<serde_json::Value>,
    /// Compose `labels:`/`annotations:`: the pod's annotations, each with where its key is.
    pub labels: Vec<Annotation>,
    pub working_dir: Option<String>,
    pub user: Option<User>,
    pub read_only: bool,
    pub privileged: Option<Pos>,
    pub cap_add: Vec<(String, Pos)>,
    pub cap_drop: Vec<String>,
    pub stdin_open: bool,
    pub tty: bool,
    pub extra_hosts: Vec<(String, String)>,
    pub pull_policy: Option<String>,
    /// Seconds.
    pub stop_grace_period: Option<(i64, Pos)>,
    pub depends_on: Vec<Dependency>,
    pub security_context: SecurityContext,
}

/// One `depends_on` entry: the service this one waits for, and what it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dependency {
    pub service: String,
    pub condition: StartCondition,
    /// Where the entry is (its key or list item).
    pub pos: Pos,
    /// Where `condition:` is, when written.
    pub condition_pos: Option<Pos>,
    /// `required: false`: a dependency that is not there (no such service, or its profile is
    /// not active) is a warning and is dropped, not an error.
    pub required: bool,
}

/// Compose's `depends_on` conditions, weakest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StartCondition {
    /// `service_started` (and the list form): started before its dependents.
    Started,
    /// `service_healthy`: its healthcheck passes before its dependents start.
    Healthy,
    /// `service_completed_successfully`: it runs to completion (exit 0) first.
    CompletedSuccessfully,
}

/// A container port, possibly published on the system's Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Port {
    pub container: u16,
    /// The port on the Service; `None` publishes on the container port (or, for `expose`,
    /// does not publish).
    pub published: Option<u16>,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub source: MountSource,
    pub target: String,
    pub read_only: bool,
    pub subpath: Option<String>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MountSource {
    /// A named volume declared under top-level `volumes:`.
    Named(String),
    /// An existing claim (Tycho's `pvc://claim/subpath`).
    Claim(String),
    /// A host path (bind mount), subject to the policy.
    HostPath(String),
    /// An anonymous volume: scratch space for the pod's lifetime.
    Anonymous,
    /// Files sent with the compose file (a relative bind mount, a config, a secret), mounted
    /// read-only from the system's ConfigMap or Secret.
    Stored(StoredMount),
}

/// Which stored files a mount shows, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMount {
    pub store: Store,
    /// Each file's key in the store and its path below the mount's target (for a single file,
    /// its file name).
    pub items: Vec<(String, String)>,
    /// One file mounted at the target itself (`subPath`), rather than a folder.
    pub single_file: bool,
    /// File mode (`mode:` of a config or secret), else Kubernetes' default 0644.
    pub mode: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tmpfs {
    pub target: String,
    pub size: Option<u64>,
    pub pos: Pos,
}

/// A byte size with where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sized {
    pub bytes: u64,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Resources {
    pub limits: ResourceAmounts,
    pub reservations: ResourceAmounts,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct ResourceAmounts {
    /// Millicores.
    pub cpu: Option<(u64, Pos)>,
    pub memory: Option<(u64, Pos)>,
    pub gpus: Option<(u32, Pos)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Healthcheck {
    pub test: HealthTest,
    pub interval: Option<i64>,
    pub timeout: Option<i64>,
    pub retries: Option<i32>,
    pub start_period: Option<i64>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HealthTest {
    /// `["CMD", …]`: run directly.
    Exec(Vec<String>),
    /// `["CMD-SHELL", "…"]` or a plain string: run through `/bin/sh -c`.
    Shell(String),
    /// `["NONE"]` or `disable: true`.
    Disabled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub uid: i64,
    pub gid: Option<i64>,
    pub pos: Pos,
}

/// Tycho's per-service `securityContext`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityContext {
    pub run_as_user: Option<(i64, Pos)>,
    pub run_as_group: Option<i64>,
    pub fs_group: Option<i64>,
    pub run_as_non_root: Option<(bool, Pos)>,
    pub allow_privilege_escalation: Option<(bool, Pos)>,
    pub read_only_root_filesystem: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct VolumeDecl {
    pub name: String,
    /// `external: true`: an existing claim with this name is mounted instead of a new one.
    pub external: Option<String>,
    /// The claim's size as written (`x-tycho-size` or `driver_opts.size`).
    pub size: Option<(String, Pos)>,
    /// The claim's annotations.
    pub labels: Vec<Annotation>,
    /// `x-tycho: {reuse: true}`: the next start of the same system name by the same user mounts
    /// this claim again (named for user, system and volume instead of the GUID); where written.
    pub reuse: Option<Pos>,
    pub pos: Pos,
}

/// A user's annotation (compose `labels:`) and where it was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub key: String,
    pub value: String,
    pub pos: Pos,
}

/// The file's `x-tycho: {connect: …}`, each value with where it was written.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectSpec {
    pub service: Option<(String, Pos)>,
    pub port: Option<(u16, Pos)>,
    pub rewrite: Option<tycho_api::connect::Rewrite>,
}
