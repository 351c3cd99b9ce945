//! The session cookie. Browsers cannot add a bearer token to a notebook's own requests, so
//! signing in also sets `tycho_session`: HttpOnly (page scripts cannot read it), SameSite=Lax
//! (cross-site subrequests do not carry it), Secure behind TLS. Only the proxy and the event
//! streams accept it; the REST API never does (no CSRF through it), and the proxy removes it
//! before forwarding (an app never sees it).
//!
//! The value is `v1.<user>.<a|u>.<expiry>.<mac>`: base64url of the username, admin or user,
//! expiry in Unix seconds, and an HMAC-SHA256 of the rest under the server's session key. Give
//! every replica the same key (`--session-secret-file`); without one each process makes its own
//! and sessions end when it restarts.

use crate::auth::Caller;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;
use std::time::Duration;

pub const COOKIE_NAME: &str = "tycho_session";

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct SessionKey(Arc<[u8]>);

impl std::fmt::Debug for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SessionKey(…)")
    }
}

impl SessionKey {
    /// A key of this process only (sessions end when it restarts).
    pub fn random() -> Self {
        let mut key = Vec::with_capacity(32);
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        key.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        SessionKey(key.into())
    }

    /// A key shared by every replica (at least 32 bytes of secret).
    pub fn from_secret(secret: &[u8]) -> Result<Self, String> {
        let secret = secret.trim_ascii();
        if secret.len() < 32 {
            return Err(format!(
                "the session secret has {} bytes; use at least 32",
                secret.len()
            ));
        }
        Ok(SessionKey(secret.into()))
    }

    fn mac(&self, payload: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(payload.as_bytes());
        mac
    }

    /// A cookie value for `caller`, valid until `now + ttl` (Unix seconds).
    pub fn issue(&self, caller: &Caller, now: u64, ttl: Duration) -> String {
        let payload = format!(
            "v1.{}.{}.{}",
            B64.encode(caller.username.as_bytes()),
            if caller.admin { "a" } else { "u" },
            now.saturating_add(ttl.as_secs())
        );
        self.seal(&payload)
    }

    /// `payload.<mac>`: a value the browser keeps and cannot change (the session, the OIDC
    /// sign-in's state). Each kind starts with its own version tag, so one is never the other.
    pub fn seal(&self, payload: &str) -> String {
        let tag = B64.encode(self.mac(payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    /// The payload of a [`SessionKey::seal`]ed value whose MAC is right.
    pub fn unseal<'a>(&self, value: &'a str) -> Option<&'a str> {
        let (payload, tag) = value.rsplit_once('.')?;
        let tag = B64.decode(tag).ok()?;
        self.mac(payload).verify_slice(&tag).ok()?;
        Some(payload)
    }

    /// The caller a cookie value names, if its MAC is right and it has not expired.
    pub fn verify(&self, value: &str, now: u64) -> Option<Caller> {
        let payload = self.unseal(value)?;
        let mut fields = payload.split('.');
        let (version, user, role, expiry) = (
            fields.next()?,
            fields.next()?,
            fields.next()?,
            fields.next()?,
        );
        if version != "v1" || fields.next().is_some() || expiry.parse::<u64>().ok()? <= now {
            return None;
        }
        Some(Caller {
            username: String::from_utf8(B64.decode(user).ok()?).ok()?,
            admin: role == "a",
            // Not in the cookie: only the proxy and the streams take it, not starts.
            groups: Vec::new(),
        })
    }
}

/// The caller of a browser request (the proxy, the event streams): the request's own
/// credentials when it has them, else the session cookie. Also says whether `Authorization`
/// carried the Tycho credential (the proxy then removes it).
pub async fn browser_caller(
    state: &crate::AppState,
    headers: &axum::http::HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Result<(Caller, bool), crate::ApiError> {
    let settings = state.settings();
    let has_authorization = headers.contains_key(axum::http::header::AUTHORIZATION);
    // An app's own `Authorization` (Basic…) passes through in trusted-proxy mode unless it is a
    // bearer JWT for the OIDC issuer.
    let oidc_bearer = crate::auth::has_oidc_bearer(settings, headers);
    let (has_own, in_authorization) = match &settings.auth {
        crate::auth::Auth::Tokens(_) => (has_authorization, true),
        crate::auth::Auth::TrustedProxy { header, .. } => {
            let named = headers.contains_key(header);
            (named || oidc_bearer, !named && oidc_bearer)
        }
        crate::auth::Auth::Insecure => (true, false),
    };
    if has_own {
        let caller = crate::auth::identify(settings, headers, peer).await?;
        return Ok((caller, in_authorization));
    }
    cookie_value(headers)
        .and_then(|v| state.settings().connect.session_key.verify(&v, unix_now()))
        .map(|caller| (caller, false))
        .ok_or_else(|| {
            crate::ApiError::Unauthorized(
                "sign in to Tycho first (the dashboard sets a session cookie)".into(),
            )
        })
}

/// The session cookie's value in a request's `Cookie` headers.
pub fn cookie_value(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == COOKIE_NAME)
        .map(|c| c.value().to_string())
}

/// `Set-Cookie` for a new session (or, with `value: None`, one that removes it).
pub fn set_cookie(value: Option<&str>, ttl: Duration, secure: bool) -> String {
    let mut c = cookie::Cookie::build((COOKIE_NAME, value.unwrap_or("").to_string()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Lax)
        .secure(secure)
        .max_age(cookie::time::Duration::seconds(if value.is_some() {
            ttl.as_secs() as i64
        } else {
            0
        }))
        .build();
    if value.is_none() {
        c.make_removal();
    }
    c.to_string()
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Caller {
        Caller {
            username: "alice.o'neil@example.org".into(),
            admin: false,
            groups: Vec::new(),
        }
    }

    #[test]
    fn a_session_names_its_caller_until_it_expires() {
        let key = SessionKey::random();
        let v = key.issue(&alice(), 1000, Duration::from_secs(60));
        assert_eq!(key.verify(&v, 1059), Some(alice()));
        assert_eq!(key.verify(&v, 1060), None);
        assert_eq!(SessionKey::random().verify(&v, 1000), None, "another key");
    }

    #[test]
    fn a_changed_session_is_refused() {
        let key = SessionKey::random();
        let v = key.issue(&alice(), 1000, Duration::from_secs(60));
        let as_admin = v.replacen(".u.", ".a.", 1);
        assert_eq!(key.verify(&as_admin, 1000), None);
        let later = v.replace(".1060.", ".9999999999.");
        assert_eq!(key.verify(&later, 1000), None);
        assert_eq!(key.verify("", 1000), None);
        assert_eq!(key.verify("v1.x.a.99999999999.", 1000), None);
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(SessionKey::from_secret(b"too short").is_err());
        assert!(SessionKey::from_secret(&[b'k'; 32]).is_ok());
    }

    #[test]
    fn the_cookie_is_http_only_and_lax() {
        let c = set_cookie(Some("v"), Duration::from_secs(60), true);
        for part in [
            "tycho_session=v",
            "HttpOnly",
            "SameSite=Lax",
            "Secure",
            "Path=/",
            "Max-Age=60",
        ] {
            assert!(c.contains(part), "{c} lacks {part}");
        }
        assert!(!set_cookie(Some("v"), Duration::from_secs(60), false).contains("Secure"));
        assert!(set_cookie(None, Duration::ZERO, false).contains("Max-Age=0"));
    }
}
