//! The policy's per-user quotas (`quota:`) and what a system counts for against them.
//!
//! ```yaml
//! quota:
//!   systems: 5          # the default for every user; a key left out is no limit
//!   cpu: "8"            # requested CPUs, all of a user's systems together
//!   memory: 32Gi
//!   gpus: 1
//!   groups:             # members come from the tokens file's `groups`
//!     gpu-lab: {gpus: 4}
//!   users:
//!     alice: {cpu: "16", systems: 10}
//! ```
//!
//! Per resource, a user's own entry beats their groups', which beat the default; of several
//! groups the most generous counts. The server's `--max-systems-per-user` is the `systems`
//! default when the policy sets none.

use crate::labels::ANNOTATION_RESOURCES;
use crate::plan::Plan;
use crate::quantity::{parse_cpus, parse_kube_bytes};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use tycho_api::Resources;
pub use tycho_api::quota::{Amounts, QuotaResource};

/// `quota:` of the policy: the default limits, and overrides per group and per user.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaPolicy {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub systems: Option<u32>,
    #[serde(deserialize_with = "cpu", skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(deserialize_with = "memory", skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
    pub groups: BTreeMap<String, QuotaLimits>,
    pub users: BTreeMap<String, QuotaLimits>,
}

/// One set of limits (an override for a group or a user); a key left out is not overridden.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuotaLimits {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub systems: Option<u32>,
    #[serde(deserialize_with = "cpu", skip_serializing_if = "Option::is_none")]
    pub cpu: Option<String>,
    #[serde(deserialize_with = "memory", skip_serializing_if = "Option::is_none")]
    pub memory: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u32>,
}

/// The limits in effect for one user, in the units of [`Amounts`]; `None`: no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub systems: Option<u64>,
    pub cpu: Option<u64>,
    pub memory: Option<u64>,
    pub gpus: Option<u64>,
}

impl Limits {
    pub fn of(&self, resource: QuotaResource) -> Option<u64> {
        match resource {
            QuotaResource::Systems => self.systems,
            QuotaResource::Cpu => self.cpu,
            QuotaResource::Memory => self.memory,
            QuotaResource::Gpus => self.gpus,
        }
    }
}

impl QuotaLimits {
    fn amounts(&self) -> Limits {
        Limits {
            systems: self.systems.map(u64::from),
            cpu: self.cpu.as_deref().and_then(parse_cpus),
            memory: self.memory.as_deref().and_then(parse_kube_bytes),
            gpus: self.gpus.map(u64::from),
        }
    }
}

impl QuotaPolicy {
    /// Whether any limit is set anywhere.
    pub fn is_empty(&self) -> bool {
        *self == QuotaPolicy::default()
    }

    /// The limits of `user`, a member of `groups`. `systems_default` stands in for a missing
    /// `systems` default (the server's `--max-systems-per-user`; 0: none).
    pub fn limits_for(&self, user: &str, groups: &[String], systems_default: u64) -> Limits {
        let default = QuotaLimits {
            systems: self.systems,
            cpu: self.cpu.clone(),
            memory: self.memory.clone(),
            gpus: self.gpus,
        }
        .amounts();
        let own = self.users.get(user).map(QuotaLimits::amounts);
        let of_groups: Vec<Limits> = groups
            .iter()
            .filter_map(|g| self.groups.get(g))
            .map(QuotaLimits::amounts)
            .collect();
        let pick = |field: fn(&Limits) -> Option<u64>| {
            own.as_ref()
                .and_then(field)
                .or_else(|| of_groups.iter().filter_map(field).max())
                .or_else(|| field(&default))
        };
        Limits {
            systems: pick(|l| l.systems).or((systems_default > 0).then_some(systems_default)),
            cpu: pick(|l| l.cpu),
            memory: pick(|l| l.memory),
            gpus: pick(|l| l.gpus),
        }
    }
}

/// What one system counts for: its pod's requests (the `tycho.io/resources` annotation) times
/// `replicas`, and one system.
pub fn held(pod: &Resources, replicas: u32) -> Amounts {
    let times = u64::from(replicas);
    Amounts {
        systems: 1,
        cpu: parse_cpus(&pod.cpu).unwrap_or(0).saturating_mul(times),
        memory: parse_kube_bytes(&pod.memory)
            .unwrap_or(0)
            .saturating_mul(times),
        gpus: u64::from(pod.gpus).saturating_mul(times),
    }
}

