//! `tycho logs`: print the log of one container of a system, or follow it as it is written.

use clap::Args;
use std::io::Write;
use tycho_client::LogOptions;

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// The system (its GUID, as `tycho status` shows it).
    pub guid: String,
    /// The container (a compose service); default: the primary service's, else the first
    /// app container. A wrong name fails with the names of the system's containers.
    #[arg(short, long)]
    pub container: Option<String>,
    /// Only the last N lines (the server gives at most 10000; 1000 by default).
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,
    /// Only lines written in the last N seconds.
    #[arg(long, value_name = "SECONDS")]
    pub since: Option<u32>,
    /// Keep printing lines as they are written, until the container ends (or Ctrl-C).
    #[arg(short, long)]
    pub follow: bool,
    /// The log of the previous instance of the container (the one that crashed).
    #[arg(short, long, conflicts_with = "follow")]
    pub previous: bool,
    #[command(flatten)]
    pub connection: Connection,
}

fn write_out(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Failed(format!("cannot write the log: {e}")))
}

pub fn run(args: &LogsArgs) -> Result<(), CliError> {
    let options = LogOptions {
        container: args.container.clone(),
        tail: args.tail,
        since_seconds: args.since,
        previous: args.previous,
    };
    block_on(async {
        let client = args.connection.client().await?;
        if !args.follow {
            let text = client.logs(&args.guid, &options).await?;
            return write_out(text.as_bytes());
        }
        let mut follow = client.follow_logs(&args.guid, &options).await?;
        while let Some(chunk) = follow.next_chunk().await? {
            write_out(&chunk)?;
        }
        Ok(())
    })
}
