//! `volumes:` of a service (short and long syntax; Tycho's `pvc://claim/subpath`), `tmpfs:`
//! and `shm_size:`.

use super::files;
use super::keys;
use super::reader::{Reader, child};
use crate::codes;
use crate::model::{Mount, MountSource, Sized, Tmpfs};
use crate::quantity;
use crate::yaml::{Node, Value};

pub fn load_mounts(node: &Node, path: &str, r: &mut Reader, tmpfs: &mut Vec<Tmpfs>) -> Vec<Mount> {
    let mut mounts = Vec::new();
    for (i, item) in r.list(node, path).unwrap_or(&[]).iter().enumerate() {
        let ipath = child(path, &i.to_string());
        let mount = match &item.value {
            Value::Map(_) => long_syntax(item, &ipath, r, tmpfs),
            _ => r
                .string(item, &ipath)
                .and_then(|text| match short_syntax(&text) {
                    Ok((parts, source)) => {
                        let pos = r.pos(item, &ipath);
                        resolve(source, &pos, r).map(|source| Mount {
                            source,
                            pos,
                            ..parts
                        })
                    }
                    Err(message) => {
                        r.error(codes::INVALID_VOLUME, message, item, &ipath);
                        None
                    }
                }),
        };
        mounts.extend(mount);
    }
    mounts
}

/// A mount's source as written: one the model names directly, or a path relative to the
/// compose file, which depends on what was sent with it.
#[derive(Debug, PartialEq)]
enum Source {
    Model(MountSource),
    Relative(String),
}

fn resolve(source: Source, pos: &crate::model::Pos, r: &mut Reader) -> Option<MountSource> {
    match source {
        Source::Model(source) => Some(source),
        Source::Relative(path) => files::bind_source(&path, pos, r),
    }
}

/// `SOURCE:TARGET[:MODE]`, `TARGET`, or Tycho's `pvc://claim[/subpath]:TARGET[:MODE]`: the
/// mount (its source left anonymous) and its source.
fn short_syntax(text: &str) -> Result<(Mount, Source), String> {
    if let Some(windows) = windows_path(text) {
        return Err(format!(
            "`{text}`: `{windows}` is a Windows path, and no cluster node has it; use a named volume or pvc://CLAIM"
        ));
    }
    let (source, rest) = if let Some(after) = text.strip_prefix("pvc://") {
        let (claim_path, rest) = after
            .split_once(':')
            .ok_or_else(|| format!("`{text}`: write pvc://CLAIM[/SUBPATH]:/MOUNT/PATH"))?;
        (Some(claim_path.to_string()), rest.to_string())
    } else {
        match text.split_once(':') {
            Some((source, rest)) => (Some(source.to_string()), rest.to_string()),
            None => (None, text.to_string()),
        }
    };
    let (target, mode) = match rest.split_once(':') {
        Some((t, m)) => (t.to_string(), m.to_string()),
        None => (rest, String::new()),
    };
    let read_only = parse_mode(&mode, text)?;
    check_target(&target, text)?;
    let (source, subpath) = match source {
        None => (Source::Model(MountSource::Anonymous), None),
        Some(claim_path) if text.starts_with("pvc://") => {
            let (claim, subpath) = claim(&claim_path, text)?;
            (Source::Model(claim), subpath)
        }
        Some(source) => (classify(&source, text)?, None),
    };
    let mount = Mount {
        source: MountSource::Anonymous,
        target,
        read_only,
        subpath,
        pos: Default::default(),
    };
    Ok((mount, source))
}

/// The Windows host path a short-syntax mount starts with (`C:\data`, `d:/x`), if any: its
/// drive letter's `:` would otherwise be read as the separator before the target.
fn windows_path(text: &str) -> Option<&str> {
    let bytes = text.as_bytes();
    let drive = bytes.len() > 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    if !drive {
        return None;
    }
    Some(text[2..].find(':').map_or(text, |end| &text[..end + 2]))
}

/// `CLAIM[/SUBPATH]` after `pvc://`. A trailing `/` is dropped; the subpath must stay below
/// the claim (see [`crate::names::check_subpath`]).
fn claim(claim_path: &str, whole: &str) -> Result<(MountSource, Option<String>), String> {
    let (claim, subpath) = match claim_path.split_once('/') {
        Some((c, s)) => (c, Some(s.strip_suffix('/').unwrap_or(s).to_string())),
        None => (claim_path, None),
    };
    let subpath = subpath.filter(|s| !s.is_empty());
    if let Some(subpath) = &subpath {
        crate::names::check_subpath(subpath).map_err(|why| format!("`{whole}`: {why}"))?;
    }
    if !crate::names::is_dns_label(claim) {
        return Err(format!(
            "`{whole}`: `{claim}` is not a valid claim name (lowercase letters, digits and `-`)"
        ));
    }
    Ok((MountSource::Claim(claim.to_string()), subpath))
}

