//! Per-user quotas: `GET /api/v1/quota` and the 429 a start above one answers.
//!
//! Amounts are whole numbers in one unit each, as in the resources report: CPU in millicores,
//! memory in bytes, GPUs and systems counted. What a system counts for is what its pod
//! requests (the `tycho.io/resources` annotation: CPU and memory requests, GPU limits) times
//! its replicas, for as long as any of it exists (starting, running and terminating).

use serde::{Deserialize, Serialize};

/// The four amounts a quota bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Amounts {
    pub systems: u64,
    /// Millicores.
    pub cpu: u64,
    /// Bytes.
    pub memory: u64,
    pub gpus: u64,
}

impl Amounts {
    /// `self + other`, saturating.
    pub fn plus(self, other: Amounts) -> Amounts {
        Amounts {
            systems: self.systems.saturating_add(other.systems),
            cpu: self.cpu.saturating_add(other.cpu),
            memory: self.memory.saturating_add(other.memory),
            gpus: self.gpus.saturating_add(other.gpus),
        }
    }
}

/// Which of the four amounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaResource {
    Systems,
    Cpu,
    Memory,
    Gpus,
}

impl QuotaResource {
    pub const ALL: [QuotaResource; 4] = [
        QuotaResource::Systems,
        QuotaResource::Cpu,
        QuotaResource::Memory,
        QuotaResource::Gpus,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QuotaResource::Systems => "systems",
            QuotaResource::Cpu => "cpu",
            QuotaResource::Memory => "memory",
            QuotaResource::Gpus => "gpus",
        }
    }

    /// This resource's amount in `amounts`.
    pub fn of(self, amounts: &Amounts) -> u64 {
        match self {
            QuotaResource::Systems => amounts.systems,
            QuotaResource::Cpu => amounts.cpu,
            QuotaResource::Memory => amounts.memory,
            QuotaResource::Gpus => amounts.gpus,
        }
    }

    /// An amount in words: `3 systems`, `1.5 CPUs`, `4Gi of memory`, `1 GPU`.
    pub fn words(self, amount: u64) -> String {
        let plural = |n: u64, one: &str, many: &str| {
            if n == 1 {
                format!("1 {one}")
            } else {
                format!("{n} {many}")
            }
        };
        match self {
            QuotaResource::Systems => plural(amount, "system", "systems"),
            QuotaResource::Cpu => {
                let whole = amount / 1000;
                let rest = amount % 1000;
                let number = if rest == 0 {
                    whole.to_string()
                } else {
                    let fraction = format!("{rest:03}");
                    format!("{whole}.{}", fraction.trim_end_matches('0'))
                };
                if amount == 1000 {
                    "1 CPU".into()
                } else {
                    format!("{number} CPUs")
                }
            }
            QuotaResource::Memory => format!("{} of memory", bytes(amount)),
            QuotaResource::Gpus => plural(amount, "GPU", "GPUs"),
        }
    }
}

/// Bytes as the largest binary unit that divides them (`4Gi`, `1536Mi`, `100`).
fn bytes(amount: u64) -> String {
    const UNITS: [(&str, u64); 4] = [
        ("Ti", 1 << 40),
        ("Gi", 1 << 30),
        ("Mi", 1 << 20),
        ("Ki", 1 << 10),
    ];
    for (suffix, size) in UNITS {
        if amount >= size && amount.is_multiple_of(size) {
            return format!("{}{suffix}", amount / size);
        }
    }
    amount.to_string()
}

/// One resource of a user's quota.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaLine {
    pub resource: QuotaResource,
    /// What the user's systems hold now (starting, running and terminating ones).
    pub used: u64,
    /// `null`: no limit.
    pub limit: Option<u64>,
    /// `used` and `limit` in words: `3 of 8 CPUs`, `2 systems (no limit)`.
    pub text: String,
}

impl QuotaLine {
    pub fn new(resource: QuotaResource, used: u64, limit: Option<u64>) -> Self {
        let text = match limit {
            Some(limit) => format!("{} of {}", number_of(resource, used), resource.words(limit)),
            None => format!("{} (no limit)", resource.words(used)),
        };
        QuotaLine {
            resource,
            used,
            limit,
            text,
        }
    }

    /// What is left before the limit (`None`: no limit).
    pub fn left(&self) -> Option<u64> {
        self.limit.map(|l| l.saturating_sub(self.used))
    }
}

