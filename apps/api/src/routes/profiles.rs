//! KYC profiles (seed 001, barong's contract): the user's
//! `/resource/profiles`, the superusers' `/admin/profiles` and
//! `/admin/users/{userId}/labels`.
//!
//! Bodies accept barong's snake_case names as aliases (`first_name`,
//! `confirmation`); unknown fields (including `state` on the user side) are
//! a 422. Field failures are 422 with barong's codes (`first_name.invalid`,
//! `metadata.invalid_format`).

use crate::auth::{Authenticated, Superuser};
use crate::error::{ApiError, ProblemBody};
use crate::extract::{PageQuery, ValidJson};
use crate::startup::AppState;
use actix_web::http::StatusCode;
use actix_web::web::Query;
use actix_web::{HttpResponse, get, post, put, web};
use profile_verification::{
    Decision, FieldsPatch, Label, Profile, ProfileFilter, ProfileId, ProfileListItem, ProfileState, RawFields, Reason,
    UserSummary, Verdict,
};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use shared_kernel::UserId;
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_actix_web::service_config::ServiceConfig;
use validator::Validate;

/// Registers the routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(my_profiles)
        .service(create_profile)
        .service(update_profile)
        .service(admin_list_profiles)
        .service(admin_get_profile)
        .service(admin_decide_profile)
        .service(admin_create_profile)
        .service(admin_user_labels);
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `POST` and `PUT /resource/profiles` body. Every field is optional;
/// on `PUT` an absent field is kept and `null` clears it.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileRequest {
    /// 1..255 letters, marks, digits, spaces, `_`, `-`, `'` (alias `first_name`).
    #[serde(default, deserialize_with = "present", alias = "first_name")]
    #[schema(value_type = Option<String>, example = "Ada")]
    pub first_name: Option<Option<String>>,
    /// Same rule as `firstName` (alias `last_name`).
    #[serde(default, deserialize_with = "present", alias = "last_name")]
    #[schema(value_type = Option<String>, example = "Lovelace")]
    pub last_name: Option<Option<String>>,
    /// ISO date, 1900-01-01 up to today.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date, example = "1990-02-28")]
    pub dob: Option<Option<String>>,
    /// 1..1024 printable characters without `@`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "12 St James's Square")]
    pub address: Option<Option<String>>,
    /// 2..32 letters, digits, spaces, `-`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "SW1Y 4LB")]
    pub postcode: Option<Option<String>>,
    /// Letters, digits, spaces, `_`, `'`, `.`, `~`, dashes.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "London")]
    pub city: Option<Option<String>>,
    /// ISO 3166-1 alpha-2 or alpha-3, any case; stored as upper alpha-2.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "gbr")]
    pub country: Option<Option<String>>,
    /// A JSON object of at most 4 KiB, or a string holding one.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Option<Value>>,
    /// `true` submits the profile for review (alias `confirmation`).
    #[serde(default, alias = "confirmation")]
    pub confirm: Option<bool>,
}

impl ProfileRequest {
    fn raw(&self) -> RawFields {
        RawFields {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            dob: self.dob.clone(),
            address: self.address.clone(),
            postcode: self.postcode.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// `POST /admin/profiles` body: a submitted profile for `userId`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AdminProfileRequest {
    /// The user the profile is for (stringified int64; alias `user_id`).
    #[serde(alias = "user_id")]
    #[schema(example = "42")]
    pub user_id: String,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present", alias = "first_name")]
    #[schema(value_type = Option<String>)]
    pub first_name: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present", alias = "last_name")]
    #[schema(value_type = Option<String>)]
    pub last_name: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, format = Date)]
    pub dob: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub address: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub postcode: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub city: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub country: Option<Option<String>>,
    /// See `ProfileRequest`.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Option<Value>>,
}

impl AdminProfileRequest {
    fn raw(&self) -> RawFields {
        RawFields {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            dob: self.dob.clone(),
            address: self.address.clone(),
            postcode: self.postcode.clone(),
            city: self.city.clone(),
            country: self.country.clone(),
            metadata: self.metadata.clone(),
        }
    }
}

