//! The compose file a command reads, the same way for `compile`, `validate` and `up`: the file
//! (or standard input) and the override files merged over it (`-f` again), its env (`.env`, `--env-file`, `--env`), the system name and the files
//! it names (see [`crate::bundle`]); and the flags `compile` and `validate` share, with the
//! policy.
//!
//! Everything that goes wrong here is a usage error (exit 2): no server was asked.

use clap::Args;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tycho_compiler::{CompileOptions, Files};

use crate::error::CliError;

/// The input flags of `compile` and `validate`.
#[derive(Args)]
pub struct InputArgs {
    /// The compose file (`-` for standard input); repeated, the later files are merged over
    /// it in order, as `docker compose -f a.yaml -f b.yaml` does (they must be in its folder).
    #[arg(short = 'f', long = "file", default_value = "docker-compose.yaml")]
    pub files: Vec<PathBuf>,
    /// A variable for `$VAR` interpolation (repeatable).
    #[arg(long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// A file of KEY=VALUE lines; by default the `.env` beside the compose file, if any.
    #[arg(long)]
    pub env_file: Option<PathBuf>,
    /// System name; by default the file's top-level `name:` or its folder's name.
    #[arg(long)]
    pub name: Option<String>,
    /// A Compose profile to activate (repeatable); else COMPOSE_PROFILES from `.env`/--env.
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// Operator policy (YAML or JSON) to check against.
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

impl InputArgs {
    /// The compose file (the first `-f`).
    pub fn file(&self) -> &Path {
        first(&self.files)
    }

    /// Reads the compose files, env, files and policy: the input and the compiler's options.
    pub fn read(&self) -> Result<(ComposeInput, CompileOptions), CliError> {
        let input = read_compose(
            &self.files,
            self.env_file.as_deref(),
            &self.env,
            self.name.as_deref(),
            &self.profiles,
        )?;
        let policy = match &self.policy {
            Some(path) => {
                let content = std::fs::read_to_string(path).map_err(|e| cannot_read(path, e))?;
                tycho_compiler::parse_policy(&content)
                    .map_err(|m| CliError::Usage(format!("{}: {m}", path.display())))?
            }
            None => Default::default(),
        };
        let options = CompileOptions {
            name: input.name.clone(),
            env: input.env.clone(),
            profiles: self.profiles.clone(),
            policy,
            ..Default::default()
        };
        Ok((input, options))
    }
}

/// The compose file of a list of `-f` files (clap gives at least one, its default).
pub fn first(files: &[PathBuf]) -> &Path {
    files.first().map_or(Path::new("-"), PathBuf::as_path)
}

/// How diagnostics name the file: its path, or `<stdin>` for `-`.
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
    /// The files the compose files name, read from beside it, and the override files.
    pub files: Files,
    /// The project paths of the override files (the later `-f`s), in order.
    pub override_files: Vec<String>,
}

/// Reads the first of `files` (`-` for stdin), then the env: the `.env` beside the file (or
/// `env_file`), overridden by `KEY=VALUE` pairs; then the other files (override files, in the
/// first file's folder: the project folder, as in Compose) and the files they all name (of the
/// services `profiles` enable). The name defaults as [`default_name`] says.
pub fn read_compose(
    files: &[PathBuf],
    env_file: Option<&Path>,
    pairs: &[String],
    name: Option<&str>,
    profiles: &[String],
) -> Result<ComposeInput, CliError> {
    let file = first(files);
    let bytes = if file == Path::new("-") {
        let mut buffer = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buffer)
            .map_err(|e| CliError::Usage(format!("reading standard input: {e}")))?;
        buffer
    } else {
        std::fs::read(file).map_err(|e| cannot_read(file, e))?
    };
    let text = tycho_compiler::decode(&bytes)
        .map_err(|d| {
            CliError::Usage(format!(
                "{}:{}:{}: {}",
                display_name(file),
                d.line,
                d.column,
                d.message
            ))
        })?
        .to_string();
    let mut env = BTreeMap::new();
    let beside = (file != Path::new("-"))
        .then(|| file.with_file_name(".env"))
        .filter(|p| p.is_file());
    if let Some(path) = env_file.map(Path::to_path_buf).or(beside) {
        let content = std::fs::read_to_string(&path).map_err(|e| cannot_read(&path, e))?;
        // Only what the file itself sets: the CLI's variables come from files and flags, never
        // from its own environment.
        let pairs = tycho_compiler::parse_env_file(&content, &BTreeMap::new())
            .map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))?;
        env.extend(pairs);
    }
    for pair in pairs {
        let (key, value) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("--env {pair}: expected KEY=VALUE")))?;
        env.insert(key.to_string(), value.to_string());
    }
    let name = name
        .map(str::to_string)
        .unwrap_or_else(|| default_name(file, &text));
    // The files of the services the profiles leave out are not read.
    let options = CompileOptions {
        name: name.clone(),
        env: env.clone(),
        profiles: profiles.to_vec(),
        ..Default::default()
    };
    let folder = match file.parent() {
        Some(parent) if file != Path::new("-") && !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let override_files = files
        .iter()
        .skip(1)
        .map(|path| crate::bundle::project_file(folder, path))
        .collect::<Result<Vec<_>, _>>()?;
    let files = crate::bundle::read_referenced(folder, &text, &override_files, &options)?;
    Ok(ComposeInput {
        text,
        env,
        name,
        files,
        override_files,
    })
}

fn cannot_read(path: &Path, error: std::io::Error) -> CliError {
    CliError::Usage(format!("cannot read {}: {error}", path.display()))
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
    tycho_compiler::names::system_name_from_folder(&folder)
}
