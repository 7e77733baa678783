//! The event feeds: `GET /events` (superusers, every organization) and
//! `POST /organization/events` (an organization's admins). Both read the
//! events every change writes in its own transaction, oldest first, from a
//! cursor; docs/events.md lists the types with example payloads.

use crate::caller::{Authenticated, Superuser};
use crate::error::ApiError;
use crate::event_types::{known_types, split_types};
use crate::extract::ValidJson;
use actix_web::{get, post, web};
use organizations::OrganizationId;
use serde::{Deserialize, Serialize};
use shared_kernel::{Event, FeedError, FeedPage, FeedQuery};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

use crate::state::AppState;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(all_events).service(organization_events);
}

/// One change, as the feeds and the audit carry it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventDto {
    /// UUIDv7, unique: a receiver deduplicates by it.
    pub id: Uuid,
    /// A dotted lowercase noun and verb (docs/events.md).
    #[serde(rename = "type")]
    #[schema(example = "invitation.accepted")]
    pub kind: String,
    /// When the change happened.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: OffsetDateTime,
    /// Who made it (a user id as a string); null for the service's own jobs.
    #[schema(example = "42")]
    pub actor_id: Option<String>,
    /// The organization it happened in; null when there is none.
    pub organization_id: Option<Uuid>,
    /// What changed.
    pub subject: SubjectDto,
    /// The subject as it stood after the change, and what the type adds (`reason`, `cause`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
}

/// What an event is about.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubjectDto {
    /// `organization`, `membership` or `invitation`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its id.
    pub id: String,
}

impl From<Event> for EventDto {
    fn from(e: Event) -> Self {
        Self {
            id: e.id,
            kind: e.kind,
            occurred_at: e.occurred_at,
            actor_id: e.actor_id.map(|u| u.to_string()),
            organization_id: e.organization_id,
            subject: SubjectDto { kind: e.subject.kind, id: e.subject.id },
            data: e.data,
        }
    }
}

/// A page of a feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// Oldest first.
    pub events: Vec<EventDto>,
    /// Read on from here: after the last event of this page, or where this
    /// page started when it is empty, so a poller keeps its place.
    pub next_cursor: String,
    /// Whether more events were already waiting.
    pub has_more: bool,
}

impl From<FeedPage> for EventPage {
    fn from(p: FeedPage) -> Self {
        Self {
            events: p.events.into_iter().map(Into::into).collect(),
            next_cursor: p.next_cursor,
            has_more: p.has_more,
        }
    }
}

pub(crate) fn refused(e: FeedError) -> ApiError {
    let pointer = match e {
        FeedError::Cursor => "/cursor",
        FeedError::Limit => "/limit",
        FeedError::UnknownType(_) => "/types",
        FeedError::Range => "/to",
    };
    ApiError::invalid_field(pointer, e.to_string())
}

/// `GET /events` query.
// The derive is named in full: with `IntoParams` imported, utoipa's expansion
// of `params(EventFilter)` trips `unused_qualifications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventFilter {
    /// The `nextCursor` of an earlier page; from the oldest event kept when absent.
    #[param(value_type = Option<crate::schema::rules::EventCursor>)]
    pub cursor: Option<String>,
    /// Comma-separated event types; every type when absent.
    #[param(value_type = Option<crate::schema::rules::EventTypes>)]
    pub types: Option<String>,
    /// Only this organization's events.
    #[serde(rename = "organizationId")]
    #[param(rename = "organizationId")]
    pub organization_id: Option<Uuid>,
    /// Events per page, 1..500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// Every organization's events, oldest first, from a cursor (superusers).
#[utoipa::path(
    tag = "events",
    operation_id = "list-events",
    security(("bearer" = [])),
    params(EventFilter),
    responses(
        (status = 200, body = EventPage),
        (status = 401, body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a cursor this feed did not give out, a limit outside 1..500, or an unknown event type", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/events")]
async fn all_events(
    _su: Superuser,
    state: web::Data<AppState>,
    query: web::Query<EventFilter>,
) -> Result<web::Json<EventPage>, ApiError> {
    let q = query.into_inner();
    let query = FeedQuery::parse(
        q.cursor.as_deref(),
        q.limit,
        split_types(q.types.as_deref()),
        q.organization_id,
        known_types(),
    )
    .map_err(refused)?;
    let rows = state.events.read(&query).await.map_err(ApiError::unexpected)?;
    Ok(web::Json(FeedPage::from_overfetch(rows, &query).into()))
}

/// `POST /organization/events` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationEventsRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The `nextCursor` of an earlier page; from the oldest event kept when absent.
    #[validate(length(max = 20))]
    #[schema(value_type = Option<crate::schema::rules::EventCursor>)]
    pub cursor: Option<String>,
    /// Only these types; every type when absent or empty.
    #[validate(length(max = 50))]
    #[serde(default)]
    #[schema(value_type = Vec<crate::schema::rules::EventType>, max_items = 50)]
    pub types: Vec<String>,
    /// Events per page, 1..500 (default 100).
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
}

/// One organization's events, oldest first, from a cursor (its admins: `youMay.readLogs`).
#[utoipa::path(
    tag = "events",
    operation_id = "organization-events",
    security(("bearer" = [])),
    request_body = OrganizationEventsRequest,
    responses(
        (status = 200, body = EventPage),
        (status = 401, body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, or `organization.forbidden` for a member who is not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a missing organizationId, a cursor this feed did not give out, a limit outside 1..500, or an unknown event type", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/events")]
async fn organization_events(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationEventsRequest>,
) -> Result<web::Json<EventPage>, ApiError> {
    let b = body.0;
    let query = FeedQuery::parse(b.cursor.as_deref(), b.limit, b.types, None, known_types()).map_err(refused)?;
    let page = state.organization_events.page(&auth.0, b.organization_id, query).await?;
    Ok(web::Json(page.into()))
}
