//! One Kubernetes object of a compiled system as YAML, for previews: a tab per object instead
//! of the whole multi-document file (which is the documents, each after a `---` line).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    /// The object's `kind`: `Deployment`, `Service`, `PersistentVolumeClaim`, `HTTPRoute`, …
    pub kind: String,
    /// Its `metadata.name`.
    pub name: String,
    /// The object as YAML, without the `---` line.
    pub yaml: String,
}

impl Document {
    /// The documents as one multi-document YAML file, each after a `---` line.
    pub fn join(documents: &[Document]) -> String {
        let mut out = String::with_capacity(documents.iter().map(|d| d.yaml.len() + 4).sum());
        for document in documents {
            out.push_str("---\n");
            out.push_str(&document.yaml);
        }
        out
    }
}
