//! Names that come from users and end up in objects or paths: usernames, annotation keys and
//! claim subpaths. Each rule is what the API server (or the kubelet) enforces, or what keeps one
//! user's input from reaching what belongs to Tycho, the cluster or another user.

use crate::labels;

/// Longest system name: `<name>-<guid>` must fit the 63 characters of a Kubernetes name.
pub const MAX_SYSTEM_NAME: usize = 30;
/// Longest GUID (a UUID in hex without dashes).
pub const MAX_GUID: usize = 32;

/// A stable GUID derived from the input, for offline compiles that were given none
/// (so compiling the same file twice gives the same names).
pub fn content_guid(text: &str, name: &str) -> String {
    // FNV-1a, 64 bits twice with different offsets: stable across platforms, no dependency.
    let hash = |seed: u64| {
        let mut h = seed;
        for b in name.bytes().chain([0]).chain(text.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h
    };
    format!(
        "{:016x}{:016x}",
        hash(0xcbf2_9ce4_8422_2325),
        hash(0x6c62_272e_07bb_0142)
    )
}

/// A short stable hash of `parts` (10 hex digits of FNV-1a over them, each ended by a 0 byte)
/// for names that must be the same on every compile of the same inputs and differ between
/// inputs that clean to the same text (`a_b` and `a-b`). Not for security: whoever relies on a
/// name it made also checks the object's owner.
pub fn name_hash(parts: &[&str]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in parts.iter().flat_map(|p| p.bytes().chain([0])) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    format!("{:010x}", h >> 24)
}

/// Longest username Tycho accepts, in bytes (it is copied into an annotation and into paths).
pub const MAX_USERNAME_BYTES: usize = 256;

/// The API server's limit on all annotations of one object together (keys and values, in
/// bytes): `TotalAnnotationSizeLimitB` in apimachinery.
pub const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;

/// A GUID as Tycho makes them: 1 to [`MAX_GUID`] lowercase letters and digits. Anything
/// else could change a label selector or a proxy path, so it is refused wherever one enters.
pub fn is_guid(guid: &str) -> bool {
    !guid.is_empty()
        && guid.len() <= MAX_GUID
        && guid
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A compose service name as Kubernetes can use it (a DNS label: container name, host alias):
/// lower-case, `_` and `.` and anything else as `-`, no `-` at the ends. Compose accepts
/// `appFoo`, `NGINX` and `front_end`; they become `appfoo`, `nginx` and `front-end`, the same
/// everywhere the name appears (containers, host names, `depends_on`, the connect target).
pub fn kubernetes_name(service: &str) -> String {
    let mapped: String = service
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    mapped.trim_matches('-').to_string()
}

/// What Kubernetes accepts as an environment variable's name: printable ASCII other than `=`,
/// not empty (Compose is laxer, so the compiler says so at the name instead of the API server
/// refusing the pod).
pub fn check_env_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("an environment variable needs a name (this entry starts with `=`)".into());
    }
    if name.chars().any(|c| c == '=' || !(' '..='~').contains(&c)) {
        return Err(format!(
            "`{name}` cannot be an environment variable's name in Kubernetes: names are printable ASCII characters other than `=`"
        ));
    }
    Ok(())
}

/// The system name for a compose file in `folder` that names itself no other way, as Compose
/// names a project after its folder: lower-case, other characters as `-`, trimmed to a DNS
/// label of at most [`MAX_SYSTEM_NAME`] characters that starts with a letter. Empty when
/// nothing of the folder's name is left (the compiler then uses its default name).
pub fn system_name_from_folder(folder: &str) -> String {
    let label: String = kubernetes_name(folder)
        .chars()
        .take(MAX_SYSTEM_NAME)
        .collect();
    label
        .trim_start_matches(|c: char| !c.is_ascii_alphabetic())
        .trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
        .to_string()
}

/// Checks a username where it enters Tycho (tokens file, trusted header, compat principal).
///
/// Usernames are copied into annotations, Ambassador mappings, `{username}` claim subpaths and
/// log lines, so anything that could end a line or hide in one is refused, as is a name so long
/// it is not a name.
pub fn check_username(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a username cannot be empty".into());
    }
    if name.len() > MAX_USERNAME_BYTES {
        return Err(format!(
            "a username may be at most {MAX_USERNAME_BYTES} bytes, this one is {}",
            name.len()
        ));
    }
    if let Some(c) = name.chars().find(|c| is_line_or_control(*c)) {
        return Err(format!(
            "a username cannot hold control characters or line breaks (found U+{:04X})",
            u32::from(c)
        ));
    }
    if name.trim() != name {
        return Err("a username cannot start or end with whitespace".into());
    }
    Ok(())
}

/// Control characters (newline, carriage return, tab, escape, DEL, C1) and the Unicode line
/// and paragraph separators, which some readers also take as line breaks.
fn is_line_or_control(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')
}

/// A qualified name as the API server checks annotation and label keys: an optional prefix
/// (a lowercase DNS subdomain of at most 253 characters) and `/`, then a name of at most 63
/// letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit.
pub fn check_qualified_name(key: &str) -> Result<(), &'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(prefix) = prefix
        && (prefix.is_empty() || prefix.len() > 253 || !prefix.split('.').all(is_dns_label))
    {
        return Err("has a prefix that is not a lowercase DNS subdomain of at most 253 characters");
    }
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric();
    if ok {
        Ok(())
    } else {
        Err(
            "is not a qualified name (an optional DNS prefix and `/`, then at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit)",
        )
    }
}

