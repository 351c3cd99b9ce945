//! The original Tycho endpoints with their JSON shapes. Errors keep the envelope
//! (`{"status":"error","result":{"error"},"message"}`) but carry real HTTP codes.

use super::input::{CompatInput, CompatRequest};
use crate::error::ApiError;
use crate::executor::Started;
use crate::executor::status::compat_time;
use crate::ops;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use tycho_api::SystemStatus;
use tycho_api::compat::{
    DeleteRequest, Envelope, ErrorResult, StartRequest, StartResult, StatusItem, StatusRequest,
};
use tycho_compiler::ConnectMode;

/// The envelope of a compat request of type `R`: the result, or the error with `R::FAILURE`.
fn respond<R: CompatRequest, T: serde::Serialize>(
    result: Result<Envelope<T>, ApiError>,
) -> Response {
    match result {
        Ok(envelope) => Json(envelope).into_response(),
        Err(e) => e.compat_response(R::FAILURE),
    }
}

/// Tycho-compatible start.
#[utoipa::path(post, path = "/system/start", tag = "compat", request_body = StartRequest,
    responses((status = 200, description = "`{status, result: StartResult, message}`", body = Envelope<StartResult>),
              (status = 400, description = "Malformed body or principal", body = Envelope<ErrorResult>),
              (status = 401, description = "Not authenticated", body = Envelope<ErrorResult>),
              (status = 403, description = "Another user's principal, or a cross-site request", body = Envelope<ErrorResult>),
              (status = 413, description = "Body over the server's limit", body = Envelope<ErrorResult>),
              (status = 415, description = "A body that is not JSON", body = Envelope<ErrorResult>),
              (status = 422, description = "Invalid system", body = Envelope<ErrorResult>),
              (status = 503, description = "No cluster", body = Envelope<ErrorResult>)))]
pub async fn start(
    State(state): State<AppState>,
    headers: HeaderMap,
    CompatInput {
        caller,
        request: req,
    }: CompatInput<StartRequest>,
) -> Response {
    let result = async {
        // Admins (portals such as the original appstore) start systems on behalf of the
        // principal; anyone else starts their own.
        let principal = req.principal_username();
        if let Some(p) = &principal {
            crate::auth::check_username(p)
                .map_err(|e| ApiError::BadRequest(format!("principal: {e}")))?;
        }
        let username = match principal {
            Some(p) if caller.admin => p,
            Some(p) if p != caller.username => {
                return Err(ApiError::Forbidden(format!(
                    "{} may not start systems for {p}",
                    caller.username
                )));
            }
            _ => caller.username.clone(),
        };
        let mut cidrs: Vec<String> = req
            .services
            .values()
            .flat_map(|s| s.clients.iter().cloned())
            .collect();
        cidrs.sort();
        cidrs.dedup();
        let text = serde_json::to_string_pretty(&req.system).unwrap_or_default();
        // The original's `services` named the container and port users connect to.
        let primary = req.services.iter().find_map(|(service, spec)| {
            let port = match &spec.port {
                serde_json::Value::Number(n) => n.as_u64(),
                serde_json::Value::String(s) => s.trim().parse().ok(),
                _ => None,
            }?;
            Some(tycho_compiler::PrimaryPort {
                service: service.clone(),
                port: u16::try_from(port).ok()?,
            })
        });
        let (started, _) = ops::start(
            &state,
            &text,
            ops::Request {
                name: req.name.clone(),
                guid: String::new(),
                groups: if username == caller.username {
                    caller.groups.clone()
                } else {
                    Vec::new()
                },
                username,
                env: req.env.clone(),
                client_cidrs: cidrs,
                primary,
                profiles: Vec::new(),
                files: Default::default(),
            },
        )
        .await?;
        let mut containers: BTreeMap<String, serde_json::Map<String, serde_json::Value>> =
            BTreeMap::new();
        for status in &started.ports {
            let p = &status.published;
            if containers.contains_key(&p.service) {
                continue; // the original reported the first port of each container
            }
            let port_name = started
                .port_names
                .iter()
                .find(|(n, _)| *n == p.port)
                .map(|(_, name)| name.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| format!("{}-port", p.service));
            let mut entry = serde_json::Map::new();
            entry.insert(
                "ip_address".into(),
                if started.address.is_empty() {
                    serde_json::Value::Null
                } else {
                    started.address.clone().into()
                },
            );
            entry.insert(port_name, status.node_port.unwrap_or(p.port).into());
            containers.insert(p.service.clone(), entry);
        }
        let conn_string = conn_string(&state, &headers, &started)
            .or_else(|| started.ports.iter().find_map(|p| p.url.clone()))
            .unwrap_or_default();
        Ok(Envelope::success(
            StartResult {
                name: started.name.clone(),
                sid: started.guid.clone(),
                containers,
                conn_string,
            },
            format!("Started system {}", started.name),
        ))
    }
    .await;
    respond::<StartRequest, _>(result)
}

