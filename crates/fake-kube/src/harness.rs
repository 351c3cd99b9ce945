//! One test, two backends: the fake by default, a real cluster when `TYCHO_TEST_KUBECONFIG`
//! names a kubeconfig. Each test gets its own namespace either way, so tests behave the same.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
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
///
/// Call [`TestCluster::cleanup`] at the end of the test; if the test panics first, dropping the
/// value removes a real cluster's namespace all the same.
///
/// # Running the suite against a real cluster
///
/// Any kind or k3s cluster with default settings works (the kubeconfig's current context is
/// used; keep certificates embedded, as kind and k3s write them, since the harness test reads
/// the file's text back from another directory). Nodes must pull from Docker Hub (the tests
/// run `nginxinc/nginx-unprivileged`, which runs as non-root as Tycho's policy requires) and
/// fail to resolve `registry.invalid` (the image-pull failure tests). One small node is meant
/// to do: the server's API tests, which start up to twenty systems at once, ask for 10m CPU per
/// pod (and the default 256Mi); the others start at most three at a time, at Tycho's defaults.
///
/// ```sh
/// TYCHO_TEST_KUBECONFIG=$HOME/.kube/config TYCHO_TEST_REQUIRE_CLUSTER=1 \
///   cargo test -p tycho-fake-kube -p tycho-server -p tycho-client -p tycho-cli
/// ```
///
/// `TYCHO_TEST_REQUIRE_CLUSTER=1` makes a missing kubeconfig an error instead of a silent fall
/// back to the fake. Tests that need fault injection or request counting start
/// [`TestCluster::start_fake`] and so run against the fake in this mode too.
///
/// The kubeconfig's user needs, cluster-wide (every test makes a namespace with a random name,
/// so a namespaced Role cannot be bound in advance; `cluster-admin` is the simple choice):
///
/// - `namespaces`: create, delete, get (the server's readiness check asks for its namespace);
/// - `serviceaccounts`: get (the harness waits for the namespace's `default` one);
/// - `deployments` (apps), `services`, `networkpolicies` (networking.k8s.io),
///   `persistentvolumeclaims`, `configmaps`, `secrets`: create, get, list, delete,
///   deletecollection; `deployments`: patch too (a start scales its Deployment up last);
/// - `replicasets` (apps), `events`: list; `pods`: create, get, list, delete (tests make pods
///   directly); `configmaps`: create, list (the harness test); `leases`
///   (coordination.k8s.io): create, get, update (the server's singleton Lease).
///
/// Each namespace is labelled `app.kubernetes.io/managed-by=tycho-tests` and deleted when the
/// test ends, also when it panics. A run killed from outside leaves its namespaces behind:
/// `kubectl delete namespace -l app.kubernetes.io/managed-by=tycho-tests` removes them.
pub struct TestCluster {
    pub client: kube::Client,
    pub namespace: String,
    pub fake: Option<FakeKube>,
    pub kubeconfig_yaml: String,
    /// How to reach the real cluster again from `Drop` (whose runtime may be gone or busy);
    /// `None` for the fake, or once `cleanup` has run.
    real_config: Option<kube::Config>,
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
                Self::fake_in(namespace).await
            }
        }
    }

    /// Always the in-process fake, whatever `TYCHO_TEST_KUBECONFIG` says: for tests that inject
    /// faults, set pod behaviours or count API requests, which a real cluster cannot do. Such a
    /// test runs and asserts on every run instead of being skipped on a real cluster.
    pub async fn start_fake(test_name: &str) -> TestCluster {
        Self::fake_in(namespace_name(test_name, &Rng::seeded().suffix(5))).await
    }

    async fn fake_in(namespace: String) -> TestCluster {
        let fake = FakeKube::start().await;
        let client = fake.client_in(&namespace);
        create_namespace(&client, &namespace).await;
        let kubeconfig_yaml = fake.kubeconfig_yaml(&namespace);
        TestCluster {
            client,
            namespace,
            fake: Some(fake),
            kubeconfig_yaml,
            real_config: None,
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
        let client = kube::Client::try_from(config.clone())
            .unwrap_or_else(|e| panic!("{KUBECONFIG_ENV}={path}: {e}"));
        create_namespace(&client, &namespace).await;
        let cluster = TestCluster {
            client,
            namespace,
            fake: None,
            kubeconfig_yaml,
            real_config: Some(config),
        };
        cluster.wait_for_default_service_account().await;
        cluster
    }

    /// A real cluster's controller adds the `default` ServiceAccount to a new namespace a moment
    /// after it is created, and until then admission refuses every pod ("serviceaccount default
    /// not found"): a Deployment would retry with back-off and a test would see `FailedCreate`
    /// events and a slow start. So wait for it, as the Kubernetes e2e framework does.
    async fn wait_for_default_service_account(&self) {
        let accounts = Api::<ServiceAccount>::namespaced(self.client.clone(), &self.namespace);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match accounts.get_opt("default").await {
                Ok(Some(_)) => return,
                Ok(None) => {}
                Err(e) => panic!(
                    "TestCluster: cannot read the default ServiceAccount of {}: {e}",
                    self.namespace
                ),
            }
            assert!(
                Instant::now() < deadline,
                "TestCluster: namespace {} has no default ServiceAccount after 60 s",
                self.namespace
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Deletes the test namespace (and so everything in it). On a real cluster the deletion
    /// finishes asynchronously; this does not wait for it.
    pub async fn cleanup(mut self) {
        // Done here, so `Drop` has nothing left to do.
        self.real_config = None;
        if let Err(e) = delete_namespace(self.client.clone(), &self.namespace).await {
            panic!(
                "TestCluster: cannot delete namespace {}: {e}",
                self.namespace
            );
        }
    }
}

/// Deletes `namespace` without waiting for it to go; one already gone is fine.
async fn delete_namespace(client: kube::Client, namespace: &str) -> Result<(), kube::Error> {
    match Api::<Namespace>::all(client)
        .delete(namespace, &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}

impl Drop for TestCluster {
    /// A test that panicked before `cleanup` would leave its namespace, and the pods in it,
    /// on the real cluster. The fake needs nothing: it ends with the test's runtime.
    fn drop(&mut self) {
        let Some(config) = self.real_config.take() else {
            return;
        };
        let namespace = self.namespace.clone();
        eprintln!("TestCluster: the test ended without cleanup(); deleting namespace {namespace}");
        // `drop` cannot await, and the test's runtime is the one running it: delete from a
        // fresh runtime (and a fresh client, since `self.client` is bound to the test's) on
        // another thread, and wait for the answer.
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
                delete_namespace(client, &namespace)
                    .await
                    .map_err(|e| e.to_string())
            })
        })
        .join();
        match deleted {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!(
                "TestCluster: cannot delete namespace {}: {e}",
                self.namespace
            ),
            Err(_) => eprintln!(
                "TestCluster: deleting namespace {} panicked",
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
