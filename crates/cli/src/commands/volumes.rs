//! `tycho volumes`: the caller's volumes (kept by deletes, reused, the home, in use) as a
//! table or JSON; `tycho volumes rm NAME…` deletes some, data and all.

use clap::{Args, Subcommand, ValueEnum};

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;
use crate::render::volumes::volumes_table;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct VolumesArgs {
    #[command(subcommand)]
    pub command: Option<VolumesCommand>,
    /// Only this user's volumes (admins; others may name only themselves).
    #[arg(long)]
    pub user: Option<String>,
    /// Only the volumes of this system (what `tycho down -v GUID` would delete).
    #[arg(long, value_name = "GUID")]
    pub system: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: VolumesFormat,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Subcommand, Debug)]
pub enum VolumesCommand {
    /// Delete volumes of yours and their data (refused while a system mounts one).
    Rm(RmArgs),
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// The volumes' names, as `tycho volumes` lists them.
    #[arg(required = true)]
    pub names: Vec<String>,
    #[command(flatten)]
    pub connection: Connection,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum VolumesFormat {
    Table,
    Json,
}

pub fn run(args: &VolumesArgs) -> Result<(), CliError> {
    match &args.command {
        Some(VolumesCommand::Rm(rm)) => remove(rm),
        None => list(args),
    }
}

fn list(args: &VolumesArgs) -> Result<(), CliError> {
    block_on(async {
        let client = args.connection.client().await?;
        let volumes = match (&args.system, &args.user) {
            (Some(guid), _) => client.volumes_of_system(guid).await?,
            (None, Some(user)) => client.volumes_of_user(user).await?,
            (None, None) => client.volumes().await?,
        };
        match args.output {
            VolumesFormat::Json => {
                let json = serde_json::to_string_pretty(&volumes)
                    .map_err(|e| CliError::Failed(e.to_string()))?;
                println!("{json}");
            }
            VolumesFormat::Table if volumes.is_empty() => println!("no volumes"),
            VolumesFormat::Table => print!("{}", volumes_table(&volumes)),
        }
        Ok(())
    })
}

/// Deletes each named volume, saying what happened; any failure fails the command after the
/// rest were tried.
fn remove(args: &RmArgs) -> Result<(), CliError> {
    block_on(async {
        let client = args.connection.client().await?;
        let mut failed = false;
        for name in &args.names {
            match client.delete_volume(name).await {
                Ok(()) => println!("{name} deleted"),
                Err(e) if e.is_not_found() => {
                    CliError::Failed(format!("no volume {name} of yours")).print();
                    failed = true;
                }
                Err(e) if e.is_auth() => return Err(e.into()),
                Err(e) => {
                    CliError::from(e).print();
                    failed = true;
                }
            }
        }
        if failed {
            Err(CliError::Reported)
        } else {
            Ok(())
        }
    })
}