/// A short-syntax source: a host path, a path relative to the compose file (both bind
/// mounts) or a named volume.
fn classify(source: &str, whole: &str) -> Result<Source, String> {
    if source.starts_with('/') {
        return Ok(Source::Model(MountSource::HostPath(source.to_string())));
    }
    if source.starts_with('.') {
        return Ok(Source::Relative(source.to_string()));
    }
    if source.starts_with('~') {
        return Err(format!(
            "`{whole}`: `{source}` is in a home folder of your machine, which no cluster node has; put it beside the compose file (`./…`), or use a named volume or pvc://CLAIM"
        ));
    }
    if source.starts_with("TYCHO_NFS") {
        return Err(format!(
            "`{whole}`: the original Tycho's TYCHO_NFS placeholder is not supported; mount an existing claim with pvc://CLAIM/SUBPATH"
        ));
    }
    let valid = source
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && source
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !valid {
        return Err(format!(
            "`{whole}`: `{source}` is neither an absolute host path nor a volume name"
        ));
    }
    Ok(Source::Model(MountSource::Named(source.to_string())))
}

fn parse_mode(mode: &str, whole: &str) -> Result<bool, String> {
    let mut read_only = false;
    for flag in mode.split(',').filter(|f| !f.is_empty()) {
        match flag {
            "ro" => read_only = true,
            "rw" | "z" | "Z" | "cached" | "delegated" | "consistent" | "nocopy" => {}
            other => {
                return Err(format!(
                    "`{whole}`: unknown volume mode `{other}` (expected ro or rw)"
                ));
            }
        }
    }
    Ok(read_only)
}

fn check_target(target: &str, whole: &str) -> Result<(), String> {
    if !target.starts_with('/') {
        return Err(format!(
            "`{whole}`: the mount path `{target}` must be absolute"
        ));
    }
    Ok(())
}

fn long_syntax(node: &Node, path: &str, r: &mut Reader, tmpfs: &mut Vec<Tmpfs>) -> Option<Mount> {
    let mut kind = String::from("volume");
    let mut source = None;
    let mut target = None;
    let mut read_only = false;
    let mut subpath = None;
    let mut size = None;
    let mut subpath_refused = false;
    let mut ignored = Vec::new();
    for (k, v) in r.map(node, path)? {
        let kname = k.text();
        let kpath = child(path, &kname);
        match kname.as_str() {
            "type" => kind = r.string(v, &kpath)?,
            "source" => source = r.string(v, &kpath),
            "target" => target = r.string(v, &kpath),
            "read_only" => read_only = r.bool(v, &kpath).unwrap_or(false),
            "volume" => {
                for (vk, vv) in r.map(v, &kpath).unwrap_or(&[]) {
                    let vpath = child(&kpath, &vk.text());
                    match vk.text().as_str() {
                        "subpath" => match checked_subpath(vv, &vpath, r) {
                            Some(checked) => subpath = Some(checked),
                            // Reported at the subpath; the mount is left out, not widened.
                            None => subpath_refused = true,
                        },
                        "nocopy" => {}
                        _ => r.unknown_key(vk, &vpath, &["subpath", "nocopy"]),
                    }
                }
            }
            "tmpfs" => {
                for (tk, tv) in r.map(v, &kpath).unwrap_or(&[]) {
                    let tpath = child(&kpath, &tk.text());
                    match tk.text().as_str() {
                        "size" => size = self::size(tv, &tpath, r).map(|s| s.bytes),
                        "mode" => {}
                        _ => r.unknown_key(tk, &tpath, &["size", "mode"]),
                    }
                }
            }
            "bind" => {} // propagation and SELinux options have no Kubernetes counterpart
            _ => r.other_key(k, &kpath, keys::MOUNT, &mut ignored),
        }
    }
    r.diagnostics_from_not_translated(&ignored);
    if subpath_refused {
        return None;
    }
    let Some(target) = target else {
        r.error(
            codes::MISSING_KEY,
            "a volume in long syntax needs `target:`",
            node,
            path,
        );
        return None;
    };
    if let Err(message) = check_target(&target, &target) {
        r.error(codes::INVALID_VOLUME, message, node, path);
        return None;
    }
    let pos = r.pos(node, path);
    let source = match (kind.as_str(), source) {
        ("tmpfs", _) => {
            tmpfs.push(Tmpfs { target, size, pos });
            return None;
        }
        ("volume", None) => MountSource::Anonymous,
        ("volume", Some(s)) if s.starts_with("pvc://") => match claim(&s["pvc://".len()..], &s) {
            Ok((claim, sub)) => {
                subpath = subpath.or(sub);
                claim
            }
            Err(message) => {
                r.error(codes::INVALID_VOLUME, message, node, path);
                return None;
            }
        },
        ("volume" | "bind", Some(s)) => match classify(&s, &s) {
            // `type: bind` with a plain name is a path relative to the compose file too.
            Ok(Source::Model(MountSource::Named(name))) if kind == "bind" => {
                files::bind_source(&name, &pos, r)?
            }
            Ok(source) => resolve(source, &pos, r)?,
            Err(message) => {
                r.error(codes::INVALID_VOLUME, message, node, path);
                return None;
            }
        },
        ("bind", None) => {
            r.error(
                codes::MISSING_KEY,
                "a bind mount needs `source:`",
                node,
                path,
            );
            return None;
        }
        (other, _) => {
            r.warn(
                codes::NOT_TRANSLATED,
                format!("not translated: volume type `{other}` (use volume, bind or tmpfs)"),
                node,
                path,
            );
            return None;
        }
    };
    Some(Mount {
        source,
        target,
        read_only,
        subpath,
        pos,
    })
}