/// `PUT /admin/profiles/{id}` body.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DecideRequest {
    /// `verified` or `rejected` (anything else: 422 `state.invalid`).
    #[schema(example = "rejected")]
    pub state: String,
    /// Why; required to reject (422 `reason.missing`), 1..1024 characters (422 `reason.invalid`).
    #[schema(example = "the scan of the passport is unreadable")]
    pub reason: Option<String>,
}

/// Filters of `GET /admin/profiles`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ProfileListQuery {
    /// Only profiles in this state: `drafted`, `submitted`, `verified` or `rejected`.
    pub state: Option<String>,
    /// Only this user's profiles (stringified int64).
    pub user_id: Option<String>,
}

/// A profile's state.
#[derive(Clone, Copy, Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProfileStateDto {
    /// Being edited by its user.
    Drafted,
    /// Waiting for a superuser's decision.
    Submitted,
    /// Accepted (final).
    Verified,
    /// Refused (final).
    Rejected,
}

impl From<ProfileState> for ProfileStateDto {
    fn from(s: ProfileState) -> Self {
        match s {
            ProfileState::Drafted => Self::Drafted,
            ProfileState::Submitted => Self::Submitted,
            ProfileState::Verified => Self::Verified,
            ProfileState::Rejected => Self::Rejected,
        }
    }
}

/// A KYC profile.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = Profile)]
pub struct ProfileDto {
    /// UUIDv7.
    pub id: String,
    /// Whose profile (stringified int64).
    pub user_id: String,
    /// The superuser who filed it, if one did (stringified int64).
    pub author: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name; `L*******` in the user's own responses when masking is on.
    pub last_name: Option<String>,
    /// `YYYY-MM-DD`; `YYYY-MM-**` in the user's own responses when masking is on.
    pub dob: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Postcode.
    pub postcode: Option<String>,
    /// City.
    pub city: Option<String>,
    /// Upper-case ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// Free-form object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    /// Where the profile is in its life.
    pub state: ProfileStateDto,
    /// RFC 3339, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    /// RFC 3339, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl ProfileDto {
    /// The full profile (admin responses are never masked).
    fn full(p: &Profile) -> Self {
        let f = &p.fields;
        Self {
            id: p.id.to_string(),
            user_id: p.user_id.to_string(),
            author: p.author.map(|a| a.to_string()),
            first_name: f.first_name.as_ref().map(|v| v.as_str().to_owned()),
            last_name: f.last_name.as_ref().map(|v| v.as_str().to_owned()),
            dob: f.dob.map(|d| d.to_iso()),
            address: f.address.as_ref().map(|v| v.as_str().to_owned()),
            postcode: f.postcode.as_ref().map(|v| v.as_str().to_owned()),
            city: f.city.as_ref().map(|v| v.as_str().to_owned()),
            country: f.country.map(|c| c.alpha2().to_owned()),
            metadata: f.metadata.as_ref().map(|m| Value::Object(m.as_map().clone())),
            state: p.state.into(),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }

    /// The profile as its user sees it: masked when `profiles.mask_personal_data` is on.
    fn own(p: &Profile, mask: bool) -> Self {
        let mut dto = Self::full(p);
        if mask {
            dto.last_name = p.fields.last_name.as_ref().map(|n| n.masked());
            dto.dob = p.fields.dob.map(|d| d.masked());
        }
        dto
    }
}

/// A user as reviewers see them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = ProfileUser)]
pub struct UserSummaryDto {
    /// Stringified int64.
    pub id: String,
    /// E-mail.
    pub email: String,
    /// Whether the identity provider vouched for the e-mail.
    pub email_verified: bool,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
}

impl From<&UserSummary> for UserSummaryDto {
    fn from(u: &UserSummary) -> Self {
        Self {
            id: u.id.to_string(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
        }
    }
}

/// A profile in the review list, with its user and author.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminProfileItem {
    /// The profile.
    pub profile: ProfileDto,
    /// Its user.
    pub user: UserSummaryDto,
    /// The superuser who filed it, or null.
    pub author: Option<UserSummaryDto>,
}

impl From<&ProfileListItem> for AdminProfileItem {
    fn from(i: &ProfileListItem) -> Self {
        Self {
            profile: ProfileDto::full(&i.profile),
            user: (&i.user).into(),
            author: i.author.as_ref().map(Into::into),
        }
    }
}

/// A page of profiles, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminProfilePage {
    /// The profiles.
    pub items: Vec<AdminProfileItem>,
    /// The next page's cursor, or null on the last page.
    pub next_cursor: Option<String>,
}

