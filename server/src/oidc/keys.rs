//! The issuer's discovery document and signing keys, cached. Refreshed every
//! [`Timings::max_age`] in the background ([`super::Oidc::spawn_refresher`]; a key the issuer
//! drops stops working then) and when a token names an unknown `kid` (a key rotation), but never
//! more often than every [`Timings::min_interval`], so a flood of made-up `kid`s costs the issuer
//! one request per interval. One fetch at a time; every fetch has short timeouts. When the
//! issuer is down the cached keys keep working; with none cached, requests get a 503 saying so
//! at once. Requests with a known `kid` never wait for the issuer.

use crate::error::ApiError;
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet, PublicKeyUse};
use serde::Deserialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long keys live in the cache and how often the issuer may be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timings {
    pub max_age: Duration,
    pub min_interval: Duration,
    /// For connecting and for each whole request to the issuer.
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            max_age: Duration::from_secs(10 * 60),
            min_interval: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(3),
            request_timeout: Duration::from_secs(5),
        }
    }
}

/// The parts of the issuer's `/.well-known/openid-configuration` Tycho uses.
#[derive(Debug, Clone, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub jwks_uri: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
}

#[derive(Default)]
struct Cached {
    discovery: Option<Arc<Discovery>>,
    keys: Arc<Vec<Jwk>>,
    attempted: Option<Instant>,
    last_error: Option<String>,
}

pub struct KeyCache {
    issuer: String,
    http: reqwest::Client,
    timings: Timings,
    cached: Mutex<Cached>,
    /// Held while fetching: concurrent requests wait for that fetch instead of starting theirs.
    fetching: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl std::fmt::Debug for KeyCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyCache")
            .field("issuer", &self.issuer)
            .field("fetches", &self.fetches())
            .finish_non_exhaustive()
    }
}

impl KeyCache {
    pub fn new(issuer: &str, timings: Timings) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .connect_timeout(timings.connect_timeout)
            .timeout(timings.request_timeout)
            // The issuer's endpoints answer directly; a redirect elsewhere is not followed.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the HTTP client for the OIDC issuer: {e}"))?;
        Ok(KeyCache {
            issuer: issuer.to_string(),
            http,
            timings,
            cached: Mutex::new(Cached::default()),
            fetching: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        })
    }

    /// The HTTP client with the issuer's timeouts (the code exchange uses it too).
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// How many times the issuer's keys were fetched (or tried), for tests and metrics.
    pub fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cached> {
        // A panic while holding it leaves plain data: still usable.
        self.cached.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The signing key `kid` names (without a `kid`: the only signing key).
    pub async fn key(&self, kid: Option<&str>) -> Result<Jwk, ApiError> {
        let keys = self.lock().keys.clone();
        if let Some(key) = find(&keys, kid) {
            return Ok(key);
        }
        self.refresh().await;
        let c = self.lock();
        if let Some(key) = find(&c.keys, kid) {
            return Ok(key);
        }
        if c.keys.is_empty() {
            return Err(ApiError::Unavailable(format!(
                "the identity provider {} cannot be reached to check the token ({}); try again shortly",
                self.issuer,
                c.last_error.as_deref().unwrap_or("no keys yet")
            )));
        }
        Err(ApiError::Unauthorized(match kid {
            Some(kid) => format!("the bearer token: the issuer has no key {kid:?}"),
            None => "the bearer token names no key (kid) and the issuer has several".into(),
        }))
    }

    /// The discovery document (fetched if there is none yet).
    pub async fn discovery(&self) -> Result<Arc<Discovery>, ApiError> {
        if let Some(d) = self.lock().discovery.clone() {
            return Ok(d);
        }
        self.refresh().await;
        let c = self.lock();
        c.discovery.clone().ok_or_else(|| {
            ApiError::Unavailable(format!(
                "the identity provider {} cannot be reached ({}); try again shortly",
                self.issuer,
                c.last_error.as_deref().unwrap_or("not asked yet")
            ))
        })
    }

    /// Fetches discovery and keys unless that was tried less than `min_interval` ago.
    pub async fn refresh(&self) {
        let _one_at_a_time = self.fetching.lock().await;
        {
            let mut c = self.lock();
            if c.attempted
                .is_some_and(|t| t.elapsed() < self.timings.min_interval)
            {
                return;
            }
            c.attempted = Some(Instant::now());
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let result = self.fetch().await;
        let mut c = self.lock();
        match result {
            Ok((discovery, keys)) => {
                tracing::info!(issuer = %self.issuer, keys = keys.len(), "OIDC keys fetched");
                c.discovery = Some(Arc::new(discovery));
                c.keys = Arc::new(keys);
                c.last_error = None;
            }
            Err(e) => {
                tracing::warn!(issuer = %self.issuer, error = %e, cached_keys = c.keys.len(),
                    "OIDC keys not refreshed");
                c.last_error = Some(e);
            }
        }
    }

    async fn fetch(&self) -> Result<(Discovery, Vec<Jwk>), String> {
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.issuer.trim_end_matches('/')
        );
        let discovery: Discovery = self.get_json(&url).await?;
        if discovery.issuer.trim_end_matches('/') != self.issuer.trim_end_matches('/') {
            return Err(format!(
                "its discovery document names another issuer, {:?}",
                discovery.issuer
            ));
        }
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        let keys = set.keys.into_iter().filter(is_signing_key).collect();
        Ok((discovery, keys))
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, String> {
        let response = self
            .http
            .get(url)
            .send()
            .await
            .map_err(|e| format!("{url}: {}", without_url(&e)))?;
        if !response.status().is_success() {
            return Err(format!("{url} answered {}", response.status()));
        }
        response
            .json()
            .await
            .map_err(|e| format!("{url}: {}", without_url(&e)))
    }
}

/// reqwest's error without the URL it repeats.
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_decode() {
        "not the expected JSON"
    } else {
        "failed"
    };
    kind.to_string()
}

/// Public signing keys only: not encryption keys, never symmetric ones.
fn is_signing_key(jwk: &Jwk) -> bool {
    !matches!(jwk.algorithm, AlgorithmParameters::OctetKey(_))
        && !matches!(jwk.common.public_key_use, Some(PublicKeyUse::Encryption))
}

fn find(keys: &[Jwk], kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys
            .iter()
            .find(|k| k.common.key_id.as_deref() == Some(kid))
            .cloned(),
        None if keys.len() == 1 => keys.first().cloned(),
        None => None,
    }
}
