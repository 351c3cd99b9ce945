//! The dashboard's sign-in at the OIDC issuer: the authorization-code flow with PKCE, done by
//! the server (the issuer needs no CORS for it).
//!
//! `GET /auth/login` sends the browser to the issuer's `authorization_endpoint` with a fresh
//! `state`, `nonce` and S256 `code_challenge`; the three (with the verifier) wait in a short-lived
//! cookie, sealed with the session key, HttpOnly, SameSite=Lax, only for `/auth/`.
//! `GET /auth/callback` checks `state` against it, exchanges the code (with the verifier) at the
//! `token_endpoint`, verifies the ID token like any bearer token and checks its `nonce`, sets the
//! session cookie, and hands the ID token to the dashboard in the URL fragment (`/#token=…`:
//! never sent to a server, and the dashboard removes it from the address bar). The dashboard
//! then uses it as its bearer token, as if it had been typed in; a portal can hand a token in
//! the same way.

use super::Oidc;
use crate::connect::session::{self, unix_now};
use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tycho_api::{OidcSignIn, Problem, SignInOptions};

pub const LOGIN_COOKIE: &str = "tycho_oidc_login";
/// How long a sign-in at the issuer may take.
const LOGIN_TTL: Duration = Duration::from_secs(10 * 60);
const LOGIN_PATH: &str = "/auth/login";
const CALLBACK_PATH: &str = "/auth/callback";
/// The version tag of the sealed login cookie (the session cookie's is `v1`).
const LOGIN_TAG: &str = "oidc1";

/// What the login remembers until the callback.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pending {
    state: String,
    nonce: String,
    verifier: String,
}

fn random_text() -> String {
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    B64.encode(bytes)
}

impl Pending {
    fn new() -> Self {
        Pending {
            state: random_text(),
            nonce: random_text(),
            verifier: random_text(),
        }
    }

    /// PKCE's S256 challenge of the verifier.
    fn challenge(&self) -> String {
        B64.encode(Sha256::digest(self.verifier.as_bytes()))
    }

    fn seal(&self, key: &session::SessionKey, now: u64) -> String {
        key.seal(&format!(
            "{LOGIN_TAG}.{}.{}.{}.{}",
            self.state,
            self.nonce,
            self.verifier,
            now.saturating_add(LOGIN_TTL.as_secs())
        ))
    }

    fn unseal(key: &session::SessionKey, value: &str, now: u64) -> Option<Self> {
        let payload = key.unseal(value)?;
        let fields: Vec<&str> = payload.split('.').collect();
        match fields.as_slice() {
            [tag, state, nonce, verifier, expiry]
                if *tag == LOGIN_TAG && expiry.parse::<u64>().ok()? > now =>
            {
                Some(Pending {
                    state: state.to_string(),
                    nonce: nonce.to_string(),
                    verifier: verifier.to_string(),
                })
            }
            _ => None,
        }
    }
}

fn configured(state: &AppState) -> Result<(&Oidc, &super::OidcClient), ApiError> {
    state
        .settings()
        .oidc
        .as_deref()
        .and_then(|o| o.settings.client.as_ref().map(|c| (o, c)))
        .ok_or_else(|| {
            ApiError::NotFound(
                "single sign-on is not configured (--oidc-issuer and --oidc-client-id)".into(),
            )
        })
}

/// Where the issuer sends the browser back: this server's public address.
fn redirect_uri(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    let base = state
        .settings()
        .connect
        .public_base(headers)
        .ok_or_else(|| {
            ApiError::BadRequest("no Host header: set --public-url for the sign-in".into())
        })?;
    Ok(format!("{base}{CALLBACK_PATH}"))
}

fn login_cookie(value: Option<&str>, secure: bool) -> String {
    let mut c = cookie::Cookie::build((LOGIN_COOKIE, value.unwrap_or("").to_string()))
        .path("/auth/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(if value.is_some() {
            LOGIN_TTL.as_secs() as i64
        } else {
            0
        }))
        .build();
    if value.is_none() {
        c.make_removal();
    }
    c.to_string()
}