/// Where users open the system, for `conn_string`: in proxy mode the absolute connect URL (the
/// server's public URL, else the Host it was reached at, + `/connect/<guid>/`); in ambassador
/// mode the original's `/private/<app>/<user>/<guid>/` path on the operator's edge. Both come
/// from the connect target the compiler planned. `None` when there is none (no TCP port
/// published, mode `none`).
fn conn_string(state: &AppState, headers: &HeaderMap, started: &Started) -> Option<String> {
    let target = started.connect.as_ref()?;
    match state.settings().policy.connect_mode() {
        ConnectMode::Proxy => {
            let base = state.settings().connect.public_base(headers);
            ops::connect_url(target, base.as_deref())
        }
        _ => Some(target.path.clone()),
    }
}

fn item(s: SystemStatus) -> StatusItem {
    let first = s.ports.first();
    StatusItem {
        name: s.object_name.clone(),
        app_id: Some(s.name.clone()).filter(|n| !n.is_empty()),
        sid: s.guid.clone(),
        ip_address: s.address.clone(),
        port: first
            .map(|p| p.node_port.unwrap_or(p.published.port).to_string())
            .unwrap_or_default(),
        creation_time: compat_time(&s.created),
        username: s.username.clone(),
        utilization: s
            .containers
            .iter()
            .map(|c| (c.name.clone(), c.limits.clone()))
            .collect(),
        workspace_name: s.name.clone(),
        is_ready: s.desired > 0 && s.ready >= s.desired,
    }
}

/// Tycho-compatible status: `{}` (every visible system), `{"name": GUID}` or
/// `{"username": U}`.
#[utoipa::path(post, path = "/system/status", tag = "compat", request_body = StatusRequest,
    responses((status = 200, body = Envelope<Vec<StatusItem>>),
              (status = 403, body = Envelope<ErrorResult>)))]
pub async fn status(
    State(state): State<AppState>,
    CompatInput {
        caller,
        request: req,
    }: CompatInput<StatusRequest>,
) -> Response {
    let result = async {
        let systems = match (&req.name, &req.username) {
            (Some(guid), _) if !guid.is_empty() => match ops::get(&state, &caller, guid).await {
                Ok(s) => vec![s],
                Err(ApiError::NotFound(_)) => Vec::new(),
                Err(e) => return Err(e),
            },
            (_, Some(user)) if !user.is_empty() => ops::list(&state, &caller, Some(user)).await?,
            _ => ops::list(&state, &caller, None).await?,
        };
        let items: Vec<StatusItem> = systems.into_iter().map(item).collect();
        let message = match &req.name {
            Some(n) if !n.is_empty() => format!("Get status for system {n}"),
            _ => "Get status for all systems".to_string(),
        };
        Ok(Envelope::success(items, message))
    }
    .await;
    respond::<StatusRequest, _>(result)
}

/// Tycho-compatible delete: `{"name": GUID}`. Deleting what is gone succeeds.
///
/// Unlike `DELETE /api/v1/systems/{guid}`, it removes the system's own (per-GUID) claims, as
/// the original Tycho did: its clients (portals built on it) cannot list or delete kept claims,
/// so keeping them would only fill the storage unseen. Reused volumes and the home stay: a file
/// asks for those (`x-tycho`) because its data must outlive the system.
#[utoipa::path(post, path = "/system/delete", tag = "compat", request_body = DeleteRequest,
    responses((status = 200, body = Envelope<Object>),
              (status = 404, body = Envelope<ErrorResult>)))]
pub async fn delete(
    State(state): State<AppState>,
    CompatInput {
        caller,
        request: req,
    }: CompatInput<DeleteRequest>,
) -> Response {
    let result = async {
        if req.name.is_empty() {
            return Err(ApiError::BadRequest("name (the GUID) is required".into()));
        }
        ops::delete_with(
            &state,
            &caller,
            &req.name,
            crate::executor::VolumeChoice::DeleteUnlessReused,
        )
        .await?;
        Ok(Envelope::success(
            serde_json::Map::new(),
            format!("Deleted system {}", req.name),
        ))
    }
    .await;
    respond::<DeleteRequest, _>(result)
}
