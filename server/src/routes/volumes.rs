//! `/api/v1/volumes`: the claims that outlive systems (kept by a delete, reused, homes).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use tycho_api::{Problem, VolumeList};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct VolumeQuery {
    /// Only this user's volumes (admins; others may name only themselves).
    pub user: Option<String>,
    /// Only the volumes of this system: its own claims and the reused ones it mounted last
    /// (what `DELETE /api/v1/systems/{guid}?volumes=delete` would remove).
    pub guid: Option<String>,
}

/// List volumes: yours (admins: everyone's or one user's), kept ones and those in use, with
/// size, age, the system they came from, the systems that mount them and when they expire.
#[utoipa::path(get, path = "/api/v1/volumes", tag = "volumes", params(VolumeQuery),
    responses((status = 200, body = VolumeList),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<VolumeQuery>,
) -> Result<Json<VolumeList>, ApiError> {
    let volumes = crate::volumes::list(
        &state,
        &caller,
        query.user.as_deref(),
        query.guid.as_deref(),
    )
    .await?;
    Ok(Json(VolumeList { volumes }))
}

/// Delete one of your volumes (its data goes with it). 404 for a name that is not yours.
#[utoipa::path(delete, path = "/api/v1/volumes/{name}", tag = "volumes",
    params(("name" = String, Path, description = "The claim's name, as the list shows it")),
    responses((status = 204, description = "Deleted"),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 409, description = "A system mounts it; the message names it", body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    crate::volumes::delete(&state, &caller, &name).await?;
    Ok(StatusCode::NO_CONTENT)
}
