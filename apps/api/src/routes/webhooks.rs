//! Webhook endpoints: superusers register them for every organization's
//! events (`/admin/webhooks`), an organization's admins for its own
//! (`/organization/webhooks/*`). Each delivery is a POST of the event as the
//! feeds write it (`EventDto`), signed as Standard Webhooks says
//! (docs/events.md, "Webhooks").

use crate::caller::{Authenticated, Superuser};
use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::extract::ValidJson;
use crate::state::AppState;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use organizations::OrganizationId;
use serde::{Deserialize, Serialize};
use shared_kernel::Actor;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;
use webhooks::{
    Attempt, Change, Delivery, DeliveryId, Endpoint, EndpointId, Registration, Scope, Secret, WebhookError,
};

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(admin_create)
        .service(admin_list)
        .service(admin_update)
        .service(admin_delete)
        .service(admin_rotate)
        .service(admin_deliveries)
        .service(admin_replay)
        .service(org_create)
        .service(org_list)
        .service(org_update)
        .service(org_delete)
        .service(org_rotate)
        .service(org_deliveries)
        .service(org_replay);
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::NotFound => ApiError::not_found(codes::WEBHOOK_NOT_FOUND, "no such webhook endpoint"),
            WebhookError::DeliveryNotFound => {
                ApiError::not_found(codes::WEBHOOK_DELIVERY_NOT_FOUND, "no such delivery of this endpoint")
            }
            WebhookError::Url(e) => ApiError::invalid_field("/url", format!("url {e}")),
            e @ (WebhookError::UnknownType(_) | WebhookError::TooManyTypes) => {
                ApiError::invalid_field("/eventTypes", e.to_string())
            }
            e @ WebhookError::TooManyEndpoints => ApiError::new(
                actix_web::http::StatusCode::CONFLICT,
                codes::WEBHOOK_LIMIT_REACHED,
                "Too many endpoints",
                e.to_string(),
            ),
            e @ WebhookError::StillPending => ApiError::new(
                actix_web::http::StatusCode::CONFLICT,
                codes::WEBHOOK_DELIVERY_PENDING,
                "Delivery pending",
                format!("{e}: it is tried again on its own"),
            ),
            WebhookError::Unexpected(e) => ApiError::unexpected(e),
        }
    }
}

/// Why an endpoint is failing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FailingDto {
    /// What went wrong with the delivery that was given up.
    pub reason: String,
    /// When it was given up.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
}

/// A webhook endpoint (its secret is shown only when made).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDto {
    /// Its id.
    pub id: Uuid,
    /// The organization whose events it receives; null for every organization's (a superuser's).
    pub organization_id: Option<Uuid>,
    /// Where deliveries are posted.
    pub url: String,
    /// The event types it receives; every type when empty.
    #[schema(value_type = Vec<crate::schema::rules::EventType>)]
    pub event_types: Vec<String>,
    /// Whether it receives events.
    pub enabled: bool,
    /// Set when a delivery was given up after a day of failures; cleared by
    /// the next delivered event or by enabling it again.
    pub failing: Option<FailingDto>,
    /// During a rotation: until when the replaced secret signs beside the new one.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub previous_secret_until: Option<OffsetDateTime>,
    /// Who it acts for (a user id): whoever registered it or enabled it last. It
    /// delivers only while they may manage it; otherwise it is disabled with a
    /// `failing` reason, and an admin who enables it again takes it over.
    #[schema(example = "42")]
    pub created_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

impl From<&Endpoint> for WebhookDto {
    fn from(e: &Endpoint) -> Self {
        Self {
            id: e.id.as_uuid(),
            organization_id: match e.scope {
                Scope::Platform => None,
                Scope::Organization(org) => Some(org),
            },
            url: e.url.as_str().to_owned(),
            event_types: e.event_types.clone(),
            enabled: e.enabled,
            failing: e.failing.as_ref().map(|f| FailingDto { reason: f.reason.clone(), since: f.since }),
            previous_secret_until: e.secrets.previous.as_ref().map(|(_, until)| *until),
            created_by: e.created_by.to_string(),
            created_at: e.created_at,
        }
    }
}

