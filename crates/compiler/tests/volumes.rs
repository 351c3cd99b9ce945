//! Claims that outlive their system: a named volume's (kept by a delete), a reused one (named
//! for user, system and volume), the user's home (one per user, mounted in every service), and
//! what the file may not ask for.

mod common;

use common::only_error;
use tycho_compiler::labels;
use tycho_compiler::plan::{home_claim_name, reuse_claim_name};
use tycho_compiler::{AccessMode, CompileOptions, HomePolicy, Plan, codes, compile};

const LAB: &str = "x-tycho:\n  home: /home/jovyan\nservices:\n  lab:\n    image: jupyter\n  db:\n    image: postgres\n    volumes: [\"data:/var/lib/postgresql/data\"]\nvolumes:\n  data: {}\n";

fn with_home(guid: &str, username: &str) -> CompileOptions {
    let mut options = CompileOptions {
        name: "lab".into(),
        guid: guid.into(),
        username: username.into(),
        ..Default::default()
    };
    options.policy.home = Some(HomePolicy {
        size: "5Gi".into(),
        storage_class: "nfs".into(),
        mount_path: "/home/user".into(),
        access_mode: AccessMode::ReadWriteOnce,
    });
    options
}

/// What Kubernetes takes as an object name here: 1-63 of `[a-z0-9-]`, alphanumeric at both ends.
fn is_dns_label(name: &str) -> bool {
    (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

fn plan(text: &str, options: &CompileOptions) -> Plan {
    let compiled = compile(text, options);
    let errors: Vec<_> = compiled
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    compiled.plan.expect("a plan")
}

fn label<'a>(plan: &'a Plan, claim: &str, key: &str) -> Option<&'a str> {
    let claim = plan
        .claims
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(claim))
        .unwrap_or_else(|| panic!("no claim {claim}"));
    claim.metadata.labels.as_ref()?.get(key).map(String::as_str)
}

/// Every (container, mount path, claim) of the plan's pod.
fn claim_mounts(plan: &Plan) -> Vec<(String, String, String)> {
    let pod = plan
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    let volumes = pod.volumes.clone().unwrap_or_default();
    let mut found = Vec::new();
    for c in &pod.containers {
        for m in c.volume_mounts.iter().flatten() {
            let volume = volumes.iter().find(|v| v.name == m.name).unwrap();
            if let Some(pvc) = &volume.persistent_volume_claim {
                found.push((c.name.clone(), m.mount_path.clone(), pvc.claim_name.clone()));
            }
        }
    }
    found
}

#[test]
fn the_home_is_one_claim_per_user_mounted_in_every_service() {
    let first = plan(LAB, &with_home("g1", "alice"));
    let second = plan(LAB, &with_home("g2", "alice"));
    let home = home_claim_name("alice");
    assert!(
        home.starts_with("home-alice-") && home.len() <= 63,
        "{home}"
    );
    for p in [&first, &second] {
        let mounts = claim_mounts(p);
        assert!(
            mounts.contains(&("lab".into(), "/home/jovyan".into(), home.clone())),
            "{mounts:?}"
        );
        assert!(
            mounts.contains(&("db".into(), "/home/jovyan".into(), home.clone())),
            "{mounts:?}"
        );
        assert_eq!(
            label(p, &home, labels::CLAIM_KIND),
            Some(labels::CLAIM_HOME)
        );
        // No GUID: nothing that removes a system by its GUID reaches it.
        assert_eq!(label(p, &home, labels::GUID), None);
        assert_eq!(label(p, &home, labels::USERNAME), Some("alice"));
    }
    let claim = first
        .claims
        .iter()
        .find(|c| c.metadata.name.as_deref() == Some(&home))
        .unwrap();
    let spec = claim.spec.as_ref().unwrap();
    assert_eq!(
        spec.access_modes.as_deref(),
        Some(&["ReadWriteOnce".to_string()][..])
    );
    assert_eq!(spec.storage_class_name.as_deref(), Some("nfs"));
    assert_eq!(
        spec.resources.as_ref().unwrap().requests.as_ref().unwrap()["storage"].0,
        "5Gi"
    );
    // The system's own volume is still per GUID, labelled as the system's.
    assert_eq!(
        label(&first, "data-g1", labels::CLAIM_KIND),
        Some(labels::CLAIM_SYSTEM)
    );
    assert_eq!(label(&first, "data-g1", labels::GUID), Some("g1"));
    let annotations = first.claims[0].metadata.annotations.clone().unwrap();
    assert_eq!(annotations[labels::ANNOTATION_VOLUME], "data");
    assert_eq!(annotations[labels::ANNOTATION_SYSTEM_NAME], "lab");
    // Another user's home is another claim.
    assert_ne!(home_claim_name("bob"), home);
    assert_ne!(home_claim_name("Alice"), home, "usernames are exact");
}

#[test]
fn home_names_are_dns_labels_for_any_username() {
    for user in [
        "alice@example.org",
        "../../etc",
        "Élise Ü",
        &"x".repeat(200),
        "@@",
    ] {
        let name = home_claim_name(user);
        assert!(name.len() <= 63, "{name}");
        assert!(is_dns_label(&name), "{user:?} → {name}");
        assert_eq!(name, home_claim_name(user), "stable");
    }
}

