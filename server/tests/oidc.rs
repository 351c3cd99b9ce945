//! Single sign-on against a fake OIDC issuer in the test (discovery, JWKS, authorize, token on
//! `127.0.0.1:0`, RSA test keys from `fixtures/oidc/`): good tokens name the user, admin flag
//! and quota groups; `alg: none`, HMAC, a wrong key, expired, not yet valid, another audience
//! or issuer are refused; an unknown `kid` refreshes the keys once; a JWKS endpoint that is
//! down leaves the cached keys working and, with none, answers a clear 503; the dashboard's
//! sign-in (authorization code with PKCE) signs the browser in, and a wrong `state` does not.

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
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tycho_server::Settings;
use tycho_server::oidc::{Oidc, OidcClient, OidcSettings, keys::Timings};
use tycho_test_server::*;

const ISSUER_KEY: &str = include_str!("fixtures/oidc/issuer.pem");
const ISSUER_N: &str = include_str!("fixtures/oidc/issuer.n");
const OTHER_KEY: &str = include_str!("fixtures/oidc/other.pem");
const OTHER_N: &str = include_str!("fixtures/oidc/other.n");
const AUDIENCE: &str = "tycho";
const CLIENT_ID: &str = "tycho-dashboard";
const CODE: &str = "the-one-code";

fn jwk(kid: &str, n: &str) -> Value {
    json!({"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig", "n": n.trim(), "e": "AQAB"})
}

/// The fake issuer's state: its keys, whether its JWKS answers, what it was asked.
#[derive(Default)]
struct IssuerState {
    base: Mutex<String>,
    keys: Mutex<Vec<Value>>,
    jwks_down: AtomicBool,
    jwks_hits: AtomicU64,
    /// The last authorize request's query (state, nonce, code_challenge, redirect_uri…).
    authorize: Mutex<HashMap<String, String>>,
}

struct Issuer {
    base: String,
    state: Arc<IssuerState>,
}

