//! Volumes as `tycho volumes` shows them.

use tycho_client::api::Volume;

use super::table::{age, table};

/// What a volume is doing: `in use by lab (0f3c…)`, `kept`, or its claim phase when that says
/// more (`Pending`, `Terminating`).
pub fn use_text(v: &Volume) -> String {
    if let Some(user) = v.used_by.first() {
        let more = if v.used_by.len() > 1 {
            format!(" and {} more", v.used_by.len() - 1)
        } else {
            String::new()
        };
        let terminating = if user.terminating {
            ", terminating"
        } else {
            ""
        };
        return format!("in use by {} ({}{terminating}){more}", user.name, user.guid);
    }
    match v.phase.as_str() {
        "Bound" => "kept".into(),
        phase => format!("kept ({phase})"),
    }
}

/// The `tycho volumes` table; warnings (a volume about to expire) follow it, one a line.
pub fn volumes_table(volumes: &[Volume]) -> String {
    let rows: Vec<Vec<String>> = volumes
        .iter()
        .map(|v| {
            vec![
                v.name.clone(),
                v.kind.as_str().to_string(),
                v.volume.clone(),
                if v.system.is_empty() {
                    "-".into()
                } else {
                    v.system.clone()
                },
                v.size.clone(),
                use_text(v),
                age(v.age_seconds),
                if v.expires_at.is_empty() {
                    "never".into()
                } else {
                    v.expires_at.clone()
                },
            ]
        })
        .collect();
    let mut out = table(
        &[
            "NAME", "KIND", "VOLUME", "SYSTEM", "SIZE", "STATUS", "AGE", "EXPIRES",
        ],
        &rows,
    );
    for v in volumes.iter().filter(|v| !v.warning.is_empty()) {
        out.push_str(&format!("warning: {}: {}\n", v.name, v.warning));
    }
    out
}
