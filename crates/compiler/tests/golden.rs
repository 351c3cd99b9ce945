//! Golden tests: every catalog system and every original Tycho sample compiles to the reviewed
//! manifests in `tests/golden/`, or fails with the reviewed diagnostics.
//!
//! After an intended change, regenerate with `UPDATE_GOLDEN=1 cargo test -p tycho-compiler
//! --test golden` and review the diff like code.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tycho_compiler::{CompileOptions, compile, diagnostic};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// (golden file stem, compose file) for every system we promise to handle.
fn fixtures() -> Vec<(String, PathBuf)> {
    let samples = repo_root().join("../shared/tycho-samples");
    let catalog = repo_root().join("assets/catalog");
    let mut found = Vec::new();
    for (prefix, dir) in [("catalog", &catalog), ("sample", &samples)] {
        let entries =
            std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{} must exist: {e}", dir.display()));
        for entry in entries {
            let path = entry.expect("readable entry").path();
            let file = path.join("docker-compose.yaml");
            if file.is_file() {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                found.push((format!("{prefix}-{name}"), file));
            }
        }
    }
    found.sort();
    found
}

fn env_beside(file: &Path) -> BTreeMap<String, String> {
    let Ok(text) = std::fs::read_to_string(file.with_file_name(".env")) else {
        return BTreeMap::new();
    };
    text.lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// The manifests followed by the rendered diagnostics, as one reviewable text. Samples get
/// `tests/data/policy-samples.yaml`, which allows the existing claim they mount; the catalog
/// the default policy (with the profile an entry says it needs).
fn render(stem: &str, file: &Path) -> String {
    let policy = if stem.starts_with("sample-") {
        samples_policy()
    } else {
        catalog_policy(file)
    };
    render_with(stem, file, policy)
}

/// The default policy, with the `baseline` profile for an entry that says it needs it
/// (RStudio's image starts as root).
fn catalog_policy(file: &Path) -> tycho_compiler::Policy {
    let text = std::fs::read_to_string(file).expect("fixture is readable");
    let mut policy = tycho_compiler::Policy::default();
    if tycho_compiler::x_tycho(&text).needs_baseline {
        policy.profile = tycho_compiler::SecurityProfile::Baseline;
    }
    policy
}

fn samples_policy() -> tycho_compiler::Policy {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/policy-samples.yaml");
    let text = std::fs::read_to_string(path).expect("the samples' policy is readable");
    tycho_compiler::parse_policy(&text).expect("the samples' policy parses")
}

fn render_with(stem: &str, file: &Path, policy: tycho_compiler::Policy) -> String {
    let text = std::fs::read_to_string(file).expect("fixture is readable");
    let folder = file
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let options = CompileOptions {
        // Catalog files name themselves; samples are named after their folder, as the CLI does.
        name: if text.contains("\nname:") || text.starts_with("name:") {
            String::new()
        } else {
            folder
        },
        guid: "0123456789abcdef".into(),
        username: "alice".into(),
        namespace: "tycho".into(),
        env: env_beside(file),
        policy,
        ..Default::default()
    };
    let compiled = compile(&text, &options);
    let mut out = String::new();
    if let Some(plan) = &compiled.plan {
        out.push_str(&plan.to_yaml());
    }
    out.push_str("### diagnostics\n");
    out.push_str(&diagnostic::render(
        &compiled.diagnostics,
        &format!("{stem}.yaml"),
        &text,
    ));
    out
}

#[test]
fn every_fixture_matches_its_golden_file() {
    let fixtures = fixtures();
    assert!(
        fixtures.len() >= 13,
        "expected the catalog and the nine samples, found {}",
        fixtures.len()
    );
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for (stem, file) in &fixtures {
        let actual = render(stem, file);
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{stem}.out"));
        if update {
            std::fs::write(&golden, &actual).expect("golden file is writable");
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            mismatches.push(format!(
                "{} (rerun with UPDATE_GOLDEN=1 and review the diff)",
                golden.display()
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatches:\n{}",
        mismatches.join("\n")
    );
}

/// (golden file stem, policy file in `tests/data`): the connect modes with an edge of the
/// operator's own, over the nginx catalog entry (whose file asks for `rewrite: strip`).
const CONNECT_MODES: [(&str, &str); 2] = [
    ("connect-ingress", "policy-connect-ingress.yaml"),
    ("connect-gateway", "policy-connect-gateway.yaml"),
];

#[test]
fn connect_modes_match_their_golden_files() {
    let nginx = repo_root().join("assets/catalog/nginx/docker-compose.yaml");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    for (stem, policy_file) in CONNECT_MODES {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
        let policy_text = std::fs::read_to_string(dir.join("data").join(policy_file)).unwrap();
        let policy = tycho_compiler::parse_policy(&policy_text).expect("the policy parses");
        let actual = render_with(stem, &nginx, policy);
        assert!(!actual.contains("error["), "{stem}:\n{actual}");
        let golden = dir.join("golden").join(format!("{stem}.out"));
        if update {
            std::fs::write(&golden, &actual).expect("golden file is writable");
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        assert!(
            expected == actual,
            "{} differs (rerun with UPDATE_GOLDEN=1 and review the diff)",
            golden.display()
        );
    }
}

#[test]
fn catalog_systems_compile_without_errors() {
    for (stem, file) in fixtures().iter().filter(|(s, _)| s.starts_with("catalog-")) {
        // Under the profile each entry says it needs.
        let out = render(stem, file);
        assert!(
            out.contains("kind: Deployment"),
            "{stem} must compile:\n{out}"
        );
        assert!(
            !out.contains("error["),
            "{stem} must have no errors:\n{out}"
        );
    }
}

#[test]
fn samples_that_fail_name_the_line() {
    for (stem, file) in fixtures().iter().filter(|(s, _)| s.starts_with("sample-")) {
        let out = render(stem, file);
        if !out.contains("kind: Deployment") {
            let has_position = out
                .lines()
                .any(|l| l.contains(&format!("{stem}.yaml:")) && l.contains("-->"));
            assert!(
                has_position && out.contains("error["),
                "{stem} fails without a positioned error:\n{out}"
            );
        }
    }
}

/// Without the samples' policy, every mount of an existing claim is refused at its line.
#[test]
fn samples_mounting_claims_are_refused_by_the_default_policy() {
    let mut refused = 0;
    for (stem, file) in fixtures().iter().filter(|(s, _)| s.starts_with("sample-")) {
        let text = std::fs::read_to_string(file).unwrap();
        let out = render_with(stem, file, tycho_compiler::Policy::default());
        let claim_lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim_start().starts_with("- pvc://"))
            .map(|(i, _)| i + 1);
        let rendered: Vec<&str> = out.lines().collect();
        for line in claim_lines {
            refused += 1;
            let at = format!("{stem}.yaml:{line}:");
            assert!(
                rendered
                    .windows(2)
                    .any(|w| w[0].starts_with("error[TY0412]") && w[1].contains(&at)),
                "{stem}: no TY0412 at line {line}:\n{out}"
            );
        }
    }
    assert!(refused >= 3, "the samples mount claims in three files");
}

#[test]
fn compiling_twice_gives_identical_bytes() {
    for (stem, file) in fixtures() {
        assert_eq!(
            render(&stem, &file),
            render(&stem, &file),
            "{stem} is not deterministic"
        );
    }
}
