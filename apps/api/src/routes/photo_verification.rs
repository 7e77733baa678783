//! Photo verification (seed 000): `/picture/all`, `/picture/{userId}`,
//! `/picture/verify/{id}`, `/picture/reject/{id}` and
//! `/discord-actions/avatar/update/{discordId}`.
#![expect(unused_qualifications, reason = "utoipa's IntoParams expansion re-qualifies the query types of the handlers")]

use crate::caller::{Authenticated, Superuser};
use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::extract::{PageQuery, ValidJson};
use crate::state::AppState;
use crate::wire::RetryWire;
use crate::wire::photos::{VerificationDto, rfc3339};
use actix_web::{get, patch, web};
use photo_verification::{
    ApprovalSide, PhotoEvent, PhotoVerification, PhotoVerificationId, Rejection, RejectionReason, Retry, ReviewNote,
    StatusFilter, UserSummary, VerificationFilter, VerificationStatus, VerificationWithUser,
};
use serde::{Deserialize, Serialize};
use shared_kernel::{DiscordId, Page, UserId};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    // `/picture/all` before `/picture/{userId}` so "all" is never read as an id.
    cfg.service(list_all)
        .service(one_verification)
        .service(list_for_user)
        .service(verify)
        .service(reject)
        .service(refresh_discord);
}

/// How long a signed URL of an unreviewed (private) photo works.
const PRIVATE_URL_TTL: time::Duration = time::Duration::minutes(10);

/// The wire shape of `v` for a viewer: a private photo's URL signed for a
/// few minutes, the internal note for superusers only.
pub async fn verification_dto(
    state: &AppState,
    v: &PhotoVerification,
    user: Option<&UserSummary>,
    superuser: bool,
) -> Result<VerificationDto, ApiError> {
    let mut dto = VerificationDto::from_record(v, user);
    if v.profile.object_key.is_private() {
        dto.profile.url = state.store.presign_get(&v.profile.object_key, PRIVATE_URL_TTL).await?;
    }
    if !superuser {
        dto.note = None;
    }
    Ok(dto)
}

/// A page for a viewer.
async fn page_dto(
    state: &AppState,
    page: Page<VerificationWithUser>,
    superuser: bool,
) -> Result<VerificationPage, ApiError> {
    let mut items = Vec::with_capacity(page.items.len());
    for i in &page.items {
        items.push(verification_dto(state, &i.verification, Some(&i.user), superuser).await?);
    }
    Ok(VerificationPage { items, next_cursor: page.next_cursor })
}

/// One entry of a verification's event log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PhotoEventDto {
    /// `created`, `profile_approved`, `discord_approved`, `discord_refreshed`, `accepted`, `rejected` or `superseded`.
    #[schema(example = "profile_approved")]
    pub kind: &'static str,
    /// Who (a user id): the reviewer, or the user (their upload, a background read of their Discord avatar).
    pub actor: String,
    /// When (RFC 3339).
    pub at: String,
    /// For a refresh: the Discord avatar hash before.
    pub old_hash: Option<String>,
    /// For a refresh: the Discord avatar hash after.
    pub new_hash: Option<String>,
    /// For a rejection: the reason shown to the user.
    pub reason: Option<String>,
    /// For a rejection: the internal note; superusers only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A verification with its event log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationDetail {
    /// The verification.
    pub verification: VerificationDto,
    /// What happened to it, oldest first: who approved which side, refreshes, the rejection, the supersession.
    pub events: Vec<PhotoEventDto>,
}

fn event_dto(e: &PhotoEvent, superuser: bool) -> PhotoEventDto {
    PhotoEventDto {
        kind: e.kind.as_str(),
        actor: e.actor.to_string(),
        at: rfc3339(Some(e.at)).unwrap_or_default(),
        old_hash: e.old_hash.clone(),
        new_hash: e.new_hash.clone(),
        reason: e.reason.clone(),
        note: e.note.clone().filter(|_| superuser),
    }
}

/// A page of photo verifications.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationPage {
    /// The verifications, newest first.
    pub items: Vec<VerificationDto>,
    /// The cursor of the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// `?status=` of the lists.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatusQuery {
    /// `PENDING` (default), `ACCEPTED`, `REJECTED`, `SUPERSEDED`, or `all`.
    #[param(value_type = Option<StatusFilterWire>)]
    pub status: Option<String>,
}

/// `?username=` of `/picture/all`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsernameQuery {
    /// Only this user's verifications; an unknown username gives an empty page.
    pub username: Option<String>,
}

