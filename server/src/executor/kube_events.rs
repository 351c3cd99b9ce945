//! Kubernetes Events about one system, as the API shows them: picked out of a namespace's
//! Events by object name, oldest first, the newest [`MAX_EVENTS`] only.

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::jiff::Timestamp;
use tycho_api::KubeEvent;

/// Most events returned for one system: enough for a dashboard, bounded for a busy namespace.
pub const MAX_EVENTS: usize = 200;

/// Whether an object named `name` belongs to the system whose objects are named `object_name`:
/// the Deployment and Service carry the name itself; ReplicaSets, pods and claims add a suffix.
/// An empty `object_name` (a system whose Deployment is already gone) matches nothing.
pub fn belongs_to(name: &str, object_name: &str) -> bool {
    !object_name.is_empty()
        && name
            .strip_prefix(object_name)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// The events about the system's objects, oldest first (by last then first time seen), capped
/// to the newest [`MAX_EVENTS`].
pub fn select(events: Vec<Event>, object_name: &str) -> Vec<KubeEvent> {
    newest(
        events
            .into_iter()
            .filter(|e| {
                e.involved_object
                    .name
                    .as_deref()
                    .is_some_and(|n| belongs_to(n, object_name))
            })
            .collect(),
    )
}

/// Events already picked for one system, oldest first, capped to the newest [`MAX_EVENTS`].
pub fn newest(events: Vec<Event>) -> Vec<KubeEvent> {
    let mut timed: Vec<(Option<Timestamp>, Option<Timestamp>, KubeEvent)> = events
        .into_iter()
        .map(|e| {
            let (first, last) = times(&e);
            (last, first, convert(e, first, last))
        })
        .collect();
    // `None` sorts first: an event without times is treated as the oldest.
    timed.sort_by_key(|(last, first, _)| (*last, *first));
    let skip = timed.len().saturating_sub(MAX_EVENTS);
    timed.into_iter().skip(skip).map(|(_, _, e)| e).collect()
}

/// First and last time seen. Events from the older recorder (kubelet, controllers) fill
/// `firstTimestamp`/`lastTimestamp`; those from the events.k8s.io API (the scheduler) fill
/// `eventTime` and, for repeats, `series.lastObservedTime` instead.
fn times(e: &Event) -> (Option<Timestamp>, Option<Timestamp>) {
    let event_time = e.event_time.as_ref().map(|t| t.0);
    let created = e.metadata.creation_timestamp.as_ref().map(|t| t.0);
    let first = e
        .first_timestamp
        .as_ref()
        .map(|t| t.0)
        .or(event_time)
        .or(created);
    let last = e
        .last_timestamp
        .as_ref()
        .map(|t| t.0)
        .or_else(|| {
            e.series
                .as_ref()
                .and_then(|s| s.last_observed_time.as_ref())
                .map(|t| t.0)
        })
        .or(first);
    (first, last)
}

fn convert(e: Event, first: Option<Timestamp>, last: Option<Timestamp>) -> KubeEvent {
    let count = e
        .count
        .or_else(|| e.series.as_ref().and_then(|s| s.count))
        .and_then(|c| u32::try_from(c).ok())
        .filter(|c| *c > 0)
        .unwrap_or(1);
    let object = format!(
        "{}/{}",
        e.involved_object.kind.unwrap_or_default(),
        e.involved_object.name.unwrap_or_default()
    );
    KubeEvent {
        kind: e.type_.unwrap_or_else(|| "Normal".into()),
        reason: e.reason.unwrap_or_default(),
        message: e.message.unwrap_or_default(),
        object,
        count,
        first_seen: first.map(|t| t.to_string()),
        last_seen: last.map(|t| t.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event(name: &str, reason: &str, last: &str) -> Event {
        serde_json::from_value(json!({
            "metadata": {"name": format!("{name}.1")},
            "involvedObject": {"kind": "Pod", "name": name},
            "reason": reason, "message": "m", "type": "Normal", "count": 2,
            "firstTimestamp": "2026-01-02T03:00:00Z", "lastTimestamp": last
        }))
        .unwrap()
    }

    #[test]
    fn names_with_the_object_name_or_a_dash_suffix_belong() {
        assert!(belongs_to("web-abc", "web-abc"));
        assert!(belongs_to("web-abc-7d9f-x2x", "web-abc"));
        assert!(!belongs_to("web-abcd", "web-abc"));
        assert!(!belongs_to("other-abc", "web-abc"));
        assert!(!belongs_to("-x", ""));
    }

    #[test]
    fn keeps_the_systems_events_oldest_first() {
        let events = vec![
            event("web-abc-1", "Started", "2026-01-02T03:00:09Z"),
            event("web-xyz-1", "Started", "2026-01-02T03:00:01Z"),
            event("web-abc", "ScalingReplicaSet", "2026-01-02T03:00:02Z"),
        ];
        let got = select(events, "web-abc");
        let reasons: Vec<&str> = got.iter().map(|e| e.reason.as_str()).collect();
        assert_eq!(reasons, ["ScalingReplicaSet", "Started"]);
        assert_eq!(got[1].object, "Pod/web-abc-1");
        assert_eq!(got[1].count, 2);
        assert_eq!(got[1].last_seen.as_deref(), Some("2026-01-02T03:00:09Z"));
        assert_eq!(got[1].first_seen.as_deref(), Some("2026-01-02T03:00:00Z"));
    }

    #[test]
    fn scheduler_events_use_event_time_and_series() {
        let e: Event = serde_json::from_value(json!({
            "metadata": {"name": "x"},
            "involvedObject": {"kind": "Pod", "name": "web-abc-1"},
            "reason": "FailedScheduling", "type": "Warning",
            "eventTime": "2026-01-02T03:00:00.123456Z",
            "series": {"count": 4, "lastObservedTime": "2026-01-02T03:05:00.000001Z"}
        }))
        .unwrap();
        let got = select(vec![e], "web-abc");
        assert_eq!(got[0].count, 4);
        assert!(got[0].is_warning());
        assert!(
            got[0]
                .first_seen
                .as_deref()
                .unwrap()
                .starts_with("2026-01-02T03:00:00")
        );
        assert!(
            got[0]
                .last_seen
                .as_deref()
                .unwrap()
                .starts_with("2026-01-02T03:05:00")
        );
    }

    #[test]
    fn only_the_newest_are_kept() {
        let events: Vec<Event> = (0..MAX_EVENTS + 5)
            .map(|i| {
                let t = Timestamp::from_second(1_800_000_000 + i as i64).unwrap();
                event("web-abc-1", &format!("r{i}"), &t.to_string())
            })
            .collect();
        let got = select(events, "web-abc");
        assert_eq!(got.len(), MAX_EVENTS);
        assert_eq!(got[0].reason, "r5");
        assert_eq!(got[MAX_EVENTS - 1].reason, format!("r{}", MAX_EVENTS + 4));
    }
}
