//! Command-line flags of `tycho api` and the settings resolved from them.

use crate::auth::{Auth, Cidr, ProxyTrust, TokenEntry, check_username};
use crate::connect::session::SessionKey;
use crate::connect::upstream::Upstream;
use crate::error::ServerError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tycho_compiler::Policy;

/// Default listen address: port 8099 on loopback (put a proxy or `--listen 0.0.0.0:8099` in
/// front for other machines).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8099";

/// A compose file with the files it names, in base64 (4/3 of their size): room for what one
/// system may carry, Kubernetes' 1 MiB ConfigMap and 1 MiB Secret.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// `tycho api`: serve the REST API, the dashboard and the compat endpoints.
#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Address and port to listen on.
    #[arg(long, default_value = DEFAULT_LISTEN, env = "TYCHO_LISTEN")]
    pub listen: String,
    /// Namespace where systems run (default: the kubeconfig context's, or the pod's own).
    #[arg(long, env = "TYCHO_NAMESPACE")]
    pub namespace: Option<String>,
    /// Operator policy (JSON or YAML of the compiler's `Policy`: resource defaults and caps,
    /// allowed host paths, service type, network policy, …).
    #[arg(long, value_name = "FILE", env = "TYCHO_POLICY")]
    pub policy: Option<PathBuf>,
    /// Bearer tokens: lines `token,user[,admin]` (`#` comments), or a YAML/JSON list of
    /// `{token, user, admin}`.
    #[arg(long, value_name = "FILE", env = "TYCHO_TOKENS")]
    pub tokens: Option<PathBuf>,
    /// Trust this request header (set by an authenticating proxy) to name the user.
    #[arg(long, value_name = "NAME", env = "TYCHO_TRUSTED_PROXY_HEADER")]
    pub trusted_proxy_header: Option<String>,
    /// The trusted proxy's addresses (a CIDR block or an address; repeat or separate with
    /// commas): the user header counts only from these peers.
    #[arg(
        long = "trusted-proxy-cidr",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    pub trusted_proxy_cidrs: Vec<String>,
    /// File with a secret (at least 16 bytes) the trusted proxy sends in
    /// `X-Tycho-Proxy-Secret`: the user header counts only with it.
    #[arg(long, value_name = "FILE", env = "TYCHO_TRUSTED_PROXY_SECRET_FILE")]
    pub trusted_proxy_secret_file: Option<PathBuf>,
    /// Users who are admins in trusted-proxy mode (repeat or separate with commas).
    #[arg(long = "admin", value_name = "USER", value_delimiter = ',')]
    pub admins: Vec<String>,
    /// Single sign-on: accept bearer JWTs from this OIDC issuer (its URL, as the tokens' `iss`
    /// say it; its keys come from `<issuer>/.well-known/openid-configuration`). Works with
    /// --tokens or --trusted-proxy-header, or alone.
    #[arg(long, value_name = "URL", env = "TYCHO_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// The `aud` tokens must name (repeat or separate with commas; default: --oidc-client-id).
    #[arg(
        long = "oidc-audience",
        value_name = "AUD",
        value_delimiter = ',',
        env = "TYCHO_OIDC_AUDIENCE"
    )]
    pub oidc_audiences: Vec<String>,
    /// The dashboard's client ID at the issuer: enables "Sign in with …" (authorization code
    /// with PKCE; register `<public URL>/auth/callback` as its redirect URI).
    #[arg(long, value_name = "ID", env = "TYCHO_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// File with the client's secret, for a confidential client (public clients need none).
    #[arg(long, value_name = "FILE", env = "TYCHO_OIDC_CLIENT_SECRET_FILE")]
    pub oidc_client_secret_file: Option<PathBuf>,
    /// Scopes the sign-in asks for.
    #[arg(
        long,
        default_value = "openid profile email",
        env = "TYCHO_OIDC_SCOPES"
    )]
    pub oidc_scopes: String,
    /// The claim that names the user.
    #[arg(
        long,
        default_value = "preferred_username",
        env = "TYCHO_OIDC_USERNAME_CLAIM"
    )]
    pub oidc_username_claim: String,
    /// Name the user by `sub` when the username claim is missing (off: such tokens are refused).
    #[arg(long)]
    pub oidc_username_from_sub: bool,
    /// The claim that lists the user's groups (for admins and the policy's `quota.groups`).
    #[arg(long, default_value = "groups", env = "TYCHO_OIDC_GROUPS_CLAIM")]
    pub oidc_groups_claim: String,
    /// Members of these groups are admins (repeat or separate with commas).
    #[arg(
        long = "oidc-admin-group",
        value_name = "GROUP",
        value_delimiter = ',',
        env = "TYCHO_OIDC_ADMIN_GROUPS"
    )]
    pub oidc_admin_groups: Vec<String>,
    /// The issuer's name on the dashboard's button (default: its host).
    #[arg(long, value_name = "NAME", env = "TYCHO_OIDC_NAME")]
    pub oidc_name: Option<String>,
    /// Accept every request without authentication, as the admin user "anonymous".
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Directory of the built dashboard, served at `/`.
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub dist: PathBuf,
    /// Largest accepted request body (not for `/connect`, whose uploads go to the apps).
    #[arg(long, default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,
    /// Most systems one user may run at a time (0: no limit): the default of the policy's
    /// `quota.systems`, which wins where it is set.
    #[arg(long, default_value_t = 10)]
    pub max_systems_per_user: usize,
    /// Most starts in progress at once; further starts wait up to 30 s.
    #[arg(long, default_value_t = 16)]
    pub max_concurrent_starts: usize,
    /// Kubeconfig to use (otherwise: in-cluster, $KUBECONFIG, ~/.kube/config, as kubectl).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// How often SSE streams look for changes, in milliseconds.
    #[arg(long, default_value_t = 2000)]
    pub events_interval_ms: u64,
    /// The address users reach this server at (e.g. `https://tycho.example.org`): connect URLs
    /// start with it, and `https` marks the session cookie Secure. Default: each request's Host.
    #[arg(long, value_name = "URL", env = "TYCHO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// How the proxy reaches systems: `service` (in the cluster), `port-forward` (through the
    /// API server, for a server outside the cluster), or `auto` (service when in a pod).
    #[arg(long, value_enum, default_value_t = UpstreamMode::Auto)]
    pub connect_upstream: UpstreamMode,
    /// File with the key that signs session cookies (at least 32 bytes); give every replica
    /// the same one. Without it the key is made at start and sessions end with the process.
    #[arg(long, value_name = "FILE", env = "TYCHO_SESSION_SECRET_FILE")]
    pub session_secret_file: Option<PathBuf>,
    /// Most requests and WebSockets open through the proxy at once.
    #[arg(long, default_value_t = 10_000)]
    pub proxy_max_connections: usize,
    /// Most requests and WebSockets one user may have open through the proxy.
    #[arg(long, default_value_t = 500)]
    pub proxy_max_connections_per_user: usize,
    /// Most HTTP connections open at once; at the limit the longest idle one is closed for a
    /// new one (or the new one, when none is idle).
    #[arg(long, default_value_t = HttpLimits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a client has to send a request's headers (also the most a kept-alive HTTP/1
    /// connection waits for its next request).
    #[arg(long, default_value_t = HttpLimits::default().header_read_timeout.as_secs())]
    pub header_read_timeout_secs: u64,
    /// Seconds a connection with no request in progress stays open.
    #[arg(long, default_value_t = HttpLimits::default().idle_timeout.as_secs())]
    pub idle_timeout_secs: u64,
    /// Seconds a REST request's body may go without sending a byte.
    #[arg(long, default_value_t = HttpLimits::default().body_read_timeout.as_secs())]
    pub body_read_timeout_secs: u64,
    /// Most event streams open at once.
    #[arg(long, default_value_t = StreamLimits::default().max_streams)]
    pub max_event_streams: usize,
    /// Most event streams one user may have open.
    #[arg(long, default_value_t = StreamLimits::default().max_streams_per_user)]
    pub max_event_streams_per_user: usize,
}

