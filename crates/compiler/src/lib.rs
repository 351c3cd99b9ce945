//! Tycho's compiler: compose text → typed model → plan of Kubernetes objects.
//!
//! Pure: no I/O, no clock, no randomness. The same bytes and options in give the same manifests
//! out, natively and in WebAssembly.
//!
//! ```
//! let options = tycho_compiler::CompileOptions { guid: "abc123".into(), ..Default::default() };
//! let compiled = tycho_compiler::compile("services:\n  web:\n    image: nginx\n", &options);
//! let plan = compiled.plan.expect("compiles");
//! assert_eq!(plan.deployment.metadata.name.as_deref(), Some("system-abc123"));
//! ```

pub mod bundle;
pub mod codes;
pub mod connect;
pub mod diagnostic;
mod documents;
mod dotenv;
mod interpolate;
pub mod labels;
pub mod lifetime;
mod load;
pub mod model;
pub mod names;
pub mod options;
pub mod plan;
mod quantity;
pub mod quota;
pub mod resources_report;
mod shell_words;
mod strict_keys;
mod syntax_words;
mod variables;
mod x_tycho;

pub use bundle::{Files, Reference, ReferenceKind, project_path};
pub use connect::{ConnectTarget, Rewrite};
pub use diagnostic::{Diagnostic, Severity};
pub use documents::Document;
pub use dotenv::{EnvFileError, parse_env_file};
pub use names::{MAX_GUID, MAX_SYSTEM_NAME, check_username, content_guid, is_guid};
/// YAML and JSON text of JSON values, as the manifests are written.
pub use tycho_yaml::render;
// The positioned YAML tree the loader reads (its own crate: see tycho_yaml).
pub use options::{
    AccessMode, CompileOptions, ConnectMode, ConnectOptions, EgressMode, GatewayOptions,
    GatewayParent, HomePolicy, IngressOptions, Policy, PrimaryPort, Resources, SecurityProfile,
    ServerPods, ServiceType,
};
pub use plan::{HttpRoute, KubeObject, NotTranslated, Plan, PublishedPort};
/// Kubernetes quantities as numbers (millicores, bytes), as the policy's caps and quotas read them.
pub use quantity::{parse_cpus, parse_kube_bytes};
pub use resources_report::{ResourcesReport, resources_report};
pub use syntax_words::parser_detail;
use tycho_yaml as yaml;
pub use variables::{Variable, variables};
pub use x_tycho::{XTycho, x_tycho};

/// The result of compiling: a plan when there are no errors, and every diagnostic and the
/// resources report either way.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub plan: Option<Plan>,
    pub diagnostics: Vec<Diagnostic>,
    /// What each service asks for against the policy's maxima, also when a cap refuses the
    /// file (empty only when the text is not read far enough to know its services).
    pub resources: ResourcesReport,
    /// The files the text (and the files sent) name: what [`referenced_files_with_overrides`]
    /// lists, from the same pass, so an editor learns what is missing without a second one.
    pub references: Vec<Reference>,
}

