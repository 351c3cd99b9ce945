//! Tycho's compiler for browsers and other portals, through wasm-bindgen.
//!
//! ```js
//! import init, { validate, compile, version } from "./tycho_wasm.js";
//! await init();
//! const diagnostics = validate(text, { env: { PORT: "8888" } });
//! const result = compile(text, { name: "notebook", guid: "abc123" });
//! if (result.ok) show(result.yaml); else list(result.diagnostics);
//! table(result.resources); // what each service asks for against the policy, ok or not
//! ```
//!
//! A bad compose file never throws: its problems come back as diagnostics with line and column.
//! Only misuse of the API throws (a non-string text, options of the wrong shape).
//!
//! Results cross the boundary as JSON text for `JSON.parse` (one call, fast, and small code);
//! options come in as plain JS data read into a `serde_json::Value`. [`compile_value`],
//! [`validate_value`] and [`options_from_json`] are that layer, usable natively too.
//!
//! Field names are the REST API's (snake_case: `container_port`, `not_translated`,
//! `object_name`), because the values are the same Rust types (`tycho_api`'s diagnostics,
//! published ports, not-translated keys, connect target and resources report). The TypeScript declarations below
//! are checked against those types by the tests in `declarations.rs`.

use serde::Serialize;
use tycho_compiler::{
    CompileOptions, ConnectTarget, Diagnostic, Files, NotTranslated, PublishedPort, ResourcesReport,
};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

// The allocator is std's (dlmalloc): measured faster here than talc (968 vs 1024 µs for
// validate()+compile() of the benchmark file) for 2.6 KB more gzip.

// The package's TypeScript types (in `tycho_wasm.d.ts`), checked against the Rust types by
// `declarations.rs`.
#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = r#"
/** One finding about the compose text. `line` and `column` are 1-based; 0 means "no position". */
export interface Diagnostic {
  severity: "error" | "warning";
  /** Stable identifier, e.g. `TY0101`. */
  code: string;
  message: string;
  /** JSON Pointer into the compose document, e.g. `/services/web/ports/0`. */
  path: string;
  line: number;
  column: number;
  /** The file `line` and `column` are in, by project path, when it is not the compose file
   * itself (a file an `extends:` names). */
  file?: string;
}

/** CPU and memory as Kubernetes quantities (`"500m"`, `"2Gi"`); empty means "no value". The
 * policy's resource blocks refuse other keys. */
export interface Resources {
  cpu?: string;
  memory?: string;
  gpus?: number;
}

export interface NetworkPolicyOptions {
  /** Write a NetworkPolicy for each system (default true). */
  enabled?: boolean;
  /** Sources allowed to reach the published ports, as CIDRs (default none). A request's
   * `client_cidrs` may only narrow these. */
  ingress_cidrs?: string[];
  ingress_namespaces?: string[];
  /** The Tycho server's pods, admitted to the published ports (they run the proxy). */
  server_pods?: ServerPods;
  egress?: "open" | "dns-only" | "none";
}

export interface ServerPods {
  /** Default `{"app.kubernetes.io/name": "tycho", "app.kubernetes.io/component": "api"}`;
   * empty admits no server. */
  labels?: Record<string, string>;
  /** The server's namespace; empty (default) means the systems' own. */
  namespace?: string;
}

export interface ConnectOptions {
  /** `proxy` (default): Tycho's proxy at `/connect/<guid>/`; `ambassador`: an Ambassador
   * Mapping at `/private/<app>/<user>/<guid>/`; `ingress`: an Ingress per system; `gateway`:
   * a Gateway API HTTPRoute per system; `none`: no way in through Tycho. */
  mode?: "proxy" | "ambassador" | "ingress" | "gateway" | "none";
  ingress?: IngressOptions;
  gateway?: GatewayOptions;
}

