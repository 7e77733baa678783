//! Organizations (seeds 002, 003, 004): create, switch, get, update, the
//! logo's two-step upload, zones, members, role changes, removal, history
//! and leaving. Every `org:R` check reads the caller's membership from the
//! database on the request, so an ended or expired membership grants nothing.

use crate::caller::{Authenticated, Superuser};
use crate::error::{ApiError, ProblemBody};
use crate::extract::{PageQuery, ValidJson};
use crate::state::AppState;
use crate::wire::organizations::ZoneDto;
use actix_web::{HttpResponse, post, web};
use organizations::{
    Block, EndReason, HistoryCause, Member, MemberFilter, MemberSearch, MemberUpdate, Membership, MembershipHistory,
    MembershipStatus, Name, Organization, OrganizationId, OrganizationView, Permissions, Zone, ZoneId,
};
use serde::{Deserialize, Serialize};
use shared_kernel::{OrgRole, UserId};
use std::collections::BTreeMap;
use time::OffsetDateTime;
use users::UserDto;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(switch)
        .service(get)
        .service(update)
        .service(logo_ticket)
        .service(logo_finalize)
        .service(logo_remove)
        .service(create_zone)
        .service(list_zones)
        .service(list_members)
        .service(update_role)
        .service(update_member)
        .service(remove_member)
        .service(unblock_member)
        .service(list_blocks)
        .service(appoint_admin)
        .service(member_history)
        .service(leave);
}

/// A full organization.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationDto {
    /// Organization id (UUIDv7).
    pub id: Uuid,
    /// Name (2..100).
    pub name: String,
    /// Unique slug.
    pub slug: String,
    /// Public logo URL.
    pub logo_url: Option<String>,
    /// Creator's user id (stringified int64).
    pub created_by: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
    /// Its zones, by name.
    pub zones: Vec<ZoneDto>,
}

impl OrganizationDto {
    fn new(o: Organization, zones: Vec<Zone>) -> Self {
        Self {
            id: o.id.as_uuid(),
            name: o.name,
            slug: o.slug,
            logo_url: o.logo_url,
            created_by: o.created_by.to_string(),
            created_at: o.created_at,
            updated_at: o.updated_at,
            zones: zones.into_iter().map(Into::into).collect(),
        }
    }
}

/// A membership.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipDto {
    /// Membership id.
    pub id: Uuid,
    /// The organization.
    pub organization_id: Uuid,
    /// The member.
    #[schema(value_type = crate::schema::rules::UserId)]
    pub user_id: String,
    /// The role.
    #[schema(value_type = crate::schema::OrgRoleSchema, example = "member")]
    pub role: OrgRole,
    /// Zones covered; empty = the whole organization.
    pub zones: Vec<Uuid>,
    /// `active` only while it grants access (an expired one reads `inactive`).
    #[schema(value_type = users::MembershipStatus, example = "active")]
    pub status: MembershipStatus,
    /// When a time-bound membership stops granting access.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// The invitation it came from.
    pub invitation_id: Option<Uuid>,
    /// When it started.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub joined_at: OffsetDateTime,
    /// When it ended.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<OffsetDateTime>,
    /// `removed`, `left` or `expired`.
    #[schema(value_type = Option<String>)]
    pub end_reason: Option<EndReason>,
}

impl MembershipDto {
    /// The wire shape of `m` as it reads at `now` ([`Membership::view_at`]).
    pub fn new(m: Membership, now: OffsetDateTime) -> Self {
        let view = m.view_at(now);
        Self {
            id: m.id.as_uuid(),
            organization_id: m.organization_id.as_uuid(),
            user_id: m.user_id.to_string(),
            role: m.role,
            zones: m.zones.iter().map(ZoneId::as_uuid).collect(),
            status: view.status,
            expires_at: m.expires_at,
            invitation_id: m.invitation_id.map(|i| i.as_uuid()),
            joined_at: m.joined_at,
            ended_at: view.ended_at,
            end_reason: view.end_reason,
        }
    }
}

