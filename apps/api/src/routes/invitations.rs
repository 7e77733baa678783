//! Invitations (seeds 002 and 004): create (token shown once with its URL
//! and an SVG QR code), list, mine, the public preview, accept, reject,
//! revoke, resend and the acceptance log.
//!
//! Tokens never reach a log: they travel in request bodies (never in paths
//! or query strings, which the request log records) and in the fragment of
//! the invitation URL, which browsers do not send to servers.

use crate::caller::Authenticated;
use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::extract::{PageQuery, ValidJson, ValidJsonOrEmpty};
use crate::state::AppState;
use crate::wire::organizations::{OrgSummaryDto, ZoneDto};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, post, web};
use organizations::{
    Acceptance, ClientInfo, CreatedInvitation, Invitation, InvitationFilter, InvitationId, InvitationKind,
    InvitationState, InvitationToken, MaxUses, MembershipDuration, NewInvitation, OrganizationId, Outcome, Validity,
    ZoneId,
};
use serde::{Deserialize, Serialize};
use shared_kernel::{EmailAddress, OrgRole, UserId};
use time::OffsetDateTime;
use users::UserDto;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(create)
        .service(list)
        .service(mine)
        .service(preview)
        .service(recipient)
        .service(accept)
        .service(reject)
        .service(revoke)
        .service(resend)
        .service(acceptances);
}