#[test]
fn home_true_takes_the_policys_path() {
    let text = "x-tycho:\n  home: true\nservices:\n  lab:\n    image: jupyter\n";
    let p = plan(text, &with_home("g1", "alice"));
    assert_eq!(
        claim_mounts(&p),
        vec![("lab".into(), "/home/user".into(), home_claim_name("alice"))]
    );
    let mut no_path = with_home("g1", "alice");
    no_path.policy.home.as_mut().unwrap().mount_path.clear();
    let errors: Vec<_> = compile(text, &no_path)
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!((errors[0].line, errors[0].column), (2, 9));
    assert!(
        errors[0].message.contains("home.mount_path"),
        "{}",
        errors[0].message
    );
    // `home: false` asks for nothing.
    let off = plan(
        "x-tycho:\n  home: false\nservices:\n  lab:\n    image: jupyter\n",
        &with_home("g1", "alice"),
    );
    assert!(off.claims.is_empty());
}

#[test]
fn a_home_the_policy_does_not_offer_is_an_error_at_the_key() {
    only_error(
        "services:\n  lab:\n    image: jupyter\nx-tycho:\n  home: /home/jovyan\n",
        codes::HOME_NOT_OFFERED,
        5,
        9,
        "the operator's policy offers none",
    );
}

#[test]
fn bad_home_paths_are_errors_at_the_value() {
    for (path, says) in [
        ("home/jovyan", "is not absolute"),
        ("/", "is the root"),
        ("/home/../etc", "`..` segment"),
        ("/home//x", "empty"),
        ("\"/a:b\"", "`:`"),
    ] {
        let text = format!("x-tycho:\n  home: {path}\nservices:\n  lab:\n    image: jupyter\n");
        let errors: Vec<_> = compile(&text, &with_home("g1", "alice"))
            .diagnostics
            .into_iter()
            .filter(|d| d.is_error())
            .collect();
        assert_eq!(errors.len(), 1, "{path}: {errors:?}");
        assert_eq!(errors[0].code, codes::INVALID_VALUE);
        assert_eq!((errors[0].line, errors[0].column), (2, 9), "{path}");
        assert!(
            errors[0].message.contains(says),
            "{path}: {}",
            errors[0].message
        );
    }
}

#[test]
fn a_service_mounting_something_at_the_home_path_is_an_error() {
    let text = "x-tycho:\n  home: /data\nservices:\n  lab:\n    image: jupyter\n    volumes: [\"data:/data/\"]\nvolumes:\n  data: {}\n";
    let errors: Vec<_> = compile(text, &with_home("g1", "alice"))
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].code, codes::CONFLICTING_KEYS);
    assert!(
        errors[0].message.contains("service `lab`"),
        "{}",
        errors[0].message
    );
}

#[test]
fn a_reused_volume_is_named_for_user_system_and_volume() {
    let text = "services:\n  lab:\n    image: jupyter\n    volumes: [\"work:/work\", \"cache:/cache\"]\nvolumes:\n  work:\n    x-tycho:\n      reuse: true\n  cache: {}\n";
    let options = |guid: &str| CompileOptions {
        name: "lab".into(),
        guid: guid.into(),
        username: "alice".into(),
        ..Default::default()
    };
    let (first, second) = (plan(text, &options("g1")), plan(text, &options("g2")));
    let work = reuse_claim_name("alice", "lab", "work");
    assert!(work.starts_with("lab-work-") && work.len() <= 63, "{work}");
    for (p, guid) in [(&first, "g1"), (&second, "g2")] {
        let mounts = claim_mounts(p);
        assert!(
            mounts.contains(&("lab".into(), "/work".into(), work.clone())),
            "{mounts:?}"
        );
        assert!(mounts.contains(&("lab".into(), "/cache".into(), format!("cache-{guid}"))));
        assert_eq!(
            label(p, &work, labels::CLAIM_KIND),
            Some(labels::CLAIM_REUSE)
        );
        assert_eq!(label(p, &work, labels::GUID), None);
        assert_eq!(label(p, &work, labels::LAST_SYSTEM), Some(guid));
    }
    // Another user, another system name or another volume: another claim.
    assert_ne!(reuse_claim_name("bob", "lab", "work"), work);
    assert_ne!(reuse_claim_name("alice", "lab2", "work"), work);
    assert_ne!(
        reuse_claim_name("alice", "lab", "work_"),
        reuse_claim_name("alice", "lab", "work-")
    );
    let long = reuse_claim_name("alice", &"s".repeat(30), &"v".repeat(80));
    assert!(long.len() <= 63 && is_dns_label(&long), "{long}");
}

#[test]
fn reuse_on_an_external_volume_is_an_error() {
    // (The default policy also refuses the external claim itself: a second error.)
    let errors = common::errors(
        "services:\n  lab:\n    image: jupyter\n    volumes: [\"work:/work\"]\nvolumes:\n  work:\n    external: true\n    x-tycho:\n      reuse: true\n",
    );
    assert!(
        errors.iter().any(
            |(code, line, column, message)| code == codes::CONFLICTING_KEYS
                && (*line, *column) == (9, 7)
                && message.contains("cannot also be `reuse: true`")
        ),
        "{errors:#?}"
    );
    only_error(
        "services:\n  lab:\n    image: jupyter\n    volumes: [\"work:/work\"]\nvolumes:\n  work:\n    x-tycho:\n      resue: true\n",
        codes::UNKNOWN_KEY,
        8,
        7,
        "reuse",
    );
}
