//! Single sign-on against a fake OIDC issuer in the test (discovery, JWKS, authorize, token on
//! `127.0.0.1:0`, RSA test keys from `fixtures/oidc/`): good tokens name the user, admin flag
//! and quota groups; `alg: none`, HMAC, a wrong key, expired, not yet valid, another audience
//! or issuer are refused; an unknown `kid` refreshes the keys once; a JWKS endpoint that is
//! down leaves the cached keys working and, with none, answers a clear 503; the dashboard's
//! sign-in (authorization code with PKCE) signs the browser in, and a wrong `state` does not.

#[path = "support/oidc_issuer.rs"]
mod issuer;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use issuer::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tycho_server::Settings;
use tycho_server::oidc::{Oidc, keys::Timings};
use tycho_test_server::*;
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
async fn with_a_trusted_proxy_the_header_works_as_before_and_a_jwt_beside_it() {
    use tycho_server::auth::{Auth, PROXY_SECRET_HEADER, ProxyTrust};
    const SECRET: &str = "proxy-secret-0123456789";
    let issuer = Issuer::start().await;
    let trust = ProxyTrust {
        cidrs: Vec::new(),
        secret: Some(SECRET.into()),
    };
    let settings = Settings {
        auth: Auth::trusted_proxy("x-remote-user", &["root".into()], trust).unwrap(),
        ..Settings::default()
    };
    let s =
        TestServer::without_cluster(with_oidc(settings, &issuer.base, Timings::default())).await;
    let me = |headers: Vec<(&'static str, String)>| {
        let mut r = s.http.get(format!("{}/api/v1/whoami", s.base));
        for (k, v) in headers {
            r = r.header(k, v);
        }
        async move {
            let r = r.send().await.unwrap();
            (r.status(), r.json::<Value>().await.unwrap_or_default())
        }
    };
    let (status, body) = me(vec![
        ("x-remote-user", "root".into()),
        (PROXY_SECRET_HEADER, SECRET.into()),
    ])
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"username": "root", "admin": true}));
    let jwt = sign(
        &claims(&issuer.base, AUDIENCE, "alice", &[]),
        "k1",
        ISSUER_KEY,
    );
    let (status, body) = me(vec![("authorization", format!("Bearer {jwt}"))]).await;
    assert_eq!(
        (status, body["username"].clone()),
        (StatusCode::OK, json!("alice"))
    );
    // The header without the proxy's secret is refused, a good JWT beside it or not.
    let (status, _) = me(vec![
        ("x-remote-user", "root".into()),
        ("authorization", format!("Bearer {jwt}")),
    ])
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
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
