//! `/api/v1`: systems, validate, compile.

use super::input::{ComposeInput, NameQuery};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::executor::{Deleted, LogRequest, VolumeChoice};
use crate::ops;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tycho_api::{
    CompileRequest, CompileResponse, DeleteResponse, KubeEventList, Phase, PolicyResponse, Problem,
    StartRequest, StartResponse, SystemList, SystemStatus, ValidateResponse, WhoAmI,
};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct UserQuery {
    /// Only this user's systems (admins; others may name only themselves).
    pub user: Option<String>,
}

/// Start a system.
///
/// The body is a JSON `StartRequest`, or a raw compose file with `Content-Type:
/// application/yaml` (name in `?name=`). Answers 202 with `Location` as soon as the objects
/// are created; follow the status resource (or its events) to see it become ready.
#[utoipa::path(post, path = "/api/v1/systems", tag = "systems", params(NameQuery),
    request_body(description = "A JSON request, or the compose file itself as YAML (`name` in the query)",
        content(
            (StartRequest = "application/json"),
            (String = "application/yaml"),
        )),
    responses(
        (status = 202, description = "Objects created", body = StartResponse),
        (status = 400, description = "Malformed body", body = Problem, content_type = "application/problem+json"),
        (status = 401, body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "A cross-site request (Origin, Sec-Fetch-Site)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body over the server's limit", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "A body that is neither JSON nor YAML", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid compose file; `errors` has the diagnostics", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Per-user limit reached", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "No cluster configured or reachable", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    ComposeInput { text, request: req }: ComposeInput<StartRequest>,
) -> Result<Response, ApiError> {
    let request = ops_request(req, String::new(), &caller);
    let (started, diagnostics) = ops::start(&state, &text, request).await?;
    let location = format!("/api/v1/systems/{}", started.guid);
    let answer = StartResponse {
        guid: started.guid,
        name: started.name,
        username: started.username,
        location: location.clone(),
        ports: started.ports.into_iter().map(|p| p.published).collect(),
        diagnostics,
    };
    let mut response = (StatusCode::ACCEPTED, Json(answer)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

/// List systems: your own, or (admins) everyone's or one user's.
#[utoipa::path(get, path = "/api/v1/systems", tag = "systems", params(UserQuery),
    responses((status = 200, body = SystemList),
              (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<UserQuery>,
    headers: HeaderMap,
) -> Result<Json<SystemList>, ApiError> {
    let base = state.settings().connect.public_base(&headers);
    let systems = ops::list(&state, &caller, query.user.as_deref())
        .await?
        .into_iter()
        .map(|s| ops::present(&state, base.as_deref(), s))
        .collect();
    Ok(Json(SystemList { systems }))
}

/// One system's status.
#[utoipa::path(get, path = "/api/v1/systems/{guid}", tag = "systems",
    params(("guid" = String, Path, description = "The system's GUID")),
    responses((status = 200, body = SystemStatus),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(guid): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SystemStatus>, ApiError> {
    let system = ops::get(&state, &caller, &guid).await?;
    let base = state.settings().connect.public_base(&headers);
    Ok(Json(ops::present(&state, base.as_deref(), system)))
}

/// Sign in for the browser: answers who you are and sets the session cookie that the connect
/// proxy and the event streams accept (HttpOnly, SameSite=Lax; the REST API ignores it).
#[utoipa::path(post, path = "/api/v1/session", tag = "session",
    responses((status = 200, description = "Signed in; `Set-Cookie: tycho_session=…`", body = WhoAmI),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn sign_in(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let connect = &state.settings().connect;
    let value = connect.session_key.issue(
        &caller,
        crate::connect::session::unix_now(),
        connect.session_ttl,
    );
    let secure = connect.public_scheme(&headers) == "https";
    let cookie = crate::connect::session::set_cookie(Some(&value), connect.session_ttl, secure);
    let mut response = Json(WhoAmI {
        username: caller.username,
        admin: caller.admin,
    })
    .into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Sign out in the browser: removes the session cookie.
#[utoipa::path(delete, path = "/api/v1/session", tag = "session",
    responses((status = 204, description = "The session cookie is removed")))]
pub async fn sign_out(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let connect = &state.settings().connect;
    let secure = connect.public_scheme(&headers) == "https";
    let cookie = crate::connect::session::set_cookie(None, connect.session_ttl, secure);
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, v);
    }
    response
}

/// What Kubernetes reported about a system's objects (Deployment, ReplicaSets, pods, Service,
/// claims): its core/v1 Events, oldest first, at most the newest 200. Not to be confused with
/// `/events`, the stream of status changes.
#[utoipa::path(get, path = "/api/v1/systems/{guid}/kube-events", tag = "systems",
    params(("guid" = String, Path, description = "The system's GUID")),
    responses((status = 200, body = KubeEventList),
              (status = 404, body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn kube_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(guid): Path<String>,
) -> Result<Json<KubeEventList>, ApiError> {
    let items = ops::kube_events(&state, &caller, &guid).await?;
    Ok(Json(KubeEventList { items }))
}

/// Lines `GET …/logs` answers when `tail` is not given.
pub const DEFAULT_LOG_TAIL: u32 = 1_000;
/// The most lines one `GET …/logs` answers (a larger `tail` is cut to it), so that nobody
/// pulls gigabytes through the server.
pub const MAX_LOG_TAIL: u32 = 10_000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    /// The container (a compose service); default: the primary service's, else the first app
    /// container's.
    pub container: Option<String>,
    /// Only the last lines: at most this many (default 1000, at most 10000).
    pub tail: Option<u32>,
    /// Only lines written in the last this many seconds.
    pub since: Option<u32>,
    /// Keep the answer open and send lines as they are written, until the container ends.
    #[serde(default)]
    pub follow: bool,
    /// The previous (terminated, e.g. crashed) instance of the container.
    #[serde(default)]
    pub previous: bool,
}

/// The log of one container of a system's pod, as plain text; with `follow=true` the answer
/// streams until the container ends or the client goes away.
#[utoipa::path(get, path = "/api/v1/systems/{guid}/logs", tag = "systems",
    params(("guid" = String, Path, description = "The system's GUID"), LogQuery),
    responses((status = 200, description = "The log", body = String, content_type = "text/plain"),
              (status = 400, description = "The cluster cannot give this log (e.g. `previous` of a container that never restarted, a container still waiting to start)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No such system, or no such container (the message names the system's containers), or no pod yet", body = Problem, content_type = "application/problem+json"),
              (status = 503, body = Problem, content_type = "application/problem+json")))]
pub async fn logs(
    State(state): State<AppState>,
    caller: Caller,
    Path(guid): Path<String>,
    Query(query): Query<LogQuery>,
) -> Result<Response, ApiError> {
    let tail = query.tail.unwrap_or(DEFAULT_LOG_TAIL).min(MAX_LOG_TAIL);
    let request = LogRequest {
        container: query.container.filter(|c| !c.is_empty()),
        tail_lines: Some(i64::from(tail)),
        since_seconds: query.since.filter(|s| *s > 0).map(i64::from),
        follow: query.follow,
        previous: query.previous,
    };
    let stream = ops::logs(&state, &caller, &guid, request).await?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if query.follow {
        // The compression layer would hold lines back until its buffer fills.
        headers.insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static("identity"),
        );
    }
    Ok(response)
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct DeleteQuery {
    /// `keep` (the default, as `docker compose down`): the system's volumes stay, listed by
    /// `GET /api/v1/volumes`; `delete`: its own volumes and the reused ones it mounted last go
    /// too (`docker compose down -v`). The home is never deleted with a system.
    pub volumes: Option<String>,
}

/// Delete a system: 204 when nothing of yours is left under this GUID and it had no volumes
/// (also when it was already gone, never existed, or is someone else's, which is left alone),
/// 200 when nothing is left and the body says which volumes were kept or deleted, 202 while
/// its objects terminate (with the same lists).
#[utoipa::path(delete, path = "/api/v1/systems/{guid}", tag = "systems",
    params(("guid" = String, Path, description = "The system's GUID"), DeleteQuery),
    responses((status = 200, description = "Gone; `kept` and `deleted` name its volumes", body = DeleteResponse),
              (status = 202, description = "Terminating", body = DeleteResponse),
              (status = 204, description = "Nothing of yours left under this GUID, and no volumes"),
              (status = 400, description = "`volumes` is neither `keep` nor `delete`", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "Not a GUID (lowercase letters and digits, at most 32)", body = Problem, content_type = "application/problem+json")))]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(guid): Path<String>,
    Query(query): Query<DeleteQuery>,
) -> Result<Response, ApiError> {
    let choice = match query.volumes.as_deref() {
        None | Some("keep") => VolumeChoice::Keep,
        Some("delete") => VolumeChoice::Delete,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "volumes={other:?}: say `keep` (the default) or `delete`"
            )));
        }
    };
    let removal = ops::delete_with(&state, &caller, &guid, choice).await?;
    let (status, phase) = match removal.deleted {
        Deleted::Terminating => (StatusCode::ACCEPTED, Some(Phase::Terminating)),
        Deleted::Gone if removal.kept.is_empty() && removal.removed.is_empty() => {
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        Deleted::Gone => (StatusCode::OK, None),
    };
    let body = DeleteResponse {
        guid,
        phase,
        kept: removal.kept,
        deleted: removal.removed,
    };
    Ok((status, Json(body)).into_response())
}

