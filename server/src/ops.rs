//! What the endpoints do, shared by `/api/v1` and the compat endpoints: compile with the
//! server's options, start within the limits, list and delete what the caller may see.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::executor::{
    Deleted, ExecError, Executor, Filter, LogRequest, LogStream, Removal, Started, VolumeChoice,
};
use crate::state::AppState;
use futures::StreamExt;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio::sync::Semaphore;
use tycho_api::{Diagnostic, KubeEvent, SystemStatus};
use tycho_compiler::{CompileOptions, Compiled, Files, Plan};

/// How long a start waits for a free slot before answering 503.
const START_QUEUE_TIMEOUT: Duration = Duration::from_secs(30);

/// The inputs of a compile besides the text.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub name: String,
    pub guid: String,
    pub username: String,
    /// The owner's groups (the tokens file's), for the quota's per-group limits.
    pub groups: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub client_cidrs: Vec<String>,
    /// The port the proxy serves at the system's prefix (the compat API's `services`).
    pub primary: Option<tycho_compiler::PrimaryPort>,
    /// The active Compose profiles.
    pub profiles: Vec<String>,
    /// The files sent with the compose file and the override files among them.
    pub files: Bundle,
}

/// The files sent with the compose file, by project path, and which of them are override
/// files merged over it in order (`-f`; the API's `override_files`).
#[derive(Debug, Clone, Default)]
pub struct Bundle {
    pub files: Files,
    pub override_files: Vec<String>,
}

pub fn options(state: &AppState, request: &Request) -> CompileOptions {
    CompileOptions {
        name: request.name.clone(),
        guid: request.guid.clone(),
        username: request.username.clone(),
        namespace: state.settings().namespace.clone(),
        env: request.env.clone(),
        client_cidrs: request.client_cidrs.clone(),
        primary: request.primary.clone(),
        profiles: request.profiles.clone(),
        policy: state.settings().policy.clone(),
    }
}

/// Compiles running at once, process-wide: one per core. More would only queue for the same
/// CPUs and starve everything else the server does (`/healthz`, streams, the proxy).
static COMPILE_SLOTS: LazyLock<Semaphore> =
    LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, |n| n.get())));

/// Compiles, turning a compiler panic into a 500 instead of a dropped connection.
///
/// A compile of a large file takes long enough to stall an async worker (and every request
/// queued on it), so on a multi-threaded runtime the worker first hands its other tasks off
/// (`block_in_place`) and waits there for a compile slot. Handlers should prefer
/// [`compile_async`], which waits for its slot without holding a thread.
pub fn compile(text: &str, files: &Bundle, options: &CompileOptions) -> Result<Compiled, ApiError> {
    let on_worker = tokio::runtime::Handle::try_current()
        .ok()
        .filter(|h| h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread);
    match on_worker {
        Some(handle) => tokio::task::block_in_place(|| {
            let _slot = handle.block_on(COMPILE_SLOTS.acquire());
            compile_here(text, files, options)
        }),
        None => compile_here(text, files, options),
    }
}

fn compile_here(
    text: &str,
    bundle: &Bundle,
    options: &CompileOptions,
) -> Result<Compiled, ApiError> {
    check_files(&bundle.files)?;
    std::panic::catch_unwind(AssertUnwindSafe(|| {
        tycho_compiler::compile_with_overrides(text, &bundle.override_files, &bundle.files, options)
    }))
    .map_err(|_| ApiError::Internal("the compiler failed on this input (a bug)".into()))
}

/// Every sent file's path must be a project path as the compiler writes them (`conf/a.conf`):
/// no `..`, `.`, empty or absolute segments, so no two spellings name one file.
fn check_files(files: &Files) -> Result<(), ApiError> {
    for path in files.keys() {
        if path.is_empty() || tycho_compiler::project_path(path).as_deref() != Ok(path.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "files: `{path}` is not a path relative to the compose file in plain form (like `conf/nginx.conf`: no `.`, `..`, empty segments or leading `/`)"
            )));
        }
    }
    Ok(())
}

/// [`compile`] on the blocking pool, in one of the process's compile slots: the async workers
/// keep serving (`/healthz`, streams) while large files compile.
pub async fn compile_async(
    text: &str,
    files: &Bundle,
    options: &CompileOptions,
) -> Result<Compiled, ApiError> {
    let slot = COMPILE_SLOTS.acquire().await.map_err(|_| ApiError::Busy)?;
    let (text, files, options) = (text.to_string(), files.clone(), options.clone());
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        compile_here(&text, &files, &options)
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::Internal(format!("the compile task failed: {e}"))))
}

/// [`plan`] on the blocking pool (see [`compile_async`]).
pub async fn plan_async(
    text: &str,
    files: &Bundle,
    options: &CompileOptions,
) -> Result<(Plan, Vec<Diagnostic>), ApiError> {
    planned(compile_async(text, files, options).await?)
}

/// Compiles for a start: a plan, or 422 with every diagnostic.
pub fn plan(
    text: &str,
    files: &Bundle,
    options: &CompileOptions,
) -> Result<(Plan, Vec<Diagnostic>), ApiError> {
    planned(compile(text, files, options)?)
}

