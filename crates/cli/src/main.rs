//! The `tycho` command.

mod offline;

use clap::{Parser, Subcommand};
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
    /// Write the Kubernetes manifests for a compose file (for `kubectl apply -f -`).
    #[command(
        after_help = "Example:\n  tycho compile -f docker-compose.yaml --env HOST_PORT=8080 | kubectl apply -f -"
    )]
    Compile(offline::CompileArgs),
    /// Check a compose file and print diagnostics; exits 1 when there are errors.
    #[command(after_help = "Example:\n  tycho validate -f docker-compose.yaml --format json")]
    Validate(offline::ValidateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Compile(args) => offline::compile(&args),
        Command::Validate(args) => offline::validate(&args),
    }
}
