//! Per-user quotas (the policy's `quota:`, see `tycho_compiler::quota`): what a user's systems
//! hold, checked at start, and `GET /api/v1/quota`.
//!
//! A system holds its pod's requests times its replicas from the moment its Deployment exists
//! until its last pod is gone: starting, running, failed and terminating systems all count
//! (a pod that ignores SIGTERM keeps its node's resources for its whole grace period).
//!
//! The check runs under the user's start lock of [`crate::ops::start`], which every replica
//! shares (a Lease, see `crate::lease::ClusterLocks`), and reads the user's systems from the
//! API server rather than this replica's watches: concurrent starts of one user are counted
//! one after another wherever they arrive.

use crate::error::ApiError;
use crate::executor::{Executor, Filter};
use crate::state::AppState;
use tycho_api::{Amounts, QuotaLine, QuotaReport, QuotaResource, SystemStatus};
use tycho_compiler::quota::{Limits, held};

/// The limits in effect for `user` (a member of `groups`): the policy's, with the server's
/// `--max-systems-per-user` as the `systems` default.
pub fn limits(state: &AppState, user: &str, groups: &[String]) -> Limits {
    let settings = state.settings();
    let flag = u64::try_from(settings.max_systems_per_user).unwrap_or(u64::MAX);
    settings.policy.quota.limits_for(user, groups, flag)
}

/// What one system holds (at least one replica: a start creates its Deployment at zero
/// replicas and scales it up last).
pub fn held_by(system: &SystemStatus) -> Amounts {
    held(&system.resources, system.desired.max(1))
}

/// What `user`'s systems hold now, and their GUIDs, as this replica's watches have it.
pub async fn usage(
    executor: &dyn Executor,
    user: &str,
) -> Result<(Amounts, Vec<String>), ApiError> {
    Ok(held_by_all(executor.list(&Filter::user(user)).await?))
}

/// What these systems hold together, and their GUIDs.
fn held_by_all(systems: Vec<SystemStatus>) -> (Amounts, Vec<String>) {
    let used = systems
        .iter()
        .map(held_by)
        .fold(Amounts::default(), Amounts::plus);
    (used, systems.into_iter().map(|s| s.guid).collect())
}

/// The report of `user`'s limits against what they use.
pub fn report(user: &str, limits: &Limits, used: &Amounts, systems: Vec<String>) -> QuotaReport {
    QuotaReport {
        username: user.to_string(),
        resources: QuotaResource::ALL
            .iter()
            .map(|&r| QuotaLine::new(r, r.of(used), limits.of(r)))
            .collect(),
        systems,
    }
}

/// Refuses a start asking for `asked` when `user` would exceed a limit (429 naming the
/// resource, the use, the ask and the limit). Call it under the user's start lock.
pub async fn check_start(
    state: &AppState,
    executor: &dyn Executor,
    user: &str,
    groups: &[String],
    asked: &Amounts,
) -> Result<(), ApiError> {
    let limits = limits(state, user, groups);
    if limits == Limits::default() {
        return Ok(());
    }
    // From the API server: another replica's start may not have reached our watches yet.
    let (used, systems) = held_by_all(executor.list_fresh(&Filter::user(user)).await?);
    match report(user, &limits, &used, systems).refusal(asked) {
        None => Ok(()),
        Some(refusal) => {
            tracing::info!(
                user,
                resource = refusal.resource.as_str(),
                used = refusal.used,
                asked = refusal.asked,
                limit = refusal.limit,
                "start refused: quota"
            );
            Err(ApiError::Quota {
                user: user.to_string(),
                refusal,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tycho_api::{Phase, Resources};

    fn system(cpu: &str, desired: u32, phase: Phase) -> SystemStatus {
        let mut s: SystemStatus = serde_json::from_value(serde_json::json!({
            "guid": "g", "name": "n", "username": "alice", "phase": phase, "ready": 0,
            "desired": desired, "ports": []
        }))
        .unwrap();
        s.resources = Resources {
            cpu: cpu.into(),
            memory: "1Gi".into(),
            gpus: 1,
        };
        s
    }

    #[test]
    fn a_system_holds_its_requests_times_its_replicas() {
        let h = held_by(&system("500m", 3, Phase::Running));
        assert_eq!((h.systems, h.cpu, h.memory, h.gpus), (1, 1500, 3 << 30, 3));
        // Still at zero replicas while its start creates the rest: counted as one.
        let h = held_by(&system("500m", 0, Phase::Pending));
        assert_eq!(h.cpu, 500);
    }

    #[test]
    fn the_report_lists_every_resource_in_order() {
        let limits = Limits {
            cpu: Some(8000),
            ..Limits::default()
        };
        let used = Amounts {
            systems: 2,
            cpu: 3000,
            memory: 0,
            gpus: 0,
        };
        let r = report("alice", &limits, &used, vec!["a".into(), "b".into()]);
        let order: Vec<_> = r.resources.iter().map(|l| l.resource).collect();
        assert_eq!(order, QuotaResource::ALL);
        assert_eq!(
            r.line(QuotaResource::Cpu).map(|l| l.text.as_str()),
            Some("3 of 8 CPUs")
        );
        assert_eq!(
            r.line(QuotaResource::Systems).map(|l| l.text.as_str()),
            Some("2 systems (no limit)")
        );
    }
}
