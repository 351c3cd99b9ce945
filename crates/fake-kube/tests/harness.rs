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
    // By name, not by count: a real cluster also puts `kube-root-ca.crt` in every namespace.
    let names: Vec<_> = seen
        .items
        .iter()
        .filter_map(|cm| cm.metadata.name.as_deref())
        .collect();
    assert!(names.contains(&"probe"), "{names:?}");

    let namespaces = Api::<Namespace>::all(cluster.client.clone());
    let ns_name = cluster.namespace.clone();
    let fake = cluster.fake.clone();
    cluster.cleanup().await;
    // The fake removes the namespace at once; a real cluster marks it Terminating and removes
    // it once its contents are gone.
    let left = namespaces.get_opt(&ns_name).await.unwrap();
    match &fake {
        Some(fake) => {
            assert!(left.is_none(), "cleanup removed the namespace");
            assert_eq!(fake.object_count(), 1, "only 'default' is left");
        }
        None => assert!(
            left.is_none_or(|ns| ns.metadata.deletion_timestamp.is_some()),
            "cleanup deletes the namespace"
        ),
    }
}

#[tokio::test]
async fn start_fake_is_the_fake_even_when_a_cluster_is_configured() {
    // Fault-injection tests rely on this: they must run (against the fake) on every run.
    let cluster = TestCluster::start_fake("harness::fake_only").await;
    let fake = cluster
        .fake
        .clone()
        .expect("start_fake always gives the fake");
    assert!(
        cluster
            .namespace
            .starts_with("tycho-test-harness-fake-only-"),
        "{}",
        cluster.namespace
    );
    // The client talks to that fake: a ConfigMap made through it is counted there.
    let before = fake.object_count();
    let cms: Api<ConfigMap> = Api::default_namespaced(cluster.client.clone());
    let cm: ConfigMap =
        serde_json::from_value(serde_json::json!({"metadata": {"name": "probe"}})).unwrap();
    cms.create(&PostParams::default(), &cm).await.unwrap();
    assert_eq!(fake.object_count(), before + 1);
    cluster.cleanup().await;
}
