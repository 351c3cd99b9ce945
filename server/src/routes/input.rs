//! What a body handler receives, read once here: a compose input for `/api/v1` (a raw YAML file
//! or a JSON request) and the caller with the JSON request of a compat endpoint. Reading the
//! body fails in the same words everywhere (413 over the limit, 408 when it stops arriving, 400
//! undecodable); the Content-Type itself is checked before, by the forgery guard (415).

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tycho_api::{CompileRequest, StartRequest, compat, compose_text};

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
pub struct NameQuery {
    /// System name, when the body is a raw compose file.
    pub name: Option<String>,
}

/// A compose file sent to `/api/v1`: the body itself (`Content-Type: application/yaml` or
/// `text/*`, the name in `?name=`) or a JSON request whose `compose` is the file.
#[derive(Debug)]
pub struct ComposeInput<R> {
    /// The compose file's text (a JSON `compose` object as JSON text, which is YAML).
    pub text: String,
    /// The JSON request, or for a raw file one that only names the system.
    pub request: R,
}

/// A JSON request that carries a compose file.
pub trait ComposeRequest: DeserializeOwned {
    /// The request of a raw compose file: nothing but the name from `?name=`.
    fn named(name: String) -> Self;
    /// Its `compose` field: YAML text or the document as a JSON object.
    fn compose(&self) -> &serde_json::Value;
}

impl ComposeRequest for StartRequest {
    fn named(name: String) -> Self {
        StartRequest {
            name,
            ..Default::default()
        }
    }
    fn compose(&self) -> &serde_json::Value {
        &self.compose
    }
}

impl ComposeRequest for CompileRequest {
    fn named(name: String) -> Self {
        CompileRequest {
            system: StartRequest::named(name),
            ..Default::default()
        }
    }
    fn compose(&self) -> &serde_json::Value {
        &self.system.compose
    }
}

impl<R: ComposeRequest> FromRequest<AppState> for ComposeInput<R> {
    /// A problem+json [`ApiError`], except a malformed query, which keeps axum's own answer
    /// (as when the handlers took `Query<NameQuery>` themselves).
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Query(query) = Query::<NameQuery>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let raw = is_raw_compose(&parts.headers);
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await;
        let bytes = read_body(state, bytes).map_err(IntoResponse::into_response)?;
        let input = if raw {
            utf8(&bytes).map(|text| ComposeInput {
                text,
                request: R::named(query.name.unwrap_or_default()),
            })
        } else {
            json::<R>(&bytes).map(|request| ComposeInput {
                text: compose_text(request.compose()),
                request,
            })
        };
        input.map_err(IntoResponse::into_response)
    }
}

/// A request to a compat endpoint (`/system/*`).
pub trait CompatRequest: DeserializeOwned {
    /// The envelope's `message` when the request fails.
    const FAILURE: &'static str;
}

impl CompatRequest for compat::StartRequest {
    const FAILURE: &'static str = "Unable to start system";
}

impl CompatRequest for compat::StatusRequest {
    const FAILURE: &'static str = "Failed to get system status";
}

impl CompatRequest for compat::DeleteRequest {
    const FAILURE: &'static str = "Failed to delete system";
}

/// The caller and the JSON body of a compat request: every compat endpoint starts so, and
/// either failure comes back in the original envelope (with `T::FAILURE`), not as
/// problem+json. The caller is checked first.
#[derive(Debug)]
pub struct CompatInput<T> {
    pub caller: Caller,
    pub request: T,
}

impl<T: CompatRequest> FromRequest<AppState> for CompatInput<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let envelope = |e: ApiError| e.compat_response(T::FAILURE);
        let (mut parts, body) = request.into_parts();
        let caller = Caller::from_request_parts(&mut parts, state)
            .await
            .map_err(envelope)?;
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state).await;
        let request = read_body(state, bytes)
            .and_then(|bytes| json(&bytes))
            .map_err(envelope)?;
        Ok(CompatInput { caller, request })
    }
}

/// The body, or why it could not be read: 413 over the limit, 408 when it stopped arriving.
fn read_body(state: &AppState, body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge(state.settings().max_body_bytes)
        } else if timed_out(&e) {
            ApiError::RequestTimeout(format!(
                "the request body stopped arriving for {} s",
                state.settings().http.body_read_timeout.as_secs()
            ))
        } else {
            ApiError::BadRequest(e.body_text())
        }
    })
}

/// Whether reading the body failed because it stopped arriving (tower-http's body timeout).
fn timed_out(e: &BytesRejection) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cause {
        if err.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        cause = err.source();
    }
    false
}

