//! The dashboard's view-model: the catalog cards, the analysis of the compose text, routes and
//! formatting, computed without a browser (pure and native-testable).
//!
//! Every question about the compose text is the compiler's: diagnostics and the plan
//! ([`tycho_compiler::compile`]), what each service asks for against the policy (its resources
//! report, also above a cap), the preview's objects one by one ([`Plan::documents`]), the
//! `${VARS}` ([`variables`]) and the catalog's `x-tycho` title ([`tycho_compiler::x_tycho`]).
//! This module only arranges and words the answers.

use std::collections::BTreeMap;
use tycho_api::{Diagnostic, NotTranslated, Phase, Severity, SystemStatus};
use tycho_compiler::resources_report::{ResourcesReport, Usage};
use tycho_compiler::{CompileOptions, Files, Plan, Policy};
/// The variables the editor's env table lists: the compiler's, with the interpolation's grammar.
pub use tycho_compiler::{Variable, variables};

mod generated {
    include!(concat!(env!("OUT_DIR"), "/catalog.rs"));
}

/// A ready-made system from `assets/catalog`.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    /// The folder name (stable id).
    pub slug: &'static str,
    pub title: String,
    pub description: String,
    pub text: &'static str,
    /// Images of its services.
    pub images: Vec<String>,
    /// Published ports, `service:port`.
    pub ports: Vec<String>,
    /// Summed CPU and memory limits, e.g. `2 CPU · 4G`.
    pub resources: String,
    /// Its images start as root (`x-tycho: {profile: baseline}`): it runs only under an
    /// operator's `baseline` profile.
    pub needs_baseline: bool,
}

/// Every catalog entry, in folder order.
pub fn catalog() -> Vec<CatalogEntry> {
    generated::CATALOG
        .iter()
        .map(|(slug, text)| catalog_entry(slug, text))
        .collect()
}

fn catalog_entry(slug: &'static str, text: &'static str) -> CatalogEntry {
    let about = tycho_compiler::x_tycho(text);
    // The facts of the card as the entry runs: under the profile it says it needs.
    let mut policy = Policy::default();
    if about.needs_baseline {
        policy.profile = tycho_compiler::SecurityProfile::Baseline;
    }
    let compiled = tycho_compiler::compile(text, &options("", &BTreeMap::new(), &policy));
    let mut images = Vec::new();
    let mut ports = Vec::new();
    let (mut cpu, mut memory) = (0, 0);
    if let Some(plan) = &compiled.plan {
        ports = plan
            .ports
            .iter()
            .map(|p| format!("{}:{}", p.service, p.port))
            .collect();
        images = containers(plan)
            .iter()
            .flat_map(|c| c.image.clone())
            .collect();
        for service in &compiled.resources.services {
            cpu += service.cpu.limit.unwrap_or(0);
            memory += service.memory.limit.unwrap_or(0);
        }
    }
    CatalogEntry {
        slug,
        title: about.title.unwrap_or_else(|| slug.to_string()),
        description: about.description.unwrap_or_default(),
        text,
        images,
        ports,
        resources: format!("{} CPU · {}", cpus(cpu), human_bytes(memory)),
        needs_baseline: about.needs_baseline,
    }
}

/// What a catalog card says before launch when the operator's policy cannot run the entry.
pub fn catalog_blocker(entry: &CatalogEntry, policy: &Policy) -> Option<&'static str> {
    (entry.needs_baseline && !policy.root_allowed())
        .then_some("Needs the baseline profile: its image starts as root, which this server's policy does not allow")
}

/// Compile options for the browser: the user's name and env, the operator's policy (the server's
/// when it published one, so the editor refuses what the server would), a fixed preview GUID.
pub fn options(name: &str, env: &BTreeMap<String, String>, policy: &Policy) -> CompileOptions {
    CompileOptions {
        name: name.to_string(),
        guid: "preview".into(),
        env: env.clone(),
        policy: policy.clone(),
        ..CompileOptions::default()
    }
}

