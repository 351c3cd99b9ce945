//! Existing claims (`pvc://CLAIM[/SUBPATH]`, `external:` volumes) against the policy's
//! `allowed_claims`. A claim in the namespace may hold other users' data, so only what the
//! operator listed, with `{username}` as the compiling user, may be mounted.

use super::report::error;
use crate::codes;
use crate::diagnostic::{self, Diagnostic};
use crate::model::{Mount, MountSource, System};
use crate::names::is_dns_label;
use crate::options::CompileOptions;

const USERNAME: &str = "{username}";

/// An `allowed_claims` entry for one user: the claim, and the subpath a mount must be at or
/// below (`None`: the whole claim and anything in it).
#[derive(Debug, PartialEq, Eq)]
struct Rule {
    claim: String,
    below: Option<Vec<String>>,
}

impl Rule {
    fn allows(&self, claim: &str, subpath: &[&str]) -> bool {
        self.claim == claim
            && self.below.as_ref().is_none_or(|below| {
                subpath.starts_with(&below.iter().map(String::as_str).collect::<Vec<_>>())
            })
    }
}

pub(crate) fn check(system: &System, options: &CompileOptions, out: &mut Vec<Diagnostic>) {
    let entries = &options.policy.allowed_claims;
    let mut rules = Vec::new();
    for entry in entries {
        match rule(entry, &options.username) {
            Ok(Some(rule)) => rules.push(rule),
            Ok(None) => {}
            Err(why) => out.push(diagnostic::option_error(format!(
                "policy `allowed_claims` has the entry `{entry}`, which {why}"
            ))),
        }
    }
    for mount in system.services.iter().flat_map(|s| &s.volumes) {
        let Some(claim) = existing_claim(mount, system) else {
            continue;
        };
        let subpath: Vec<&str> = mount
            .subpath
            .as_deref()
            .map(|s| s.split('/').collect())
            .unwrap_or_default();
        if rules.iter().any(|r| r.allows(claim, &subpath)) {
            continue;
        }
        let what = match &mount.subpath {
            Some(subpath) => format!("subpath `{subpath}` of the claim `{claim}`"),
            None => format!("the claim `{claim}`"),
        };
        let allowed = if entries.is_empty() {
            "no existing claim may be mounted".to_string()
        } else {
            format!("allowed: {}", entries.join(", "))
        };
        error(
            out,
            codes::CLAIM_NOT_ALLOWED,
            format!(
                "mounting {what} is not allowed by the operator's policy ({allowed}; an operator adds it to `allowed_claims`); use a named volume for the system's own data"
            ),
            &mount.pos,
        );
    }
}

/// The existing claim a mount uses: `pvc://CLAIM`, or the claim an `external:` volume names.
fn existing_claim<'a>(mount: &'a Mount, system: &'a System) -> Option<&'a str> {
    match &mount.source {
        MountSource::Claim(claim) => Some(claim),
        MountSource::Named(volume) => system
            .volumes
            .iter()
            .find(|d| &d.name == volume)?
            .external
            .as_deref(),
        MountSource::HostPath(_) | MountSource::Anonymous | MountSource::Stored(_) => None,
    }
}

/// One entry for `username`: `Ok(None)` when the entry names `{username}` but this username
/// cannot be one plain path segment (it then allows this user nothing, rather than something
/// wider), `Err` when the entry itself is malformed.
fn rule(entry: &str, username: &str) -> Result<Option<Rule>, String> {
    let (claim, template) = match entry.split_once('/') {
        Some((claim, template)) => (claim, Some(template)),
        None => (entry, None),
    };
    if claim.len() > 253 || !claim.split('.').all(is_dns_label) {
        return Err(format!("does not start with a claim name (`{claim}`)"));
    }
    let Some(template) = template else {
        return Ok(Some(Rule {
            claim: claim.into(),
            below: None,
        }));
    };
    if template.replace(USERNAME, "").contains(['{', '}']) {
        return Err("holds a placeholder other than `{username}`".into());
    }
    if let Err(why) = crate::names::check_subpath(template) {
        return Err(format!("is not a claim and a subpath: {why}"));
    }
    if template.contains(USERNAME) && !is_plain_segment(username) {
        return Ok(None);
    }
    let below: Vec<String> = template
        .split('/')
        .map(|segment| segment.replace(USERNAME, username))
        .collect();
    // `.{username}` with the name `.` would be `..`; such a user gets nothing from this entry.
    if below.iter().any(|s| !is_plain_segment(s)) {
        return Ok(None);
    }
    Ok(Some(Rule {
        claim: claim.into(),
        below: Some(below),
    }))
}

/// A path segment that names exactly one directory: not empty, `.` or `..`, no `/`, and
/// nothing a username may not hold.
fn is_plain_segment(segment: &str) -> bool {
    !matches!(segment, "" | "." | "..")
        && !segment.contains('/')
        && crate::names::check_username(segment).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(entry: &str, username: &str, claim: &str, subpath: &str) -> bool {
        let subpath: Vec<&str> = if subpath.is_empty() {
            Vec::new()
        } else {
            subpath.split('/').collect()
        };
        rule(entry, username)
            .expect("a valid entry")
            .is_some_and(|r| r.allows(claim, &subpath))
    }

    #[test]
    fn a_bare_claim_allows_the_claim_and_everything_in_it() {
        assert!(allows("scratch", "alice", "scratch", ""));
        assert!(allows("scratch", "alice", "scratch", "a/b"));
        assert!(!allows("scratch", "alice", "scratch2", ""));
        assert!(!allows("scratch", "alice", "home", "alice"));
    }

    #[test]
    fn a_user_template_allows_that_users_directory_and_below_only() {
        assert!(allows("home/{username}", "alice", "home", "alice"));
        assert!(allows(
            "home/{username}",
            "alice",
            "home",
            "alice/notebooks"
        ));
        assert!(!allows("home/{username}", "alice", "home", ""));
        assert!(!allows("home/{username}", "alice", "home", "bob"));
        assert!(!allows("home/{username}", "alice", "home", "alice2"));
        assert!(!allows("home/{username}", "alice", "home", "alic"));
        assert!(allows(
            "shared/users/u-{username}",
            "alice",
            "shared",
            "users/u-alice"
        ));
        assert!(!allows(
            "shared/users/u-{username}",
            "alice",
            "shared",
            "users"
        ));
    }

    #[test]
    fn a_username_cannot_widen_the_match() {
        for username in [
            "", ".", "..", "../bob", "bob/..", "a/b", "alice\n", " alice",
        ] {
            assert_eq!(rule("home/{username}", username), Ok(None), "{username:?}");
        }
        assert_eq!(rule("home/.{username}", "."), Ok(None));
        // Segments compare exactly: `*` is a directory named `*`, not a wildcard.
        assert!(allows("home/{username}", "*", "home", "*"));
        assert!(!allows("home/{username}", "*", "home", "bob"));
        // A fixed entry does not depend on the username at all.
        assert!(allows("datasets/public", "", "datasets", "public/x"));
    }

    #[test]
    fn malformed_entries_are_refused() {
        for entry in [
            "",
            "Home/{username}",
            "home//x",
            "home/../x",
            "home/{user}",
            "/home",
            "home/",
        ] {
            assert!(rule(entry, "alice").is_err(), "{entry}");
        }
    }
}
