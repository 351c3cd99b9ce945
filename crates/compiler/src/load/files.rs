//! Files that travel with the compose file, as the loader reads them: relative bind mounts,
//! `configs:` and `secrets:` (declared at the top level, mounted by services) and `env_file:`.
//! Each path is recorded (see [`crate::referenced_files`]) before it is looked up in the
//! files sent; file contents never enter a diagnostic.

use super::reader::{NotTranslated, Reader, child};
use crate::bundle::{self, Found, ReferenceKind};
use crate::codes;
use crate::diagnostic::Severity;
use crate::model::{Mount, MountSource, Pos, Store, StoredFile, StoredMount, VolumeDecl};
use crate::yaml::{Node, Value};
use std::collections::BTreeMap;

/// A relative bind mount's source (`./nginx.conf`, `./conf`, `./data`): the file or the folder
/// of files sent with the compose file, else (a folder nobody sent, as Compose creates one) a
/// claim of its own, with a warning.
pub fn bind_source(written: &str, pos: &Pos, r: &mut Reader) -> Option<MountSource> {
    let path = project_path(written, pos, r)?;
    r.lookups.record(&path, ReferenceKind::Mount, pos);
    let files = r.files;
    match bundle::find(files, &path) {
        Found::File(bytes) => {
            let key = store(r, Store::ConfigMap, &path, bytes, pos);
            Some(MountSource::Stored(StoredMount {
                store: Store::ConfigMap,
                items: vec![(key, file_name(&path).to_string())],
                single_file: true,
                mode: None,
            }))
        }
        Found::Folder(below) => {
            let items = below
                .into_iter()
                .map(|(inside, bytes)| {
                    let key = store(r, Store::ConfigMap, &join(&path, &inside), bytes, pos);
                    (key, inside)
                })
                .collect();
            Some(MountSource::Stored(StoredMount {
                store: Store::ConfigMap,
                items,
                single_file: false,
                mode: None,
            }))
        }
        Found::Missing => {
            r.at(
                Severity::Warning,
                codes::FOLDER_BECOMES_VOLUME,
                format!("`{written}` was not sent with the compose file, so it becomes an empty volume of its own, kept as long as the system; send it with the compose file if the app needs what is in it"),
                pos,
            );
            Some(MountSource::Named(folder_volume(&path, pos, r)))
        }
    }
}

/// The volume that stands for a bind-mount folder that was not sent; one per folder.
fn folder_volume(path: &str, pos: &Pos, r: &mut Reader) -> String {
    let name = format!("folder-{}", if path.is_empty() { "project" } else { path });
    if !r.folder_volumes.iter().any(|d| d.name == name) {
        r.folder_volumes.push(VolumeDecl {
            name: name.clone(),
            pos: pos.clone(),
            ..Default::default()
        });
    }
    name
}

/// How a top-level config or secret gets its content.
#[derive(Debug, Clone)]
enum Content {
    /// `file:` (a project path).
    File(String),
    /// `content:` (configs only), already interpolated.
    Inline(String),
    /// `environment:`: the value of this variable of the request env.
    Environment(String),
    /// `external:`: refused at the declaration.
    External,
}

#[derive(Debug, Clone)]
pub struct Declaration {
    content: Content,
    pos: Pos,
}

/// The top-level `configs:` or `secrets:`, by name.
pub type Declared = BTreeMap<String, Declaration>;

/// The configs and secrets a file declares, which services mount by name.
#[derive(Debug, Clone, Default)]
pub struct Declarations {
    pub configs: Declared,
    pub secrets: Declared,
}

impl Declarations {
    fn of(&self, store: Store) -> &Declared {
        match store {
            Store::ConfigMap => &self.configs,
            Store::Secret => &self.secrets,
        }
    }
}

fn noun(store: Store) -> &'static str {
    match store {
        Store::ConfigMap => "config",
        Store::Secret => "secret",
    }
}

