//! The OpenAPI document, generated from the handlers' annotations; served at `/openapi.json`
//! with Swagger UI (vendored, works offline) at `/apidocs`.

use crate::routes::{compat, events, health, v1};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Tycho", description = "Compile docker-compose systems to Kubernetes and run them."),
    paths(
        v1::start, v1::list, v1::get, v1::kube_events, v1::delete, v1::validate, v1::compile,
        v1::whoami, v1::policy,
        events::all, events::one,
        compat::start, compat::status, compat::delete,
        health::healthz, health::readyz, health::metrics,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "systems", description = "Start, list and delete systems"),
        (name = "compiler", description = "Validate and compile compose files"),
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