/// How the HTTP server treats slow, idle and too many clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// How long a REST request's body may go without a byte (a client that announces a body
    /// and never sends it). Not for `/connect`: uploads to apps wait on the app as well.
    pub body_read_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(75),
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Caps on Server-Sent Event streams (each holds a connection and a task).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub max_streams: usize,
    pub max_streams_per_user: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            max_streams: 2_000,
            max_streams_per_user: 20,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UpstreamMode {
    Auto,
    Service,
    PortForward,
}

/// The proxy's settings (see [`crate::connect`]).
#[derive(Clone)]
pub struct ConnectSettings {
    /// `scheme://host[:port]` without a trailing slash; `None`: the request's Host.
    pub public_url: Option<String>,
    /// Where proxied traffic goes; `None` without a cluster (the proxy answers 503).
    pub upstream: Option<Arc<dyn Upstream>>,
    pub limits: crate::connect::Limits,
    pub session_key: SessionKey,
    pub session_ttl: Duration,
}

impl std::fmt::Debug for ConnectSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectSettings")
            .field("public_url", &self.public_url)
            .field("upstream", &self.upstream.as_ref().map(|u| u.describe()))
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Default for ConnectSettings {
    fn default() -> Self {
        ConnectSettings {
            public_url: None,
            upstream: None,
            limits: crate::connect::Limits::default(),
            session_key: SessionKey::random(),
            session_ttl: Duration::from_secs(12 * 3600),
        }
    }
}