/// What the caller may do in an organization, as the server decides it:
/// clients show controls by it instead of re-deriving the rules.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionsDto {
    /// The caller's role.
    #[schema(value_type = crate::schema::OrgRoleSchema)]
    pub role: OrgRole,
    /// Roles the caller may grant by invitation, and remove or block.
    #[schema(value_type = Vec<crate::schema::OrgRoleSchema>)]
    pub grant_roles: Vec<OrgRole>,
    /// The zones the caller's management is limited to; null: the whole organization.
    pub zones: Option<Vec<Uuid>>,
    /// When the caller's membership, and everything they grant, ends; null: never.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub until: Option<OffsetDateTime>,
    /// Create, revoke and resend invitations.
    pub invite: bool,
    /// List members, invitations and blocks.
    pub list_members: bool,
    /// Change members' role, zones and expiry.
    pub update_members: bool,
    /// Rename the organization, set its logo, create zones.
    pub manage_organization: bool,
    /// Read membership histories and acceptance logs.
    pub read_logs: bool,
    /// Lift a block.
    pub unblock: bool,
    /// Register, change and remove webhook endpoints, read and replay their deliveries.
    pub manage_webhooks: bool,
}

impl From<Permissions> for PermissionsDto {
    fn from(p: Permissions) -> Self {
        Self {
            role: p.role,
            grant_roles: p.grant_roles,
            zones: p.zones.map(|z| z.iter().map(ZoneId::as_uuid).collect()),
            until: p.until,
            invite: p.invite,
            list_members: p.list_members,
            update_members: p.update_members,
            manage_organization: p.manage_organization,
            read_logs: p.read_logs,
            unblock: p.unblock,
            manage_webhooks: p.manage_webhooks,
        }
    }
}

/// An organization as one of its members sees it: with their membership and what they may do.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OrganizationViewDto {
    /// The organization.
    #[serde(flatten)]
    pub organization: OrganizationDto,
    /// The caller's membership.
    pub membership: MembershipDto,
    /// What the caller may do here.
    pub you_may: PermissionsDto,
}

impl OrganizationViewDto {
    fn new(v: OrganizationView, now: OffsetDateTime) -> Self {
        Self {
            organization: OrganizationDto::new(v.organization, v.zones),
            membership: MembershipDto::new(v.membership, now),
            you_may: v.permissions.into(),
        }
    }
}

/// A member with their name and e-mail.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberDto {
    /// The membership.
    #[serde(flatten)]
    pub membership: MembershipDto,
    /// The member's display name.
    pub display_name: String,
    /// The member's e-mail.
    pub email: String,
}

/// `{members, nextCursor}`
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembersResponse {
    /// Newest first (by when they joined).
    pub members: Vec<MemberDto>,
    /// Send it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// One version of a membership.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryDto {
    /// The membership.
    pub membership_id: Uuid,
    /// Role of this version.
    #[schema(value_type = crate::schema::OrgRoleSchema)]
    pub role: OrgRole,
    /// Zones of this version.
    pub zones: Vec<Uuid>,
    /// Status of this version.
    #[schema(value_type = users::MembershipStatus)]
    pub status: MembershipStatus,
    /// Expiry of this version.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<OffsetDateTime>,
    /// Start of this version.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub valid_from: OffsetDateTime,
    /// End of this version; null for the current one.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<OffsetDateTime>,
    /// Who changed it (stringified int64): the acting member, the accepting invitee, the appointing superuser, for imports the organization's creator; null for the sweeper.
    pub changed_by: Option<String>,
    /// The invitation that caused it (accepts and imports).
    pub invitation_id: Option<Uuid>,
    /// `created`, `invitation`, `role_change`, `zone_change`, `expiry_change`, `removed`, `left`, `expired`, `import` or `appointed`.
    #[schema(value_type = String, example = "role_change")]
    pub cause: HistoryCause,
}