/// One entry of the decision log.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DecisionDto {
    /// UUIDv7.
    pub id: String,
    /// The decided profile.
    pub profile_id: String,
    /// The deciding superuser (null once erased).
    pub admin_id: Option<String>,
    /// `verified` or `rejected`.
    #[schema(example = "rejected")]
    pub decision: String,
    /// Why.
    pub reason: Option<String>,
    /// RFC 3339, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
}

impl From<&Decision> for DecisionDto {
    fn from(d: &Decision) -> Self {
        Self {
            id: d.id.to_string(),
            profile_id: d.profile_id.to_string(),
            admin_id: d.admin_id.map(|a| a.to_string()),
            decision: d.verdict.as_str().to_owned(),
            reason: d.reason.as_ref().map(|r| r.as_str().to_owned()),
            at: d.at,
        }
    }
}

/// A profile with the user's other profiles and every decision on them.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdminProfileDetail {
    /// The profile.
    pub profile: ProfileDto,
    /// Its user.
    pub user: UserSummaryDto,
    /// The superuser who filed it, or null.
    pub author: Option<UserSummaryDto>,
    /// The user's other profiles, newest first.
    pub other_profiles: Vec<ProfileDto>,
    /// Every decision on the user's profiles, newest first.
    pub decisions: Vec<DecisionDto>,
}

/// A label on a user.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelDto {
    /// `email`, `profile`, …
    #[schema(example = "profile")]
    pub key: String,
    /// `verified`, `rejected`, …
    #[schema(example = "verified")]
    pub value: String,
    /// `private` or `public`.
    #[schema(example = "private")]
    pub scope: String,
    /// RFC 3339, UTC.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: OffsetDateTime,
}

impl From<&Label> for LabelDto {
    fn from(l: &Label) -> Self {
        Self {
            key: l.key.as_str().to_owned(),
            value: l.value.clone(),
            scope: l.scope.as_str().to_owned(),
            updated_at: l.updated_at,
        }
    }
}

/// A user's labels and level.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LabelsResponse {
    /// The labels (`email: verified` is derived from the verified e-mail).
    pub labels: Vec<LabelDto>,
    /// The highest consecutive configured step that holds (default 1 = e-mail verified, 2 = profile verified).
    pub level: u32,
}

fn parse_fields(state: &AppState, raw: &RawFields) -> Result<FieldsPatch, ApiError> {
    Ok(raw.parse(state.profiles.today())?)
}

/// A path id that is not a UUID names no profile.
fn profile_id(raw: &str) -> Option<ProfileId> {
    raw.parse().ok()
}

/// The caller's profiles, newest first.
#[utoipa::path(
    tag = "profiles",
    operation_id = "list-my-profiles",
    security(("bearer" = [])),
    responses(
        (status = 200, body = [ProfileDto]),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 503, body = ProblemBody, content_type = "application/problem+json"),
    )
)]
#[get("/resource/profiles/me")]
async fn my_profiles(auth: Authenticated, state: web::Data<AppState>) -> Result<web::Json<Vec<ProfileDto>>, ApiError> {
    let mask = state.profiles.policy().mask_personal_data;
    let profiles = state.profiles.mine(&auth.0).await?;
    Ok(web::Json(profiles.iter().map(|p| ProfileDto::own(p, mask)).collect()))
}

/// Opens a profile: drafted, or submitted with `confirm: true`.
#[utoipa::path(
    tag = "profiles",
    operation_id = "create-profile",
    security(("bearer" = [])),
    request_body = ProfileRequest,
    responses(
        (status = 201, body = ProfileDto, description = "Created: `drafted`, or `submitted` with `confirm: true`."),
        (status = 400, body = ProblemBody, content_type = "application/problem+json", description = "Malformed JSON."),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`resource.profile.exists`: a drafted or submitted profile already exists."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`<field>.invalid` (`first_name.invalid`, `dob.invalid`, …), `metadata.invalid_format`, `<field>.missing` (required on submit), or `request.validation` for unknown fields and wrong types."),
    )
)]
#[post("/resource/profiles")]
async fn create_profile(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<ProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let patch = parse_fields(&state, &body.0.raw())?;
    let profile = state.profiles.create(&auth.0, &patch, body.0.confirm.unwrap_or(false)).await?;
    let mask = state.profiles.policy().mask_personal_data;
    Ok(HttpResponse::Created().json(ProfileDto::own(&profile, mask)))
}