/// Where the request came from, for the acceptance log.
fn client(req: &HttpRequest, state: &AppState) -> ClientInfo {
    let user_agent = req.headers().get(actix_web::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(|ua| {
        let mut end = ua.len().min(512);
        while !ua.is_char_boundary(end) {
            end -= 1;
        }
        ua[..end].to_owned()
    });
    ClientInfo { ip: state.trusted_proxies.client_ip(req).map(|ip| ip.to_string()), user_agent }
}

/// An invitation as the organization sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationDto {
    /// Invitation id (UUIDv7).
    pub id: Uuid,
    /// The organization.
    pub organization_id: Uuid,
    /// The zone it grants, if any.
    pub zone_id: Option<Uuid>,
    /// The role it grants.
    #[schema(value_type = crate::schema::OrgRoleSchema, example = "member")]
    pub role: OrgRole,
    /// The bound e-mail.
    pub email: Option<String>,
    /// The bound user (stringified int64).
    pub user_id: Option<String>,
    /// `internal` or `external`.
    #[schema(value_type = crate::schema::InvitationKindSchema, example = "internal")]
    pub kind: InvitationKind,
    /// How many people may accept it.
    pub max_uses: u32,
    /// How many have.
    pub use_count: u32,
    /// When it stops being usable.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    /// How long granted memberships last, in seconds; null = open-ended.
    pub membership_duration_seconds: Option<i64>,
    /// `pending`, `accepted`, `rejected`, `revoked` or `expired` (computed now).
    #[schema(value_type = crate::schema::InvitationStatusSchema, example = "pending")]
    pub status: InvitationState,
    /// Who created it (stringified int64).
    pub created_by: String,
    /// Creation time.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl InvitationDto {
    /// The wire shape as of `now`.
    pub fn new(i: Invitation, now: OffsetDateTime) -> Self {
        Self {
            id: i.id.as_uuid(),
            organization_id: i.organization_id.as_uuid(),
            zone_id: i.zone_id.map(|z| z.as_uuid()),
            role: i.role,
            email: i.email.as_ref().map(|e| e.as_str().to_owned()),
            user_id: i.user_id.map(|u| u.to_string()),
            kind: i.kind,
            max_uses: i.max_uses,
            use_count: i.use_count,
            expires_at: i.expires_at,
            membership_duration_seconds: i.membership_duration.map(|d| d.whole_seconds()),
            status: i.state(now),
            created_by: i.created_by.to_string(),
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// A created or resent invitation: the token, its URL and QR code are shown this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedInvitationDto {
    /// The invitation.
    pub invitation: InvitationDto,
    /// The secret token (43 base64url characters). Only its SHA-256 is stored.
    pub token: String,
    /// `{public_url}/dashboard/invite#token=…`: the token in the fragment.
    pub url: String,
    /// An SVG QR code of `url`.
    pub qr_svg: String,
}

fn created(c: CreatedInvitation, now: OffsetDateTime) -> Result<CreatedInvitationDto, ApiError> {
    let qr = qrcode::QrCode::new(c.url.as_bytes())
        .map_err(|e| ApiError::internal(anyhow::anyhow!("rendering the invitation QR code: {e}")))?;
    let qr_svg = qr.render::<qrcode::render::svg::Color<'_>>().min_dimensions(200, 200).build();
    Ok(CreatedInvitationDto {
        invitation: InvitationDto::new(c.invitation, now),
        token: c.token.expose().to_owned(),
        url: c.url,
        qr_svg,
    })
}

/// `POST /invitation/create` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateInvitationRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// A zone of the organization; omitted = the whole organization. A
    /// moderator scoped to zones must name one of theirs.
    #[schema(value_type = Option<Uuid>)]
    pub zone_id: Option<ZoneId>,
    /// The role granted (default `member`); never above the caller's own, and moderators grant only guest or member.
    #[schema(value_type = Option<crate::schema::OrgRoleSchema>, example = "member")]
    pub role: Option<OrgRole>,
    /// Bind to this e-mail (RFC 5322 without a quoted local part; stored with an ASCII-lower-cased local part and a punycode domain); the invitee must have it verified. Single-use.
    #[schema(value_type = Option<String>, format = Email, max_length = 254)]
    pub email: Option<EmailAddress>,
    /// Bind to this user. Single-use.
    #[serde(default, deserialize_with = "shared_kernel::ids::decimal::option::deserialize")]
    #[schema(value_type = Option<crate::schema::rules::UserId>)]
    pub user_id: Option<UserId>,
    /// `internal` (default) or `external` (refused to existing members).
    #[schema(value_type = Option<crate::schema::InvitationKindSchema>, example = "internal")]
    pub kind: Option<InvitationKind>,
    /// How many people may accept it: 1..1000, default 1; 1 when bound to an e-mail or user.
    #[schema(value_type = Option<u32>, minimum = 1, maximum = 1000)]
    pub max_uses: Option<MaxUses>,
    /// Validity: 3600..2592000 seconds (1 hour to 30 days), default 7 days.
    #[schema(value_type = Option<i64>, minimum = 3600, maximum = 2592000)]
    pub expires_in_seconds: Option<Validity>,
    /// Memberships it grants end after this many seconds (1..316224000),
    /// and never after the end of the creator's own membership; omitted = open-ended.
    #[schema(value_type = Option<i64>, minimum = 1, maximum = 316224000)]
    pub membership_duration_seconds: Option<MembershipDuration>,
}

/// `POST /invitation/list` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListInvitationsRequest {
    /// The organization.
    #[schema(value_type = Uuid)]
    pub organization_id: OrganizationId,
    /// `pending`, `accepted`, `rejected`, `revoked` or `expired` (as read now).
    #[schema(value_type = Option<crate::schema::InvitationStatusSchema>)]
    pub status: Option<InvitationState>,
    /// Only invitations granting this role.
    #[schema(value_type = Option<crate::schema::OrgRoleSchema>)]
    pub role: Option<OrgRole>,
    /// Only invitations to this zone.
    #[schema(value_type = Option<Uuid>)]
    pub zone_id: Option<ZoneId>,
    /// Only invitations this user created.
    #[serde(default, deserialize_with = "shared_kernel::ids::decimal::option::deserialize")]
    #[schema(value_type = Option<crate::schema::rules::UserId>)]
    pub created_by: Option<UserId>,
    /// Only invitations bound to an e-mail starting with this (case-insensitive in ASCII).
    #[validate(length(max = 254))]
    #[schema(max_length = 254)]
    pub email_prefix: Option<String>,
    /// Invitations per page, 1..100 (default 20).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// `POST /invitation/mine` body (optional): the page.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MineRequest {
    /// Invitations per page, 1..100 (default 20).
    #[schema(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// `{invitations, nextCursor}`
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvitationsResponse {
    /// Newest first.
    pub invitations: Vec<InvitationDto>,
    /// Send it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A pending invitation addressed to the caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyInvitationDto {
    /// The invitation.
    pub invitation: InvitationDto,
    /// Its organization.
    pub organization: OrgSummaryDto,
}

/// `{invitations, nextCursor}` addressed to the caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MyInvitationsResponse {
    /// Newest first.
    pub invitations: Vec<MyInvitationDto>,
    /// Send it as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A body carrying a token.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenRequest {
    /// The invitation token.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub token: String,
}

