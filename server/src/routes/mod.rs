//! HTTP handlers, one module per surface.

pub mod compat;
pub mod events;
pub mod health;
pub mod v1;
pub mod web;

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;

/// The body, or 413 when it is over the limit.
pub fn body(
    state: &crate::AppState,
    body: Result<Bytes, BytesRejection>,
) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(state.settings().max_body_bytes)
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })
}

/// A JSON body (an empty body reads as `{}`).
pub fn json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Whether the body is a raw compose file (YAML or plain text) rather than a JSON request.
pub fn is_raw_compose(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.contains("yaml") || ct.starts_with("text/")
        })
        .unwrap_or(false)
}

pub fn utf8(bytes: &Bytes) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("the compose file is not UTF-8".into()))
}
