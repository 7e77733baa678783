//! The canonical User DTO, exactly seed 003's shape. Every endpoint that
//! returns a user or a session returns this.

use crate::model::{ManualStatus, MembershipStatus, UserView};
use serde::Serialize;
use shared_kernel::OrgRole;
use time::OffsetDateTime;

/// The User DTO (seed 003). `pendingAuthenticationToken` and `socialUrl` are
/// dropped on purpose.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = User))]
#[non_exhaustive]
pub struct UserDto {
    /// Canonical user id: a stringified int64.
    #[cfg_attr(feature = "openapi", schema(example = "42"))]
    pub id: String,
    /// The user's e-mail address.
    pub email: String,
    /// Given name; omitted when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    /// Family name; omitted when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    /// The name shown to others.
    pub display_name: String,
    /// Public URL of the avatar.
    pub avatar_url: Option<String>,
    /// The organization the user is working in; null until they belong to one.
    pub current_organization_id: Option<String>,
    /// Active memberships, and ended ones for 30 days.
    pub organization_memberships: Vec<MembershipDto>,
    /// Stored integration flags.
    pub integrations: IntegrationsDto,
    /// Manual presence override; null means none.
    pub manual_status: Option<ManualStatus>,
    /// Avatar upload tries left in the current window.
    pub avatar_upload_tries_remaining: u32,
    /// When the user was provisioned (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: OffsetDateTime,
    /// When the user last changed (RFC 3339, UTC).
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: OffsetDateTime,
}

/// One membership in the DTO.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UserMembership))]
#[non_exhaustive]
pub struct MembershipDto {
    /// The light organization summary.
    pub organization: OrganizationSummaryDto,
    /// The role held.
    #[cfg_attr(feature = "openapi", schema(value_type = String, example = "member"))]
    pub role: OrgRole,
    /// Active, or inactive for 30 days after it ended.
    pub status: MembershipStatus,
}

/// The organization summary in a membership: no slug, no zones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = OrganizationSummary))]
#[non_exhaustive]
pub struct OrganizationSummaryDto {
    /// Organization id (UUIDv7).
    pub id: String,
    /// Organization name.
    pub name: String,
    /// Public logo URL.
    pub logo_url: Option<String>,
}

/// `integrations` in the DTO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = UserIntegrations))]
#[non_exhaustive]
pub struct IntegrationsDto {
    /// Google Calendar flags.
    pub google_calendar: GoogleCalendarDto,
}

/// `integrations.googleCalendar` in the DTO.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[non_exhaustive]
pub struct GoogleCalendarDto {
    /// A token is stored.
    pub connected: bool,
    /// The feature toggle.
    pub enabled: bool,
}

impl From<UserView> for UserDto {
    fn from(view: UserView) -> Self {
        let user = view.user;
        Self {
            id: user.id.to_string(),
            email: user.email.as_str().to_owned(),
            first_name: user.first_name,
            last_name: user.last_name,
            display_name: user.display_name.as_str().to_owned(),
            avatar_url: user.avatar_url,
            current_organization_id: user.current_organization_id.map(|id| id.to_string()),
            organization_memberships: view
                .memberships
                .into_iter()
                .map(|m| MembershipDto {
                    organization: OrganizationSummaryDto {
                        id: m.organization.id.to_string(),
                        name: m.organization.name,
                        logo_url: m.organization.logo_url,
                    },
                    role: m.role,
                    status: m.status,
                })
                .collect(),
            integrations: IntegrationsDto {
                google_calendar: GoogleCalendarDto {
                    connected: user.integrations.google_calendar_connected,
                    enabled: user.integrations.google_calendar_enabled,
                },
            },
            manual_status: user.manual_status,
            avatar_upload_tries_remaining: view.avatar_upload_tries_remaining,
            created_at: user.created_at,
            updated_at: user.updated_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DisplayName, Integrations, MembershipSummary, OrganizationSummary, User, Username};
    use serde_json::json;
    use shared_kernel::{EmailAddress, PlatformRole, UserId};
    use time::macros::datetime;

    fn view() -> UserView {
        UserView {
            user: User {
                id: UserId::new(9_007_199_254_740_993),
                subject: "sub".into(),
                email: EmailAddress::parse("ada@x.io").unwrap(),
                email_verified: true,
                first_name: None,
                last_name: Some("Lovelace".into()),
                display_name: DisplayName::parse("Ada").unwrap(),
                username: Username::parse("ada").unwrap(),
                avatar_url: None,
                current_organization_id: None,
                manual_status: Some(ManualStatus::Busy),
                integrations: Integrations::default(),
                platform_role: PlatformRole::User,
                discord_id: None,
                created_at: datetime!(2026-06-14 10:00:00 UTC),
                updated_at: datetime!(2026-06-14 10:00:00.5 UTC),
            },
            memberships: vec![MembershipSummary {
                organization: OrganizationSummary { id: uuid::Uuid::nil(), name: "Acme".into(), logo_url: None },
                role: OrgRole::Moderator,
                status: MembershipStatus::Active,
            }],
            avatar_upload_tries_remaining: 5,
        }
    }

    #[test]
    fn the_dto_has_exactly_seed_003s_shape() {
        let json = serde_json::to_value(UserDto::from(view())).unwrap();
        assert_eq!(
            json,
            json!({
                "id": "9007199254740993",
                "email": "ada@x.io",
                "lastName": "Lovelace",
                "displayName": "Ada",
                "avatarUrl": null,
                "currentOrganizationId": null,
                "organizationMemberships": [{
                    "organization": {"id": "00000000-0000-0000-0000-000000000000", "name": "Acme", "logoUrl": null},
                    "role": "moderator",
                    "status": "active"
                }],
                "integrations": {"googleCalendar": {"connected": false, "enabled": false}},
                "manualStatus": "busy",
                "avatarUploadTriesRemaining": 5,
                "createdAt": "2026-06-14T10:00:00Z",
                "updatedAt": "2026-06-14T10:00:00.5Z"
            })
        );
    }
}
