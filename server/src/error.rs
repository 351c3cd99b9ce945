//! One error type for the whole server, rendered in one place: RFC 9457 problem+json for
//! `/api/v1`, the original envelope for the compat endpoints.

use crate::executor::ExecError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tycho_api::{Diagnostic, PROBLEM_JSON, Problem};

/// How long a client refused by a limit that clears by itself should wait, in seconds.
pub const RETRY_AFTER_SECS: u64 = 5;
/// Retry-After of a 429 for a per-user quota: about a pod's termination grace.
const QUOTA_RETRY_SECS: u64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The client announced a body and stopped sending it.
    #[error("{0}")]
    RequestTimeout(String),
    #[error("the request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{detail}")]
    Invalid {
        detail: String,
        diagnostics: Vec<Diagnostic>,
    },
    /// A start above one of the user's quotas (`quota:` in the policy).
    #[error("{user}: {refusal}")]
    Quota {
        user: String,
        refusal: tycho_api::QuotaRefusal,
    },
    #[error(
        "no Kubernetes cluster is configured: start the server with --kubeconfig, KUBECONFIG, ~/.kube/config or in a cluster"
    )]
    NoCluster,
    #[error("too many systems are being started right now; try again shortly")]
    Busy,
    /// The server cannot take this now (a limit of its own); try again later.
    #[error("{0}")]
    Unavailable(String),
    /// One user has too many connections open through the proxy.
    #[error("{0}")]
    TooManyConnections(String),
    /// A system's app refused or dropped the proxy's connection.
    #[error("{0}")]
    BadGateway(String),
    /// A system's app did not answer in time.
    #[error("{0}")]
    GatewayTimeout(String),
    #[error(transparent)]
    Executor(#[from] ExecError),
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Quota { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NoCluster | ApiError::Busy | ApiError::Unavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::TooManyConnections(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::BadGateway(_) => StatusCode::BAD_GATEWAY,
            ApiError::GatewayTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Executor(e) => match e.kind() {
                ExecError::Unreachable(_) => StatusCode::SERVICE_UNAVAILABLE,
                // The cluster's own 4xx (409 AlreadyExists, 422 Invalid, 403 Forbidden, 429)
                // keep their code; its 5xx become 502: the fault is upstream.
                ExecError::Refused { code, .. } => match *code {
                    400..=499 => StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_GATEWAY),
                    _ => StatusCode::BAD_GATEWAY,
                },
                ExecError::Conflict(_) => StatusCode::CONFLICT,
                _ => StatusCode::BAD_GATEWAY,
            },
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Seconds to wait before trying again, for the limits that clear by themselves.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::Busy | ApiError::Unavailable(_) | ApiError::TooManyConnections(_) => {
                Some(RETRY_AFTER_SECS)
            }
            // A system frees its place once its pods are gone, which takes a grace period.
            ApiError::Quota { .. } => Some(QUOTA_RETRY_SECS),
            _ => None,
        }
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            ApiError::BadRequest(_) => ("bad-request", "The request is malformed"),
            ApiError::Unauthorized(_) => ("unauthorized", "Authentication required"),
            ApiError::Forbidden(_) => ("forbidden", "Not allowed"),
            ApiError::NotFound(_) => ("not-found", "Not found"),
            ApiError::PayloadTooLarge(_) => ("payload-too-large", "Request body too large"),
            ApiError::RequestTimeout(_) => ("request-timeout", "The request body stopped arriving"),
            ApiError::UnsupportedMediaType(_) => {
                ("unsupported-media-type", "Unsupported body type")
            }
            ApiError::Invalid { .. } => ("invalid-compose", "The compose file is not valid"),
            // The systems count keeps the slug it always had.
            ApiError::Quota { refusal, .. }
                if refusal.resource == tycho_api::QuotaResource::Systems =>
            {
                ("too-many-systems", "Too many systems")
            }
            ApiError::Quota { .. } => ("quota-exceeded", "Quota exceeded"),
            ApiError::NoCluster => ("no-cluster", "No cluster is configured"),
            ApiError::Busy | ApiError::Unavailable(_) => ("busy", "Server busy"),
            ApiError::TooManyConnections(_) => ("too-many-connections", "Too many connections"),
            ApiError::BadGateway(_) => ("bad-gateway", "The system's app cannot be reached"),
            ApiError::GatewayTimeout(_) => ("gateway-timeout", "The system's app did not answer"),
            ApiError::Executor(e) => match e.kind() {
                ExecError::Unreachable(_) => {
                    ("cluster-unreachable", "The cluster cannot be reached")
                }
                ExecError::Refused { .. } => ("cluster-refused", "The cluster refused the request"),
                ExecError::Conflict(_) => ("in-use", "In use"),
                _ => ("cluster-error", "Cluster error"),
            },
            ApiError::Internal(_) => ("internal", "Internal server error"),
        }
    }

    pub fn problem(&self) -> Problem {
        let (slug, title) = self.slug_and_title();
        let mut p = Problem::new(self.status().as_u16(), slug, title).with_detail(self.to_string());
        match self {
            ApiError::Invalid { diagnostics, .. } => p.errors = diagnostics.clone(),
            ApiError::Quota { refusal, .. } => p.quota = Some(refusal.clone()),
            ApiError::Executor(e) => {
                if let ExecError::Refused { reason, .. } = e.kind() {
                    p.reason = reason.clone();
                }
            }
            _ => {}
        }
        p
    }

    /// The compat envelope `{"status":"error","result":{"error"},"message"}` with this code.
    pub fn compat_response(&self, message: &str) -> Response {
        let mut error = self.to_string();
        if let ApiError::Invalid { diagnostics, .. } = self {
            for d in diagnostics
                .iter()
                .filter(|d| d.severity == tycho_api::Severity::Error)
            {
                error.push_str(&format!(
                    "\n{}:{}: {} [{}]",
                    d.line, d.column, d.message, d.code
                ));
            }
        }
        let body = tycho_api::compat::Envelope::error(error, message);
        (self.status(), axum::Json(body)).into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if matches!(self, ApiError::Unauthorized(_)) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

/// Errors of starting the server itself (bad flags, unreadable files, bind failures).
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Config(String),
    #[error("server failed: {0}")]
    Serve(std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u16, reason: &str) -> ApiError {
        ApiError::Executor(ExecError::Refused {
            code,
            reason: reason.into(),
            message: "m".into(),
        })
    }

    #[test]
    fn kubernetes_reasons_pass_through() {
        let e = refused(409, "AlreadyExists");
        assert_eq!(e.status(), StatusCode::CONFLICT);
        let p = e.problem();
        assert_eq!(p.reason, "AlreadyExists");
        assert_eq!(p.kind, "urn:tycho:problem:cluster-refused");
        assert_eq!(
            refused(500, "InternalError").status(),
            StatusCode::BAD_GATEWAY
        );
        assert_eq!(
            ApiError::Executor(ExecError::Unreachable("x".into())).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn invalid_carries_diagnostics_and_compat_keeps_the_envelope() {
        let d = Diagnostic {
            severity: tycho_api::Severity::Error,
            code: "TY0101".into(),
            message: "bad".into(),
            path: "/services".into(),
            line: 2,
            column: 3,
            file: String::new(),
        };
        let e = ApiError::Invalid {
            detail: "1 error".into(),
            diagnostics: vec![d.clone()],
        };
        assert_eq!(e.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(e.problem().errors, vec![d]);
        let r = e.compat_response("Unable to start system");
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let r = ApiError::NoCluster.into_response();
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    }
}