impl Compiled {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Loads and plans `text`, returning the plan (when error-free) and all diagnostics, sorted by
/// position. No files travel with it: see [`compile_with_files`].
pub fn compile(text: &str, options: &CompileOptions) -> Compiled {
    compile_with_files(text, &Files::new(), options)
}

/// [`compile`] with the files sent beside the compose file (bind-mounted config files and
/// folders, env files, configs, secrets), by project path ([`project_path`]).
pub fn compile_with_files(text: &str, files: &Files, options: &CompileOptions) -> Compiled {
    compile_with_overrides(text, &[], files, options)
}

/// [`compile_with_files`] of several compose files merged in order, as `docker compose -f
/// compose.yaml -f compose.prod.yaml` merges them: `text` is the first (the project's compose
/// file, whose findings have an empty `file`), `overrides` the project paths of the later ones,
/// sent in `files` (their findings name them in `file`). Relative paths in every one of them
/// start at the project folder, as in Compose.
pub fn compile_with_overrides(
    text: &str,
    overrides: &[String],
    files: &Files,
    options: &CompileOptions,
) -> Compiled {
    let loaded = load(text, overrides, files, options);
    let mut diagnostics = loaded.diagnostics;
    let mut plan = None;
    let mut resources = ResourcesReport::default();
    if let Some(system) = loaded.system {
        let planned = plan::plan(&system, text, options);
        diagnostics.extend(planned.diagnostics);
        // From the plan as built, before an error discards it.
        resources = resources_report::report(&planned.plan, &options.policy);
        if !diagnostics.iter().any(Diagnostic::is_error) {
            plan = Some(planned.plan);
        }
    }
    // What `extends:`, an override file or `include:` brought is reported where it was written.
    for d in &mut diagnostics {
        for origins in &loaded.origins {
            origins.attribute(d);
        }
    }
    // The compose file's own findings first, then each other file's.
    diagnostics.sort_by(|a, b| {
        (&a.file, a.line, a.column, a.severity).cmp(&(&b.file, b.line, b.column, b.severity))
    });
    diagnostics.dedup();
    Compiled {
        plan,
        diagnostics,
        resources,
        references: each_once(loaded.references),
    }
}

/// The loader's pass over `text`, with the name and `TYCHO_BASE_PATH` the plan will give it.
fn load(text: &str, overrides: &[String], files: &Files, options: &CompileOptions) -> load::Loaded {
    // `${TYCHO_BASE_PATH}` interpolates like any variable, but the base path holds the GUID, and
    // without a GUID option the GUID is derived from the system name, which the file's own
    // top-level `name:` may give (known only after reading the file). So the loader interpolates
    // `name:` first, asks this function for the base path with it, then interpolates the rest
    // of the file with the base path in the env. The planner derives name and GUID with the same
    // functions, so the env, the interpolated text and the object names always agree.
    let project = |top_name: Option<&str>| {
        let name = plan::system_name(options, top_name);
        let guid = plan::system_guid(text, &name, options);
        let base_path = connect::base_path(&options.policy, &name, &options.username, &guid);
        load::Project { name, base_path }
    };
    load::load(text, overrides, files, options, &project)
}

/// The files `text` names, so a shell knows what to send with it: relative bind-mount sources
/// (files or folders), `env_file`s, the `file:` of configs and secrets, and the compose files
/// `extends:` and `include:` name (and an `include`'s `env_file`), each once, in the order first
/// named. Paths are project paths; one that leaves the folder is not listed (the compile
/// refuses it).
pub fn referenced_files(text: &str, options: &CompileOptions) -> Vec<Reference> {
    referenced_files_with_files(text, &Files::new(), options)
}

/// [`referenced_files`] with the files read so far: what the compose files `extends:` and
/// `include:` name name in turn is known only once they are sent. A shell reads what this lists and asks
/// again until nothing new is listed (each round adds at least one file, and the project
/// folder holds finitely many).
pub fn referenced_files_with_files(
    text: &str,
    files: &Files,
    options: &CompileOptions,
) -> Vec<Reference> {
    referenced_files_with_overrides(text, &[], files, options)
}

/// [`referenced_files_with_files`] of several compose files merged in order (see
/// [`compile_with_overrides`]): what the override files name is listed too (the override
/// files themselves are the shell's to send).
pub fn referenced_files_with_overrides(
    text: &str,
    overrides: &[String],
    files: &Files,
    options: &CompileOptions,
) -> Vec<Reference> {
    each_once(load(text, overrides, files, options).references)
}

/// Each (path, kind) once, where first named.
fn each_once(mut references: Vec<Reference>) -> Vec<Reference> {
    let mut seen = std::collections::BTreeSet::new();
    references.retain(|r| seen.insert((r.path.clone(), r.kind)));
    references
}

/// Diagnostics only: everything [`compile`] would report.
pub fn validate(text: &str, options: &CompileOptions) -> Vec<Diagnostic> {
    compile(text, options).diagnostics
}

/// The library version, as the wasm facade and the API report it.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// Bytes read from a file → text, or a diagnostic at the first byte that is not UTF-8.
pub fn decode(bytes: &[u8]) -> Result<&str, Diagnostic> {
    std::str::from_utf8(bytes).map_err(|e| {
        let good = &bytes[..e.valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
        Diagnostic {
            severity: Severity::Error,
            code: codes::YAML_SYNTAX.into(),
            message: format!(
                "the file is not UTF-8 text (byte {} is invalid)",
                e.valid_up_to()
            ),
            path: String::new(),
            line,
            column,
            file: String::new(),
        }
    })
}

/// Reads an operator policy written as YAML or JSON (every key optional).
pub fn parse_policy(text: &str) -> Result<Policy, String> {
    let (root, _) = yaml::parse(text);
    let root = root.map_err(|e| {
        let message = syntax_words::message(&e, text);
        format!("{}:{}: {message}", e.line, e.column)
    })?;
    let json = root
        .map(|node| node.to_json())
        .unwrap_or_else(|| serde_json::json!({}));
    serde_json::from_value(json).map_err(|e| format!("invalid policy: {e}"))
}
