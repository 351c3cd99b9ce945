//! A fake OIDC issuer on `127.0.0.1:0` (discovery, JWKS, authorize, token) with RSA test keys
//! from `fixtures/oidc/`, and what tests sign and ask with it. Shared by the OIDC test binaries
//! (`#[path]`-included, so each uses only part of it).
#![allow(dead_code)]

use axum::extract::{Form, Query, State};
use axum::http::StatusCode as AxumStatus;
use axum::response::{IntoResponse, Redirect};
use axum::{Json, Router, routing::get, routing::post};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tycho_server::Settings;
use tycho_server::oidc::{Oidc, OidcClient, OidcSettings, keys::Timings};
use tycho_test_server::*;

pub const ISSUER_KEY: &str = include_str!("../fixtures/oidc/issuer.pem");
pub const ISSUER_N: &str = include_str!("../fixtures/oidc/issuer.n");
pub const OTHER_KEY: &str = include_str!("../fixtures/oidc/other.pem");
pub const OTHER_N: &str = include_str!("../fixtures/oidc/other.n");
pub const AUDIENCE: &str = "tycho";
pub const CLIENT_ID: &str = "tycho-dashboard";
pub const CODE: &str = "the-one-code";

pub fn jwk(kid: &str, n: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": n.trim(), "e": "AQAB"})
}

/// The fake issuer's state: its keys, whether its JWKS answers, what it was asked.
#[derive(Default)]
pub struct IssuerState {
    pub base: Mutex<String>,
    pub keys: Mutex<Vec<Value>>,
    pub jwks_down: AtomicBool,
    pub jwks_hits: AtomicU64,
    /// The last authorize request's query (state, nonce, code_challenge, redirect_uri…).
    pub authorize: Mutex<HashMap<String, String>>,
}

pub struct Issuer {
    pub base: String,
    pub state: Arc<IssuerState>,
}

impl Issuer {
    pub async fn start() -> Issuer {
        let state = Arc::new(IssuerState::default());
        *state.keys.lock().unwrap() = vec![jwk("k1", ISSUER_N)];
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        *state.base.lock().unwrap() = base.clone();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Issuer { base, state }
    }

    pub fn hits(&self) -> u64 {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }
}

pub async fn discovery(State(s): State<Arc<IssuerState>>) -> Json<Value> {
    let base = s.base.lock().unwrap().clone();
    Json(json!({
        "issuer": base,
        "jwks_uri": format!("{base}/jwks"),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
    }))
}

pub async fn jwks(State(s): State<Arc<IssuerState>>) -> axum::response::Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if s.jwks_down.load(Ordering::SeqCst) {
        return AxumStatus::SERVICE_UNAVAILABLE.into_response();
    }
    Json(json!({"keys": *s.keys.lock().unwrap()})).into_response()
}

/// Signs the user in at once: back to `redirect_uri` with the code and the state.
pub async fn authorize(
    State(s): State<Arc<IssuerState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Redirect {
    let back = format!(
        "{}?code={CODE}&state={}",
        q["redirect_uri"],
        urlencode(&q["state"])
    );
    *s.authorize.lock().unwrap() = q;
    Redirect::to(&back)
}

/// The ID token for the code, when the PKCE verifier fits the challenge.
pub async fn token(
    State(s): State<Arc<IssuerState>>,
    Form(f): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let asked = s.authorize.lock().unwrap().clone();
    let verifier_fits = f
        .get("code_verifier")
        .is_some_and(|v| B64.encode(Sha256::digest(v.as_bytes())) == asked["code_challenge"]);
    let right = f.get("code").map(String::as_str) == Some(CODE)
        && f.get("grant_type").map(String::as_str) == Some("authorization_code")
        && f.get("client_id").map(String::as_str) == Some(CLIENT_ID)
        && f.get("redirect_uri") == asked.get("redirect_uri");
    if !(verifier_fits && right) {
        return (
            AxumStatus::BAD_REQUEST,
            Json(json!({"error": "invalid_grant"})),
        )
            .into_response();
    }
    let base = s.base.lock().unwrap().clone();
    let mut c = claims(&base, CLIENT_ID, "alice", &["staff"]);
    c["nonce"] = json!(asked["nonce"]);
    Json(json!({"id_token": sign(&c, "k1", ISSUER_KEY), "token_type": "Bearer"})).into_response()
}

pub fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

pub fn claims(issuer: &str, audience: &str, user: &str, groups: &[&str]) -> Value {
    json!({
        "iss": issuer, "aud": audience, "sub": format!("id-{user}"),
        "preferred_username": user, "groups": groups,
        "iat": now(), "exp": now() + 300,
    })
}

pub fn sign(claims: &Value, kid: &str, pem: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a test key");
    jsonwebtoken::encode(&header, claims, &key).expect("a signed token")
}

pub fn oidc_settings(issuer: &str, timings: Timings) -> OidcSettings {
    let mut s = OidcSettings::new(issuer, vec![AUDIENCE.into()]);
    s.admin_groups = vec!["ops".into()];
    s.key_timings = timings;
    s.client = Some(OidcClient {
        id: CLIENT_ID.into(),
        secret: None,
        scopes: "openid profile".into(),
    });
    s
}

pub fn with_oidc(settings: Settings, issuer: &str, timings: Timings) -> Settings {
    Settings {
        oidc: Some(Arc::new(Oidc::new(oidc_settings(issuer, timings)).unwrap())),
        ..settings
    }
}

/// A server without a cluster, with the usual tokens file and the fake issuer.
pub async fn server(issuer: &Issuer, timings: Timings) -> TestServer {
    let settings = Settings {
        auth: tokens(),
        ..Settings::default()
    };
    TestServer::without_cluster(with_oidc(settings, &issuer.base, timings)).await
}

pub async fn whoami(s: &TestServer, token: &str) -> (StatusCode, Value) {
    s.json(reqwest::Method::GET, "/api/v1/whoami", Some(token), None)
        .await
}

pub fn detail(body: &Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_string()
}

pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// `name=value` of the response's `Set-Cookie` for `name`.
pub fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}
