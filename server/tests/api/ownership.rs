//! Who sees and deletes what: users only their own systems (on the REST and the compat API),
//! admins everyone's; no token or a wrong one is 401.

use reqwest::{Method, StatusCode};
use serde_json::json;
use tycho_client::Deletion;
use tycho_client::api::SystemStatus;
use tycho_test_server::*;

fn guids_of(list: &[SystemStatus]) -> Vec<String> {
    list.iter().map(|x| x.guid.clone()).collect()
}

#[tokio::test]
async fn users_see_and_delete_only_their_own_systems() {
    let cluster = TestCluster::start("server-users").await;
    let s = TestServer::on(&cluster).await;
    let (alice, bob, admin) = (s.client(ALICE), s.client(BOB), s.client(ADMIN));
    let alices = s.start_system(ALICE, &compose(IMAGE), "a").await;
    let bobs = s.start_system(BOB, &compose(IMAGE), "b").await;

    assert_eq!(guids_of(&bob.list().await.unwrap()), vec![bobs.clone()]);
    assert!(bob.get(&alices).await.unwrap_err().is_not_found());
    // The same answer (204) as for a GUID that never existed, so DELETE tells nothing about
    // others.
    assert_eq!(bob.delete(&alices).await.unwrap(), Deletion::Gone);
    assert_eq!(
        bob.delete("0123456789abcdef0123456789abcdef")
            .await
            .unwrap(),
        Deletion::Gone
    );
    assert!(alice.get(&alices).await.is_ok(), "still there");
    assert_eq!(
        bob.list_user("alice").await.unwrap_err().status(),
        Some(StatusCode::FORBIDDEN.as_u16())
    );
    // Compat endpoints apply the same rule.
    let (code, body) = s
        .json(
            Method::POST,
            "/system/delete",
            Some(BOB),
            Some(json!({"name": alices})),
        )
        .await;
    assert_eq!(code, StatusCode::OK, "{body}");
    assert!(
        alice.get(&alices).await.is_ok(),
        "still there after Bob's compat delete"
    );
    let (_, st) = s
        .json(
            Method::POST,
            "/system/status",
            Some(BOB),
            Some(json!({"name": alices})),
        )
        .await;
    assert_eq!(st["result"], json!([]));

    // Admins see everyone, may filter by user, and may delete.
    let all = guids_of(&admin.list().await.unwrap());
    assert!(all.contains(&alices) && all.contains(&bobs));
    assert_eq!(
        guids_of(&admin.list_user("alice").await.unwrap()),
        vec![alices.clone()]
    );
    s.delete_gone(ADMIN, &alices).await;
    s.delete_gone(BOB, &bobs).await;

    // No token, wrong token: the problem document says 401.
    let (code, body) = s.json(Method::GET, "/api/v1/systems", None, None).await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    assert_eq!(body["status"], 401);
    let (code, _) = s
        .json(Method::GET, "/api/v1/systems", Some("not-a-token"), None)
        .await;
    assert_eq!(code, StatusCode::UNAUTHORIZED);
    cluster.cleanup().await;
}
