//! The policy's caps on the size of a system: services, published ports, replicas, what all
//! containers use together, claims, memory-backed volumes and the stop grace period. Each
//! refusal points at the text that crossed the cap and names the policy key to raise.

use super::report::error;
use crate::codes;
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Pos, ResourceAmounts, Service, System};
use crate::options::Policy;
use crate::plan::claim::{claim_size, gets_claim};
use crate::plan::container::counted;
use crate::plan::deployment::replica_count;
use crate::quantity::{format_bytes, format_cpu, parse_cpus, parse_kube_bytes};
use std::collections::BTreeSet;

/// The policy's size caps in bytes or millicores, read once (`None`: no cap).
struct Caps {
    pod_cpu: Option<u64>,
    pod_memory: Option<u64>,
    volume: Option<u64>,
    total_volume: Option<u64>,
    tmpfs: Option<u64>,
    shm: Option<u64>,
}

pub(crate) fn check(system: &System, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let max = &policy.max_pod_resources;
    let bytes = parse_kube_bytes;
    let caps = Caps {
        pod_cpu: cap_of(&max.cpu, "max_pod_resources.cpu", parse_cpus, out),
        pod_memory: cap_of(&max.memory, "max_pod_resources.memory", bytes, out),
        volume: cap_of(&policy.max_volume_size, "max_volume_size", bytes, out),
        total_volume: cap_of(
            &policy.max_total_volume_size,
            "max_total_volume_size",
            bytes,
            out,
        ),
        tmpfs: cap_of(&policy.max_tmpfs_size, "max_tmpfs_size", bytes, out),
        shm: cap_of(&policy.max_shm_size, "max_shm_size", bytes, out),
    };
    services(system, policy, out);
    published_ports(system, policy, out);
    replicas(system, policy, out);
    pod_resources(system, policy, &caps, out);
    claims(system, policy, &caps, out);
    for service in &system.services {
        memory_volumes(service, policy, &caps, out);
        stop_grace_period(service, policy, out);
    }
}

fn above(
    out: &mut Vec<Diagnostic>,
    what: String,
    cap: impl std::fmt::Display,
    key: &str,
    pos: &Pos,
) {
    error(
        out,
        codes::ABOVE_POLICY_MAX,
        format!("{what} is above the operator's maximum of {cap} (policy `{key}`)"),
        pos,
    );
}

fn services(system: &System, policy: &Policy, out: &mut Vec<Diagnostic>) {
    if let Some(first_over) = system.services.get(policy.max_services as usize) {
        above(
            out,
            format!(
                "service `{}` makes {} services, which",
                first_over.name,
                system.services.len()
            ),
            policy.max_services,
            "max_services",
            &first_over.pos,
        );
    }
}

/// Service ports as the Service gets them: one per (port, protocol), ranges expanded.
fn published_ports(system: &System, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let mut seen = BTreeSet::new();
    for port in system.services.iter().flat_map(|s| &s.ports) {
        seen.insert((
            port.published.unwrap_or(port.container),
            port.protocol.as_str(),
        ));
        if seen.len() > policy.max_published_ports as usize {
            above(
                out,
                format!("publishing more than {} ports", policy.max_published_ports),
                policy.max_published_ports,
                "max_published_ports",
                &port.pos,
            );
            return;
        }
    }
}

fn replicas(system: &System, policy: &Policy, out: &mut Vec<Diagnostic>) {
    for (count, pos) in system.services.iter().filter_map(|s| s.replicas.as_ref()) {
        if *count > policy.max_replicas {
            above(
                out,
                format!("{count} replicas"),
                policy.max_replicas,
                "max_replicas",
                pos,
            );
        }
    }
}

/// One kind of resource summed over the pod: its cap, and how much a container may use.
struct Sum {
    key: &'static str,
    cap: u64,
    format: fn(u64) -> String,
    amount: fn(&ResourceAmounts) -> Option<(u64, &Pos)>,
    default: u64,
}

/// Every container's limit (else its request, else the policy's default) summed, times the
/// replicas, against `max_pod_resources`. Reported where the sum crosses the cap: the amount
/// (or the service) that crossed it, or the replica count when one pod fits but not all.
fn pod_resources(system: &System, policy: &Policy, caps: &Caps, out: &mut Vec<Diagnostic>) {
    let defaults = &policy.default_resources;
    let sums = [
        caps.pod_cpu.map(|cap| Sum {
            key: "max_pod_resources.cpu",
            cap,
            format: |m| format!("{} CPUs", format_cpu(m)),
            amount: |a| a.cpu.as_ref().map(|(m, p)| (*m, p)),
            default: parse_cpus(&defaults.cpu).unwrap_or(0),
        }),
        caps.pod_memory.map(|cap| Sum {
            key: "max_pod_resources.memory",
            cap,
            format: |b| format!("{} of memory", format_bytes(b)),
            amount: |a| a.memory.as_ref().map(|(b, p)| (*b, p)),
            default: parse_kube_bytes(&defaults.memory).unwrap_or(0),
        }),
        Some(Sum {
            key: "max_pod_resources.gpus",
            cap: u64::from(policy.max_pod_resources.gpus),
            format: |n| format!("{n} GPU(s)"),
            amount: |a| a.gpus.as_ref().map(|(n, p)| (u64::from(*n), p)),
            default: u64::from(defaults.gpus),
        }),
    ];
    let replicas = replica_count(system);
    for sum in sums.into_iter().flatten() {
        check_sum(system, &sum, replicas, out);
    }
}

