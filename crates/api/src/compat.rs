//! The original Tycho endpoints, with its JSON shapes, so its clients keep working.
//!
//! Every answer is an [`Envelope`]: `{"status": "success"|"error", "result": …, "message": …}`.
//! Errors keep the envelope (`result` is `{"error": …}`) but carry a proper HTTP status code.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `POST /system/start`.
///
/// Named `CompatStartRequest` in the OpenAPI document: `/api/v1/systems` takes another
/// `StartRequest` ([`crate::StartRequest`]), and one name would document both with one body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(as = CompatStartRequest))]
pub struct StartRequest {
    pub name: String,
    /// A JSON *string* holding `{"username": …}` (an object is accepted too).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub principal: serde_json::Value,
    #[serde(default)]
    pub serviceaccount: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The compose document as JSON.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub system: serde_json::Value,
    /// Per container: the port to publish and the CIDRs allowed to reach it.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceSpec>,
}

impl StartRequest {
    /// The username in `principal`, if any.
    pub fn principal_username(&self) -> Option<String> {
        let object = match &self.principal {
            serde_json::Value::String(s) if s.trim().is_empty() => return None,
            serde_json::Value::String(s) => serde_json::from_str::<serde_json::Value>(s).ok()?,
            other => other.clone(),
        };
        object
            .get("username")
            .and_then(|u| u.as_str())
            .filter(|u| !u.is_empty())
            .map(str::to_owned)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ServiceSpec {
    /// The port, as a number or a string.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub port: serde_json::Value,
    #[serde(default)]
    pub clients: Vec<String>,
}

/// `result` of a successful start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StartResult {
    pub name: String,
    /// The GUID.
    pub sid: String,
    /// Per container with a published port: `{"ip_address": …, "<port name>": <node port or port>}`.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub containers: BTreeMap<String, serde_json::Map<String, serde_json::Value>>,
    pub conn_string: String,
}

/// `POST /system/status`: `{}`, `{"name": GUID}` or `{"username": U}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
}

/// One entry of the status `result` list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusItem {
    /// The Deployment's name.
    pub name: String,
    /// The system name the user gave.
    pub app_id: Option<String>,
    pub sid: String,
    pub ip_address: String,
    /// As a string, like the original.
    pub port: String,
    /// `M-D-YYYY H:M:S` (UTC), the original's format.
    pub creation_time: String,
    pub username: String,
    /// Per container: its resource limits.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub utilization: BTreeMap<String, BTreeMap<String, String>>,
    pub workspace_name: String,
    pub is_ready: bool,
}

/// `POST /system/delete`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteRequest {
    pub name: String,
}

/// `result` of an error answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorResult {
    pub error: String,
}

/// The envelope of every compat answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<T> {
    /// `success` or `error`.
    pub status: String,
    pub result: T,
    pub message: String,
}

impl<T> Envelope<T> {
    pub fn success(result: T, message: impl Into<String>) -> Self {
        Envelope {
            status: "success".into(),
            result,
            message: message.into(),
        }
    }
}

impl Envelope<ErrorResult> {
    pub fn error(error: impl Into<String>, message: impl Into<String>) -> Self {
        Envelope {
            status: "error".into(),
            result: ErrorResult {
                error: error.into(),
            },
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_is_a_json_string_or_an_object() {
        let mut r = StartRequest {
            principal: serde_json::json!("{\"username\": \"alice\", \"access_token\": \"x\"}"),
            ..Default::default()
        };
        assert_eq!(r.principal_username().as_deref(), Some("alice"));
        r.principal = serde_json::json!({"username": "bob"});
        assert_eq!(r.principal_username().as_deref(), Some("bob"));
        r.principal = serde_json::json!("");
        assert_eq!(r.principal_username(), None);
    }

    #[test]
    fn error_envelope_shape() {
        let e = Envelope::error("boom", "Unable to start system");
        let v = serde_json::to_value(e).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"status": "error", "result": {"error": "boom"}, "message": "Unable to start system"})
        );
    }
}
