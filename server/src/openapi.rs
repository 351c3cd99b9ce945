//! The OpenAPI document, generated from the handlers' annotations; served at `/openapi.json`
//! with Swagger UI (vendored, works offline) at `/apidocs`.

use crate::routes::{compat, events, health, lifetime, quota, v1, volumes};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tycho", description = "Compile docker-compose systems to Kubernetes and run them."),
    paths(
        v1::start, v1::list, v1::get, v1::kube_events, v1::logs, v1::delete, v1::validate, v1::compile,
        v1::whoami, v1::sign_in, v1::sign_out, v1::policy,
        crate::oidc::login::options, crate::oidc::login::login, crate::oidc::login::callback,
        volumes::list, volumes::delete,
        quota::quota, lifetime::keepalive,
        events::all, events::one,
        compat::start, compat::status, compat::delete,
        health::healthz, health::readyz, health::metrics,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "systems", description = "Start, list and delete systems"),
        (name = "volumes", description = "Claims that outlive systems: kept by a delete, reused, homes"),
        (name = "compiler", description = "Validate and compile compose files"),
        (name = "session", description = "Browser sign-in: the cookie the connect proxy and the event streams accept"),
        (name = "events", description = "Server-Sent Events"),
        (name = "compat", description = "The original Tycho API"),
        (name = "health", description = "Probes and metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    doc.info.version = tycho_compiler::version().into();
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `(method, path)` that `router()` in lib.rs serves as API (the connect proxy, the
    /// docs themselves and the dashboard's files aside), read from its `.route(…)` calls.
    fn served_routes() -> Vec<(String, String)> {
        let source = include_str!("lib.rs");
        let mut routes = Vec::new();
        for call in source.split(".route(").skip(1) {
            // The call's text up to its closing parenthesis.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    match c {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(call.len(), |(i, _)| i);
            let call = &call[..end];
            let Some(path) = call.split('"').nth(1) else {
                continue;
            };
            if path.starts_with("/connect") || path == "/" {
                continue;
            }
            for method in ["get", "post", "put", "patch", "delete"] {
                let called = call
                    .match_indices(&format!("{method}("))
                    .any(|(i, _)| i == 0 || !call.as_bytes()[i - 1].is_ascii_alphanumeric());
                if called {
                    routes.push((method.to_string(), path.to_string()));
                }
            }
        }
        routes
    }

    #[test]
    fn every_route_is_documented() {
        let doc = serde_json::to_value(document()).unwrap();
        let routes = served_routes();
        assert!(routes.len() >= 15, "lib.rs was not read right: {routes:?}");
        assert!(routes.contains(&("delete".into(), "/api/v1/session".into())));
        let missing: Vec<String> = routes
            .iter()
            .filter(|(method, path)| !doc["paths"][path][method].is_object())
            .map(|(method, path)| format!("{} {path}", method.to_uppercase()))
            .collect();
        assert!(missing.is_empty(), "not in /openapi.json: {missing:?}");
    }

    #[test]
    fn each_start_is_documented_with_its_own_body() {
        let doc = serde_json::to_value(document()).unwrap();
        let v1 = &doc["paths"]["/api/v1/systems"]["post"];
        let json_ref = v1["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(json_ref, "#/components/schemas/StartRequest", "{v1}");
        assert!(
            v1["requestBody"]["content"]["application/yaml"].is_object(),
            "the raw compose body: {v1}"
        );
        for status in ["400", "401", "413", "422"] {
            assert!(
                v1["responses"][status].is_object(),
                "{status} missing: {v1}"
            );
        }
        let v1_schema = &doc["components"]["schemas"]["StartRequest"];
        assert!(
            v1_schema["properties"]["compose"].is_object(),
            "{v1_schema}"
        );
        let compat = &doc["paths"]["/system/start"]["post"];
        let compat_ref = compat["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .unwrap_or_default();
        assert_eq!(compat_ref, "#/components/schemas/CompatStartRequest");
        let compat_schema = &doc["components"]["schemas"]["CompatStartRequest"];
        assert!(
            compat_schema["properties"]["principal"].is_object(),
            "{compat_schema}"
        );
        for status in ["400", "401", "413"] {
            assert!(
                compat["responses"][status].is_object(),
                "{status} missing: {compat}"
            );
        }
    }

    #[test]
    fn connect_schemas_are_in_the_document() {
        let doc = serde_json::to_value(document()).unwrap();
        for schema in ["SystemStatus", "ConnectTarget", "Rewrite", "WhoAmI"] {
            assert!(
                doc["components"]["schemas"][schema].is_object(),
                "schema {schema} missing"
            );
        }
    }

    #[test]
    fn port_status_lists_the_published_ports_fields_and_its_own() {
        let doc = serde_json::to_value(document()).unwrap();
        let schemas = &doc["components"]["schemas"];
        // `PortStatus` is `PortInfo` (the published port, flattened) and its own two fields.
        let parts = schemas["PortStatus"]["allOf"].as_array().unwrap();
        let mut fields: Vec<&str> = Vec::new();
        for part in parts {
            let part = match part["$ref"].as_str() {
                Some(reference) => &schemas[reference.trim_start_matches("#/components/schemas/")],
                None => part,
            };
            fields.extend(
                part["properties"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .map(String::as_str),
            );
        }
        fields.sort_unstable();
        assert_eq!(
            fields,
            [
                "container_port",
                "node_port",
                "port",
                "protocol",
                "service",
                "url"
            ]
        );
        assert_eq!(
            schemas["PortInfo"]["required"],
            serde_json::json!(["service", "container_port", "port", "protocol"])
        );
    }
}
