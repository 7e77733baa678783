//! The OpenAPI 3.1 document, generated from the handlers' annotations, served
//! at `/openapi.json`, and the offline Swagger UI at `/docs`.

use crate::error::ProblemBody;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Usher",
        description = "Users, verification and organization membership: the User DTO and avatar, KYC profile and photo review, invitations and memberships. Every error is application/problem+json.",
    ),
    components(schemas(ProblemBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "service", description = "Health, readiness, metrics"),
        (name = "user", description = "The signed-in user (seed 003's User contract) and the avatar's two-step upload"),
        (name = "photo", description = "Photo verification (seed 000): a new avatar reviewed against the Discord avatar"),
        (name = "admin", description = "User administration by superusers"),
        (name = "profiles", description = "KYC profiles (seed 001, barong's contract): submit, review with four eyes, labels and levels"),
        (name = "organizations", description = "Organizations, zones, members, their history and the organization logo (seeds 002, 003, 004)"),
        (name = "invitations", description = "Invitations: create, preview (public), accept, reject, revoke, resend, the acceptance log, and the sidebar"),
        (name = "storage", description = "The embedded object store's upload target and file server (local storage only)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// The document's static part; paths are collected from the registered services.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// `/docs` (Swagger UI, vendored) and `/openapi.json`.
pub fn docs(api: utoipa::openapi::OpenApi) -> SwaggerUi {
    SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", api)
}