/// The number part of [`QuotaResource::words`] (`3` of "3 of 8 CPUs").
fn number_of(resource: QuotaResource, amount: u64) -> String {
    let words = resource.words(amount);
    words.split(' ').next().unwrap_or_default().to_string()
}

/// `GET /api/v1/quota`: a user's limits and what their systems hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaReport {
    pub username: String,
    /// Systems, CPU, memory and GPUs, in this order.
    pub resources: Vec<QuotaLine>,
    /// The GUIDs of the systems counted.
    pub systems: Vec<String>,
}

impl QuotaReport {
    /// The line of `resource`.
    pub fn line(&self, resource: QuotaResource) -> Option<&QuotaLine> {
        self.resources.iter().find(|l| l.resource == resource)
    }

    /// The first resource a system asking for `asked` would exceed, as the start would
    /// refuse it (the same check the server makes; a dashboard can refuse before sending).
    pub fn refusal(&self, asked: &Amounts) -> Option<QuotaRefusal> {
        self.resources.iter().find_map(|line| {
            let limit = line.limit?;
            let more = line.resource.of(asked);
            (more > 0 && line.used.saturating_add(more) > limit).then_some(QuotaRefusal {
                resource: line.resource,
                used: line.used,
                asked: more,
                limit,
            })
        })
    }
}

/// Why a start was refused: the resource, what the user's systems hold, what the new one asks
/// for and the limit (in the problem's `quota` member of a 429).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuotaRefusal {
    pub resource: QuotaResource,
    pub used: u64,
    pub asked: u64,
    pub limit: u64,
}

impl std::fmt::Display for QuotaRefusal {
    /// "you use 6 of 8 CPUs; this system asks for 4 CPUs more".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = self.resource;
        if r == QuotaResource::Systems {
            return write!(
                f,
                "you run {} of {}, the most allowed; delete one to start another",
                number_of(r, self.used),
                r.words(self.limit)
            );
        }
        write!(
            f,
            "you use {} of {}; this system asks for {} more",
            number_of(r, self.used),
            r.words(self.limit),
            r.words(self.asked)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_in_words() {
        assert_eq!(QuotaResource::Cpu.words(1500), "1.5 CPUs");
        assert_eq!(QuotaResource::Cpu.words(1000), "1 CPU");
        assert_eq!(QuotaResource::Cpu.words(250), "0.25 CPUs");
        assert_eq!(QuotaResource::Memory.words(4 << 30), "4Gi of memory");
        assert_eq!(QuotaResource::Gpus.words(1), "1 GPU");
        assert_eq!(QuotaResource::Systems.words(3), "3 systems");
        let line = QuotaLine::new(QuotaResource::Cpu, 6000, Some(8000));
        assert_eq!(line.text, "6 of 8 CPUs");
        assert_eq!(line.left(), Some(2000));
        assert_eq!(
            QuotaLine::new(QuotaResource::Gpus, 0, None).text,
            "0 GPUs (no limit)"
        );
    }

    #[test]
    fn a_refusal_names_use_ask_and_limit() {
        let report = QuotaReport {
            username: "alice".into(),
            resources: vec![
                QuotaLine::new(QuotaResource::Systems, 2, Some(5)),
                QuotaLine::new(QuotaResource::Cpu, 6000, Some(8000)),
                QuotaLine::new(QuotaResource::Memory, 1 << 30, None),
                QuotaLine::new(QuotaResource::Gpus, 0, Some(0)),
            ],
            systems: vec![],
        };
        let asked = Amounts {
            systems: 1,
            cpu: 4000,
            memory: 1 << 30,
            gpus: 0,
        };
        let refusal = report.refusal(&asked).expect("above the CPU limit");
        assert_eq!(refusal.resource, QuotaResource::Cpu);
        assert_eq!(
            refusal.to_string(),
            "you use 6 of 8 CPUs; this system asks for 4 CPUs more"
        );
        // Asking for none of a resource whose limit is 0 fits.
        assert!(report.refusal(&Amounts { cpu: 2000, ..asked }).is_none());
        let wire = serde_json::to_value(&refusal).unwrap();
        assert_eq!(
            wire,
            serde_json::json!({"resource": "cpu", "used": 6000, "asked": 4000, "limit": 8000})
        );
    }
}
