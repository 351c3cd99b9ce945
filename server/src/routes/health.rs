//! `/healthz`, `/readyz`, `/metrics`.

use crate::executor::ExecError;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use tycho_api::{ClusterHealth, Health};

/// The process is up.
#[utoipa::path(get, path = "/healthz", tag = "health",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: tycho_compiler::version().into(),
        cluster: ClusterHealth {
            configured: false,
            reachable: false,
            namespace: String::new(),
            message: "not probed by /healthz; see /readyz".into(),
        },
    })
}

pub async fn cluster_health(state: &AppState) -> ClusterHealth {
    cluster_readiness(state).await.0
}

/// The cluster's health and whether systems can be started there. An API server that answers
/// but refuses (403: the Role lacks a permission; the namespace does not exist) is reachable,
/// not ready, and the message says what is missing.
async fn cluster_readiness(state: &AppState) -> (ClusterHealth, bool) {
    match state.executor() {
        None => (
            ClusterHealth {
                configured: false,
                reachable: false,
                namespace: String::new(),
                message: state.no_cluster_reason().to_string(),
            },
            false,
        ),
        Some(executor) => {
            let probe = executor.probe().await;
            let ready = probe.is_ok();
            let (reachable, message) = match probe.as_ref().map_err(ExecError::kind) {
                Ok(()) => (true, String::new()),
                Err(ExecError::Refused { message, .. }) => (true, message.clone()),
                Err(e) => (false, e.to_string()),
            };
            let health = ClusterHealth {
                configured: true,
                reachable,
                namespace: executor.location().to_string(),
                message,
            };
            (health, ready)
        }
    }
}

/// Ready to start systems: 200 when the cluster answers, 503 otherwise (the server still
/// serves the dashboard, validate and compile).
#[utoipa::path(get, path = "/readyz", tag = "health",
    responses((status = 200, description = "Cluster reachable and usable", body = Health),
              (status = 503, description = "No cluster configured or reachable, or it refuses the server (missing permission, no namespace)", body = Health)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let (cluster, ready) = cluster_readiness(&state).await;
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let health = Health {
        status: if ready { "ok" } else { "degraded" }.into(),
        version: tycho_compiler::version().into(),
        cluster,
    };
    (code, Json(health))
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "health",
    responses((status = 200, description = "Prometheus metrics", body = String, content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let reachable = match state.executor() {
        Some(e) => e.probe().await.is_ok(),
        None => false,
    };
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(reachable),
    )
}
