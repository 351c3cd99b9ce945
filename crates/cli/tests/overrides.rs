//! `tycho compile -f a.yaml -f b.yaml` (issue 13, item 1): the later file is merged over the
//! first, as `docker compose` merges them, and what each names (and what an `include:` names)
//! is read from the project folder, the first file's.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A fresh project folder with `files` in it.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tycho-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (path, text) in files {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn tycho(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tycho"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("tycho runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const MAIN: &str = "services:\n  web:\n    image: nginx:1\n    ports: ['8080:80']\n    environment:\n      A: '1'\n";

#[test]
fn compile_reads_both_files_and_what_the_later_one_names() {
    let dir = project(
        "merge",
        &[
            ("app/compose.yaml", MAIN),
            (
                "app/compose.prod.yaml",
                "include: [db/compose.yaml]\nservices:\n  web:\n    image: nginx:2\n    env_file: ./prod.env\n",
            ),
            ("app/prod.env", "PROD=yes\n"),
            (
                "app/db/compose.yaml",
                "services:\n  db:\n    image: postgres\n    env_file: ./db.env\n",
            ),
            ("app/db/db.env", "DB=yes\n"),
        ],
    );
    let out = tycho(
        &dir,
        &[
            "compile",
            "-f",
            "app/compose.yaml",
            "-f",
            "app/compose.prod.yaml",
            "--guid",
            "abc",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(stdout.contains("image: nginx:2"), "{stdout}");
    assert!(!stdout.contains("nginx:1"), "{stdout}");
    for expected in ["PROD", "DB", "image: postgres"] {
        assert!(stdout.contains(expected), "{expected} missing:\n{stdout}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_finding_in_the_later_file_is_shown_in_it() {
    let dir = project(
        "finding",
        &[
            ("app/compose.yaml", MAIN),
            (
                "app/compose.prod.yaml",
                "services:\n  web:\n    ports: ['abc']\n",
            ),
        ],
    );
    let out = tycho(
        &dir,
        &[
            "validate",
            "-f",
            "app/compose.yaml",
            "-f",
            "app/compose.prod.yaml",
        ],
    );
    let stdout = text(&out.stdout);
    assert!(!out.status.success());
    assert!(
        stdout.contains("--> app/compose.prod.yaml:3:13\n  |\n3 |     ports: ['abc']"),
        "{stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_later_file_outside_the_project_folder_is_refused() {
    let dir = project(
        "outside",
        &[("app/compose.yaml", MAIN), ("other.yaml", "services: {}\n")],
    );
    let out = tycho(
        &dir,
        &["validate", "-f", "app/compose.yaml", "-f", "other.yaml"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("must be in it"),
        "{}",
        text(&out.stderr)
    );
    std::fs::remove_dir_all(dir).unwrap();
}