/// The plan of a compile, or 422 with every diagnostic when it has errors.
pub fn planned(compiled: Compiled) -> Result<(Plan, Vec<Diagnostic>), ApiError> {
    let has_errors = compiled.has_errors();
    let ds = compiled.diagnostics;
    match compiled.plan {
        Some(plan) if !has_errors => Ok((plan, ds)),
        _ => {
            let errors = ds.iter().filter(|d| d.is_error()).count();
            Err(ApiError::Invalid {
                detail: format!("the compose file has {errors} error(s)"),
                diagnostics: ds,
            })
        }
    }
}

/// Where users open a system: the URL the compiler knows when the operator's edge has a host;
/// otherwise the path is served at this server's address `base` (its proxy, or an edge in front
/// of it, as Ambassador was).
pub fn connect_url(connect: &tycho_api::ConnectTarget, base: Option<&str>) -> Option<String> {
    if connect.url.is_empty() {
        base.map(|base| format!("{base}{}", connect.path))
    } else {
        Some(connect.url.clone())
    }
}

/// A status as users see it: the absolute connect URL (from `base`, the server's public
/// `scheme://host`) and the latest proxied request, which may be newer than the annotation.
pub fn present(state: &AppState, base: Option<&str>, mut system: SystemStatus) -> SystemStatus {
    system.connect_url = system.connect.as_ref().and_then(|c| connect_url(c, base));
    if let Some(last) = state.proxy().and_then(|p| p.last_activity(&system.guid)) {
        let last = crate::connect::activity::rfc3339(last);
        // RFC 3339 in UTC with whole seconds sorts as text.
        if last > system.last_activity {
            system.last_activity = last;
        }
    }
    system
}

pub fn executor(state: &AppState) -> Result<Arc<dyn Executor>, ApiError> {
    state.executor().cloned().ok_or(ApiError::NoCluster)
}

/// A GUID as Tycho makes them: 1–32 lowercase letters and digits. Anything else could
/// change a label selector, so it is refused before reaching the cluster.
pub fn check_guid(guid: &str) -> Result<(), ApiError> {
    if tycho_compiler::is_guid(guid) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!("no system {guid:?}")))
    }
}

pub fn new_guid() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Starts a system for `request.username` (a fresh GUID is assigned here).
pub async fn start(
    state: &AppState,
    text: &str,
    mut request: Request,
) -> Result<(Started, Vec<Diagnostic>), ApiError> {
    let executor = executor(state)?;
    request.guid = new_guid();
    let (plan, warnings) = plan_async(text, &request.files, &options(state, &request)).await?;

    let _permit = tokio::time::timeout(START_QUEUE_TIMEOUT, state.starts().acquire())
        .await
        .map_err(|_| ApiError::Busy)?
        .map_err(|_| ApiError::Busy)?;
    // One start of a user at a time: on this replica (a mutex, so its starts queue here),
    // then on every replica (the cluster lock).
    let lock = state.user_lock(&request.username);
    let _user = lock.lock().await;
    let held = executor
        .lock_user(&request.username, START_QUEUE_TIMEOUT)
        .await?
        .ok_or(ApiError::Busy)?;

    // Terminating systems count until their pods are gone (see `quota`).
    let asked = tycho_compiler::quota::asked(&plan);
    crate::quota::check_start(
        state,
        executor.as_ref(),
        &request.username,
        &request.groups,
        &asked,
    )
    .await?;

    let metrics = state.metrics();
    metrics.starts_in_flight.fetch_add(1, Ordering::Relaxed);
    // Its own task: a client hanging up must not cancel a start half-way (no orphans).
    let task = {
        let executor = executor.clone();
        tokio::spawn(async move { executor.start(&plan).await })
    };
    let result = task.await.unwrap_or_else(|e| {
        let kind = ExecError::Other(format!("start task failed: {e}"));
        Err(ExecError::caused(kind, e))
    });
    held.release().await;
    metrics.starts_in_flight.fetch_sub(1, Ordering::Relaxed);
    match result {
        Ok(started) => {
            metrics.started.fetch_add(1, Ordering::Relaxed);
            tracing::info!(guid = %started.guid, user = %started.username, name = %started.name, "system started");
            Ok((started, warnings))
        }
        Err(e) => {
            metrics.start_failures.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(user = %request.username, error = %e, "start failed");
            Err(e.into())
        }
    }
}

/// The systems `caller` may see; admins may narrow to one user.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    user: Option<&str>,
) -> Result<Vec<SystemStatus>, ApiError> {
    let executor = executor(state)?;
    let filter = match user {
        Some(u) if caller.admin || u == caller.username => Filter::user(u),
        Some(_) => {
            return Err(ApiError::Forbidden(
                "only admins may list other users' systems".into(),
            ));
        }
        None if caller.admin => Filter::all(),
        None => Filter::user(&caller.username),
    };
    Ok(executor.list(&filter).await?)
}

