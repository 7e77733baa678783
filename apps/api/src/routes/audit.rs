//! The audit views: `GET /admin/audit` (superusers, every organization) and
//! `GET /organization/audit` (an organization's admins). They read the same
//! events as the feeds, narrowed for people reading them: a time range, one
//! person's changes, and each actor's display name as it reads now (so an
//! erased person's name is gone from the audit too). `format=csv` exports
//! the range as a spreadsheet.

use crate::caller::{Authenticated, Superuser};
use crate::error::ApiError;
use crate::event_types::{known_types, split_types};
use crate::routes::events::{EventDto, refused};
use crate::state::AppState;
use actix_web::{HttpResponse, get, web};
use organizations::OrganizationId;
use serde::{Deserialize, Serialize};
use shared_kernel::{FeedPage, FeedQuery, UserId};
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(admin_audit).service(organization_audit);
}

/// How the audit answers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditFormat {
    /// A page of entries (`AuditPage`).
    #[default]
    Json,
    /// `text/csv`: up to 10,000 entries from the cursor, one row each.
    Csv,
}

/// The audit's query (both views).
// The derive is named in full: with `IntoParams` imported, utoipa's expansion
// of `params(AuditFilter)` trips `unused_qualifications`.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AuditFilter {
    /// Only what happened at or after this instant (RFC 3339).
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<OffsetDateTime>,
    /// Only what happened before this instant (RFC 3339); after `from`.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<OffsetDateTime>,
    /// Only this person's changes.
    #[serde(default, deserialize_with = "shared_kernel::ids::decimal::option::deserialize")]
    #[param(value_type = Option<crate::schema::rules::UserId>)]
    pub actor_id: Option<UserId>,
    /// Comma-separated event types; every type when absent.
    #[param(value_type = Option<crate::schema::rules::EventTypes>)]
    pub types: Option<String>,
    /// The `nextCursor` of an earlier page (for CSV, the `Usher-Next-Cursor` header).
    #[param(value_type = Option<crate::schema::rules::EventCursor>)]
    pub cursor: Option<String>,
    /// Entries per JSON page, 1..500 (default 100); a CSV export holds up to 10,000.
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// `json` (default) or `csv`.
    #[serde(default)]
    #[param(inline)]
    pub format: AuditFormat,
}

/// `/admin/audit`'s scope: every organization, or one.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AnyOrganization {
    /// Only this organization's entries.
    pub organization_id: Option<Uuid>,
}

/// `/organization/audit`'s scope: one organization.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct OneOrganization {
    /// The organization.
    #[param(value_type = Uuid)]
    pub organization_id: OrganizationId,
}

impl AuditFilter {
    /// The feed query these filters make, across `organization` (or all).
    fn query(&self, organization: Option<Uuid>) -> Result<FeedQuery, ApiError> {
        let query = FeedQuery::parse(
            self.cursor.as_deref(),
            self.limit,
            split_types(self.types.as_deref()),
            organization,
            known_types(),
        )
        .and_then(|q| q.within(self.from, self.to, self.actor_id))
        .map_err(refused)?;
        Ok(if self.format == AuditFormat::Csv { query.exporting() } else { query })
    }
}

/// One change, for people: the event, and its actor's name as it reads now.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// The event, as the feeds carry it.
    #[serde(flatten)]
    pub event: EventDto,
    /// The actor's display name now; null for the service's own jobs or a user since deleted.
    pub actor_name: Option<String>,
}

/// A page of an audit.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    /// Oldest first.
    pub entries: Vec<AuditEntry>,
    /// Read on from here.
    pub next_cursor: String,
    /// Whether more entries were already waiting.
    pub has_more: bool,
}

/// The page as `format` asks: JSON, or CSV with the cursor in headers.
async fn answer(state: &AppState, page: FeedPage, format: AuditFormat) -> Result<HttpResponse, ApiError> {
    let actors: Vec<UserId> = page.events.iter().filter_map(|e| e.actor_id).collect();
    let names = state.users.display_names(&actors).await.map_err(ApiError::unexpected)?;
    let entries: Vec<AuditEntry> = page
        .events
        .into_iter()
        .map(|e| AuditEntry { actor_name: e.actor_id.and_then(|a| names.get(&a).cloned()), event: e.into() })
        .collect();
    Ok(match format {
        AuditFormat::Json => {
            HttpResponse::Ok().json(AuditPage { entries, next_cursor: page.next_cursor, has_more: page.has_more })
        }
        AuditFormat::Csv => HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8")
            .insert_header(("Content-Disposition", "attachment; filename=\"usher-audit.csv\""))
            .insert_header(("Usher-Next-Cursor", page.next_cursor))
            .insert_header(("Usher-Has-More", page.has_more.to_string()))
            .body(csv(&entries)),
    })
}

