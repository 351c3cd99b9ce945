//! `tycho completions SHELL`: shell completions, generated from the clap command.

use clap::Args;

use crate::error::CliError;

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    pub shell: clap_complete::Shell,
}

/// Writes shell completions for `command` to standard output.
pub fn run(args: &CompletionsArgs, mut command: clap::Command) -> Result<(), CliError> {
    clap_complete::generate(args.shell, &mut command, "tycho", &mut std::io::stdout());
    Ok(())
}