/** `host` and `path` are templates: `{guid}`, `{name}` and `{user}` (a DNS label). */
export interface IngressOptions {
  /** `spec.ingressClassName`; the cluster's default when empty. */
  class?: string;
  /** e.g. `{guid}.apps.example.org`; empty: every host. */
  host?: string;
  /** Empty: `/` when the host holds `{guid}`, else `/connect/{guid}/`. */
  path?: string;
  tls_secret?: string;
  annotations?: Record<string, string>;
}

export interface GatewayOptions {
  /** At least one. */
  parent_refs?: GatewayParent[];
  hostnames?: string[];
  path?: string;
}

export interface GatewayParent {
  name: string;
  /** The Gateway's namespace; empty: the systems' namespace. */
  namespace?: string;
  /** One listener of the Gateway; empty: every listener that admits the route. */
  section_name?: string;
}

export interface AmbassadorOptions {
  enabled?: boolean;
  rewrite_to_prefix?: boolean;
  rewrite_target?: string;
}

/** The operator's rules. Every key is optional; unknown keys are an error. */
export interface Policy {
  default_resources?: Resources;
  /** Per container. */
  max_resources?: Resources;
  /** The whole system: every container's limit (else request, else default) summed, times the replicas. Default 16 CPUs, 64Gi, 2 GPUs. */
  max_pod_resources?: Resources;
  /** Default 20. */
  max_services?: number;
  /** Service ports, a range counting each port. Default 100. */
  max_published_ports?: number;
  /** Default 10. */
  max_replicas?: number;
  /** One named volume's claim (quantity; "" for no cap). Default "100Gi". */
  max_volume_size?: string;
  /** All claims of a system together. Default "500Gi". */
  max_total_volume_size?: string;
  /** Default "2Gi". */
  max_tmpfs_size?: string;
  /** Default "4Gi". */
  max_shm_size?: string;
  max_files_size?: string;
  /** Default 300. */
  max_stop_grace_period_seconds?: number;
  gpu_resource_name?: string;
  allowed_host_paths?: string[];
  /** Existing claims a file may mount (`pvc://`, `external:`): `CLAIM` (whole, any subpath) or `CLAIM/SUB/{username}` (that directory and below). Default none. */
  allowed_claims?: string[];
  allow_privileged?: boolean;
  allow_cap_add?: boolean;
  /** The Pod Security Standard containers are built to: "restricted" (default) or "baseline" (root images run). */
  profile?: "restricted" | "baseline";
  /** Keep depends_on order with native sidecars (Kubernetes >= 1.29); false for older clusters. */
  sidecars?: boolean;
  allow_root?: boolean;
  service_type?: "ClusterIP" | "NodePort" | "LoadBalancer";
  network?: NetworkPolicyOptions;
  connect?: ConnectOptions;
  /** Old policies: `enabled: true` means `connect: {mode: "ambassador"}`. */
  ambassador?: AmbassadorOptions;
  /** The image of a service with `build:` but no `image:`: `{project}` and `{service}` filled in. */
  image_template?: string;
  storage_class?: string;
  default_volume_size?: string;
  /** Each user's home claim (`x-tycho: {home: PATH}` mounts it); null: no homes. */
  home?: HomePolicy | null;
  /** How long a claim kept by a delete lives on, e.g. "30d"; null: forever. */
  volume_ttl?: string | null;
  /** Per-user limits; the server enforces them at start. */
  quota?: QuotaPolicy;
  /** Idle culling, maximum lifetime, start timeout; the server acts on them. */
  lifetime?: LifetimePolicy;
}

/** One claim per user, created on first use, never deleted with a system. */
export interface HomePolicy {
  /** The claim's size, a Kubernetes quantity (default "10Gi"). */
  size?: string;
  /** Empty: the policy's `storage_class`. */
  storage_class?: string;
  /** Where `home: true` mounts it; empty: a file must name the path. */
  mount_path?: string;
  access_mode?: "ReadWriteOnce" | "ReadWriteOncePod" | "ReadWriteMany";
}