impl From<MembershipHistory> for HistoryDto {
    fn from(h: MembershipHistory) -> Self {
        Self {
            membership_id: h.membership_id.as_uuid(),
            role: h.role,
            zones: h.zones.iter().map(ZoneId::as_uuid).collect(),
            status: h.status,
            expires_at: h.expires_at,
            valid_from: h.valid_from,
            valid_to: h.valid_to,
            changed_by: h.changed_by.map(|u| u.to_string()),
            invitation_id: h.invitation_id.map(|i| i.as_uuid()),
            cause: h.cause,
        }
    }
}

/// `{history}`
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryResponse {
    /// Oldest first.
    pub history: Vec<HistoryDto>,
}

/// `{zones}`
#[derive(Debug, Serialize, ToSchema)]
pub struct ZonesResponse {
    /// By name.
    pub zones: Vec<ZoneDto>,
}

/// `POST /organization/create` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateOrganizationRequest {
    /// The name.
    #[schema(value_type = crate::schema::rules::Name)]
    pub name: Name,
}

/// A body naming one organization.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OrganizationRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
}

/// `POST /organization/update` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateOrganizationRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The new name.
    #[schema(value_type = crate::schema::rules::Name)]
    pub name: Name,
}

/// `POST /organization/zones/create` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateZoneRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// Unique in the organization.
    #[schema(value_type = crate::schema::rules::Name)]
    pub name: Name,
}

/// `POST /organization/members/list` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListMembersRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// `active` (granting now) or `inactive`.
    #[schema(value_type = Option<users::MembershipStatus>)]
    pub status: Option<MembershipStatus>,
    /// Only this role.
    #[schema(value_type = Option<crate::schema::OrgRoleSchema>)]
    pub role: Option<OrgRole>,
    /// Only members covering this zone.
    #[schema(value_type = Option<Uuid>)]
    pub zone_id: Option<ZoneId>,
    /// Only members whose display name or e-mail starts with this (ASCII
    /// letters in either case; served by an index).
    #[schema(value_type = Option<crate::schema::rules::MemberSearch>)]
    pub search: Option<MemberSearch>,
    /// Members per page, 1..100 (default 20).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// A body naming one member of one organization.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MemberRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The member.
    #[serde(deserialize_with = "shared_kernel::ids::decimal::deserialize")]
    #[schema(value_type = crate::schema::rules::UserId)]
    pub user_id: UserId,
}

/// `POST /organization/members/remove` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RemoveMemberRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The member.
    #[serde(deserialize_with = "shared_kernel::ids::decimal::deserialize")]
    #[schema(value_type = crate::schema::rules::UserId)]
    pub user_id: UserId,
    /// Keep them out of every invitation of the organization until an admin unblocks them (default false).
    pub block: Option<bool>,
}

/// `POST /organization/members/update` body: the fields to change.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateMemberRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The member.
    #[serde(deserialize_with = "shared_kernel::ids::decimal::deserialize")]
    #[schema(value_type = crate::schema::rules::UserId)]
    pub user_id: UserId,
    /// The new role.
    #[schema(value_type = Option<crate::schema::OrgRoleSchema>)]
    pub role: Option<OrgRole>,
    /// The new zones (each a zone of the organization); `[]` = the whole organization.
    #[validate(length(max = 100))]
    #[schema(value_type = Option<Vec<Uuid>>)]
    pub zone_ids: Option<Vec<ZoneId>>,
    /// The new end (RFC 3339, in the future, no later than the caller's own); `null` makes it permanent; omitted keeps it.
    #[serde(default, deserialize_with = "present_time")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Option<OffsetDateTime>>,
}

/// A field that may be absent (`None`), `null` (`Some(None)`) or an RFC 3339 time.
fn present_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<OffsetDateTime>>, D::Error> {
    time::serde::rfc3339::option::deserialize(d).map(Some)
}