/// What an invitation grants, or why it cannot be used.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewDto {
    /// The organization.
    pub organization: OrgSummaryDto,
    /// The zone, if any.
    pub zone: Option<ZoneDto>,
    /// The role it grants.
    #[schema(value_type = crate::schema::OrgRoleSchema)]
    pub role: OrgRole,
    /// `internal` or `external`.
    #[schema(value_type = crate::schema::InvitationKindSchema)]
    pub kind: InvitationKind,
    /// When it stops being usable.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
    /// The inviter's display name.
    pub invited_by: String,
    /// Its status now.
    #[schema(value_type = crate::schema::InvitationStatusSchema, example = "pending")]
    pub status: InvitationState,
    /// Why it cannot be used: `expired`, `revoked`, `used_up`, `rejected` or `accepted`; null when usable.
    pub reason: Option<String>,
    /// For an invitation bound to an e-mail address, that address masked
    /// (`b***@example.com`), so the holder knows which account to sign in with; null otherwise.
    #[schema(example = "b***@example.com")]
    pub email_hint: Option<String>,
}

/// Whom an e-mail-bound invitation is for.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecipientDto {
    /// The invited address, masked: its first character, `***`, and its domain.
    #[schema(example = "b***@example.com")]
    pub email_hint: String,
}

/// `POST /invitation/accept` and `POST /invitation/reject` body: exactly one of `token` and `invitationId`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AcceptRequest {
    /// The token of any invitation.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128)]
    pub token: Option<String>,
    /// The id of an invitation bound to the caller.
    #[schema(value_type = Option<Uuid>)]
    pub invitation_id: Option<InvitationId>,
}

/// A body naming one invitation.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct InvitationRequest {
    /// The invitation.
    #[schema(value_type = Uuid)]
    pub invitation_id: InvitationId,
}

/// One acceptance attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcceptanceDto {
    /// Log row id.
    pub id: Uuid,
    /// Who tried (stringified int64).
    pub user_id: Option<String>,
    /// `accepted`, `declined` or `failed`.
    #[schema(value_type = String)]
    pub outcome: Outcome,
    /// Why it failed (`expired`, `used_up`, `wrong_person`, …).
    pub reason: Option<String>,
    /// When.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// Client address.
    pub ip: Option<String>,
    /// Client user agent.
    pub user_agent: Option<String>,
}

impl From<Acceptance> for AcceptanceDto {
    fn from(a: Acceptance) -> Self {
        Self {
            id: a.id.as_uuid(),
            user_id: a.user_id.map(|u| u.to_string()),
            outcome: a.outcome,
            reason: a.reason,
            at: a.at,
            ip: a.ip,
            user_agent: a.user_agent,
        }
    }
}

/// `{acceptances}`
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptancesResponse {
    /// Newest first.
    pub acceptances: Vec<AcceptanceDto>,
}

