//! `tycho down`: delete systems by GUID or all of the caller's, telling "deleted" apart from
//! "nothing of yours there".

use clap::Args;
use tycho_client::api::VolumeRef;
use tycho_client::{Client, Deletion, Error, Removal};

use super::runtime::block_on;
use crate::connection::Connection;
use crate::error::CliError;

#[derive(Args, Debug)]
pub struct DownArgs {
    /// The systems to delete. None at all is not an error: there is nothing to delete, so
    /// `tycho down $(tycho status --terse)` does nothing when nothing runs.
    #[arg(conflicts_with = "all")]
    pub guids: Vec<String>,
    /// Delete every one of your systems.
    #[arg(long)]
    pub all: bool,
    /// A GUID with no system of yours is a note, not a failure (exit 0), as for `rm -f`.
    #[arg(long)]
    pub ignore_missing: bool,
    /// Delete the systems' volumes too (their own and the reused ones they mounted last), as
    /// `docker compose down -v`; by default they are kept (`tycho volumes` lists them). The
    /// home is never deleted with a system.
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[command(flatten)]
    pub connection: Connection,
}

/// What `tycho down` did with one GUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DownOutcome {
    Deleted,
    Terminating,
    /// Nothing of the caller's under this GUID: never existed, already gone, someone else's.
    NothingThere,
}

/// Deletes one system, telling "deleted" apart from "there was nothing of yours".
///
/// The server answers a DELETE with 204 alike for a system it just removed and for a GUID with
/// nothing of the caller's (so a DELETE cannot probe other users' GUIDs); the status read before
/// it is what tells them apart. The DELETE is still sent after a 404: it also removes leftovers
/// the status does not show (objects of a system whose Deployment is gone).
async fn delete_one(
    client: &Client,
    guid: &str,
    volumes: bool,
) -> Result<(DownOutcome, Removal), Error> {
    let existed = match client.get(guid).await {
        Ok(_) => true,
        Err(e) if e.is_not_found() => false,
        Err(e) => return Err(e),
    };
    let removal = client.delete_system(guid, volumes).await?;
    let outcome = match removal.deletion {
        Deletion::Terminating => DownOutcome::Terminating,
        Deletion::Gone if existed => DownOutcome::Deleted,
        // Its volumes were deleted (`-v` after the system had gone): something of the caller's
        // was there. Volumes only kept again are not news: the system was already gone.
        Deletion::Gone if !removal.deleted.is_empty() => DownOutcome::Deleted,
        Deletion::Gone => DownOutcome::NothingThere,
    };
    Ok((outcome, removal))
}

/// `; kept volumes data-… (1Gi), …` (with the way to remove them) or `; deleted volumes …`.
fn volumes_text(removal: &Removal) -> String {
    let list = |volumes: &[VolumeRef]| {
        volumes
            .iter()
            .map(|v| format!("{} ({})", v.name, v.size))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut text = String::new();
    if !removal.kept.is_empty() {
        text.push_str(&format!(
            "; kept volumes {} (`tycho volumes rm NAME` deletes one, `tycho down -v` all of a system's)",
            list(&removal.kept)
        ));
    }
    if !removal.deleted.is_empty() {
        text.push_str(&format!("; deleted volumes {}", list(&removal.deleted)));
    }
    text
}

/// The GUIDs `down` works through: the named ones, or every one of the caller's with `--all`.
async fn down_targets(client: &Client, args: &DownArgs) -> Result<Vec<String>, Error> {
    if args.all {
        Ok(client.list().await?.into_iter().map(|s| s.guid).collect())
    } else {
        Ok(args.guids.clone())
    }
}

/// Deletes the named systems (or all with `--all`), saying for each what happened; any that
/// failed make the command fail after the rest were tried.
pub fn run(args: &DownArgs) -> Result<(), CliError> {
    if args.guids.is_empty() && !args.all {
        // `tycho down $(tycho status --terse)` with nothing running: nothing to ask the server.
        println!("nothing to delete: no GUIDs given (--all deletes every system of yours)");
        return Ok(());
    }
    // A system that went away between the list and its delete was not named by the user.
    let missing_is_fine = args.ignore_missing || args.all;
    block_on(async {
        let client = args.connection.client().await?;
        let guids = down_targets(&client, args).await?;
        if guids.is_empty() {
            println!("nothing to delete: none running");
            return Ok(());
        }
        let mut failed = false;
        for guid in &guids {
            let said = match delete_one(&client, guid, args.volumes).await {
                Ok((DownOutcome::Deleted, removal)) => {
                    Ok(format!("{guid} deleted{}", volumes_text(&removal)))
                }
                Ok((DownOutcome::Terminating, removal)) => {
                    Ok(format!("{guid} terminating{}", volumes_text(&removal)))
                }
                Ok((DownOutcome::NothingThere, _)) if missing_is_fine => {
                    Ok(format!("nothing to delete: no system {guid} of yours"))
                }
                Ok((DownOutcome::NothingThere, _)) => Err(CliError::Failed(format!(
                    "nothing to delete: no system {guid} of yours"
                ))),
                // Not a GUID at all (the server checks their form before looking).
                Err(e) if e.is_not_found() => Err(CliError::Failed(format!(
                    "nothing to delete: {guid:?} is not a GUID"
                ))),
                // The same cause would stop the rest (server down, bad token).
                Err(e)
                    if matches!(e, Error::Unreachable { .. } | Error::Timeout { .. })
                        || e.is_auth() =>
                {
                    return Err(e.into());
                }
                Err(e) => Err(e.into()),
            };
            match said {
                Ok(line) => println!("{line}"),
                Err(failure) => {
                    failure.print();
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
