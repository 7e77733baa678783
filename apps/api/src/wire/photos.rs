//! The wire shape of a photo verification, shared by the review routes, the
//! data export and the error mapping (a conflict answers with the current one).

use photo_verification::{Approval, PhotoVerification, Retry, UserSummary};
use serde::Serialize;
use time::OffsetDateTime;
use utoipa::ToSchema;

pub(crate) fn rfc3339(t: Option<OffsetDateTime>) -> Option<String> {
    t.and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
}

/// What was live when the verification opened.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviousDto {
    /// The avatar URL then.
    pub profile_url: Option<String>,
    /// The Discord avatar URL then, if it could be read.
    pub discord_url: Option<String>,
}

/// The requested photo.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProfileDto {
    /// Its URL. Until it is accepted the photo is private: this is a signed
    /// URL that works for a few minutes, given only to its user and superusers.
    pub url: String,
    /// SHA-256 (hex) of its bytes: the content a profile approval refers to.
    pub sha256: String,
    /// Whether a superuser approved it.
    pub approved: bool,
    /// Who approved it (a user id).
    pub approved_by: Option<String>,
    /// When (RFC 3339).
    pub approved_at: Option<String>,
}

/// The Discord avatar it is compared with.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiscordDto {
    /// `notLinked` (no Discord id: only the profile side needs approval),
    /// `notFetched` (not read yet: refresh it) or `fetched`.
    #[schema(example = "fetched")]
    pub state: &'static str,
    /// The avatar URL as last read.
    pub url: Option<String>,
    /// Discord's avatar hash as last read (null for the default avatar).
    pub avatar_hash: Option<String>,
    /// When it was last read.
    pub fetched_at: Option<String>,
    /// Whether a superuser approved the avatar with this hash.
    pub approved: bool,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// When.
    pub approved_at: Option<String>,
}

/// The user a reviewer sees next to the photos.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UserSummaryDto {
    /// User id (stringified int64).
    pub id: String,
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// The avatar live now.
    pub avatar_url: Option<String>,
}

/// A photo verification.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = PhotoVerification)]
pub struct VerificationDto {
    /// Its id (UUIDv7).
    pub id: String,
    /// Whose photo.
    pub user_id: String,
    /// The Discord id it is compared with.
    pub discord_id: Option<String>,
    /// What was live when it opened.
    pub previous: PreviousDto,
    /// The requested photo.
    pub profile: ProfileDto,
    /// The Discord avatar.
    pub discord: DiscordDto,
    /// `PENDING`, `ACCEPTED`, `REJECTED` or `SUPERSEDED`.
    #[schema(example = "PENDING")]
    pub status: &'static str,
    /// Why it was rejected: shown to the user.
    pub reason: Option<String>,
    /// The reviewer's internal note on a rejection; superusers only (absent for others).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// After a rejection: `retry` (the user may upload another photo) or `final` (they may not).
    #[schema(example = "retry")]
    pub retry: Option<&'static str>,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// Opened at.
    pub created_at: String,
    /// Last changed at.
    pub updated_at: String,
    /// Incremented by every change.
    pub version: i64,
    /// The user (in lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserSummaryDto>,
}

impl VerificationDto {
    /// The wire shape of a record, with its user's summary when known.
    pub fn from_record(v: &PhotoVerification, user: Option<&UserSummary>) -> Self {
        let (p_approved, p_by, p_at) = approval_parts(v.profile.approval.as_ref());
        let (d_approved, d_by, d_at) = approval_parts(v.discord.approval.as_ref());
        let state = match (&v.discord_id, v.discord.fetched_at) {
            (None, _) => "notLinked",
            (Some(_), None) => "notFetched",
            (Some(_), Some(_)) => "fetched",
        };
        Self {
            id: v.id.to_string(),
            user_id: v.user_id.to_string(),
            discord_id: v.discord_id.as_ref().map(|d| d.as_str().to_owned()),
            previous: PreviousDto {
                profile_url: v.previous.profile_url.clone(),
                discord_url: v.previous.discord_url.clone(),
            },
            profile: ProfileDto {
                url: v.profile.url.clone(),
                sha256: v.profile.sha256.clone(),
                approved: p_approved,
                approved_by: p_by,
                approved_at: p_at,
            },
            discord: DiscordDto {
                state,
                url: v.discord.url.clone(),
                avatar_hash: v.discord.avatar_hash.clone(),
                fetched_at: rfc3339(v.discord.fetched_at),
                approved: d_approved,
                approved_by: d_by,
                approved_at: d_at,
            },
            status: v.status.as_str(),
            reason: v.reason.clone(),
            note: v.note.clone(),
            retry: v.retry.map(Retry::as_str),
            decided_by: v.decided_by.map(|u| u.to_string()),
            decided_at: rfc3339(v.decided_at),
            created_at: rfc3339(Some(v.created_at)).unwrap_or_default(),
            updated_at: rfc3339(Some(v.updated_at)).unwrap_or_default(),
            version: v.version,
            user: user.map(|u| UserSummaryDto {
                id: u.id.to_string(),
                username: u.username.clone(),
                display_name: u.display_name.clone(),
                avatar_url: u.avatar_url.clone(),
            }),
        }
    }
}

fn approval_parts(a: Option<&Approval>) -> (bool, Option<String>, Option<String>) {
    match a {
        Some(a) => (true, Some(a.by.to_string()), rfc3339(Some(a.at))),
        None => (false, None, None),
    }
}
