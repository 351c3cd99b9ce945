//! Single sign-on: OIDC/JWT bearer tokens verified against an issuer's keys, and the
//! dashboard's sign-in at that issuer (authorization code with PKCE, in [`login`]).
//!
//! A bearer token that looks like a JWT (three base64url parts) and is not in the tokens file
//! is verified here: its signature with a key of the issuer's JWKS (found through
//! `<issuer>/.well-known/openid-configuration`, cached and refreshed by [`keys`]), an
//! asymmetric algorithm that fits the key (never `none`, never HMAC with a public key), and
//! `iss`, `aud`, `exp`, `nbf` (with a small leeway). The username comes from a configured
//! claim, the groups from another; membership of an admin group makes the caller an admin.
//! Tokens are never logged.

pub mod keys;
pub mod login;

use crate::auth::{Caller, check_username};
use crate::error::ApiError;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};
use std::time::Duration;

/// What the operator configured (see the `--oidc-*` flags).
#[derive(Clone)]
pub struct OidcSettings {
    /// The issuer exactly as its tokens' `iss` say it, e.g. `https://id.example.org/realms/x`.
    pub issuer: String,
    /// Accepted `aud` values (the client ID is accepted too: its ID tokens name it).
    pub audiences: Vec<String>,
    /// The dashboard's sign-in; `None`: bearer tokens only.
    pub client: Option<OidcClient>,
    pub username_claim: String,
    /// Use `sub` when the username claim is missing (opaque IDs as usernames: only on request).
    pub sub_fallback: bool,
    pub groups_claim: String,
    pub admin_groups: Vec<String>,
    /// Shown on the dashboard's button ("Sign in with …").
    pub display_name: String,
    /// Allowed clock difference for `exp` and `nbf`.
    pub leeway: Duration,
    pub key_timings: keys::Timings,
}

impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("audiences", &self.audiences)
            .field("client", &self.client)
            .field("username_claim", &self.username_claim)
            .field("groups_claim", &self.groups_claim)
            .field("admin_groups", &self.admin_groups)
            .finish_non_exhaustive()
    }
}

impl OidcSettings {
    /// Settings with the defaults for everything but the issuer and the audiences.
    pub fn new(issuer: &str, audiences: Vec<String>) -> Self {
        OidcSettings {
            issuer: issuer.to_string(),
            audiences,
            client: None,
            username_claim: "preferred_username".into(),
            sub_fallback: false,
            groups_claim: "groups".into(),
            admin_groups: Vec::new(),
            display_name: default_display_name(issuer),
            leeway: Duration::from_secs(30),
            key_timings: keys::Timings::default(),
        }
    }
}

/// The issuer's host, for the button when the operator names it nothing else.
pub fn default_display_name(issuer: &str) -> String {
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .unwrap_or(issuer);
    rest.split('/').next().unwrap_or(rest).to_string()
}

/// The dashboard's client at the issuer.
#[derive(Clone)]
pub struct OidcClient {
    pub id: String,
    /// For a confidential client (sent in the token request); public clients rely on PKCE.
    pub secret: Option<String>,
    pub scopes: String,
}

impl std::fmt::Debug for OidcClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcClient")
            .field("id", &self.id)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The verifier (and the sign-in's client): one per server, shared by every request.
#[derive(Debug)]
pub struct Oidc {
    pub settings: OidcSettings,
    pub keys: keys::KeyCache,
}

/// Whether a bearer token has a JWT's shape: three base64url parts, the first `{"…`.
pub fn looks_like_jwt(token: &str) -> bool {
    let parts: Vec<&str> = token.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Oidc {
    pub fn new(settings: OidcSettings) -> Result<Self, String> {
        let keys = keys::KeyCache::new(&settings.issuer, settings.key_timings)?;
        Ok(Oidc { settings, keys })
    }

    /// Refreshes the keys every `max_age` for as long as this verifier exists (it holds it
    /// weakly), starting now. Needs a Tokio runtime; without one nothing is spawned (and
    /// unknown `kid`s still fetch).
    pub fn spawn_refresher(self: &std::sync::Arc<Self>) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let verifier = std::sync::Arc::downgrade(self);
        let every = self.keys.timings().max_age;
        runtime.spawn(async move {
            loop {
                let Some(oidc) = verifier.upgrade() else {
                    return;
                };
                oidc.keys.refresh().await;
                drop(oidc);
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Every `aud` this server accepts.
    fn audiences(&self) -> Vec<&str> {
        let mut all: Vec<&str> = self.settings.audiences.iter().map(String::as_str).collect();
        if let Some(client) = &self.settings.client {
            all.push(&client.id);
        }
        all
    }

    /// The caller a bearer JWT names, or why it is refused.
    pub async fn verify(&self, token: &str) -> Result<Caller, ApiError> {
        let claims = self.verified_claims(token).await?;
        self.caller(&claims)
    }

    /// The claims of a token whose signature, algorithm, issuer, audience and times are right.
    pub async fn verified_claims(&self, token: &str) -> Result<Map<String, Value>, ApiError> {
        let refused = |why: String| ApiError::Unauthorized(format!("the bearer token: {why}"));
        // `alg: none` (and anything else jsonwebtoken does not know) fails here.
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| refused(format!("not a JWT this server accepts ({e})")))?;
        if !is_asymmetric(header.alg) {
            return Err(refused(format!(
                "{:?} is not accepted: only RS*, PS*, ES* and EdDSA signatures",
                header.alg
            )));
        }
        let jwk = self.keys.key(header.kid.as_deref()).await?;
        if !key_fits(&jwk, header.alg) {
            return Err(refused(format!(
                "its algorithm {:?} is not the one its key is for",
                header.alg
            )));
        }
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| refused(format!("the issuer's key cannot be used ({e})")))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.settings.leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&self.audiences());
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map_err(|e| refused(describe(&e)))?;
        Ok(data.claims)
    }

    /// The caller the claims name: username, groups, admin.
    pub fn caller(&self, claims: &Map<String, Value>) -> Result<Caller, ApiError> {
        let s = &self.settings;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|v| !v.is_empty())
        };
        let username = text(&s.username_claim)
            .or_else(|| if s.sub_fallback { text("sub") } else { None })
            .ok_or_else(|| {
                ApiError::Unauthorized(format!(
                    "the bearer token has no {:?} claim to name the user",
                    s.username_claim
                ))
            })?;
        check_username(username)
            .map_err(|e| ApiError::Unauthorized(format!("the token's username: {e}")))?;
        let groups: Vec<String> = match claims.get(&s.groups_claim) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(one)) => vec![one.clone()],
            _ => Vec::new(),
        };
        Ok(Caller {
            username: username.to_string(),
            admin: groups.iter().any(|g| s.admin_groups.contains(g)),
            groups,
        })
    }
}

