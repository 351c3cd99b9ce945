//! What the lifetime task does to one system at one moment. Pure: a status, the policy and
//! `now` in, the steps out, so every rule is tested without a cluster or a clock.

use k8s_openapi::jiff::{SignedDuration, Timestamp};
use tycho_api::{Phase, SystemStatus};
use tycho_compiler::lifetime::LifetimePolicy;

/// The warning's lead when the policy culls but does not say `warn_before`.
pub const DEFAULT_WARN_BEFORE_SECS: u64 = 600;

/// The failure reason a start that timed out gets.
pub const START_TIMEOUT: &str = "StartTimeout";

/// Why a system is culled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CullReason {
    Idle,
    MaxLifetime,
}

impl CullReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CullReason::Idle => "idle",
            CullReason::MaxLifetime => "max_lifetime",
        }
    }
}

/// One thing to do to a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Every replica is ready for the first time: the start timeout no longer applies.
    MarkReady,
    /// The start timed out: mark it Failed with this message.
    FailStart { message: String },
    /// Delete it (a timed-out start, with `remove_failed_starts`).
    RemoveFailedStart,
    /// Show the owner that it will be culled `at` (RFC 3339) for `reason`.
    Warn {
        at: String,
        reason: CullReason,
        warning: String,
    },
    /// The warning no longer holds (it was used again): remove it.
    ClearWarning,
    /// Delete it now.
    Cull { reason: CullReason },
}

/// RFC 3339 in UTC with whole seconds (as the activity annotation is written).
pub fn rfc3339(t: Timestamp) -> String {
    Timestamp::from_second(t.as_second())
        .unwrap_or(t)
        .to_string()
}

fn parse(text: &str) -> Option<Timestamp> {
    text.parse().ok()
}

fn plus(t: Timestamp, seconds: u64) -> Timestamp {
    let seconds = i64::try_from(seconds).unwrap_or(i64::MAX / 2);
    t.checked_add(SignedDuration::from_secs(seconds))
        .unwrap_or(Timestamp::MAX)
}

