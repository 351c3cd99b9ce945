//! One container's resources: a reservation may not exceed its limit, and neither may exceed
//! the policy's `max_resources` per container (the pod-wide sums are in [`super::limits`]).

use super::report::error;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::model::{ResourceAmounts, Service};
use crate::options::Policy;
use crate::quantity::{format_bytes, format_cpu, parse_cpus, parse_kube_bytes};

/// Refuses a reservation above its limit, and limits or reservations above `max_resources`.
pub(crate) fn resources(service: &Service, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let limits = &service.resources.limits;
    let requests = &service.resources.reservations;
    if let (Some((request, pos)), Some((limit, _))) = (&requests.cpu, &limits.cpu)
        && request > limit
    {
        error(
            out,
            codes::REQUEST_ABOVE_LIMIT,
            format!(
                "reserved cpus ({}) exceed the limit ({})",
                format_cpu(*request),
                format_cpu(*limit)
            ),
            pos,
        );
    }
    if let (Some((request, pos)), Some((limit, _))) = (&requests.memory, &limits.memory)
        && request > limit
    {
        error(
            out,
            codes::REQUEST_ABOVE_LIMIT,
            format!(
                "reserved memory ({}) exceeds the limit ({})",
                format_bytes(*request),
                format_bytes(*limit)
            ),
            pos,
        );
    }
    for amounts in [limits, requests] {
        above_max(amounts, policy, out);
    }
}

fn above_max(amounts: &ResourceAmounts, policy: &Policy, out: &mut Vec<Diagnostic>) {
    let max = &policy.max_resources;
    if let (Some((cpu, pos)), Some(max_cpu)) = (&amounts.cpu, parse_cpus(&max.cpu))
        && *cpu > max_cpu
    {
        error(
            out,
            codes::ABOVE_POLICY_MAX,
            format!(
                "{} CPUs is above the operator's maximum of {} per container (policy `max_resources.cpu`)",
                format_cpu(*cpu),
                max.cpu
            ),
            pos,
        );
    }
    if let (Some((memory, pos)), Some(max_memory)) =
        (&amounts.memory, parse_kube_bytes(&max.memory))
        && *memory > max_memory
    {
        error(
            out,
            codes::ABOVE_POLICY_MAX,
            format!(
                "{} of memory is above the operator's maximum of {} per container (policy `max_resources.memory`)",
                format_bytes(*memory),
                max.memory
            ),
            pos,
        );
    }
    if let Some((gpus, pos)) = &amounts.gpus
        && *gpus > max.gpus
    {
        error(
            out,
            codes::ABOVE_POLICY_MAX,
            format!(
                "{gpus} GPU(s) is above the operator's maximum of {} per container (policy `max_resources.gpus`)",
                max.gpus
            ),
            pos,
        );
    }
}