/// The compiler's options for a validate or compile request, with the server's policy.
fn compile_options(
    state: &AppState,
    caller: &Caller,
    ComposeInput { text, request: req }: ComposeInput<CompileRequest>,
) -> (String, ops::Bundle, tycho_compiler::CompileOptions) {
    let mut request = ops_request(req.system, req.guid, caller);
    let mut options = ops::options(state, &request);
    if options.guid.is_empty() {
        options.guid = tycho_compiler::content_guid(&text, &options.name);
    }
    (text, std::mem::take(&mut request.files), options)
}

/// What a start or compile request asks of the compiler, for `caller`.
fn ops_request(req: StartRequest, guid: String, caller: &Caller) -> ops::Request {
    ops::Request {
        name: req.name,
        guid,
        username: caller.username.clone(),
        groups: caller.groups.clone(),
        env: req.env,
        client_cidrs: req.client_cidrs,
        primary: None,
        profiles: req.profiles,
        files: ops::Bundle {
            files: req.files,
            override_files: req.override_files,
        },
    }
}

/// Validate a compose file: every diagnostic, with the server's policy. Always 200.
#[utoipa::path(post, path = "/api/v1/validate", tag = "compiler", params(NameQuery),
    request_body(content = CompileRequest, description = "JSON request or raw compose YAML"),
    responses((status = 200, body = ValidateResponse)))]
