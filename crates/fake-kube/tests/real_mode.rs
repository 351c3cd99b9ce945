//! The harness's real-cluster path (`TYCHO_TEST_KUBECONFIG` set), run against a fake that
//! plays the real cluster: no real cluster exists on the development machines, and this path
//! is otherwise never run there. Its own test binary, because it sets the process environment.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, ListParams, PostParams};
use tycho_fake_kube::{FakeKube, TestCluster};

/// A fake on a runtime of its own, so it keeps answering while the test's runtime is blocked in
/// `TestCluster`'s `Drop`. Beside it runs the one controller the harness waits for: like a real
/// cluster's, it adds a `default` ServiceAccount to each namespace a moment after its creation.
fn fake_cluster_on_its_own_thread() -> FakeKube {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().expect("a runtime for the fake");
        runtime.block_on(async move {
            let fake = FakeKube::start().await;
            let client = fake.client();
            tx.send(fake).expect("the test waits for the fake");
            loop {
                tokio::time::sleep(Duration::from_millis(300)).await;
                add_default_service_accounts(&client).await;
            }
        });
    });
    rx.recv().expect("the fake started")
}

async fn add_default_service_accounts(client: &kube::Client) {
    let Ok(namespaces) = Api::<Namespace>::all(client.clone())
        .list(&ListParams::default())
        .await
    else {
        return;
    };
    for ns in namespaces.items {
        let name = ns.metadata.name.unwrap_or_default();
        let accounts = Api::<ServiceAccount>::namespaced(client.clone(), &name);
        let sa: ServiceAccount =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "default"}})).unwrap();
        // 409 once it exists; a namespace being deleted may refuse: both are fine here.
        let _ = accounts.create(&PostParams::default(), &sa).await;
    }
}

#[tokio::test]
async fn a_real_cluster_gets_a_namespace_per_test_removed_after_it_even_on_panic() {
    let fake = fake_cluster_on_its_own_thread();
    let kubeconfig =
        std::env::temp_dir().join(format!("tycho-real-mode-{}.yaml", std::process::id()));
    std::fs::write(&kubeconfig, fake.kubeconfig_yaml("default")).unwrap();
    // SAFETY: this binary holds a single test, so no other thread reads the environment.
    unsafe {
        std::env::set_var("TYCHO_TEST_KUBECONFIG", &kubeconfig);
        std::env::remove_var("TYCHO_TEST_REQUIRE_CLUSTER");
    }
    let namespaces = Api::<Namespace>::all(fake.client());

    let cluster = TestCluster::start("real-mode").await;
    assert!(
        cluster.fake.is_none(),
        "the kubeconfig's cluster, not a fake"
    );
    let ns = cluster.namespace.clone();
    assert!(ns.starts_with("tycho-test-real-mode-"), "{ns}");
    let made = namespaces.get(&ns).await.unwrap();
    assert_eq!(
        made.metadata.labels.unwrap()["app.kubernetes.io/managed-by"],
        "tycho-tests",
        "leftovers can be found by label"
    );
    // start() returned only once pods may be created: the default ServiceAccount is there.
    Api::<ServiceAccount>::namespaced(fake.client(), &ns)
        .get("default")
        .await
        .expect("the harness waited for the default ServiceAccount");
    cluster.cleanup().await;
    assert!(namespaces.get_opt(&ns).await.unwrap().is_none(), "cleanup");

    // A test that panics before cleanup(): unwinding drops the cluster, which removes the
    // namespace all the same.
    let (tx, rx) = tokio::sync::oneshot::channel();
    let failing_test = tokio::spawn(async move {
        let cluster = TestCluster::start("real-mode-panics").await;
        tx.send(cluster.namespace.clone()).unwrap();
        panic!("a failing test");
    });
    assert!(failing_test.await.unwrap_err().is_panic());
    let ns = rx.await.unwrap();
    assert!(
        namespaces.get_opt(&ns).await.unwrap().is_none(),
        "the panicking test's namespace {ns} is left"
    );
    let _ = std::fs::remove_file(kubeconfig);
}
