//! The OpenAPI 3.1 document, generated from the handlers' annotations, served
//! at `/openapi.json`, and the offline Swagger UI at `/docs`.

use crate::error::{PROBLEM_JSON, ProblemBody};
use crate::extract::BODY_LIMIT;
use crate::routes::invitations::{AcceptRequest, CreateInvitationRequest};
use crate::routes::profile_verification::DecideRequest;
use crate::schema::rules;
use serde_json::json;
use std::borrow::Cow;
use utoipa::openapi::content::Content;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{AllOfBuilder, AnyOfBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_swagger_ui::SwaggerUi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Usher",
        description = "Users, verification and organization membership: the User DTO and avatar, KYC profile and photo review, invitations and memberships. Every error is application/problem+json.",
    ),
    components(schemas(
        ProblemBody,
        rules::UserId,
        rules::DiscordId,
        rules::EventCursor,
        rules::EventType,
        rules::EventTypes,
        rules::Username,
        rules::Name,
        rules::MemberSearch,
        rules::PersonName,
        rules::City,
        rules::Postcode,
        rules::Address,
        rules::Country,
        rules::ImageType,
        rules::ReviewReason,
        rules::PhotoReason,
        rules::Note,
        crate::routes::photo_verification::StatusFilterWire,
        crate::routes::photo_verification::ApprovalSideWire,
        crate::routes::profile_verification::ProfileStateFilter,
    )),
    modifiers(&BearerAuth),
    tags(
        (name = "service", description = "Health, readiness, metrics"),
        (name = "users", description = "The signed-in user (seed 003's User contract), the avatar's two-step upload, personal-data export and user administration by superusers (crate `users`)"),
        (name = "photo-verification", description = "Photo verification (seed 000): a new avatar reviewed against the Discord avatar (crate `photo-verification`)"),
        (name = "profile-verification", description = "KYC profiles (seed 001, barong's contract): submit, review with four eyes, labels and levels (crate `profile-verification`)"),
        (name = "organizations", description = "Organizations, zones, members, their history, the organization logo and invitations: create, preview (public), accept, reject, revoke, resend, the acceptance log, and the sidebar (seeds 002, 003, 004; crate `organizations`)"),
        (name = "events", description = "The event feeds: every change, oldest first, from a cursor — all of them for superusers, one organization's for its admins (docs/events.md)"),
        (name = "webhooks", description = "Webhook endpoints: every organization's events for superusers, one organization's for its admins, posted as `EventDto` and signed as Standard Webhooks says (`webhook-id`, `webhook-timestamp`, `webhook-signature`); deliveries with every attempt, replay, secret rotation (docs/events.md; crate `webhooks`)"),
        (name = "image-upload", description = "The embedded object store's upload target and file server (local storage only; crate `image-upload`)"),
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

/// The whole document, as `/openapi.json` serves it, without a server
/// (`usher openapi` prints it; the typed TypeScript client is generated from it).
pub fn document() -> utoipa::openapi::OpenApi {
    use utoipa_actix_web::AppExt as _;
    let (_, api) =
        actix_web::App::new().into_utoipa_app().openapi(base()).configure(crate::routes::configure).split_for_parts();
    complete(api)
}

/// The document's static part; paths are collected from the registered services.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// Adds the error responses that the shared extractors and middleware give
/// every operation of a kind, so each annotation lists only its own errors:
/// a JSON body can be malformed (400), too slow (408), too large (413), of another media type
/// (415) or invalid (422); a query can fail to parse (400) or hold a NUL
/// character (422: no parameter may, PostgreSQL stores none); a path parameter
/// that does not parse names no record (404); a bearer-protected operation
/// can be refused its token (401) or find the database down (503). A status
/// the annotation already lists keeps its schema; the shared meaning is
/// appended to its description so the document names every `code`. Then the
/// rules between fields of a body are added ([`rules`]).
pub fn complete(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for item in api.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ];
        for operation in operations.into_iter().flatten() {
            add_shared_errors(operation);
        }
    }
    add_between_fields(&mut api);
    api
}

