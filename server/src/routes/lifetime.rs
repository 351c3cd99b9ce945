//! `POST /api/v1/systems/{guid}/keepalive`.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use tycho_api::{Problem, SystemStatus};

/// Keep a system alive: records activity now, as a request through the connect proxy does,
/// so an idle cull moves by the policy's `idle_timeout` and its warning (`cull_at`,
/// `warning`) goes. The maximum lifetime does not move. Owner or admin; 404 for anyone else.
#[utoipa::path(post, path = "/api/v1/systems/{guid}/keepalive", tag = "systems",
    params(("guid" = String, Path, description = "System GUID")),
    responses((status = 200, description = "The status after the keepalive", body = SystemStatus),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "No cluster configured or reachable", body = Problem, content_type = "application/problem+json")))]
pub async fn keepalive(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
    Path(guid): Path<String>,
) -> Result<Json<SystemStatus>, ApiError> {
    let system = crate::lifetime::keepalive(&state, &caller, &guid).await?;
    let base = state.settings().connect.public_base(&headers);
    Ok(Json(crate::ops::present(&state, base.as_deref(), system)))
}
