//! `tycho compile`: the Kubernetes manifests for a compose file, on standard output, with no
//! server (for `kubectl apply -f -`).

use clap::{Args, ValueEnum};
use tycho_compiler::diagnostic;

use crate::error::CliError;
use crate::input::{InputArgs, display_name};

#[derive(Args)]
pub struct CompileArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "yaml")]
    pub output: Output,
    /// Instance GUID; by default one derived from the input, so output is stable.
    #[arg(long)]
    pub guid: Option<String>,
    /// Namespace to write into the objects.
    #[arg(long)]
    pub namespace: Option<String>,
    /// Owner written into labels.
    #[arg(long)]
    pub username: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Output {
    Yaml,
    Json,
}

/// Compiles the file and writes the manifests; diagnostics go to standard error.
pub fn run(args: &CompileArgs) -> Result<(), CliError> {
    let (input, mut options) = args.input.read()?;
    let (text, files) = (&input.text, &input.files);
    options.guid = args.guid.clone().unwrap_or_default();
    options.namespace = args.namespace.clone().unwrap_or_default();
    if let Some(user) = &args.username {
        options.username = user.clone();
    }
    let compiled =
        tycho_compiler::compile_with_overrides(text, &input.override_files, files, &options);
    let rendered = diagnostic::render_with_files(
        &compiled.diagnostics,
        &display_name(args.input.file()),
        text,
        files,
    );
    let Some(plan) = compiled.plan else {
        return Err(CliError::Diagnostics(rendered));
    };
    // Warnings: the manifests are written all the same.
    eprint!("{rendered}");
    if plan.secret.is_some() {
        eprintln!(
            "note: the Secret's values are shown as their sizes, never printed; `tycho up` sends them to the server"
        );
    }
    match args.output {
        Output::Yaml => print!("{}", plan.to_yaml()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()
        ),
    }
    Ok(())
}
