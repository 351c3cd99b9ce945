//! What every object of one system shares: its name, GUID and object name, the namespace, the
//! labels that mark it as Tycho's (and select its pods), and the user's annotations.
//!
//! Every builder of a Kubernetes object starts from [`Identity::meta`], so all objects of a
//! system carry the same labels and the label selector of a system is written once.

use crate::connect;
use crate::diagnostic::{self, Diagnostic};
use crate::labels;
use crate::model::{Annotation, System};
use crate::names::{MAX_GUID, MAX_SYSTEM_NAME};
use crate::names::{is_dns_label, is_guid};
use crate::options::CompileOptions;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use std::collections::BTreeMap;

/// What every object of one system shares.
pub(crate) struct Identity {
    pub name: String,
    pub guid: String,
    /// The owner exactly as given (names of the claims that follow the user derive from it).
    pub username: String,
    pub object_name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `TYCHO_BASE_PATH` (see [`crate::connect::base_path`]).
    pub base_path: String,
}

impl Identity {
    /// Metadata for an object of this system, named `name`.
    pub fn meta(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: self.namespace.clone(),
            labels: Some(self.labels.clone()),
            ..Default::default()
        }
    }

    /// The labels that select this system's pods.
    pub fn selector(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(labels::GUID.to_string(), self.guid.clone())])
    }
}

/// The system's identity, with an option error for a name or GUID Kubernetes would refuse.
pub(crate) fn identity(
    system: &System,
    text: &str,
    options: &CompileOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> Identity {
    let name = system_name(options, system.name.as_deref());
    if name.len() > MAX_SYSTEM_NAME || !is_dns_label(&name) {
        diagnostics.push(diagnostic::option_error(format!(
            "system name `{name}` must be at most {MAX_SYSTEM_NAME} lowercase letters, digits or `-`, starting and ending with a letter or digit"
        )));
    } else if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        diagnostics.push(diagnostic::option_error(format!(
            "system name `{name}` must start with a letter (it names a Kubernetes Service)"
        )));
    }
    let guid = system_guid(text, &name, options);
    if !is_guid(&guid) {
        diagnostics.push(diagnostic::option_error(format!(
            "GUID `{guid}` must be at most {MAX_GUID} lowercase letters and digits"
        )));
    }
    let object_name = format!("{name}-{guid}");
    let labels = BTreeMap::from([
        (
            labels::EXECUTOR.to_string(),
            labels::EXECUTOR_VALUE.to_string(),
        ),
        (labels::GUID.to_string(), guid.clone()),
        (
            labels::USERNAME.to_string(),
            labels::username_label(&options.username),
        ),
        (labels::NAME.to_string(), name.clone()),
        (labels::INSTANCE.to_string(), object_name.clone()),
        (
            labels::MANAGED_BY.to_string(),
            labels::MANAGED_BY_VALUE.to_string(),
        ),
    ]);
    let namespace = (!options.namespace.is_empty()).then(|| options.namespace.clone());
    let base_path = connect::base_path(&options.policy, &name, &options.username, &guid);
    Identity {
        name,
        guid,
        username: options.username.clone(),
        object_name,
        namespace,
        labels,
        base_path,
    }
}

/// The system name: the option, else the file's top-level `name:` (interpolated), else `system`.
pub(crate) fn system_name(options: &CompileOptions, top_name: Option<&str>) -> String {
    [options.name.as_str(), top_name.unwrap_or("")]
        .into_iter()
        .find(|n| !n.is_empty())
        .unwrap_or("system")
        .to_string()
}

/// The GUID: the option, else one derived from the text and the name.
pub(crate) fn system_guid(text: &str, name: &str, options: &CompileOptions) -> String {
    if options.guid.is_empty() {
        crate::names::content_guid(text, name)
    } else {
        options.guid.clone()
    }
}

/// The user's annotations of one object (compose `labels:`: a service's go to the pod, a
/// volume's to its claim); a key given twice keeps its last value.
pub(crate) fn annotation_map<'a>(
    annotations: impl IntoIterator<Item = &'a Annotation>,
) -> BTreeMap<String, String> {
    annotations
        .into_iter()
        .map(|a| (a.key.clone(), a.value.clone()))
        .collect()
}
