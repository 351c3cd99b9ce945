//! Who is calling. Three modes:
//! - bearer tokens from a file (`Authorization: Bearer <token>` → user, admin flag);
//! - a trusted proxy that authenticates and names the user in a header;
//! - `--insecure-no-auth`: everyone is the admin `anonymous` (a warning is logged at start).

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
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
                // Compare every token in constant time per byte so timing tells little.
                tokens
                    .iter()
                    .find(|(t, _)| constant_time_eq(t.as_bytes(), token.as_bytes()))
                    .map(|(_, c)| c.clone())
                    .ok_or_else(|| ApiError::Unauthorized("unknown token".into()))
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