/// Edits the caller's drafted profile; `confirm: true` submits it.
#[utoipa::path(
    tag = "profiles",
    operation_id = "update-profile-draft",
    security(("bearer" = [])),
    request_body = ProfileRequest,
    responses(
        (status = 200, body = ProfileDto),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`resource.profile.doesnt_exist_or_not_editable`: no drafted profile."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`<field>.invalid`, `metadata.invalid_format`, `<field>.missing`, or `request.validation` (unknown fields such as `state`)."),
    )
)]
#[put("/resource/profiles")]
async fn update_profile(
    auth: Authenticated,
    state: web::Data<AppState>,
    body: ValidJson<ProfileRequest>,
) -> Result<web::Json<ProfileDto>, ApiError> {
    let patch = parse_fields(&state, &body.0.raw())?;
    let profile = state.profiles.edit(&auth.0, &patch, body.0.confirm.unwrap_or(false)).await?;
    Ok(web::Json(ProfileDto::own(&profile, state.profiles.policy().mask_personal_data)))
}

/// Profiles for review, newest first, each with its user and author.
#[utoipa::path(
    tag = "profiles",
    operation_id = "admin-list-profiles",
    security(("bearer" = [])),
    params(ProfileListQuery, PageQuery),
    responses(
        (status = 200, body = AdminProfilePage),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`auth.superuser_required`."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "A bad `state`, `userId`, `limit` or `cursor`."),
    )
)]
#[get("/admin/profiles")]
async fn admin_list_profiles(
    admin: Superuser,
    state: web::Data<AppState>,
    filter: Query<ProfileListQuery>,
    paging: Query<PageQuery>,
) -> Result<web::Json<AdminProfilePage>, ApiError> {
    let page = paging.page()?;
    if page.after().is_some_and(|c| c.id.parse::<uuid::Uuid>().is_err()) {
        return Err(ApiError::invalid_field("/cursor", "the cursor is not one this service issued"));
    }
    let state_filter = match filter.state.as_deref() {
        None | Some("") => None,
        Some(s) => Some(ProfileState::parse(s).ok_or_else(|| {
            ApiError::invalid_field("/state", "must be drafted, submitted, verified or rejected")
        })?),
    };
    let user_filter = match filter.user_id.as_deref() {
        None | Some("") => None,
        Some(s) => Some(
            s.parse::<UserId>().map_err(|_| ApiError::invalid_field("/userId", "a user id is a stringified int64"))?,
        ),
    };
    let filter = ProfileFilter { state: state_filter, user_id: user_filter };
    let result = state.profiles.list(&admin.0, &filter, &page).await?;
    Ok(web::Json(AdminProfilePage {
        items: result.items.iter().map(Into::into).collect(),
        next_cursor: result.next_cursor,
    }))
}