/// The `policy` of a `GET /api/v1/policy` answer (`tycho_api::PolicyResponse`) as the compiler's
/// type. An error (e.g. a policy from a newer server with keys this dashboard does not know) is
/// worded for a notice.
pub fn parse_policy(answer: &str) -> Result<Policy, String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        policy: Policy,
    }
    serde_json::from_str::<Answer>(answer)
        .map(|a| a.policy)
        .map_err(|e| format!("the server's policy could not be read: {e}"))
}

/// One tab of the preview.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// `Deployment`, `Service`, `NetworkPolicy`, `PVC <name>`.
    pub label: String,
    pub yaml: String,
}

/// Everything the editor shows for one version of the text.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Analysis {
    pub diagnostics: Vec<Diagnostic>,
    pub documents: Vec<Document>,
    /// All documents as one multi-document YAML file.
    pub yaml: String,
    /// Compose keys the compiler did not translate.
    pub not_translated: Vec<NotTranslated>,
    /// The system name the plan got (or empty).
    pub name: String,
    /// What each service asks for against the policy's per-container maxima.
    pub resources: Vec<ServiceResources>,
    /// The files the text names that were not sent with it.
    pub missing: Vec<crate::bundle::Missing>,
    /// What starting the plan takes of the user's quota (none without a plan).
    pub asked: Option<tycho_api::Amounts>,
}

/// One service's CPU, memory and GPUs (its container's limits, else requests) against the caps.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceResources {
    pub service: String,
    pub cpu: Amount,
    pub memory: Amount,
    pub gpus: Amount,
}

impl ServiceResources {
    pub fn over(&self) -> bool {
        self.cpu.over || self.memory.over || self.gpus.over
    }
}

/// One resource: what the file asks for and the policy's maximum, for people (`2 CPU`, `4 GiB`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Amount {
    /// Empty when the file asks for none of it.
    pub asked: String,
    /// Empty when the policy sets no maximum.
    pub max: String,
    pub over: bool,
}

impl Analysis {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Lines (1-based) with an error, and lines with only warnings.
    pub fn marked_lines(&self) -> BTreeMap<usize, Severity> {
        let mut lines = BTreeMap::new();
        for d in self.diagnostics.iter().filter(|d| d.line > 0) {
            let entry = lines.entry(d.line).or_insert(d.severity);
            if d.severity == Severity::Error {
                *entry = Severity::Error;
            }
        }
        lines
    }
}

/// Compiles `text` in-process with `policy`: diagnostics, resources against the policy's caps
/// (also when a cap refuses the file), and the preview when it compiles.
pub fn analyze(
    text: &str,
    name: &str,
    env: &BTreeMap<String, String>,
    policy: &Policy,
    files: &Files,
) -> Analysis {
    let options = options(name, env, policy);
    let compiled = tycho_compiler::compile_with_files(text, files, &options);
    let resources = resource_rows(&compiled.resources);
    let diagnostics = compiled.diagnostics;
    let missing = crate::bundle::missing(&compiled.references, files);
    let Some(plan) = compiled.plan else {
        return Analysis {
            diagnostics,
            resources,
            missing,
            ..Analysis::default()
        };
    };
    let asked = Some(tycho_compiler::quota::asked(&plan));
    let objects = plan.documents();
    let yaml = tycho_compiler::Document::join(&objects);
    let mut documents: Vec<Document> = objects
        .into_iter()
        .map(|d| Document {
            label: tab_label(&d),
            yaml: d.yaml,
        })
        .collect();
    // The Deployment first: it is what people look for.
    documents.sort_by_key(|d| match d.label.as_str() {
        "Deployment" => 0,
        "Service" => 1,
        "NetworkPolicy" => 2,
        _ => 3,
    });
    Analysis {
        diagnostics,
        documents,
        yaml,
        not_translated: plan.not_translated.clone(),
        name: plan.name.clone(),
        resources,
        missing,
        asked,
    }
}

/// A preview tab's label: the object's kind, a claim's with its name (a system may have several).
fn tab_label(document: &tycho_compiler::Document) -> String {
    match document.kind.as_str() {
        "PersistentVolumeClaim" => format!("PVC {}", document.name),
        kind => kind.to_string(),
    }
}