/** Limits for every user (a key left out: no limit), with overrides per group and per user. */
export interface QuotaPolicy {
  systems?: number;
  /** Requested CPUs of all the user's systems together (quantity, e.g. "8" or "500m"). */
  cpu?: string;
  /** Requested memory of all the user's systems together (quantity, e.g. "32Gi"). */
  memory?: string;
  gpus?: number;
  groups?: Record<string, QuotaLimits>;
  /** A user's own entry beats their groups', which beat the default. */
  users?: Record<string, QuotaLimits>;
}

export interface QuotaLimits {
  systems?: number;
  cpu?: string;
  memory?: string;
  gpus?: number;
}

/** Durations like "2h", "90m", "1h30m"; each off unless set. */
export interface LifetimePolicy {
  idle_timeout?: string;
  max_lifetime?: string;
  start_timeout?: string;
  remove_failed_starts?: boolean;
  warn_before?: string;
}

/** What the caller decides. Every key is optional; unknown keys are an error. */
export interface CompileOptions {
  /** System name (DNS-1123 label, at most 30 characters); else the file's `name:`, else "system". */
  name?: string;
  /** Instance id: lowercase letters and digits, at most 32; else one derived from the text. */
  guid?: string;
  /** Owner, written into the `username` label (default "tycho"). */
  username?: string;
  /** Namespace written into the objects' metadata; left out when empty. */
  namespace?: string;
  /** Values for `$VAR` interpolation and for `environment: [NAME]` entries. */
  env?: Record<string, string>;
  /** CIDRs allowed to reach the published ports; only those inside the policy's are kept. */
  client_cidrs?: string[];
  /** The port Tycho's proxy serves: a container or Service port of that service's `ports:`. */
  primary?: PrimaryPort | null;
  /** Active Compose profiles; when empty, `env.COMPOSE_PROFILES`; `*` activates all. */
  profiles?: string[];
  policy?: Policy;
}

/** A published port of one compose service: `port` is its container port or its Service port. */
export interface PrimaryPort {
  service: string;
  port: number;
}

/** How Tycho's proxy reaches the system's primary port. */
export interface ConnectTarget {
  service: string;
  container_port: number;
  port: number;
  /** The prefix the browser uses, e.g. `/connect/<guid>/`; also `TYCHO_BASE_PATH`. */
  path: string;
  rewrite: "keep" | "strip" | { target: string };
  /** The whole URL when the operator's edge has a host (ingress, gateway); absent otherwise. */
  url?: string;
  served_by: "proxy" | "ingress" | "gateway" | "ambassador";
}

/** A compose key that was accepted but has no Kubernetes translation. */
export interface NotTranslated {
  key: string;
  path: string;
  line: number;
  column: number;
  reason: string;
}

/** A port published on the system's Service. */
export interface PublishedPort {
  /** The compose service (= container) that listens. */
  service: string;
  container_port: number;
  port: number;
  protocol: "TCP" | "UDP" | "SCTP";
}

/** What each service asks for against the operator's maxima: CPU in millicores, memory in
 * bytes, GPUs counted. Made whether or not the file compiles (a file above a cap shows by how
 * much); empty when the text is not read far enough to know its services. */
export interface ResourcesReport {
  /** One per compose service, in file order. */
  services: ServiceUsage[];
  /** Copies of the pod that run: every service counts this many times in `system`. */
  replicas: number;
  /** All containers together (each one's limit, else its request), times the replicas,
   * against the policy's `max_pod_resources`. */
  system: SystemUsage;
}

/** One service's container against the policy's `max_resources` (per container). */
export interface ServiceUsage {
  service: string;
  cpu: Usage;
  memory: Usage;
  gpus: Usage;
}

/** One resource of one container, as the Deployment has it (the policy's defaults filled in). */
export interface Usage {
  request: number | null;
  limit: number | null;
  /** null: the policy sets no maximum. */
  max: number | null;
  /** The request or the limit is above the maximum. */
  over: boolean;
}

export interface SystemUsage {
  cpu: Total;
  memory: Total;
  gpus: Total;
}

/** One resource summed over the system, against the maximum (null: none). */
export interface Total {
  asked: number;
  max: number | null;
  over: boolean;
}

