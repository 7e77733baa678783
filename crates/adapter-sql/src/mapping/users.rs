//! `users` rows → `User`, and the membership columns of a user view row.

use super::{opt_time_of, role_of};
use crate::entities::users;
use ::users::{DisplayName, Integrations, ManualStatus, MembershipRecord, OrganizationSummary, User, Username};
use anyhow::{Context as _, anyhow};
use sea_orm::QueryResult;
use shared_kernel::{DiscordId, EmailAddress, PlatformRole, Tenure, UserId, truncate_to_micros};

pub(crate) fn user(m: users::Model) -> anyhow::Result<User> {
    let row = m.id;
    let context = || format!("reading user {row}");
    Ok(User {
        id: UserId::new(m.id),
        subject: m.subject,
        email: EmailAddress::from_stored(&m.email).with_context(context)?,
        email_verified: m.email_verified,
        first_name: m.first_name,
        last_name: m.last_name,
        display_name: DisplayName::parse(&m.display_name).with_context(context)?,
        username: Username::parse(&m.username).with_context(context)?,
        avatar_url: m.avatar_url,
        current_organization_id: m.current_organization_id,
        manual_status: m
            .manual_status
            .map(|code| ManualStatus::from_i16(code).ok_or_else(|| anyhow!("unknown manual_status {code}")))
            .transpose()
            .with_context(context)?,
        integrations: Integrations {
            google_calendar_connected: m.google_calendar_connected,
            google_calendar_enabled: m.google_calendar_enabled,
        },
        platform_role: m.platform_role.parse::<PlatformRole>().with_context(context)?,
        discord_id: m.discord_id.as_deref().map(DiscordId::parse).transpose().with_context(context)?,
        created_at: truncate_to_micros(m.created_at),
        updated_at: truncate_to_micros(m.updated_at),
    })
}

/// The membership columns of a view row (`m_*`, `o_*`); `None` for the row
/// of a user without memberships.
pub(crate) fn membership_record(row: &QueryResult) -> anyhow::Result<Option<MembershipRecord>> {
    let Some(org) = row.try_get::<Option<uuid::Uuid>>("", "o_id")? else { return Ok(None) };
    let status: String = row.try_get("", "m_status")?;
    let joined_at = opt_time_of(row, "", "m_joined_at")?.context("a membership without a join time")?;
    Ok(Some(MembershipRecord {
        organization: OrganizationSummary {
            id: org,
            name: row.try_get("", "o_name")?,
            logo_url: row.try_get("", "o_logo_url")?,
        },
        role: role_of(&row.try_get::<String>("", "m_role")?)?,
        joined_at,
        tenure: Tenure::stored(
            status == organizations::MembershipStatus::Active.as_str(),
            joined_at,
            opt_time_of(row, "", "m_ended_at")?,
            opt_time_of(row, "", "m_expires_at")?,
        ),
    }))
}
