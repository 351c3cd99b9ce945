//! Who is calling. Three modes:
//! - bearer tokens from a file (`Authorization: Bearer <token>` → user, admin flag);
//! - a trusted proxy that authenticates and names the user in a header;
//! - `--insecure-no-auth`: everyone is the admin `anonymous` (a warning is logged at start).
//!
//! With `--oidc-issuer`, a bearer JWT that the tokens file does not hold is verified against
//! the issuer ([`crate::oidc`]) in the first two modes. [`identify`] is the one definition of
//! the caller of a request; the extractors and the connect proxy use it.

use crate::config::Settings;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Query};
use axum::http::Uri;
use axum::http::header::{AUTHORIZATION, HeaderName};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// The user every request is in insecure mode.
pub const ANONYMOUS: &str = "anonymous";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    pub token: String,
    pub user: String,
    #[serde(default)]
    pub admin: bool,
    /// Groups the user belongs to (the policy's `quota.groups` may give them other limits).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum Auth {
    Tokens(Arc<HashMap<String, Caller>>),
    TrustedProxy {
        header: HeaderName,
        admins: Arc<HashSet<String>>,
        /// Who may send that header: without this anyone could name themselves admin.
        trust: Arc<ProxyTrust>,
    },
    Insecure,
}

/// The header a trusted proxy proves itself with, when a shared secret is configured.
pub const PROXY_SECRET_HEADER: &str = "x-tycho-proxy-secret";

/// What makes a request come from the trusted proxy: its peer address is in one of `cidrs`
/// (when any are given) and it carries `secret` in [`PROXY_SECRET_HEADER`] (when one is
/// given). At least one of the two is required.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyTrust {
    pub cidrs: Vec<Cidr>,
    pub secret: Option<String>,
}

impl std::fmt::Debug for ProxyTrust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret itself.
        f.debug_struct("ProxyTrust")
            .field("cidrs", &self.cidrs)
            .field("secret", &self.secret.as_ref().map(|_| "…"))
            .finish()
    }
}

impl ProxyTrust {
    /// What is trusted, for the start-up log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.cidrs.is_empty() {
            let cidrs: Vec<String> = self.cidrs.iter().map(ToString::to_string).collect();
            parts.push(format!("from {}", cidrs.join(", ")));
        }
        if self.secret.is_some() {
            parts.push(format!("with the shared secret in {PROXY_SECRET_HEADER}"));
        }
        parts.join(" and ")
    }

    /// Whether `peer` may be the proxy. `None` (a router served without connect info) passes
    /// only when no CIDR is required.
    fn check_peer(&self, peer: Option<IpAddr>) -> Result<(), ApiError> {
        if !self.cidrs.is_empty() {
            let trusted = peer.is_some_and(|ip| self.cidrs.iter().any(|c| c.contains(ip)));
            if !trusted {
                return Err(ApiError::Unauthorized(
                    "this address is not the trusted proxy's".into(),
                ));
            }
        }
        Ok(())
    }

    /// Whether the request carries the shared secret once (when one is configured).
    fn check_secret(&self, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
        if let Some(secret) = &self.secret {
            let mut sent = headers.get_all(PROXY_SECRET_HEADER).iter();
            let matches = match (sent.next(), sent.next()) {
                // Digests first, so the comparison takes as long whatever the length sent.
                (Some(value), None) => constant_time_eq(
                    &Sha256::digest(value.as_bytes()),
                    &Sha256::digest(secret.as_bytes()),
                ),
                _ => false,
            };
            if !matches {
                return Err(ApiError::Unauthorized(format!(
                    "the trusted proxy's secret ({PROXY_SECRET_HEADER}) is missing or wrong"
                )));
            }
        }
        Ok(())
    }
}