/// One system, if `caller` may see it (404 otherwise, so others' GUIDs are not revealed).
pub async fn get(state: &AppState, caller: &Caller, guid: &str) -> Result<SystemStatus, ApiError> {
    check_guid(guid)?;
    let executor = executor(state)?;
    match executor.status(guid).await? {
        Some(s) if caller.may_access(&s.username) => Ok(s),
        _ => Err(ApiError::NotFound(format!("no system {guid}"))),
    }
}

/// The Kubernetes Events about a system `caller` may see (404 otherwise, as for [`get`]).
pub async fn kube_events(
    state: &AppState,
    caller: &Caller,
    guid: &str,
) -> Result<Vec<KubeEvent>, ApiError> {
    let system = get(state, caller, guid).await?;
    Ok(executor(state)?.kube_events(&system.object_name).await?)
}

/// The log of one container of a system `caller` may see (404 otherwise, as for [`get`]).
/// A container the system does not have is 404 naming those it has; without one, the
/// primary service's container (the connect target's), else the pod's first app container.
pub async fn logs(
    state: &AppState,
    caller: &Caller,
    guid: &str,
    mut request: LogRequest,
) -> Result<LogStream, ApiError> {
    let system = get(state, caller, guid).await?;
    let has = |name: &str| system.containers.iter().any(|c| c.name == name);
    match &request.container {
        Some(asked) if !has(asked) => {
            let names: Vec<&str> = system.containers.iter().map(|c| c.name.as_str()).collect();
            return Err(ApiError::NotFound(format!(
                "system {guid} has no container {asked:?}; its containers: {}",
                names.join(", ")
            )));
        }
        Some(_) => {}
        None => {
            request.container = system
                .connect
                .as_ref()
                .map(|target| target.service.clone())
                .filter(|service| has(service));
        }
    }
    let executor = executor(state)?;
    let stream = executor.logs(&system.object_name, &request).await?;
    if !request.follow {
        return Ok(stream);
    }
    // A followed log says why it ended, so a reader can tell a stop from a dropped connection.
    let guid = guid.to_string();
    let ending = futures::stream::once(async move {
        let gone = match executor.status(&guid).await {
            Ok(Some(s)) => s.phase == tycho_api::Phase::Terminating,
            Ok(None) => true,
            Err(_) => false,
        };
        Ok(axum::body::Bytes::from(followed_log_end(gone)))
    });
    Ok(stream.chain(ending).boxed())
}

/// The last line of a followed log: the system was deleted, or its container stopped.
pub fn followed_log_end(system_gone: bool) -> &'static str {
    if system_gone {
        "[tycho] the system was deleted; the log ends here.\n"
    } else {
        "[tycho] the container stopped or restarted; the log ends here.\n"
    }
}

/// Deletes a system `caller` may see, keeping its volumes; deleting what is already gone
/// succeeds.
pub async fn delete(state: &AppState, caller: &Caller, guid: &str) -> Result<Deleted, ApiError> {
    Ok(delete_with(state, caller, guid, VolumeChoice::Keep)
        .await?
        .deleted)
}

/// Deletes a system `caller` may see, its volumes as `volumes` says; deleting what is
/// already gone succeeds.
pub async fn delete_with(
    state: &AppState,
    caller: &Caller,
    guid: &str,
    volumes: VolumeChoice,
) -> Result<Removal, ApiError> {
    check_guid(guid)?;
    let executor = executor(state)?;
    // Someone else's system answers like one that does not exist (nothing of the caller's is
    // left under this GUID), so a DELETE cannot be used to find out which GUIDs are in use.
    // With its workloads gone, the owner of what is left is its kept volumes' owner.
    let owner = match executor.status(guid).await? {
        Some(s) => Some(s.username),
        None => executor
            .volumes(&Filter::guid(guid))
            .await?
            .into_iter()
            .map(|v| v.username)
            .next(),
    };
    if let Some(owner) = owner
        && !caller.may_access(&owner)
    {
        tracing::info!(guid, user = %caller.username, "delete of another user's system: nothing done");
        return Ok(Removal {
            deleted: Deleted::Gone,
            kept: Vec::new(),
            removed: Vec::new(),
        });
    }
    let removal = executor.delete_system(guid, volumes).await?;
    state.metrics().deleted.fetch_add(1, Ordering::Relaxed);
    let names = |v: &[tycho_api::VolumeRef]| v.iter().map(|v| v.name.clone()).collect::<Vec<_>>();
    tracing::info!(guid, user = %caller.username, deleted = ?removal.deleted, kept = ?names(&removal.kept), removed = ?names(&removal.removed), "system deleted");
    Ok(removal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guids_are_checked_before_reaching_a_selector() {
        assert!(check_guid("0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", "ABC", "a,username=bob", "a b", &"a".repeat(33)] {
            assert!(check_guid(bad).is_err(), "{bad:?}");
        }
        let g = new_guid();
        assert_eq!(g.len(), 32);
        assert!(check_guid(&g).is_ok());
        assert_ne!(g, new_guid());
    }
}
