//! coordination.k8s.io Leases, as leader election uses them: CRUD, 409 on a stale
//! resourceVersion (two candidates racing), and the real server's spec validation.

mod common;

use common::{api_err, fake, obj};
use k8s_openapi::api::coordination::v1::Lease;
use kube::ResourceExt;
use kube::api::{Api, PostParams};
use serde_json::json;

#[tokio::test]
async fn two_candidates_racing_on_one_version_get_one_success_and_one_conflict() {
    let (_fake, c) = fake().await;
    let api = Api::<Lease>::default_namespaced(c);
    let pp = PostParams::default();
    let first = api
        .create(
            &pp,
            &obj(json!({"metadata": {"name": "tycho-singletons"},
                "spec": {"holderIdentity": "a", "leaseDurationSeconds": 30}})),
        )
        .await
        .expect("create");
    // A second create of the same name is AlreadyExists.
    let (code, reason, _) = api_err(
        api.create(
            &pp,
            &obj(
                json!({"metadata": {"name": "tycho-singletons"}, "spec": {"holderIdentity": "b"}}),
            ),
        )
        .await,
    );
    assert_eq!((code, reason.as_str()), (409, "AlreadyExists"));

    let mut by_a = first.clone();
    by_a.spec
        .get_or_insert_with(Default::default)
        .lease_transitions = Some(1);
    let mut by_b = first.clone();
    by_b.spec
        .get_or_insert_with(Default::default)
        .holder_identity = Some("b".into());
    api.replace("tycho-singletons", &pp, &by_a)
        .await
        .expect("the first update of this version wins");
    let (code, reason, message) = api_err(api.replace("tycho-singletons", &pp, &by_b).await);
    assert_eq!((code, reason.as_str()), (409, "Conflict"));
    assert!(
        message.contains("leases.coordination.k8s.io \"tycho-singletons\""),
        "{message}"
    );
    let stored = api.get("tycho-singletons").await.expect("get");
    assert_eq!(
        stored
            .spec
            .as_ref()
            .and_then(|s| s.holder_identity.as_deref()),
        Some("a")
    );
    assert_ne!(stored.resource_version(), first.resource_version());
    assert_eq!(
        api.list(&Default::default())
            .await
            .expect("list")
            .items
            .len(),
        1
    );
}

#[tokio::test]
async fn a_lease_duration_must_be_positive() {
    let (_fake, c) = fake().await;
    let api = Api::<Lease>::default_namespaced(c);
    let (code, reason, message) = api_err(
        api.create(
            &PostParams::default(),
            &obj(json!({"metadata": {"name": "l"}, "spec": {"leaseDurationSeconds": 0}})),
        )
        .await,
    );
    assert_eq!((code, reason.as_str()), (422, "Invalid"));
    assert!(
        message.contains("spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0"),
        "{message}"
    );
}