fn cookie_named(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn redirect(location: &str, cookies: &[String]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(location) {
        h.insert(header::LOCATION, v);
    }
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(c) {
            h.append(header::SET_COOKIE, v);
        }
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// How one may sign in here (no credentials needed): the dashboard's "Sign in with …".
#[utoipa::path(get, path = "/api/v1/signin", tag = "session", security(()),
    responses((status = 200, body = SignInOptions)))]
pub async fn options(State(state): State<AppState>) -> Json<SignInOptions> {
    Json(SignInOptions {
        oidc: configured(&state).ok().map(|(oidc, _)| OidcSignIn {
            name: oidc.settings.display_name.clone(),
            login_url: LOGIN_PATH.into(),
        }),
    })
}

/// Starts the sign-in at the OIDC issuer: a redirect to its authorization endpoint.
#[utoipa::path(get, path = "/auth/login", tag = "session", security(()),
    responses((status = 303, description = "To the issuer's authorization endpoint; `Set-Cookie: tycho_oidc_login=…` (10 minutes, HttpOnly)"),
              (status = 404, description = "Single sign-on is not configured", body = Problem, content_type = "application/problem+json"),
              (status = 503, description = "The issuer cannot be reached", body = Problem, content_type = "application/problem+json")))]
pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (oidc, client) = configured(&state)?;
    let discovery = oidc.keys.discovery().await?;
    let endpoint = discovery.authorization_endpoint.as_deref().ok_or_else(|| {
        ApiError::Unavailable("the identity provider names no authorization_endpoint".into())
    })?;
    let mut url = reqwest::Url::parse(endpoint)
        .map_err(|e| ApiError::Unavailable(format!("the issuer's authorization_endpoint: {e}")))?;
    let pending = Pending::new();
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &client.id)
        .append_pair("redirect_uri", &redirect_uri(&state, &headers)?)
        .append_pair("scope", &client.scopes)
        .append_pair("state", &pending.state)
        .append_pair("nonce", &pending.nonce)
        .append_pair("code_challenge", &pending.challenge())
        .append_pair("code_challenge_method", "S256");
    let connect = &state.settings().connect;
    let secure = connect.public_scheme(&headers) == "https";
    let sealed = pending.seal(&connect.session_key, unix_now());
    Ok(redirect(
        url.as_str(),
        &[login_cookie(Some(&sealed), secure)],
    ))
}

#[derive(Debug, Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

/// The issuer's answer: checks `state`, exchanges the code, verifies the ID token and its
/// nonce, signs the browser in and goes back to the dashboard with the token.
#[utoipa::path(get, path = "/auth/callback", tag = "session", security(()),
    params(("code" = Option<String>, Query, description = "From the issuer"),
           ("state" = Option<String>, Query, description = "From the issuer: must be the login's")),
    responses((status = 303, description = "To the dashboard (`/#token=…`), signed in: `Set-Cookie: tycho_session=…`"),
              (status = 400, description = "No sign-in in progress, or `state` is not its", body = Problem, content_type = "application/problem+json"),
              (status = 401, description = "The issuer refused, or its ID token is not valid", body = Problem, content_type = "application/problem+json"),
              (status = 502, description = "The issuer did not exchange the code", body = Problem, content_type = "application/problem+json")))]
