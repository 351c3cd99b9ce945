//! TYCHO_TEST_REQUIRE_CLUSTER=1 without a kubeconfig must fail loudly. Its own test binary,
//! because it changes the process environment.

#[tokio::test]
#[should_panic(expected = "TYCHO_TEST_REQUIRE_CLUSTER=1 but TYCHO_TEST_KUBECONFIG is not set")]
async fn require_cluster_without_kubeconfig_panics() {
    // SAFETY: this binary holds a single test, so no other thread reads the environment.
    unsafe {
        std::env::remove_var("TYCHO_TEST_KUBECONFIG");
        std::env::set_var("TYCHO_TEST_REQUIRE_CLUSTER", "1");
    }
    let _ = tycho_fake_kube::TestCluster::start("require").await;
}
