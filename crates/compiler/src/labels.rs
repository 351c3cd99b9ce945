//! Label and annotation keys put on every object of a system. Status and delete find a system
//! by these labels, so every shell uses these constants instead of spelling keys again.

/// `executor=tycho`: every object Tycho made (Tycho-compatible key).
pub const EXECUTOR: &str = "executor";
pub const EXECUTOR_VALUE: &str = "tycho";
/// The instance's GUID (Tycho-compatible key).
pub const GUID: &str = "tycho-guid";
/// The owner, sanitised to a label value (Tycho-compatible key).
pub const USERNAME: &str = "username";
pub const NAME: &str = "app.kubernetes.io/name";
pub const INSTANCE: &str = "app.kubernetes.io/instance";
pub const MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub const MANAGED_BY_VALUE: &str = "tycho";

/// Every key above without a prefix; a user's own annotations may not use them
/// (see [`crate::names::reserved_key`]).
pub const UNPREFIXED_KEYS: [&str; 3] = [EXECUTOR, GUID, USERNAME];
/// The prefix of Tycho's own annotations (and of any Tycho adds later).
pub const TYCHO_PREFIX: &str = "tycho.io";

/// The owner exactly as given (a label value cannot hold every username).
pub const ANNOTATION_USERNAME: &str = "tycho.io/username";
/// The system name as given.
pub const ANNOTATION_SYSTEM_NAME: &str = "tycho.io/system-name";
/// JSON list of the published ports: `[{"service","containerPort","port","protocol"}]`
/// (written and read by [`crate::PublishedPort::to_annotation`] and `from_annotation`).
pub const ANNOTATION_PORTS: &str = "tycho.io/ports";
/// JSON of the [`crate::ConnectTarget`]: how Tycho's proxy reaches the primary port.
pub const ANNOTATION_CONNECT: &str = "tycho.io/connect";
/// The file's own shorter lifetimes (`x-tycho: {lifetime: …}`) as JSON, on the Deployment: the
/// server's lifetime task applies them where they shorten the policy's.
pub const ANNOTATION_LIFETIME: &str = "tycho.io/lifetime";
/// JSON of the requested resources of the whole pod: `{"cpu","gpus","memory"}`
/// (see [`tycho_api::Resources::to_annotation`]).
pub const ANNOTATION_RESOURCES: &str = "tycho.io/resources";

/// What a claim outlives (label on every claim Tycho makes; values [`CLAIM_SYSTEM`],
/// [`CLAIM_REUSE`], [`CLAIM_HOME`]). None of them is deleted with its system unless asked.
pub const CLAIM_KIND: &str = "tycho.io/claim";
/// A named volume's claim of one system, `<volume>-<guid>`: carries the system's GUID label, so
/// a failed start's rollback removes it; kept by a delete unless `volumes=delete`.
pub const CLAIM_SYSTEM: &str = "system";
/// A named volume with `x-tycho: {reuse: true}`: one claim per user, system name and volume,
/// mounted again by the next start of that system name. No GUID label (no rollback or delete
/// by GUID reaches it); [`LAST_SYSTEM`] names the system that mounted it last.
pub const CLAIM_REUSE: &str = "reuse";
/// The user's home (policy `home`): one claim per user, never deleted with a system.
pub const CLAIM_HOME: &str = "home";
/// Label on a reused claim: the GUID of the system that mounted it last (written at its start),
/// so a delete of that system with `volumes=delete` finds it.
pub const LAST_SYSTEM: &str = "tycho.io/last-system";
/// Annotation on a claim: the compose volume it was made for (`home` for the home).
pub const ANNOTATION_VOLUME: &str = "tycho.io/volume";
/// Annotation on a claim: RFC 3339 time its system was deleted (the claim was kept); the
/// policy's `volume_ttl` counts from here. Removed when a start mounts it again.
pub const ANNOTATION_RELEASED_AT: &str = "tycho.io/released-at";

/// Selector of every claim Tycho made, or of one user's (by the sanitised label: ownership is
/// decided exactly from the owner hash after).
pub fn claim_selector(username: Option<&str>) -> String {
    match username {
        Some(user) => format!("{},{CLAIM_KIND}", user_selector(user)),
        None => format!("{},{CLAIM_KIND}", all_systems_selector()),
    }
}

/// Selector that matches every object of every system Tycho made.
pub fn all_systems_selector() -> String {
    format!("{EXECUTOR}={EXECUTOR_VALUE}")
}

/// Selector for one system.
pub fn system_selector(guid: &str) -> String {
    format!("{EXECUTOR}={EXECUTOR_VALUE},{GUID}={guid}")
}

/// Selector for the systems of one user.
pub fn user_selector(username: &str) -> String {
    format!(
        "{EXECUTOR}={EXECUTOR_VALUE},{USERNAME}={}",
        username_label(username)
    )
}

/// A username as a label value: at most 63 characters of `[A-Za-z0-9._-]`, starting and ending
/// alphanumeric. Other characters become `-`; an empty result becomes `unknown`.
pub fn username_label(username: &str) -> String {
    let mapped: String = username
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(63)
        .collect();
    let trimmed = mapped.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if trimmed.is_empty() {
        "unknown".into()
    } else {
        trimmed.into()
    }
}

/// A username as one DNS label, for hosts and paths (`{user}` in connect templates): at most 63
/// lowercase letters, digits and `-`, starting and ending with a letter or digit. Anything else
/// (dots, `@`, `/`, `%`, spaces, uppercase, non-ASCII) becomes `-` (lowercase letters for
/// uppercase), runs of `-` collapse; an empty result becomes `unknown`. Lossy on purpose:
/// `Alice.Smith` and `alice-smith` give the same label, so routes must also hold the GUID.
pub fn username_dns_label(username: &str) -> String {
    let mut out = String::new();
    for c in username.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed: String = out.trim_matches('-').chars().take(63).collect();
    let trimmed = trimmed.trim_end_matches('-');
    if trimmed.is_empty() {
        "unknown".into()
    } else {
        trimmed.into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_become_dns_labels() {
        assert_eq!(username_dns_label("alice"), "alice");
        assert_eq!(
            username_dns_label("Alice.Smith@Example.org"),
            "alice-smith-example-org"
        );
        assert_eq!(username_dns_label("../../etc"), "etc");
        assert_eq!(username_dns_label("a}{guid}/x"), "a-guid-x");
        assert_eq!(username_dns_label("élise"), "lise");
        assert_eq!(username_dns_label("@@"), "unknown");
        let long = username_dns_label(&format!("{}-{}", "x".repeat(62), "y".repeat(10)));
        assert_eq!(long, "x".repeat(62));
    }

    #[test]
    fn usernames_become_valid_label_values() {
        assert_eq!(username_label("alice"), "alice");
        assert_eq!(username_label("alice@example.org"), "alice-example.org");
        assert_eq!(username_label("@@"), "unknown");
        assert_eq!(username_label(&"x".repeat(100)).len(), 63);
    }
}