/** A Kubernetes object as `kubectl apply` takes it. */
export interface KubeObject {
  apiVersion: string;
  kind: "Deployment" | "Service" | "NetworkPolicy" | "PersistentVolumeClaim";
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: { [key: string]: unknown };
  [key: string]: unknown;
}

/** Files sent beside the compose file, by path relative to it (`conf/nginx.conf`): text, or
 * bytes. What `referencedFiles` lists is what `compile` reads; anything else is ignored. */
export type Files = Record<string, string | Uint8Array>;

/** A path the compose text names: a bind mount's source (a file, or a folder whose files are
 * sent each by its own path), an `env_file`, a config's or secret's `file:`, or the other
 * compose file of an `extends:`. */
export interface Reference {
  /** Relative to the compose file, `/`-separated, without `.` or `..`. */
  path: string;
  kind: "mount" | "env_file" | "config" | "secret" | "compose_file";
  /** JSON Pointer of the value that names it. */
  pointer: string;
  line: number;
  column: number;
}

export interface CompileResult {
  /** True when the text compiled: no error diagnostics. */
  ok: boolean;
  /** Every error and warning, sorted by position. */
  diagnostics: Diagnostic[];
  /** The objects in apply order (claims, NetworkPolicy, Service, Deployment); empty unless ok. */
  objects: KubeObject[];
  /** The objects as multi-document YAML, byte for byte what `tycho compile` prints; "" unless ok. */
  yaml: string;
  not_translated: NotTranslated[];
  ports: PublishedPort[];
  /** The primary port behind Tycho's proxy; null unless ok and a TCP port is published. */
  connect: ConnectTarget | null;
  /** System name and GUID actually used; null unless ok. */
  name: string | null;
  guid: string | null;
  /** `<name>-<guid>`: every object's name or prefix; null unless ok. */
  object_name: string | null;
  /** What each service asks for against the policy's maxima, also when not ok. */
  resources: ResourcesReport;
}
"#;

/// The result of [`compile_result`]: the `CompileResult` TypeScript interface, field for field.
/// [`CompileResult::into_value`] gives the same JSON as serialising it, without copying the
/// objects.
#[derive(Debug, Serialize)]
pub struct CompileResult {
    pub ok: bool,
    pub diagnostics: Vec<Diagnostic>,
    pub objects: Vec<serde_json::Value>,
    pub yaml: String,
    pub not_translated: Vec<NotTranslated>,
    pub ports: Vec<PublishedPort>,
    pub connect: Option<ConnectTarget>,
    pub name: Option<String>,
    pub guid: Option<String>,
    pub object_name: Option<String>,
    pub resources: ResourcesReport,
}

/// Reads options given as JSON text (empty or `null` for the defaults).
pub fn parse_options(json: &str) -> Result<CompileOptions, String> {
    let json = json.trim();
    if json.is_empty() {
        return Ok(CompileOptions::default());
    }
    let value = serde_json::from_str(json).map_err(|e| format!("tycho: invalid options: {e}"))?;
    options_from_json(value)
}

/// Reads options given as a JSON value (`null` for the defaults). The error says what is wrong
/// in serde's words (`unknown field `nmae`, expected one of …`).
pub fn options_from_json(value: serde_json::Value) -> Result<CompileOptions, String> {
    if value.is_null() {
        return Ok(CompileOptions::default());
    }
    serde_json::from_value(value).map_err(|e| format!("tycho: invalid options: {e}"))
}

/// [`tycho_compiler::validate`]: the diagnostics as a JSON array.
pub fn validate_value(text: &str, options: &CompileOptions) -> serde_json::Value {
    validate_value_with_files(text, &Files::new(), options)
}

/// [`validate_value`] with the files sent beside the compose file.
pub fn validate_value_with_files(
    text: &str,
    files: &Files,
    options: &CompileOptions,
) -> serde_json::Value {
    to_value(&tycho_compiler::compile_with_files(text, files, options).diagnostics)
}

