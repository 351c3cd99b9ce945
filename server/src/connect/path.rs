//! Proxy paths: which system and port a `/connect/…` path names, the rest of the path made safe,
//! and the path the app receives.

use tycho_api::Rewrite;

/// Every proxied path starts with this.
pub const PREFIX: &str = "/connect/";

/// The first segment after [`PREFIX`]: `<guid>` for the primary port, `<guid>.<port>` for
/// another published port (GUIDs are letters and digits only, so the dot is unambiguous).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    pub guid: String,
    pub port: Option<u16>,
}

impl Selector {
    pub fn parse(segment: &str) -> Option<Selector> {
        let (guid, port) = match segment.split_once('.') {
            Some((guid, port)) => (guid, Some(port.parse::<u16>().ok().filter(|p| *p > 0)?)),
            None => (segment, None),
        };
        tycho_compiler::is_guid(guid).then(|| Selector {
            guid: guid.to_string(),
            port,
        })
    }

    /// The browser-side prefix of this selector, ending in `/`.
    pub fn prefix(&self) -> String {
        match self.port {
            None => format!("{PREFIX}{}/", self.guid),
            Some(port) => format!("{PREFIX}{}.{port}/", self.guid),
        }
    }
}

/// The path after the prefix with `.` and `..` segments resolved (also percent-encoded ones,
/// which some servers decode), never climbing above the prefix. Other bytes stay as sent.
pub fn normalise(rest: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    let parts: Vec<&str> = rest.split('/').collect();
    let last = parts.len().saturating_sub(1);
    for (i, segment) in parts.iter().enumerate() {
        match dots(segment) {
            1 => {}
            2 => {
                segments.pop();
            }
            _ if segment.is_empty() && i != last => {} // `//` collapses
            _ => segments.push(segment),
        }
        // A trailing `.` or `..` names a folder: keep the trailing slash.
        if i == last && dots(segment) > 0 {
            segments.push("");
        }
    }
    segments.join("/")
}

/// 1 for `.`, 2 for `..` (in any percent-encoding of the dots), 0 otherwise.
fn dots(segment: &str) -> usize {
    let lower = segment.to_ascii_lowercase();
    match lower.replace("%2e", ".").as_str() {
        "." => 1,
        ".." => 2,
        _ => 0,
    }
}

/// The path the app receives for `rest` (already normalised) under `prefix`.
pub fn upstream_path(prefix: &str, rest: &str, rewrite: &Rewrite) -> String {
    match rewrite {
        Rewrite::Keep => format!("{prefix}{rest}"),
        Rewrite::Strip => format!("/{rest}"),
        Rewrite::Target(target) => {
            let target = target.trim_end_matches('/');
            format!("{target}/{rest}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors() {
        assert_eq!(
            Selector::parse("abc123"),
            Some(Selector {
                guid: "abc123".into(),
                port: None
            })
        );
        assert_eq!(Selector::parse("abc.8080").unwrap().port, Some(8080));
        assert_eq!(
            Selector::parse("abc.8080").unwrap().prefix(),
            "/connect/abc.8080/"
        );
        for bad in [
            "",
            "ABC",
            "a-b",
            "abc.",
            "abc.0",
            "abc.99999",
            "abc.x",
            "..",
            "%2e",
        ] {
            assert_eq!(Selector::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn dot_segments_never_leave_the_prefix() {
        assert_eq!(normalise("lab/tree"), "lab/tree");
        assert_eq!(normalise(""), "");
        assert_eq!(normalise("a/"), "a/");
        assert_eq!(normalise("../../api/v1/systems"), "api/v1/systems");
        assert_eq!(normalise("a/../../b"), "b");
        assert_eq!(normalise("%2e%2e/%2E%2e/x"), "x");
        assert_eq!(normalise("a/./b/."), "a/b/");
        assert_eq!(normalise("a/.."), "");
        assert_eq!(normalise("a//b"), "a/b");
        assert_eq!(normalise("a%2fb/c"), "a%2fb/c");
    }

    #[test]
    fn rewrites() {
        let p = "/connect/g/";
        assert_eq!(upstream_path(p, "lab", &Rewrite::Keep), "/connect/g/lab");
        assert_eq!(upstream_path(p, "lab", &Rewrite::Strip), "/lab");
        assert_eq!(upstream_path(p, "", &Rewrite::Strip), "/");
        assert_eq!(
            upstream_path(p, "x", &Rewrite::Target("/app/".into())),
            "/app/x"
        );
    }
}