/// One profile with the user's other profiles and every decision on them.
#[utoipa::path(
    tag = "profiles",
    operation_id = "admin-get-profile",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The profile id (UUID)")),
    responses(
        (status = 200, body = AdminProfileDetail),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`auth.superuser_required`."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`admin.profiles.doesnt_exist`."),
    )
)]
#[get("/admin/profiles/{id}")]
async fn admin_get_profile(
    admin: Superuser,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<web::Json<AdminProfileDetail>, ApiError> {
    let id = profile_id(&id).ok_or_else(|| ApiError::from(profile_verification::ProfileError::ProfileNotFound))?;
    let d = state.profiles.detail(&admin.0, id).await?;
    Ok(web::Json(AdminProfileDetail {
        profile: ProfileDto::full(&d.profile),
        user: (&d.user).into(),
        author: d.author.as_ref().map(Into::into),
        other_profiles: d.others.iter().map(ProfileDto::full).collect(),
        decisions: d.decisions.iter().map(Into::into).collect(),
    }))
}

/// Decides a submitted profile: `verified`, or `rejected` with a reason.
#[utoipa::path(
    tag = "profiles",
    operation_id = "admin-decide-profile",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The profile id (UUID)")),
    request_body = DecideRequest,
    responses(
        (status = 200, body = ProfileDto),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`auth.superuser_required`; `admin.profiles.second_admin_approval` (the author may not decide while `profiles.double_verification` is on); `admin.profiles.own_profile`."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`admin.profiles.doesnt_exist_or_not_editable`: no such profile, not submitted, or another decision came first."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`state.invalid`, `reason.missing`, `reason.invalid`, or `request.validation`."),
    )
)]
#[put("/admin/profiles/{id}")]
async fn admin_decide_profile(
    admin: Superuser,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: ValidJson<DecideRequest>,
) -> Result<web::Json<ProfileDto>, ApiError> {
    let reason = match body.0.reason.as_deref() {
        None => None,
        Some(text) => Some(Reason::parse(text).ok_or_else(|| {
            ApiError::invalid_field("/reason", "must be 1 to 1024 characters, not only spaces")
                .with_code("reason.invalid")
        })?),
    };
    let verdict = match body.0.state.as_str() {
        "verified" => Verdict::Verify(reason),
        "rejected" => Verdict::Reject(reason.ok_or_else(|| {
            ApiError::invalid_field("/reason", "a rejection needs a reason").with_code("reason.missing")
        })?),
        _ => {
            return Err(ApiError::invalid_field("/state", "must be `verified` or `rejected`").with_code("state.invalid"));
        }
    };
    let id = profile_id(&id).ok_or_else(|| ApiError::from(profile_verification::ProfileError::NotDecidable))?;
    let profile = state.profiles.decide(&admin.0, id, verdict).await?;
    Ok(web::Json(ProfileDto::full(&profile)))
}

/// Files a submitted profile for a user; the caller becomes its author.
#[utoipa::path(
    tag = "profiles",
    operation_id = "admin-create-profile",
    security(("bearer" = [])),
    request_body = AdminProfileRequest,
    responses(
        (status = 201, body = ProfileDto, description = "Created in state `submitted` with `author` = the caller."),
        (status = 400, body = ProblemBody, content_type = "application/problem+json"),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`auth.superuser_required`."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`admin.user.doesnt_exist`."),
        (status = 409, body = ProblemBody, content_type = "application/problem+json", description = "`resource.profile.exists`: the user has a drafted or submitted profile."),
        (status = 422, body = ProblemBody, content_type = "application/problem+json", description = "`user_id.invalid`, `<field>.invalid`, `metadata.invalid_format`, `<field>.missing`, `request.validation`."),
    )
)]
#[post("/admin/profiles")]
async fn admin_create_profile(
    admin: Superuser,
    state: web::Data<AppState>,
    body: ValidJson<AdminProfileRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = body.0.user_id.parse::<UserId>().map_err(|_| {
        ApiError::invalid_field("/userId", "a user id is a stringified int64").with_code("user_id.invalid")
    })?;
    let patch = parse_fields(&state, &body.0.raw())?;
    let profile = state.profiles.file_for(&admin.0, user, &patch).await?;
    Ok(HttpResponse::build(StatusCode::CREATED).json(ProfileDto::full(&profile)))
}

/// A user's labels and the level they reach.
#[utoipa::path(
    tag = "profiles",
    operation_id = "admin-user-labels",
    security(("bearer" = [])),
    params(("userId" = String, Path, description = "The user id (stringified int64)")),
    responses(
        (status = 200, body = LabelsResponse),
        (status = 401, body = ProblemBody, content_type = "application/problem+json"),
        (status = 403, body = ProblemBody, content_type = "application/problem+json", description = "`auth.superuser_required`."),
        (status = 404, body = ProblemBody, content_type = "application/problem+json", description = "`admin.user.doesnt_exist`."),
    )
)]
#[get("/admin/users/{userId}/labels")]
async fn admin_user_labels(
    admin: Superuser,
    state: web::Data<AppState>,
    user_id: web::Path<String>,
) -> Result<web::Json<LabelsResponse>, ApiError> {
    let user = user_id
        .parse::<UserId>()
        .map_err(|_| ApiError::from(profile_verification::ProfileError::UserNotFound))?;
    let view = state.profiles.labels(&admin.0, user).await?;
    Ok(web::Json(LabelsResponse { labels: view.labels.iter().map(Into::into).collect(), level: view.level }))
}