/// The report's services worded for people: each container's limit (else request) against
/// the policy's `max_resources`, which the compiler checks per container.
fn resource_rows(report: &ResourcesReport) -> Vec<ServiceResources> {
    let amount =
        |usage: &Usage, asked: &dyn Fn(u64) -> String, max: &dyn Fn(u64) -> String| Amount {
            asked: usage.asked().map(asked).unwrap_or_default(),
            max: usage.max.map(max).unwrap_or_default(),
            over: usage.over,
        };
    report
        .services
        .iter()
        .map(|s| ServiceResources {
            service: s.service.clone(),
            cpu: amount(&s.cpu, &|m| format!("{} CPU", cpus(m)), &cpus),
            memory: amount(&s.memory, &human_bytes, &human_bytes),
            gpus: amount(&s.gpus, &|n| format!("{n} GPU"), &|n| n.to_string()),
        })
        .collect()
}

/// The containers of a plan's pod (one per compose service).
fn containers(plan: &Plan) -> &[k8s_openapi::api::core::v1::Container] {
    plan.deployment
        .spec
        .as_ref()
        .and_then(|s| s.template.spec.as_ref())
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
}

/// Where Open goes for a system, or why it cannot open yet (said beside the disabled control and
/// in its accessible label). `dying`: a delete was asked in this page.
pub fn open_target(s: &SystemStatus, dying: bool) -> Result<String, &'static str> {
    if dying || s.phase == Phase::Terminating {
        return Err("Terminating: it is being removed");
    }
    // The server writes it from its public URL; anything but http(s) is not a link to follow.
    let url = s
        .connect_url
        .as_deref()
        .filter(|u| u.starts_with("https://") || u.starts_with("http://") || u.starts_with('/'));
    let Some(url) = url else {
        return Err("Publishes no port");
    };
    match s.phase {
        Phase::Running => Ok(url.to_string()),
        Phase::Pending | Phase::Starting => Err("Starting: opens when ready"),
        Phase::Failed => Err("Failed: see the reason"),
        Phase::Terminating => Err("Terminating: it is being removed"),
    }
}

/// The GUID of a system page's hash route, `#/systems/<guid>`.
pub fn system_route(hash: &str) -> Option<String> {
    let guid = hash.strip_prefix("#/systems/")?.trim_end_matches('/');
    let valid = !guid.is_empty() && guid.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    valid.then(|| guid.to_string())
}

/// Whether `hash` is My systems' own view (`#/systems`).
pub fn is_systems_route(hash: &str) -> bool {
    matches!(hash, "#/systems" | "#/systems/")
}

/// The GUIDs of the systems table in its order: newest first, then by name. The table keys its
/// rows by these, so a refresh only inserts, moves or removes the rows whose systems came, went
/// or moved.
pub fn table_order(systems: &[SystemStatus]) -> Vec<String> {
    let mut rows: Vec<&SystemStatus> = systems.iter().collect();
    rows.sort_by(|a, b| {
        b.created
            .cmp(&a.created)
            .then(a.name.cmp(&b.name))
            .then(a.guid.cmp(&b.guid))
    });
    rows.into_iter().map(|s| s.guid.clone()).collect()
}

/// Which systems the table shows: every one, or those in one state. Pending counts as
/// starting (neither can be opened yet, both should become ready by themselves).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PhaseFilter {
    #[default]
    All,
    Running,
    Starting,
    Failed,
}

impl PhaseFilter {
    pub const EACH: [PhaseFilter; 4] = [
        PhaseFilter::All,
        PhaseFilter::Running,
        PhaseFilter::Starting,
        PhaseFilter::Failed,
    ];

    pub fn label(self) -> &'static str {
        match self {
            PhaseFilter::All => "All",
            PhaseFilter::Running => "Running",
            PhaseFilter::Starting => "Starting",
            PhaseFilter::Failed => "Failed",
        }
    }

    pub fn admits(self, phase: Phase) -> bool {
        match self {
            PhaseFilter::All => true,
            PhaseFilter::Running => phase == Phase::Running,
            PhaseFilter::Starting => matches!(phase, Phase::Pending | Phase::Starting),
            PhaseFilter::Failed => phase == Phase::Failed,
        }
    }
}