/// An address block, `10.0.0.0/8` or `fd00::/8` (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl std::str::FromStr for Cidr {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (address, prefix) = match text.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text.trim(), None),
        };
        let network: IpAddr = address
            .parse()
            .map_err(|_| format!("{text:?} is not an address or CIDR block"))?;
        let bits = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?,
            None => bits,
        };
        Ok(Cidr { network, prefix })
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // A dual-stack listener sees IPv4 peers as ::ffff:a.b.c.d.
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                prefix_matches(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_matches(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_matches(network: &[u8], address: &[u8], prefix: u8) -> bool {
    let full = usize::from(prefix / 8);
    let rest = prefix % 8;
    if network[..full] != address[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    network[full] & mask == address[full] & mask
}

/// Usernames enter from the tokens file, the trusted proxy's header and the compat
/// `principal`; they end up in labels, annotations and the gateway's routes, so each is checked
/// there by the compiler's rule (empty, control characters and line breaks, over 256 bytes).
pub use tycho_compiler::check_username;

impl Auth {
    pub fn tokens(entries: Vec<TokenEntry>) -> Self {
        Auth::Tokens(Arc::new(
            entries
                .into_iter()
                .map(|e| {
                    (
                        e.token,
                        Caller {
                            username: e.user,
                            admin: e.admin,
                            groups: e.groups,
                        },
                    )
                })
                .collect(),
        ))
    }

    /// Trusted-proxy mode; refused without a way to tell the proxy from anybody else.
    pub fn trusted_proxy(
        header: &str,
        admins: &[String],
        trust: ProxyTrust,
    ) -> Result<Self, crate::ServerError> {
        let header = HeaderName::try_from(header).map_err(|e| {
            crate::ServerError::Config(format!("--trusted-proxy-header {header:?}: {e}"))
        })?;
        if trust.cidrs.is_empty() && trust.secret.is_none() {
            return Err(crate::ServerError::Config(format!(
                "--trusted-proxy-header {header}: also pass --trusted-proxy-cidr (the proxy's \
                 addresses) and/or --trusted-proxy-secret-file, or anyone who reaches the server \
                 can send {header} and be any user"
            )));
        }
        Ok(Auth::TrustedProxy {
            header,
            admins: Arc::new(admins.iter().cloned().collect()),
            trust: Arc::new(trust),
        })
    }

    /// The header a trusted proxy names the user in, if that is the mode.
    pub fn trusted_header(&self) -> Option<HeaderName> {
        match self {
            Auth::TrustedProxy { header, .. } => Some(header.clone()),
            _ => None,
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Auth::Tokens(t) => format!("bearer tokens ({} users)", t.len()),
            Auth::TrustedProxy { header, trust, .. } => {
                format!("trusted proxy header {header}, {}", trust.describe())
            }
            Auth::Insecure => "none (--insecure-no-auth)".into(),
        }
    }

    /// The caller of a request, from its headers, when its peer address is not known. In
    /// trusted-proxy mode with `--trusted-proxy-cidr` this refuses the header: use
    /// [`Auth::authenticate_from`] wherever the peer is known. ([`proxy_guard`] checks the
    /// peer of every request before any handler runs, so this stays safe behind it.)
    pub fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<Caller, ApiError> {
        self.authenticate_inner(headers, None, false)
    }

    /// The caller of a request from `peer` with these headers.
    pub fn authenticate_from(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<IpAddr>,
    ) -> Result<Caller, ApiError> {
        self.authenticate_inner(headers, peer, true)
    }

    fn authenticate_inner(
        &self,
        headers: &axum::http::HeaderMap,
        peer: Option<IpAddr>,
        peer_known: bool,
    ) -> Result<Caller, ApiError> {
        match self {
            Auth::Insecure => Ok(Caller {
                username: ANONYMOUS.into(),
                admin: true,
                groups: Vec::new(),
            }),
            Auth::Tokens(tokens) => {
                let value = headers
                    .get(AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        ApiError::Unauthorized("send Authorization: Bearer <token>".into())
                    })?;
                let token = value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
                    .map(str::trim)
                    .ok_or_else(|| {
                        ApiError::Unauthorized("only Bearer tokens are accepted".into())
                    })?;
                Self::caller_for_token(tokens, token)
            }
            Auth::TrustedProxy {
                header,
                admins,
                trust,
            } => {
                let user = proxy_user(header, headers)?.ok_or_else(|| {
                    ApiError::Unauthorized(format!("the proxy did not send the {header} header"))
                })?;
                // Without a known peer only the secret is checked here: the guard in front of
                // every route ([`proxy_guard`]) has checked the address already.
                if peer_known {
                    trust.check_peer(peer)?;
                }
                trust.check_secret(headers)?;
                Ok(Caller {
                    admin: admins.contains(&user),
                    username: user,
                    // The proxy's header names the user only.
                    groups: Vec::new(),
                })
            }
        }
    }

    /// Whether `token` is one of the tokens file's.
    fn holds_token(&self, token: &str) -> bool {
        matches!(self, Auth::Tokens(tokens) if Self::caller_for_token(tokens, token).is_ok())
    }

    fn caller_for_token(tokens: &HashMap<String, Caller>, token: &str) -> Result<Caller, ApiError> {
        // Compare every token in constant time per byte so timing tells little.
        tokens
            .iter()
            .find(|(t, _)| constant_time_eq(t.as_bytes(), token.as_bytes()))
            .map(|(_, c)| c.clone())
            .ok_or_else(|| ApiError::Unauthorized("unknown token".into()))
    }

    /// Like [`Auth::authenticate`], but in bearer-token mode a request without an
    /// `Authorization` header may carry the token as `?access_token=`: browsers' `EventSource`
    /// cannot send headers. Only the SSE routes call this (through [`StreamCaller`]), so a
    /// token in the query of any other request is ignored and never becomes a habit.
    pub fn authenticate_stream(
        &self,
        headers: &axum::http::HeaderMap,
        uri: &Uri,
        peer: Option<IpAddr>,
    ) -> Result<Caller, ApiError> {
        match self {
            Auth::Tokens(tokens) if !headers.contains_key(AUTHORIZATION) => {
                match access_token(uri) {
                    Some(token) => Self::caller_for_token(tokens, &token),
                    None => Err(ApiError::Unauthorized(
                        "send Authorization: Bearer <token>, or ?access_token=<token> for event streams"
                            .into(),
                    )),
                }
            }
            _ => self.authenticate_from(headers, peer),
        }
    }
}

/// The bearer token of `Authorization`, if it has one.
fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}

/// The issuer that verifies `token`, when it is a JWT for it: OIDC is configured, the mode is
/// not insecure, the tokens file does not hold it, and no trusted proxy names the user.
fn oidc_for<'a>(
    settings: &'a Settings,
    headers: &axum::http::HeaderMap,
    token: &str,
) -> Option<&'a crate::oidc::Oidc> {
    let oidc = settings.oidc.as_deref()?;
    let own_credential = match &settings.auth {
        Auth::Insecure => true,
        Auth::Tokens(_) => settings.auth.holds_token(token),
        Auth::TrustedProxy { header, .. } => headers.contains_key(header),
    };
    (!own_credential && crate::oidc::looks_like_jwt(token)).then_some(oidc)
}

