//! Server-Sent Events payloads (`GET /api/v1/events`, `GET /api/v1/systems/{guid}/events`).
//!
//! The SSE `event:` field is the variant name in snake case; `data:` is this type as JSON.

use crate::systems::SystemStatus;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SystemEvent {
    /// First event of every stream: every visible system as it is now.
    Snapshot { systems: Vec<SystemStatus> },
    /// A system appeared or changed.
    Changed { system: Box<SystemStatus> },
    /// A system is gone.
    Removed { guid: String },
}

impl SystemEvent {
    /// The SSE event name.
    pub fn name(&self) -> &'static str {
        match self {
            SystemEvent::Snapshot { .. } => "snapshot",
            SystemEvent::Changed { .. } => "changed",
            SystemEvent::Removed { .. } => "removed",
        }
    }
}
