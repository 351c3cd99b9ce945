//! Kubernetes `Status` failures, shaped like the real API server's so that `kube::Error::Api`
//! carries the same code, reason and message a test would see against a cluster.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::kinds::{Kind, NAMESPACES};

/// One field-level problem inside a 422 Invalid.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Cause {
    pub field: String,
    /// `FieldValueInvalid`, `FieldValueRequired`, …
    pub reason: &'static str,
    /// What the server prints after the field, e.g. `Invalid value: "x": must be …`.
    pub detail: String,
}

impl Cause {
    pub(crate) fn invalid(field: impl Into<String>, value: &str, why: &str) -> Self {
        Cause {
            field: field.into(),
            reason: "FieldValueInvalid",
            detail: format!("Invalid value: \"{value}\": {why}"),
        }
    }
    pub(crate) fn invalid_num(field: impl Into<String>, value: i64, why: &str) -> Self {
        Cause {
            field: field.into(),
            reason: "FieldValueInvalid",
            detail: format!("Invalid value: {value}: {why}"),
        }
    }
    pub(crate) fn required(field: impl Into<String>) -> Self {
        Cause {
            field: field.into(),
            reason: "FieldValueRequired",
            detail: "Required value".into(),
        }
    }
    pub(crate) fn forbidden(field: impl Into<String>, why: &str) -> Self {
        Cause {
            field: field.into(),
            reason: "FieldValueForbidden",
            detail: format!("Forbidden: {why}"),
        }
    }
    pub(crate) fn duplicate(field: impl Into<String>, value: &str) -> Self {
        Cause {
            field: field.into(),
            reason: "FieldValueDuplicate",
            detail: format!("Duplicate value: \"{value}\""),
        }
    }
    pub(crate) fn not_found(field: impl Into<String>, value: &str) -> Self {
        Cause {
            field: field.into(),
            reason: "FieldValueNotFound",
            detail: format!("Not found: \"{value}\""),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub code: u16,
    pub reason: String,
    pub message: String,
    pub details: Option<Value>,
}

fn details(kind: &Kind, name: &str, kind_field: &str) -> Value {
    let mut d = json!({ "name": name, "kind": kind_field });
    if !kind.group.is_empty() {
        d["group"] = json!(kind.group);
    }
    d
}

impl ApiError {
    pub(crate) fn new(code: u16, reason: &str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            reason: reason.into(),
            message: message.into(),
            details: None,
        }
    }

    pub(crate) fn not_found(kind: &Kind, name: &str) -> Self {
        ApiError {
            details: Some(details(kind, name, kind.plural)),
            ..Self::new(
                404,
                "NotFound",
                format!("{} \"{name}\" not found", kind.resource()),
            )
        }
    }

    pub(crate) fn namespace_not_found(ns: &str) -> Self {
        Self::not_found(&NAMESPACES, ns)
    }

    pub(crate) fn already_exists(kind: &Kind, name: &str) -> Self {
        ApiError {
            details: Some(details(kind, name, kind.plural)),
            ..Self::new(
                409,
                "AlreadyExists",
                format!("{} \"{name}\" already exists", kind.resource()),
            )
        }
    }

    pub(crate) fn conflict(kind: &Kind, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(details(kind, name, kind.plural)),
            ..Self::new(
                409,
                "Conflict",
                format!(
                    "Operation cannot be fulfilled on {} \"{name}\": {why}",
                    kind.resource()
                ),
            )
        }
    }

    pub(crate) fn stale(kind: &Kind, name: &str) -> Self {
        Self::conflict(
            kind,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    pub(crate) fn invalid(kind: &Kind, name: &str, causes: &[Cause]) -> Self {
        let parts: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.detail))
            .collect();
        let summary = if parts.len() == 1 {
            parts[0].clone()
        } else {
            format!("[{}]", parts.join(", "))
        };
        let mut d = details(kind, name, kind.kind);
        d["causes"] = causes
            .iter()
            .map(|c| json!({ "reason": c.reason, "message": c.detail, "field": c.field }))
            .collect();
        ApiError {
            details: Some(d),
            ..Self::new(
                422,
                "Invalid",
                format!("{} \"{name}\" is invalid: {summary}", kind.qualified_kind()),
            )
        }
    }

    pub(crate) fn forbidden(kind: &Kind, name: &str, why: &str) -> Self {
        ApiError {
            details: Some(details(kind, name, kind.plural)),
            ..Self::new(
                403,
                "Forbidden",
                format!("{} \"{name}\" is forbidden: {why}", kind.resource()),
            )
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub(crate) fn no_route() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub(crate) fn unavailable() -> Self {
        Self::new(
            503,
            "ServiceUnavailable",
            "the server is currently unable to handle the request",
        )
    }

    /// A failure injected with `fail_nth_create`, with the reason the real server uses for that
    /// code so callers that branch on `reason` see something plausible.
    pub(crate) fn injected(kind: &Kind, name: &str, code: u16) -> Self {
        let why = "injected failure (fake-kube fail_nth_create)";
        match code {
            403 => Self::forbidden(kind, name, why),
            404 => Self::not_found(kind, name),
            409 => Self::already_exists(kind, name),
            422 => Self::invalid(kind, name, &[Cause::forbidden("metadata", why)]),
            400 => Self::bad_request(why),
            401 => Self::new(401, "Unauthorized", "Unauthorized"),
            429 => Self::new(
                429,
                "TooManyRequests",
                format!("the server has received too many requests: {why}"),
            ),
            500 => Self::new(
                500,
                "InternalError",
                format!("Internal error occurred: {why}"),
            ),
            503 => Self::new(
                503,
                "ServiceUnavailable",
                format!("the server is currently unable to handle the request: {why}"),
            ),
            504 => Self::new(
                504,
                "Timeout",
                format!("the server was unable to return a response in the time allotted: {why}"),
            ),
            c if c >= 500 => Self::new(
                c,
                "InternalError",
                format!("Internal error occurred: {why}"),
            ),
            c => Self::new(c, "BadRequest", why),
        }
    }

    pub(crate) fn body(&self) -> Value {
        let mut v = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            v["details"] = d.clone();
        }
        v
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let code = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (
            code,
            [(header::CONTENT_TYPE, "application/json")],
            self.body().to_string(),
        )
            .into_response()
    }
}