/// The `status` values, as the document lists them.
#[derive(ToSchema)]
#[schema(as = VerificationStatusFilter)]
#[allow(dead_code, reason = "a schema only: status_filter reads the query")]
pub enum StatusFilterWire {
    /// Waiting for a decision (the default).
    #[schema(rename = "PENDING")]
    Pending,
    /// Accepted: the photo became the avatar.
    #[schema(rename = "ACCEPTED")]
    Accepted,
    /// Rejected.
    #[schema(rename = "REJECTED")]
    Rejected,
    /// Replaced by a newer upload.
    #[schema(rename = "SUPERSEDED")]
    Superseded,
    /// Every status.
    #[schema(rename = "all")]
    All,
}

/// The `type` values of `/picture/verify/{id}`.
#[derive(ToSchema)]
#[schema(as = ApprovalSide, rename_all = "lowercase")]
#[allow(dead_code, reason = "a schema only: the handler reads photo_verification::ApprovalSide")]
pub enum ApprovalSideWire {
    /// The photo shows the person of the profile.
    Profile,
    /// The photo matches the Discord avatar.
    Discord,
    /// Both at once.
    Both,
}

fn status_filter(raw: Option<&str>) -> Result<StatusFilter, ApiError> {
    match raw {
        None => Ok(StatusFilter::Only(VerificationStatus::Pending)),
        Some("all") => Ok(StatusFilter::All),
        Some(s) => VerificationStatus::parse(s)
            .map(StatusFilter::Only)
            .map_err(|e| ApiError::invalid_field("/status", format!("{e}, or all"))),
    }
}

fn verification_id(raw: &str) -> Result<PhotoVerificationId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(codes::PHOTO_NOT_FOUND, "no photo verification with this id"))
}

/// Every user's verifications (default PENDING), newest first, with the user's summary.
#[utoipa::path(
    tag = "photo-verification",
    operation_id = "list-photo-verifications",
    security(("bearer" = [])),
    params(UsernameQuery, StatusQuery, PageQuery),
    responses(
        (status = 200, body = VerificationPage),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: bad status, limit or cursor", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/picture/all")]
async fn list_all(
    _su: Superuser,
    state: web::Data<AppState>,
    username: web::Query<UsernameQuery>,
    status: web::Query<StatusQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<VerificationPage>, ApiError> {
    let filter = VerificationFilter {
        user_id: None,
        username: username.0.username.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()),
        status: status_filter(status.0.status.as_deref())?,
    };
    let page = state.photos.list(&filter, &page.0.page_of::<uuid::Uuid>()?).await?;
    Ok(web::Json(page_dto(&state, page, true).await?))
}