/// Whether a request carries a bearer JWT that the OIDC issuer is to verify.
pub fn has_oidc_bearer(settings: &Settings, headers: &axum::http::HeaderMap) -> bool {
    bearer(headers).is_some_and(|t| oidc_for(settings, headers, t).is_some())
}

/// The caller of a request from `peer` with these headers: an OIDC bearer JWT, else the mode's
/// own credentials ([`Auth::authenticate_from`]).
pub async fn identify(
    settings: &Settings,
    headers: &axum::http::HeaderMap,
    peer: Option<IpAddr>,
) -> Result<Caller, ApiError> {
    if let Some(token) = bearer(headers)
        && let Some(oidc) = oidc_for(settings, headers, token)
    {
        return oidc.verify(token).await;
    }
    settings.auth.authenticate_from(headers, peer)
}

/// Like [`identify`], and also takes the token from `?access_token=` when there is no
/// `Authorization` (see [`Auth::authenticate_stream`]).
pub async fn identify_stream(
    settings: &Settings,
    headers: &axum::http::HeaderMap,
    uri: &Uri,
    peer: Option<IpAddr>,
) -> Result<Caller, ApiError> {
    if !headers.contains_key(AUTHORIZATION)
        && let Some(token) = access_token(uri)
        && let Some(oidc) = oidc_for(settings, headers, &token)
    {
        return oidc.verify(&token).await;
    }
    if headers.contains_key(AUTHORIZATION) {
        return identify(settings, headers, peer).await;
    }
    settings.auth.authenticate_stream(headers, uri, peer)
}

/// The user a trusted proxy names: `None` without the header; refused when the header is
/// repeated (which one would count?) or names no valid user.
fn proxy_user(
    header: &HeaderName,
    headers: &axum::http::HeaderMap,
) -> Result<Option<String>, ApiError> {
    let mut values = headers.get_all(header).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(ApiError::BadRequest(format!(
            "the {header} header is repeated: send it once"
        )));
    }
    let user = value
        .to_str()
        .map_err(|_| ApiError::BadRequest(format!("the {header} header is not text")))?
        .trim();
    check_username(user).map_err(|e| ApiError::BadRequest(format!("{header}: {e}")))?;
    Ok(Some(user.to_string()))
}