pub async fn callback(
    State(state): State<AppState>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (oidc, client) = configured(&state)?;
    let connect = &state.settings().connect;
    let now = unix_now();
    let pending = cookie_named(&headers, LOGIN_COOKIE)
        .and_then(|v| Pending::unseal(&connect.session_key, &v, now))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "no sign-in in progress in this browser (it expires after 10 minutes): start again at {LOGIN_PATH}"
            ))
        })?;
    if let Some(error) = &query.error {
        return Err(ApiError::Unauthorized(format!(
            "the identity provider refused the sign-in: {error}"
        )));
    }
    let state_matches = query.state.as_deref().is_some_and(|s| {
        // Digests first, so the comparison takes as long whatever the length sent.
        Sha256::digest(s.as_bytes()) == Sha256::digest(pending.state.as_bytes())
    });
    if !state_matches {
        return Err(ApiError::BadRequest(format!(
            "the sign-in's state does not match this browser's: start again at {LOGIN_PATH}"
        )));
    }
    let code = query
        .code
        .as_deref()
        .ok_or_else(|| ApiError::BadRequest("the identity provider sent no code".into()))?;
    let id_token = exchange(&state, &headers, oidc, client, code, &pending).await?;
    let claims = oidc.verified_claims(&id_token).await?;
    if claims.get("nonce").and_then(|n| n.as_str()) != Some(pending.nonce.as_str()) {
        return Err(ApiError::Unauthorized(
            "the ID token's nonce is not this sign-in's".into(),
        ));
    }
    let caller = oidc.caller(&claims)?;
    tracing::info!(user = %caller.username, admin = caller.admin, "signed in at the OIDC issuer");
    let secure = connect.public_scheme(&headers) == "https";
    let session = connect.session_key.issue(&caller, now, connect.session_ttl);
    Ok(redirect(
        &format!("/#token={id_token}"),
        &[
            login_cookie(None, secure),
            session::set_cookie(Some(&session), connect.session_ttl, secure),
        ],
    ))
}

/// The ID token for `code`, from the issuer's token endpoint.
async fn exchange(
    state: &AppState,
    headers: &HeaderMap,
    oidc: &Oidc,
    client: &super::OidcClient,
    code: &str,
    pending: &Pending,
) -> Result<String, ApiError> {
    let discovery = oidc.keys.discovery().await?;
    let endpoint = discovery.token_endpoint.as_deref().ok_or_else(|| {
        ApiError::Unavailable("the identity provider names no token_endpoint".into())
    })?;
    let redirect_uri = redirect_uri(state, headers)?;
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &redirect_uri),
        ("client_id", &client.id),
        ("code_verifier", &pending.verifier),
    ];
    if let Some(secret) = &client.secret {
        form.push(("client_secret", secret));
    }
    let response = oidc
        .keys
        .http()
        .post(endpoint)
        .form(&form)
        .send()
        .await
        .map_err(|e| {
            ApiError::BadGateway(format!(
                "the identity provider's token endpoint cannot be reached ({})",
                if e.is_timeout() {
                    "timed out"
                } else {
                    "no answer"
                }
            ))
        })?;
    if !response.status().is_success() {
        let status = response.status();
        // Its `error` field says why (`invalid_grant`…); the rest of the body is not repeated.
        let error = response
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_default();
        return Err(ApiError::BadGateway(format!(
            "the identity provider did not exchange the code ({status} {error})"
        )));
    }
    response
        .json::<TokenResponse>()
        .await
        .ok()
        .and_then(|t| t.id_token)
        .ok_or_else(|| ApiError::BadGateway("the identity provider sent no ID token".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_cookie_keeps_the_pending_sign_in_until_it_expires() {
        let key = session::SessionKey::random();
        let pending = Pending::new();
        let sealed = pending.seal(&key, 1000);
        assert_eq!(Pending::unseal(&key, &sealed, 1000), Some(pending.clone()));
        assert_eq!(Pending::unseal(&key, &sealed, 1000 + 600), None);
        assert_eq!(
            Pending::unseal(&session::SessionKey::random(), &sealed, 1000),
            None
        );
        // Neither is the other: a session cookie is no pending sign-in and vice versa.
        assert_eq!(key.verify(&sealed, 1000), None);
        assert_eq!(pending.challenge().len(), 43);
    }
}