pub async fn validate(
    State(state): State<AppState>,
    caller: Caller,
    input: ComposeInput<CompileRequest>,
) -> Result<Json<ValidateResponse>, ApiError> {
    let (text, files, options) = compile_options(&state, &caller, input);
    let compiled = ops::compile_async(&text, &files, &options).await?;
    let diagnostics = compiled.diagnostics;
    let errors = diagnostics.iter().filter(|d| d.is_error()).count();
    Ok(Json(ValidateResponse {
        valid: errors == 0,
        errors,
        warnings: diagnostics.len() - errors,
        diagnostics,
    }))
}

/// Compile a compose file to Kubernetes objects (what `tycho compile` prints); 422 with the
/// diagnostics when it has errors.
#[utoipa::path(post, path = "/api/v1/compile", tag = "compiler", params(NameQuery),
    request_body(content = CompileRequest, description = "JSON request or raw compose YAML"),
    responses((status = 200, body = CompileResponse),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn compile(
    State(state): State<AppState>,
    caller: Caller,
    input: ComposeInput<CompileRequest>,
) -> Result<Json<CompileResponse>, ApiError> {
    let (text, files, options) = compile_options(&state, &caller, input);
    let compiled = ops::compile_async(&text, &files, &options).await?;
    let resources = compiled.resources.clone();
    let (plan, diagnostics) = ops::planned(compiled)?;
    Ok(Json(CompileResponse {
        name: plan.name.clone(),
        guid: plan.guid.clone(),
        object_name: plan.object_name.clone(),
        objects: plan.to_json_objects(),
        yaml: plan.to_yaml(),
        documents: plan.documents(),
        resources,
        ports: plan.ports,
        not_translated: plan.not_translated,
        diagnostics,
    }))
}

/// The operator's policy the server compiles with (resource defaults and caps, what is
/// allowed beyond the secure baseline), so a client can show the limits before a start.
#[utoipa::path(get, path = "/api/v1/policy", tag = "compiler",
    responses((status = 200, body = PolicyResponse),
              (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn policy(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<PolicyResponse>, ApiError> {
    let mut policy = serde_json::to_value(&state.settings().policy)
        .map_err(|e| ApiError::Internal(format!("the policy cannot be shown as JSON: {e}")))?;
    if !caller.admin {
        // Who gets which quota is the operator's business; `GET /api/v1/quota` tells each
        // user their own.
        if let Some(quota) = policy.get_mut("quota").and_then(|q| q.as_object_mut()) {
            quota.remove("users");
            quota.remove("groups");
        }
    }
    Ok(Json(PolicyResponse { policy }))
}

/// Who the server thinks you are.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "systems",
    responses((status = 200, body = WhoAmI), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn whoami(caller: Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        username: caller.username,
        admin: caller.admin,
    })
}
