//! `GET /api/v1/quota`: a user's limits and what their systems hold.

use super::v1::UserQuery;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use tycho_api::{Problem, QuotaReport};

/// Your quota: per resource (systems, CPU in millicores, memory in bytes, GPUs) the limit
/// (`null`: none) and what your starting, running and terminating systems hold. A start that
/// would pass a limit is refused with 429 and the same numbers. Admins may ask for any user
/// (`?user=`; the groups of the tokens file are only known for the caller).
#[utoipa::path(get, path = "/api/v1/quota", tag = "systems", params(UserQuery),
    responses((status = 200, body = QuotaReport),
              (status = 401, body = Problem, content_type = "application/problem+json"),
              (status = 403, description = "Another user's quota, not as an admin", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "No cluster configured or reachable", body = Problem, content_type = "application/problem+json")))]
pub async fn quota(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UserQuery>,
) -> Result<Json<QuotaReport>, ApiError> {
    let (user, groups) = match query.user {
        Some(u) if u != caller.username => {
            if !caller.admin {
                return Err(ApiError::Forbidden(
                    "only admins may read other users' quotas".into(),
                ));
            }
            (u, Vec::new())
        }
        _ => (caller.username.clone(), caller.groups.clone()),
    };
    let executor = crate::ops::executor(&state)?;
    let limits = crate::quota::limits(&state, &user, &groups);
    let (used, systems) = crate::quota::usage(executor.as_ref(), &user).await?;
    Ok(Json(crate::quota::report(&user, &limits, &used, systems)))
}