/// The top-level `configs:` (`store` ConfigMap) or `secrets:` (Secret).
pub fn declarations(
    node: &Node,
    path: &str,
    store: Store,
    r: &mut Reader,
    not_translated: &mut Vec<NotTranslated>,
) -> Declared {
    let noun = noun(store);
    let mut declared = Declared::new();
    for (key, value) in r.map(node, path).unwrap_or(&[]) {
        let name = key.text();
        let dpath = child(path, &name);
        let mut content = None;
        for (k, v) in r.map(value, &dpath).unwrap_or(&[]) {
            let kname = k.text();
            let kpath = child(&dpath, &kname);
            match kname.as_str() {
                "file" => {
                    let kind = match store {
                        Store::ConfigMap => ReferenceKind::Config,
                        Store::Secret => ReferenceKind::Secret,
                    };
                    let Some(written) = r.string(v, &kpath) else {
                        continue;
                    };
                    let pos = r.pos(v, &kpath);
                    if let Some(file) = project_path(&written, &pos, r) {
                        r.lookups.record(&file, kind, &pos);
                        content = Some(Content::File(file));
                    }
                }
                "content" if store == Store::ConfigMap => {
                    content = r.string(v, &kpath).map(Content::Inline);
                }
                "environment" => content = r.string(v, &kpath).map(Content::Environment),
                "external" => {
                    if r.bool(v, &kpath) == Some(true) {
                        r.error(
                            codes::EXTERNAL_REFUSED,
                            format!("{noun} `{name}` is `external:`: a system mounts only the {noun}s sent with its compose file (`file:`, `environment:`{}), not objects of other systems", if store == Store::ConfigMap { " or `content:`" } else { "" }),
                            v,
                            &kpath,
                        );
                        content = Some(Content::External);
                    }
                }
                "name" => {
                    r.string(v, &kpath);
                }
                "labels" | "template_driver" | "driver" | "driver_opts" => r.not_translated(
                    k,
                    &kpath,
                    "the content is stored in the system's own ConfigMap or Secret",
                    not_translated,
                ),
                _ => {
                    let known: &[&str] = match store {
                        Store::ConfigMap => &["file", "content", "environment", "external", "name"],
                        Store::Secret => &["file", "environment", "external", "name"],
                    };
                    r.unknown_key(k, &kpath, known);
                }
            }
        }
        let Some(content) = content else {
            let ways = match store {
                Store::ConfigMap => "`file:`, `content:` or `environment:`",
                Store::Secret => "`file:` or `environment:`",
            };
            r.error(
                codes::MISSING_KEY,
                format!("{noun} `{name}` needs {ways}"),
                key,
                &dpath,
            );
            continue;
        };
        let pos = r.pos(key, &dpath);
        declared.insert(name, Declaration { content, pos });
    }
    declared
}

/// A service's `configs:` or `secrets:`: each a file mounted read-only at its target
/// (`/<name>` for a config, `/run/secrets/<name>` for a secret, as in Compose).
pub fn service_files(
    node: &Node,
    path: &str,
    store: Store,
    declarations: &Declarations,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
    not_translated: &mut Vec<NotTranslated>,
) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for (i, item) in r.list(node, path).unwrap_or(&[]).iter().enumerate() {
        let ipath = child(path, &i.to_string());
        let mut source = None;
        let mut target = None;
        let mut mode = None;
        match &item.value {
            Value::Map(entries) => {
                for (k, v) in entries {
                    let kname = k.text();
                    let kpath = child(&ipath, &kname);
                    match kname.as_str() {
                        "source" => source = r.string(v, &kpath),
                        "target" => target = r.string(v, &kpath),
                        "mode" => mode = file_mode(v, &kpath, r),
                        "uid" | "gid" => r.not_translated(
                            k,
                            &kpath,
                            "mounted files belong to root; the pod's fsGroup (`securityContext`) sets their group",
                            not_translated,
                        ),
                        _ => r.unknown_key(k, &kpath, &["source", "target", "mode", "uid", "gid"]),
                    }
                }
            }
            _ => source = r.string(item, &ipath),
        }
        let Some(source) = source else {
            if matches!(item.value, Value::Map(_)) {
                r.error(
                    codes::MISSING_KEY,
                    format!("a {} in long syntax needs `source:`", noun(store)),
                    item,
                    &ipath,
                );
            }
            continue;
        };
        // An undeclared name is refused where it is named (load::consistency).
        let Some(declaration) = declarations.of(store).get(&source) else {
            continue;
        };
        let Some((source_id, bytes)) = content(&source, declaration, store, env, r) else {
            continue;
        };
        let target = match target {
            Some(t) if t.starts_with('/') => t,
            Some(t) if store == Store::Secret => format!("/run/secrets/{t}"),
            Some(t) => format!("/{t}"),
            None if store == Store::Secret => format!("/run/secrets/{source}"),
            None => format!("/{source}"),
        };
        let key = store_bytes(r, store, &source_id, bytes, &declaration.pos);
        mounts.push(Mount {
            source: MountSource::Stored(StoredMount {
                store,
                items: vec![(key, file_name(&target).to_string())],
                single_file: true,
                mode,
            }),
            target,
            read_only: true,
            subpath: None,
            pos: r.pos(item, &ipath),
        });
    }
    mounts
}