fn add_shared_errors(operation: &mut Operation) {
    let json_body = operation
        .request_body
        .as_ref()
        .is_some_and(|body| body.content.keys().any(|media| media == "application/json" || media.ends_with("+json")));
    let has = |place: ParameterIn| operation.parameters.iter().flatten().any(|p| p.parameter_in == place);
    let (query, path) = (has(ParameterIn::Query), has(ParameterIn::Path));
    let bearer = operation.security.as_ref().is_some_and(|s| !s.is_empty());

    let mut shared: Vec<(&str, String)> = Vec::new();
    if json_body {
        shared.push(("400", "`request.malformed`: the body is not JSON".to_owned()));
        shared.push((
            "408",
            "`request.body_timeout`: the body did not arrive within `server.body_timeout_seconds`".to_owned(),
        ));
        shared.push(("413", format!("`request.body_too_large`: the body is over {} KiB", BODY_LIMIT / 1024)));
        shared.push(("415", "`request.unsupported_media_type`: the body is not `application/json`".to_owned()));
        shared.push((
            "422",
            "`request.validation`: the body is not an object of this shape, has an unknown field or an invalid value (`errors` maps each field's JSON pointer to messages)".to_owned(),
        ));
    }
    if query {
        shared.push(("400", "`request.malformed_query`: a query parameter does not parse".to_owned()));
        shared.push((
            "422",
            "`request.validation`: a query parameter holds a NUL character (`errors` names it as `/<name>`)".to_owned(),
        ));
    }
    if path {
        shared.push(("404", "`http.not_found`: a path parameter that does not parse names no record".to_owned()));
    }
    if bearer {
        shared.push((
            "401",
            "`auth.missing_token`: no bearer token; `auth.invalid_token`: it is malformed, expired or not valid \
             here; `auth.user_gone`: its user no longer exists; `auth.email_missing`: a first sign-in whose token \
             has no `email` claim"
                .to_owned(),
        ));
        shared.push(("403", "`auth.account_erased`: the account was erased on request".to_owned()));
        shared.push((
            "503",
            "`service.unavailable`: the database is unavailable; retry after `Retry-After` seconds".to_owned(),
        ));
    }

    let responses = &mut operation.responses.responses;
    for (status, meaning) in shared {
        match responses.get_mut(status) {
            Some(RefOr::T(response)) => {
                let code = meaning.split('`').nth(1).unwrap_or_default();
                if response.description.is_empty() {
                    response.description = meaning;
                } else if !response.description.contains(code) {
                    response.description = format!("{}; or {meaning}", response.description);
                }
                if !response.content.contains_key(PROBLEM_JSON) {
                    response.content.insert(PROBLEM_JSON.to_owned(), problem_content());
                }
            }
            Some(RefOr::Ref(_)) => {}
            None => {
                let mut response = Response::new(meaning);
                response.content.insert(PROBLEM_JSON.to_owned(), problem_content());
                responses.insert(status.to_owned(), RefOr::T(response));
            }
        }
    }
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

/// `/docs` (Swagger UI, vendored) and `/openapi.json`.
pub fn docs(api: utoipa::openapi::OpenApi) -> SwaggerUi {
    // The online validator would send the document to swagger.io.
    SwaggerUi::new("/docs/{_:.*}")
        .url("/openapi.json", api)
        .config(utoipa_swagger_ui::Config::default().validator_url("none"))
}

/// `{field: <schema>, ...}` with no other keyword: a constraint on the
/// named fields where they are present.
fn fields<const N: usize>(required: &[&str], props: [(&str, ObjectBuilder); N]) -> ObjectBuilder {
    let mut object = ObjectBuilder::new();
    for (name, schema) in props {
        object = object.property(name, schema);
    }
    for name in required {
        object = object.required(*name);
    }
    object
}

fn null() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Null)
}

fn text() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

fn exactly(value: &'static str) -> ObjectBuilder {
    text().enum_values(Some([value]))
}

/// The rules between fields of one body, which no field's own schema can
/// carry: each of these components must also match the schema given here.
fn between_fields() -> Vec<(Cow<'static, str>, RefOr<Schema>)> {
    vec![
        // Exactly one of `token` and `invitationId` (null counts as absent).
        (
            AcceptRequest::name(),
            OneOfBuilder::new()
                .item(fields(&["token"], [("token", text()), ("invitationId", null())]))
                .item(fields(&["invitationId"], [("invitationId", text()), ("token", null())]))
                .into(),
        ),
        // An invitation bound to an e-mail or a user is single-use.
        (
            CreateInvitationRequest::name(),
            AnyOfBuilder::new()
                .item(fields(&[], [("email", null()), ("userId", null())]))
                .item(fields(
                    &[],
                    [(
                        "maxUses",
                        ObjectBuilder::new()
                            .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                            .enum_values(Some([json!(1), json!(null)])),
                    )],
                ))
                .into(),
        ),
        // A verification carries no note or retry; a rejection needs a reason.
        (
            DecideRequest::name(),
            OneOfBuilder::new()
                .item(fields(&[], [("state", exactly("verified")), ("note", null()), ("retry", null())]))
                .item(fields(&["reason"], [("state", exactly("rejected")), ("reason", text())]))
                .into(),
        ),
    ]
}

