//! The files that travel with the compose file, as the dashboard gathers them: a folder the
//! user uploads (its compose file goes to the editor, its `.env` to the variables, the rest is
//! sent beside the compose file) or single files, and which named files are still missing.
//! Pure, so it is tested natively; the browser only reads the bytes.

use std::collections::BTreeMap;
use tycho_compiler::{Files, Reference, ReferenceKind};

/// The names Compose looks for in a project folder, in its order.
const COMPOSE_NAMES: [&str; 4] = [
    "compose.yaml",
    "compose.yml",
    "docker-compose.yaml",
    "docker-compose.yml",
];

/// What a folder upload gives the editor.
#[derive(Debug, Default, PartialEq)]
pub struct FolderUpload {
    /// The folder's name as a system name.
    pub name: String,
    /// The compose file's name and text, when the folder has one.
    pub compose: Option<(String, String)>,
    /// The variables of its `.env`.
    pub env: BTreeMap<String, String>,
    /// Every other file, by project path.
    pub files: Files,
    /// What could not be taken, for a notice.
    pub problems: Vec<String>,
}

/// A folder's files, each with the path the browser gives it (`folder/sub/file`, the chosen
/// folder first).
pub fn folder_upload(entries: Vec<(String, Vec<u8>)>) -> FolderUpload {
    let mut upload = FolderUpload::default();
    let mut folder = String::new();
    let mut at_root: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (path, bytes) in entries {
        let (top, inside) = path.split_once('/').unwrap_or(("", path.as_str()));
        folder = top.to_string();
        match tycho_compiler::project_path(inside) {
            Ok(project) if !project.is_empty() => {
                if project.contains('/') {
                    upload.files.insert(project, bytes);
                } else {
                    at_root.insert(project, bytes);
                }
            }
            _ => upload.problems.push(format!("`{path}` was left out")),
        }
    }
    upload.name = tycho_compiler::names::system_name_from_folder(&folder);
    if let Some(name) = COMPOSE_NAMES.iter().find(|n| at_root.contains_key(**n)) {
        let bytes = at_root.remove(*name).unwrap_or_default();
        match String::from_utf8(bytes) {
            Ok(text) => upload.compose = Some((name.to_string(), text)),
            Err(_) => upload.problems.push(format!("{name} is not UTF-8 text")),
        }
    } else {
        upload.problems.push(format!(
            "the folder has no {} at its top",
            COMPOSE_NAMES.join(", ")
        ));
    }
    if let Some(bytes) = at_root.remove(".env") {
        let text = String::from_utf8_lossy(&bytes);
        match tycho_compiler::parse_env_file(&text, &BTreeMap::new()) {
            Ok(pairs) => upload.env.extend(pairs),
            Err(e) => upload.problems.push(format!(".env: {e}")),
        }
    }
    upload.files.extend(at_root);
    upload
}

/// A file the compose file names that was not sent (or a folder nothing was sent below).
#[derive(Debug, Clone, PartialEq)]
pub struct Missing {
    pub path: String,
    /// What it is for, in words: `env_file`, `secret`, …
    pub what: &'static str,
    pub line: usize,
    /// Whether a folder is expected here too (then not sending it makes a volume).
    pub may_be_folder: bool,
}

/// The `references` of a compile (what the text names) that `files` does not hold, in the
/// order named.
pub fn missing(references: &[Reference], files: &Files) -> Vec<Missing> {
    references
        .iter()
        .filter(|r| !sent(r, files))
        .map(|r| Missing {
            what: match r.kind {
                ReferenceKind::Mount => "bind mount",
                ReferenceKind::EnvFile => "env_file",
                ReferenceKind::Config => "config",
                ReferenceKind::Secret => "secret",
                ReferenceKind::ComposeFile => "extended compose file",
            },
            may_be_folder: r.kind.may_be_folder(),
            line: r.line,
            path: r.path.clone(),
        })
        .collect()
}

fn sent(reference: &Reference, files: &Files) -> bool {
    let below = format!("{}/", reference.path);
    files.contains_key(&reference.path)
        || (reference.kind.may_be_folder() && files.keys().any(|k| k.starts_with(&below)))
}

/// `1.2 KB`-style sizes for the file list.
pub fn size(bytes: usize) -> String {
    match bytes {
        0..1000 => format!("{bytes} B"),
        1000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1000.0),
        _ => format!("{:.1} MB", bytes as f64 / 1_000_000.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, text: &str) -> (String, Vec<u8>) {
        (path.to_string(), text.as_bytes().to_vec())
    }

    #[test]
    fn a_folder_gives_the_compose_file_its_env_and_the_rest_as_files() {
        let upload = folder_upload(vec![
            entry("My_App/docker-compose.yaml", "services: {}\n"),
            entry("My_App/compose.yaml", "services:\n  a:\n    image: a\n"),
            entry("My_App/.env", "TAG=1.2 # pinned\n"),
            entry("My_App/nginx/default.conf", "server {}"),
            entry("My_App/app.env", "A=1"),
        ]);
        assert_eq!(upload.name, "my-app");
        // Compose's own order: compose.yaml before docker-compose.yaml.
        let (name, text) = upload.compose.clone().unwrap();
        assert_eq!(
            (name.as_str(), text.contains("image: a")),
            ("compose.yaml", true)
        );
        assert_eq!(upload.env.get("TAG").map(String::as_str), Some("1.2"));
        let paths: Vec<&str> = upload.files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            ["app.env", "docker-compose.yaml", "nginx/default.conf"]
        );
        assert!(upload.problems.is_empty(), "{:?}", upload.problems);
    }

    #[test]
    fn a_folder_without_a_compose_file_says_so() {
        let upload = folder_upload(vec![entry("x/readme.md", "hi")]);
        assert!(upload.compose.is_none());
        assert!(
            upload.problems[0].contains("no compose.yaml"),
            "{:?}",
            upload.problems
        );
    }

    #[test]
    fn missing_lists_what_is_named_and_not_sent() {
        let text = "services:\n  web:\n    image: a\n    env_file: ./web.env\n    volumes:\n      - ./site:/site\n      - ./conf/a.conf:/a.conf\n";
        let options = tycho_compiler::CompileOptions::default();
        let missing = |files: &Files| {
            let references = tycho_compiler::referenced_files_with_files(text, files, &options);
            missing(&references, files)
        };
        let all = missing(&Files::new());
        let paths: Vec<(&str, &str, usize)> = all
            .iter()
            .map(|m| (m.path.as_str(), m.what, m.line))
            .collect();
        assert_eq!(
            paths,
            [
                ("web.env", "env_file", 4),
                ("site", "bind mount", 6),
                ("conf/a.conf", "bind mount", 7)
            ]
        );
        let files = Files::from([
            ("web.env".to_string(), b"A=1".to_vec()),
            ("site/index.html".to_string(), b"i".to_vec()),
        ]);
        let left: Vec<String> = missing(&files).into_iter().map(|m| m.path).collect();
        assert_eq!(left, ["conf/a.conf"]);
    }

    #[test]
    fn sizes_read_well() {
        assert_eq!(size(12), "12 B");
        assert_eq!(size(1_234), "1.2 KB");
        assert_eq!(size(2_500_000), "2.5 MB");
    }
}