/// `volume: {subpath}` in long syntax, refused at its value when it leaves the volume.
fn checked_subpath(node: &Node, path: &str, r: &mut Reader) -> Option<String> {
    let subpath = r.string(node, path)?;
    match crate::names::check_subpath(&subpath) {
        Ok(()) => Some(subpath),
        Err(why) => {
            r.error(codes::INVALID_VOLUME, why, node, path);
            None
        }
    }
}

pub fn load_tmpfs(node: &Node, path: &str, r: &mut Reader) -> Vec<Tmpfs> {
    r.strings(node, path)
        .into_iter()
        .filter_map(|(text, pos)| {
            // `/run:size=64m,mode=1777`: only the path and the size matter here.
            let (target, options) = text.split_once(':').unwrap_or((text.as_str(), ""));
            if !target.starts_with('/') {
                r.at(
                    crate::Severity::Error,
                    codes::INVALID_VOLUME,
                    format!("tmpfs path `{target}` must be absolute"),
                    &pos,
                );
                return None;
            }
            let size = options
                .split(',')
                .find_map(|o| o.strip_prefix("size="))
                .and_then(quantity::parse_compose_bytes);
            Some(Tmpfs {
                target: target.to_string(),
                size,
                pos,
            })
        })
        .collect()
}

pub fn size(node: &Node, path: &str, r: &mut Reader) -> Option<Sized> {
    let text = r.string(node, path)?;
    match quantity::parse_compose_bytes(&text) {
        Some(bytes) => Some(Sized {
            bytes,
            pos: r.pos(node, path),
        }),
        None => {
            r.error(
                codes::INVALID_QUANTITY,
                format!("`{text}` is not a size; write e.g. 64m or 1g"),
                node,
                path,
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mount with its source, as [`load_mounts`] would have it before a relative path is
    /// looked up.
    fn short_syntax(text: &str) -> Result<Mount, String> {
        let (mount, source) = super::short_syntax(text)?;
        let source = match source {
            Source::Model(source) => source,
            Source::Relative(path) => MountSource::HostPath(format!("relative:{path}")),
        };
        Ok(Mount { source, ..mount })
    }

    #[test]
    fn short_syntax_sources() {
        assert_eq!(
            short_syntax("./conf/nginx.conf:/etc/nginx/nginx.conf:ro")
                .unwrap()
                .source,
            MountSource::HostPath("relative:./conf/nginx.conf".into())
        );
        let m = short_syntax("pvc://cloud-top/projects:/work/data").unwrap();
        assert_eq!(m.source, MountSource::Claim("cloud-top".into()));
        assert_eq!(m.subpath.as_deref(), Some("projects"));
        assert_eq!(m.target, "/work/data");
        let m = short_syntax("pvc://home/alice/:/home").unwrap();
        assert_eq!(m.subpath.as_deref(), Some("alice"));
        assert_eq!(short_syntax("pvc://home/:/home").unwrap().subpath, None);
        let m = short_syntax("data:/var/lib/db:ro").unwrap();
        assert_eq!(
            (m.source, m.read_only),
            (MountSource::Named("data".into()), true)
        );
        assert_eq!(
            short_syntax("/srv:/srv").unwrap().source,
            MountSource::HostPath("/srv".into())
        );
        assert_eq!(
            short_syntax("/cache").unwrap().source,
            MountSource::Anonymous
        );
    }

    #[test]
    fn short_syntax_errors() {
        for bad in [
            "~/x:/x",
            "TYCHO_NFS/a:/b",
            "data:relative",
            "data:/x:bogus",
            "pvc://Bad_Claim:/x",
            "a/b:/c",
            "pvc://home/../bob:/home",
            "pvc://home/alice/../../bob:/home",
            "pvc://home//etc:/x",
            "pvc://home/a//b:/x",
            "pvc://home/./a:/x",
        ] {
            assert!(short_syntax(bad).is_err(), "{bad} must be refused");
        }
    }
}