/// Creates an invitation (`org:moderator`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "create-invitation",
    security(("bearer" = [])),
    request_body = CreateInvitationRequest,
    responses(
        (status = 200, body = CreatedInvitationDto, description = "The token, URL and QR code are shown this once"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`, `organization.role_not_allowed`, `organization.out_of_scope` (a zone moderator inviting outside their zones)"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`organization.zone_not_found`, `user.not_found` (no user has this `userId`)"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.conflict`: the caller's membership kept changing"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`request.validation`: limits out of range, an e-mail a mailer would refuse, `maxUses` above 1 for a bound invitation"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`quota.pending_invitations_per_organization`, `quota.emails_per_organization_per_hour`, `quota.emails_per_recipient_per_day`, with Retry-After"),
    )
)]
#[post("/invitation/create")]
async fn create(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<CreateInvitationRequest>,
) -> Result<web::Json<CreatedInvitationDto>, ApiError> {
    let b = body.0;
    let new = NewInvitation {
        organization_id: b.organization_id,
        zone_id: b.zone_id,
        role: b.role.unwrap_or(OrgRole::Member),
        email: b.email,
        user_id: b.user_id,
        kind: b.kind.unwrap_or_default(),
        max_uses: b.max_uses.unwrap_or_default(),
        validity: b.expires_in_seconds.unwrap_or_default(),
        membership_duration: b.membership_duration_seconds,
    };
    let made = state.invitations.create(&auth.0, new).await?;
    Ok(web::Json(created(made, state.clock.now())?))
}

/// The organization's invitations (`org:moderator`; a zone moderator sees their zones'), filtered, newest first, a page at a time.
#[utoipa::path(
    tag = "organizations",
    operation_id = "list-invitations",
    security(("bearer" = [])),
    request_body = ListInvitationsRequest,
    responses(
        (status = 200, body = InvitationsResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.not_member`, `organization.forbidden`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`request.validation`, also for a `limit` outside 1..100 or a `cursor` not from this list"),
    )
)]
#[post("/invitation/list")]
async fn list(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<ListInvitationsRequest>,
) -> Result<web::Json<InvitationsResponse>, ApiError> {
    let b = body.0;
    let page = PageQuery { limit: b.limit, cursor: b.cursor }.page_of::<Uuid>()?;
    let filter = InvitationFilter {
        state: b.status,
        role: b.role,
        zone: b.zone_id,
        created_by: b.created_by,
        email_prefix: b.email_prefix,
    };
    let found = state.invitations.list(&auth.0, b.organization_id, filter, &page).await?;
    let now = state.clock.now();
    Ok(web::Json(InvitationsResponse {
        invitations: found.items.into_iter().map(|i| InvitationDto::new(i, now)).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Pending invitations addressed to the caller (their user id or verified e-mail), newest first, a page at a time: FiO's dashboard list.
#[utoipa::path(
    tag = "organizations",
    operation_id = "my-invitations",
    security(("bearer" = [])),
    request_body(content = Option<MineRequest>, description = "Optional: the page"),
    responses(
        (status = 200, body = MyInvitationsResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "a `limit` outside 1..100 or a `cursor` not from this list"),
    )
)]
#[post("/invitation/mine")]
async fn mine(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJsonOrEmpty<MineRequest>,
) -> Result<web::Json<MyInvitationsResponse>, ApiError> {
    let page = PageQuery { limit: body.0.limit, cursor: body.0.cursor }.page_of::<Uuid>()?;
    Ok(web::Json(my_invitations(&state, &auth, &page).await?))
}

/// One page of the caller's pending invitations (the sidebar shows the first).
pub(crate) async fn my_invitations(
    state: &AppState,
    auth: &Authenticated,
    page: &shared_kernel::PageRequest<Uuid>,
) -> Result<MyInvitationsResponse, ApiError> {
    let found = state.invitations.mine(&auth.0, page).await?;
    let now = state.clock.now();
    Ok(MyInvitationsResponse {
        invitations: found
            .items
            .into_iter()
            .map(|(i, o)| MyInvitationDto { organization: (&o).into(), invitation: InvitationDto::new(i, now) })
            .collect(),
        next_cursor: found.next_cursor,
    })
}

/// What a token grants, or why it cannot be used. Public, changes nothing, rate-limited per client address.
#[utoipa::path(
    tag = "organizations",
    operation_id = "preview-invitation",
    request_body = TokenRequest,
    responses(
        (status = 200, body = PreviewDto),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`: unknown token"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.preview_rate_limited`, with Retry-After"),
    )
)]
#[post("/invitation/preview")]
async fn preview(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ValidJson<TokenRequest>,
) -> Result<web::Json<PreviewDto>, ApiError> {
    if let Some(ip) = state.trusted_proxies.client_ip(&req)
        && let Err(seconds) = state.preview_limiter.check(&ip).await?
    {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::INVITATION_PREVIEW_RATE_LIMITED,
            "Too many previews",
            format!("too many invitation previews from your address; retry in {seconds} s"),
        )
        .with_retry_after(seconds));
    }
    let p = state.invitations.preview(&InvitationToken::from_presented(&body.0.token)).await?;
    Ok(web::Json(PreviewDto {
        organization: (&p.organization).into(),
        zone: p.zone.map(Into::into),
        role: p.invitation.role,
        kind: p.invitation.kind,
        expires_at: p.invitation.expires_at,
        invited_by: p.invited_by,
        status: p.state,
        reason: p.reason.map(str::to_owned),
        email_hint: p.invitation.email_hint(),
    }))
}

