//! Which Tycho server to talk to and as whom: the `--server`/`--token`/`--config` flags, the
//! config file, in-cluster discovery, and the [`Client`] built from them.
//!
//! The server is `--server`, else `$TYCHO_URL`, else `server` in the config file, else (inside a
//! Kubernetes pod) the `tycho-api` Service of the pod's namespace, else
//! `http://localhost:8099`. The token is `--token`, else `$TYCHO_TOKEN`, else `token` in the
//! config file (`$TYCHO_CONFIG`, default `~/.config/tycho/config.toml`).

use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tycho_client::Client;

use crate::error::CliError;

/// Where the server is and who we are.
#[derive(Args, Debug, Clone)]
pub struct Connection {
    /// Tycho server URL [default: the config file's, the in-cluster `tycho-api` Service, or
    /// http://localhost:8099].
    #[arg(short = 's', long, env = "TYCHO_URL", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token [default: the config file's `token`].
    #[arg(long, env = "TYCHO_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Config file with `server = "…"` and `token = "…"` [default:
    /// ~/.config/tycho/config.toml].
    #[arg(long, env = "TYCHO_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl Connection {
    /// The client for these flags (config file and discovery as the module docs say). A bad
    /// config file or server URL is a usage error.
    pub async fn client(&self) -> Result<Client, CliError> {
        let config = load_config(self.config.as_deref())?;
        let server = match self.server.clone().or(config.server) {
            Some(s) => s,
            None => discover_in_cluster()
                .await
                .unwrap_or_else(|| tycho_client::DEFAULT_URL.to_string()),
        };
        Client::builder(server)
            .maybe_token(self.token.clone().or(config.token))
            .build()
            .map_err(|e| CliError::Usage(e.to_string()))
    }
}

/// The config file's contents.
#[derive(Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    pub server: Option<String>,
    pub token: Option<String>,
}

fn config_path(explicit: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = explicit {
        return Some(p.to_path_buf());
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))?;
    Some(base.join("tycho").join("config.toml"))
}

fn load_config(explicit: Option<&Path>) -> Result<ConfigFile, CliError> {
    let Some(path) = config_path(explicit) else {
        return Ok(ConfigFile::default());
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            toml::from_str(&text).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
        }
        // Only a file named explicitly must exist.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && explicit.is_none() => {
            Ok(ConfigFile::default())
        }
        Err(e) => Err(CliError::Usage(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// The `tycho-api` Service's URL when this runs in a pod; `None` elsewhere or when not found.
async fn discover_in_cluster() -> Option<String> {
    std::env::var_os("KUBERNETES_SERVICE_HOST")?;
    let config = kube::Config::incluster().ok()?;
    let namespace = config.default_namespace.clone();
    let client = kube::Client::try_from(config).ok()?;
    let services: kube::Api<k8s_openapi::api::core::v1::Service> =
        kube::Api::namespaced(client, &namespace);
    // kube retries 503s for minutes; discovery must not hang the command.
    let service = tokio::time::timeout(Duration::from_secs(5), services.get("tycho-api"))
        .await
        .ok()?
        .ok()?;
    service_url(&service, &namespace)
}

/// `http://tycho-api.<namespace>.svc:<port>` from the Service's first port.
pub fn service_url(
    service: &k8s_openapi::api::core::v1::Service,
    namespace: &str,
) -> Option<String> {
    let port = service.spec.as_ref()?.ports.as_ref()?.first()?.port;
    let name = service.metadata.name.as_deref()?;
    Some(format!("http://{name}.{namespace}.svc:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_files() {
        let dir = std::env::temp_dir().join(format!("tycho-cli-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("config.toml");
        std::fs::write(&path, "server = \"http://x:1\"\ntoken = \"secret-token\"\n").unwrap();
        let c = load_config(Some(&path)).unwrap();
        assert_eq!(c.server.as_deref(), Some("http://x:1"));
        assert_eq!(c.token.as_deref(), Some("secret-token"));
        std::fs::write(&path, "serve = 1\n").unwrap();
        assert!(
            load_config(Some(&path)).is_err(),
            "unknown keys are refused"
        );
        assert!(load_config(Some(&dir.join("missing.toml"))).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn in_cluster_service_url() {
        let service: k8s_openapi::api::core::v1::Service = serde_json::from_value(
            serde_json::json!({"metadata": {"name": "tycho-api"}, "spec": {"ports": [{"port": 8099}]}}),
        )
        .unwrap();
        assert_eq!(
            service_url(&service, "tycho").as_deref(),
            Some("http://tycho-api.tycho.svc:8099")
        );
        let no_ports: k8s_openapi::api::core::v1::Service =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "tycho-api"}})).unwrap();
        assert_eq!(service_url(&no_ports, "tycho"), None);
    }
}