/// A JSON body (an empty body reads as `{}`).
fn json<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}")))
}

/// Whether the body is a raw compose file (YAML or plain text) rather than a JSON request.
fn is_raw_compose(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|ct| {
            let ct = ct.to_ascii_lowercase();
            ct.contains("yaml") || ct.starts_with("text/")
        })
        .unwrap_or(false)
}

fn utf8(bytes: &Bytes) -> Result<String, ApiError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("the compose file is not UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;
    use axum::Router;
    use axum::body::Body;
    use axum::extract::DefaultBodyLimit;
    use axum::routing::post;
    use tower::ServiceExt;

    const LIMIT: usize = 64;

    fn app(auth: crate::auth::Auth) -> Router {
        let settings = Settings {
            auth,
            max_body_bytes: LIMIT,
            ..Default::default()
        };
        let state = AppState::new(settings, None, "no cluster in unit tests");
        Router::new()
            .route(
                "/compose",
                post(|input: ComposeInput<CompileRequest>| async move {
                    format!("{}|{}", input.request.system.name, input.text)
                }),
            )
            .route(
                "/compat",
                post(|input: CompatInput<compat::DeleteRequest>| async move { input.request.name }),
            )
            .layer(DefaultBodyLimit::max(LIMIT))
            .with_state(state)
    }

    async fn send(
        app: Router,
        uri: &str,
        content_type: &str,
        body: impl Into<Body>,
    ) -> (StatusCode, String, String) {
        let request = Request::post(uri)
            .header(CONTENT_TYPE, content_type)
            .body(body.into())
            .expect("request");
        let response = app.oneshot(request).await.expect("answer");
        let status = response.status();
        let kind = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        (status, kind, String::from_utf8_lossy(&bytes).into_owned())
    }

    fn open() -> Router {
        app(crate::auth::Auth::Insecure)
    }

    #[tokio::test]
    async fn a_compose_input_is_the_raw_file_or_the_json_request() {
        let (code, _, body) = send(
            open(),
            "/compose?name=web",
            "application/yaml",
            "services: {}",
        )
        .await;
        assert_eq!((code, body.as_str()), (StatusCode::OK, "web|services: {}"));
        let json = r#"{"compose": "services: {}", "name": "api"}"#;
        let (code, _, body) = send(open(), "/compose?name=ignored", "application/json", json).await;
        assert_eq!((code, body.as_str()), (StatusCode::OK, "api|services: {}"));
    }

    #[tokio::test]
    async fn compose_input_errors_are_problems() {
        for (content_type, body, status, words) in [
            (
                "application/yaml",
                vec![0xff, 0xfe],
                StatusCode::BAD_REQUEST,
                "not UTF-8",
            ),
            (
                "application/json",
                b"{".to_vec(),
                StatusCode::BAD_REQUEST,
                "invalid JSON body",
            ),
            (
                "application/yaml",
                vec![b'a'; LIMIT + 1],
                StatusCode::PAYLOAD_TOO_LARGE,
                "larger than 64 bytes",
            ),
        ] {
            let (code, kind, answer) = send(open(), "/compose", content_type, body).await;
            assert_eq!(code, status, "{answer}");
            assert_eq!(kind, tycho_api::PROBLEM_JSON);
            assert!(answer.contains(words), "{answer}");
        }
    }

    #[tokio::test]
    async fn compat_input_errors_keep_the_envelope() {
        let (code, _, body) =
            send(open(), "/compat", "application/json", r#"{"name": "g1"}"#).await;
        assert_eq!((code, body.as_str()), (StatusCode::OK, "g1"));
        let (code, kind, body) = send(open(), "/compat", "application/json", "{").await;
        assert_eq!(code, StatusCode::BAD_REQUEST);
        assert!(kind.starts_with("application/json"), "{kind}");
        let envelope: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(envelope["status"], "error");
        assert_eq!(envelope["message"], "Failed to delete system");
        assert!(
            envelope["result"]["error"]
                .as_str()
                .unwrap_or_default()
                .contains("invalid JSON body")
        );
        let (code, _, _) = send(open(), "/compat", "application/json", vec![b' '; LIMIT + 1]).await;
        assert_eq!(code, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_compat_caller_is_checked_before_its_body() {
        let locked = app(crate::auth::Auth::tokens(Vec::new()));
        let (code, _, body) = send(locked, "/compat", "application/json", "{").await;
        assert_eq!(code, StatusCode::UNAUTHORIZED, "{body}");
        let envelope: serde_json::Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(envelope["message"], "Failed to delete system");
    }
}