/// An endpoint with its new secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookWithSecret {
    /// The endpoint.
    pub webhook: WebhookDto,
    /// `whsec_` and base64: the key of the `webhook-signature` HMAC. It is not shown again.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    pub secret: String,
}

impl WebhookWithSecret {
    fn new((endpoint, secret): (Endpoint, Secret)) -> Self {
        Self { webhook: WebhookDto::from(&endpoint), secret: secret.to_string() }
    }
}

/// A scope's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    /// Oldest first.
    pub webhooks: Vec<WebhookDto>,
}

/// One attempt of a delivery.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptDto {
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// The HTTP status answered; null when none came.
    pub status: Option<u16>,
    /// How long it took, in milliseconds.
    pub latency_ms: u32,
    /// The answer's first KiB.
    pub response: String,
    /// Why no answer came (a timeout, a refused connection).
    pub error: Option<String>,
}

impl From<Attempt> for AttemptDto {
    fn from(a: Attempt) -> Self {
        Self { at: a.at, status: a.status, latency_ms: a.latency_ms, response: a.response, error: a.error }
    }
}

/// One event on its way to an endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryDto {
    /// Its id.
    pub id: Uuid,
    /// The event's id: the `webhook-id` header, the same on every attempt and replay.
    pub event_id: Uuid,
    /// The event's type.
    #[schema(value_type = crate::schema::rules::EventType)]
    pub event_type: String,
    /// What the event is about.
    pub subject: crate::routes::events::SubjectDto,
    /// `pending`, `delivered` or `failed` (given up after a day).
    #[schema(example = "delivered")]
    pub state: String,
    /// When the next attempt is due, while pending.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<OffsetDateTime>,
    /// The delivery this one replays.
    pub replay_of: Option<Uuid>,
    /// When it was made.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Every attempt, oldest first.
    pub attempts: Vec<AttemptDto>,
}

impl DeliveryDto {
    fn new(d: Delivery, attempts: Vec<Attempt>) -> Self {
        let pending = d.state == webhooks::DeliveryState::Pending;
        Self {
            id: d.id.as_uuid(),
            event_id: d.event_id,
            event_type: d.event_type,
            subject: crate::routes::events::SubjectDto { kind: d.subject.kind, id: d.subject.id },
            state: d.state.as_str().to_owned(),
            next_attempt_at: pending.then_some(d.next_attempt_at),
            replay_of: d.replay_of.map(|r| r.as_uuid()),
            created_at: d.created_at,
            attempts: attempts.into_iter().map(Into::into).collect(),
        }
    }
}

/// An endpoint's latest deliveries.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryList {
    /// Newest first.
    pub deliveries: Vec<DeliveryDto>,
}

/// `POST /admin/webhooks` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateWebhookRequest {
    /// `https://…`; `http://` only to loopback while the service runs on loopback. No
    /// credentials, fragment or private address.
    #[schema(value_type = crate::schema::rules::WebhookUrl)]
    pub url: String,
    /// The event types to receive; every type when absent or empty.
    #[serde(default)]
    #[schema(value_type = Vec<crate::schema::rules::EventType>, max_items = 50)]
    pub event_types: Vec<String>,
    /// Whether it receives events at once (default true).
    pub enabled: Option<bool>,
}

/// A change of an endpoint: absent fields stay as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateWebhookRequest {
    /// A new URL.
    #[schema(value_type = Option<crate::schema::rules::WebhookUrl>)]
    pub url: Option<String>,
    /// New event types; empty: every type.
    #[schema(value_type = Option<Vec<crate::schema::rules::EventType>>, max_items = 50)]
    pub event_types: Option<Vec<String>>,
    /// Enabled or not; enabling clears `failing` and makes the endpoint act for the caller.
    pub enabled: Option<bool>,
}

impl UpdateWebhookRequest {
    fn change(self) -> Change {
        Change { url: self.url, event_types: self.event_types, enabled: self.enabled }
    }
}

/// `GET …/deliveries` query.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// How many, 1..100 (default 50).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

fn delivery_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    match limit.unwrap_or(50) {
        n @ 1..=100 => Ok(n),
        _ => Err(ApiError::invalid_field("/limit", "limit must be between 1 and 100")),
    }
}