/// `POST /admin/organizations/{organizationId}/admins` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AppointAdminRequest {
    /// The user to make a permanent admin.
    #[serde(deserialize_with = "shared_kernel::ids::decimal::deserialize")]
    #[schema(value_type = crate::schema::rules::UserId)]
    pub user_id: UserId,
}

/// A user blocked from an organization.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlockDto {
    /// The blocked user (stringified int64).
    pub user_id: String,
    /// Their display name.
    pub display_name: String,
    /// Their e-mail.
    pub email: String,
    /// Who blocked them (stringified int64).
    pub blocked_by: String,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub blocked_at: OffsetDateTime,
}

impl From<Block> for BlockDto {
    fn from(b: Block) -> Self {
        Self {
            user_id: b.user_id.to_string(),
            display_name: b.display_name,
            email: b.email,
            blocked_by: b.blocked_by.to_string(),
            blocked_at: b.blocked_at,
        }
    }
}

/// `{blocks}`
#[derive(Debug, Serialize, ToSchema)]
pub struct BlocksResponse {
    /// Most recent first.
    pub blocks: Vec<BlockDto>,
}

/// `POST /organization/members/update-role` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateRoleRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The member.
    #[serde(deserialize_with = "shared_kernel::ids::decimal::deserialize")]
    #[schema(value_type = crate::schema::rules::UserId)]
    pub user_id: UserId,
    /// The new role.
    #[schema(value_type = crate::schema::OrgRoleSchema, example = "moderator")]
    pub role: OrgRole,
}

/// `POST /organization/logo/upload-ticket` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoTicketRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The logo's media type.
    #[validate(length(min = 1, max = 255))]
    #[schema(value_type = crate::schema::rules::ImageType)]
    pub content_type: String,
}

/// A presigned logo upload.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoTicketResponse {
    /// The presigned PUT URL.
    pub upload_url: String,
    /// The key to pass to finalize.
    pub tmp_key: String,
    /// Seconds until the ticket expires.
    pub expires_in_seconds: i64,
    /// Headers the PUT must carry.
    pub required_headers: BTreeMap<String, String>,
}

/// `POST /organization/logo/finalize` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LogoFinalizeRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// The ticket's `tmpKey`.
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub tmp_key: String,
}

/// `{logoUrl}`
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogoResponse {
    /// The logo now in effect.
    pub logo_url: String,
}

/// Creates an organization; the caller becomes its admin and it becomes current.
#[utoipa::path(
    tag = "organizations",
    operation_id = "create-organization",
    security(("bearer" = [])),
    request_body = CreateOrganizationRequest,
    responses(
        (status = 200, body = UserDto, description = "The caller, now admin of the new organization, which is current"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`request.validation`: a name of 2..100 visible characters without control, format or bidi-override characters"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`quota.organizations_per_user_per_day`, with Retry-After"),
    )
)]
#[post("/organization/create")]
async fn create(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<CreateOrganizationRequest>,
) -> Result<web::Json<UserDto>, ApiError> {
    state.then_current_user(&auth.0, state.orgs.create(&auth.0, &body.0.name)).await
}

/// Makes an organization the caller's current one.
#[utoipa::path(
    tag = "organizations",
    operation_id = "switch-organization",
    security(("bearer" = [])),
    request_body = OrganizationRequest,
    responses(
        (status = 200, body = UserDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`: no active membership"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/switch")]
async fn switch(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationRequest>,
) -> Result<web::Json<UserDto>, ApiError> {
    state.then_current_user(&auth.0, state.orgs.switch(&auth.0, body.0.organization_id)).await
}

/// The organization with its zones, the caller's membership and what they may do there (`org:guest`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "get-organization",
    security(("bearer" = [])),
    request_body = OrganizationRequest,
    responses(
        (status = 200, body = OrganizationViewDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`"),
    )
)]
#[post("/organization/get")]
async fn get(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationRequest>,
) -> Result<web::Json<OrganizationViewDto>, ApiError> {
    let view = state.orgs.get(&auth.0, body.0.organization_id).await?;
    Ok(web::Json(OrganizationViewDto::new(view, state.clock.now())))
}

