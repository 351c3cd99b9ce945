//! The resources report ([`ResourcesReport`]): what each container asks for against the
//! policy's maxima, per container (`max_resources`) and for the whole system
//! (`max_pod_resources`).
//!
//! Read from the containers the planner built, so the amounts are the Deployment's own (the
//! policy's defaults filled in) and no second rule for them exists; the system's totals count
//! each container by [`counted`], the rule the `max_pod_resources` check sums by. [`crate::compile`] makes
//! the report from the plan it builds even when a check refuses the file (above a cap the plan
//! is not returned, but it was built), so a refused file still shows by how much.

use crate::options::{Policy, Resources};
use crate::plan::Plan;
use crate::plan::container::counted;
use crate::quantity::{parse_cpus, parse_kube_bytes};
use k8s_openapi::api::core::v1::{Container, ResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use std::collections::BTreeMap;
pub use tycho_api::resources_report::{ResourcesReport, ServiceUsage, SystemUsage, Total, Usage};

/// The report of compiling `text` with `options`: every service's amounts whether or not the
/// file compiles; empty when it is not read far enough to know its services.
pub fn resources_report(text: &str, options: &crate::CompileOptions) -> ResourcesReport {
    crate::compile(text, options).resources
}

/// One resource as the report reads it: its key in a container's requests and limits, how
/// its quantities read, and its amount in one of the policy's [`Resources`] blocks (a maximum
/// or the default).
struct Kind<'a> {
    key: &'a str,
    parse: fn(&str) -> Option<u64>,
    in_policy: fn(&Resources) -> Option<u64>,
}

/// The report of a plan's containers (one per compose service) under `policy`.
pub(crate) fn report(plan: &Plan, policy: &Policy) -> ResourcesReport {
    let kinds = [
        Kind {
            key: "cpu",
            parse: parse_cpus,
            in_policy: |spec| parse_cpus(&spec.cpu),
        },
        Kind {
            key: "memory",
            parse: parse_kube_bytes,
            in_policy: |spec| parse_kube_bytes(&spec.memory),
        },
        Kind {
            key: &policy.gpu_resource_name,
            parse: |q| q.trim().parse().ok(),
            in_policy: |spec| Some(u64::from(spec.gpus)),
        },
    ];
    let spec = plan.deployment.spec.as_ref();
    // Every compose service: the services others wait for run as init containers (sidecars
    // or before the rest), and count as the policy's check counts them.
    let pod = spec.and_then(|s| s.template.spec.as_ref());
    let containers: Vec<&Container> = pod
        .map(|p| {
            p.init_containers
                .iter()
                .flatten()
                .chain(&p.containers)
                .collect()
        })
        .unwrap_or_default();
    let replicas = spec
        .and_then(|s| s.replicas)
        .and_then(|n| u32::try_from(n).ok())
        .unwrap_or(1);
    let services: Vec<ServiceUsage> = containers
        .iter()
        .map(|container| {
            let [cpu, memory, gpus] = kinds.each_ref().map(|kind| usage(container, kind, policy));
            ServiceUsage {
                service: container.name.clone(),
                cpu,
                memory,
                gpus,
            }
        })
        .collect();
    let total_of = |kind: &Kind, of: fn(&ServiceUsage) -> &Usage| {
        // The built containers already hold the policy's defaults where they apply: what one
        // leaves out (a GPU limit after `gpus: 0`) counts as none.
        let max = (kind.in_policy)(&policy.max_pod_resources);
        total(services.iter().map(of), replicas, max)
    };
    let system = SystemUsage {
        cpu: total_of(&kinds[0], |s| &s.cpu),
        memory: total_of(&kinds[1], |s| &s.memory),
        gpus: total_of(&kinds[2], |s| &s.gpus),
    };
    ResourcesReport {
        services,
        replicas,
        system,
    }
}

/// One container's request and limit of `kind`, against `max_resources`.
fn usage(container: &Container, kind: &Kind, policy: &Policy) -> Usage {
    let resources = container.resources.as_ref();
    let amount = |of: fn(&ResourceRequirements) -> Option<&BTreeMap<String, Quantity>>| {
        let quantity = resources.and_then(of)?.get(kind.key)?;
        (kind.parse)(&quantity.0)
    };
    let request = amount(|r| r.requests.as_ref());
    let limit = amount(|r| r.limits.as_ref());
    let max = (kind.in_policy)(&policy.max_resources);
    let above = |amount: Option<u64>| matches!((amount, max), (Some(a), Some(m)) if a > m);
    Usage {
        request,
        limit,
        max,
        over: above(request) || above(limit),
    }
}

