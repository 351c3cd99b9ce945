//! The async runtime the server's commands (`up`, `status`, `down`) run their requests on.

use crate::error::CliError;

/// Runs `future` to its end on a runtime for this one command (the server's commands).
pub fn block_on(
    future: impl std::future::Future<Output = Result<(), CliError>>,
) -> Result<(), CliError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the async runtime: {e}")))?
        .block_on(future)
}
