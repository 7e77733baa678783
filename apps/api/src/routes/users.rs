//! The User contract (seed 003): `/user/get`, `/user/update`, `/user/status`;
//! and `/user/session`, what the contract leaves out (the platform role).

use crate::caller::{Authenticated, Verified};
use crate::error::{ApiError, ProblemBody};
use crate::extract::ValidJson;
use crate::state::AppState;
use actix_web::{post, web};
use serde::{Deserialize, Deserializer, Serialize};
use shared_kernel::PlatformRole;
use users::{DisplayName, ManualStatus, ProfileChange, UserDto};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_current_user).service(get_session).service(update_profile).service(set_status);
}

/// `POST /user/update` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateProfileRequest {
    /// The new display name.
    #[schema(value_type = crate::schema::rules::Name)]
    pub display_name: DisplayName,
}

/// `POST /user/status` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SetStatusRequest {
    /// The manual presence override; `null` clears it. Required.
    #[serde(default, deserialize_with = "present")]
    #[validate(required(message = "manualStatus is required (null clears it)"))]
    #[schema(value_type = Option<ManualStatus>, required = true)]
    pub manual_status: Option<Option<ManualStatus>>,
}

/// Tells an explicit `null` (Some(None)) from an absent field (None).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<ManualStatus>>, D::Error> {
    Option::<ManualStatus>::deserialize(d).map(Some)
}

/// The signed-in user.
#[utoipa::path(
    tag = "users",
    operation_id = "get-current-user",
    security(("bearer" = [])),
    responses(
        (status = 200, body = UserDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/get")]
async fn get_current_user(caller: Verified, state: web::Data<AppState>) -> Result<web::Json<UserDto>, ApiError> {
    let (actor, view) = state.users.sign_in_and_view(&caller.0).await?;
    crate::caller::record(&actor);
    Ok(web::Json(view.into()))
}

/// Who the bearer is to the service, beyond the User contract (which says
/// nothing of platform roles).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionDto {
    /// The user's id (stringified int64), as in the User DTO.
    #[schema(example = "1234567890")]
    pub user_id: String,
    /// `user` or `superuser`, as stored now (never taken from the token).
    #[schema(value_type = crate::schema::PlatformRoleSchema, example = "user")]
    pub platform_role: PlatformRole,
}

/// The signed-in user's id and platform role: a client shows the superuser
/// screens from this, instead of probing an admin endpoint.
#[utoipa::path(
    tag = "users",
    operation_id = "get-session",
    security(("bearer" = [])),
    responses(
        (status = 200, body = SessionDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/session")]
async fn get_session(caller: Authenticated) -> web::Json<SessionDto> {
    let Authenticated(actor) = caller;
    web::Json(SessionDto { user_id: actor.user_id.to_string(), platform_role: actor.role })
}

/// Sets the display name.
#[utoipa::path(
    tag = "users",
    operation_id = "update-profile",
    security(("bearer" = [])),
    request_body = UpdateProfileRequest,
    responses(
        (status = 200, body = UserDto),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 413, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/update")]
async fn update_profile(
    caller: Verified,
    state: web::Data<AppState>,
    body: ValidJson<UpdateProfileRequest>,
) -> Result<web::Json<UserDto>, ApiError> {
    let change = ProfileChange::DisplayName(body.0.display_name);
    answer_change(&caller, &state, &change).await
}

/// Sets or clears the manual status.
#[utoipa::path(
    tag = "users",
    operation_id = "set-manual-status",
    security(("bearer" = [])),
    request_body = SetStatusRequest,
    responses(
        (status = 200, body = UserDto),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 415, body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[post("/user/status")]
async fn set_status(
    caller: Verified,
    state: web::Data<AppState>,
    body: ValidJson<SetStatusRequest>,
) -> Result<web::Json<UserDto>, ApiError> {
    let change = ProfileChange::ManualStatus(body.0.manual_status.flatten());
    answer_change(&caller, &state, &change).await
}

/// Signs the caller in, applies their change and answers with the user.
async fn answer_change(
    caller: &Verified,
    state: &AppState,
    change: &ProfileChange,
) -> Result<web::Json<UserDto>, ApiError> {
    let (actor, view) = state.users.sign_in_and_change(&caller.0, change).await?;
    crate::caller::record(&actor);
    Ok(web::Json(view.into()))
}