/// The columns of an audit export, in order.
const CSV_COLUMNS: [&str; 9] =
    ["occurredAt", "type", "actorId", "actorName", "organizationId", "subjectType", "subjectId", "eventId", "data"];

/// `entries` as RFC 4180 CSV, every field quoted, with a header row.
fn csv(entries: &[AuditEntry]) -> String {
    let mut out = String::new();
    let mut row = |fields: &[&str]| {
        let cells: Vec<String> = fields.iter().map(|f| cell(f)).collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    };
    row(&CSV_COLUMNS);
    for entry in entries {
        let e = &entry.event;
        let occurred = e.occurred_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let organization = e.organization_id.map(|o| o.to_string()).unwrap_or_default();
        let id = e.id.to_string();
        let data = e.data.to_string();
        row(&[
            &occurred,
            &e.kind,
            e.actor_id.as_deref().unwrap_or_default(),
            entry.actor_name.as_deref().unwrap_or_default(),
            &organization,
            &e.subject.kind,
            &e.subject.id,
            &id,
            &data,
        ]);
    }
    out
}

/// One CSV field: quoted, quotes doubled, and a leading `=`, `+`, `-`, `@`,
/// tab or carriage return defused with an apostrophe, so that a name such
/// as `=HYPERLINK(…)` opens in a spreadsheet as text, not as a formula.
fn cell(value: &str) -> String {
    let defused = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{value}") } else { value.into() };
    format!("\"{}\"", defused.replace('"', "\"\""))
}

/// Every organization's changes for people, oldest first (superusers); `format=csv` exports them.
#[utoipa::path(
    tag = "events",
    operation_id = "admin-audit",
    security(("bearer" = [])),
    params(AnyOrganization, AuditFilter),
    responses(
        (status = 200, description = "A page of entries; with `format=csv`, `text/csv` (columns occurredAt, type, actorId, actorName, organizationId, subjectType, subjectId, eventId, data) with the headers `Usher-Next-Cursor` and `Usher-Has-More`", content((AuditPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`request.malformed_query`: a value of the wrong type", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a cursor the feed did not give out, a limit outside 1..500, an unknown event type, or `to` not after `from`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/admin/audit")]
async fn admin_audit(
    _su: Superuser,
    state: web::Data<AppState>,
    scope: web::Query<AnyOrganization>,
    filter: web::Query<AuditFilter>,
) -> Result<HttpResponse, ApiError> {
    let query = filter.query(scope.organization_id)?;
    let rows = state.events.read(&query).await.map_err(ApiError::unexpected)?;
    answer(&state, FeedPage::from_overfetch(rows, &query), filter.format).await
}

/// One organization's changes for people, oldest first (its admins); `format=csv` exports them.
#[utoipa::path(
    tag = "events",
    operation_id = "organization-audit",
    security(("bearer" = [])),
    params(OneOrganization, AuditFilter),
    responses(
        (status = 200, description = "A page of entries; with `format=csv`, `text/csv` as `/admin/audit` exports it", content((AuditPage = "application/json"), (String = "text/csv"))),
        (status = 400, description = "`request.malformed_query`: no organizationId, or a value of the wrong type", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`organization.not_member`, or `organization.forbidden` for a member who is not an admin", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`organization.not_found`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: a cursor the feed did not give out, a limit outside 1..500, an unknown event type, or `to` not after `from`", body = crate::error::ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/organization/audit")]
async fn organization_audit(
    auth: Authenticated,
    state: web::Data<AppState>,
    scope: web::Query<OneOrganization>,
    filter: web::Query<AuditFilter>,
) -> Result<HttpResponse, ApiError> {
    let query = filter.query(None)?;
    let page = state.organization_events.page(&auth.0, scope.organization_id, query).await?;
    answer(&state, page, filter.format).await
}