impl ConnectSettings {
    /// `https` when the server is reached over TLS (its public URL says so, or the TLS
    /// terminator in front of it does), else `http`.
    pub fn public_scheme(&self, headers: &axum::http::HeaderMap) -> String {
        match &self.public_url {
            Some(url) if url.starts_with("https://") => "https".into(),
            Some(_) => "http".into(),
            None => headers
                .get("x-forwarded-proto")
                .and_then(|v| v.to_str().ok())
                .filter(|p| *p == "https")
                .unwrap_or("http")
                .into(),
        }
    }

    /// `scheme://host` users reach the server at, for absolute connect URLs.
    pub fn public_base(&self, headers: &axum::http::HeaderMap) -> Option<String> {
        if let Some(url) = &self.public_url {
            return Some(url.clone());
        }
        let host = headers.get(axum::http::header::HOST)?.to_str().ok()?;
        Some(format!("{}://{host}", self.public_scheme(headers)))
    }
}

/// Resolved server settings (what tests build directly).
#[derive(Debug, Clone)]
pub struct Settings {
    pub namespace: String,
    pub policy: Policy,
    pub auth: Auth,
    pub max_body_bytes: usize,
    pub max_systems_per_user: usize,
    pub max_concurrent_starts: usize,
    /// Served at `/` when it holds an `index.html`.
    pub dist: Option<PathBuf>,
    pub events_interval: Duration,
    pub connect: ConnectSettings,
    pub http: HttpLimits,
    pub streams: StreamLimits,
    /// The time lifetimes and keepalives go by (tests set a `lifetime::ManualClock`).
    pub clock: crate::lifetime::SharedClock,
    /// How often the lifetime task runs when the policy sets a lifetime; `None`: never by
    /// itself (tests call `Lifetimes::round`).
    pub lifetime_interval: Option<Duration>,
    /// Single sign-on: bearer JWTs of an OIDC issuer and the dashboard's sign-in there.
    pub oidc: Option<Arc<crate::oidc::Oidc>>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            namespace: "default".into(),
            policy: Policy::default(),
            auth: Auth::Insecure,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            max_systems_per_user: 10,
            max_concurrent_starts: 16,
            dist: None,
            events_interval: Duration::from_secs(2),
            connect: ConnectSettings::default(),
            http: HttpLimits::default(),
            streams: StreamLimits::default(),
            clock: std::sync::Arc::new(crate::lifetime::SystemClock),
            lifetime_interval: Some(crate::lifetime::DEFAULT_INTERVAL),
            oidc: None,
        }
    }
}

