//! `tycho validate`: the compiler's diagnostics for a compose file, with no server; fails when
//! one is an error.

use clap::{Args, ValueEnum};
use tycho_compiler::{Diagnostic, diagnostic};

use crate::error::CliError;
use crate::input::{InputArgs, display_name};

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// `human` (like rustc) or `json`.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

/// Prints the diagnostics (they are the command's output, on standard output); an error among
/// them fails with nothing more to say.
pub fn run(args: &ValidateArgs) -> Result<(), CliError> {
    let (input, options) = args.input.read()?;
    let (text, files) = (&input.text, &input.files);
    let diagnostics =
        tycho_compiler::compile_with_overrides(text, &input.override_files, files, &options)
            .diagnostics;
    let name = display_name(args.input.file());
    match args.format {
        Format::Human if diagnostics.is_empty() => println!("{name}: ok"),
        Format::Human => print!(
            "{}",
            diagnostic::render_with_files(&diagnostics, &name, text, files)
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&diagnostics).unwrap_or_default()
        ),
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}
