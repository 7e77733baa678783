//! The wire shape of a KYC profile, its decisions and labels, shared by the
//! profile routes, the data export and the error mapping.

use profile_verification::{Decision, Label, Profile, ProfileState, Retry};
use serde::Serialize;
use serde_json::Value;
use time::OffsetDateTime;
use utoipa::ToSchema;

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
    /// Refused; see its decision's `retry`.
    Rejected,
    /// Withdrawn by its user before submission.
    Withdrawn,
}

impl From<ProfileState> for ProfileStateDto {
    fn from(s: ProfileState) -> Self {
        match s {
            ProfileState::Drafted => Self::Drafted,
            ProfileState::Submitted => Self::Submitted,
            ProfileState::Verified => Self::Verified,
            ProfileState::Rejected => Self::Rejected,
            ProfileState::Withdrawn => Self::Withdrawn,
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
    /// In `GET /resource/profiles/me`: the latest decision on this profile,
    /// with the reason and whether the user may try again (never the internal note).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<DecisionDto>,
}

impl ProfileDto {
    /// The full profile (admin responses are never masked).
    pub(crate) fn full(p: &Profile) -> Self {
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
            decision: None,
        }
    }

    /// The profile as its user sees it: masked when `profiles.mask_personal_data` is on.
    pub(crate) fn own(p: &Profile, mask: bool) -> Self {
        let mut dto = Self::full(p);
        if mask {
            dto.last_name = p.fields.last_name.as_ref().map(|n| n.masked());
            dto.dob = p.fields.dob.map(|d| d.masked());
        }
        dto
    }
}

/// The wire shape of a profile a conflict answers with (`current`).
pub fn profile_json(p: &Profile) -> Value {
    serde_json::to_value(ProfileDto::full(p)).unwrap_or(Value::Null)
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
    /// Why: shown to the user.
    pub reason: Option<String>,
    /// The reviewers' internal note (superusers only; absent for the user).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// For a rejection: `retry` (a new profile is welcome) or `final`.
    #[schema(example = "retry")]
    pub retry: Option<&'static str>,
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
            note: d.note.as_ref().map(|n| n.as_str().to_owned()),
            retry: d.retry.map(Retry::as_str),
            at: d.at,
        }
    }
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