impl Settings {
    /// Settings from flags; `namespace` is the one found with the cluster configuration.
    pub fn from_args(args: &ApiArgs, namespace: String) -> Result<Self, ServerError> {
        let policy = match &args.policy {
            Some(path) => load_policy(path)?,
            None => Policy::default(),
        };
        let oidc = oidc_settings(args)?
            .map(|s| crate::oidc::Oidc::new(s).map(Arc::new))
            .transpose()
            .map_err(ServerError::Config)?;
        let auth = if let Some(path) = &args.tokens {
            Auth::tokens(load_tokens(path)?)
        } else if let Some(header) = &args.trusted_proxy_header {
            Auth::trusted_proxy(header, &args.admins, proxy_trust(args)?)?
        } else if oidc.is_some() {
            if args.insecure_no_auth {
                return Err(ServerError::Config(
                    "--oidc-issuer and --insecure-no-auth: choose one".into(),
                ));
            }
            // OIDC alone: every bearer token is the issuer's (no tokens file holds any).
            Auth::tokens(Vec::new())
        } else if args.insecure_no_auth {
            Auth::Insecure
        } else {
            return Err(ServerError::Config(
                "no authentication configured: pass --tokens FILE, --trusted-proxy-header NAME, \
                 or --insecure-no-auth to accept every caller as an admin"
                    .into(),
            ));
        };
        let dist = Some(args.dist.clone()).filter(|d| d.join("index.html").is_file());
        let session_key = match &args.session_secret_file {
            Some(path) => SessionKey::from_secret(read(path)?.as_bytes()).map_err(|message| {
                ServerError::Parse {
                    path: path.display().to_string(),
                    message,
                }
            })?,
            None => SessionKey::random(),
        };
        let public_url = match &args.public_url {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                Some(url.trim_end_matches('/').to_string())
            }
            Some(url) => {
                return Err(ServerError::Config(format!(
                    "--public-url {url:?}: start it with http:// or https://"
                )));
            }
            None => None,
        };
        let connect = ConnectSettings {
            public_url,
            upstream: None,
            limits: crate::connect::Limits {
                max_connections: args.proxy_max_connections.max(1),
                max_connections_per_user: args.proxy_max_connections_per_user.max(1),
                ..Default::default()
            },
            session_key,
            session_ttl: Duration::from_secs(12 * 3600),
        };
        Ok(Settings {
            namespace,
            policy,
            auth,
            max_body_bytes: args.max_body_bytes,
            max_systems_per_user: args.max_systems_per_user,
            max_concurrent_starts: args.max_concurrent_starts.max(1),
            dist,
            events_interval: Duration::from_millis(args.events_interval_ms.max(100)),
            connect,
            http: HttpLimits {
                max_connections: args.max_connections.max(1),
                header_read_timeout: Duration::from_secs(args.header_read_timeout_secs.max(1)),
                idle_timeout: Duration::from_secs(args.idle_timeout_secs.max(1)),
                body_read_timeout: Duration::from_secs(args.body_read_timeout_secs.max(1)),
            },
            streams: StreamLimits {
                max_streams: args.max_event_streams.max(1),
                max_streams_per_user: args.max_event_streams_per_user.max(1),
            },
            oidc,
            ..Settings::default()
        })
    }
}

/// The OIDC settings from the `--oidc-*` flags, when an issuer is given.
fn oidc_settings(args: &ApiArgs) -> Result<Option<crate::oidc::OidcSettings>, ServerError> {
    let Some(issuer) = &args.oidc_issuer else {
        return Ok(None);
    };
    if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
        return Err(ServerError::Config(format!(
            "--oidc-issuer {issuer:?}: start it with https:// (or http:// for a test issuer)"
        )));
    }
    let client_secret = match &args.oidc_client_secret_file {
        Some(path) => Some(read(path)?.trim().to_string()),
        None => None,
    };
    let client = args
        .oidc_client_id
        .as_ref()
        .map(|id| crate::oidc::OidcClient {
            id: id.clone(),
            secret: client_secret,
            scopes: args.oidc_scopes.clone(),
        });
    if client.is_none() && args.oidc_audiences.is_empty() {
        return Err(ServerError::Config(
            "--oidc-issuer: also pass --oidc-audience (what the tokens' aud must name) and/or \
             --oidc-client-id (the dashboard's client, also accepted as audience)"
                .into(),
        ));
    }
    let mut s = crate::oidc::OidcSettings::new(issuer, args.oidc_audiences.clone());
    s.client = client;
    s.username_claim = args.oidc_username_claim.clone();
    s.sub_fallback = args.oidc_username_from_sub;
    s.groups_claim = args.oidc_groups_claim.clone();
    s.admin_groups = args.oidc_admin_groups.clone();
    if let Some(name) = &args.oidc_name {
        s.display_name = name.clone();
    }
    Ok(Some(s))
}