impl Issuer {
    async fn start() -> Issuer {
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

    fn hits(&self) -> u64 {
        self.state.jwks_hits.load(Ordering::SeqCst)
    }
}

async fn discovery(State(s): State<Arc<IssuerState>>) -> Json<Value> {
    let base = s.base.lock().unwrap().clone();
    Json(json!({
        "issuer": base,
        "jwks_uri": format!("{base}/jwks"),
        "authorization_endpoint": format!("{base}/authorize"),
        "token_endpoint": format!("{base}/token"),
    }))
}

async fn jwks(State(s): State<Arc<IssuerState>>) -> axum::response::Response {
    s.jwks_hits.fetch_add(1, Ordering::SeqCst);
    if s.jwks_down.load(Ordering::SeqCst) {
        return AxumStatus::SERVICE_UNAVAILABLE.into_response();
    }
    Json(json!({"keys": *s.keys.lock().unwrap()})).into_response()
}

/// Signs the user in at once: back to `redirect_uri` with the code and the state.
async fn authorize(
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
async fn token(
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

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn claims(issuer: &str, audience: &str, user: &str, groups: &[&str]) -> Value {
    json!({
        "iss": issuer, "aud": audience, "sub": format!("id-{user}"),
        "preferred_username": user, "groups": groups,
        "iat": now(), "exp": now() + 300,
    })
}

fn sign(claims: &Value, kid: &str, pem: &str) -> String {
    let mut header = Header::new(Algorithm::RS256);
    header.kid = Some(kid.into());
    let key = EncodingKey::from_rsa_pem(pem.as_bytes()).expect("a test key");
    jsonwebtoken::encode(&header, claims, &key).expect("a signed token")
}

fn oidc_settings(issuer: &str, timings: Timings) -> OidcSettings {
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

fn with_oidc(settings: Settings, issuer: &str, timings: Timings) -> Settings {
    Settings {
        oidc: Some(Arc::new(Oidc::new(oidc_settings(issuer, timings)).unwrap())),
        ..settings
    }
}

/// A server without a cluster, with the usual tokens file and the fake issuer.
async fn server(issuer: &Issuer, timings: Timings) -> TestServer {
    let settings = Settings {
        auth: tokens(),
        ..Settings::default()
    };
    TestServer::without_cluster(with_oidc(settings, &issuer.base, timings)).await
}

async fn whoami(s: &TestServer, token: &str) -> (StatusCode, Value) {
    s.json(reqwest::Method::GET, "/api/v1/whoami", Some(token), None)
        .await
}

fn detail(body: &Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_string()
}

#[tokio::test]
async fn a_good_token_names_the_user_and_the_admin_group_makes_an_admin() {
    let issuer = Issuer::start().await;
    let s = server(&issuer, Timings::default()).await;
    let alice = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &["staff"]),
        "k1",
        ISSUER_KEY,
    );
    let (status, me) = whoami(&s, &alice).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me, json!({"username": "alice", "admin": false}));
    let carol = sign(
        &claims(&issuer.base, AUDIENCE, "carol", &["ops"]),
        "k1",
        ISSUER_KEY,
    );
    assert_eq!(
        whoami(&s, &carol).await.1,
        json!({"username": "carol", "admin": true})
    );
    // The client ID is an accepted audience too (its ID tokens name it).
    let id_token = sign(
        &claims(&issuer.base, CLIENT_ID, "dave", &[]),
        "k1",
        ISSUER_KEY,
    );
    assert_eq!(whoami(&s, &id_token).await.1["username"], "dave");
    // The tokens file goes on as before, and a bearer that is no JWT still goes to it.
    assert_eq!(whoami(&s, ALICE).await.1["username"], "alice");
    let (status, body) = whoami(&s, "not-a-jwt-at-all").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(detail(&body).contains("unknown token"), "{body}");
    // Event streams take the JWT in the query, as they take the file's tokens.
    let stream = s
        .http
        .get(format!("{}/api/v1/events?access_token={alice}", s.base))
        .send()
        .await
        .unwrap();
    assert_ne!(stream.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_tokens_groups_feed_the_quota() {
    let issuer = Issuer::start().await;
    let cluster = TestCluster::start("server-oidc-quota").await;
    let mut policy = test_policy();
    policy.quota =
        tycho_compiler::parse_policy("quota:\n  systems: 2\n  groups:\n    lab: {systems: 7}\n")
            .unwrap()
            .quota;
    let settings = Settings {
        policy,
        ..settings(&cluster)
    };
    let s = TestServer::start(
        &cluster,
        with_oidc(settings, &issuer.base, Timings::default()),
    )
    .await;
    let systems_limit = |report: &Value| {
        report["resources"]
            .as_array()
            .and_then(|l| l.iter().find(|l| l["resource"] == "systems"))
            .map(|l| l["limit"].clone())
    };
    let in_lab = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &["lab"]),
        "k1",
        ISSUER_KEY,
    );
    let (status, report) = s
        .json(reqwest::Method::GET, "/api/v1/quota", Some(&in_lab), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(systems_limit(&report), Some(json!(7)), "{report}");
    let outside = sign(
        &claims(&issuer.base, AUDIENCE, "bob", &["staff"]),
        "k1",
        ISSUER_KEY,
    );
    let (_, report) = s
        .json(reqwest::Method::GET, "/api/v1/quota", Some(&outside), None)
        .await;
    assert_eq!(systems_limit(&report), Some(json!(2)), "{report}");
}

#[tokio::test]
async fn bad_tokens_are_refused_with_a_reason() {
    let issuer = Issuer::start().await;
    let s = server(&issuer, Timings::default()).await;
    let good = claims(&issuer.base, AUDIENCE, "alice", &["ops"]);
    let refused = |body: &Value, words: &str| {
        assert!(detail(body).contains(words), "{words:?} not in {body}");
    };

    // alg: none, with and without a signature part.
    let payload = B64.encode(serde_json::to_vec(&good).unwrap());
    let none_header = B64.encode(br#"{"alg":"none","kid":"k1"}"#);
    for token in [
        format!("{none_header}.{payload}."),
        format!("{none_header}.{payload}.c2ln"),
    ] {
        assert_eq!(whoami(&s, &token).await.0, StatusCode::UNAUTHORIZED);
    }
    // HS256 with the public key as its secret.
    let mut hs = Header::new(Algorithm::HS256);
    hs.kid = Some("k1".into());
    let forged = jsonwebtoken::encode(
        &hs,
        &good,
        &EncodingKey::from_secret(ISSUER_N.trim().as_bytes()),
    )
    .unwrap();
    let (status, body) = whoami(&s, &forged).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "HS256 is not accepted");

    // Another key under the issuer's kid.
    let (status, body) = whoami(&s, &sign(&good, "k1", OTHER_KEY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "signature is wrong");

    let mut expired = good.clone();
    expired["exp"] = json!(now() - 120);
    let (status, body) = whoami(&s, &sign(&expired, "k1", ISSUER_KEY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "expired");

    // Within the leeway (30 s) a clock a little behind is forgiven.
    let mut just_expired = good.clone();
    just_expired["exp"] = json!(now() - 5);
    assert_eq!(
        whoami(&s, &sign(&just_expired, "k1", ISSUER_KEY)).await.0,
        StatusCode::OK
    );

    let mut early = good.clone();
    early["nbf"] = json!(now() + 300);
    let (status, body) = whoami(&s, &sign(&early, "k1", ISSUER_KEY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "not valid yet");

    let other_audience = claims(&issuer.base, "another-app", "alice", &[]);
    let (status, body) = whoami(&s, &sign(&other_audience, "k1", ISSUER_KEY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "another audience");

    let other_issuer = claims("https://elsewhere.example", AUDIENCE, "alice", &[]);
    let (status, body) = whoami(&s, &sign(&other_issuer, "k1", ISSUER_KEY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "another issuer");

    let mut no_exp = good.clone();
    no_exp.as_object_mut().unwrap().remove("exp");
    assert_eq!(
        whoami(&s, &sign(&no_exp, "k1", ISSUER_KEY)).await.0,
        StatusCode::UNAUTHORIZED
    );

    let mut no_name = good.clone();
    no_name
        .as_object_mut()
        .unwrap()
        .remove("preferred_username");
    let (status, body) = whoami(&s, &sign(&no_name, "k1", ISSUER_KEY)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    refused(&body, "preferred_username");
}

#[tokio::test]
async fn an_unknown_kid_refreshes_the_keys_once_and_a_flood_of_them_does_not() {
    let issuer = Issuer::start().await;
    let interval = Duration::from_secs(1);
    let timings = Timings {
        min_interval: interval,
        ..Timings::default()
    };
    let s = server(&issuer, timings).await;
    let alice = claims(&issuer.base, AUDIENCE, "alice", &[]);
    // Signed beforehand: RSA signing in a debug build is slower than the interval allows.
    let with_k1 = sign(&alice, "k1", ISSUER_KEY);
    let with_k2 = sign(&alice, "k2", OTHER_KEY);
    let made_up: Vec<String> = (0..50)
        .map(|i| sign(&alice, &format!("nope-{i}"), OTHER_KEY))
        .collect();
    let began = Instant::now();
    assert_eq!(whoami(&s, &with_k1).await.0, StatusCode::OK);
    assert_eq!(issuer.hits(), 1);
    // The issuer rotates in a new key; its first token makes the server look again, once.
    issuer.state.keys.lock().unwrap().push(jwk("k2", OTHER_N));
    tokio::time::sleep(interval.saturating_sub(began.elapsed()) + Duration::from_millis(100)).await;
    let (status, me) = whoami(&s, &with_k2).await;
    let refreshed = Instant::now();
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(issuer.hits(), 2);
    assert_eq!(whoami(&s, &with_k2).await.0, StatusCode::OK);
    assert_eq!(issuer.hits(), 2, "a known kid needs no fetch");
    // Fifty made-up kids right after: refused, and the issuer is not asked again.
    for token in &made_up {
        let (status, body) = whoami(&s, token).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert!(detail(&body).contains("no key"), "{body}");
    }
    assert!(
        refreshed.elapsed() < interval,
        "the flood took too long to tell"
    );
    assert_eq!(issuer.hits(), 2, "rate-limited");
    // After the interval one more unknown kid may ask once more.
    tokio::time::sleep(interval).await;
    whoami(&s, &made_up[0]).await;
    assert_eq!(issuer.hits(), 3);
}

#[tokio::test]
async fn when_the_jwks_is_down_cached_keys_work_and_without_any_the_error_says_so() {
    let issuer = Issuer::start().await;
    let timings = Timings {
        max_age: Duration::from_millis(200),
        min_interval: Duration::from_millis(100),
        ..Timings::default()
    };
    let s = server(&issuer, timings).await;
    let alice = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &[]),
        "k1",
        ISSUER_KEY,
    );
    assert_eq!(whoami(&s, &alice).await.0, StatusCode::OK);
    issuer.state.jwks_down.store(true, Ordering::SeqCst);
    let hits = issuer.hits();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        issuer.hits() > hits,
        "the keys are refreshed in the background"
    );
    let (status, me) = whoami(&s, &alice).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the cached key still verifies: {me}"
    );

    // A server that never had keys: a clear 503 at once, not a hang.
    let fresh = server(&issuer, timings).await;
    let began = Instant::now();
    let (status, body) = whoami(&fresh, &alice).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(detail(&body).contains("cannot be reached"), "{body}");
    assert!(began.elapsed() < Duration::from_secs(5));

    // An issuer that does not answer at all (nothing listens): the same, within the timeouts.
    let nobody = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let gone = TestServer::without_cluster(with_oidc(
        Settings {
            auth: tokens(),
            ..Settings::default()
        },
        &nobody,
        timings,
    ))
    .await;
    let (status, body) = whoami(&gone, &alice).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(detail(&body).contains(&nobody), "{body}");
    // The tokens file does not depend on the issuer.
    assert_eq!(whoami(&gone, ALICE).await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_key_the_issuer_drops_stops_verifying_at_the_next_refresh() {
    let issuer = Issuer::start().await;
    let timings = Timings {
        max_age: Duration::from_millis(200),
        min_interval: Duration::from_millis(100),
        ..Timings::default()
    };
    let s = server(&issuer, timings).await;
    let alice = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &[]),
        "k1",
        ISSUER_KEY,
    );
    assert_eq!(whoami(&s, &alice).await.0, StatusCode::OK);
    *issuer.state.keys.lock().unwrap() = vec![jwk("k2", OTHER_N)];
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, body) = whoami(&s, &alice).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    assert!(detail(&body).contains("no key \"k1\""), "{body}");
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// `name=value` of the response's `Set-Cookie` for `name`.
fn cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
}

#[tokio::test]
async fn the_dashboard_signs_in_at_the_issuer_with_pkce() {
    let issuer = Issuer::start().await;
    let s = server(&issuer, Timings::default()).await;
    let http = no_redirects();

    let (status, options) = s
        .json(reqwest::Method::GET, "/api/v1/signin", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(options["oidc"]["login_url"], "/auth/login");
    // Named by the issuer's host (and port) unless configured otherwise.
    assert_eq!(
        options["oidc"]["name"],
        issuer.base.trim_start_matches("http://")
    );

    let login = http
        .get(format!("{}/auth/login", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let to_issuer = reqwest::Url::parse(&location(&login)).unwrap();
    assert!(
        to_issuer
            .as_str()
            .starts_with(&format!("{}/authorize?", issuer.base))
    );
    let q: HashMap<String, String> = to_issuer.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["client_id"], CLIENT_ID);
    assert_eq!(q["redirect_uri"], format!("{}/auth/callback", s.base));
    assert!(q["state"].len() >= 32 && q["nonce"].len() >= 32);
    let pending = cookie(&login, "tycho_oidc_login").expect("the login cookie");
    let set = login.headers()["set-cookie"].to_str().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );

    // At the issuer (who signs alice in at once) and back.
    let back = http.get(to_issuer.as_str()).send().await.unwrap();
    let callback = location(&back);
    assert!(callback.starts_with(&format!("{}/auth/callback?", s.base)));

    // A state that is not this browser's is refused, and signs nobody in.
    let forged = callback.replace(&urlencode(&q["state"]), "someone-elses-state");
    let refused = http
        .get(&forged)
        .header("cookie", &pending)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(cookie(&refused, "tycho_session").is_none());
    // Without the login cookie (another browser) too.
    let elsewhere = http.get(&callback).send().await.unwrap();
    assert_eq!(elsewhere.status(), StatusCode::BAD_REQUEST);
    assert!(cookie(&elsewhere, "tycho_session").is_none());

    let signed_in = http
        .get(&callback)
        .header("cookie", &pending)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    let session = cookie(&signed_in, "tycho_session").expect("the session cookie");
    let to_dashboard = location(&signed_in);
    let token = to_dashboard
        .strip_prefix("/#token=")
        .unwrap_or_else(|| panic!("not to the dashboard with a token: {to_dashboard}"));
    // The dashboard's bearer token from now on.
    assert_eq!(
        whoami(&s, token).await.1,
        json!({"username": "alice", "admin": false})
    );
    // The session cookie is what the event streams and the connect proxy take.
    let stream = http
        .get(format!("{}/api/v1/events", s.base))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_ne!(stream.status(), StatusCode::UNAUTHORIZED);
    // Without the PKCE verifier the issuer would not have exchanged the code: a replayed
    // callback with another login's cookie fails at the token endpoint.
    let second = http
        .get(format!("{}/auth/login", s.base))
        .send()
        .await
        .unwrap();
    let other_pending = cookie(&second, "tycho_oidc_login").unwrap();
    let other_state = reqwest::Url::parse(&location(&second))
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    let replay = format!(
        "{}/auth/callback?code={CODE}&state={}",
        s.base,
        urlencode(&other_state)
    );
    let replayed = http
        .get(&replay)
        .header("cookie", &other_pending)
        .send()
        .await
        .unwrap();
    assert_eq!(replayed.status(), StatusCode::BAD_GATEWAY);
    assert!(cookie(&replayed, "tycho_session").is_none());
}

#[tokio::test]
async fn without_a_client_there_is_no_sign_in_button() {
    let issuer = Issuer::start().await;
    let mut settings = oidc_settings(&issuer.base, Timings::default());
    settings.client = None;
    let s = TestServer::without_cluster(Settings {
        auth: tokens(),
        oidc: Some(Arc::new(Oidc::new(settings).unwrap())),
        ..Settings::default()
    })
    .await;
    let (_, options) = s
        .json(reqwest::Method::GET, "/api/v1/signin", None, None)
        .await;
    assert_eq!(options, json!({}));
    let login = no_redirects()
        .get(format!("{}/auth/login", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::NOT_FOUND);
}
