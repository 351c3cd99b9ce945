//! Command-line flags of `tycho api` and the settings resolved from them.

use crate::auth::{Auth, TokenEntry};
use crate::error::ServerError;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tycho_compiler::Policy;

/// Default listen address: port 8099 on loopback (put a proxy or `--listen 0.0.0.0:8099` in
/// front for other machines).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8099";

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
    /// Users who are admins in trusted-proxy mode (repeat or separate with commas).
    #[arg(long = "admin", value_name = "USER", value_delimiter = ',')]
    pub admins: Vec<String>,
    /// Accept every request without authentication, as the admin user "anonymous".
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Directory of the built dashboard, served at `/`.
    #[arg(long, value_name = "DIR", default_value = "dist")]
    pub dist: PathBuf,
    /// Largest accepted request body.
    #[arg(long, default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Most systems one user may run at a time (0: no limit).
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
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            namespace: "default".into(),
            policy: Policy::default(),
            auth: Auth::Insecure,
            max_body_bytes: 1024 * 1024,
            max_systems_per_user: 10,
            max_concurrent_starts: 16,
            dist: None,
            events_interval: Duration::from_secs(2),
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
        let auth = if let Some(path) = &args.tokens {
            Auth::tokens(load_tokens(path)?)
        } else if let Some(header) = &args.trusted_proxy_header {
            Auth::trusted_proxy(header, &args.admins)?
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
        Ok(Settings {
            namespace,
            policy,
            auth,
            max_body_bytes: args.max_body_bytes,
            max_systems_per_user: args.max_systems_per_user,
            max_concurrent_starts: args.max_concurrent_starts.max(1),
            dist,
            events_interval: Duration::from_millis(args.events_interval_ms.max(100)),
        })
    }
}

fn read(path: &Path) -> Result<String, ServerError> {
    std::fs::read_to_string(path).map_err(|source| ServerError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Reads a policy file, JSON or YAML.
pub fn load_policy(path: &Path) -> Result<Policy, ServerError> {
    parse_policy(&read(path)?).map_err(|message| ServerError::Parse {
        path: path.display().to_string(),
        message,
    })
}

pub fn parse_policy(text: &str) -> Result<Policy, String> {
    if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(|e| e.to_string())
    } else if text.trim().is_empty() {
        Ok(Policy::default())
    } else {
        serde_saphyr::from_str(text).map_err(|e| e.to_string())
    }
}

/// Reads a tokens file.
pub fn load_tokens(path: &Path) -> Result<Vec<TokenEntry>, ServerError> {
    parse_tokens(&read(path)?).map_err(|message| ServerError::Parse {
        path: path.display().to_string(),
        message,
    })
}

/// Tokens as `token,user[,admin]` lines or a YAML/JSON list of `{token, user, admin}`.
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
    fn policy_json_or_yaml() {
        let p = parse_policy("{\"allow_root\": true}").unwrap();
        assert!(p.allow_root);
        let p = parse_policy("max_resources:\n  cpu: \"2\"\n  memory: 4Gi\n").unwrap();
        assert_eq!(p.max_resources.cpu, "2");
        assert!(parse_policy("nope: 1").is_err());
        assert_eq!(parse_policy("").unwrap(), Policy::default());
    }
}