fn endpoint_id(raw: &str) -> Result<EndpointId, ApiError> {
    raw.parse::<Uuid>()
        .map(EndpointId::from_uuid)
        .map_err(|_| ApiError::not_found(codes::WEBHOOK_NOT_FOUND, "no such webhook endpoint"))
}

fn registration(b: CreateWebhookRequest) -> Registration {
    Registration { url: b.url, event_types: b.event_types, enabled: b.enabled.unwrap_or(true) }
}

/// The scope of an organization's endpoints, for its admins only.
async fn organization_scope(state: &AppState, actor: &Actor, org: OrganizationId) -> Result<Scope, ApiError> {
    crate::webhook_stewards::manages_webhooks(&state.orgs, actor, org).await?;
    Ok(Scope::Organization(org.as_uuid()))
}

fn deliveries_dto(list: Vec<(Delivery, Vec<Attempt>)>) -> DeliveryList {
    DeliveryList { deliveries: list.into_iter().map(|(d, a)| DeliveryDto::new(d, a)).collect() }
}

/// Registers an endpoint for every organization's events (superusers).
/// Deliveries are POSTs of `EventDto` with `webhook-id` (the event's id),
/// `webhook-timestamp` and `webhook-signature` (`v1,<base64 HMAC-SHA256 of
/// "id.timestamp.body">` per secret) headers; any 2xx takes one.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create-webhook",
    security(("bearer" = [])),
    request_body = CreateWebhookRequest,
    responses(
        (status = 201, body = WebhookWithSecret),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`webhook.limit_reached`: 20 endpoints already", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a URL that is not https, carries credentials or a fragment, or names a private address; an unknown event type", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks")]
async fn admin_create(
    su: Superuser,
    state: web::Data<AppState>,
    body: ValidJson<CreateWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let made = state.webhooks.register(Scope::Platform, su.0.user_id, registration(body.0)).await?;
    Ok(HttpResponse::Created().json(WebhookWithSecret::new(made)))
}

/// The superusers' endpoints.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list-webhooks",
    security(("bearer" = [])),
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks")]
async fn admin_list(_su: Superuser, state: web::Data<AppState>) -> Result<web::Json<WebhookList>, ApiError> {
    let list = state.webhooks.list(Scope::Platform).await?;
    Ok(web::Json(WebhookList { webhooks: list.iter().map(Into::into).collect() }))
}

/// Changes a superusers' endpoint.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update-webhook",
    security(("bearer" = [])),
    params(("webhookId" = Uuid, Path, description = "The endpoint")),
    request_body = UpdateWebhookRequest,
    responses(
        (status = 200, body = WebhookDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/webhooks/{webhookId}")]
async fn admin_update(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<UpdateWebhookRequest>,
) -> Result<web::Json<WebhookDto>, ApiError> {
    let endpoint = state.webhooks.update(Scope::Platform, endpoint_id(&path)?, su.0.user_id, body.0.change()).await?;
    Ok(web::Json((&endpoint).into()))
}

/// Deletes a superusers' endpoint with its deliveries: it receives nothing more.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete-webhook",
    security(("bearer" = [])),
    params(("webhookId" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[delete("/admin/webhooks/{webhookId}")]
async fn admin_delete(
    _su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    state.webhooks.delete(Scope::Platform, endpoint_id(&path)?).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives a superusers' endpoint a new secret, shown this once; the old one
/// signs beside it for 24 hours (two signatures).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate-webhook-secret",
    security(("bearer" = [])),
    params(("webhookId" = Uuid, Path, description = "The endpoint")),
    responses(
        (status = 200, body = WebhookWithSecret),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks/{webhookId}/rotate")]
async fn admin_rotate(
    _su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<WebhookWithSecret>, ApiError> {
    let rotated = state.webhooks.rotate(Scope::Platform, endpoint_id(&path)?).await?;
    Ok(web::Json(WebhookWithSecret::new(rotated)))
}

/// A superusers' endpoint's latest deliveries, each with every attempt.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list-webhook-deliveries",
    security(("bearer" = [])),
    params(("webhookId" = Uuid, Path, description = "The endpoint"), DeliveriesQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a limit outside 1..100", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/admin/webhooks/{webhookId}/deliveries")]
async fn admin_deliveries(
    _su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<DeliveriesQuery>,
) -> Result<web::Json<DeliveryList>, ApiError> {
    let limit = delivery_limit(query.limit)?;
    let list = state.webhooks.deliveries(Scope::Platform, endpoint_id(&path)?, limit).await?;
    Ok(web::Json(deliveries_dto(list)))
}

/// Delivers an event again to a superusers' endpoint, with the same `webhook-id`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "replay-webhook-delivery",
    security(("bearer" = [])),
    params(
        ("webhookId" = Uuid, Path, description = "The endpoint"),
        ("deliveryId" = Uuid, Path, description = "The delivery to replay"),
    ),
    responses(
        (status = 202, body = DeliveryDto, description = "The new delivery, due now"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`webhook.not_found`, `webhook.delivery_not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`webhook.delivery_pending`: it is still being tried", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/admin/webhooks/{webhookId}/deliveries/{deliveryId}/replay")]
async fn admin_replay(
    _su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, delivery) = path.into_inner();
    let delivery = delivery_id(&delivery)?;
    let again = state.webhooks.replay(Scope::Platform, endpoint_id(&endpoint)?, delivery).await?;
    Ok(HttpResponse::Accepted().json(DeliveryDto::new(again, vec![])))
}

fn delivery_id(raw: &str) -> Result<DeliveryId, ApiError> {
    raw.parse::<Uuid>()
        .map(DeliveryId::from_uuid)
        .map_err(|_| ApiError::not_found(codes::WEBHOOK_DELIVERY_NOT_FOUND, "no such delivery of this endpoint"))
}

/// `POST /organization/webhooks/create` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOrganizationWebhookRequest {
    /// The organization whose events it receives.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// `https://…`; `http://` only to loopback while the service runs on loopback.
    #[schema(value_type = crate::schema::rules::WebhookUrl)]
    pub url: String,
    /// The event types to receive; every type when absent or empty.
    #[serde(default)]
    #[schema(value_type = Vec<crate::schema::rules::EventType>, max_items = 50)]
    pub event_types: Vec<String>,
    /// Whether it receives events at once (default true).
    pub enabled: Option<bool>,
}

/// An organization's endpoints.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationWebhooksRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
}

/// One of an organization's endpoints.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationWebhookRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The endpoint.
    pub webhook_id: Uuid,
}

/// A change of one of an organization's endpoints.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateOrganizationWebhookRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The endpoint.
    pub webhook_id: Uuid,
    /// A new URL.
    #[schema(value_type = Option<crate::schema::rules::WebhookUrl>)]
    pub url: Option<String>,
    /// New event types; empty: every type.
    #[schema(value_type = Option<Vec<crate::schema::rules::EventType>>, max_items = 50)]
    pub event_types: Option<Vec<String>>,
    /// Enabled or not; enabling clears `failing`.
    pub enabled: Option<bool>,
}

/// The deliveries of one of an organization's endpoints.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationDeliveriesRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The endpoint.
    pub webhook_id: Uuid,
    /// How many, 1..100 (default 50).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A replay of one delivery of an organization's endpoint.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationReplayRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The endpoint.
    pub webhook_id: Uuid,
    /// The delivery to replay.
    pub delivery_id: Uuid,
}

/// Registers an endpoint for an organization's events (its admins). Deliveries are as for `create-webhook`.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "create-organization-webhook",
    security(("bearer" = [])),
    request_body = CreateOrganizationWebhookRequest,
    responses(
        (status = 201, body = WebhookWithSecret),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`webhook.limit_reached`: 20 endpoints already", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/create")]
async fn org_create(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<CreateOrganizationWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let scope = organization_scope(&state, &auth.0, b.organization_id).await?;
    let registration = Registration { url: b.url, event_types: b.event_types, enabled: b.enabled.unwrap_or(true) };
    let made = state.webhooks.register(scope, auth.0.user_id, registration).await?;
    Ok(HttpResponse::Created().json(WebhookWithSecret::new(made)))
}

/// An organization's endpoints (its admins).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list-organization-webhooks",
    security(("bearer" = [])),
    request_body = OrganizationWebhooksRequest,
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/list")]
async fn org_list(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationWebhooksRequest>,
) -> Result<web::Json<WebhookList>, ApiError> {
    let scope = organization_scope(&state, &auth.0, body.0.organization_id).await?;
    let list = state.webhooks.list(scope).await?;
    Ok(web::Json(WebhookList { webhooks: list.iter().map(Into::into).collect() }))
}

/// Changes one of an organization's endpoints (its admins).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "update-organization-webhook",
    security(("bearer" = [])),
    request_body = UpdateOrganizationWebhookRequest,
    responses(
        (status = 200, body = WebhookDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`, `webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/update")]
async fn org_update(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<UpdateOrganizationWebhookRequest>,
) -> Result<web::Json<WebhookDto>, ApiError> {
    let b = body.0;
    let scope = organization_scope(&state, &auth.0, b.organization_id).await?;
    let change = Change { url: b.url, event_types: b.event_types, enabled: b.enabled };
    let endpoint = state.webhooks.update(scope, EndpointId::from_uuid(b.webhook_id), auth.0.user_id, change).await?;
    Ok(web::Json((&endpoint).into()))
}

/// Deletes one of an organization's endpoints (its admins): it receives nothing more.
#[utoipa::path(
    tag = "webhooks",
    operation_id = "delete-organization-webhook",
    security(("bearer" = [])),
    request_body = OrganizationWebhookRequest,
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`, `webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/delete")]
async fn org_delete(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationWebhookRequest>,
) -> Result<HttpResponse, ApiError> {
    let scope = organization_scope(&state, &auth.0, body.0.organization_id).await?;
    state.webhooks.delete(scope, EndpointId::from_uuid(body.0.webhook_id)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Gives one of an organization's endpoints a new secret, shown this once (its admins).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "rotate-organization-webhook-secret",
    security(("bearer" = [])),
    request_body = OrganizationWebhookRequest,
    responses(
        (status = 200, body = WebhookWithSecret),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`, `webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/rotate")]
async fn org_rotate(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationWebhookRequest>,
) -> Result<web::Json<WebhookWithSecret>, ApiError> {
    let scope = organization_scope(&state, &auth.0, body.0.organization_id).await?;
    let rotated = state.webhooks.rotate(scope, EndpointId::from_uuid(body.0.webhook_id)).await?;
    Ok(web::Json(WebhookWithSecret::new(rotated)))
}

/// The latest deliveries of one of an organization's endpoints (its admins).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "list-organization-webhook-deliveries",
    security(("bearer" = [])),
    request_body = OrganizationDeliveriesRequest,
    responses(
        (status = 200, body = DeliveryList),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`, `webhook.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a limit outside 1..100", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/deliveries")]
async fn org_deliveries(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationDeliveriesRequest>,
) -> Result<web::Json<DeliveryList>, ApiError> {
    let b = body.0;
    let limit = delivery_limit(b.limit)?;
    let scope = organization_scope(&state, &auth.0, b.organization_id).await?;
    let list = state.webhooks.deliveries(scope, EndpointId::from_uuid(b.webhook_id), limit).await?;
    Ok(web::Json(deliveries_dto(list)))
}

/// Delivers an event again to one of an organization's endpoints, with the same `webhook-id` (its admins).
#[utoipa::path(
    tag = "webhooks",
    operation_id = "replay-organization-webhook-delivery",
    security(("bearer" = [])),
    request_body = OrganizationReplayRequest,
    responses(
        (status = 202, body = DeliveryDto, description = "The new delivery, due now"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, `organization.forbidden`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`, `webhook.not_found`, `webhook.delivery_not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`webhook.delivery_pending`: it is still being tried", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/webhooks/replay")]
async fn org_replay(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationReplayRequest>,
) -> Result<HttpResponse, ApiError> {
    let b = body.0;
    let scope = organization_scope(&state, &auth.0, b.organization_id).await?;
    let again =
        state.webhooks.replay(scope, EndpointId::from_uuid(b.webhook_id), DeliveryId::from_uuid(b.delivery_id)).await?;
    Ok(HttpResponse::Accepted().json(DeliveryDto::new(again, vec![])))
}
