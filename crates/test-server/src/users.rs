//! The users every test server knows, by fixed bearer tokens.

use tycho_server::auth::{Auth, TokenEntry};

/// User `alice`, not an admin.
pub const ALICE: &str = "token-alice-0001";
/// User `bob`, not an admin.
pub const BOB: &str = "token-bob-00000002";
/// User `root`, an admin (sees, filters and deletes everyone's systems; starts for others).
pub const ADMIN: &str = "token-root-000003";

/// Bearer-token auth for [`ALICE`], [`BOB`] and [`ADMIN`].
pub fn tokens() -> Auth {
    let user = |token: &str, user: &str, admin: bool| TokenEntry {
        token: token.into(),
        user: user.into(),
        admin,
        groups: Vec::new(),
    };
    Auth::tokens(vec![
        user(ALICE, "alice", false),
        user(BOB, "bob", false),
        user(ADMIN, "root", true),
    ])
}
