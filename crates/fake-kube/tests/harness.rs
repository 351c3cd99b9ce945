//! TestCluster in fake mode (or against a real cluster when TYCHO_TEST_KUBECONFIG is set).

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tycho_fake_kube::TestCluster;

#[tokio::test]
async fn test_cluster_gives_each_test_its_own_namespace() {
    let cluster = TestCluster::start("harness::own_namespace").await;
    assert!(
        cluster
            .namespace
            .starts_with("tycho-test-harness-own-namespace-"),
        "{}",
        cluster.namespace
    );
    let real = std::env::var("TYCHO_TEST_KUBECONFIG").is_ok_and(|v| !v.is_empty());
    assert_eq!(cluster.fake.is_some(), !real);

    // The client defaults to the test namespace.
    let cms: Api<ConfigMap> = Api::default_namespaced(cluster.client.clone());
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "probe"}})).unwrap();
    let made = cms.create(&PostParams::default(), &cm).await.unwrap();
    assert_eq!(
        made.metadata.namespace.as_deref(),
        Some(cluster.namespace.as_str())
    );

    // The kubeconfig a spawned binary would get reaches the same cluster.
    let kc = Kubeconfig::from_yaml(&cluster.kubeconfig_yaml).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .unwrap();
    let other = kube::Client::try_from(config).unwrap();
    let seen = Api::<ConfigMap>::namespaced(other, &cluster.namespace)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(seen.items.len(), 1);

    let namespaces = Api::<Namespace>::all(cluster.client.clone());
    let ns_name = cluster.namespace.clone();
    let fake = cluster.fake.clone();
    cluster.cleanup().await;
    if let Some(fake) = fake {
        assert!(
            namespaces.get_opt(&ns_name).await.unwrap().is_none(),
            "cleanup removed the namespace"
        );
        assert_eq!(fake.object_count(), 1, "only 'default' is left");
    }
}
