//! `tycho up`: start a system from a compose file on the server; with `--wait`, until it is
//! ready or cannot become so.

use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;
use tycho_client::api::StartRequest;
use tycho_client::{Error, WaitOptions};

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;
use crate::input::{display_name, first, read_compose};
use crate::render::diagnostics::server_diagnostics;
use crate::render::progress::Progress;
use crate::render::systems::{started_table, where_text};

#[derive(Args, Debug)]
pub struct UpArgs {
    /// The compose file (`-` for standard input); repeated, the later files are merged over
    /// it in order, as `docker compose -f a.yaml -f b.yaml` does (they must be in its folder).
    #[arg(short = 'f', long = "file", default_value = "docker-compose.yaml")]
    pub files: Vec<PathBuf>,
    /// System name; by default the file's top-level `name:` or its folder's name.
    #[arg(long)]
    pub name: Option<String>,
    /// A variable for `$VAR` interpolation (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A Compose profile to activate (repeatable); else COMPOSE_PROFILES from `.env`/--env.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
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

/// Reads the compose input (a usage error if it cannot), starts the system, prints its rows
/// and, with `--wait`, follows it until ready.
pub fn run(args: &UpArgs) -> Result<(), CliError> {
    let (text, request) = read_up_input(args)?;
    let name = display_name(first(&args.files));
    block_on(async {
        let client = args.connection.client().await?;
        let started = client
            .start(&request)
            .await
            .map_err(|e| CliError::with_source(e, &name, &text))?;
        if !started.diagnostics.is_empty() {
            eprint!("{}", server_diagnostics(&started.diagnostics, &name, &text));
        }
        if args.terse {
            println!("{}", started.guid);
        } else {
            print!("{}", started_table(&started));
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

/// Compose text, env and name for `up` (the same rules as `tycho compile`).
fn read_up_input(args: &UpArgs) -> Result<(String, StartRequest), CliError> {
    let input = read_compose(
        &args.files,
        args.env_file.as_deref(),
        &args.env,
        args.name.as_deref(),
        &args.profiles,
    )?;
    let request = StartRequest {
        compose: serde_json::Value::String(input.text.clone()),
        name: input.name,
        env: input.env,
        client_cidrs: Vec::new(),
        profiles: args.profiles.clone(),
        files: input.files,
        override_files: input.override_files,
    };
    Ok((input.text, request))
}
