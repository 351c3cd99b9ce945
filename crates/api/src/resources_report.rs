//! The resources report: what each service of a compose file asks for (CPU, memory, GPUs, as
//! its container gets them) against the operator's maxima, per container and for the whole
//! system. The compiler makes it whether or not the file compiles, so a file above a cap shows
//! by how much; the dashboard and the wasm package show it.
//!
//! Amounts are numbers in one unit each: CPU in millicores, memory in bytes, GPUs counted.

use serde::{Deserialize, Serialize};

/// Every service's amounts and the system's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResourcesReport {
    /// One per compose service, in file order.
    pub services: Vec<ServiceUsage>,
    /// Copies of the pod that run: every service counts this many times in `system`.
    pub replicas: u32,
    /// All containers together (each one's limit, else its request), times the replicas,
    /// against the policy's `max_pod_resources`.
    pub system: SystemUsage,
}

impl ResourcesReport {
    /// Whether any amount is above its maximum (the compiler refuses such a file).
    pub fn over(&self) -> bool {
        self.services.iter().any(ServiceUsage::over) || self.system.over()
    }
}

/// One service's container, against the policy's `max_resources` (per container).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceUsage {
    pub service: String,
    /// Millicores.
    pub cpu: Usage,
    /// Bytes.
    pub memory: Usage,
    pub gpus: Usage,
}

impl ServiceUsage {
    pub fn over(&self) -> bool {
        self.cpu.over || self.memory.over || self.gpus.over
    }
}

/// One resource of one container: its request and limit as the Deployment has them (the
/// policy's defaults filled in), and the maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Usage {
    /// `null`: the container requests none.
    pub request: Option<u64>,
    /// `null`: no limit.
    pub limit: Option<u64>,
    /// `null`: the policy sets no maximum.
    pub max: Option<u64>,
    /// The request or the limit is above the maximum.
    pub over: bool,
}

impl Usage {
    /// What the container asks for: its limit, else its request.
    pub fn asked(&self) -> Option<u64> {
        self.limit.or(self.request)
    }
}

/// The whole system's CPU (millicores), memory (bytes) and GPUs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SystemUsage {
    pub cpu: Total,
    pub memory: Total,
    pub gpus: Total,
}

impl SystemUsage {
    pub fn over(&self) -> bool {
        self.cpu.over || self.memory.over || self.gpus.over
    }
}

/// One resource summed over the system, against the maximum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Total {
    pub asked: u64,
    /// `null`: the policy sets no maximum.
    pub max: Option<u64>,
    pub over: bool,
}