fn is_asymmetric(alg: Algorithm) -> bool {
    use Algorithm::*;
    matches!(
        alg,
        RS256 | RS384 | RS512 | PS256 | PS384 | PS512 | ES256 | ES384 | EdDSA
    )
}

/// Whether a token's algorithm is one its key is for: the key's type and curve, and its `alg`
/// when the JWKS names one. Symmetric keys never fit (a public JWKS key is no shared secret).
fn key_fits(jwk: &Jwk, alg: Algorithm) -> bool {
    use Algorithm::*;
    let family = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => {
            matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512)
        }
        AlgorithmParameters::EllipticCurve(ec) => matches!(
            (&ec.curve, alg),
            (EllipticCurve::P256, ES256) | (EllipticCurve::P384, ES384)
        ),
        AlgorithmParameters::OctetKeyPair(_) => alg == EdDSA,
        AlgorithmParameters::OctetKey(_) => false,
    };
    let named = match jwk.common.key_algorithm {
        Some(named) => format!("{named:?}") == format!("{alg:?}"),
        None => true,
    };
    family && named
}

/// Why a token failed validation, in words (never the token).
fn describe(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "it has expired".into(),
        ErrorKind::ImmatureSignature => "it is not valid yet (nbf)".into(),
        ErrorKind::InvalidAudience => "it is for another audience".into(),
        ErrorKind::InvalidIssuer => "it is from another issuer".into(),
        ErrorKind::InvalidSignature => "its signature is wrong".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("it has no {c:?} claim"),
        ErrorKind::InvalidAlgorithm => "its algorithm does not fit its key".into(),
        _ => format!("it is not valid ({e})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_jwt_shaped_tokens_go_to_the_issuer() {
        assert!(looks_like_jwt("eyJhbGciOi.eyJzdWIi.c2ln-_"));
        assert!(!looks_like_jwt("secret-aaaa"));
        assert!(!looks_like_jwt("eyJhbGciOi.eyJzdWIi."));
        assert!(!looks_like_jwt("eyJ.a.b.c"));
        assert!(!looks_like_jwt("abc.def.ghi"));
    }

    #[test]
    fn the_button_names_the_issuers_host() {
        assert_eq!(
            default_display_name("https://id.example.org/realms/x"),
            "id.example.org"
        );
    }

    fn oidc(sub_fallback: bool) -> Oidc {
        let mut s = OidcSettings::new("http://127.0.0.1:9", vec!["tycho".into()]);
        s.admin_groups = vec!["ops".into()];
        s.sub_fallback = sub_fallback;
        Oidc::new(s).unwrap()
    }

    #[test]
    fn claims_name_the_user_groups_and_admin() {
        let claims: Map<String, Value> = serde_json::from_str(
            r#"{"preferred_username":"alice","sub":"123","groups":["staff","ops"]}"#,
        )
        .unwrap();
        let c = oidc(false).caller(&claims).unwrap();
        assert_eq!((c.username.as_str(), c.admin), ("alice", true));
        assert_eq!(c.groups, ["staff", "ops"]);
        let only_sub: Map<String, Value> = serde_json::from_str(r#"{"sub":"123"}"#).unwrap();
        assert!(
            oidc(false).caller(&only_sub).is_err(),
            "sub only on request"
        );
        let c = oidc(true).caller(&only_sub).unwrap();
        assert_eq!((c.username.as_str(), c.admin), ("123", false));
        let bad: Map<String, Value> =
            serde_json::from_str(r#"{"preferred_username":"a\nb"}"#).unwrap();
        assert!(oidc(false).caller(&bad).is_err());
    }
}