/// The peer address of a request served with connect info.
pub fn peer_of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
    extensions
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
}

/// In trusted-proxy mode, refuses (401) every request that names a user but does not come
/// from the proxy, before any route (the API, the docs, the connect proxy) sees it, and
/// (400) one whose user header is repeated or invalid.
pub async fn proxy_guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if let Auth::TrustedProxy { header, trust, .. } = &state.settings().auth {
        let checked = proxy_user(header, request.headers()).and_then(|user| match user {
            Some(_) => trust
                .check_peer(peer_of(request.extensions()))
                .and_then(|()| trust.check_secret(request.headers())),
            None => Ok(()),
        });
        if let Err(e) = checked {
            tracing::warn!(peer = ?peer_of(request.extensions()), error = %e, "refused a request naming a user");
            return e.into_response();
        }
    }
    next.run(request).await
}

/// The `access_token` query parameter, percent-decoded.
fn access_token(uri: &Uri) -> Option<String> {
    #[derive(Deserialize)]
    struct TokenQuery {
        access_token: Option<String>,
    }
    Query::<TokenQuery>::try_from_uri(uri)
        .ok()
        .and_then(|Query(q)| q.access_token)
        .filter(|t| !t.is_empty())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub username: String,
    pub admin: bool,
    /// From the tokens file or the OIDC token's groups claim; empty otherwise.
    pub groups: Vec<String>,
}

impl Caller {
    /// May this caller see and delete a system owned by `owner`?
    pub fn may_access(&self, owner: &str) -> bool {
        self.admin || self.username == owner
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        identify(state.settings(), &parts.headers, peer_of(&parts.extensions)).await
    }
}

/// The caller of an event stream: like [`Caller`], and also accepts `?access_token=` (see
/// [`Auth::authenticate_stream`]) and the session cookie. Use it on the SSE routes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCaller(pub Caller);