/// Adds [`between_fields`] to the components they constrain: `allOf` of the
/// generated schema and the rule.
fn add_between_fields(api: &mut utoipa::openapi::OpenApi) {
    let Some(components) = api.components.as_mut() else { return };
    for (name, rule) in between_fields() {
        if let Some(generated) = components.schemas.remove(name.as_ref()) {
            let both = AllOfBuilder::new().item(generated).item(rule).build();
            components.schemas.insert(name.into_owned(), RefOr::T(Schema::AllOf(both)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, PathItem};
    use utoipa::openapi::request_body::RequestBodyBuilder;
    use utoipa::openapi::security::SecurityRequirement;
    use utoipa::openapi::{HttpMethod, OpenApiBuilder, PathsBuilder};

    fn api(operation: Operation) -> utoipa::openapi::OpenApi {
        OpenApiBuilder::new()
            .paths(PathsBuilder::new().path("/x/{id}", PathItem::new(HttpMethod::Post, operation)))
            .build()
    }

    fn responses(api: &utoipa::openapi::OpenApi) -> Vec<(String, String)> {
        let op = api.paths.paths["/x/{id}"].post.as_ref().expect("post");
        op.responses
            .responses
            .iter()
            .map(|(status, r)| match r {
                RefOr::T(r) => (status.clone(), r.description.clone()),
                RefOr::Ref(_) => (status.clone(), String::new()),
            })
            .collect()
    }

    #[test]
    fn a_bearer_json_operation_with_path_and_query_gets_every_shared_error() {
        let op = OperationBuilder::new()
            .request_body(Some(RequestBodyBuilder::new().content("application/json", Content::default()).build()))
            .parameter(ParameterBuilder::new().name("id").parameter_in(ParameterIn::Path))
            .parameter(ParameterBuilder::new().name("limit").parameter_in(ParameterIn::Query))
            .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
            .response("200", Response::new("ok"))
            .response("404", Response::new("`thing.not_found`"))
            .build();
        let statuses: Vec<String> = responses(&complete(api(op))).into_iter().map(|(s, _)| s).collect();
        assert_eq!(statuses, ["200", "400", "401", "403", "404", "408", "413", "415", "422", "503"]);
    }

    #[test]
    fn an_operation_s_own_description_is_kept_and_the_shared_code_appended_once() {
        let op = OperationBuilder::new()
            .parameter(ParameterBuilder::new().name("id").parameter_in(ParameterIn::Path))
            .response("404", Response::new("`thing.not_found`"))
            .build();
        let done = complete(complete(api(op)));
        let (_, description) = &responses(&done)[0];
        assert_eq!(
            description,
            "`thing.not_found`; or `http.not_found`: a path parameter that does not parse names no record"
        );
    }

    #[test]
    fn a_public_operation_without_input_gets_nothing() {
        let op = OperationBuilder::new().response("200", Response::new("ok")).build();
        assert_eq!(responses(&complete(api(op))), [("200".to_owned(), "ok".to_owned())]);
    }

    /// Every dotted path of a settings value (`server.addr`).
    fn setting_paths(prefix: &str, value: &serde_json::Value, out: &mut Vec<String>) {
        if let serde_json::Value::Object(map) = value {
            for (key, value) in map {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                setting_paths(&path, value, out);
                out.push(path);
            }
        }
    }

    /// The whole document, as `/openapi.json` serves it.
    fn document() -> utoipa::openapi::OpenApi {
        use utoipa_actix_web::AppExt as _;
        let (_, api) = actix_web::App::new()
            .into_utoipa_app()
            .openapi(base())
            .configure(crate::routes::configure)
            .split_for_parts();
        complete(api)
    }

    #[test]
    fn every_code_the_service_answers_with_is_documented() {
        let text = document().to_json().expect("the document serializes");
        let missing: Vec<&str> = crate::codes::ALL
            .iter()
            .copied()
            .filter(|code| !crate::codes::UNDOCUMENTED.contains(code) && !text.contains(&format!("`{code}`")))
            .collect();
        assert!(missing.is_empty(), "codes no operation documents: {missing:?}");
    }

    #[test]
    fn the_document_names_no_code_the_service_does_not_have() {
        let text = document().to_json().expect("the document serializes");
        let code = regex::Regex::new(r"`([a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_*]*)+)`").expect("a pattern");
        // Descriptions also name settings (`server.body_timeout_seconds`) and
        // the profile domain's own field codes (`first_name.invalid`).
        let mut settings = Vec::new();
        setting_paths(
            "",
            &serde_json::to_value(crate::settings::Settings::default()).expect("settings"),
            &mut settings,
        );
        let field_code =
            |c: &str| profile_verification::Field::ALL.iter().any(|f| c.split('.').next() == Some(f.snake_name()));
        let mut unknown: Vec<&str> = code
            .captures_iter(&text)
            .map(|c| c.get(1).map_or("", |m| m.as_str()))
            .filter(|c| !crate::codes::ALL.contains(c) && !settings.iter().any(|s| s == c) && !field_code(c))
            .collect();
        unknown.sort_unstable();
        unknown.dedup();
        assert!(unknown.is_empty(), "codes the document names but no mapping produces: {unknown:?}");
    }
}
