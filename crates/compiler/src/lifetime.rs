//! The policy's lifetimes (`lifetime:`): how long a system may sit idle, live in all, and take
//! to become ready. Every one is off unless set.
//!
//! ```yaml
//! lifetime:
//!   idle_timeout: 2h          # no request through the proxy (nor a keepalive) for this long
//!   max_lifetime: 24h         # from creation; a keepalive does not extend it
//!   start_timeout: 15m        # never ready this long after creation: Failed (StartTimeout)
//!   remove_failed_starts: true
//!   warn_before: 10m          # status shows `cull_at` and a warning this long before a cull
//! ```
//!
//! The server's singleton task (one replica, by Lease) acts on it; culling deletes a system as
//! its owner's delete does.

use serde::{Deserialize, Serialize};

/// `lifetime:` of the policy.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifetimePolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<PolicyDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<PolicyDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start_timeout: Option<PolicyDuration>,
    /// Delete a system once its start timed out (otherwise it stays, Failed, for its owner to
    /// read its logs and delete).
    pub remove_failed_starts: bool,
    /// How long before an idle cull or the end of the maximum lifetime the owner is warned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warn_before: Option<PolicyDuration>,
}

/// A file's own, shorter lifetimes (`x-tycho: {lifetime: {idle_timeout, max_lifetime}}`, e.g.
/// a catalog entry for short sessions). It can only shorten what the operator's policy sets:
/// a user writes it, so it never lengthens or turns on a lifetime the policy leaves off.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LifetimeRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle_timeout: Option<PolicyDuration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_lifetime: Option<PolicyDuration>,
}

impl LifetimeRequest {
    pub fn is_empty(&self) -> bool {
        self.idle_timeout.is_none() && self.max_lifetime.is_none()
    }
}

impl LifetimePolicy {
    /// The policy for one system whose file asks for `asked`: each of its lifetimes the shorter
    /// of the policy's and the file's, where the policy sets one.
    pub fn shortened_by(&self, asked: &LifetimeRequest) -> LifetimePolicy {
        let shorter =
            |policy: &Option<PolicyDuration>, file: &Option<PolicyDuration>| match (policy, file) {
                (Some(p), Some(f)) if f.seconds() < p.seconds() => Some(f.clone()),
                _ => policy.clone(),
            };
        LifetimePolicy {
            idle_timeout: shorter(&self.idle_timeout, &asked.idle_timeout),
            max_lifetime: shorter(&self.max_lifetime, &asked.max_lifetime),
            ..self.clone()
        }
    }

    /// Whether the singleton task has anything to do.
    pub fn is_active(&self) -> bool {
        self.idle_timeout.is_some() || self.max_lifetime.is_some() || self.start_timeout.is_some()
    }
}

/// A duration as the policy writes it (`2h`, `90m`, `1h30m`, `45s`, days first as in `30d` or
/// `1d12h`; a bare number is seconds), kept as written for `GET /api/v1/policy`: the lifetimes
/// and `volume_ttl`. Zero is refused: leave the key out to turn it off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "serde_json::Value", into = "String")]
pub struct PolicyDuration {
    text: String,
    seconds: u64,
}

impl PolicyDuration {
    pub fn seconds(&self) -> u64 {
        self.seconds
    }

    pub fn as_duration(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.seconds)
    }

    pub fn text(&self) -> &str {
        &self.text
    }
}

impl From<PolicyDuration> for String {
    fn from(d: PolicyDuration) -> String {
        d.text
    }
}

impl TryFrom<serde_json::Value> for PolicyDuration {
    type Error = String;

    fn try_from(value: serde_json::Value) -> Result<Self, String> {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            other => return Err(format!("expected a duration like 2h or 30m, found {other}")),
        };
        match policy_seconds(&text) {
            Some(s) if s > 0 => Ok(PolicyDuration {
                seconds: s as u64,
                text,
            }),
            Some(_) => Err(format!(
                "{text:?}: a lifetime must be longer than 0 (leave the key out to turn it off)"
            )),
            None => Err(format!(
                "{text:?} is not a duration (like 2h, 90m, 1h30m or 45s)"
            )),
        }
    }
}

/// Seconds of a policy duration: whole days first (`30d`, `1d12h`), then a compose duration.
fn policy_seconds(text: &str) -> Option<i64> {
    let text = text.trim();
    let Some((days, rest)) = text.split_once('d') else {
        return crate::quantity::parse_duration_seconds(text);
    };
    if days.is_empty() || !days.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let rest = match rest {
        "" => 0,
        rest => crate::quantity::parse_duration_seconds(rest)?,
    };
    days.parse::<i64>()
        .ok()?
        .checked_mul(86_400)?
        .checked_add(rest)
}

impl TryFrom<&str> for PolicyDuration {
    type Error = String;

    fn try_from(text: &str) -> Result<Self, String> {
        PolicyDuration::try_from(serde_json::Value::String(text.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_only_shortens_the_operators_lifetimes() {
        let policy = crate::parse_policy("lifetime: {idle_timeout: 2h, warn_before: 5m}\n")
            .expect("a policy")
            .lifetime;
        let asked = |idle: &str, max: &str| LifetimeRequest {
            idle_timeout: PolicyDuration::try_from(idle).ok(),
            max_lifetime: PolicyDuration::try_from(max).ok(),
        };
        let shorter = policy.shortened_by(&asked("30m", "1h"));
        assert_eq!(
            shorter.idle_timeout.as_ref().map(|d| d.seconds()),
            Some(1800)
        );
        // The policy sets no maximum lifetime: the file cannot turn one on.
        assert_eq!(shorter.max_lifetime, None);
        assert_eq!(shorter.warn_before, policy.warn_before);
        // Longer than the policy's: the policy's stands.
        let longer = policy.shortened_by(&asked("8h", ""));
        assert_eq!(
            longer.idle_timeout.as_ref().map(|d| d.seconds()),
            Some(7200)
        );
    }

    #[test]
    fn durations_read_as_written_and_bad_ones_are_refused() {
        let p = crate::parse_policy(
            "lifetime:\n  idle_timeout: 2h\n  max_lifetime: 1h30m\n  start_timeout: 600\n  warn_before: 10m\n  remove_failed_starts: true\n",
        )
        .expect("a policy")
        .lifetime;
        assert_eq!(p.idle_timeout.as_ref().map(|d| d.seconds()), Some(7200));
        assert_eq!(p.max_lifetime.as_ref().map(|d| d.seconds()), Some(5400));
        assert_eq!(p.start_timeout.as_ref().map(|d| d.seconds()), Some(600));
        assert!(p.remove_failed_starts && p.is_active());
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["idle_timeout"], "2h");
        assert!(!LifetimePolicy::default().is_active());
        for (bad, says) in [
            ("lifetime: {idle_timeout: soon}\n", "is not a duration"),
            ("lifetime: {idle_timeout: 0s}\n", "longer than 0"),
            ("lifetime: {idle: 2h}\n", "unknown field `idle`"),
        ] {
            let e = crate::parse_policy(bad).unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }
}