/// Prefixes whose keys mean something to Kubernetes or to Tycho. A key under one of them (or
/// under a subdomain of one, e.g. `container.apparmor.security.beta.kubernetes.io`) set by a
/// user could switch a security feature off or make an object look like something it is not.
const RESERVED_PREFIXES: [&str; 3] = ["kubernetes.io", "k8s.io", labels::TYCHO_PREFIX];

/// Why a user may not set this annotation or label key, or `None` when they may.
pub fn reserved_key(key: &str) -> Option<String> {
    if let Some((prefix, _)) = key.split_once('/') {
        let prefix = prefix.to_ascii_lowercase();
        let owner = RESERVED_PREFIXES
            .iter()
            .find(|r| prefix == **r || prefix.ends_with(&format!(".{r}")))?;
        let whose = if *owner == labels::TYCHO_PREFIX {
            "Tycho"
        } else {
            "Kubernetes"
        };
        return Some(format!("the prefix `{prefix}/` is reserved for {whose}"));
    }
    labels::UNPREFIXED_KEYS
        .contains(&key)
        .then(|| format!("`{key}` is a key Tycho sets on every object"))
}

/// A claim subpath as written after `pvc://CLAIM/` or in `volume: {subpath}`: relative,
/// without empty, `.` or `..` segments (the kubelet refuses `..` and absolute paths; the rest
/// would let two spellings name one directory).
pub fn check_subpath(subpath: &str) -> Result<(), String> {
    if subpath.starts_with('/') {
        return Err(format!(
            "the subpath `{subpath}` is absolute; write it relative to the claim"
        ));
    }
    if let Some(segment) = subpath
        .split('/')
        .find(|s| s.is_empty() || *s == "." || *s == "..")
    {
        let what = if segment.is_empty() {
            "an empty segment (`//`)".to_string()
        } else {
            format!("a `{segment}` segment")
        };
        return Err(format!(
            "the subpath `{subpath}` has {what}; name the directory directly"
        ));
    }
    if subpath.chars().any(is_line_or_control) {
        return Err(format!(
            "the subpath `{}` holds a control character",
            subpath.escape_debug()
        ));
    }
    Ok(())
}

pub(crate) fn is_dns_label(label: &str) -> bool {
    let b = label.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_name_becomes_a_dns_label() {
        for (folder, name) in [
            ("my-app", "my-app"),
            ("My App_2", "my-app-2"),
            ("2024 Notebook", "notebook"),
            ("--x--", "x"),
            ("ünïcode", "n-code"),
            ("123", ""),
            (
                "a-very-long-folder-name-that-goes-on-and-on",
                "a-very-long-folder-name-that-g",
            ),
        ] {
            assert_eq!(system_name_from_folder(folder), name, "{folder}");
        }
    }

    #[test]
    fn usernames_without_control_characters_pass() {
        for ok in ["alice", "alice@example.org", "Åsa Öberg", "bob.smith", "x"] {
            assert_eq!(check_username(ok), Ok(()), "{ok}");
        }
        assert!(check_username(&"a".repeat(MAX_USERNAME_BYTES)).is_ok());
    }

    #[test]
    fn usernames_that_could_break_a_line_or_a_limit_are_refused() {
        let refused = [
            ("", "empty"),
            ("alice\nprefix: /private/", "control"),
            ("alice\r", "control"),
            ("al\tice", "control"),
            ("al\u{7f}ice", "control"),
            ("al\u{85}ice", "control"),
            ("al\u{2028}ice", "control"),
            ("bob ", "whitespace"),
            (" bob", "whitespace"),
        ];
        for (name, why) in refused {
            let error = check_username(name).expect_err(name);
            assert!(error.contains(why), "{name:?}: {error}");
        }
        let long = "é".repeat(MAX_USERNAME_BYTES / 2 + 1);
        assert!(check_username(&long).unwrap_err().contains("256 bytes"));
    }

    #[test]
    fn qualified_names() {
        assert!(check_qualified_name("nginx.ingress.kubernetes.io/proxy-body-size").is_ok());
        assert!(check_qualified_name("plain").is_ok());
        assert!(check_qualified_name("com.example.Label_1").is_ok());
        for bad in [
            "bad key",
            "Bad.Prefix/x",
            "/x",
            "a/b/c",
            "x/",
            "-x",
            "x-",
            "",
            &"n".repeat(64),
            &format!("{}/x", "p".repeat(254)),
        ] {
            assert!(check_qualified_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn kubernetes_and_tycho_keys_are_reserved() {
        for key in [
            "container.apparmor.security.beta.kubernetes.io/web",
            "kubernetes.io/psp",
            "seccomp.security.alpha.kubernetes.io/pod",
            "node.k8s.io/x",
            "k8s.io/x",
            "Kubernetes.IO/x",
            "tycho.io/username",
            "x.tycho.io/y",
            "tycho-guid",
            "executor",
            "username",
        ] {
            assert!(reserved_key(key).is_some(), "{key}");
        }
        for key in [
            "com.example/x",
            "notkubernetes.io/x",
            "kubernetes.io.example.org/x",
            "traefik.enable",
            "description",
        ] {
            assert_eq!(reserved_key(key), None, "{key}");
        }
    }

    #[test]
    fn subpaths_stay_below_the_claim() {
        for ok in ["projects", "home/alice", "a.b/c-d", "..a/b.."] {
            assert_eq!(check_subpath(ok), Ok(()), "{ok}");
        }
        for bad in ["/etc", "..", "a/../b", "a//b", "./a", "a/.", "a\nb"] {
            assert!(check_subpath(bad).is_err(), "{bad}");
        }
    }
}