/// [`table_order`] of the systems in `phase` and (when given) of `owner`.
pub fn filtered_order(
    systems: &[SystemStatus],
    phase: PhaseFilter,
    owner: Option<&str>,
) -> Vec<String> {
    let shown: Vec<SystemStatus> = systems
        .iter()
        .filter(|s| phase.admits(s.phase) && owner.is_none_or(|o| s.username == o))
        .cloned()
        .collect();
    table_order(&shown)
}

/// The owners of `systems`, each once, sorted: the choices of an admin's owner filter.
pub fn owners(systems: &[SystemStatus]) -> Vec<String> {
    let set: std::collections::BTreeSet<&str> =
        systems.iter().map(|s| s.username.as_str()).collect();
    set.into_iter().map(str::to_string).collect()
}

/// What deleting a system's volumes would remove, in words: `2 volumes (data, work), 15 GiB`.
/// Empty without volumes.
pub fn volumes_summary(volumes: &[tycho_api::Volume]) -> String {
    if volumes.is_empty() {
        return String::new();
    }
    let names: Vec<&str> = volumes.iter().map(|v| v.volume.as_str()).collect();
    let total: u64 = volumes.iter().map(|v| v.size_bytes).sum();
    let count = match volumes.len() {
        1 => "1 volume".to_string(),
        n => format!("{n} volumes"),
    };
    format!("{count} ({}), {}", names.join(", "), size(total))
}

/// `42s`, `5m`, `3h`, `2d`.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// Millicores as CPUs for people: `2`, `0.25`.
fn cpus(milli: u64) -> String {
    trim_float(milli as f64 / 1000.0)
}

/// Bytes for people: `4 GiB`, `64 MiB`.
fn human_bytes(bytes: u64) -> String {
    if bytes == 0 {
        return "default memory".into();
    }
    size(bytes)
}

/// What a running system asks for, in the editor's units: `0.25 CPU · 256 MiB · 1 GPU` (a
/// quantity that does not read is shown as written, a missing one as `–`).
pub fn system_resources(r: &tycho_api::Resources) -> String {
    let cpu = match r.cpu.as_str() {
        "" => "–".to_string(),
        text => tycho_compiler::parse_cpus(text).map_or_else(|| text.to_string(), cpus),
    };
    let memory = match r.memory.as_str() {
        "" => "–".to_string(),
        text => tycho_compiler::parse_kube_bytes(text).map_or_else(|| text.to_string(), size),
    };
    let gpus = match r.gpus {
        0 => String::new(),
        n => format!(" · {n} GPU"),
    };
    format!("{cpu} CPU · {memory}{gpus}")
}

/// A size for people: `10 GiB`, `512 MiB` (the dashboard's one unit style).
pub fn size(bytes: u64) -> String {
    let b = bytes as f64;
    let gi = b / 1073741824.0;
    if gi >= 1.0 {
        format!("{} GiB", trim_float(gi))
    } else {
        format!("{} MiB", trim_float(b / 1048576.0))
    }
}