/// What starting `plan` asks for: [`held`] of its Deployment, as a running system counts.
pub fn asked(plan: &Plan) -> Amounts {
    let deployment = &plan.deployment;
    let pod = deployment
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_RESOURCES))
        .map(|text| Resources::from_annotation(text))
        .unwrap_or_default();
    let replicas = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1);
    held(&pod, replicas)
}

fn quantity<'de, D: Deserializer<'de>>(
    d: D,
    parse: fn(&str) -> Option<u64>,
    what: &str,
) -> Result<Option<String>, D::Error> {
    // A number (`cpu: 8`) reads as its text.
    let value = Option::<serde_json::Value>::deserialize(d)?;
    let text = match value {
        None | Some(serde_json::Value::Null) => return Ok(None),
        Some(serde_json::Value::String(s)) => s,
        Some(serde_json::Value::Number(n)) => n.to_string(),
        Some(other) => {
            return Err(serde::de::Error::custom(format!(
                "{what}: expected a quantity, found {other}"
            )));
        }
    };
    match parse(&text) {
        Some(_) => Ok(Some(text)),
        None => Err(serde::de::Error::custom(format!(
            "{what}: {text:?} is not a quantity"
        ))),
    }
}

fn cpu<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    quantity(d, parse_cpus, "cpu (like \"8\" or \"500m\")")
}

fn memory<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    quantity(d, parse_kube_bytes, "memory (like 32Gi)")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> QuotaPolicy {
        crate::parse_policy(text).expect("a policy").quota
    }

    #[test]
    fn a_user_beats_groups_which_beat_the_default() {
        let q = policy(
            "quota:\n  systems: 3\n  cpu: 8\n  memory: 16Gi\n  groups:\n    lab: {gpus: 2, cpu: \"12\"}\n    big: {cpu: \"20\"}\n  users:\n    alice: {cpu: 500m}\n",
        );
        let none: [String; 0] = [];
        let bob = q.limits_for("bob", &none, 10);
        assert_eq!(
            bob,
            Limits {
                systems: Some(3),
                cpu: Some(8000),
                memory: Some(16 << 30),
                gpus: None
            }
        );
        let groups = ["lab".to_string(), "big".to_string(), "other".to_string()];
        let carol = q.limits_for("carol", &groups, 10);
        assert_eq!(
            (carol.cpu, carol.gpus),
            (Some(20_000), Some(2)),
            "the most generous group"
        );
        let alice = q.limits_for("alice", &groups, 10);
        assert_eq!((alice.cpu, alice.gpus), (Some(500), Some(2)));
    }

    #[test]
    fn the_server_flag_is_the_systems_default() {
        let none: [String; 0] = [];
        let q = QuotaPolicy::default();
        assert!(q.is_empty());
        assert_eq!(q.limits_for("bob", &none, 10).systems, Some(10));
        assert_eq!(q.limits_for("bob", &none, 0), Limits::default());
        let q = policy("quota: {systems: 2}\n");
        assert_eq!(q.limits_for("bob", &none, 10).systems, Some(2));
    }

    #[test]
    fn bad_keys_and_quantities_are_refused() {
        let e = crate::parse_policy("quota: {cpus: 2}\n").unwrap_err();
        assert!(e.contains("unknown field `cpus`"), "{e}");
        let e = crate::parse_policy("quota: {memory: lots}\n").unwrap_err();
        assert!(e.contains("\"lots\" is not a quantity"), "{e}");
        let e = crate::parse_policy("quota: {users: {a: {gpu: 1}}}\n").unwrap_err();
        assert!(e.contains("unknown field `gpu`"), "{e}");
    }

    #[test]
    fn a_plan_asks_for_its_requests_times_replicas() {
        let options = crate::CompileOptions {
            guid: "abc".into(),
            username: "alice".into(),
            ..Default::default()
        };
        let text = "services:\n  web:\n    image: nginx\n    deploy:\n      replicas: 3\n      resources:\n        reservations: {cpus: \"0.5\", memory: 1G}\n        limits: {cpus: \"1\", memory: 1G}\n";
        let plan = crate::compile(text, &options).plan.expect("compiles");
        let a = asked(&plan);
        assert_eq!((a.systems, a.cpu, a.gpus), (1, 1500, 0));
        // Compose reads `1G` as a gibibyte.
        assert_eq!(a.memory, 3 << 30);
    }
}
