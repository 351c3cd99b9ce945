//! [`CliError`]: why a command failed and its exit code, rendered for people in one place.
//!
//! Commands return `Result<(), CliError>`; `main` prints the error and exits with its code. A
//! command that goes on after one item failed (a GUID among several) prints that item's error
//! with [`CliError::print`] and ends with [`CliError::Reported`].

use std::process::ExitCode;
use tycho_client::Error;
use tycho_client::api::Severity;

use crate::render::diagnostics::server_diagnostics;

/// Why a command failed.
#[derive(Debug)]
pub enum CliError {
    /// Bad flags, input or config, found before asking a server: exit 2.
    Usage(String),
    /// A failure said in one line (`error: …`): exit 1.
    Failed(String),
    /// The server, or the way to it, failed: exit 1, with a hint where one helps. Boxed: a
    /// client error is large and every `Result` of the CLI carries this type.
    Client(Box<ClientError>),
    /// The compiler's diagnostics, already rendered (they say what is wrong): exit 1.
    Diagnostics(String),
    /// The reason was printed as it happened (or is the command's output): exit 1, nothing more.
    Reported,
}

/// A [`tycho_client::Error`] with what it needs to be told well.
#[derive(Debug)]
pub struct ClientError {
    pub error: Error,
    /// The compose file's display name and text, to render a 422's diagnostics against.
    pub source: Option<(String, String)>,
    /// One more `  hint: …` line after the error.
    pub hint: Option<String>,
}

impl From<Error> for CliError {
    fn from(error: Error) -> Self {
        CliError::Client(Box::new(ClientError {
            error,
            source: None,
            hint: None,
        }))
    }
}

impl CliError {
    /// A client error on a request that sent this compose file (`name`, `text`).
    pub fn with_source(error: Error, name: &str, text: &str) -> Self {
        CliError::Client(Box::new(ClientError {
            error,
            source: Some((name.to_string(), text.to_string())),
            hint: None,
        }))
    }

    /// A client error followed by `  hint: {hint}`.
    pub fn with_hint(error: Error, hint: String) -> Self {
        CliError::Client(Box::new(ClientError {
            error,
            source: None,
            hint: Some(hint),
        }))
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            CliError::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }

    /// What goes to standard error, every line ending in a newline; empty for `Reported`.
    pub fn render(&self) -> String {
        match self {
            CliError::Usage(message) | CliError::Failed(message) => format!("error: {message}\n"),
            CliError::Client(client) => client.render(),
            CliError::Diagnostics(rendered) => rendered.clone(),
            CliError::Reported => String::new(),
        }
    }

    /// Prints [`render`](Self::render) to standard error.
    pub fn print(&self) {
        eprint!("{}", self.render());
    }
}

impl ClientError {
    fn render(&self) -> String {
        let mut out = render_client_error(&self.error, self.source.as_ref());
        if let Some(hint) = &self.hint {
            out.push_str(&format!("  hint: {hint}\n"));
        }
        out
    }
}

/// A client error for people; `source` (name, text) renders 422 diagnostics against the file.
fn render_client_error(error: &Error, source: Option<&(String, String)>) -> String {
    match error {
        Error::Unreachable { .. } | Error::Timeout { .. } => format!(
            "error: {error}\n  hint: start a server with `tycho api`, or name one with --server or TYCHO_URL\n"
        ),
        Error::Api(problem) if problem.status == 401 => format!(
            "error: the server did not accept the token (401 {}){}\n  hint: pass --token, set TYCHO_TOKEN, or put token = \"…\" in ~/.config/tycho/config.toml\n",
            problem.title,
            detail(&problem.detail)
        ),
        Error::Api(problem) if problem.status == 403 => format!(
            "error: not allowed (403 {}){}\n",
            problem.title,
            detail(&problem.detail)
        ),
        Error::Api(problem) if !problem.errors.is_empty() => {
            let (name, text) = source
                .map(|(name, text)| (name.as_str(), text.as_str()))
                .unwrap_or(("<compose>", ""));
            let errors = problem
                .errors
                .iter()
                .filter(|d| d.severity == Severity::Error)
                .count();
            format!(
                "{}error: {name}: the server refused the compose file ({} {}, {errors} error{})\n",
                server_diagnostics(&problem.errors, name, text),
                problem.status,
                problem.title,
                if errors == 1 { "" } else { "s" }
            )
        }
        Error::Api(problem) => {
            let mut line = format!("error: {} ({})", problem.title, problem.status);
            if !problem.detail.is_empty() {
                line.push_str(&format!(": {}", problem.detail));
            }
            if !problem.reason.is_empty() {
                line.push_str(&format!(" [{}]", problem.reason));
            }
            line.push('\n');
            line
        }
        other => format!("error: {other}\n"),
    }
}

/// `: {detail}`, or nothing when the server gave none.
fn detail(d: &str) -> String {
    if d.is_empty() {
        String::new()
    } else {
        format!(": {d}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_and_lines() {
        let usage = CliError::Usage("--env X: expected KEY=VALUE".into());
        assert_eq!(usage.exit_code(), ExitCode::from(2));
        assert_eq!(usage.render(), "error: --env X: expected KEY=VALUE\n");
        let failed = CliError::Failed("no system 0123".into());
        assert_eq!(failed.exit_code(), ExitCode::FAILURE);
        assert_eq!(failed.render(), "error: no system 0123\n");
        assert_eq!(CliError::Reported.exit_code(), ExitCode::FAILURE);
        assert_eq!(CliError::Reported.render(), "");
        let rendered = "error[TY0001]: YAML syntax\n".to_string();
        assert_eq!(CliError::Diagnostics(rendered.clone()).render(), rendered);
    }
}
