//! The corpus of compose apps in `tests/apps/` (config files, env files, secrets and `.env`
//! beside each compose file) compiles with its files through the real `tycho` binary, which
//! reads them from disk: the manifests and diagnostics match the reviewed goldens in
//! `tests/golden/`, and no secret's value is printed.
//!
//! After an intended change: `UPDATE_GOLDEN=1 cargo test -p tycho-cli --test apps`, then review
//! the diff like code.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn apps() -> Vec<String> {
    let mut apps: Vec<String> = std::fs::read_dir(repo_root().join("tests/apps"))
        .expect("tests/apps exists")
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("docker-compose.yaml").is_file())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    apps.sort();
    apps
}

/// What `tycho compile` prints for an app: the manifests, then its diagnostics.
fn compile(app: &str) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tycho"))
        .current_dir(repo_root())
        .args(["compile", "-f"])
        .arg(format!("tests/apps/{app}/docker-compose.yaml"))
        .args([
            "--policy",
            "crates/compiler/tests/data/policy-baseline.yaml",
            "--guid",
            "0123456789abcdef",
            "--namespace",
            "tycho",
            "--username",
            "alice",
        ])
        .output()
        .expect("tycho runs");
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str("### stderr\n");
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn every_app_compiles_with_its_files_as_reviewed() {
    let apps = apps();
    assert!(apps.len() >= 3, "the corpus has {apps:?}");
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for app in &apps {
        let (ok, actual) = compile(app);
        assert!(ok, "{app} does not compile:\n{actual}");
        assert!(actual.contains("kind: ConfigMap"), "{app} sends no files");
        let secrets = repo_root().join(format!("tests/apps/{app}/secrets"));
        for secret in std::fs::read_dir(&secrets).into_iter().flatten().flatten() {
            let value = std::fs::read_to_string(secret.path()).unwrap();
            assert!(
                !actual.contains(value.trim()),
                "{app} prints the secret in {}",
                secret.path().display()
            );
        }
        let golden = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("app-{app}.out"));
        if update {
            std::fs::write(&golden, &actual).expect("golden file is writable");
            continue;
        }
        if std::fs::read_to_string(&golden).unwrap_or_default() != actual {
            mismatches.push(format!("{} (rerun with UPDATE_GOLDEN=1)", golden.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatches:\n{}",
        mismatches.join("\n")
    );
}
