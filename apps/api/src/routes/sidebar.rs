//! Seed 002's sidebar: the apps (organizations) the caller owns or joined,
//! and the invitations waiting for them.

use crate::caller::Authenticated;
use crate::error::{ApiError, ProblemBody};
use crate::routes::invitations::{MyInvitationDto, my_invitations};
use crate::state::AppState;
use crate::wire::organizations::OrgSummaryDto;
use actix_web::{get, web};
use serde::Serialize;
use shared_kernel::OrgRole;
use time::OffsetDateTime;
use users::UserDto;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

/// Registers the route.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(sidebar);
}

/// One app of the sidebar.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SidebarAppDto {
    /// The organization.
    pub organization: OrgSummaryDto,
    /// The caller's role there.
    #[schema(value_type = crate::schema::OrgRoleSchema, example = "admin")]
    pub role: OrgRole,
    /// Zones covered; empty = the whole organization.
    pub zones: Vec<Uuid>,
    /// When the caller joined.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
    /// When a time-bound membership ends.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Whether it is the caller's current organization.
    pub current: bool,
}

/// `GET /my-apps/sidebar`
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SidebarResponse {
    /// Active memberships, admins' own organizations first.
    pub apps: Vec<SidebarAppDto>,
    /// The newest pending invitations addressed to the caller (the first page of `/invitation/mine`).
    pub pending_invitations: Vec<MyInvitationDto>,
}

/// The caller's organizations (active memberships only) and pending invitations.
#[utoipa::path(
    tag = "organizations",
    operation_id = "my-apps-sidebar",
    security(("bearer" = [])),
    responses(
        (status = 200, body = SidebarResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/my-apps/sidebar")]
async fn sidebar(auth: Authenticated, state: web::Data<AppState>) -> Result<web::Json<SidebarResponse>, ApiError> {
    let apps = state.orgs.sidebar(&auth.0).await?;
    let user: UserDto = state.users.current(&auth.0).await?.into();
    let current = user.current_organization_id;
    let apps = apps
        .into_iter()
        .map(|app| SidebarAppDto {
            current: current.as_deref() == Some(app.organization.id.to_string().as_str()),
            organization: (&app.organization).into(),
            role: app.membership.role,
            zones: app.membership.zones.iter().map(|z| z.as_uuid()).collect(),
            joined_at: app.membership.joined_at,
            expires_at: app.membership.expires_at,
        })
        .collect();
    let pending_invitations = my_invitations(&state, &auth, &shared_kernel::PageRequest::default()).await?.invitations;
    Ok(web::Json(SidebarResponse { apps, pending_invitations }))
}