/// [`tycho_compiler::compile`]: the plan's objects, YAML and facts, in the shape of the
/// `CompileResult` TypeScript interface.
pub fn compile_result(text: &str, options: &CompileOptions) -> CompileResult {
    compile_result_with_files(text, &Files::new(), options)
}

/// [`compile_result`] with the files sent beside the compose file.
pub fn compile_result_with_files(
    text: &str,
    files: &Files,
    options: &CompileOptions,
) -> CompileResult {
    let compiled = tycho_compiler::compile_with_files(text, files, options);
    let Some(plan) = compiled.plan else {
        return CompileResult {
            ok: false,
            diagnostics: compiled.diagnostics,
            objects: Vec::new(),
            yaml: String::new(),
            not_translated: Vec::new(),
            ports: Vec::new(),
            connect: None,
            name: None,
            guid: None,
            object_name: None,
            resources: compiled.resources,
        };
    };
    let (objects, yaml) = plan.to_json_and_yaml();
    CompileResult {
        ok: true,
        diagnostics: compiled.diagnostics,
        objects,
        yaml,
        not_translated: plan.not_translated,
        ports: plan.ports,
        connect: plan.connect,
        name: Some(plan.name),
        guid: Some(plan.guid),
        object_name: Some(plan.object_name),
        resources: compiled.resources,
    }
}

impl CompileResult {
    /// The result as a JSON object with the keys of the `CompileResult` TypeScript interface.
    /// The objects are moved in, not serialised again: they are most of the result.
    pub fn into_value(self) -> serde_json::Value {
        let mut map = serde_json::Map::new();
        map.insert("ok".into(), self.ok.into());
        map.insert("diagnostics".into(), to_value(&self.diagnostics));
        map.insert("objects".into(), serde_json::Value::Array(self.objects));
        map.insert("yaml".into(), self.yaml.into());
        map.insert("not_translated".into(), to_value(&self.not_translated));
        map.insert("ports".into(), to_value(&self.ports));
        map.insert("connect".into(), to_value(&self.connect));
        map.insert("name".into(), self.name.into());
        map.insert("guid".into(), self.guid.into());
        map.insert("object_name".into(), self.object_name.into());
        map.insert("resources".into(), to_value(&self.resources));
        serde_json::Value::Object(map)
    }
}

/// [`compile_result`] as a JSON value.
pub fn compile_value(text: &str, options: &CompileOptions) -> serde_json::Value {
    compile_result(text, options).into_value()
}

fn to_value<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}

/// Writes `value` as compact JSON text (what `JSON.parse` reads on the other side).
pub use tycho_compiler::render::json_text as to_json_text;

#[wasm_bindgen]
extern "C" {
    /// The options object, typed as `CompileOptions` in the `.d.ts` (optional there).
    #[wasm_bindgen(typescript_type = "CompileOptions")]
    pub type Options;
    /// The files object, typed as `Files` in the `.d.ts` (optional there).
    #[wasm_bindgen(typescript_type = "Files")]
    pub type FilesArg;
}

/// The library version (the compiler's).
#[wasm_bindgen]
pub fn version() -> String {
    tycho_compiler::version().into()
}

/// Checks compose `text`: every error and warning, sorted by position. Throws only when `text`
/// is not a string or `options` has the wrong shape.
#[wasm_bindgen(unchecked_return_type = "Diagnostic[]")]
pub fn validate(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    options: Option<Options>,
    files: Option<FilesArg>,
) -> Result<JsValue, JsError> {
    let (text, options) = arguments(&text, options)?;
    let files = files_argument(files)?;
    to_js(&validate_value_with_files(&text, &files, &options))
}

/// The files compose `text` names, so a caller knows what to send with it (each path once);
/// with `files`, also what those name in turn (an `extends:`'s other compose file names its
/// own), so a caller asks again until the list stops growing.
#[wasm_bindgen(js_name = referencedFiles, unchecked_return_type = "Reference[]")]
pub fn referenced_files(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    options: Option<Options>,
    files: Option<FilesArg>,
) -> Result<JsValue, JsError> {
    let (text, options) = arguments(&text, options)?;
    let files = files_argument(files)?;
    let references = tycho_compiler::referenced_files_with_files(&text, &files, &options);
    to_js(&to_value(&references))
}