/// What tells the trusted proxy from other peers (`Auth::trusted_proxy` refuses neither).
fn proxy_trust(args: &ApiArgs) -> Result<ProxyTrust, ServerError> {
    let cidrs = args
        .trusted_proxy_cidrs
        .iter()
        .map(|c| {
            c.parse::<Cidr>()
                .map_err(|e| ServerError::Config(format!("--trusted-proxy-cidr: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let secret = match &args.trusted_proxy_secret_file {
        Some(path) => {
            Some(
                parse_proxy_secret(&read(path)?).map_err(|message| ServerError::Parse {
                    path: path.display().to_string(),
                    message,
                })?,
            )
        }
        None => None,
    };
    Ok(ProxyTrust { cidrs, secret })
}

/// The secret file's content without its final newline; it must be a header value.
fn parse_proxy_secret(text: &str) -> Result<String, String> {
    let secret = text.trim_end_matches(['\r', '\n']);
    if secret.len() < 16 {
        return Err("the trusted proxy's secret needs at least 16 bytes".into());
    }
    if axum::http::HeaderValue::from_str(secret).is_err() || secret.trim() != secret {
        return Err("the trusted proxy's secret must be one line of visible characters".into());
    }
    Ok(secret.to_string())
}

fn read(path: &Path) -> Result<String, ServerError> {
    std::fs::read_to_string(path).map_err(|source| ServerError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a policy file, JSON or YAML, with the compiler's reader (the CLI's too, so both
/// accept exactly the same files).
pub fn load_policy(path: &Path) -> Result<Policy, ServerError> {
    tycho_compiler::parse_policy(&read(path)?).map_err(|message| ServerError::Parse {
        path: path.display().to_string(),
        message,
    })
}

/// Reads a tokens file.
pub fn load_tokens(path: &Path) -> Result<Vec<TokenEntry>, ServerError> {
    parse_tokens(&read(path)?).map_err(|message| ServerError::Parse {
        path: path.display().to_string(),
        message,
    })
}

/// Tokens as `token,user[,admin]` lines or a YAML/JSON list of `{token, user, admin, groups}`.
pub fn parse_tokens(text: &str) -> Result<Vec<TokenEntry>, String> {
    let trimmed = text.trim_start();
    let entries: Vec<TokenEntry> = if trimmed.starts_with('[') {
        serde_json::from_str(text).map_err(|e| e.to_string())?
    } else if trimmed.starts_with('-') {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())?
    } else {
        let mut entries = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let (token, user, admin) = match fields.as_slice() {
                [t, u] => (*t, *u, false),
                [t, u, a] => (*t, *u, matches!(*a, "admin" | "true" | "yes" | "1")),
                _ => return Err(format!("line {}: expected token,user[,admin]", i + 1)),
            };
            entries.push(TokenEntry {
                token: token.into(),
                user: user.into(),
                admin,
                groups: Vec::new(),
            });
        }
        entries
    };
    for (i, e) in entries.iter().enumerate() {
        if e.token.len() < 8 || e.user.is_empty() {
            return Err(format!(
                "entry {}: a token needs at least 8 characters and a user",
                i + 1
            ));
        }
        check_username(&e.user).map_err(|message| format!("entry {}: {message}", i + 1))?;
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_in_lines_and_lists() {
        let lines = "# comment\nsecret-aaaa,alice\nsecret-bbbb, bob, admin\n";
        let t = parse_tokens(lines).unwrap();
        assert_eq!(t.len(), 2);
        assert!(!t[0].admin && t[1].admin && t[1].user == "bob");
        let yaml = "- token: secret-aaaa\n  user: alice\n- token: secret-bbbb\n  user: bob\n  admin: true\n";
        assert_eq!(parse_tokens(yaml).unwrap(), t);
        let json = r#"[{"token":"secret-aaaa","user":"alice"},{"token":"secret-bbbb","user":"bob","admin":true}]"#;
        assert_eq!(parse_tokens(json).unwrap(), t);
        assert!(parse_tokens("short,alice").is_err());
        assert!(parse_tokens("a,b,c,d").is_err());
    }

    #[test]
    fn token_entries_may_name_groups_for_the_quota() {
        let yaml = "- token: secret-aaaa\n  user: alice\n  groups: [gpu-lab, staff]\n";
        let t = parse_tokens(yaml).unwrap();
        assert_eq!(t[0].groups, ["gpu-lab", "staff"]);
        let auth = Auth::tokens(t);
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::AUTHORIZATION,
            "Bearer secret-aaaa".parse().unwrap(),
        );
        let caller = auth.authenticate(&headers).unwrap();
        assert_eq!(caller.groups, ["gpu-lab", "staff"]);
    }

    #[test]
    fn tokens_with_invalid_usernames_are_refused() {
        let yaml = "- token: secret-aaaa\n  user: \"bob\\nprefix: /private/\"\n";
        let e = parse_tokens(yaml).unwrap_err();
        assert!(e.contains("entry 1") && e.contains("control"), "{e}");
        let long = format!("secret-aaaa,{}", "a".repeat(257));
        assert!(parse_tokens(&long).is_err());
    }

    fn args(flags: &[&str]) -> ApiArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            api: ApiArgs,
        }
        let argv = std::iter::once("tycho").chain(flags.iter().copied());
        <Cli as clap::Parser>::try_parse_from(argv)
            .expect("valid flags")
            .api
    }

    #[test]
    fn oidc_flags() {
        let s = Settings::from_args(
            &args(&[
                "--oidc-issuer=https://id.example.org/realms/lab",
                "--oidc-client-id=tycho",
                "--oidc-admin-group=ops,root",
                "--oidc-groups-claim=roles",
            ]),
            "ns".into(),
        )
        .unwrap();
        let oidc = s.oidc.expect("OIDC on");
        assert_eq!(oidc.settings.admin_groups, ["ops", "root"]);
        assert_eq!(oidc.settings.groups_claim, "roles");
        assert_eq!(oidc.settings.username_claim, "preferred_username");
        assert!(!oidc.settings.sub_fallback);
        assert_eq!(oidc.settings.display_name, "id.example.org");
        assert_eq!(oidc.settings.client.as_ref().unwrap().id, "tycho");
        // OIDC alone: no tokens file holds any bearer.
        assert!(matches!(&s.auth, Auth::Tokens(t) if t.is_empty()));

        let refused = |flags: &[&str], words: &str| {
            let e = Settings::from_args(&args(flags), "ns".into()).unwrap_err();
            assert!(e.to_string().contains(words), "{e}");
        };
        refused(&["--oidc-issuer=https://id.example.org"], "--oidc-audience");
        refused(
            &["--oidc-issuer=id.example.org", "--oidc-audience=tycho"],
            "https://",
        );
        refused(
            &[
                "--oidc-issuer=https://id.example.org",
                "--oidc-audience=tycho",
                "--insecure-no-auth",
            ],
            "choose one",
        );
        // Without an issuer nothing changes.
        let plain = Settings::from_args(&args(&["--insecure-no-auth"]), "ns".into()).unwrap();
        assert!(plain.oidc.is_none() && matches!(plain.auth, Auth::Insecure));
    }

    #[test]
    fn proxy_secrets() {
        assert_eq!(
            parse_proxy_secret("0123456789abcdef\n").unwrap(),
            "0123456789abcdef"
        );
        assert!(parse_proxy_secret("short\n").is_err());
        assert!(parse_proxy_secret("0123456789abcdef\nsecond line").is_err());
    }

    #[test]
    fn policy_json_or_yaml() {
        let p = tycho_compiler::parse_policy("{\"allow_root\": true}").unwrap();
        assert!(p.allow_root);
        let p =
            tycho_compiler::parse_policy("max_resources:\n  cpu: \"2\"\n  memory: 4Gi\n").unwrap();
        assert_eq!(p.max_resources.cpu, "2");
        assert!(tycho_compiler::parse_policy("nope: 1").is_err());
        assert_eq!(tycho_compiler::parse_policy("").unwrap(), Policy::default());
    }
}