/// Whom a pending e-mail-bound invitation is for, masked: the e-mail link's
/// landing says it to a signed-in person who does not find the invitation
/// among theirs, so they can sign in with the right account.
#[utoipa::path(
    tag = "organizations",
    operation_id = "invitation-recipient",
    security(("bearer" = [])),
    request_body = InvitationRequest,
    responses(
        (status = 200, body = RecipientDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`: no pending invitation bound to an e-mail address has this id"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/invitation/recipient")]
async fn recipient(
    _auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<InvitationRequest>,
) -> Result<web::Json<RecipientDto>, ApiError> {
    let email_hint = state.invitations.email_hint(body.0.invitation_id).await?;
    Ok(web::Json(RecipientDto { email_hint }))
}

/// Accepts an invitation: by `token`, or by `invitationId` for one bound to the caller.
#[utoipa::path(
    tag = "organizations",
    operation_id = "accept-invitation",
    security(("bearer" = [])),
    request_body = AcceptRequest,
    responses(
        (status = 200, body = UserDto, description = "The caller with the new membership"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.wrong_person`, `invitation.email_mismatch`, `invitation.email_unverified`, `invitation.blocked`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`: an unknown token, or an id that is not addressed to the caller"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.external_member`, `invitation.already_member` (also for the creator's own link), `invitation.would_widen`, `invitation.conflict`"),
        (status = 410, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.revoked`, `invitation.rejected`, `invitation.expired`, `invitation.used_up`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "neither or both of token and invitationId"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.accept_rate_limited`: more than `invitations.accept_per_minute` accepts by the caller, with Retry-After"),
    )
)]
#[post("/invitation/accept")]
async fn accept(
    req: HttpRequest,
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<AcceptRequest>,
) -> Result<web::Json<UserDto>, ApiError> {
    if let Err(seconds) = state.accept_limiter.check(&auth.0.user_id).await? {
        let refused = Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            codes::INVITATION_ACCEPT_RATE_LIMITED,
            "Too many accepts",
            format!("too many invitation accepts; retry in {seconds} s"),
        )
        .with_retry_after(seconds));
        state.metrics.outcome(crate::metrics::UseCase::InvitationAccept, &refused);
        return refused;
    }
    let info = client(&req, &state);
    let accepted = match (body.0.token, body.0.invitation_id) {
        (Some(token), None) => {
            state.invitations.accept_token(&auth.0, &InvitationToken::from_presented(&token), &info).await.map(drop)
        }
        (None, Some(id)) => state.invitations.accept_id(&auth.0, id, &info).await.map(drop),
        _ => return Err(ApiError::invalid_field("", "send exactly one of token and invitationId")),
    }
    .map_err(ApiError::from);
    state.metrics.outcome(crate::metrics::UseCase::InvitationAccept, &accepted);
    state.then_current_user(&auth.0, std::future::ready(accepted)).await
}