/// A declaration's bytes and the source they are stored under (one key per file or name).
fn content(
    name: &str,
    declaration: &Declaration,
    store: Store,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> Option<(String, Vec<u8>)> {
    let noun = noun(store);
    let pos = &declaration.pos;
    match &declaration.content {
        Content::File(file) => {
            match bundle::find(r.files, file) {
                Found::File(bytes) => Some((file.clone(), bytes.to_vec())),
                Found::Folder(_) => {
                    r.at(
                        Severity::Error,
                        codes::INVALID_VALUE,
                        format!("{noun} `{name}` names the folder `{file}`; a {noun} is one file"),
                        pos,
                    );
                    None
                }
                Found::Missing => {
                    r.at(
                    Severity::Error,
                    codes::MISSING_FILE,
                    format!("{noun} `{name}` reads `{file}`, which was not sent with the compose file"),
                    pos,
                );
                    None
                }
            }
        }
        Content::Inline(text) => Some((format!("{noun}:{name}"), text.clone().into_bytes())),
        Content::Environment(variable) => match env.get(variable) {
            Some(value) => Some((format!("{noun}:{name}"), value.clone().into_bytes())),
            None => {
                r.at(
                    Severity::Error,
                    codes::UNSET_VARIABLE,
                    format!("{noun} `{name}` takes its value from `{variable}`, which is not set"),
                    pos,
                );
                None
            }
        },
        Content::External => None,
    }
}

/// `env_file:` (a path, a list of paths, or `{path, required, format}` entries): the variables
/// they set, later files overriding earlier ones. Compose's `.env` syntax, interpolated from
/// the request env; `format: raw` takes each value as written.
pub fn env_files(
    node: &Node,
    path: &str,
    env: &BTreeMap<String, String>,
    r: &mut Reader,
) -> Vec<(String, String)> {
    let entries: Vec<(&Node, String)> = match &node.value {
        Value::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| (item, child(path, &i.to_string())))
            .collect(),
        _ => vec![(node, path.to_string())],
    };
    let mut variables: Vec<(String, String)> = Vec::new();
    for (entry, epath) in entries {
        let Some((written, required, raw)) = env_file_entry(entry, &epath, r) else {
            continue;
        };
        let pos = r.pos(entry, &epath);
        let Some(file) = project_path(&written, &pos, r) else {
            continue;
        };
        r.lookups.record(&file, ReferenceKind::EnvFile, &pos);
        let bytes = match bundle::find(r.files, &file) {
            Found::File(bytes) => bytes,
            Found::Folder(_) => {
                r.at(
                    Severity::Error,
                    codes::INVALID_VALUE,
                    format!("env_file `{written}` is a folder"),
                    &pos,
                );
                continue;
            }
            Found::Missing if !required => continue,
            Found::Missing => {
                r.at(
                    Severity::Error,
                    codes::MISSING_FILE,
                    format!("env_file `{written}` was not sent with the compose file; send it, or mark it `required: false`"),
                    &pos,
                );
                continue;
            }
        };
        let Ok(text) = std::str::from_utf8(bytes) else {
            r.at(
                Severity::Error,
                codes::INVALID_VALUE,
                format!("env_file `{written}` is not UTF-8 text"),
                &pos,
            );
            continue;
        };
        let read = if raw {
            Ok(raw_env_file(text))
        } else {
            crate::dotenv::parse_env_file(text, env)
        };
        match read {
            Ok(pairs) => {
                for (name, value) in pairs {
                    variables.retain(|(existing, _)| existing != &name);
                    variables.push((name, value));
                }
            }
            Err(e) => r.at(
                Severity::Error,
                codes::INVALID_VALUE,
                format!("env_file `{written}`, {e}"),
                &pos,
            ),
        }
    }
    variables
}

