//! The files a compose file names, read from disk beside it (the compiler reads no disk): each
//! path [`tycho_compiler::referenced_files`] lists, relative to the compose file's folder (the
//! working folder for standard input). A folder is read whole, file by file, in path order.
//! A path that leads out of the folder (through a symlink) is refused; a path that does not
//! exist is not sent, and the compiler says what that means (an error for an `env_file`, a
//! volume of its own for a bind-mount folder).

use std::path::{Path, PathBuf};
use tycho_compiler::{CompileOptions, Files, Reference};

use crate::error::CliError;

/// What one folder may hold: Kubernetes keeps at most 1 MiB in the ConfigMap that carries
/// it, so reading on (a database's data folder, say) would only be refused later.
const MAX_FOLDER_BYTES: u64 = 1024 * 1024;

/// Reads the override files (project paths, merged over `text` in order) and what compose
/// `text` and they name below `folder`, and what the files read name in turn (the other compose
/// file of an `extends:` or `include:` names its own files), until nothing new is named.
pub fn read_referenced(
    folder: &Path,
    text: &str,
    override_files: &[String],
    options: &CompileOptions,
) -> Result<Files, CliError> {
    let root = canonical(folder)?;
    let mut overrides = Files::new();
    for path in override_files {
        let real = root.join(path);
        let bytes = std::fs::read(&real).map_err(|e| cannot_read(&real, e))?;
        overrides.insert(path.clone(), bytes);
    }
    let mut files = overrides.clone();
    let mut named = 0;
    loop {
        let references =
            tycho_compiler::referenced_files_with_overrides(text, override_files, &files, options);
        if references.len() == named {
            return Ok(files);
        }
        named = references.len();
        files = overrides.clone();
        files.extend(read_files(folder, &references)?);
    }
}

/// An override file given on the command line as its project path: it must be in the project
/// folder (the compose file's), where Compose resolves every file's relative paths.
pub fn project_file(folder: &Path, file: &Path) -> Result<String, CliError> {
    let root = canonical(folder)?;
    let real = canonical(file)?;
    let path = project_path(&root, &real).map_err(|_| {
        CliError::Usage(format!(
            "{} is outside the compose file's folder {}; an override file (a later -f) must be in it",
            file.display(),
            root.display()
        ))
    })?;
    if path.is_empty() || real.is_dir() {
        return Err(CliError::Usage(format!(
            "{} is a folder; -f takes a compose file",
            file.display()
        )));
    }
    Ok(path)
}

fn canonical(path: &Path) -> Result<PathBuf, CliError> {
    std::fs::canonicalize(path).map_err(|e| cannot_read(path, e))
}

/// Reads every referenced path below `folder`.
pub fn read_files(folder: &Path, references: &[Reference]) -> Result<Files, CliError> {
    let root = std::fs::canonicalize(folder)
        .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", folder.display())))?;
    let mut files = Files::new();
    for reference in references {
        let path = root.join(&reference.path);
        let Ok(real) = std::fs::canonicalize(&path) else {
            continue; // not there: the compiler decides what that means
        };
        inside(&root, &real, &reference.path)?;
        if real.is_dir() {
            if reference.kind.may_be_folder() {
                read_folder(&root, &real, &reference.path, &mut files)?;
            }
            // Else the compiler says a folder was named where a file belongs.
        } else {
            let bytes = std::fs::read(&real).map_err(|e| cannot_read(&path, e))?;
            files.insert(reference.path.clone(), bytes);
        }
    }
    Ok(files)
}

/// Every file below `folder` (symlinks followed if they stay in the project), stopping with an
/// error past [`MAX_FOLDER_BYTES`].
fn read_folder(root: &Path, folder: &Path, named: &str, files: &mut Files) -> Result<(), CliError> {
    let mut pending = vec![folder.to_path_buf()];
    let mut total = 0;
    while let Some(dir) = pending.pop() {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| cannot_read(&dir, e))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for entry in entries {
            let real = std::fs::canonicalize(&entry).map_err(|e| cannot_read(&entry, e))?;
            let project = project_path(root, &entry)?;
            inside(root, &real, &project)?;
            if real.is_dir() {
                pending.push(entry);
                continue;
            }
            total += std::fs::metadata(&real).map(|m| m.len()).unwrap_or(0);
            if total > MAX_FOLDER_BYTES {
                return Err(CliError::Usage(format!(
                    "./{named} holds more than 1 MiB, more than a ConfigMap can carry to the cluster; mount a named volume there instead (or empty the folder to start with a fresh volume)"
                )));
            }
            let bytes = std::fs::read(&real).map_err(|e| cannot_read(&entry, e))?;
            files.insert(project, bytes);
        }
    }
    Ok(())
}