fn trim_float(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod catalog_tests {
    use super::*;

    #[test]
    fn rstudio_is_marked_where_the_policy_cannot_run_it() {
        let catalog = catalog();
        let rstudio = catalog
            .iter()
            .find(|e| e.slug == "rstudio")
            .expect("RStudio");
        assert!(rstudio.needs_baseline);
        // Its card's facts are those of the system it would run.
        assert_eq!(rstudio.ports, ["rstudio:8787"]);
        assert!(catalog_blocker(rstudio, &Policy::default()).is_some());
        let baseline = Policy {
            profile: tycho_compiler::SecurityProfile::Baseline,
            ..Policy::default()
        };
        assert_eq!(catalog_blocker(rstudio, &baseline), None);
        let nginx = catalog.iter().find(|e| e.slug == "nginx").expect("nginx");
        assert_eq!(catalog_blocker(nginx, &Policy::default()), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documents of a multi-document YAML file: one per `---` line.
    fn document_count(yaml: &str) -> usize {
        yaml.lines().filter(|line| *line == "---").count()
    }

    #[test]
    fn catalog_is_embedded_and_compiles() {
        let entries = catalog();
        assert!(entries.len() >= 4, "catalog has {} entries", entries.len());
        let nginx = entries.iter().find(|e| e.slug == "nginx").expect("nginx");
        assert_eq!(nginx.title, "nginx");
        assert!(nginx.images[0].starts_with("nginxinc/"));
        assert_eq!(nginx.ports, vec!["web:80".to_string()]);
        assert_eq!(nginx.resources, "0.25 CPU · 64 MiB");
        for e in &entries {
            assert!(!e.images.is_empty(), "{} does not compile", e.slug);
            assert!(!e.description.is_empty(), "{} has no description", e.slug);
        }
    }

    #[test]
    fn analysis_points_at_the_line_and_previews_when_fixed() {
        let bad = "services:\n  web:\n    image: nginx\n    ports:\n      - \"eighty\"\n";
        let a = analyze(
            bad,
            "demo",
            &BTreeMap::new(),
            &Policy::default(),
            &Files::new(),
        );
        assert!(a.errors() > 0);
        assert_eq!(a.marked_lines().get(&5), Some(&Severity::Error), "{a:?}");
        assert!(a.documents.is_empty());

        let good = "services:\n  web:\n    image: nginx\n    ports:\n      - \"8080:80\"\n";
        let a = analyze(
            good,
            "demo",
            &BTreeMap::new(),
            &Policy::default(),
            &Files::new(),
        );
        assert_eq!(a.errors(), 0, "{:?}", a.diagnostics);
        assert_eq!(a.documents[0].label, "Deployment");
        assert!(a.documents[0].yaml.contains("kind: Deployment"));
        assert!(a.documents.iter().any(|d| d.label == "Service"));
        assert_eq!(document_count(&a.yaml), a.documents.len());
    }

    #[test]
    fn the_servers_policy_refuses_memory_above_its_maximum() {
        let text = "services:\n  web:\n    image: nginx\n    mem_limit: 8g\n    cpus: 2\n";
        let default = analyze(
            text,
            "",
            &BTreeMap::new(),
            &Policy::default(),
            &Files::new(),
        );
        assert_eq!(default.errors(), 0, "{:?}", default.diagnostics);
        assert_eq!(default.resources[0].memory.asked, "8 GiB");
        assert_eq!(default.resources[0].memory.max, "32 GiB");
        assert!(!default.resources[0].over());

        let answer = |policy| {
            serde_json::to_string(&tycho_api::PolicyResponse { policy }).expect("serialise")
        };
        let policy = parse_policy(&answer(serde_json::json!({
            "max_resources": {"cpu": "4", "memory": "4Gi", "gpus": 0}
        })))
        .expect("a policy in the compiler's shape");
        let capped = analyze(text, "", &BTreeMap::new(), &policy, &Files::new());
        let error = capped
            .diagnostics
            .iter()
            .find(|d| d.code == tycho_compiler::codes::ABOVE_POLICY_MAX)
            .expect("memory above the maximum");
        assert_eq!(error.line, 4, "{error:?}");
        // No plan, yet the resources are still shown, the memory marked.
        assert!(capped.documents.is_empty());
        let web = &capped.resources[0];
        assert_eq!(web.service, "web");
        assert_eq!(
            (web.cpu.asked.as_str(), web.cpu.max.as_str()),
            ("2 CPU", "4")
        );
        assert!(!web.cpu.over);
        assert_eq!(
            (web.memory.asked.as_str(), web.memory.max.as_str()),
            ("8 GiB", "4 GiB")
        );
        assert!(web.memory.over);

        assert!(parse_policy(&answer(serde_json::json!({"max_resources": {"cpu": 4}}))).is_err());
    }

    #[test]
    fn resources_stay_shown_when_the_whole_system_is_above_its_maximum() {
        // Each service is within the per-container cap; together they are above the system's.
        let text =
            "services:\n  a:\n    image: nginx\n    cpus: 2\n  b:\n    image: nginx\n    cpus: 2\n";
        let policy = Policy {
            max_pod_resources: tycho_compiler::Resources {
                cpu: "3".into(),
                memory: "64Gi".into(),
                gpus: 2,
            },
            ..Policy::default()
        };
        let capped = analyze(text, "", &BTreeMap::new(), &policy, &Files::new());
        assert!(
            capped
                .diagnostics
                .iter()
                .any(|d| d.code == tycho_compiler::codes::ABOVE_POLICY_MAX),
            "{:?}",
            capped.diagnostics
        );
        assert_eq!(capped.resources.len(), 2, "both services are still shown");
        assert_eq!(capped.resources[0].cpu.asked, "2 CPU");
    }

    #[test]
    fn resources_stay_shown_above_any_cap() {
        // The replicas cap stopped the second compile that used to show the amounts.
        let text =
            "services:\n  web:\n    image: nginx\n    cpus: 2\n    deploy:\n      replicas: 3\n";
        let policy = Policy {
            max_replicas: 2,
            ..Policy::default()
        };
        let capped = analyze(text, "", &BTreeMap::new(), &policy, &Files::new());
        assert!(capped.errors() > 0 && capped.documents.is_empty());
        assert_eq!(capped.resources[0].cpu.asked, "2 CPU");
        assert_eq!(capped.resources[0].cpu.max, "8");
    }

    #[test]
    fn variables_with_defaults() {
        let text = "# $IGNORED\nx: ${A}\ny: ${B:-bee} $C and $$D ${A}\nz: ${E-e}\n";
        let vars = variables(text);
        let names: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["A", "B", "C", "E"]);
        assert_eq!(vars[1].default.as_deref(), Some("bee"));
        assert_eq!(vars[3].default.as_deref(), Some("e"));
    }

    #[test]
    fn the_base_path_is_set_by_tycho() {
        let vars = variables("x: ${TYCHO_BASE_PATH}\ny: ${POSTGRES_PASSWORD:-tycho}\n");
        let set: Vec<bool> = vars.iter().map(Variable::set_by_tycho).collect();
        assert_eq!(set, [true, false]);
    }

    #[test]
    fn open_only_when_running_with_a_connect_url() {
        let mut s: SystemStatus = serde_json::from_value(serde_json::json!({
            "guid": "g", "name": "n", "username": "u", "phase": "Starting",
            "ready": 0, "desired": 1, "ports": [],
            "connect_url": "http://127.0.0.1:8099/connect/g/"
        }))
        .expect("a status");
        assert_eq!(open_target(&s, false), Err("Starting: opens when ready"));
        s.phase = Phase::Running;
        assert_eq!(
            open_target(&s, false).as_deref(),
            Ok("http://127.0.0.1:8099/connect/g/")
        );
        assert_eq!(
            open_target(&s, true),
            Err("Terminating: it is being removed")
        );
        s.phase = Phase::Failed;
        assert_eq!(open_target(&s, false), Err("Failed: see the reason"));
        s.phase = Phase::Running;
        s.connect_url = Some("javascript:alert(1)".into());
        assert_eq!(open_target(&s, false), Err("Publishes no port"));
        s.connect_url = None;
        assert_eq!(open_target(&s, false), Err("Publishes no port"));
    }

    #[test]
    fn ages_and_titles() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(125), "2m");
        assert_eq!(age(7200), "2h");
        assert_eq!(age(200_000), "2d");
        assert_eq!(system_route("#/systems/abc123"), Some("abc123".into()));
        assert_eq!(system_route("#/systems/abc123/"), Some("abc123".into()));
        assert_eq!(system_route("#/systems/"), None);
        assert_eq!(system_route("#/systems/a\"b"), None);
        assert_eq!(system_route("#/"), None);
        assert!(is_systems_route("#/systems") && is_systems_route("#/systems/"));
        assert!(!is_systems_route("#/") && !is_systems_route("#/systems/abc123"));
        let about =
            tycho_compiler::x_tycho("x-tycho:\n  title: \"T\"\n  description: D d\nservices: {}\n");
        let (t, d) = (about.title, about.description);
        assert_eq!((t.as_deref(), d.as_deref()), (Some("T"), Some("D d")));
    }
}

