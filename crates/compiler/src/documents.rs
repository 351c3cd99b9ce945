//! A plan's objects one by one as YAML ([`Document`]: kind, name, text), for previews that show
//! a tab per object. Joined ([`Document::join`]) they are [`Plan::to_yaml`], byte for byte.

use crate::plan::Plan;
pub use tycho_api::document::Document;

impl Plan {
    /// The objects in [`Plan::objects`] order, each as its own YAML document.
    pub fn documents(&self) -> Vec<Document> {
        self.to_json_objects().iter().map(document).collect()
    }
}

fn document(object: &serde_json::Value) -> Document {
    let text = |value: &serde_json::Value| value.as_str().unwrap_or_default().to_string();
    let yaml = tycho_yaml::render::documents(std::slice::from_ref(object));
    Document {
        kind: text(&object["kind"]),
        name: text(&object["metadata"]["name"]),
        // `documents` starts every document with its `---` line.
        yaml: yaml
            .strip_prefix("---\n")
            .map(str::to_string)
            .unwrap_or(yaml),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CompileOptions, Policy};

    #[test]
    fn one_document_per_object_that_join_into_the_yaml() {
        let text = "services:\n  web:\n    image: nginx\n    ports: [\"8080:80\"]\n    volumes: [data:/data]\nvolumes:\n  data: {}\n";
        let mut policy = Policy::default();
        policy.connect.mode = crate::ConnectMode::Ingress;
        let options = CompileOptions {
            name: "demo".into(),
            guid: "abc".into(),
            policy,
            ..CompileOptions::default()
        };
        let plan = crate::compile(text, &options).plan.expect("compiles");
        let documents = plan.documents();
        let objects = plan.objects();
        let kinds: Vec<(&str, &str)> = objects.iter().map(|o| (o.kind(), o.name())).collect();
        let read: Vec<(&str, &str)> = documents
            .iter()
            .map(|d| (d.kind.as_str(), d.name.as_str()))
            .collect();
        assert_eq!(read, kinds);
        assert!(
            kinds
                .iter()
                .any(|(kind, _)| *kind == "PersistentVolumeClaim")
        );
        assert!(kinds.iter().any(|(kind, _)| *kind == "Ingress"));
        assert!(documents.iter().all(|d| !d.yaml.starts_with("---")));
        assert!(
            documents[documents.len() - 1]
                .yaml
                .contains("kind: Deployment\n")
        );
        assert_eq!(Document::join(&documents), plan.to_yaml());
    }
}
