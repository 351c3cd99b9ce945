//! The Ambassador `Mapping` (`connect.mode: ambassador`, the original Tycho's edge): not an
//! object of its own but YAML in the Service's `getambassador.io/config` annotation, which
//! Ambassador reads.

use super::identity::Identity;
use crate::connect::{ConnectTarget, Rewrite};
use serde_json::json;

/// An Ambassador `Mapping` under `/private/<app>/<user>/<guid>/` (the target's path), as the
/// original Tycho wrote it: one YAML document starting with `---`. Built as a JSON value and
/// rendered by the YAML writer, so a username (or any value) stays one quoted scalar and
/// cannot add keys.
pub(crate) fn mapping(identity: &Identity, username: &str, target: &ConnectTarget) -> String {
    let rewrite = match &target.rewrite {
        Rewrite::Keep => target.path.clone(),
        Rewrite::Strip => "/".into(),
        Rewrite::Target(path) => path.clone(),
    };
    let service = &identity.object_name;
    let namespace = identity
        .namespace
        .as_deref()
        .map(|ns| format!(".{ns}"))
        .unwrap_or_default();
    let mapping = json!({
        "apiVersion": "ambassador/v1",
        "kind": "Mapping",
        "name": format!("{service}-mapping"),
        "prefix": target.path,
        "headers": {"remote_user": username},
        "service": format!("{service}{namespace}:{}", target.port),
        "rewrite": rewrite,
        "use_websocket": true,
        "timeout_ms": 300000,
        "idle_timeout_ms": 600000,
    });
    tycho_yaml::render::documents(&[mapping])
}
