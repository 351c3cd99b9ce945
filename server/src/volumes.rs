//! What the volume endpoints do: list the caller's claims (admins: anyone's), and delete one
//! of them unless a system mounts it. Ownership is the claim's exact owner, as for systems.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::executor::{ExecError, Filter};
use crate::ops::executor;
use crate::state::AppState;
use tycho_api::Volume;

/// The claims `caller` may see (their own; admins everyone's or one user's), optionally only
/// those of the system `guid` (its own and the reused ones it mounted last: what deleting it
/// with `volumes=delete` would remove).
pub async fn list(
    state: &AppState,
    caller: &Caller,
    user: Option<&str>,
    guid: Option<&str>,
) -> Result<Vec<Volume>, ApiError> {
    let executor = executor(state)?;
    let mut filter = match user {
        Some(u) if caller.admin || u == caller.username => Filter::user(u),
        Some(_) => {
            return Err(ApiError::Forbidden(
                "only admins may list other users' volumes".into(),
            ));
        }
        None if caller.admin => Filter::all(),
        None => Filter::user(&caller.username),
    };
    if let Some(guid) = guid {
        crate::ops::check_guid(guid)?;
        filter.guid = Some(guid.to_string());
    }
    Ok(executor.volumes(&filter).await?)
}

/// Deletes the claim `name` if `caller` owns it (or is an admin): anyone else gets the 404 of
/// a name that does not exist. Refused (409, naming the system) while a system mounts it.
pub async fn delete(state: &AppState, caller: &Caller, name: &str) -> Result<Volume, ApiError> {
    let not_found = || ApiError::NotFound(format!("no volume {name:?}"));
    if !is_claim_name(name) {
        return Err(not_found());
    }
    let executor = executor(state)?;
    let filter = if caller.admin {
        Filter::all()
    } else {
        Filter::user(&caller.username)
    };
    let find = |volumes: Vec<Volume>| volumes.into_iter().find(|v| v.name == name);
    let volume = find(executor.volumes(&filter).await?).ok_or_else(not_found)?;
    // The owner's start lock: no start of theirs mounts it between the look and the delete.
    let lock = state.user_lock(&volume.username);
    let _user = lock.lock().await;
    let volume = find(executor.volumes(&filter).await?).ok_or_else(not_found)?;
    if let Some(user) = volume.used_by.iter().find(|u| !u.terminating) {
        return Err(ExecError::Conflict(format!(
            "volume {name} is mounted by system `{}` ({}); delete that system first",
            user.name, user.guid
        ))
        .into());
    }
    if let Some(user) = volume.used_by.first() {
        return Err(ExecError::Conflict(format!(
            "volume {name} is still in use by a system being deleted (`{}`, {}); try again in a moment",
            user.name, user.guid
        ))
        .into());
    }
    executor.delete_volume(name).await?;
    tracing::info!(claim = %name, owner = %volume.username, by = %caller.username, "volume deleted");
    Ok(volume)
}

/// A claim name as Tycho makes them (a DNS label); anything else is refused before it reaches
/// a request path.
fn is_claim_name(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    #[test]
    fn claim_names_are_dns_labels() {
        assert!(super::is_claim_name("data-0123abc"));
        for bad in ["", "-a", "a-", "A", "a/b", "a.b", &"a".repeat(64)] {
            assert!(!super::is_claim_name(bad), "{bad:?}");
        }
    }
}