fn check_sum(
    system: &System,
    sum: &Sum,
    (count, replicas_pos): (u32, Option<&Pos>),
    out: &mut Vec<Diagnostic>,
) {
    let mut pod_total = 0u64;
    for service in &system.services {
        let resources = &service.resources;
        let (amount, pos) = counted(
            (sum.amount)(&resources.limits),
            (sum.amount)(&resources.reservations),
            || (sum.default, &service.pos),
        );
        pod_total = pod_total.saturating_add(amount);
        if pod_total > sum.cap {
            let what = format!(
                "with service `{}` the pod asks for {}, which",
                service.name,
                (sum.format)(pod_total)
            );
            above(out, what, (sum.format)(sum.cap), sum.key, pos);
            return;
        }
    }
    let system_total = pod_total.saturating_mul(u64::from(count));
    if let Some(pos) = replicas_pos
        && system_total > sum.cap
    {
        let what = format!(
            "{count} replicas of a pod of {} make {}, which",
            (sum.format)(pod_total),
            (sum.format)(system_total)
        );
        above(out, what, (sum.format)(sum.cap), sum.key, pos);
    }
}

fn claims(system: &System, policy: &Policy, caps: &Caps, out: &mut Vec<Diagnostic>) {
    let mut total = 0u64;
    let mut total_reported = false;
    for decl in system.volumes.iter().filter(|d| gets_claim(d, system)) {
        // An unreadable size is reported where the claim is built.
        let Some(bytes) = parse_kube_bytes(&claim_size(decl, policy)) else {
            continue;
        };
        let pos = decl.size.as_ref().map_or(&decl.pos, |(_, pos)| pos);
        if let Some(max) = caps.volume
            && bytes > max
        {
            let what = format!(
                "the claim for volume `{}` ({})",
                decl.name,
                format_bytes(bytes)
            );
            above(out, what, &policy.max_volume_size, "max_volume_size", pos);
        }
        total = total.saturating_add(bytes);
        if let Some(max) = caps.total_volume
            && total > max
            && !total_reported
        {
            total_reported = true;
            let what = format!(
                "with volume `{}` the system's claims total {}, which",
                decl.name,
                format_bytes(total)
            );
            above(
                out,
                what,
                &policy.max_total_volume_size,
                "max_total_volume_size",
                pos,
            );
        }
    }
}

/// `tmpfs` and `shm_size` are memory-backed volumes.
fn memory_volumes(service: &Service, policy: &Policy, caps: &Caps, out: &mut Vec<Diagnostic>) {
    if let Some(max) = caps.tmpfs {
        for tmpfs in &service.tmpfs {
            if let Some(size) = tmpfs.size.filter(|s| *s > max) {
                let what = format!("the tmpfs at `{}` ({})", tmpfs.target, format_bytes(size));
                above(
                    out,
                    what,
                    &policy.max_tmpfs_size,
                    "max_tmpfs_size",
                    &tmpfs.pos,
                );
            }
        }
    }
    if let (Some(max), Some(shm)) = (caps.shm, &service.shm_size)
        && shm.bytes > max
    {
        let what = format!("`shm_size` {}", format_bytes(shm.bytes));
        above(out, what, &policy.max_shm_size, "max_shm_size", &shm.pos);
    }
}

fn stop_grace_period(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
    if let Some((seconds, pos)) = &service.stop_grace_period
        && *seconds > i64::from(policy.max_stop_grace_period_seconds)
    {
        above(
            out,
            format!("a `stop_grace_period` of {seconds}s"),
            format!("{}s", policy.max_stop_grace_period_seconds),
            "max_stop_grace_period_seconds",
            pos,
        );
    }
}

/// A cap from the policy: empty means none; a value that does not parse is the operator's
/// error (reported once per check), never a silent "no cap".
fn cap_of(
    text: &str,
    key: &str,
    parse: fn(&str) -> Option<u64>,
    out: &mut Vec<Diagnostic>,
) -> Option<u64> {
    if text.trim().is_empty() {
        return None;
    }
    let cap = parse(text);
    if cap.is_none() {
        out.push(Diagnostic {
            severity: Severity::Error,
            code: codes::INVALID_OPTION.into(),
            message: format!("policy `{key}` is `{text}`, which is not a Kubernetes quantity"),
            path: String::new(),
            line: 0,
            column: 0,
            file: String::new(),
        });
    }
    cap
}
