//! The dashboard: static files from `dist/` with an SPA fallback, or a small page saying it is
//! not built.

use axum::response::Html;

pub const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tycho</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;line-height:1.5}</style>
</head><body>
<h1>Tycho</h1>
<p>The dashboard is not built (no <code>index.html</code> in the dist directory).
Build it with <code>trunk build --release</code>, or start the server with <code>--dist DIR</code>.</p>
<p>The API works: see <a href="/apidocs/">/apidocs</a> (Swagger UI) and
<a href="/openapi.json">/openapi.json</a>; health at <a href="/readyz">/readyz</a>.</p>
</body></html>
"#;

pub async fn not_built() -> Html<&'static str> {
    Html(NOT_BUILT)
}

/// What the dashboard's page may load: its own files, the wasm (compiled from its own
/// origin, hence `'wasm-unsafe-eval'`), Trunk's inline loader by its hash, and fetches and
/// event streams to this server. No inline style attributes (the editor moves through the
/// CSSOM). Nothing may frame it.
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
     style-src 'self'{style_hashes}; img-src 'self'; connect-src 'self'; \
     manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Swagger UI (vendored): its own scripts and styles, inline styles (its React components set
/// them), data: images (the icons in its CSS), and fetching `/openapi.json` and trying calls.
pub const APIDOCS_CSP: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The response headers of every page and file outside the connect proxy.
#[derive(Debug, Clone)]
pub struct SecurityHeaders {
    dashboard_csp: axum::http::HeaderValue,
    apidocs_csp: axum::http::HeaderValue,
}

impl SecurityHeaders {
    /// The dashboard's policy allows the inline scripts of `dist/index.html` by hash.
    pub fn new(dist: Option<&std::path::Path>) -> Self {
        let index = dist
            .and_then(|d| std::fs::read_to_string(d.join("index.html")).ok())
            .unwrap_or_else(|| NOT_BUILT.to_string());
        SecurityHeaders {
            dashboard_csp: header_value(&dashboard_csp(&index)),
            apidocs_csp: header_value(APIDOCS_CSP),
        }
    }

    fn apply(&self, path: &str, headers: &mut axum::http::HeaderMap) {
        use axum::http::HeaderValue;
        use axum::http::header::{
            CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS,
        };
        let csp = if path == "/apidocs" || path.starts_with("/apidocs/") {
            &self.apidocs_csp
        } else {
            &self.dashboard_csp
        };
        headers.insert(CONTENT_SECURITY_POLICY, csp.clone());
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        headers.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    }
}

fn header_value(text: &str) -> axum::http::HeaderValue {
    // Built from constants and base64 hashes: always a valid value.
    axum::http::HeaderValue::from_str(text)
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("default-src 'none'"))
}

/// The dashboard's policy for this `index.html`.
pub fn dashboard_csp(index_html: &str) -> String {
    let hashes = |tag| -> String {
        inline_elements(index_html, tag)
            .map(|body| format!(" 'sha256-{}'", sha256_base64(body)))
            .collect()
    };
    DASHBOARD_CSP
        .replace("{hashes}", &hashes("script"))
        .replace("{style_hashes}", &hashes("style"))
}

fn sha256_base64(text: &str) -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes()))
}

/// The bodies of the `<script>` or `<style>` elements without `src` (what a hash source must
/// match, byte for byte).
fn inline_elements<'a>(html: &'a str, tag: &'a str) -> impl Iterator<Item = &'a str> {
    let close = format!("</{tag}>");
    let open = format!("<{tag}");
    html.split(open.as_str())
        .skip(1)
        .collect::<Vec<_>>()
        .into_iter()
        .filter_map(move |rest| {
            let (open_tag, after) = rest.split_once('>')?;
            // `<stylesheet…` is not `<style>`: the tag name ends at a space or the `>`.
            if !(open_tag.is_empty() || open_tag.starts_with(char::is_whitespace)) {
                return None;
            }
            let (body, _) = after.split_once(close.as_str())?;
            (!open_tag.contains("src=")).then_some(body)
        })
}

/// Middleware adding [`SecurityHeaders`] to every answer it wraps.
pub async fn security_headers(
    axum::extract::State(headers): axum::extract::State<std::sync::Arc<SecurityHeaders>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path().to_string();
    let mut response = next.run(request).await;
    headers.apply(&path, response.headers_mut());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_their_hash_only() {
        let html = "<head><script type=\"module\">\nimport init from '/a.js';\n</script>\
                    <script src=\"/b.js\"></script></head>";
        let csp = dashboard_csp(html);
        let expected = sha256_base64("\nimport init from '/a.js';\n");
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
        assert!(!csp.contains("unsafe-eval'") || csp.contains("'wasm-unsafe-eval'"));
        assert!(!csp.contains("script-src 'self' 'unsafe-inline'"));
        assert!(
            !dashboard_csp("").contains("sha256"),
            "no inline script, no hash"
        );
        let not_built = dashboard_csp(NOT_BUILT);
        assert!(
            not_built.contains("style-src 'self' 'sha256-"),
            "{not_built}"
        );
    }
}
