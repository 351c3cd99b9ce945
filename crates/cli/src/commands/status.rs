//! `tycho status`: the caller's systems as a table, GUIDs, JSON or YAML; with `--events`, what
//! Kubernetes reported about them.

use clap::{Args, ValueEnum};
use tycho_client::Client;
use tycho_client::api::SystemStatus;

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;
use crate::render::systems::{events_table, status_table};

#[derive(Args, Debug)]
pub struct StatusArgs {
    /// Only these systems (default: all of yours).
    pub guids: Vec<String>,
    /// Print only the GUIDs, one a line (for `tycho down $(tycho status --terse)`).
    #[arg(long, conflicts_with = "output")]
    pub terse: bool,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: StatusFormat,
    /// Also show what Kubernetes reported about each named system (scheduling, image pulls,
    /// restarts), oldest first.
    #[arg(long, requires = "guids", conflicts_with_all = ["terse", "output"])]
    pub events: bool,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum StatusFormat {
    Table,
    Json,
    Yaml,
}

/// Lists the systems (or the named ones: an unknown GUID is reported and fails at the end).
pub fn run(args: &StatusArgs) -> Result<(), CliError> {
    block_on(async {
        let client = args.connection.client().await?;
        let mut failed = false;
        let systems = if args.guids.is_empty() {
            client.list().await?
        } else {
            let mut found = Vec::new();
            for guid in &args.guids {
                match client.get(guid).await {
                    Ok(s) => found.push(s),
                    Err(e) if e.is_not_found() => {
                        CliError::Failed(format!("no system {guid}")).print();
                        failed = true;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            found
        };
        if args.terse {
            for s in &systems {
                println!("{}", s.guid);
            }
        } else {
            match args.output {
                StatusFormat::Table if systems.is_empty() => {
                    if !failed {
                        println!("None running");
                    }
                }
                StatusFormat::Table => print!("{}", status_table(&systems)),
                StatusFormat::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&systems).unwrap_or_default()
                ),
                StatusFormat::Yaml => {
                    let yaml = serde_saphyr::to_string(&systems)
                        .map_err(|e| CliError::Failed(format!("cannot write YAML: {e}")))?;
                    print!("{yaml}");
                }
            }
        }
        if args.events && !print_events(&client, &systems).await {
            failed = true;
        }
        if failed {
            Err(CliError::Reported)
        } else {
            Ok(())
        }
    })
}

/// Prints each system's Kubernetes Events under the status table; false when a read failed.
async fn print_events(client: &Client, systems: &[SystemStatus]) -> bool {
    let mut ok = true;
    for s in systems {
        match client.kube_events(&s.guid).await {
            Ok(events) if events.is_empty() => println!("\nNo events for {} ({})", s.name, s.guid),
            Ok(events) => {
                println!("\nEvents for {} ({}):", s.name, s.guid);
                print!("{}", events_table(&events));
            }
            Err(e) => {
                CliError::from(e).print();
                ok = false;
            }
        }
    }
    ok
}
