//! Prometheus text metrics, hand-rolled: a few counters and gauges.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

#[derive(Default)]
pub struct Metrics {
    /// (method, route, status) → count.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    /// Sum of request durations in microseconds per route.
    durations_us: Mutex<BTreeMap<String, u64>>,
    pub started: AtomicU64,
    pub start_failures: AtomicU64,
    pub deleted: AtomicU64,
    pub starts_in_flight: AtomicI64,
    pub sse_clients: AtomicI64,
}

/// The most `(method, route, status)` series kept; past it, answers count under `other`.
/// Methods and routes are bounded already: this is the backstop against what is not.
pub const MAX_REQUEST_SERIES: usize = 500;

/// The method label: the standard methods by name, anything a client invents as `other`.
pub fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    const KNOWN: [(Method, &str); 9] = [
        (Method::GET, "GET"),
        (Method::HEAD, "HEAD"),
        (Method::POST, "POST"),
        (Method::PUT, "PUT"),
        (Method::DELETE, "DELETE"),
        (Method::PATCH, "PATCH"),
        (Method::OPTIONS, "OPTIONS"),
        (Method::CONNECT, "CONNECT"),
        (Method::TRACE, "TRACE"),
    ];
    KNOWN
        .iter()
        .find(|(m, _)| m == method)
        .map_or("other", |(_, name)| name)
}

impl Metrics {
    pub fn record(&self, method: &str, route: &str, status: u16, elapsed_us: u64) {
        if let Ok(mut r) = self.requests.lock() {
            let key = (method.to_string(), route.to_string(), status);
            let key = if r.contains_key(&key) || r.len() < MAX_REQUEST_SERIES {
                key
            } else {
                ("other".to_string(), "other".to_string(), status)
            };
            *r.entry(key).or_default() += 1;
        }
        if let Ok(mut d) = self.durations_us.lock() {
            let route = if d.contains_key(route) || d.len() < MAX_REQUEST_SERIES {
                route
            } else {
                "other"
            };
            *d.entry(route.into()).or_default() += elapsed_us;
        }
    }

    pub fn render(&self, cluster_reachable: bool) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# HELP tycho_build_info Version of the server.");
        let _ = writeln!(out, "# TYPE tycho_build_info gauge");
        let _ = writeln!(
            out,
            "tycho_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        let _ = writeln!(
            out,
            "# HELP tycho_http_requests_total HTTP requests answered."
        );
        let _ = writeln!(out, "# TYPE tycho_http_requests_total counter");
        if let Ok(r) = self.requests.lock() {
            for ((method, route, status), n) in r.iter() {
                let _ = writeln!(
                    out,
                    "tycho_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP tycho_http_request_duration_seconds_sum Time spent answering, per route."
        );
        let _ = writeln!(
            out,
            "# TYPE tycho_http_request_duration_seconds_sum counter"
        );
        if let Ok(d) = self.durations_us.lock() {
            for (route, us) in d.iter() {
                let _ = writeln!(
                    out,
                    "tycho_http_request_duration_seconds_sum{{route=\"{}\"}} {:.6}",
                    escape(route),
                    *us as f64 / 1e6
                );
            }
        }
        let counters = [
            (
                "tycho_systems_started_total",
                "Systems started.",
                self.started.load(Ordering::Relaxed) as i64,
                "counter",
            ),
            (
                "tycho_system_start_failures_total",
                "Starts the cluster refused or that failed.",
                self.start_failures.load(Ordering::Relaxed) as i64,
                "counter",
            ),
            (
                "tycho_systems_deleted_total",
                "Delete requests carried out.",
                self.deleted.load(Ordering::Relaxed) as i64,
                "counter",
            ),
            (
                "tycho_starts_in_flight",
                "Starts in progress.",
                self.starts_in_flight.load(Ordering::Relaxed),
                "gauge",
            ),
            (
                "tycho_sse_clients",
                "Open event streams.",
                self.sse_clients.load(Ordering::Relaxed),
                "gauge",
            ),
            (
                "tycho_cluster_reachable",
                "1 when the last probe reached the cluster.",
                i64::from(cluster_reachable),
                "gauge",
            ),
        ];
        for (name, help, value, kind) in counters {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Middleware counting every answer by route template (not by raw path: GUIDs stay out), and
/// logging it at debug level.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "other".into());
    // The path only, never the query: event streams may carry `?access_token=`.
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        %path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request"
    );
    state.metrics().record(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_micros() as u64,
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::Method;

    #[test]
    fn invented_methods_are_other() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let invented = Method::from_bytes(b"FROBNICATE").unwrap();
        assert_eq!(method_label(&invented), "other");
    }

    #[test]
    fn the_series_stay_bounded_whatever_is_recorded() {
        let m = Metrics::default();
        for i in 0..5_000 {
            m.record(&format!("M{i}"), &format!("/r{i}"), 200, 1);
        }
        let text = m.render(true);
        let series = text
            .lines()
            .filter(|l| l.starts_with("tycho_http_requests_total{"))
            .count();
        assert!(series <= MAX_REQUEST_SERIES + 1, "{series}");
        assert!(text.contains("method=\"other\",route=\"other\""));
    }
}