/// What each container counts for (its limit, else its request, else nothing) summed, times
/// the replicas, against `max`.
fn total<'a>(usages: impl Iterator<Item = &'a Usage>, replicas: u32, max: Option<u64>) -> Total {
    let pod = usages
        .map(|usage| counted(usage.limit, usage.request, || 0))
        .fold(0u64, u64::saturating_add);
    let asked = pod.saturating_mul(u64::from(replicas));
    Total {
        asked,
        max,
        over: max.is_some_and(|m| asked > m),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, codes};

    const GI: u64 = 1024 * 1024 * 1024;

    fn options(policy: Policy) -> CompileOptions {
        CompileOptions {
            guid: "abc".into(),
            policy,
            ..CompileOptions::default()
        }
    }

    #[test]
    fn amounts_are_the_containers_with_the_defaults_filled_in() {
        let text = "services:\n  web:\n    image: nginx\n    mem_limit: 8g\n    cpus: 2\n  side:\n    image: busybox\n";
        let report = resources_report(text, &options(Policy::default()));
        let [web, side] = &report.services[..] else {
            panic!("two services: {report:?}");
        };
        assert_eq!(web.service, "web");
        assert_eq!((web.cpu.request, web.cpu.limit), (Some(2000), Some(2000)));
        assert_eq!(web.cpu.max, Some(8000));
        assert_eq!(web.memory.asked(), Some(8 * GI));
        assert_eq!(web.memory.max, Some(32 * GI));
        assert_eq!((web.gpus.asked(), web.gpus.max), (None, Some(1)));
        // No limits in the file: the policy's default request, and a memory limit of the same.
        assert_eq!((side.cpu.request, side.cpu.limit), (Some(250), None));
        assert_eq!(side.memory.limit, Some(256 * 1024 * 1024));
        assert!(!report.over());
        assert_eq!(report.replicas, 1);
        assert_eq!(report.system.cpu.asked, 2250);
        assert_eq!(report.system.cpu.max, Some(16_000));
    }

    #[test]
    fn services_others_wait_for_are_reported_and_counted_too() {
        let text = "services:\n  web:\n    image: nginx\n    depends_on: [db]\n  db:\n    image: postgres\n    cpus: 1\n";
        let report = resources_report(text, &options(Policy::default()));
        let names: Vec<&str> = report.services.iter().map(|s| s.service.as_str()).collect();
        assert_eq!(names, ["db", "web"]);
        assert_eq!(report.system.cpu.asked, 1250);
    }

    #[test]
    fn gpus_zero_asks_for_none_whatever_the_default() {
        let mut policy = Policy::default();
        policy.default_resources.gpus = 1;
        policy.max_pod_resources.gpus = 1;
        let text = "services:\n  a:\n    image: a\n    gpus: 0\n  b:\n    image: b\n    gpus: 0\n";
        let compiled = crate::compile(text, &options(policy));
        assert!(!compiled.has_errors(), "{:#?}", compiled.diagnostics);
        assert_eq!(compiled.resources.system.gpus.asked, 0);
        assert!(!compiled.resources.over());
        let yaml = compiled.plan.expect("compiles").to_yaml();
        assert!(!yaml.contains("nvidia.com/gpu"), "{yaml}");
    }

    #[test]
    fn a_file_above_a_cap_still_reports_by_how_much() {
        let text = "services:\n  web:\n    image: nginx\n    mem_limit: 8g\n    cpus: 2\n";
        let mut policy = Policy::default();
        policy.max_resources.memory = "4Gi".into();
        let compiled = crate::compile(text, &options(policy));
        assert!(compiled.plan.is_none());
        assert!(
            compiled
                .diagnostics
                .iter()
                .any(|d| d.code == codes::ABOVE_POLICY_MAX)
        );
        let web = &compiled.resources.services[0];
        assert!(web.memory.over && !web.cpu.over);
        assert_eq!(
            (web.memory.asked(), web.memory.max),
            (Some(8 * GI), Some(4 * GI))
        );
    }

    #[test]
    fn the_system_sums_every_container_times_the_replicas() {
        // Within the per-container cap, above the system's: caps that stopped the old second
        // compile (max_pod_resources, max_replicas) leave the report whole.
        let text = "services:\n  a:\n    image: nginx\n    cpus: 2\n    deploy:\n      replicas: 3\n  b:\n    image: nginx\n    cpus: 2\n";
        let mut policy = Policy::default();
        policy.max_pod_resources.cpu = "3".into();
        policy.max_replicas = 2;
        let report = resources_report(text, &options(policy));
        assert_eq!(report.services.len(), 2);
        assert!(!report.services.iter().any(ServiceUsage::over));
        assert_eq!(report.replicas, 3);
        assert_eq!(report.system.cpu.asked, 12_000);
        assert_eq!(report.system.cpu.max, Some(3000));
        assert!(report.system.over() && report.over());
    }

    #[test]
    fn gpus_are_counted_under_the_policys_resource_name() {
        let text = "services:\n  ml:\n    image: pytorch\n    deploy:\n      resources:\n        reservations:\n          devices:\n            - capabilities: [gpu]\n              count: 2\n";
        let report = resources_report(text, &options(Policy::default()));
        let ml = &report.services[0];
        assert_eq!(
            (ml.gpus.asked(), ml.gpus.max, ml.gpus.over),
            (Some(2), Some(1), true)
        );
        assert_eq!(report.system.gpus.asked, 2);
    }

    #[test]
    fn text_that_does_not_load_has_an_empty_report() {
        let report = resources_report("services: [\n", &CompileOptions::default());
        assert_eq!(report, ResourcesReport::default());
    }
}
