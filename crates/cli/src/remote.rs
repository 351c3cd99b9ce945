//! `tycho up`, `tycho status`, `tycho down`: the server's `/api/v1` through [`tycho_client`].
//!
//! The server is `--server`, else `$TYCHO_URL`, else `server` in the config file, else (inside a
//! Kubernetes pod) the `tycho-api` Service of the pod's namespace, else
//! `http://localhost:8099`. The token is `--token`, else `$TYCHO_TOKEN`, else `token` in the
//! config file (`$TYCHO_CONFIG`, default `~/.config/tycho/config.toml`).

use clap::{Args, ValueEnum};
use serde::Deserialize;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tycho_client::api::{Diagnostic, KubeEvent, Severity, StartRequest, SystemStatus};
use tycho_client::{Client, Deletion, Error, WaitOptions};

use crate::error::CliError;

/// Where the server is and who we are.
#[derive(Args, Debug, Clone)]
pub struct Connection {
    /// Tycho server URL [default: the config file's, the in-cluster `tycho-api` Service, or
    /// http://localhost:8099].
    #[arg(short = 's', long, env = "TYCHO_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token [default: the config file's `token`].
    #[arg(long, env = "TYCHO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Config file with `server = "…"` and `token = "…"` [default:
    /// ~/.config/tycho/config.toml].
    #[arg(long, env = "TYCHO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The compose file (`-` for standard input).
    #[arg(short = 'f', long = "file", default_value = "docker-compose.yaml")]
    pub file: PathBuf,
    /// System name; by default the file's top-level `name:` or its folder's name.
    #[arg(long)]
    pub name: Option<String>,
    /// A variable for `$VAR` interpolation (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A file of KEY=VALUE lines; by default the `.env` beside the compose file, if any.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// Wait until the system is ready; fail at once when it cannot become ready.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// Print only the GUID.
    #[arg(long)]
    pub terse: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Only these systems (default: all of yours).
    pub guids: Vec<String>,
    /// Print only the GUIDs, one a line (for `tycho down $(tycho status --terse)`).
    #[arg(long, conflicts_with = "output")]
    pub terse: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: StatusFormat,
    /// Also show what Kubernetes reported about each named system (scheduling, image pulls,
    /// restarts), oldest first.
    #[arg(long, requires = "guids", conflicts_with_all = ["terse", "output"])]
    pub events: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StatusFormat {
    Table,
    Json,
    Yaml,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The systems to delete. None at all is not an error: there is nothing to delete, so
    /// `tycho down $(tycho status --terse)` does nothing when nothing runs.
    #[arg(conflicts_with = "all")]
    pub guids: Vec<String>,
    /// Delete every one of your systems.
    #[arg(long)]
    pub all: bool,
    /// A GUID with no system of yours is a note, not a failure (exit 0), as for `rm -f`.
    #[arg(long)]
    pub ignore_missing: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    pub shell: clap_complete::Shell,
}

/// Writes shell completions for `command` to standard output.
pub fn completions(args: &CompletionsArgs, mut command: clap::Command) -> Result<(), CliError> {
    clap_complete::generate(args.shell, &mut command, "tycho", &mut std::io::stdout());
    Ok(())
}

/// The config file's contents.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub server: Option<String>,
    pub token: Option<String>,
}

fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("tycho").join("config.toml"))
}

fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, CliError> {
    let Some(path) = config_path(explicit) else {
        return Ok(ConfigFile::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
        }
        // Only a file named explicitly must exist.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            Ok(ConfigFile::default())
        }
        Err(e) => Err(CliError::Usage(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// The `tycho-api` Service's URL when this runs in a pod; `None` elsewhere or when not found.
async fn discover_in_cluster() -> Option<String> {
    std::env::var_os("KUBERNETES_SERVICE_HOST")?;
    let config = kube::Config::incluster().ok()?;
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).ok()?;
    let services: kube::Api<k8s_openapi::api::core::v1::Service> =
        kube::Api::namespaced(client, &namespace);
    // kube retries 503s for minutes; discovery must not hang the command.
    let service = tokio::time::timeout(Duration::from_secs(5), services.get("tycho-api"))
        .await
        .ok()?
        .ok()?;
    service_url(&service, &namespace)
}

/// `http://tycho-api.<namespace>.svc:<port>` from the Service's first port.
pub fn service_url(
    service: &k8s_openapi::api::core::v1::Service,
    namespace: &str,
) -> Option<String> {
    let port = service.spec.as_ref()?.ports.as_ref()?.first()?.port;
    let name = service.metadata.name.as_deref()?;
    Some(format!("http://{name}.{namespace}.svc:{port}"))
}

/// The client for these flags (config file and discovery as the module docs say).
async fn connect(connection: &Connection) -> Result<Client, CliError> {
    let config = load_config(connection.config.as_deref())?;
    let server = match connection.server.clone().or(config.server) {
        Some(s) => s,
        None => discover_in_cluster()
            .await
            .unwrap_or_else(|| tycho_client::DEFAULT_URL.to_string()),
    };
    Client::builder(server)
        .maybe_token(connection.token.clone().or(config.token))
        .build()
        .map_err(|e| CliError::Usage(e.to_string()))
}

/// Runs `future` to its end on a runtime for this one command.
fn block_on(
    future: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}

/// The server's diagnostics rendered the way `tycho validate` renders the compiler's.
pub fn render(diagnostics: &[Diagnostic], name: &str, text: &str) -> String {
    let converted: Vec<tycho_compiler::Diagnostic> = diagnostics
        .iter()
        .map(|d| tycho_compiler::Diagnostic {
            severity: match d.severity {
                Severity::Error => tycho_compiler::Severity::Error,
                Severity::Warning => tycho_compiler::Severity::Warning,
            },
            code: d.code.clone(),
            message: d.message.clone(),
            path: d.path.clone(),
            line: d.line,
            column: d.column,
        })
        .collect();
    tycho_compiler::diagnostic::render(&converted, name, text)
}

/// Compose text, env and name for `up` (the same rules as `tycho compile`).
fn read_up_input(args: &UpArgs) -> Result<(String, StartRequest), CliError> {
    let input = crate::offline::read_compose(
        &args.file,
        args.env_file.as_deref(),
        &args.env,
        args.name.as_deref(),
    )?;
    let request = StartRequest {
        compose: serde_json::Value::String(input.text.clone()),
        name: input.name,
        env: input.env,
        client_cidrs: Vec::new(),
    };
    Ok((input.text, request))
}

/// Left-aligned columns, two spaces apart.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

/// `45s`, `3m`, `2h5m`, `4d`.
pub fn age(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => {
            let m = (s % 3600) / 60;
            if m == 0 {
                format!("{}h", s / 3600)
            } else {
                format!("{}h{m}m", s / 3600)
            }
        }
        s => format!("{}d", s / 86_400),
    }
}

fn phase_text(s: &SystemStatus) -> String {
    if s.reason.is_empty() || s.reason == s.phase.as_str() {
        s.phase.as_str().to_string()
    } else {
        format!("{} ({})", s.phase.as_str(), s.reason)
    }
}

/// Where to reach a system: the URL to open (Tycho's proxy), else the in-cluster URL, else
/// the published ports.
fn where_text(s: &SystemStatus) -> String {
    if let Some(url) = s.connect_url.as_ref().or(s.url.as_ref()) {
        return url.clone();
    }
    let ports: Vec<String> = s
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(n) => format!("{}:{n}/{}", p.port, p.protocol),
            None => format!("{}/{}", p.port, p.protocol),
        })
        .collect();
    if ports.is_empty() {
        "-".into()
    } else {
        ports.join(",")
    }
}

