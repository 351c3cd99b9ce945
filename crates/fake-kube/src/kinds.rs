//! The resource types the fake serves, with the naming facts the real server derives from them.

#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Kind {
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    /// "" for the core (legacy) group.
    pub group: &'static str,
    pub version: &'static str,
    pub namespaced: bool,
    /// Kinds with a status subresource: writes to the main resource leave `.status` alone.
    pub has_status: bool,
    /// Kinds whose `metadata.generation` tracks spec changes.
    pub has_generation: bool,
}

impl Kind {
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps` / `services`: how the server names a resource in messages.
    pub(crate) fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Deployment.apps` / `Service`: how the server names a kind in Invalid messages.
    pub(crate) fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }
}

const fn k(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    group: &'static str,
    namespaced: bool,
    has_status: bool,
    has_generation: bool,
) -> Kind {
    Kind {
        plural,
        singular,
        kind,
        group,
        version: "v1",
        namespaced,
        has_status,
        has_generation,
    }
}

pub(crate) static NAMESPACES: Kind = k(
    "namespaces",
    "namespace",
    "Namespace",
    "",
    false,
    true,
    false,
);
pub(crate) static PODS: Kind = k("pods", "pod", "Pod", "", true, true, false);
pub(crate) static SERVICES: Kind = k("services", "service", "Service", "", true, true, false);
pub(crate) static PVCS: Kind = k(
    "persistentvolumeclaims",
    "persistentvolumeclaim",
    "PersistentVolumeClaim",
    "",
    true,
    true,
    false,
);
pub(crate) static EVENTS: Kind = k("events", "event", "Event", "", true, false, false);
pub(crate) static CONFIGMAPS: Kind = k(
    "configmaps",
    "configmap",
    "ConfigMap",
    "",
    true,
    false,
    false,
);
pub(crate) static SECRETS: Kind = k("secrets", "secret", "Secret", "", true, false, false);
pub(crate) static SERVICEACCOUNTS: Kind = k(
    "serviceaccounts",
    "serviceaccount",
    "ServiceAccount",
    "",
    true,
    false,
    false,
);
pub(crate) static DEPLOYMENTS: Kind = k(
    "deployments",
    "deployment",
    "Deployment",
    "apps",
    true,
    true,
    true,
);
pub(crate) static REPLICASETS: Kind = k(
    "replicasets",
    "replicaset",
    "ReplicaSet",
    "apps",
    true,
    true,
    true,
);
pub(crate) static NETWORKPOLICIES: Kind = k(
    "networkpolicies",
    "networkpolicy",
    "NetworkPolicy",
    "networking.k8s.io",
    true,
    false,
    true,
);

pub(crate) static INGRESSES: Kind = k(
    "ingresses",
    "ingress",
    "Ingress",
    "networking.k8s.io",
    true,
    true,
    true,
);
pub(crate) static STORAGECLASSES: Kind = k(
    "storageclasses",
    "storageclass",
    "StorageClass",
    "storage.k8s.io",
    false,
    false,
    false,
);
/// A CRD on a real cluster (Gateway API, standard channel); served as if installed.
pub(crate) static HTTPROUTES: Kind = k(
    "httproutes",
    "httproute",
    "HTTPRoute",
    "gateway.networking.k8s.io",
    true,
    true,
    true,
);

/// Leader election (the server's singleton tasks): no status, no generation; updates without a
/// `resourceVersion` are allowed, stale ones are 409 as for every kind.
pub(crate) static LEASES: Kind = k(
    "leases",
    "lease",
    "Lease",
    "coordination.k8s.io",
    true,
    false,
    false,
);

pub(crate) static ALL: [&Kind; 15] = [
    &NAMESPACES,
    &PODS,
    &SERVICES,
    &PVCS,
    &EVENTS,
    &CONFIGMAPS,
    &SECRETS,
    &SERVICEACCOUNTS,
    &DEPLOYMENTS,
    &REPLICASETS,
    &NETWORKPOLICIES,
    &INGRESSES,
    &HTTPROUTES,
    &STORAGECLASSES,
    &LEASES,
];

pub(crate) fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static Kind> {
    ALL.iter()
        .copied()
        .find(|k| k.group == group && k.version == version && k.plural == plural)
}

pub(crate) fn by_plural(plural: &str) -> Option<&'static Kind> {
    ALL.iter().copied().find(|k| k.plural == plural)
}
