//! Lifetimes (the policy's `lifetime:`, see `tycho_compiler::lifetime`): idle culling, a
//! maximum lifetime and a start timeout, run by one replica at a time.
//!
//! Every round the replica holding the singleton Lease (see [`crate::lease`]) lists every
//! system and applies [`decide`]'s steps: it marks systems seen ready, marks a start that
//! timed out Failed (`StartTimeout`) and removes it when the policy says so, writes the
//! warning (`cull_at`, `cull_reason`, `warning` in status, so also in the event stream)
//! `warn_before` ahead of a cull, and culls with the executor's delete, as the owner's delete
//! does. Each action is logged. Time comes from a [`Clock`], so tests move it instead of
//! sleeping.
//!
//! A keepalive (`POST /api/v1/systems/{guid}/keepalive`) records activity now, as a request
//! through the proxy does: it moves an idle cull. It does not move the maximum lifetime, which
//! is the operator's bound on how long anything runs.

pub mod decide;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::executor::{self, Executor, Filter};
use crate::lease::LeaseLock;
use crate::state::AppState;
use decide::{CullReason, Step, decide, rfc3339};
use k8s_openapi::jiff::Timestamp;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tycho_api::SystemStatus;
use tycho_compiler::lifetime::LifetimePolicy;

/// How often the lifetime task runs, by default (a third of the Lease's duration).
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);

/// Where the time comes from.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> Timestamp;
}

pub type SharedClock = Arc<dyn Clock>;

/// The system's clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

/// A clock tests set and move.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> Arc<Self> {
        Arc::new(ManualClock(Mutex::new(at)))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What one round did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Round {
    /// This replica held the Lease (otherwise it did nothing else).
    pub leader: bool,
    /// `(guid, what)` of every action, e.g. `("ab12", "culled: idle")`.
    pub actions: Vec<(String, String)>,
}

/// The lifetime task of one server process.
pub struct Lifetimes {
    executor: Arc<dyn Executor>,
    /// `None`: the backend has no Lease; this process is taken to be the only one.
    lease: Option<Arc<dyn LeaseLock>>,
    policy: LifetimePolicy,
    clock: SharedClock,
}

impl Lifetimes {
    pub fn new(
        executor: Arc<dyn Executor>,
        lease: Option<Arc<dyn LeaseLock>>,
        policy: LifetimePolicy,
        clock: SharedClock,
    ) -> Self {
        Lifetimes {
            executor,
            lease,
            policy,
            clock,
        }
    }

    /// Who this process is in the Lease.
    pub fn identity(&self) -> Option<&str> {
        self.lease.as_ref().map(|l| l.identity())
    }

    /// One round at the clock's time: take or renew the Lease, then act on every system.
    /// One system's failure is logged and the round goes on.
    pub async fn round(&self) -> Result<Round, ApiError> {
        let now = self.clock.now();
        if let Some(lease) = &self.lease {
            match lease.acquire(now).await {
                Ok(true) => {}
                Ok(false) => return Ok(Round::default()),
                Err(e) => {
                    return Err(ApiError::Unavailable(format!(
                        "the singleton lease cannot be read or written: {e}"
                    )));
                }
            }
        }
        let mut round = Round {
            leader: true,
            actions: Vec::new(),
        };
        for system in self.executor.list(&Filter::all()).await? {
            let policy = self.policy.shortened_by(&asked_by_file(&system.lifetime));
            for step in decide(&system, &policy, now) {
                match self.apply(&system, &step, now).await {
                    Ok(done) => round.actions.push((system.guid.clone(), done)),
                    Err(e) => {
                        tracing::warn!(guid = %system.guid, error = %e, ?step, "lifetime action failed; retried next round");
                        break;
                    }
                }
            }
        }
        Ok(round)
    }