/// The `tycho status` table.
pub fn status_table(systems: &[SystemStatus]) -> String {
    let rows: Vec<Vec<String>> = systems
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.guid.clone(),
                phase_text(s),
                format!("{}/{}", s.ready, s.desired),
                where_text(s),
                age(s.age_seconds),
            ]
        })
        .collect();
    table(
        &["SYSTEM", "GUID", "STATUS", "READY", "URL/PORT", "AGE"],
        &rows,
    )
}

/// The `tycho status GUID --events` table. Times as `2026-01-02 03:04:05` (UTC, no fraction).
pub fn events_table(events: &[KubeEvent]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let time = e.last_seen.as_deref().or(e.first_seen.as_deref());
            let time = time
                .map(|t| t.chars().take(19).collect::<String>().replace('T', " "))
                .unwrap_or_else(|| "-".into());
            let reason = if e.count > 1 {
                format!("{} (x{})", e.reason, e.count)
            } else {
                e.reason.clone()
            };
            vec![
                time,
                e.kind.clone(),
                reason,
                e.object.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    table(&["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"], &rows)
}

/// One line of progress for `up --wait`: a spinner on a terminal, a line per change elsewhere.
struct Progress {
    tty: bool,
    frame: usize,
    last: String,
    started: Instant,
}

impl Progress {
    fn new() -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            frame: 0,
            last: String::new(),
            started: Instant::now(),
        }
    }

    fn update(&mut self, s: &SystemStatus) {
        const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
        let mut what = format!(
            "{} {} {}/{} ready",
            s.name,
            phase_text(s),
            s.ready,
            s.desired
        );
        if !s.message.is_empty() && s.phase != tycho_client::api::Phase::Running {
            what.push_str(&format!(": {}", s.message));
        }
        let mut err = std::io::stderr();
        if self.tty {
            self.frame = (self.frame + 1) % FRAMES.len();
            let _ = write!(
                err,
                "\r\x1b[2K{} {what} ({}s)",
                FRAMES[self.frame],
                self.started.elapsed().as_secs()
            );
            let _ = err.flush();
        } else if what != self.last && s.phase != tycho_client::api::Phase::Failed {
            // A failure is reported once, as the error.
            let _ = writeln!(err, "waiting: {what}");
        }
        self.last = what;
    }

    fn finish(&self) {
        if self.tty {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

pub fn up(args: &UpArgs) -> Result<(), CliError> {
    let (text, request) = read_up_input(args)?;
    let name = crate::offline::display_name(&args.file);
    block_on(async {
        let client = connect(&args.connection).await?;
        let started = client
            .start(&request)
            .await
            .map_err(|e| CliError::with_source(e, &name, &text))?;
        if !started.diagnostics.is_empty() {
            eprint!("{}", render(&started.diagnostics, &name, &text));
        }
        if args.terse {
            println!("{}", started.guid);
        } else {
            let rows: Vec<Vec<String>> = if started.ports.is_empty() {
                vec![vec![started.name.clone(), started.guid.clone(), "-".into()]]
            } else {
                started
                    .ports
                    .iter()
                    .map(|p| {
                        vec![
                            started.name.clone(),
                            started.guid.clone(),
                            p.port.to_string(),
                        ]
                    })
                    .collect()
            };
            print!("{}", table(&["SYSTEM", "GUID", "PORT"], &rows));
            // The start answer has no connect URL (the server builds it from its public URL
            // or the Host it was reached at); the status does.
            if let Ok(s) = client.get(&started.guid).await
                && let Some(url) = &s.connect_url
            {
                println!("open: {url}");
            }
        }
        let _ = std::io::stdout().flush();
        if !args.wait {
            return Ok(());
        }
        let mut progress = Progress::new();
        let options = WaitOptions {
            interval: Duration::from_millis(500),
            timeout: Duration::from_secs(args.timeout),
        };
        let result = client
            .wait_until_running(&started.guid, options, |s| progress.update(s))
            .await;
        progress.finish();
        match result {
            Ok(s) => {
                eprintln!(
                    "ready: {} {} {}/{} at {}",
                    s.name,
                    s.guid,
                    s.ready,
                    s.desired,
                    where_text(&s)
                );
                Ok(())
            }
            Err(e @ Error::Failed(_)) => {
                let hint = format!(
                    "`tycho down {}` removes it; `tycho status {} -o yaml` shows every container",
                    started.guid, started.guid
                );
                Err(CliError::with_hint(e, hint))
            }
            Err(e) => Err(e.into()),
        }
    })
}

pub fn status(args: &StatusArgs) -> Result<(), CliError> {
    block_on(async {
        let client = connect(&args.connection).await?;
        let mut failed = false;
        let systems = if args.guids.is_empty() {
            client.list().await?
        } else {
            let mut found = Vec::new();
            for guid in &args.guids {
                match client.get(guid).await {
                    Ok(s) => found.push(s),
                    Err(e) if e.is_not_found() => {
                        CliError::Failed(format!("no system {guid}")).print();
                        failed = true;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            found
        };
        if args.terse {
            for s in &systems {
                println!("{}", s.guid);
            }
        } else {
            match args.output {
                StatusFormat::Table if systems.is_empty() => {
                    if !failed {
                        println!("None running");
                    }
                }
                StatusFormat::Table => print!("{}", status_table(&systems)),
                StatusFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&systems).unwrap_or_default()
                ),
                StatusFormat::Yaml => {
                    let yaml = serde_saphyr::to_string(&systems)
                        .map_err(|e| CliError::Failed(format!("cannot write YAML: {e}")))?;
                    print!("{yaml}");
                }
            }
        }
        if args.events && !print_events(&client, &systems).await {
            failed = true;
        }
        if failed {
            Err(CliError::Reported)
        } else {
            Ok(())
        }
    })
}

/// Prints each system's Kubernetes Events under the status table; false when a read failed.
async fn print_events(client: &tycho_client::Client, systems: &[SystemStatus]) -> bool {
    let mut ok = true;
    for s in systems {
        match client.kube_events(&s.guid).await {
            Ok(events) if events.is_empty() => println!("\nNo events for {} ({})", s.name, s.guid),
            Ok(events) => {
                println!("\nEvents for {} ({}):", s.name, s.guid);
                print!("{}", events_table(&events));
            }
            Err(e) => {
                CliError::from(e).print();
                ok = false;
            }
        }
    }
    ok
}

/// What `tycho down` did with one GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownOutcome {
    Deleted,
    Terminating,
    /// Nothing of the caller's under this GUID: never existed, already gone, someone else's.
    NothingThere,
}

/// Deletes one system, telling "deleted" apart from "there was nothing of yours".
///
/// The server answers a DELETE with 204 alike for a system it just removed and for a GUID with
/// nothing of the caller's (so a DELETE cannot probe other users' GUIDs); the status read before
/// it is what tells them apart. The DELETE is still sent after a 404: it also removes leftovers
/// the status does not show (objects of a system whose Deployment is gone).
async fn delete_one(client: &Client, guid: &str) -> Result<DownOutcome, Error> {
    let existed = match client.get(guid).await {
        Ok(_) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => return Err(e),
    };
    Ok(match client.delete(guid).await? {
        Deletion::Terminating => DownOutcome::Terminating,
        Deletion::Gone if existed => DownOutcome::Deleted,
        Deletion::Gone => DownOutcome::NothingThere,
    })
}

/// The GUIDs `down` works through: the named ones, or every one of the caller's with `--all`.
async fn down_targets(client: &Client, args: &DownArgs) -> Result<Vec<String>, Error> {
    if args.all {
        Ok(client.list().await?.into_iter().map(|s| s.guid).collect())
    } else {
        Ok(args.guids.clone())
    }
}

pub fn down(args: &DownArgs) -> Result<(), CliError> {
    if args.guids.is_empty() && !args.all {
        // `tycho down $(tycho status --terse)` with nothing running: nothing to ask the server.
        println!("nothing to delete: no GUIDs given (--all deletes every system of yours)");
        return Ok(());
    }
    // A system that went away between the list and its delete was not named by the user.
    let missing_is_fine = args.ignore_missing || args.all;
    block_on(async {
        let client = connect(&args.connection).await?;
        let guids = down_targets(&client, args).await?;
        if guids.is_empty() {
            println!("nothing to delete: none running");
            return Ok(());
        }
        let mut failed = false;
        for guid in &guids {
            let said = match delete_one(&client, guid).await {
                Ok(DownOutcome::Deleted) => Ok(format!("{guid} deleted")),
                Ok(DownOutcome::Terminating) => Ok(format!("{guid} terminating")),
                Ok(DownOutcome::NothingThere) if missing_is_fine => {
                    Ok(format!("nothing to delete: no system {guid} of yours"))
                }
                Ok(DownOutcome::NothingThere) => Err(CliError::Failed(format!(
                    "nothing to delete: no system {guid} of yours"
                ))),
                // Not a GUID at all (the server checks their form before looking).
                Err(e) if e.is_not_found() => Err(CliError::Failed(format!(
                    "nothing to delete: {guid:?} is not a GUID"
                ))),
                // The same cause would stop the rest (server down, bad token).
                Err(e)
                    if matches!(e, Error::Unreachable { .. } | Error::Timeout { .. })
                        || e.is_auth() =>
                {
                    return Err(e.into());
                }
                Err(e) => Err(e.into()),
            };
            match said {
                Ok(line) => println!("{line}"),
                Err(failure) => {
                    failure.print();
                    failed = true;
                }
            }
        }
        if failed {
            Err(CliError::Reported)
        } else {
            Ok(())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tycho_client::api::{Phase, PortStatus};

    fn system(name: &str, phase: Phase, reason: &str) -> SystemStatus {
        serde_json::from_value(serde_json::json!({
            "guid": format!("{name}0000000000000000000000000000"),
            "name": name, "username": "alice", "phase": phase, "ready": 0, "desired": 1,
            "reason": reason, "ports": [], "age_seconds": 125
        }))
        .unwrap()
    }

    #[test]
    fn events_table_columns() {
        let event = |reason: &str, count: u32, last: Option<&str>| KubeEvent {
            kind: "Normal".into(),
            reason: reason.into(),
            message: format!("{reason} happened"),
            object: "Pod/web-abc-1".into(),
            count,
            first_seen: None,
            last_seen: last.map(String::from),
        };
        let text = events_table(&[
            event("Pulled", 1, Some("2026-01-02T03:04:05.123456Z")),
            event("BackOff", 3, None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(header, ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
        assert!(
            lines[1].starts_with("2026-01-02 03:04:05  Normal  Pulled"),
            "{text}"
        );
        assert!(
            lines[1].ends_with("Pod/web-abc-1  Pulled happened"),
            "{text}"
        );
        assert!(lines[2].starts_with("-  "), "{text}");
        assert!(lines[2].contains("BackOff (x3)"), "{text}");
    }

    #[test]
    fn ages() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(125), "2m");
        assert_eq!(age(3600), "1h");
        assert_eq!(age(3600 + 120), "1h2m");
        assert_eq!(age(3 * 86_400 + 5), "3d");
    }

    #[test]
    fn status_table_columns() {
        let mut a = system("web", Phase::Failed, "ImagePullBackOff");
        a.ports.push(PortStatus {
            service: "web".into(),
            container_port: 8080,
            port: 8080,
            protocol: "TCP".into(),
            node_port: Some(30001),
            url: None,
        });
        let mut b = system("db", Phase::Running, "");
        b.ready = 1;
        b.url = Some("http://db.ns:5432/".into());
        // The URL to open (Tycho's proxy) wins over the in-cluster one.
        let mut c = system("lab", Phase::Running, "");
        c.url = Some("http://lab.ns:8888/".into());
        c.connect_url = Some(format!("https://tycho.example.org/connect/{}/", c.guid));
        let open = c.connect_url.clone().unwrap();
        let text = status_table(&[a, b, c]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SYSTEM  GUID"), "{text}");
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(
            header,
            ["SYSTEM", "GUID", "STATUS", "READY", "URL/PORT", "AGE"]
        );
        // Columns line up: AGE starts where the widest URL/PORT cell (the connect URL) ends.
        assert_eq!(lines[0].find("AGE"), lines[3].find("2m"), "{text}");
        assert!(
            lines[1].contains("Failed (ImagePullBackOff)  0/1"),
            "{text}"
        );
        assert!(lines[1].contains("8080:30001/TCP"), "{text}");
        assert!(
            lines[2].contains("Running                    1/1"),
            "{text}"
        );
        assert!(lines[2].contains("http://db.ns:5432/ "), "{text}");
        assert!(lines[3].contains(&format!(" {open}  2m")), "{text}");
        assert!(!lines[3].contains("lab.ns"), "{text}");
    }

    #[test]
    fn config_files() {
        let dir = std::env::temp_dir().join(format!("tycho-cli-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, "server = \"http://x:1\"\ntoken = \"secret-token\"\n").unwrap();
        let c = load_config(Some(&path)).unwrap();
        assert_eq!(c.server.as_deref(), Some("http://x:1"));
        assert_eq!(c.token.as_deref(), Some("secret-token"));
        std::fs::write(&path, "serve = 1\n").unwrap();
        assert!(
            load_config(Some(&path)).is_err(),
            "unknown keys are refused"
        );
        assert!(load_config(Some(&dir.join("missing.toml"))).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_cluster_service_url() {
        let service: k8s_openapi::api::core::v1::Service = serde_json::from_value(
            serde_json::json!({"metadata": {"name": "tycho-api"}, "spec": {"ports": [{"port": 8099}]}}),
        )
        .unwrap();
        assert_eq!(
            service_url(&service, "tycho").as_deref(),
            Some("http://tycho-api.tycho.svc:8099")
        );
        let no_ports: k8s_openapi::api::core::v1::Service =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "tycho-api"}})).unwrap();
        assert_eq!(service_url(&no_ports, "tycho"), None);
    }

    #[test]
    fn kubernetes_policy_configmap_is_a_valid_policy() {
        let text = include_str!("../../../kubernetes/configmap.yaml");
        let policy_text: String = text
            .split("policy.yaml: |\n")
            .nth(1)
            .unwrap()
            .lines()
            .map(|l| l.strip_prefix("    ").unwrap_or(l))
            .collect::<Vec<_>>()
            .join("\n");
        let policy = tycho_compiler::parse_policy(&policy_text).unwrap();
        assert_eq!(policy, tycho_compiler::Policy::default());
        assert!(policy.network.ingress_cidrs.is_empty(), "only Tycho's pods");
    }

    /// The systems' NetworkPolicies admit the Tycho server by its pods' labels: the Deployment
    /// must carry exactly the ones the policy (default and ConfigMap) names.
    #[test]
    fn kubernetes_server_pods_carry_the_labels_the_policy_admits() {
        let text = include_str!("../../../kubernetes/deployment.yaml");
        // Untyped: `defaultMode: 0440` is YAML 1.1's octal, which kubectl reads and serde does not.
        let deployment: serde_json::Value = serde_saphyr::from_str(text).unwrap();
        let template = &deployment["spec"]["template"];
        let labels: std::collections::BTreeMap<String, String> =
            serde_json::from_value(template["metadata"]["labels"].clone()).unwrap();
        let expected = tycho_compiler::Policy::default().network.server_pods.labels;
        assert_eq!(labels, expected);
        let args = &template["spec"]["containers"][0]["args"];
        assert!(
            args.as_array().unwrap().iter().any(|a| a == "--public-url"),
            "{args}"
        );
    }
}