impl FromRequestParts<AppState> for StreamCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let settings = state.settings();
        let takes_query = matches!(settings.auth, Auth::Tokens(_)) || settings.oidc.is_some();
        let query_token = takes_query && access_token(&parts.uri).is_some();
        let peer = peer_of(&parts.extensions);
        if !query_token
            && let Ok((caller, _)) =
                crate::connect::session::browser_caller(state, &parts.headers, peer).await
        {
            return Ok(StreamCaller(caller));
        }
        identify_stream(settings, &parts.headers, &parts.uri, peer)
            .await
            .map(StreamCaller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderMap;

    #[test]
    fn bearer_tokens() {
        let auth = Auth::tokens(vec![TokenEntry {
            token: "secret-aaaa".into(),
            user: "alice".into(),
            admin: false,
            groups: Vec::new(),
        }]);
        let mut h = HeaderMap::new();
        assert!(matches!(
            auth.authenticate(&h),
            Err(ApiError::Unauthorized(_))
        ));
        h.insert(AUTHORIZATION, "Bearer secret-aaaa".parse().unwrap());
        assert_eq!(auth.authenticate(&h).unwrap().username, "alice");
        h.insert(AUTHORIZATION, "Bearer secret-aaab".parse().unwrap());
        assert!(auth.authenticate(&h).is_err());
    }

    #[test]
    fn event_streams_also_take_the_token_from_the_query() {
        let auth = Auth::tokens(vec![TokenEntry {
            token: "secret-a/a+a".into(),
            user: "alice".into(),
            admin: false,
            groups: Vec::new(),
        }]);
        let h = HeaderMap::new();
        let uri: Uri = "/api/v1/events?x=1&access_token=secret-a%2Fa%2Ba"
            .parse()
            .unwrap();
        assert_eq!(
            auth.authenticate_stream(&h, &uri, None).unwrap().username,
            "alice"
        );
        let wrong: Uri = "/api/v1/events?access_token=secret-b".parse().unwrap();
        assert!(auth.authenticate_stream(&h, &wrong, None).is_err());
        let none: Uri = "/api/v1/events".parse().unwrap();
        assert!(auth.authenticate_stream(&h, &none, None).is_err());
        // A header wins over the query: a wrong header is not rescued by a right query.
        let mut bad = HeaderMap::new();
        bad.insert(AUTHORIZATION, "Bearer nope-nope".parse().unwrap());
        assert!(auth.authenticate_stream(&bad, &uri, None).is_err());
        // The plain extractor ignores the query.
        assert!(auth.authenticate(&h).is_err());
    }

    fn secret_only() -> ProxyTrust {
        ProxyTrust {
            cidrs: Vec::new(),
            secret: Some("proxy-secret-0123456789".into()),
        }
    }

    #[test]
    fn trusted_proxy_and_insecure() {
        let auth = Auth::trusted_proxy("x-remote-user", &["root".into()], secret_only()).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            PROXY_SECRET_HEADER,
            "proxy-secret-0123456789".parse().unwrap(),
        );
        assert!(auth.authenticate(&h).is_err());
        h.insert("x-remote-user", "root".parse().unwrap());
        assert!(auth.authenticate(&h).unwrap().admin);
        h.insert("x-remote-user", "carol".parse().unwrap());
        assert!(!auth.authenticate(&h).unwrap().admin);
        let anon = Auth::Insecure.authenticate(&HeaderMap::new()).unwrap();
        assert_eq!((anon.username.as_str(), anon.admin), (ANONYMOUS, true));
    }

    #[test]
    fn trusted_proxy_mode_needs_something_to_trust() {
        let refused = Auth::trusted_proxy("x-remote-user", &[], ProxyTrust::default());
        assert!(matches!(refused, Err(crate::ServerError::Config(_))));
    }

    #[test]
    fn the_header_counts_only_from_the_proxy() {
        let trust = ProxyTrust {
            cidrs: vec!["10.1.0.0/16".parse().unwrap()],
            secret: None,
        };
        let auth = Auth::trusted_proxy("x-remote-user", &["root".into()], trust).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-remote-user", "root".parse().unwrap());
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "10.2.0.1".parse().unwrap();
        assert!(auth.authenticate_from(&h, Some(proxy)).unwrap().admin);
        assert!(auth.authenticate_from(&h, Some(mapped)).unwrap().admin);
        assert!(matches!(
            auth.authenticate_from(&h, Some(stranger)),
            Err(ApiError::Unauthorized(_))
        ));
        assert!(auth.authenticate_from(&h, None).is_err());
        // Twice, the header names nobody.
        h.append("x-remote-user", "carol".parse().unwrap());
        assert!(matches!(
            auth.authenticate_from(&h, Some(proxy)),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn a_wrong_or_repeated_secret_is_refused() {
        let auth = Auth::trusted_proxy("x-remote-user", &[], secret_only()).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-remote-user", "alice".parse().unwrap());
        assert!(auth.authenticate(&h).is_err(), "no secret");
        h.insert(
            PROXY_SECRET_HEADER,
            "proxy-secret-0123456788".parse().unwrap(),
        );
        assert!(auth.authenticate(&h).is_err(), "a wrong secret");
        h.insert(
            PROXY_SECRET_HEADER,
            "proxy-secret-0123456789".parse().unwrap(),
        );
        assert_eq!(auth.authenticate(&h).unwrap().username, "alice");
        h.append(PROXY_SECRET_HEADER, "other".parse().unwrap());
        assert!(auth.authenticate(&h).is_err(), "a repeated secret");
    }

    #[test]
    fn invalid_usernames_are_refused_in_the_header() {
        let auth = Auth::trusted_proxy("x-remote-user", &[], secret_only()).unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            PROXY_SECRET_HEADER,
            "proxy-secret-0123456789".parse().unwrap(),
        );
        h.insert("x-remote-user", "a\tb".parse().unwrap());
        assert!(matches!(
            auth.authenticate(&h),
            Err(ApiError::BadRequest(_))
        ));
        h.insert("x-remote-user", "x".repeat(257).parse().unwrap());
        assert!(matches!(
            auth.authenticate(&h),
            Err(ApiError::BadRequest(_))
        ));
    }

    #[test]
    fn cidrs() {
        let c: Cidr = "192.168.4.0/22".parse().unwrap();
        assert!(c.contains("192.168.7.255".parse().unwrap()));
        assert!(!c.contains("192.168.8.0".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        let one: Cidr = "::1".parse().unwrap();
        assert_eq!(one.to_string(), "::1/128");
        assert!(one.contains("::1".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("8.8.8.8".parse().unwrap()));
        assert!("10.0.0.0/33".parse::<Cidr>().is_err());
        assert!("nope".parse::<Cidr>().is_err());
    }
}
