//! What the compiler reports beside the Kubernetes objects: the ports a system publishes, the
//! compose keys it did not translate, and what the pod asks for. The compiler makes them, the
//! REST API (`/api/v1/compile`, a start's answer, status) and the wasm package carry them.
//!
//! The Deployment keeps two of them in annotations, which status reads back:
//! `tycho.io/ports` ([`PublishedPort::to_annotation`]) and `tycho.io/resources`
//! ([`Resources::to_annotation`]). Those texts are stored in clusters, so their bytes do not
//! change with the wire's casing.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

/// A port published on the system's Service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// The name the OpenAPI document has always given it.
#[cfg_attr(feature = "openapi", schema(as = PortInfo))]
pub struct PublishedPort {
    /// The compose service (container) that listens.
    pub service: String,
    // `containerPort`: how the `tycho.io/ports` annotation spells it.
    #[serde(alias = "containerPort")]
    pub container_port: u16,
    /// Port on the Kubernetes Service.
    pub port: u16,
    /// `TCP`, `UDP` or `SCTP`.
    pub protocol: String,
}

impl PublishedPort {
    /// The Deployment's `tycho.io/ports` annotation: the ports as a JSON list in Kubernetes'
    /// casing, `[{"service","containerPort","port","protocol"}]`, as clusters already hold it.
    pub fn to_annotation(ports: &[PublishedPort]) -> String {
        /// One port with the annotation's field names (a serialisation, not another type).
        struct KubeCased<'a>(&'a PublishedPort);
        impl Serialize for KubeCased<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut port = serializer.serialize_struct("PublishedPort", 4)?;
                port.serialize_field("service", &self.0.service)?;
                port.serialize_field("containerPort", &self.0.container_port)?;
                port.serialize_field("port", &self.0.port)?;
                port.serialize_field("protocol", &self.0.protocol)?;
                port.end()
            }
        }
        let ports: Vec<KubeCased> = ports.iter().map(KubeCased).collect();
        serde_json::to_string(&ports).unwrap_or_default()
    }

    /// The ports in a `tycho.io/ports` annotation; none when it is not such a list.
    pub fn from_annotation(text: &str) -> Vec<PublishedPort> {
        serde_json::from_str(text).unwrap_or_default()
    }
}

/// A compose key that was accepted but has no Kubernetes translation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// The name the OpenAPI document has always given it.
#[cfg_attr(feature = "openapi", schema(as = NotTranslatedInfo))]
pub struct NotTranslated {
    /// The compose key, e.g. `networks` or `build`.
    pub key: String,
    /// JSON Pointer of the key.
    pub path: String,
    pub line: usize,
    pub column: usize,
    /// Why, in plain words.
    pub reason: String,
}

/// CPU and memory as Kubernetes quantities (`"500m"`, `"2Gi"`; empty means "no value") and a
/// GPU count: what the whole pod asks for (the `tycho.io/resources` annotation, a system's
/// status), and the policy's defaults and maxima.
// Keys it does not know are ignored, so annotations and status written by another version still
// read; the policy refuses them in its own blocks (the compiler's `strict_keys`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Resources {
    #[serde(default)]
    pub cpu: String,
    #[serde(default)]
    pub memory: String,
    #[serde(default)]
    pub gpus: u32,
}

impl Resources {
    /// The Deployment's `tycho.io/resources` annotation: `{"cpu","gpus","memory"}`, keys in
    /// alphabetical order as clusters already hold it.
    pub fn to_annotation(&self) -> String {
        // Through a `Value`, whose map sorts its keys (the field order would put `memory` second).
        serde_json::to_value(self)
            .map(|value| value.to_string())
            .unwrap_or_default()
    }

    /// The resources in a `tycho.io/resources` annotation; the empty default when it is not one.
    pub fn from_annotation(text: &str) -> Resources {
        serde_json::from_str(text).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn web() -> PublishedPort {
        PublishedPort {
            service: "web".into(),
            container_port: 8080,
            port: 80,
            protocol: "TCP".into(),
        }
    }

    #[test]
    fn ports_are_snake_case_on_the_wire_and_kube_cased_in_the_annotation() {
        let wire = serde_json::to_string(&web()).unwrap();
        assert_eq!(
            wire,
            r#"{"service":"web","container_port":8080,"port":80,"protocol":"TCP"}"#
        );
        let annotation = PublishedPort::to_annotation(&[web()]);
        assert_eq!(
            annotation,
            r#"[{"service":"web","containerPort":8080,"port":80,"protocol":"TCP"}]"#
        );
        assert_eq!(PublishedPort::from_annotation(&annotation), vec![web()]);
        assert_eq!(
            PublishedPort::from_annotation(&format!("[{wire}]")),
            vec![web()]
        );
        assert!(PublishedPort::from_annotation("not json").is_empty());
    }

    #[test]
    fn resources_annotation_sorts_its_keys() {
        let r = Resources {
            cpu: "250m".into(),
            memory: "256Mi".into(),
            gpus: 1,
        };
        let annotation = r.to_annotation();
        assert_eq!(annotation, r#"{"cpu":"250m","gpus":1,"memory":"256Mi"}"#);
        assert_eq!(Resources::from_annotation(&annotation), r);
        assert_eq!(Resources::from_annotation("{}"), Resources::default());
        // Another version's annotation, with a key this one does not know, still reads.
        assert_eq!(
            Resources::from_annotation(r#"{"cpu":"250m","gpus":1,"memory":"256Mi","disk":"1Gi"}"#),
            r
        );
    }
}
