//! HTTP handlers, one module per surface.

pub mod compat;
pub mod events;
pub mod health;
pub mod input;
pub mod lifetime;
pub mod quota;
pub mod v1;
pub mod volumes;
pub mod web;

use crate::error::ApiError;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;

/// Body types a state-changing request may carry: what the API parses, and the multipart
/// form the bundle upload will use. `text/plain` and `application/x-www-form-urlencoded` are
/// left out on purpose: a cross-site `<form>` can send those without a preflight.
const ACCEPTED_BODY_TYPES: &[&str] = &[
    "application/json",
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "multipart/form-data",
];

fn is_state_changing(method: &axum::http::Method) -> bool {
    use axum::http::Method;
    [Method::POST, Method::PUT, Method::PATCH, Method::DELETE].contains(method)
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) => n > 0,
        None => headers.contains_key(axum::http::header::TRANSFER_ENCODING),
    }
}

/// `type/subtype` of a Content-Type, lowercase, without parameters.
fn media_type(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or_default().trim();
    Some(essence.to_ascii_lowercase())
}

/// Whether `origin` (an `Origin` header) is this server: its public URL when one is set,
/// else the request's own Host (the scheme aside: a TLS terminator in front may not say).
fn is_own_origin(
    connect: &crate::config::ConnectSettings,
    headers: &HeaderMap,
    origin: &str,
) -> bool {
    let origin = origin.trim().to_ascii_lowercase();
    if let Some(public) = &connect.public_url {
        return origin == public.to_ascii_lowercase();
    }
    let Some(host) = headers
        .get(axum::http::header::HOST)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let authority = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    authority == Some(host.trim().to_ascii_lowercase().as_str())
}

/// Why a state-changing request is refused as possibly forged by another site, if it is.
fn forgery_check(state: &crate::AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let fetch_site = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none");
    // `same-site` too: a system served on a sibling host is another user's page.
    if matches!(fetch_site, "cross-site" | "same-site") {
        return Err(ApiError::Forbidden(format!(
            "a {fetch_site} request may not change anything (Sec-Fetch-Site)"
        )));
    }
    if let Some(origin) = headers.get(axum::http::header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        if !is_own_origin(&state.settings().connect, headers, origin) {
            return Err(ApiError::Forbidden(format!(
                "requests from {origin} may not change anything here (Origin)"
            )));
        }
    }
    if has_body(headers) {
        match media_type(headers) {
            Some(t) if ACCEPTED_BODY_TYPES.contains(&t.as_str()) => {}
            other => {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "send the body as {} (Content-Type), not {}",
                    ACCEPTED_BODY_TYPES.join(", "),
                    other.unwrap_or_else(|| "without a type".into())
                )));
            }
        }
    }
    Ok(())
}

/// Refuses cross-site and oddly typed state-changing requests to `/api/v1/*` and `/system/*`
/// (a `<form enctype=text/plain>` on any site could otherwise start or delete systems with
/// the browser's credentials). The connect proxy's routes are the apps' own: not here.
pub async fn forgery_guard(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let guarded = path.starts_with("/api/v1/") || path.starts_with("/system/");
    if guarded
        && is_state_changing(request.method())
        && let Err(e) = forgery_check(&state, request.headers())
    {
        return if path.starts_with("/system/") {
            e.compat_response("Request refused")
        } else {
            e.into_response()
        };
    }
    next.run(request).await
}
