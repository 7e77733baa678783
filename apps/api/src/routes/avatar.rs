//! The avatar (seed 003): `/user/avatar/upload-ticket`, `/finalize`, `/remove`.

use crate::avatar_flow::Finalized;
use crate::caller::Authenticated;
use crate::error::{ApiError, ProblemBody};
use crate::extract::ValidJson;
use crate::state::AppState;
use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(upload_ticket).service(finalize).service(remove);
}

/// `POST /user/avatar/upload-ticket` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UploadTicketRequest {
    /// The avatar's media type.
    #[validate(length(min = 1, max = 255))]
    #[schema(value_type = crate::schema::rules::ImageType)]
    pub content_type: String,
}

/// A presigned upload: PUT the bytes to `uploadUrl` with `requiredHeaders`, then finalize `tmpKey`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UploadTicketResponse {
    /// The presigned PUT URL (object storage, or the embedded `/uploads/…` route).
    #[schema(
        example = "http://127.0.0.1:8080/uploads/tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png?expires=1795300000&contentType=image%2Fpng&signature=…"
    )]
    pub upload_url: String,
    /// The key to pass to finalize.
    #[schema(example = "tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png")]
    pub tmp_key: String,
    /// Seconds until the ticket and URL expire.
    #[schema(example = 600)]
    pub expires_in_seconds: i64,
    /// Headers the PUT must carry with exactly these values.
    #[schema(example = json!({"Content-Type": "image/png"}))]
    pub required_headers: BTreeMap<String, String>,
}

/// `POST /user/avatar/finalize` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FinalizeRequest {
    /// The `tmpKey` of the ticket.
    #[validate(length(min = 1, max = 512))]
    #[schema(example = "tmp/avatars/42/0196f0e0-0000-7000-8000-000000000000.png", min_length = 1, max_length = 512)]
    pub tmp_key: String,
}

/// A photo verification opened instead of changing the avatar.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PendingVerification {
    /// The verification id.
    pub id: String,
    /// Its status (`PENDING`).
    pub status: String,
}

/// The result of a finalize.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FinalizeResponse {
    /// The avatar now in effect.
    #[schema(example = "http://127.0.0.1:8080/files/avatars/42/0196f0e0-0000-7000-8000-000000000001.png")]
    pub avatar_url: Option<String>,
    /// The review opened for the new photo when photo verification is on; null otherwise.
    pub pending_verification: Option<PendingVerification>,
}

/// Step 1: a presigned upload for a new avatar; consumes one try of the window.
#[utoipa::path(
    tag = "users",
    operation_id = "avatar-upload-ticket",
    security(("bearer" = [])),
    request_body = UploadTicketRequest,
    responses(
        (status = 200, body = UploadTicketResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`photo.discord_not_linked`: photo verification is on and requires a linked Discord id; `photo.rejected_final`: the last photo was rejected as final", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "`upload.unsupported_type`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
        (status = 429, description = "`avatar.upload_tries_exhausted`, with Retry-After", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, body = ProblemBody, content_type = "application/problem+json", description = "`storage.failed`: the object store refused the request"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/avatar/upload-ticket")]
async fn upload_ticket(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<UploadTicketRequest>,
) -> Result<web::Json<UploadTicketResponse>, ApiError> {
    let issued = state.avatar_flow.ticket(&auth.0, &body.0.content_type).await?;
    Ok(web::Json(UploadTicketResponse {
        upload_url: issued.upload.url,
        tmp_key: issued.ticket.tmp_key.as_str().to_owned(),
        expires_in_seconds: issued.expires_in.whole_seconds(),
        required_headers: issued.upload.headers.into_iter().collect(),
    }))
}

/// Step 3: check the uploaded image and make it the avatar; with photo
/// verification on, open a PENDING verification instead and keep the avatar.
#[utoipa::path(
    tag = "users",
    operation_id = "avatar-finalize",
    security(("bearer" = [])),
    request_body = FinalizeRequest,
    responses(
        (status = 200, body = FinalizeResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`photo.discord_not_linked`, `photo.rejected_final`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`upload.ticket_invalid`: no such ticket for you", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`upload.ticket_invalid` (already used), `upload.not_found` (nothing uploaded yet) or `storage.missing` (the upload vanished meanwhile)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 410, description = "`upload.ticket_invalid`: expired", body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, description = "`upload.too_large`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, description = "`upload.content_mismatch`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`upload.dimensions`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 502, body = ProblemBody, content_type = "application/problem+json", description = "`storage.failed`: the object store refused the request"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/avatar/finalize")]
async fn finalize(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<FinalizeRequest>,
) -> Result<web::Json<FinalizeResponse>, ApiError> {
    let finalized = state.avatar_flow.finalize(&auth.0, &body.0.tmp_key).await.map_err(ApiError::from);
    state.metrics.outcome(crate::metrics::UseCase::AvatarFinalize, &finalized);
    let response = match finalized? {
        Finalized::Applied { avatar_url } => {
            FinalizeResponse { avatar_url: Some(avatar_url), pending_verification: None }
        }
        Finalized::Pending { avatar_url, verification } => FinalizeResponse {
            avatar_url,
            pending_verification: Some(PendingVerification {
                id: verification.id.to_string(),
                status: verification.status.as_str().to_owned(),
            }),
        },
    };
    Ok(web::Json(response))
}

/// Removes the avatar.
#[utoipa::path(
    tag = "users",
    operation_id = "remove-avatar",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "The avatar is gone"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/avatar/remove")]
async fn remove(auth: Authenticated, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    state.avatars.remove(&auth.0).await?;
    Ok(HttpResponse::NoContent().finish())
}
