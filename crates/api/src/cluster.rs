//! What the cluster and the operator say about systems: Kubernetes Events
//! (`GET /api/v1/systems/{guid}/kube-events`) and the operator's policy (`GET /api/v1/policy`).

use serde::{Deserialize, Serialize};

/// One Kubernetes core/v1 Event about an object of a system (its Deployment, ReplicaSets, pods,
/// Service or volume claims), e.g. `Scheduled`, `Pulled`, `BackOff`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KubeEvent {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Machine-readable cause, e.g. `ScalingReplicaSet`, `Pulled`, `FailedScheduling`.
    pub reason: String,
    pub message: String,
    /// The object the event is about, as `Kind/name` (`Pod/notebook-abc-7d9f-x2x`).
    pub object: String,
    /// How many times it happened (the cluster folds repeats into one event).
    pub count: u32,
    /// RFC 3339, when first seen (absent when the cluster did not say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<String>,
    /// RFC 3339, when last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

impl KubeEvent {
    pub fn is_warning(&self) -> bool {
        self.kind == "Warning"
    }
}

/// `GET /api/v1/systems/{guid}/kube-events`: oldest first, at most the newest 200.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KubeEventList {
    pub items: Vec<KubeEvent>,
}

/// `GET /api/v1/policy`: the rules the server compiles with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PolicyResponse {
    /// The compiler's `Policy` as JSON: `default_resources` and `max_resources`
    /// (`{cpu, memory, gpus}`), `allow_root`, `allow_privileged`, `service_type`, …
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub policy: serde_json::Value,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kube_event_json_uses_type_and_omits_unknown_times() {
        let e = KubeEvent {
            kind: "Warning".into(),
            reason: "BackOff".into(),
            message: "Back-off pulling image".into(),
            object: "Pod/web-abc-1".into(),
            count: 3,
            first_seen: None,
            last_seen: Some("2026-01-02T03:04:05Z".into()),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "Warning");
        assert!(v.get("kind").is_none());
        assert!(v.get("first_seen").is_none());
        assert_eq!(v["last_seen"], "2026-01-02T03:04:05Z");
        let back: KubeEvent = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
        assert!(back.is_warning());
    }
}
