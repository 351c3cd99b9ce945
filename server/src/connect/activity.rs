//! When each system last saw a request through the proxy. Kept in memory and written to the
//! Deployment's annotation at most once per [`WRITE_EVERY`], so culling (and other replicas)
//! can read it from the cluster without the proxy writing on every request.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

pub const WRITE_EVERY: Duration = Duration::from_secs(60);
/// Forget systems idle for this long (bounds the map; their time is in the annotation).
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

#[derive(Default)]
pub struct Activity {
    systems: Mutex<HashMap<String, Entry>>,
}

#[derive(Clone, Copy)]
struct Entry {
    last: SystemTime,
    written: Option<SystemTime>,
}

impl Activity {
    /// Records a request to `guid` at `now`; returns true when it is time to write it out.
    pub fn touch(&self, guid: &str, now: SystemTime) -> bool {
        let mut systems = self.systems.lock().unwrap_or_else(|p| p.into_inner());
        if systems.len() > 100_000 {
            systems.retain(|_, e| now.duration_since(e.last).unwrap_or_default() < FORGET_AFTER);
        }
        let entry = systems.entry(guid.to_string()).or_insert(Entry {
            last: now,
            written: None,
        });
        entry.last = now;
        let due = entry
            .written
            .is_none_or(|w| now.duration_since(w).unwrap_or_default() >= WRITE_EVERY);
        if due {
            entry.written = Some(now);
        }
        due
    }

    /// The last request this process proxied to `guid`.
    pub fn last(&self, guid: &str) -> Option<SystemTime> {
        self.systems
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(guid)
            .map(|e| e.last)
    }
}

/// RFC 3339 (UTC, seconds) of a system time.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    k8s_openapi::jiff::Timestamp::from_second(secs)
        .map(|ts| ts.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_at_most_once_a_minute() {
        let a = Activity::default();
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        assert!(a.touch("g", t0));
        assert!(!a.touch("g", t0 + Duration::from_secs(30)));
        assert_eq!(a.last("g"), Some(t0 + Duration::from_secs(30)));
        assert!(a.touch("g", t0 + Duration::from_secs(61)));
        assert!(a.touch("h", t0), "each system on its own");
        assert_eq!(rfc3339(t0), "1970-01-12T13:46:40Z");
    }
}