/// Renames the organization (`org:admin`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "update-organization",
    security(("bearer" = [])),
    request_body = UpdateOrganizationRequest,
    responses(
        (status = 200, body = OrganizationDto),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/update")]
async fn update(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<UpdateOrganizationRequest>,
) -> Result<web::Json<OrganizationDto>, ApiError> {
    let id = body.0.organization_id;
    let renamed = state.orgs.rename(&auth.0, id, &body.0.name).await?;
    let zones = state.orgs.zones(&auth.0, id).await?;
    Ok(web::Json(OrganizationDto::new(renamed, zones)))
}

/// Step 1 of the logo upload (`org:admin`): a presigned PUT.
#[utoipa::path(
    tag = "organizations",
    operation_id = "organization-logo-upload-ticket",
    security(("bearer" = [])),
    request_body = LogoTicketRequest,
    responses(
        (status = 200, body = LogoTicketResponse),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json", description = "`upload.unsupported_type`"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`organization.logo_upload_tries_exhausted`"),
    )
)]
#[post("/organization/logo/upload-ticket")]
async fn logo_ticket(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<LogoTicketRequest>,
) -> Result<web::Json<LogoTicketResponse>, ApiError> {
    let issued = state.logos.ticket(&auth.0, body.0.organization_id, &body.0.content_type).await?;
    Ok(web::Json(LogoTicketResponse {
        upload_url: issued.upload.url,
        tmp_key: issued.ticket.tmp_key.as_str().to_owned(),
        expires_in_seconds: (issued.ticket.expires_at - issued.ticket.created_at).whole_seconds(),
        required_headers: issued.upload.headers.into_iter().collect(),
    }))
}

/// Step 3 of the logo upload (`org:admin`): checks the upload and makes it the logo.
#[utoipa::path(
    tag = "organizations",
    operation_id = "organization-logo-finalize",
    security(("bearer" = [])),
    request_body = LogoFinalizeRequest,
    responses(
        (status = 200, body = LogoResponse),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`upload.ticket_invalid`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`upload.ticket_invalid` (used), `upload.not_found`"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json", description = "`upload.too_large`"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json", description = "`upload.content_mismatch`"),
    )
)]
#[post("/organization/logo/finalize")]
async fn logo_finalize(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<LogoFinalizeRequest>,
) -> Result<web::Json<LogoResponse>, ApiError> {
    let logo_url = state.logos.finalize(&auth.0, body.0.organization_id, &body.0.tmp_key).await.map_err(ApiError::from);
    state.metrics.outcome(crate::metrics::UseCase::LogoFinalize, &logo_url);
    let logo_url = logo_url?;
    Ok(web::Json(LogoResponse { logo_url }))
}

