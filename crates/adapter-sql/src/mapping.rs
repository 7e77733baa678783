//! Persistence models → domain records. A stored value that no longer parses
//! is an `Unexpected` error naming the row, never a panic.

use crate::entities::users;
use anyhow::{Context as _, anyhow};
use shared_kernel::{EmailAddress, PlatformRole, UserId, truncate_to_micros};
use user_dto::{DisplayName, Integrations, ManualStatus, User, Username};

pub(crate) fn user(m: users::Model) -> anyhow::Result<User> {
    let row = m.id;
    let context = || format!("reading user {row}");
    Ok(User {
        id: UserId::new(m.id),
        subject: m.subject,
        email: EmailAddress::parse(&m.email).with_context(context)?,
        email_verified: m.email_verified,
        first_name: m.first_name,
        last_name: m.last_name,
        display_name: DisplayName::parse(&m.display_name).with_context(context)?,
        username: Username::parse(&m.username).with_context(context)?,
        avatar_url: m.avatar_url,
        current_organization_id: m.current_organization_id,
        manual_status: m
            .manual_status
            .map(|code| {
                ManualStatus::from_i16(code).ok_or_else(|| anyhow!("unknown manual_status {code}"))
            })
            .transpose()
            .with_context(context)?,
        integrations: Integrations {
            google_calendar_connected: m.google_calendar_connected,
            google_calendar_enabled: m.google_calendar_enabled,
        },
        platform_role: m
            .platform_role
            .parse::<PlatformRole>()
            .with_context(context)?,
        created_at: truncate_to_micros(m.created_at),
        updated_at: truncate_to_micros(m.updated_at),
    })
}
