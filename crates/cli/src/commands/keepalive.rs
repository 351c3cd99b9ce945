//! `tycho keepalive`: count as activity now, so an idle system is not culled yet.

use clap::Args;

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;

#[derive(Args, Debug)]
pub struct KeepaliveArgs {
    /// The systems (their GUIDs, as `tycho status` shows them).
    #[arg(required = true)]
    pub guids: Vec<String>,
    #[command(flatten)]
    pub connection: Connection,
}

pub fn run(args: &KeepaliveArgs) -> Result<(), CliError> {
    block_on(async {
        let client = args.connection.client().await?;
        for guid in &args.guids {
            let status = client.keepalive(guid).await?;
            match status.cull_at.as_str() {
                "" => println!("{guid}: kept alive"),
                at => println!(
                    "{guid}: kept alive; still deleted at {at} ({})",
                    status.cull_reason
                ),
            }
        }
        Ok(())
    })
}