/// Removes the logo (`org:admin`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "organization-logo-remove",
    security(("bearer" = [])),
    request_body = OrganizationRequest,
    responses(
        (status = 204, description = "Removed (or there was none)"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
    )
)]
#[post("/organization/logo/remove")]
async fn logo_remove(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationRequest>,
) -> Result<HttpResponse, ApiError> {
    state.logos.remove(&auth.0, body.0.organization_id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Creates a zone (`org:admin`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "create-zone",
    security(("bearer" = [])),
    request_body = CreateZoneRequest,
    responses(
        (status = 200, body = ZoneDto),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`organization.zone_name_taken`: a zone of that name in any letter case exists"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/zones/create")]
async fn create_zone(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<CreateZoneRequest>,
) -> Result<web::Json<ZoneDto>, ApiError> {
    let zone = state.orgs.create_zone(&auth.0, body.0.organization_id, &body.0.name).await?;
    Ok(web::Json(zone.into()))
}

/// The zones (`org:guest`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "list-zones",
    security(("bearer" = [])),
    request_body = OrganizationRequest,
    responses(
        (status = 200, body = ZonesResponse),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`"),
    )
)]
#[post("/organization/zones/list")]
async fn list_zones(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationRequest>,
) -> Result<web::Json<ZonesResponse>, ApiError> {
    let zones = state.orgs.zones(&auth.0, body.0.organization_id).await?;
    Ok(web::Json(ZonesResponse { zones: zones.into_iter().map(Into::into).collect() }))
}

/// The members (`org:moderator`; a zone moderator sees only members whose zones all lie in theirs), filtered by status, role and zone, a page at a time, newest first.
#[utoipa::path(
    tag = "organizations",
    operation_id = "list-members",
    security(("bearer" = [])),
    request_body = ListMembersRequest,
    responses(
        (status = 200, body = MembersResponse),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`request.validation`, also for a `limit` outside 1..100 or a `cursor` not from this list"),
    )
)]
#[post("/organization/members/list")]
async fn list_members(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<ListMembersRequest>,
) -> Result<web::Json<MembersResponse>, ApiError> {
    let b = body.0;
    let page = PageQuery { limit: b.limit, cursor: b.cursor }.page_of::<Uuid>()?;
    let filter = MemberFilter { status: b.status, role: b.role, zone: b.zone_id, search: b.search };
    let found = state.orgs.members(&auth.0, b.organization_id, filter, &page).await?;
    let now = state.clock.now();
    let members = found
        .items
        .into_iter()
        .map(|Member { membership, display_name, email }| MemberDto {
            membership: MembershipDto::new(membership, now),
            display_name,
            email,
        })
        .collect();
    Ok(web::Json(MembersResponse { members, next_cursor: found.next_cursor }))
}

/// Changes a member's role (`org:admin`); the history row is written in the same transaction. Same as `/organization/members/update` with `role` only.
#[utoipa::path(
    tag = "organizations",
    operation_id = "update-member-role",
    security(("bearer" = [])),
    request_body = UpdateRoleRequest,
    responses(
        (status = 200, body = MembershipDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`organization.member_not_found`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`organization.last_admin`: no active permanent admin would remain"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/members/update-role")]
async fn update_role(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<UpdateRoleRequest>,
) -> Result<web::Json<MembershipDto>, ApiError> {
    let user = body.0.user_id;
    let change = MemberUpdate { role: Some(body.0.role), ..MemberUpdate::default() };
    let m = state.orgs.update_member(&auth.0, body.0.organization_id, user, &change).await?;
    Ok(web::Json(MembershipDto::new(m, state.clock.now())))
}

/// Changes a member's role, zones or expiry (`org:admin`), with a history row (`role_change`, `zone_change` or `expiry_change`) in the same transaction.
#[utoipa::path(
    tag = "organizations",
    operation_id = "update-member",
    security(("bearer" = [])),
    request_body = UpdateMemberRequest,
    responses(
        (status = 200, body = MembershipDto, description = "The membership after the change (unchanged when nothing differs)"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`, `organization.beyond_own_term` (an end later than the caller's own)"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`organization.member_not_found`, `organization.zone_not_found`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`organization.last_admin`: no active permanent admin would remain"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`request.validation`, also for an `expiresAt` not in the future"),
    )
)]
#[post("/organization/members/update")]
async fn update_member(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<UpdateMemberRequest>,
) -> Result<web::Json<MembershipDto>, ApiError> {
    let b = body.0;
    let user = b.user_id;
    let change = MemberUpdate {
        role: b.role,
        zones: b.zone_ids,
        expires_at: b.expires_at.map(|e| e.map(shared_kernel::truncate_to_micros)),
    };
    let m = state.orgs.update_member(&auth.0, b.organization_id, user, &change).await?;
    Ok(web::Json(MembershipDto::new(m, state.clock.now())))
}

/// Removes a member (`org:moderator`; moderators remove guests and members in their zones only); with `block`, they stay out of every invitation of the organization until an admin unblocks them.
#[utoipa::path(
    tag = "organizations",
    operation_id = "remove-member",
    security(("bearer" = [])),
    request_body = RemoveMemberRequest,
    responses(
        (status = 200, body = MembershipDto, description = "The ended membership (`inactive`, `removed`)"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`, `organization.role_not_allowed`, `organization.out_of_scope`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`organization.member_not_found`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`organization.last_admin`: no active permanent admin would remain"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/members/remove")]
async fn remove_member(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<RemoveMemberRequest>,
) -> Result<web::Json<MembershipDto>, ApiError> {
    let user = body.0.user_id;
    let m = state.orgs.remove(&auth.0, body.0.organization_id, user, body.0.block.unwrap_or(false)).await?;
    Ok(web::Json(MembershipDto::new(m, state.clock.now())))
}

/// Lifts a block (`org:admin`): the user may accept the organization's invitations again.
#[utoipa::path(
    tag = "organizations",
    operation_id = "unblock-member",
    security(("bearer" = [])),
    request_body = MemberRequest,
    responses(
        (status = 204, description = "Unblocked"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`organization.member_not_found`: the user is not blocked"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/members/unblock")]
async fn unblock_member(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<MemberRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = body.0.user_id;
    state.orgs.unblock(&auth.0, body.0.organization_id, user).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The users blocked from the organization (`org:moderator`), most recent first.
#[utoipa::path(
    tag = "organizations",
    operation_id = "list-blocks",
    security(("bearer" = [])),
    request_body = OrganizationRequest,
    responses(
        (status = 200, body = BlocksResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/organization/blocks/list")]
async fn list_blocks(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationRequest>,
) -> Result<web::Json<BlocksResponse>, ApiError> {
    let blocks = state.orgs.blocks(&auth.0, body.0.organization_id).await?;
    Ok(web::Json(BlocksResponse { blocks: blocks.into_iter().map(Into::into).collect() }))
}

/// A superuser makes a user a permanent admin of an organization (history cause `appointed`), so no organization is ever left without one.
#[utoipa::path(
    tag = "users",
    operation_id = "appoint-organization-admin",
    security(("bearer" = [])),
    params(("organizationId" = Uuid, Path, description = "The organization")),
    request_body = AppointAdminRequest,
    responses(
        (status = 200, body = MembershipDto, description = "The user's admin membership"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`auth.superuser_required`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_found`, `user.not_found`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`organization.conflict`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/admin/organizations/{organizationId}/admins")]
async fn appoint_admin(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: ValidJson<AppointAdminRequest>,
) -> Result<web::Json<MembershipDto>, ApiError> {
    let user = body.0.user_id;
    let m = state.orgs.appoint_admin(&su.0, OrganizationId::from_uuid(path.into_inner()), user).await?;
    Ok(web::Json(MembershipDto::new(m, state.clock.now())))
}

/// The membership history of one user (`org:admin`), oldest first.
#[utoipa::path(
    tag = "organizations",
    operation_id = "member-history",
    security(("bearer" = [])),
    request_body = MemberRequest,
    responses(
        (status = 200, body = HistoryResponse),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
    )
)]
#[post("/organization/members/history")]
async fn member_history(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<MemberRequest>,
) -> Result<web::Json<HistoryResponse>, ApiError> {
    let user = body.0.user_id;
    let history = state.orgs.history(&auth.0, body.0.organization_id, user).await?;
    Ok(web::Json(HistoryResponse { history: history.into_iter().map(Into::into).collect() }))
}

/// The caller leaves the organization.
#[utoipa::path(
    tag = "organizations",
    operation_id = "leave-organization",
    security(("bearer" = [])),
    request_body = OrganizationRequest,
    responses(
        (status = 200, body = UserDto),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`organization.last_admin`: the last active permanent admin may not leave"),
    )
)]
#[post("/organization/leave")]
async fn leave(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<OrganizationRequest>,
) -> Result<web::Json<UserDto>, ApiError> {
    state.then_current_user(&auth.0, state.orgs.leave(&auth.0, body.0.organization_id)).await
}