/// The bound invitee declines, by `invitationId` or by `token`; it leaves their list and stays visible to the organization.
#[utoipa::path(
    tag = "organizations",
    operation_id = "reject-invitation",
    security(("bearer" = [])),
    request_body = AcceptRequest,
    responses(
        (status = 200, body = InvitationDto),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.wrong_person`: not addressed to you"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`: an unknown token, or an id that is not addressed to the caller"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.open_link`, `invitation.not_pending`"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "neither or both of token and invitationId"),
    )
)]
#[post("/invitation/reject")]
async fn reject(
    req: HttpRequest,
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<AcceptRequest>,
) -> Result<web::Json<InvitationDto>, ApiError> {
    let info = client(&req, &state);
    let rejected = match (body.0.token, body.0.invitation_id) {
        (Some(token), None) => {
            state.invitations.reject_token(&auth.0, &InvitationToken::from_presented(&token), &info).await?
        }
        (None, Some(id)) => state.invitations.reject(&auth.0, id, &info).await?,
        _ => return Err(ApiError::invalid_field("", "send exactly one of token and invitationId")),
    };
    Ok(web::Json(InvitationDto::new(rejected, state.clock.now())))
}

/// Withdraws a pending invitation (`org:moderator`; moderators only guest/member invitations).
#[utoipa::path(
    tag = "organizations",
    operation_id = "revoke-invitation",
    security(("bearer" = [])),
    request_body = InvitationRequest,
    responses(
        (status = 200, body = InvitationDto),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.forbidden`, `organization.role_not_allowed`, `organization.out_of_scope`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_pending`"),
    )
)]
#[post("/invitation/revoke")]
async fn revoke(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<InvitationRequest>,
) -> Result<web::Json<InvitationDto>, ApiError> {
    let revoked = state.invitations.revoke(&auth.0, body.0.invitation_id).await?;
    Ok(web::Json(InvitationDto::new(revoked, state.clock.now())))
}

/// Rotates the token of a pending or expired invitation and renews its expiry (`org:moderator`).
#[utoipa::path(
    tag = "organizations",
    operation_id = "resend-invitation",
    security(("bearer" = [])),
    request_body = InvitationRequest,
    responses(
        (status = 200, body = CreatedInvitationDto, description = "The new token, URL and QR code, shown this once"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.forbidden`, `organization.role_not_allowed`, `organization.out_of_scope`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_pending`"),
        (status = 429, body = ProblemBody, content_type = "application/problem+json", description = "`quota.emails_per_organization_per_hour`, `quota.emails_per_recipient_per_day`, with Retry-After"),
    )
)]
#[post("/invitation/resend")]
async fn resend(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<InvitationRequest>,
) -> Result<web::Json<CreatedInvitationDto>, ApiError> {
    let made = state.invitations.resend(&auth.0, body.0.invitation_id).await?;
    Ok(web::Json(created(made, state.clock.now())?))
}

/// The acceptance log of one invitation (`org:admin`), newest first.
#[utoipa::path(
    tag = "organizations",
    operation_id = "invitation-acceptances",
    security(("bearer" = [])),
    request_body = InvitationRequest,
    responses(
        (status = 200, body = AcceptancesResponse),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`organization.forbidden`"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`invitation.not_found`"),
    )
)]
#[post("/invitation/acceptances")]
async fn acceptances(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<InvitationRequest>,
) -> Result<web::Json<AcceptancesResponse>, ApiError> {
    let log = state.invitations.acceptances(&auth.0, body.0.invitation_id).await?;
    Ok(web::Json(AcceptancesResponse { acceptances: log.into_iter().map(Into::into).collect() }))
}
