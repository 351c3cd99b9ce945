//! The few Gateway API (`gateway.networking.k8s.io/v1`) types Tycho emits. k8s-openapi has
//! none (they are CRDs), so these are small serde structs with only the fields we write; names
//! and shapes follow the `HTTPRoute` CRD of Gateway API v1.x (standard channel).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::{Deserialize, Serialize};

/// `apiVersion` of [`HttpRoute`].
pub const API_VERSION: &str = "gateway.networking.k8s.io/v1";
pub const GROUP: &str = "gateway.networking.k8s.io";
pub const VERSION: &str = "v1";
pub const KIND: &str = "HTTPRoute";
pub const PLURAL: &str = "httproutes";

/// An `HTTPRoute`: traffic a Gateway receives for some hostnames and paths, sent to a Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRoute {
    /// Always [`API_VERSION`].
    pub api_version: String,
    /// Always [`KIND`].
    pub kind: String,
    pub metadata: ObjectMeta,
    pub spec: HttpRouteSpec,
}

impl HttpRoute {
    pub fn new(metadata: ObjectMeta, spec: HttpRouteSpec) -> Self {
        HttpRoute {
            api_version: API_VERSION.into(),
            kind: KIND.into(),
            metadata,
            spec,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    pub parent_refs: Vec<ParentReference>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hostnames: Vec<String>,
    pub rules: Vec<HttpRouteRule>,
}

/// A Gateway (group `gateway.networking.k8s.io`, kind `Gateway`: the defaults, not written).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    pub matches: Vec<HttpRouteMatch>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<HttpRouteFilter>,
    pub backend_refs: Vec<HttpBackendRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpRouteMatch {
    pub path: HttpPathMatch,
}

/// `{type: PathPrefix, value: /connect/<guid>/}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpPathMatch {
    #[serde(rename = "type")]
    pub type_: String,
    pub value: String,
}

/// Only `URLRewrite` is emitted.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteFilter {
    #[serde(rename = "type")]
    pub type_: String,
    #[serde(
        rename = "urlRewrite",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub url_rewrite: Option<HttpUrlRewriteFilter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpUrlRewriteFilter {
    pub path: HttpPathModifier,
}

/// `{type: ReplacePrefixMatch, replacePrefixMatch: /}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpPathModifier {
    #[serde(rename = "type")]
    pub type_: String,
    pub replace_prefix_match: String,
}

/// A Service in the route's namespace (group `""`, kind `Service`: the defaults, not written).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct HttpBackendRef {
    pub name: String,
    pub port: u16,
}