#[cfg(test)]
mod volume_tests {
    use super::*;

    #[test]
    fn a_systems_resources_read_in_the_editors_units() {
        let r = |cpu: &str, memory: &str, gpus: u32| tycho_api::Resources {
            cpu: cpu.into(),
            memory: memory.into(),
            gpus,
        };
        assert_eq!(
            system_resources(&r("250m", "256Mi", 0)),
            "0.25 CPU · 256 MiB"
        );
        assert_eq!(system_resources(&r("2", "4Gi", 1)), "2 CPU · 4 GiB · 1 GPU");
        assert_eq!(system_resources(&r("", "", 0)), "– CPU · –");
    }

    fn volume(name: &str, bytes: u64) -> tycho_api::Volume {
        serde_json::from_value(serde_json::json!({
            "name": format!("{name}-g"), "kind": "system", "volume": name, "username": "alice",
            "size": "", "size_bytes": bytes, "phase": "Bound", "created": "", "in_use": true
        }))
        .expect("a volume")
    }

    #[test]
    fn a_systems_volumes_are_summed_and_named() {
        assert_eq!(volumes_summary(&[]), "");
        assert_eq!(
            volumes_summary(&[volume("work", 10 << 30)]),
            "1 volume (work), 10 GiB"
        );
        assert_eq!(
            volumes_summary(&[volume("data", 5 << 30), volume("cache", 512 << 20)]),
            "2 volumes (data, cache), 5.5 GiB"
        );
    }
}

