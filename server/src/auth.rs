//! Who is calling. Three modes:
//! - bearer tokens from a file (`Authorization: Bearer <token>` → user, admin flag);
//! - a trusted proxy that authenticates and names the user in a header;
//! - `--insecure-no-auth`: everyone is the admin `anonymous` (a warning is logged at start).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Query};
use axum::http::Uri;
use axum::http::header::{AUTHORIZATION, HeaderName};
use axum::http::request::Parts;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The user every request is in insecure mode.
pub const ANONYMOUS: &str = "anonymous";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    pub token: String,
    pub user: String,
    #[serde(default)]
    pub admin: bool,
}

#[derive(Debug, Clone)]
pub enum Auth {
    Tokens(Arc<HashMap<String, Caller>>),
    TrustedProxy {
        header: HeaderName,
        admins: Arc<HashSet<String>>,
    },
    Insecure,
}

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
                        },
                    )
                })
                .collect(),
        ))
    }

    pub fn trusted_proxy(header: &str, admins: &[String]) -> Result<Self, crate::ServerError> {
        let header = HeaderName::try_from(header).map_err(|e| {
            crate::ServerError::Config(format!("--trusted-proxy-header {header:?}: {e}"))
        })?;
        Ok(Auth::TrustedProxy {
            header,
            admins: Arc::new(admins.iter().cloned().collect()),
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
            Auth::TrustedProxy { header, .. } => format!("trusted proxy header {header}"),
            Auth::Insecure => "none (--insecure-no-auth)".into(),
        }
    }

    /// The caller of a request, from its headers.
    pub fn authenticate(&self, headers: &axum::http::HeaderMap) -> Result<Caller, ApiError> {
        match self {
            Auth::Insecure => Ok(Caller {
                username: ANONYMOUS.into(),
                admin: true,
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
            Auth::TrustedProxy { header, admins } => {
                let user = headers
                    .get(header)
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        ApiError::Unauthorized(format!(
                            "the proxy did not send the {header} header"
                        ))
                    })?;
                Ok(Caller {
                    username: user.into(),
                    admin: admins.contains(user),
                })
            }
        }
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
            _ => self.authenticate(headers),
        }
    }
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
        state.settings().auth.authenticate(&parts.headers)
    }
}

/// The caller of an event stream: like [`Caller`], and also accepts `?access_token=` (see
/// [`Auth::authenticate_stream`]) and the session cookie. Use it on the SSE routes only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamCaller(pub Caller);

impl FromRequestParts<AppState> for StreamCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let auth = &state.settings().auth;
        let query_token = matches!(auth, Auth::Tokens(_)) && access_token(&parts.uri).is_some();
        if !query_token
            && let Ok((caller, _)) = crate::connect::session::browser_caller(state, &parts.headers)
        {
            return Ok(StreamCaller(caller));
        }
        auth.authenticate_stream(&parts.headers, &parts.uri)
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
        }]);
        let h = HeaderMap::new();
        let uri: Uri = "/api/v1/events?x=1&access_token=secret-a%2Fa%2Ba"
            .parse()
            .unwrap();
        assert_eq!(
            auth.authenticate_stream(&h, &uri).unwrap().username,
            "alice"
        );
        let wrong: Uri = "/api/v1/events?access_token=secret-b".parse().unwrap();
        assert!(auth.authenticate_stream(&h, &wrong).is_err());
        let none: Uri = "/api/v1/events".parse().unwrap();
        assert!(auth.authenticate_stream(&h, &none).is_err());
        // A header wins over the query: a wrong header is not rescued by a right query.
        let mut bad = HeaderMap::new();
        bad.insert(AUTHORIZATION, "Bearer nope-nope".parse().unwrap());
        assert!(auth.authenticate_stream(&bad, &uri).is_err());
        // The plain extractor ignores the query.
        assert!(auth.authenticate(&h).is_err());
    }

    #[test]
    fn trusted_proxy_and_insecure() {
        let auth = Auth::trusted_proxy("x-remote-user", &["root".into()]).unwrap();
        let mut h = HeaderMap::new();
        assert!(auth.authenticate(&h).is_err());
        h.insert("x-remote-user", "root".parse().unwrap());
        assert!(auth.authenticate(&h).unwrap().admin);
        h.insert("x-remote-user", "carol".parse().unwrap());
        assert!(!auth.authenticate(&h).unwrap().admin);
        let anon = Auth::Insecure.authenticate(&HeaderMap::new()).unwrap();
        assert_eq!((anon.username.as_str(), anon.admin), (ANONYMOUS, true));
    }
}