    async fn apply(
        &self,
        system: &SystemStatus,
        step: &Step,
        now: Timestamp,
    ) -> Result<String, ApiError> {
        let (guid, user, object) = (&system.guid, &system.username, &system.object_name);
        let annotate = |marks: Vec<(&'static str, Option<String>)>| async move {
            self.executor.annotate(object, &marks).await
        };
        Ok(match step {
            Step::MarkReady => {
                annotate(vec![(executor::ANNOTATION_READY_AT, Some(rfc3339(now)))]).await?;
                "ready".into()
            }
            Step::FailStart { message } => {
                annotate(vec![
                    (
                        executor::ANNOTATION_FAILED_REASON,
                        Some(decide::START_TIMEOUT.into()),
                    ),
                    (executor::ANNOTATION_FAILED_MESSAGE, Some(message.clone())),
                ])
                .await?;
                tracing::warn!(%guid, %user, name = %system.name, "start timed out: marked Failed");
                "failed: start timeout".into()
            }
            Step::RemoveFailedStart => {
                self.executor.delete(guid).await?;
                tracing::warn!(%guid, %user, name = %system.name, "removed a start that timed out");
                "removed: start timeout".into()
            }
            Step::Warn {
                at,
                reason,
                warning,
            } => {
                annotate(vec![
                    (executor::ANNOTATION_CULL_AT, Some(at.clone())),
                    (
                        executor::ANNOTATION_CULL_REASON,
                        Some(reason.as_str().into()),
                    ),
                    (executor::ANNOTATION_WARNING, Some(warning.clone())),
                ])
                .await?;
                tracing::info!(%guid, %user, cull_at = %at, reason = reason.as_str(), "warned of a cull");
                format!("warned: {} at {at}", reason.as_str())
            }
            Step::ClearWarning => {
                annotate(clear_warning()).await?;
                tracing::info!(%guid, %user, "cull warning withdrawn (used again)");
                "warning cleared".into()
            }
            Step::Cull { reason } => {
                self.executor.delete(guid).await?;
                let why = match reason {
                    CullReason::Idle => "idle",
                    CullReason::MaxLifetime => "maximum lifetime reached",
                };
                tracing::info!(%guid, %user, name = %system.name, reason = reason.as_str(), last_activity = %system.last_activity, "culled ({why})");
                format!("culled: {}", reason.as_str())
            }
        })
    }
}

/// The annotations that remove a cull warning.
fn clear_warning() -> Vec<(&'static str, Option<String>)> {
    vec![
        (executor::ANNOTATION_CULL_AT, None),
        (executor::ANNOTATION_CULL_REASON, None),
        (executor::ANNOTATION_WARNING, None),
    ]
}

/// Runs [`Lifetimes::round`] now and then every `interval` on the current runtime (none
/// outside one).
pub fn spawn(lifetimes: Arc<Lifetimes>, interval: Duration) -> Option<tokio::task::JoinHandle<()>> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    Some(handle.spawn(async move {
        let mut every = tokio::time::interval(interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            if let Err(e) = lifetimes.round().await {
                tracing::warn!(error = %e, "lifetime round failed; retried later");
            }
        }
    }))
}

/// `POST /api/v1/systems/{guid}/keepalive`: records activity now on a system `caller` may see
/// (404 otherwise) and withdraws an idle-cull warning. The maximum lifetime stays.
pub async fn keepalive(
    state: &AppState,
    caller: &Caller,
    guid: &str,
) -> Result<SystemStatus, ApiError> {
    let system = crate::ops::get(state, caller, guid).await?;
    let executor = crate::ops::executor(state)?;
    let now = rfc3339(state.settings().clock.now());
    let mut marks = vec![(executor::ANNOTATION_LAST_ACTIVITY, Some(now))];
    if system.cull_reason == CullReason::Idle.as_str() {
        marks.extend(clear_warning());
    }
    executor.annotate(&system.object_name, &marks).await?;
    tracing::info!(guid, user = %caller.username, "keepalive");
    crate::ops::get(state, caller, guid).await
}

/// A status's file lifetimes as the compiler's type (what does not read as a duration, as
/// nothing asked: the compiler checked it when the system started).
fn asked_by_file(file: &tycho_api::FileLifetime) -> tycho_compiler::lifetime::LifetimeRequest {
    let duration = |text: &str| tycho_compiler::lifetime::PolicyDuration::try_from(text).ok();
    tycho_compiler::lifetime::LifetimeRequest {
        idle_timeout: duration(&file.idle_timeout),
        max_lifetime: duration(&file.max_lifetime),
    }
}