/// Compiles compose `text` to Kubernetes objects. Errors in the text come back as diagnostics
/// (`ok: false`); throws only when `text` is not a string or `options` has the wrong shape.
#[wasm_bindgen(unchecked_return_type = "CompileResult")]
pub fn compile(
    #[wasm_bindgen(unchecked_param_type = "string")] text: JsValue,
    options: Option<Options>,
    files: Option<FilesArg>,
) -> Result<JsValue, JsError> {
    let (text, options) = arguments(&text, options)?;
    let files = files_argument(files)?;
    to_js(&compile_result_with_files(&text, &files, &options).into_value())
}

/// `{path: string | Uint8Array}` as the compiler's files (a string is UTF-8 text).
fn files_argument(files: Option<FilesArg>) -> Result<Files, JsError> {
    let Some(files) = files.map(JsValue::from) else {
        return Ok(Files::new());
    };
    if files.is_null() || files.is_undefined() {
        return Ok(Files::new());
    }
    if !files.is_object() || js_sys::Array::is_array(&files) {
        return Err(JsError::new(
            "tycho: files must be an object of path → text or Uint8Array",
        ));
    }
    let mut read = Files::new();
    for entry in js_sys::Object::entries(&js_sys::Object::from(files)).iter() {
        let pair = js_sys::Array::from(&entry);
        let path = pair.get(0).as_string().unwrap_or_default();
        let value = pair.get(1);
        let bytes = if let Some(text) = value.as_string() {
            text.into_bytes()
        } else if let Some(bytes) = value.dyn_ref::<js_sys::Uint8Array>() {
            bytes.to_vec()
        } else {
            return Err(JsError::new(&format!(
                "tycho: files[{path:?}] must be a string or a Uint8Array"
            )));
        };
        read.insert(path, bytes);
    }
    Ok(read)
}

/// The text as a Rust string and the options read, or the error to throw.
fn arguments(
    text: &JsValue,
    options: Option<Options>,
) -> Result<(String, CompileOptions), JsError> {
    let options = options.map(JsValue::from);
    let text = text
        .as_string()
        .ok_or_else(|| JsError::new("tycho: the compose text must be a string"))?;
    let options = match options {
        None => serde_json::Value::Null,
        Some(value) if value.is_null() || value.is_undefined() => serde_json::Value::Null,
        Some(value) if !value.is_object() || js_sys::Array::is_array(&value) => {
            return Err(JsError::new(
                "tycho: options must be an object like { name, guid, env, policy }",
            ));
        }
        Some(value) => from_js(&value, 0).map_err(|m| JsError::new(&m))?,
    };
    let options = options_from_json(options).map_err(|m| JsError::new(&m))?;
    Ok((text, options))
}

/// A JS value (plain data: objects, arrays, strings, numbers, booleans, null) as JSON.
fn from_js(value: &JsValue, depth: usize) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    if depth > 16 {
        return Err("tycho: options nest too deeply".into());
    }
    if value.is_null() || value.is_undefined() {
        return Ok(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Some(s) = value.as_string() {
        return Ok(Value::String(s));
    }
    if let Some(n) = value.as_f64() {
        // Whole numbers as integers, so `gpus: 1` reads as a u32.
        return Ok(if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
            if n < 0.0 {
                Value::from(n as i64)
            } else {
                Value::from(n as u64)
            }
        } else {
            serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
        });
    }
    if js_sys::Array::is_array(value) {
        let array = js_sys::Array::from(value);
        return array.iter().map(|item| from_js(&item, depth + 1)).collect();
    }
    if value.is_object() && !value.is_function() {
        let object = js_sys::Object::from(value.clone());
        let mut map = serde_json::Map::new();
        for key in js_sys::Object::keys(&object).iter() {
            let item = js_sys::Reflect::get(&object, &key).unwrap_or(JsValue::UNDEFINED);
            if item.is_undefined() {
                continue; // as JSON.stringify does
            }
            let key = key.as_string().unwrap_or_default();
            map.insert(key, from_js(&item, depth + 1)?);
        }
        return Ok(Value::Object(map));
    }
    Err("tycho: options may only hold objects, arrays, strings, numbers and booleans".into())
}