/// One `env_file` entry: its path, whether it must exist, and whether its format is `raw`.
fn env_file_entry(node: &Node, path: &str, r: &mut Reader) -> Option<(String, bool, bool)> {
    let Value::Map(fields) = &node.value else {
        return r.string(node, path).map(|p| (p, true, false));
    };
    let (mut file, mut required, mut raw) = (None, true, false);
    for (k, v) in fields {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "path" => file = r.string(v, &kpath),
            "required" => required = r.bool(v, &kpath).unwrap_or(true),
            "format" => match r.string(v, &kpath).as_deref() {
                Some("raw") => raw = true,
                None | Some("") => {}
                Some(other) => r.error(
                    codes::INVALID_VALUE,
                    format!("env_file format `{other}` is unknown (Compose knows `raw`)"),
                    v,
                    &kpath,
                ),
            },
            _ => r.unknown_key(k, &kpath, &["path", "required", "format"]),
        }
    }
    if file.is_none() {
        r.error(
            codes::MISSING_KEY,
            "an env_file entry in long syntax needs `path:`",
            node,
            path,
        );
    }
    file.map(|f| (f, required, raw))
}

/// `format: raw`: `KEY=VALUE` lines taken as written (no quotes, escapes or interpolation);
/// blank and `#` lines skipped.
fn raw_env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| (name.trim().to_string(), value.to_string()))
        .collect()
}

/// A config's or secret's `mode:`, read as octal as Compose writes it (`0440`, `"0440"`).
fn file_mode(node: &Node, path: &str, r: &mut Reader) -> Option<i32> {
    // The YAML reader reads `0440` as the number 440: its digits are the octal ones written.
    let digits = r.string(node, path)?;
    let digits = digits.strip_prefix("0o").unwrap_or(&digits);
    match i32::from_str_radix(digits, 8) {
        Ok(mode) if (0..=0o777).contains(&mode) => Some(mode),
        _ => {
            r.error(
                codes::INVALID_VALUE,
                format!("`mode` must be a file mode in octal, such as 0440, not `{digits}`"),
                node,
                path,
            );
            None
        }
    }
}

/// A written path as a project path, or an error at `pos` when it climbs out of the folder.
fn project_path(written: &str, pos: &Pos, r: &mut Reader) -> Option<String> {
    match bundle::project_path(written) {
        Ok(path) => Some(path),
        Err(why) => {
            r.at(Severity::Error, codes::OUTSIDE_PROJECT, why, pos);
            None
        }
    }
}

/// Stores a file's bytes under a key of its own, once per (store, source).
fn store(r: &mut Reader, store: Store, source: &str, bytes: &[u8], pos: &Pos) -> String {
    store_bytes(r, store, source, bytes.to_vec(), pos)
}

fn store_bytes(r: &mut Reader, store: Store, source: &str, bytes: Vec<u8>, pos: &Pos) -> String {
    let id = (store, source.to_string());
    if let Some(key) = r.stored_keys.get(&id) {
        return key.clone();
    }
    let map = match store {
        Store::ConfigMap => &mut r.stored.config_map,
        Store::Secret => &mut r.stored.secret,
    };
    let base = store_key(source);
    let mut key = base.clone();
    let mut n = 2;
    while map.contains_key(&key) {
        key = format!("{base}-{n}");
        n += 1;
    }
    map.insert(
        key.clone(),
        StoredFile {
            bytes,
            pos: pos.clone(),
        },
    );
    r.stored_keys.insert(id, key.clone());
    key
}

/// A ConfigMap or Secret key for a source (Kubernetes allows `[-._a-zA-Z0-9]`, at most 253,
/// not starting with `..`): `/` becomes `_`, other characters `-`.
fn store_key(source: &str) -> String {
    let source = source
        .strip_prefix("config:")
        .or_else(|| source.strip_prefix("secret:"))
        .unwrap_or(source);
    let mut key: String = source
        .chars()
        .map(|c| match c {
            '/' => '_',
            c if c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_') => c,
            _ => '-',
        })
        .take(200)
        .collect();
    if key.is_empty() || key.starts_with('.') {
        key.insert(0, '_');
    }
    key
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn join(folder: &str, inside: &str) -> String {
    if folder.is_empty() {
        inside.to_string()
    } else {
        format!("{folder}/{inside}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_what_kubernetes_accepts() {
        assert_eq!(store_key("conf/nginx.conf"), "conf_nginx.conf");
        assert_eq!(store_key(".htaccess"), "_.htaccess");
        assert_eq!(store_key("config:db password"), "db-password");
        assert_eq!(store_key("ünï"), "-n-");
        assert!(store_key(&"a".repeat(400)).len() <= 253);
    }

    #[test]
    fn raw_env_files_keep_values_as_written() {
        let pairs = raw_env_file("# c\nA=\"x\" # y\n\nB=$C\n");
        assert_eq!(
            pairs,
            [("A".into(), "\"x\" # y".into()), ("B".into(), "$C".into())]
        );
    }
}
