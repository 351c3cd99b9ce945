//! The `tycho` command: its subcommands and their dispatch. Each subcommand lives in
//! `commands/<name>.rs`; a failure comes back as an [`error::CliError`], printed here.

mod bundle;
mod commands;
mod connection;
mod error;
mod input;
mod render;

use clap::{CommandFactory, Parser, Subcommand};
use commands::{
    api, compile, completions, down, keepalive, logs, quota, status, up, validate, volumes,
};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "tycho",
    version,
    about = "Compile docker-compose systems to Kubernetes and run them"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the dashboard and the REST API (validate and compile work without a cluster).
    #[command(
        after_help = "Examples:\n  tycho api --insecure-no-auth            # local planning, no sign-in\n  tycho api --tokens tokens.csv --namespace tycho --policy policy.yaml"
    )]
    // Boxed: the server has many flags, the other commands few.
    Api(Box<tycho_server::ApiArgs>),
    /// Write the Kubernetes manifests for a compose file (for `kubectl apply -f -`).
    #[command(
        after_help = "Example:\n  tycho compile -f docker-compose.yaml --env HOST_PORT=8080 | kubectl apply -f -"
    )]
    Compile(compile::CompileArgs),
    /// Check a compose file and print diagnostics; exits 1 when there are errors.
    #[command(after_help = "Example:\n  tycho validate -f docker-compose.yaml --format json")]
    Validate(validate::ValidateArgs),
    /// Start a system on a Tycho server; prints SYSTEM, GUID and PORT.
    #[command(
        after_help = "Examples:\n  tycho up -f docker-compose.yaml --name web --wait\n  tycho up -f app.yaml --env-file prod.env --env TAG=1.2 -s http://tycho:8099\n\nServer: -s/--server, TYCHO_URL, the config file, the in-cluster `tycho-api` Service, or http://localhost:8099.\nToken: --token, TYCHO_TOKEN, or `token = \"…\"` in ~/.config/tycho/config.toml."
    )]
    Up(up::UpArgs),
    /// Show your systems: SYSTEM, GUID, STATUS, READY, URL/PORT, AGE.
    #[command(
        after_help = "Examples:\n  tycho status\n  tycho status 0f3c9a… -o yaml\n  tycho down $(tycho status --terse)"
    )]
    Status(status::StatusArgs),
    /// Delete systems (their Deployment, Service and NetworkPolicy; -v: their volumes too).
    #[command(
        after_help = "Examples:\n  tycho down 0f3c9a…\n  tycho down -v 0f3c9a…      # its volumes too\n  tycho down --all\n  tycho down $(tycho status --terse)\n\nVolumes are kept unless -v is given, as with `docker compose down`; `tycho volumes` lists them.\n\nExit status: 0 when every GUID was deleted or is terminating, and when there was nothing to\ndelete (no GUIDs given, or --all with nothing running). 1 when a GUID names no system of yours\n(a typo, one already gone, or someone else's: the server does not say which), unless\n--ignore-missing; with --all a system gone meanwhile is not a failure. 1 on any other error."
    )]
    Down(down::DownArgs),
    /// Print the log of one container of a system; -f follows it as it is written.
    #[command(
        after_help = "Examples:\n  tycho logs 0f3c9a…\n  tycho logs 0f3c9a… -c db --tail 100\n  tycho logs 0f3c9a… -f\n  tycho logs 0f3c9a… -c web --previous   # the instance that crashed"
    )]
    Logs(logs::LogsArgs),
    /// List your volumes (kept by `down`, reused, your home, in use); `rm NAME` deletes one.
    #[command(
        after_help = "Examples:\n  tycho volumes\n  tycho volumes --system 0f3c9a…   # what `tycho down -v 0f3c9a…` would delete\n  tycho volumes rm data-0f3c9a…\n\nA kept volume past the operator's volume_ttl is deleted by the server; EXPIRES says when, and a warning\nfollows the table shortly before."
    )]
    Volumes(volumes::VolumesArgs),
    /// Show your quota: per resource what your systems hold and the limit.
    #[command(
        after_help = "Examples:\n  tycho quota\n  tycho quota --user alice -o json   # admins"
    )]
    Quota(quota::QuotaArgs),
    /// Count as activity now, so an idle system is not culled yet (the maximum lifetime stays).
    #[command(after_help = "Example:\n  tycho keepalive 0f3c9a…")]
    Keepalive(keepalive::KeepaliveArgs),
    /// Write shell completions to standard output.
    #[command(
        after_help = "Examples:\n  tycho completions bash > /etc/bash_completion.d/tycho\n  tycho completions zsh > \"${fpath[1]}/_tycho\"\n  tycho completions fish > ~/.config/fish/completions/tycho.fish"
    )]
    Completions(completions::CompletionsArgs),
}

/// Runs the command; its error, if any, is printed here and only here.
fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Api(args) => api::run(*args),
        Command::Compile(args) => compile::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Up(args) => up::run(&args),
        Command::Status(args) => status::run(&args),
        Command::Down(args) => down::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Volumes(args) => volumes::run(&args),
        Command::Quota(args) => quota::run(&args),
        Command::Keepalive(args) => keepalive::run(&args),
        Command::Completions(args) => completions::run(&args, Cli::command()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            error.print();
            error.exit_code()
        }
    }
}
