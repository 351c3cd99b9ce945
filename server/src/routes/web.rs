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
