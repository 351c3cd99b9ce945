//! Systems and their events as `tycho up` and `tycho status` show them: the tables, a system's
//! phase and where to reach it.

use tycho_client::api::{KubeEvent, StartResponse, SystemStatus};

use super::table::{age, table};

/// `Running`, or `Failed (ImagePullBackOff)` when the reason says more than the phase.
pub fn phase_text(s: &SystemStatus) -> String {
    if s.reason.is_empty() || s.reason == s.phase.as_str() {
        s.phase.as_str().to_string()
    } else {
        format!("{} ({})", s.phase.as_str(), s.reason)
    }
}

/// Where to reach a system: the URL to open (Tycho's proxy), else the in-cluster URL, else
/// the published ports.
pub fn where_text(s: &SystemStatus) -> String {
    if let Some(url) = s.connect_url.as_ref().or(s.url.as_ref()) {
        return url.clone();
    }
    let ports: Vec<String> = s
        .ports
        .iter()
        .map(|p| match p.node_port {
            Some(n) => format!("{}:{n}/{}", p.published.port, p.published.protocol),
            None => format!("{}/{}", p.published.port, p.published.protocol),
        })
        .collect();
    if ports.is_empty() {
        "-".into()
    } else {
        ports.join(",")
    }
}

/// The `tycho status` table.
pub fn status_table(systems: &[SystemStatus]) -> String {
    let rows: Vec<Vec<String>> = systems
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                s.guid.clone(),
                phase_text(s),
                format!("{}/{}", s.ready, s.desired),
                where_text(s),
                age(s.age_seconds),
            ]
        })
        .collect();
    table(
        &["SYSTEM", "GUID", "STATUS", "READY", "URL/PORT", "AGE"],
        &rows,
    )
}

/// The `tycho status GUID --events` table. Times as `2026-01-02 03:04:05` (UTC, no fraction).
pub fn events_table(events: &[KubeEvent]) -> String {
    let rows: Vec<Vec<String>> = events
        .iter()
        .map(|e| {
            let time = e.last_seen.as_deref().or(e.first_seen.as_deref());
            let time = time
                .map(|t| t.chars().take(19).collect::<String>().replace('T', " "))
                .unwrap_or_else(|| "-".into());
            let reason = if e.count > 1 {
                format!("{} (x{})", e.reason, e.count)
            } else {
                e.reason.clone()
            };
            vec![
                time,
                e.kind.clone(),
                reason,
                e.object.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    table(&["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"], &rows)
}

/// The `tycho up` table: one row per published port (`-` when none).
pub fn started_table(started: &StartResponse) -> String {
    let rows: Vec<Vec<String>> = if started.ports.is_empty() {
        vec![vec![started.name.clone(), started.guid.clone(), "-".into()]]
    } else {
        started
            .ports
            .iter()
            .map(|p| {
                vec![
                    started.name.clone(),
                    started.guid.clone(),
                    p.port.to_string(),
                ]
            })
            .collect()
    };
    table(&["SYSTEM", "GUID", "PORT"], &rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tycho_client::api::{Phase, PortStatus, PublishedPort};

    fn system(name: &str, phase: Phase, reason: &str) -> SystemStatus {
        serde_json::from_value(serde_json::json!({
            "guid": format!("{name}0000000000000000000000000000"),
            "name": name, "username": "alice", "phase": phase, "ready": 0, "desired": 1,
            "reason": reason, "ports": [], "age_seconds": 125
        }))
        .unwrap()
    }

    #[test]
    fn events_table_columns() {
        let event = |reason: &str, count: u32, last: Option<&str>| KubeEvent {
            kind: "Normal".into(),
            reason: reason.into(),
            message: format!("{reason} happened"),
            object: "Pod/web-abc-1".into(),
            count,
            first_seen: None,
            last_seen: last.map(String::from),
        };
        let text = events_table(&[
            event("Pulled", 1, Some("2026-01-02T03:04:05.123456Z")),
            event("BackOff", 3, None),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(header, ["TIME", "TYPE", "REASON", "OBJECT", "MESSAGE"]);
        assert!(
            lines[1].starts_with("2026-01-02 03:04:05  Normal  Pulled"),
            "{text}"
        );
        assert!(
            lines[1].ends_with("Pod/web-abc-1  Pulled happened"),
            "{text}"
        );
        assert!(lines[2].starts_with("-  "), "{text}");
        assert!(lines[2].contains("BackOff (x3)"), "{text}");
    }

    #[test]
    fn status_table_columns() {
        let mut a = system("web", Phase::Failed, "ImagePullBackOff");
        a.ports.push(PortStatus {
            published: PublishedPort {
                service: "web".into(),
                container_port: 8080,
                port: 8080,
                protocol: "TCP".into(),
            },
            node_port: Some(30001),
            url: None,
        });
        let mut b = system("db", Phase::Running, "");
        b.ready = 1;
        b.url = Some("http://db.ns:5432/".into());
        // The URL to open (Tycho's proxy) wins over the in-cluster one.
        let mut c = system("lab", Phase::Running, "");
        c.url = Some("http://lab.ns:8888/".into());
        c.connect_url = Some(format!("https://tycho.example.org/connect/{}/", c.guid));
        let open = c.connect_url.clone().unwrap();
        let text = status_table(&[a, b, c]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("SYSTEM  GUID"), "{text}");
        let header: Vec<&str> = lines[0].split_whitespace().collect();
        assert_eq!(
            header,
            ["SYSTEM", "GUID", "STATUS", "READY", "URL/PORT", "AGE"]
        );
        // Columns line up: AGE starts where the widest URL/PORT cell (the connect URL) ends.
        assert_eq!(lines[0].find("AGE"), lines[3].find("2m"), "{text}");
        assert!(
            lines[1].contains("Failed (ImagePullBackOff)  0/1"),
            "{text}"
        );
        assert!(lines[1].contains("8080:30001/TCP"), "{text}");
        assert!(
            lines[2].contains("Running                    1/1"),
            "{text}"
        );
        assert!(lines[2].contains("http://db.ns:5432/ "), "{text}");
        assert!(lines[3].contains(&format!(" {open}  2m")), "{text}");
        assert!(!lines[3].contains("lab.ns"), "{text}");
    }
}