/// One verification with its event log: its user or a superuser. To anyone
/// else it answers like an unknown id.
#[utoipa::path(
    tag = "photo-verification",
    operation_id = "get-photo-verification",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Verification id")),
    responses(
        (status = 200, body = VerificationDetail),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`photo.not_found`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/picture/verification/{id}")]
async fn one_verification(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<VerificationDetail>, ApiError> {
    let (record, events) = state.photos.detail(&auth.0, verification_id(&path)?).await?;
    let su = auth.0.is_superuser();
    Ok(web::Json(VerificationDetail {
        verification: verification_dto(&state, &record, None, su).await?,
        events: events.iter().map(|e| event_dto(e, su)).collect(),
    }))
}

/// One user's verifications, newest first (default PENDING; `status=all` for the history).
#[utoipa::path(
    tag = "photo-verification",
    operation_id = "list-user-photo-verifications",
    security(("bearer" = [])),
    params(("userId" = crate::schema::rules::UserId, Path, description = "The user"), StatusQuery, PageQuery),
    responses(
        (status = 200, body = VerificationPage),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`picture.forbidden`: neither that user nor a superuser", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`http.not_found`: not a user id", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/picture/{userId}")]
async fn list_for_user(
    auth: Authenticated,
    state: web::Data<AppState>,
    path: web::Path<String>,
    status: web::Query<StatusQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<VerificationPage>, ApiError> {
    let user_id: UserId =
        path.parse().map_err(|_| ApiError::not_found(codes::HTTP_NOT_FOUND, format!("{path:?} is not a user id")))?;
    let filter = status_filter(status.0.status.as_deref())?;
    let page = state.photos.list_for_user(&auth.0, user_id, filter, &page.0.page_of::<uuid::Uuid>()?).await?;
    Ok(web::Json(page_dto(&state, page, auth.0.is_superuser()).await?))
}

/// `?type=` of `/picture/verify/{id}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// `profile`, `discord` or `both`.
    #[serde(rename = "type")]
    #[param(rename = "type", required = true, value_type = ApprovalSideWire)]
    pub kind: Option<String>,
}

/// Approves one side (or both); ACCEPTED when every needed side is approved,
/// and then the photo becomes the user's avatar in the same transaction.
#[utoipa::path(
    tag = "photo-verification",
    operation_id = "approve-photo-verification",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Verification id"), VerifyQuery),
    responses(
        (status = 200, body = VerificationDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`, `photo.own_verification` (four eyes: not your own photo)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`photo.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`photo.already_decided` (with `current`), `photo.discord_not_linked`, `photo.discord_not_fetched`, or `photo.conflict` (another reviewer won; `current` holds the record)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: type missing or unknown", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/picture/verify/{id}")]
async fn verify(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<VerifyQuery>,
) -> Result<web::Json<VerificationDto>, ApiError> {
    let side = query
        .0
        .kind
        .as_deref()
        .and_then(ApprovalSide::parse)
        .ok_or_else(|| ApiError::invalid_field("/type", "type must be profile, discord or both"))?;
    let id = verification_id(&path)?;
    let record = state.photos.approve(&su.0, id, side).await.map_err(ApiError::from);
    state.metrics.outcome(crate::metrics::UseCase::PhotoDecision, &record);
    let record = record?;
    Ok(web::Json(verification_dto(&state, &record, None, true).await?))
}

/// `PATCH /picture/reject/{id}` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RejectRequest {
    /// Why, at most 500 characters, trimmed, not blank; shown to the user.
    #[schema(value_type = crate::schema::rules::PhotoReason, example = "The photo does not show your face.")]
    pub reason: RejectionReason,
    /// An internal note for other reviewers, at most 2000 characters, trimmed, not blank; never shown to the user.
    #[schema(value_type = Option<crate::schema::rules::Note>)]
    pub note: Option<ReviewNote>,
    /// `retry` (default: the user may upload another photo) or `final` (they may not).
    #[schema(example = "retry")]
    pub retry: Option<RetryWire>,
}

/// Rejects the photo with a reason; the live avatar stays and the requested image is deleted.
#[utoipa::path(
    tag = "photo-verification",
    operation_id = "reject-photo-verification",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "Verification id")),
    request_body = RejectRequest,
    responses(
        (status = 200, body = VerificationDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`, `photo.own_verification` (four eyes: not your own photo)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`photo.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`photo.already_decided` or `photo.conflict`, each with `current`: the record as it is now", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: reason missing, blank or longer than 500; note blank or longer than 2000; retry not `retry` or `final`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/picture/reject/{id}")]
async fn reject(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<RejectRequest>,
) -> Result<web::Json<VerificationDto>, ApiError> {
    let b = body.0;
    let (reason, note) = (b.reason, b.note);
    let retry = match b.retry {
        None | Some(RetryWire::Retry) => Retry::Allowed,
        Some(RetryWire::Final) => Retry::Final,
    };
    let id = verification_id(&path)?;
    let record = state.photos.reject(&su.0, id, &Rejection { reason, note, retry }).await.map_err(ApiError::from);
    state.metrics.outcome(crate::metrics::UseCase::PhotoDecision, &record);
    let record = record?;
    Ok(web::Json(verification_dto(&state, &record, None, true).await?))
}

/// Re-reads the Discord avatar into that Discord user's PENDING verification;
/// a changed avatar clears both approvals.
#[utoipa::path(
    tag = "photo-verification",
    operation_id = "refresh-discord-avatar",
    security(("bearer" = [])),
    params(("discordId" = crate::schema::rules::DiscordId, Path, description = "The Discord user")),
    responses(
        (status = 200, body = VerificationDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`; `photo.own_verification` (four eyes: not your own photo)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`photo.no_pending_verification` or `discord.user_not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`photo.conflict` (with `current`)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: not a snowflake", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, description = "`discord.unauthorized` (bad bot token) or `discord.unavailable`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, description = "`discord.not_configured`, or `discord.rate_limited` with Retry-After", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/discord-actions/avatar/update/{discordId}")]
async fn refresh_discord(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<VerificationDto>, ApiError> {
    let discord_id = DiscordId::parse(&path).map_err(|e| ApiError::invalid_field("/discordId", e.to_string()))?;
    let record = state.photos.refresh_discord(&su.0, &discord_id).await?;
    Ok(web::Json(verification_dto(&state, &record, None, true).await?))
}
