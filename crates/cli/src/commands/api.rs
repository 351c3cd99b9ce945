//! `tycho api`: the dashboard and REST API server, which lives in `tycho_server`.

use crate::error::CliError;

/// Runs the server until it stops; errors (e.g. the port is taken) exit 1 with the reason.
pub fn run(args: tycho_server::ApiArgs) -> Result<(), CliError> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?;
    runtime
        .block_on(tycho_server::run(args))
        .map_err(|e| CliError::Failed(e.to_string()))
}
