//! `tycho compile` and `tycho validate`: the compiler on a local file, no server needed.

use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tycho_compiler::{CompileOptions, Diagnostic, diagnostic};

use crate::error::CliError;

#[derive(Args)]
pub struct InputArgs {
    /// The compose file (`-` for standard input).
    #[arg(short = 'f', long = "file", default_value = "docker-compose.yaml")]
    pub file: PathBuf,
    /// A variable for `$VAR` interpolation (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A file of KEY=VALUE lines; by default the `.env` beside the compose file, if any.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// System name; by default the file's top-level `name:` or its folder's name.
    #[arg(long)]
    pub name: Option<String>,
    /// Operator policy (YAML or JSON) to check against.
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

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

#[derive(Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub input: InputArgs,
    /// `human` (like rustc) or `json`.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Output {
    Yaml,
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

pub fn compile(args: &CompileArgs) -> Result<(), CliError> {
    let (text, mut options) = read_input(&args.input)?;
    options.guid = args.guid.clone().unwrap_or_default();
    options.namespace = args.namespace.clone().unwrap_or_default();
    if let Some(user) = &args.username {
        options.username = user.clone();
    }
    let compiled = tycho_compiler::compile(&text, &options);
    let rendered = diagnostic::render(
        &compiled.diagnostics,
        &display_name(&args.input.file),
        &text,
    );
    let Some(plan) = compiled.plan else {
        return Err(CliError::Diagnostics(rendered));
    };
    // Warnings: the manifests are written all the same.
    eprint!("{rendered}");
    match args.output {
        Output::Yaml => print!("{}", plan.to_yaml()),
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()
        ),
    }
    Ok(())
}

pub fn validate(args: &ValidateArgs) -> Result<(), CliError> {
    let (text, options) = read_input(&args.input)?;
    let diagnostics = tycho_compiler::validate(&text, &options);
    report(&diagnostics, args.format, &args.input.file, &text)
}

/// Prints the diagnostics (they are `validate`'s output); an error among them fails.
fn report(
    diagnostics: &[Diagnostic],
    format: Format,
    file: &Path,
    text: &str,
) -> Result<(), CliError> {
    match format {
        Format::Human if diagnostics.is_empty() => println!("{}: ok", display_name(file)),
        Format::Human => print!(
            "{}",
            diagnostic::render(diagnostics, &display_name(file), text)
        ),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(diagnostics).unwrap_or_default()
        ),
    }
    if diagnostics.iter().any(Diagnostic::is_error) {
        Err(CliError::Reported)
    } else {
        Ok(())
    }
}

pub fn display_name(file: &Path) -> String {
    if file == Path::new("-") {
        "<stdin>".into()
    } else {
        file.display().to_string()
    }
}

/// A compose file with its env and system name, read the same way by every command.
pub struct ComposeInput {
    pub text: String,
    pub env: BTreeMap<String, String>,
    /// Empty when the compiler should take the file's own `name:`.
    pub name: String,
}

/// Reads `file` (`-` for stdin), then the env: the `.env` beside the file (or `env_file`),
/// overridden by `KEY=VALUE` pairs. The name defaults as [`default_name`] says.
pub fn read_compose(
    file: &Path,
    env_file: Option<&Path>,
    pairs: &[String],
    name: Option<&str>,
) -> Result<ComposeInput, CliError> {
    read_compose_text(file, env_file, pairs, name).map_err(CliError::Usage)
}

fn read_compose_text(
    file: &Path,
    env_file: Option<&Path>,
    pairs: &[String],
    name: Option<&str>,
) -> Result<ComposeInput, String> {
    let bytes = if file == Path::new("-") {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buffer)
            .map_err(|e| format!("reading standard input: {e}"))?;
        buffer
    } else {
        std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
    };
    let text = tycho_compiler::decode(&bytes)
        .map_err(|d| {
            format!(
                "{}:{}:{}: {}",
                display_name(file),
                d.line,
                d.column,
                d.message
            )
        })?
        .to_string();
    let mut env = BTreeMap::new();
    let beside = (file != Path::new("-"))
        .then(|| file.with_file_name(".env"))
        .filter(|p| p.is_file());
    if let Some(path) = env_file.map(Path::to_path_buf).or(beside) {
        let content = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        env.extend(parse_env_file(&content).map_err(|m| format!("{}: {m}", path.display()))?);
    }
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| format!("--env {pair}: expected KEY=VALUE"))?;
        env.insert(key.to_string(), value.to_string());
    }
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| default_name(file, &text));
    Ok(ComposeInput { text, env, name })
}

/// Reads the compose file, env and policy (failures are usage errors).
fn read_input(args: &InputArgs) -> Result<(String, CompileOptions), CliError> {
    let input = read_compose(
        &args.file,
        args.env_file.as_deref(),
        &args.env,
        args.name.as_deref(),
    )?;
    let policy = match &args.policy {
        Some(path) => {
            let content = std::fs::read_to_string(path)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", path.display())))?;
            tycho_compiler::parse_policy(&content)
                .map_err(|m| CliError::Usage(format!("{}: {m}", path.display())))?
        }
        None => Default::default(),
    };
    let options = CompileOptions {
        name: input.name,
        env: input.env,
        policy,
        ..Default::default()
    };
    Ok((input.text, options))
}

/// The folder's name as a DNS label (compose names projects after their folder), unless the
/// file names itself with a top-level `name:` (then the compiler uses that).
fn default_name(file: &Path, text: &str) -> String {
    if file == Path::new("-") || text.lines().any(|l| l.starts_with("name:")) {
        return String::new();
    }
    let folder = std::fs::canonicalize(file)
        .ok()
        .and_then(|p| {
            p.parent()
                .and_then(|d| d.file_name())
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    let label: String = folder
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(tycho_compiler::MAX_SYSTEM_NAME)
        .collect();
    let label = label
        .trim_matches(|c: char| !c.is_ascii_alphanumeric())
        .trim_start_matches(|c: char| c.is_ascii_digit());
    label.to_string()
}

/// `KEY=VALUE` lines; `#` comments, blank lines, `export ` and surrounding quotes allowed.
pub fn parse_env_file(content: &str) -> Result<Vec<(String, String)>, String> {
    let mut pairs = Vec::new();
    for (i, line) in content.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("line {}: expected KEY=VALUE", i + 1))?;
        let value = value.trim();
        let unquoted = ['"', '\'']
            .iter()
            .find_map(|q| value.strip_prefix(*q).and_then(|v| v.strip_suffix(*q)))
            .unwrap_or(value);
        pairs.push((key.trim().to_string(), unquoted.to_string()));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_files() {
        let pairs = parse_env_file("# c\nA=1\nexport B=\"two words\"\n\nC='x=y'\n").unwrap();
        assert_eq!(
            pairs,
            [
                ("A".into(), "1".into()),
                ("B".into(), "two words".into()),
                ("C".into(), "x=y".into())
            ]
        );
        assert!(parse_env_file("oops").is_err());
    }
}