fn to_js(value: &serde_json::Value) -> Result<JsValue, JsError> {
    js_sys::JSON::parse(&to_json_text(value))
        .map_err(|_| JsError::new("tycho: internal error: invalid JSON"))
}

#[cfg(test)]
mod declarations;

#[cfg(test)]
mod tests {
    use super::*;

    const NGINX: &str = "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n";

    #[test]
    fn default_options() {
        assert_eq!(parse_options("").unwrap(), CompileOptions::default());
        assert_eq!(parse_options("null").unwrap(), CompileOptions::default());
        assert_eq!(parse_options("{}").unwrap(), CompileOptions::default());
    }

    #[test]
    fn options_map_onto_the_compiler() {
        let options = parse_options(
            r#"{"name":"x","guid":"abc","env":{"A":"1"},"policy":{"allow_root":true,"network":{"egress":"dns-only"}}}"#,
        )
        .unwrap();
        assert_eq!(options.name, "x");
        assert_eq!(options.env["A"], "1");
        assert!(options.policy.allow_root);
        assert_eq!(
            options.policy.network.egress,
            tycho_compiler::EgressMode::DnsOnly
        );
    }

    #[test]
    fn wrong_options_say_what_is_wrong() {
        let e = parse_options(r#"{"nmae":"x"}"#).unwrap_err();
        assert!(
            e.starts_with("tycho: invalid options: unknown field `nmae`"),
            "{e}"
        );
        let e = parse_options(r#"{"env":{"A":1}}"#).unwrap_err();
        assert!(
            e.contains("invalid type: integer `1`, expected a string"),
            "{e}"
        );
    }

    #[test]
    fn compile_gives_what_the_cli_prints() {
        let options = parse_options(r#"{"name":"demo","guid":"abc123"}"#).unwrap();
        let result = compile_result(NGINX, &options);
        let plan = tycho_compiler::compile(NGINX, &options).plan.unwrap();
        assert!(result.ok);
        assert_eq!(result.yaml, plan.to_yaml());
        assert_eq!(result.objects, plan.to_json_objects());
        assert_eq!(result.object_name.as_deref(), Some("demo-abc123"));
        let json = compile_value(NGINX, &options);
        assert!(json.get("not_translated").is_some() && json.get("object_name").is_some());
        let text = to_json_text(&json);
        assert_eq!(text, serde_json::to_string(&json).unwrap());
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap(),
            json
        );
    }

    #[test]
    fn the_resources_report_comes_also_above_a_cap() {
        let text = "services:\n  web:\n    image: nginx\n    mem_limit: 8g\n";
        let options = parse_options(r#"{"policy":{"max_resources":{"memory":"4Gi"}}}"#).unwrap();
        let json = compile_value(text, &options);
        assert_eq!(json["ok"], false);
        let memory = &json["resources"]["services"][0]["memory"];
        assert_eq!(memory["limit"], 8u64 << 30);
        assert_eq!(memory["max"], 4u64 << 30);
        assert_eq!(memory["over"], true);
        assert_eq!(json["resources"]["replicas"], 1);
    }

    #[test]
    fn bad_text_is_diagnostics_not_an_error() {
        let text = "services:\n  web:\n    imag: nginx\n";
        let result = compile_result(text, &CompileOptions::default());
        assert!(!result.ok);
        assert!(result.objects.is_empty() && result.yaml.is_empty());
        assert!(
            result
                .diagnostics
                .iter()
                .any(|d| d.is_error() && d.line == 3)
        );
        assert_eq!(
            validate_value(text, &parse_options("{}").unwrap()),
            serde_json::to_value(&result.diagnostics).unwrap()
        );
    }
}
