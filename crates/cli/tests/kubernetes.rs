//! The manifests in `kubernetes/` agree with the compiler's default policy.

#[test]
fn kubernetes_policy_configmap_is_a_valid_policy() {
    let text = include_str!("../../../kubernetes/configmap.yaml");
    let policy_text: String = text
        .split("policy.yaml: |\n")
        .nth(1)
        .unwrap()
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let policy = tycho_compiler::parse_policy(&policy_text).unwrap();
    assert_eq!(policy, tycho_compiler::Policy::default());
    assert!(policy.network.ingress_cidrs.is_empty(), "only Tycho's pods");
}

/// The systems' NetworkPolicies admit the Tycho server by its pods' labels: the Deployment
/// must carry exactly the ones the policy (default and ConfigMap) names.
#[test]
fn kubernetes_server_pods_carry_the_labels_the_policy_admits() {
    let text = include_str!("../../../kubernetes/deployment.yaml");
    // Untyped: `defaultMode: 0440` is YAML 1.1's octal, which kubectl reads and serde does not.
    let deployment: serde_json::Value = serde_saphyr::from_str(text).unwrap();
    let template = &deployment["spec"]["template"];
    let labels: std::collections::BTreeMap<String, String> =
        serde_json::from_value(template["metadata"]["labels"].clone()).unwrap();
    let expected = tycho_compiler::Policy::default().network.server_pods.labels;
    assert_eq!(labels, expected);
    let args = &template["spec"]["containers"][0]["args"];
    assert!(
        args.as_array().unwrap().iter().any(|a| a == "--public-url"),
        "{args}"
    );
}