/// The steps for `system` at `now` under `policy`.
pub fn decide(system: &SystemStatus, policy: &LifetimePolicy, now: Timestamp) -> Vec<Step> {
    let mut steps = Vec::new();
    let Some(created) = parse(&system.created) else {
        return steps;
    };
    if system.phase == Phase::Terminating {
        return steps;
    }
    let ready_seen = !system.ready_at.is_empty();
    if policy.start_timeout.is_some() && system.phase == Phase::Running && !ready_seen {
        steps.push(Step::MarkReady);
    }

    if let Some(timeout) = &policy.start_timeout
        && !ready_seen
        && system.phase != Phase::Running
    {
        if system.reason == START_TIMEOUT {
            if policy.remove_failed_starts {
                steps.push(Step::RemoveFailedStart);
                return steps;
            }
        } else if now >= plus(created, timeout.seconds()) {
            let mut message = format!(
                "The system did not become ready within {} of its start (the policy's start timeout).",
                timeout.text()
            );
            if !system.reason.is_empty() {
                message.push_str(&format!(" Last seen: {}", system.reason));
                if !system.message.is_empty() {
                    message.push_str(&format!(": {}", system.message));
                }
            }
            if policy.remove_failed_starts {
                message.push_str(" It is removed.");
            }
            steps.push(Step::FailStart { message });
            if policy.remove_failed_starts {
                steps.push(Step::RemoveFailedStart);
            }
            return steps;
        }
    }

    let idle_since = parse(&system.last_activity)
        .filter(|t| *t > created)
        .unwrap_or(created);
    let idle = policy.idle_timeout.as_ref().map(|d| {
        (
            plus(idle_since, d.seconds()),
            CullReason::Idle,
            d.text().to_string(),
        )
    });
    let max = policy.max_lifetime.as_ref().map(|d| {
        (
            plus(created, d.seconds()),
            CullReason::MaxLifetime,
            d.text().to_string(),
        )
    });
    let next = [idle, max]
        .into_iter()
        .flatten()
        .min_by_key(|(at, _, _)| *at);
    let warned = !system.cull_at.is_empty();
    let Some((at, reason, span)) = next else {
        if warned {
            steps.push(Step::ClearWarning);
        }
        return steps;
    };
    if now >= at {
        steps.push(Step::Cull { reason });
        return steps;
    }
    let lead = policy
        .warn_before
        .as_ref()
        .map_or(DEFAULT_WARN_BEFORE_SECS, |d| d.seconds());
    let warn_from = at
        .checked_sub(SignedDuration::from_secs(
            i64::try_from(lead).unwrap_or(i64::MAX / 2),
        ))
        .unwrap_or(Timestamp::MIN);
    let at_text = rfc3339(at);
    if now >= warn_from {
        if system.cull_at != at_text || system.cull_reason != reason.as_str() {
            let warning = match reason {
                CullReason::Idle => format!(
                    "Unused for {span} by {at_text}: the system will be deleted then (as a delete does), unless it is used or kept alive before."
                ),
                CullReason::MaxLifetime => format!(
                    "The system reaches its maximum lifetime of {span} at {at_text} and will be deleted then (as a delete does)."
                ),
            };
            steps.push(Step::Warn {
                at: at_text,
                reason,
                warning,
            });
        }
    } else if warned {
        steps.push(Step::ClearWarning);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000;

    fn at(minutes: i64) -> Timestamp {
        Timestamp::from_second(T0 + minutes * 60).unwrap()
    }

    fn system(phase: Phase) -> SystemStatus {
        serde_json::from_value(serde_json::json!({
            "guid": "g", "name": "n", "username": "alice", "phase": phase, "ready": 1,
            "desired": 1, "ports": [], "created": rfc3339(at(0)), "ready_at": rfc3339(at(1)),
        }))
        .unwrap()
    }

    fn policy(text: &str) -> LifetimePolicy {
        tycho_compiler::parse_policy(text).unwrap().lifetime
    }

    fn warned(s: &mut SystemStatus, steps: &[Step]) {
        for step in steps {
            if let Step::Warn { at, reason, .. } = step {
                s.cull_at = at.clone();
                s.cull_reason = reason.as_str().into();
            }
        }
    }

    #[test]
    fn an_idle_system_is_warned_then_culled_and_activity_postpones_it() {
        let p = policy("lifetime: {idle_timeout: 1h, warn_before: 10m}\n");
        let mut s = system(Phase::Running);
        assert!(decide(&s, &p, at(49)).is_empty());
        let steps = decide(&s, &p, at(50));
        assert!(
            matches!(&steps[..], [Step::Warn { at: a, reason: CullReason::Idle, .. }] if *a == rfc3339(at(60))),
            "{steps:?}"
        );
        warned(&mut s, &steps);
        assert!(decide(&s, &p, at(55)).is_empty(), "warned once");
        assert_eq!(
            decide(&s, &p, at(60)),
            [Step::Cull {
                reason: CullReason::Idle
            }]
        );
        // Used at 55: the warning goes, the cull moves to 1h55.
        s.last_activity = rfc3339(at(55));
        assert_eq!(decide(&s, &p, at(56)), [Step::ClearWarning]);
        s.cull_at.clear();
        assert!(decide(&s, &p, at(104)).is_empty());
        assert!(matches!(&decide(&s, &p, at(105))[..], [Step::Warn { .. }]));
        assert!(matches!(&decide(&s, &p, at(115))[..], [Step::Cull { .. }]));
    }

    #[test]
    fn the_maximum_lifetime_is_not_moved_by_activity() {
        let p = policy("lifetime: {idle_timeout: 1h, max_lifetime: 2h}\n");
        let mut s = system(Phase::Running);
        s.last_activity = rfc3339(at(110));
        let steps = decide(&s, &p, at(110));
        assert!(
            matches!(&steps[..], [Step::Warn { at: a, reason: CullReason::MaxLifetime, .. }] if *a == rfc3339(at(120))),
            "the default lead is 10 minutes: {steps:?}"
        );
        assert_eq!(
            decide(&s, &p, at(120)),
            [Step::Cull {
                reason: CullReason::MaxLifetime
            }]
        );
    }

    #[test]
    fn a_start_that_never_becomes_ready_fails_and_may_be_removed() {
        let p = policy("lifetime: {start_timeout: 15m}\n");
        let mut s = system(Phase::Starting);
        s.ready_at.clear();
        s.reason = "ContainerCreating".into();
        assert!(decide(&s, &p, at(14)).is_empty());
        let steps = decide(&s, &p, at(15));
        let [Step::FailStart { message }] = &steps[..] else {
            panic!("{steps:?}")
        };
        assert!(
            message.contains("within 15m") && message.contains("ContainerCreating"),
            "{message}"
        );
        s.phase = Phase::Failed;
        s.reason = START_TIMEOUT.into();
        assert!(decide(&s, &p, at(16)).is_empty(), "marked once");
        let removing = policy("lifetime: {start_timeout: 15m, remove_failed_starts: true}\n");
        assert_eq!(decide(&s, &removing, at(16)), [Step::RemoveFailedStart]);
        // Once seen ready, a later crash is not a start that timed out.
        let mut ran = system(Phase::Failed);
        ran.reason = "CrashLoopBackOff".into();
        assert!(decide(&ran, &p, at(60)).is_empty());
        // Seen ready for the first time: marked.
        let mut fresh = system(Phase::Running);
        fresh.ready_at.clear();
        assert_eq!(decide(&fresh, &p, at(3)), [Step::MarkReady]);
    }

    #[test]
    fn nothing_happens_to_terminating_systems_or_without_a_policy() {
        let p = policy("lifetime: {idle_timeout: 1m}\n");
        assert!(decide(&system(Phase::Terminating), &p, at(600)).is_empty());
        assert!(decide(&system(Phase::Running), &LifetimePolicy::default(), at(600)).is_empty());
    }
}
