//! Personal-data rights: `GET /user/export` (articles 15 and 20) and
//! `POST /admin/users/{userId}/erase` (article 17). See `docs/privacy.md`.

use crate::caller::{Authenticated, Superuser};
use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::routes::invitations::{InvitationDto, MyInvitationDto};
use crate::routes::photo_verification::verification_dto;
use crate::state::AppState;
use crate::wire::photos::VerificationDto;
use crate::wire::profiles::{LabelDto, ProfileDto};
use actix_web::{HttpResponse, get, http::header, post, web};
use serde::Serialize;
use shared_kernel::UserId;
use time::OffsetDateTime;
use users::UserDto;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(export).service(erase);
}

/// Everything Usher holds about the caller.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserExport {
    /// When the export was made (RFC 3339).
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: OffsetDateTime,
    /// The user record, with memberships.
    pub user: UserDto,
    /// Every KYC profile, decrypted, newest first, each with its decision (reason and retry).
    pub profiles: Vec<ProfileDto>,
    /// The labels on the user.
    pub labels: Vec<LabelDto>,
    /// Every photo verification, newest first (private photos as short-lived signed URLs).
    pub photo_verifications: Vec<VerificationDto>,
    /// Pending invitations addressed to the user.
    pub invitations: Vec<MyInvitationDto>,
}

/// Everything Usher holds about the caller, as one JSON document (GDPR
/// articles 15 and 20): the user record and memberships, every KYC
/// profile decrypted with its decisions, labels, photo verifications and
/// the pending invitations addressed to them.
#[utoipa::path(
    tag = "users",
    operation_id = "export-my-data",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserExport, description = "Sent as an attachment (`usher-export-<userId>.json`)."),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json", description = "`service.unavailable`, or `profile.key_unavailable`"),
    )
)]
#[get("/user/export")]
async fn export(auth: Authenticated, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let found = crate::privacy::export(&state, &auth.0).await?;
    // The person's own data in full: masking is a screen's policy, not the export's.
    let profiles = crate::routes::profile_verification::own_profiles(&found.profiles, false);
    let mut photo_verifications = Vec::with_capacity(found.photos.len());
    for item in &found.photos {
        // Reviewers' notes are theirs, even when the caller is a superuser.
        photo_verifications.push(verification_dto(&state, &item.verification, None, false).await?);
    }
    let now = state.clock.now();
    let invitations = found
        .invitations
        .into_iter()
        .map(|(i, o)| MyInvitationDto { organization: (&o).into(), invitation: InvitationDto::new(i, now) })
        .collect();
    let body = UserExport {
        exported_at: now,
        user: found.user.into(),
        profiles,
        labels: found.labels.iter().map(Into::into).collect(),
        photo_verifications,
        invitations,
    };
    let filename = format!("attachment; filename=\"usher-export-{}.json\"", auth.0.user_id);
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_DISPOSITION, filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(body))
}

/// What an erasure did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErasureDto {
    /// The erased user (a pseudonymous id from now on).
    pub user_id: String,
    /// The superuser who erased them (null once that superuser was erased too).
    pub erased_by: Option<String>,
    /// When (RFC 3339); the first erasure's when repeated.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub erased_at: OffsetDateTime,
    /// Whether the user had already been erased (erasing is idempotent).
    pub already_erased: bool,
    /// How many photo verifications had their photo deleted.
    pub photos_deleted: usize,
}

/// Erases a user's personal data on their request (GDPR article 17),
/// keeping the audit trail: the user record is pseudonymised (e-mail,
/// names, username, avatar, Discord id; the identity provider's subject is
/// kept only as a hash so the person's old tokens are refused, not
/// re-provisioned), the profile data key is destroyed (crypto-shredding:
/// sealed values in backups stay sealed), and the avatar and photo objects
/// are deleted. Decisions, memberships, history and logs keep the id.
#[utoipa::path(
    tag = "users",
    operation_id = "erase-user",
    security(("bearer" = [])),
    params(("userId" = crate::schema::rules::UserId, Path, description = "The user")),
    responses(
        (status = 200, body = ErasureDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`; `user.erase_own_account` (another superuser erases you)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`user.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json", description = "`service.unavailable` or `storage.unavailable`: retry; erasing again finishes the work"),
    )
)]
#[post("/admin/users/{userId}/erase")]
async fn erase(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<web::Json<ErasureDto>, ApiError> {
    let id: UserId = path.parse().map_err(|_| ApiError::not_found(codes::USER_NOT_FOUND, "no user with this id"))?;
    let done = crate::privacy::erase(&state, &su.0, id).await?;
    Ok(web::Json(ErasureDto {
        user_id: done.record.user_id.to_string(),
        erased_by: done.record.by.map(|b| b.to_string()),
        erased_at: done.record.at,
        already_erased: done.already,
        photos_deleted: done.photos,
    }))
}