#[cfg(test)]
mod table_order_tests {
    use super::*;

    fn system(guid: &str, name: &str, created: &str) -> SystemStatus {
        serde_json::from_value(serde_json::json!({
            "guid": guid, "name": name, "username": "alice", "phase": "Running",
            "ready": 1, "desired": 1, "ports": [], "created": created
        }))
        .expect("a status")
    }

    #[test]
    fn newest_first_then_by_name_and_guid() {
        let systems = [
            system("a1", "web", "2026-01-01T10:00:00Z"),
            system("b2", "db", "2026-01-01T11:00:00Z"),
            system("c3", "api", "2026-01-01T10:00:00Z"),
            system("d4", "api", "2026-01-01T10:00:00Z"),
        ];
        assert_eq!(table_order(&systems), ["b2", "c3", "d4", "a1"]);
        // The order does not depend on the order the server listed them in.
        let mut reversed = systems.to_vec();
        reversed.reverse();
        assert_eq!(table_order(&reversed), table_order(&systems));
    }

    #[test]
    fn filters_keep_one_state_and_one_owner() {
        let mut systems = vec![
            system("a1", "web", "2026-01-01T10:00:00Z"),
            system("b2", "db", "2026-01-01T11:00:00Z"),
            system("c3", "api", "2026-01-01T12:00:00Z"),
            system("d4", "lab", "2026-01-01T13:00:00Z"),
        ];
        systems[1].phase = Phase::Pending;
        systems[2].phase = Phase::Failed;
        systems[3].phase = Phase::Starting;
        systems[3].username = "bob".into();
        let order = |phase, owner| filtered_order(&systems, phase, owner);
        assert_eq!(order(PhaseFilter::All, None), ["d4", "c3", "b2", "a1"]);
        assert_eq!(order(PhaseFilter::Running, None), ["a1"]);
        assert_eq!(order(PhaseFilter::Starting, None), ["d4", "b2"]);
        assert_eq!(order(PhaseFilter::Failed, None), ["c3"]);
        assert_eq!(order(PhaseFilter::Starting, Some("alice")), ["b2"]);
        assert_eq!(order(PhaseFilter::All, Some("carol")), Vec::<String>::new());
        assert_eq!(owners(&systems), ["alice", "bob"]);
    }
}

#[cfg(test)]
mod not_translated_tests {
    use super::*;

    #[test]
    fn unsupported_keys_are_listed_with_their_line() {
        let text = "services:\n  up:\n    image: busybox\n    restart: always\n    container_name: x\n    logging:\n      driver: json-file\n";
        let a = analyze(
            text,
            "",
            &BTreeMap::new(),
            &Policy::default(),
            &Files::new(),
        );
        assert_eq!(a.errors(), 0, "{:?}", a.diagnostics);
        let keys: Vec<(&str, usize)> = a
            .not_translated
            .iter()
            .map(|n| (n.key.as_str(), n.line))
            .collect();
        assert_eq!(keys, [("container_name", 5), ("logging", 6)]);
        assert_eq!(a.marked_lines().get(&5), Some(&Severity::Warning));
    }
}
