//! User administration by superusers: `GET /admin/users` (search) and
//! `PATCH /admin/users/{userId}` (platform role, Discord id, username).
#![expect(unused_qualifications, reason = "utoipa's IntoParams expansion re-qualifies the query types of the handlers")]

use crate::caller::Superuser;
use crate::codes;
use crate::error::{ApiError, ProblemBody};
use crate::extract::{PageQuery, ValidJson};
use crate::state::AppState;
use actix_web::{get, patch, web};
use serde::{Deserialize, Deserializer, Serialize};
use shared_kernel::{DiscordId, PlatformRole, UserId};
use users::{AdminUserUpdate, User, Username};
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(search_users).service(update_user);
}

/// A user as an administrator sees it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUserDto {
    /// User id (stringified int64).
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Live avatar.
    pub avatar_url: Option<String>,
    /// `user` or `superuser`.
    #[schema(value_type = crate::schema::PlatformRoleSchema, example = "user")]
    pub platform_role: &'static str,
    /// The linked Discord id.
    pub discord_id: Option<String>,
    /// Provisioned at (RFC 3339).
    pub created_at: String,
}

impl From<&User> for AdminUserDto {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.as_str().to_owned(),
            username: u.username.as_str().to_owned(),
            display_name: u.display_name.as_str().to_owned(),
            avatar_url: u.avatar_url.clone(),
            platform_role: u.platform_role.as_str(),
            discord_id: u.discord_id.as_ref().map(|d| d.as_str().to_owned()),
            created_at: u.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        }
    }
}

/// A page of users.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminUserPage {
    /// The users, oldest first.
    pub items: Vec<AdminUserDto>,
    /// The cursor of the next page; null on the last.
    pub next_cursor: Option<String>,
}

/// `?q=` of the search.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Part of an e-mail, username or display name (case-insensitive); every user when absent.
    pub q: Option<String>,
}

/// Searches users by e-mail, username or display name.
#[utoipa::path(
    tag = "users",
    operation_id = "search-users",
    security(("bearer" = [])),
    params(SearchQuery, PageQuery),
    responses(
        (status = 200, body = AdminUserPage),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`: query longer than 200, bad limit or cursor", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/admin/users")]
async fn search_users(
    su: Superuser,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
    page: web::Query<PageQuery>,
) -> Result<web::Json<AdminUserPage>, ApiError> {
    let page = page.0.page_of::<UserId>()?;
    let q = query.0.q;
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid_field("/q", "at most 200 characters"));
    }
    let found = state.users.search(&su.0, q.as_deref(), &page).await?;
    Ok(web::Json(AdminUserPage {
        items: found.items.iter().map(AdminUserDto::from).collect(),
        next_cursor: found.next_cursor,
    }))
}

/// Distinguishes an absent field (`None`) from an explicit `null` (`Some(None)`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<DiscordId>>, D::Error> {
    Option::<DiscordId>::deserialize(d).map(Some)
}

/// `PATCH /admin/users/{userId}` body; absent fields are left as they are.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminUserPatch {
    /// `user` or `superuser`.
    #[schema(value_type = Option<crate::schema::PlatformRoleSchema>, example = "superuser")]
    pub platform_role: Option<PlatformRole>,
    /// A Discord snowflake to link, or null to unlink.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<crate::schema::rules::DiscordId>)]
    pub discord_id: Option<Option<DiscordId>>,
    /// A new username.
    #[schema(value_type = Option<crate::schema::rules::Username>)]
    pub username: Option<Username>,
}

/// Changes a user's platform role, Discord id or username.
#[utoipa::path(
    tag = "users",
    operation_id = "update-user",
    security(("bearer" = [])),
    params(("userId" = crate::schema::rules::UserId, Path, description = "The user")),
    request_body = AdminUserPatch,
    responses(
        (status = 200, body = AdminUserDto),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, description = "`auth.superuser_required`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, description = "`user.not_found`", body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, description = "`user.discord_id_taken`, `user.username_taken`, or `admin.last_superuser` (the change would demote the only superuser left)", body = ProblemBody, content_type = "application/problem+json"),
        (status = 422, description = "`request.validation`", body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[patch("/admin/users/{userId}")]
async fn update_user(
    su: Superuser,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: ValidJson<AdminUserPatch>,
) -> Result<web::Json<AdminUserDto>, ApiError> {
    let id: UserId = path.parse().map_err(|_| ApiError::not_found(codes::USER_NOT_FOUND, "no user with this id"))?;
    let AdminUserPatch { platform_role, discord_id, username } = body.0;
    let update = AdminUserUpdate { platform_role, discord_id, username };
    let user = state.users.admin_update(&su.0, id, &update).await?;
    Ok(web::Json(AdminUserDto::from(&user)))
}