/// `path` (below `root`) as a project path: relative, `/`-separated.
fn project_path(root: &Path, path: &Path) -> Result<String, CliError> {
    let relative = path.strip_prefix(root).map_err(|_| {
        CliError::Usage(format!("{} is outside {}", path.display(), root.display()))
    })?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| c.as_os_str().to_str())
        .collect();
    parts
        .map(|parts| parts.join("/"))
        .ok_or_else(|| CliError::Usage(format!("{} is not a UTF-8 path", path.display())))
}

/// Refuses a path whose real location is outside the project folder.
fn inside(root: &Path, real: &Path, named: &str) -> Result<(), CliError> {
    if real.starts_with(root) {
        Ok(())
    } else {
        Err(CliError::Usage(format!(
            "./{named} leads to {}, outside the compose file's folder {}; only that folder travels with the compose file",
            real.display(),
            root.display()
        )))
    }
}

fn cannot_read(path: &Path, error: std::io::Error) -> CliError {
    CliError::Usage(format!("cannot read {}: {error}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(files: &[(&str, &str)]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tycho-bundle-{}", uuid_like()));
        for (path, text) in files {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn uuid_like() -> String {
        use std::time::{SystemTime, UNIX_EPOCH};
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{}-{nanos}", std::process::id())
    }

    fn read(dir: &Path, text: &str) -> Result<Files, CliError> {
        read_referenced(dir, text, &[], &CompileOptions::default())
    }

    #[test]
    fn reads_what_the_file_names_and_nothing_else() {
        let dir = project(&[
            ("web.env", "A=1"),
            ("conf/nginx.conf", "server {}"),
            ("site/index.html", "i"),
            ("site/css/a.css", "c"),
            ("unrelated.txt", "u"),
        ]);
        let text = "services:\n  web:\n    image: a\n    env_file: ./web.env\n    volumes:\n      - ./conf/nginx.conf:/etc/nginx/nginx.conf\n      - ./site:/site\n      - ./data:/data\n";
        let files = read(&dir, text).unwrap();
        let paths: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(
            paths,
            [
                "conf/nginx.conf",
                "site/css/a.css",
                "site/index.html",
                "web.env"
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_files_an_extended_file_names_are_read_too() {
        let dir = project(&[
            (
                "common/base.yaml",
                "services:\n  base:\n    image: a\n    env_file: ./base.env\n",
            ),
            ("common/base.env", "A=1"),
            ("other.txt", "u"),
        ]);
        let text = "services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n";
        let files = read(&dir, text).unwrap();
        let paths: Vec<&str> = files.keys().map(String::as_str).collect();
        assert_eq!(paths, ["common/base.env", "common/base.yaml"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_symlink_out_of_the_folder_is_refused() {
        let outside = project(&[("secret.txt", "s")]);
        let dir = project(&[("site/index.html", "i")]);
        std::os::unix::fs::symlink(outside.join("secret.txt"), dir.join("site/leak.txt")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), dir.join("key.txt")).unwrap();
        for text in [
            "services:\n  web:\n    image: a\n    volumes: [\"./site:/site\"]\n",
            "services:\n  web:\n    image: a\n    volumes: [\"./key.txt:/key.txt\"]\n",
        ] {
            let Err(CliError::Usage(message)) = read(&dir, text) else {
                panic!("a link out of the project must be refused: {text}")
            };
            assert!(
                message.contains("outside the compose file's folder"),
                "{message}"
            );
        }
        std::fs::remove_dir_all(dir).unwrap();
        std::fs::remove_dir_all(outside).unwrap();
    }

    #[test]
    fn a_large_folder_is_refused_before_it_is_read_whole() {
        let dir = project(&[]);
        std::fs::create_dir_all(dir.join("data")).unwrap();
        for i in 0..3 {
            std::fs::write(dir.join(format!("data/{i}.bin")), vec![0u8; 400 * 1024]).unwrap();
        }
        let text = "services:\n  db:\n    image: a\n    volumes: [\"./data:/var/lib/db\"]\n";
        let Err(CliError::Usage(message)) = read(&dir, text) else {
            panic!("1.2 MiB must be refused")
        };
        assert!(
            message.contains("./data holds more than 1 MiB"),
            "{message}"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
