//! The log pane's rules, pure so they are tested natively: which container a system's page
//! shows first, the route it reads, how many lines it keeps and what a refusal means in words.

use tycho_api::{Problem, SystemStatus};

/// Lines the pane asks for when it opens (the server's own default).
pub const TAIL: u32 = 1_000;
/// Lines a download asks for: the most the server gives in one answer.
pub const DOWNLOAD_TAIL: u32 = 10_000;
/// Lines the pane keeps while following; older ones scroll away (the download has more).
pub const KEPT_LINES: usize = 5_000;

/// The container whose log a system's page shows first: one that keeps failing (not ready and
/// restarted), else the one Open serves, else the first. `None` without containers.
pub fn first_container(system: &SystemStatus) -> Option<String> {
    let crashing = system
        .containers
        .iter()
        .find(|c| !c.ready && c.restarts > 0);
    let opened = system
        .connect
        .as_ref()
        .and_then(|target| system.containers.iter().find(|c| c.name == target.service));
    crashing
        .or(opened)
        .or(system.containers.first())
        .map(|c| c.name.clone())
}

/// What the pane asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub container: String,
    /// Keep the answer open for new lines (never with `previous`: that instance has ended).
    pub follow: bool,
    /// The instance before the last restart.
    pub previous: bool,
    pub tail: u32,
}

impl LogQuery {
    pub fn path(&self, guid: &str) -> String {
        let mut path = format!(
            "/api/v1/systems/{guid}/logs?container={}&tail={}",
            query_escape(&self.container),
            self.tail
        );
        if self.previous {
            path.push_str("&previous=true");
        } else if self.follow {
            path.push_str("&follow=true");
        }
        path
    }
}

/// A query value with everything but unreserved characters percent-encoded (container names
/// are DNS labels, but the page must not trust that).
fn query_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Appends `chunk` to the shown text, dropping the oldest lines beyond `keep`.
pub fn append_kept(text: &mut String, chunk: &str, keep: usize) {
    text.push_str(chunk);
    let lines = text.matches('\n').count();
    if lines > keep
        && let Some((cut, _)) = text.match_indices('\n').nth(lines - keep - 1)
    {
        text.drain(..=cut);
    }
}

/// The bytes of `pending` up to its last newline, as text; the rest (a line still being
/// written, or a character split across chunks) stays for the next chunk.
pub fn whole_lines(pending: &mut Vec<u8>) -> Option<String> {
    let end = pending.iter().rposition(|b| *b == b'\n')?;
    let lines: Vec<u8> = pending.drain(..=end).collect();
    Some(String::from_utf8_lossy(&lines).into_owned())
}

/// A refused log request in words, with what to do next.
pub fn explain(problem: &Problem, previous: bool) -> String {
    let detail = problem.detail.as_str();
    if problem.status == 400 && previous {
        "This container has not restarted, so there is no earlier run to show. Clear \
         \u{201c}Previous run\u{201d} to see the current one."
            .into()
    } else if problem.status == 400 && detail.contains("waiting to start") {
        "No log yet: the container has not started (its image may still be pulling, or cannot \
         be pulled: see the Kubernetes events below)."
            .into()
    } else if problem.status == 404 && detail.contains("no pod") {
        "No log yet: the system has no pod. See the Kubernetes events below for why.".into()
    } else if detail.is_empty() {
        problem.title.clone()
    } else {
        format!("{}: {detail}", problem.title)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tycho_api::{ConnectTarget, ContainerState};

    fn container(name: &str, ready: bool, restarts: i32) -> ContainerState {
        ContainerState {
            name: name.into(),
            image: "busybox".into(),
            ready,
            restarts,
            state: "running".into(),
            reason: String::new(),
            limits: Default::default(),
        }
    }

    fn system(containers: Vec<ContainerState>, opened: Option<&str>) -> SystemStatus {
        let mut s: SystemStatus = serde_json::from_value(serde_json::json!({
            "guid": "g", "name": "n", "username": "u", "phase": "Running", "ready": 1,
            "desired": 1, "ports": [], "created": "", "age_seconds": 0,
            "resources": {}, "containers": [], "object_name": "n-g", "address": "",
            "last_activity": ""
        }))
        .expect("a status");
        s.containers = containers;
        s.connect = opened.map(|service| ConnectTarget {
            service: service.into(),
            container_port: 8080,
            port: 8080,
            path: "/connect/g/".into(),
            url: String::new(),
            rewrite: Default::default(),
            served_by: Default::default(),
        });
        s
    }

    #[test]
    fn the_first_log_shown_is_the_crashing_container_then_the_opened_one() {
        let db = container("db", true, 0);
        let web = container("web", true, 0);
        let worker = container("worker", false, 3);
        assert_eq!(
            first_container(&system(vec![db.clone(), web.clone()], Some("web"))),
            Some("web".into())
        );
        assert_eq!(
            first_container(&system(vec![db.clone(), web.clone(), worker], Some("web"))),
            Some("worker".into())
        );
        assert_eq!(
            first_container(&system(vec![db, web], None)),
            Some("db".into())
        );
        assert_eq!(first_container(&system(vec![], None)), None);
    }

    #[test]
    fn the_path_follows_or_asks_for_the_previous_run_never_both() {
        let mut q = LogQuery {
            container: "web".into(),
            follow: true,
            previous: false,
            tail: TAIL,
        };
        assert_eq!(
            q.path("abc"),
            "/api/v1/systems/abc/logs?container=web&tail=1000&follow=true"
        );
        q.previous = true;
        assert_eq!(
            q.path("abc"),
            "/api/v1/systems/abc/logs?container=web&tail=1000&previous=true"
        );
        q.container = "a&follow=b".into();
        assert!(q.path("abc").contains("container=a%26follow%3Db&"));
    }

    #[test]
    fn only_the_newest_lines_are_kept() {
        let mut text = String::new();
        append_kept(&mut text, "1\n2\n", 3);
        append_kept(&mut text, "3\n4\n5\n", 3);
        assert_eq!(text, "3\n4\n5\n");
        append_kept(&mut text, "6", 3);
        assert_eq!(text, "3\n4\n5\n6");
    }

    #[test]
    fn a_line_or_character_split_across_chunks_waits_for_its_end() {
        let mut pending = b"one\ntw".to_vec();
        assert_eq!(whole_lines(&mut pending).as_deref(), Some("one\n"));
        assert_eq!(pending, b"tw");
        // "é" is two bytes; the first arrives alone.
        pending.extend_from_slice(&[b'o', 0xC3]);
        assert_eq!(whole_lines(&mut pending), None);
        pending.extend_from_slice(&[0xA9, b'\n']);
        assert_eq!(whole_lines(&mut pending).as_deref(), Some("two\u{e9}\n"));
        assert!(pending.is_empty());
    }

    #[test]
    fn refusals_are_explained_with_a_next_step() {
        let waiting = Problem::new(400, "cluster", "The cluster refused the request")
            .with_detail("container \"web\" in pod \"p\" is waiting to start: ContainerCreating");
        assert!(explain(&waiting, false).starts_with("No log yet: the container has not started"));
        assert!(explain(&waiting, true).contains("has not restarted"));
        let other = Problem::new(503, "no-cluster", "No cluster").with_detail("configure one");
        assert_eq!(explain(&other, false), "No cluster: configure one");
    }
}
