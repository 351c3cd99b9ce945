//! Stable diagnostic codes. Tools match on these, so a code never changes meaning.
//! TY00xx: reading the YAML. TY01xx: compose structure. TY02xx: interpolation.
//! TY03xx: semantic checks. TY04xx: the operator's policy and options.

pub use tycho_yaml::codes::{
    ALIAS_EXPANSION, DUPLICATE_KEY, INPUT_TOO_LARGE, INVALID_MERGE, MULTIPLE_DOCUMENTS,
    NESTING_TOO_DEEP, ROOT_NOT_MAPPING, UNKNOWN_ALIAS, YAML_SYNTAX,
};

pub const UNKNOWN_KEY: &str = "TY0101";
pub const NOT_TRANSLATED: &str = "TY0102";
pub const WRONG_TYPE: &str = "TY0103";
pub const DEPRECATED_ALIAS: &str = "TY0104";
pub const MISSING_KEY: &str = "TY0105";
pub const INVALID_VALUE: &str = "TY0106";

pub const UNSET_VARIABLE: &str = "TY0201";
pub const REQUIRED_VARIABLE: &str = "TY0202";
pub const INVALID_INTERPOLATION: &str = "TY0203";
/// `TYCHO_BASE_PATH` set by the file or the request: Tycho sets it (warning).
pub const RESERVED_VARIABLE: &str = "TY0204";

pub const INVALID_NAME: &str = "TY0301";
pub const NAME_TOO_LONG: &str = "TY0302";
pub const INVALID_PORT: &str = "TY0303";
pub const PORT_CLASH: &str = "TY0304";
pub const UNKNOWN_VOLUME: &str = "TY0305";
pub const UNKNOWN_DEPENDENCY: &str = "TY0306";
pub const INVALID_QUANTITY: &str = "TY0307";
pub const NO_SERVICES: &str = "TY0308";
pub const INVALID_VOLUME: &str = "TY0309";
pub const INVALID_COMMAND: &str = "TY0310";
pub const INVALID_DURATION: &str = "TY0311";
pub const REQUEST_ABOVE_LIMIT: &str = "TY0312";
/// The primary port (options or `x-tycho.connect`) is not a published TCP port.
pub const UNKNOWN_CONNECT_PORT: &str = "TY0313";
/// An annotation (compose `labels:`) key the API server refuses: not a qualified name.
pub const INVALID_ANNOTATION_KEY: &str = "TY0314";
/// An annotation key under `kubernetes.io/`, `k8s.io/` (or a subdomain) or Tycho's own.
pub const RESERVED_ANNOTATION_KEY: &str = "TY0315";
/// The annotations of one object exceed the API server's 256 KiB.
pub const ANNOTATIONS_TOO_LARGE: &str = "TY0316";
/// A network, secret or config a service names that the top level does not declare.
pub const UNDECLARED: &str = "TY0317";
/// `depends_on` that goes round in a circle.
pub const DEPENDENCY_CYCLE: &str = "TY0318";
/// Settings Compose refuses together: `network_mode` with `networks`, one `container_name` twice.
pub const CONFLICTING_KEYS: &str = "TY0319";

pub const HOST_PATH_REFUSED: &str = "TY0401";
pub const PRIVILEGED_REFUSED: &str = "TY0402";
pub const CAP_ADD_REFUSED: &str = "TY0403";
pub const ROOT_REFUSED: &str = "TY0404";
pub const ABOVE_POLICY_MAX: &str = "TY0405";
pub const INVALID_OPTION: &str = "TY0406";
/// A CIDR (request or policy) that is not an IPv4 or IPv6 CIDR.
pub const INVALID_CIDR: &str = "TY0407";
/// A request CIDR outside every CIDR the policy allows: dropped (warning).
pub const CIDR_NOT_ALLOWED: &str = "TY0408";
/// `ingress`/`gateway` connect mode, but the NetworkPolicy admits no controller (warning).
pub const CONTROLLER_NOT_ADMITTED: &str = "TY0409";
/// The file asks for a rewrite the Ingress cannot express portably: not applied (warning).
pub const REWRITE_NOT_APPLIED: &str = "TY0410";
/// The connect host and path templates hold no `{guid}`: systems would share a route (warning).
pub const ROUTE_NOT_UNIQUE: &str = "TY0411";
/// An existing claim (`pvc://`, `external:`) the policy's `allowed_claims` does not list.
pub const CLAIM_NOT_ALLOWED: &str = "TY0412";
/// An `ext.kube` probe with `httpGet.host` or `tcpSocket.host`.
pub const PROBE_HOST_REFUSED: &str = "TY0413";
/// A file the compose file names (`env_file`, a config's or secret's `file:`) was not sent
/// with it.
pub const MISSING_FILE: &str = "TY0320";
/// A path that climbs out of the compose file's folder (`../x`): only that folder travels.
pub const OUTSIDE_PROJECT: &str = "TY0321";
/// A relative bind-mount folder that was not sent (`./data`) becomes a claim (warning).
pub const FOLDER_BECOMES_VOLUME: &str = "TY0322";
/// The files sent with the compose file are larger than the policy's `max_files_size`.
pub const FILES_TOO_LARGE: &str = "TY0414";
/// An `external:` config or secret: another system's objects are not the file's to mount.
pub const EXTERNAL_REFUSED: &str = "TY0415";
/// The file asks for a home (`x-tycho.home`) and the policy offers none.
pub const HOME_NOT_OFFERED: &str = "TY0416";
