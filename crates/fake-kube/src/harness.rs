//! One test, two backends: the fake by default, a real cluster when `TYCHO_TEST_KUBECONFIG`
//! names a kubeconfig. Each test gets its own namespace either way, so tests behave the same.

use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::FakeKube;
use crate::util::Rng;

const KUBECONFIG_ENV: &str = "TYCHO_TEST_KUBECONFIG";
const REQUIRE_ENV: &str = "TYCHO_TEST_REQUIRE_CLUSTER";

/// A cluster for one test: `client` defaults to `namespace`, which is fresh and private to
/// the test. `fake` is set when running against [`FakeKube`]. `kubeconfig_yaml` lets a spawned
/// binary reach the same cluster (for the real cluster it is the file's content, so its
/// context namespace is not the test namespace: pass `namespace` explicitly).
pub struct TestCluster {
    pub client: kube::Client,
    pub namespace: String,
    pub fake: Option<FakeKube>,
    pub kubeconfig_yaml: String,
}

/// `tycho-test-<sanitised name>-<5 random chars>`, a DNS-1123 label of at most 63 characters.
pub(crate) fn namespace_name(test_name: &str, suffix: &str) -> String {
    let mut clean = String::new();
    for c in test_name.chars().map(|c| c.to_ascii_lowercase()) {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && (clean.is_empty() || clean.ends_with('-'))) {
            clean.push(c);
        }
    }
    let max = 63 - "tycho-test-".len() - 1 - suffix.len();
    clean.truncate(max);
    let clean = clean.trim_end_matches('-');
    let clean = if clean.is_empty() { "t" } else { clean };
    format!("tycho-test-{clean}-{suffix}")
}

async fn create_namespace(client: &kube::Client, name: &str) {
    let ns: Namespace = serde_json::from_value(serde_json::json!({
        "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "tycho-tests"}}
    }))
    .expect("namespace literal is valid");
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &ns)
        .await
        .unwrap_or_else(|e| panic!("TestCluster: cannot create namespace {name}: {e}"));
}

impl TestCluster {
    pub async fn start(test_name: &str) -> TestCluster {
        let namespace = namespace_name(test_name, &Rng::seeded().suffix(5));
        match std::env::var(KUBECONFIG_ENV)
            .ok()
            .filter(|p| !p.trim().is_empty())
        {
            Some(path) => Self::real(&path, namespace).await,
            None => {
                if std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1") {
                    panic!(
                        "{REQUIRE_ENV}=1 but {KUBECONFIG_ENV} is not set: point {KUBECONFIG_ENV} at a kubeconfig for a test cluster, or unset {REQUIRE_ENV} to use the in-process fake"
                    );
                }
                let fake = FakeKube::start().await;
                let client = fake.client_in(&namespace);
                create_namespace(&client, &namespace).await;
                let kubeconfig_yaml = fake.kubeconfig_yaml(&namespace);
                TestCluster {
                    client,
                    namespace,
                    fake: Some(fake),
                    kubeconfig_yaml,
                }
            }
        }
    }

    async fn real(path: &str, namespace: String) -> TestCluster {
        let kubeconfig_yaml = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("{KUBECONFIG_ENV}={path}: cannot read: {e}"));
        let kubeconfig =
            Kubeconfig::read_from(path).unwrap_or_else(|e| panic!("{KUBECONFIG_ENV}={path}: {e}"));
        let mut config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap_or_else(|e| panic!("{KUBECONFIG_ENV}={path}: {e}"));
        config.default_namespace = namespace.clone();
        let client = kube::Client::try_from(config)
            .unwrap_or_else(|e| panic!("{KUBECONFIG_ENV}={path}: {e}"));
        create_namespace(&client, &namespace).await;
        TestCluster {
            client,
            namespace,
            fake: None,
            kubeconfig_yaml,
        }
    }

    /// Deletes the test namespace (and so everything in it). On a real cluster the deletion
    /// finishes asynchronously; this does not wait for it.
    pub async fn cleanup(self) {
        let api = Api::<Namespace>::all(self.client.clone());
        match api
            .delete(&self.namespace, &DeleteParams::background())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => panic!(
                "TestCluster: cannot delete namespace {}: {e}",
                self.namespace
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::namespace_name;

    #[test]
    fn namespace_names_are_dns_labels() {
        assert_eq!(
            namespace_name("my_test::Case 1", "abcde"),
            "tycho-test-my-test-case-1-abcde"
        );
        let long = namespace_name(&"x".repeat(100), "abcde");
        assert_eq!(long.len(), 63);
        assert_eq!(namespace_name("__", "abcde"), "tycho-test-t-abcde");
        assert!(crate::validate::dns1123_label(&long).is_empty());
    }
}
