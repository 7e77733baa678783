//! Persistence models → domain records. A stored value that no longer parses
//! is an `Unexpected` error naming the row, never a panic.

use crate::entities::{upload_tickets, users};
use anyhow::{Context as _, anyhow};
use image_upload::{ImageType, ObjectKey, TicketId, TicketState, UploadTicket};
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
            .map(|code| ManualStatus::from_i16(code).ok_or_else(|| anyhow!("unknown manual_status {code}")))
            .transpose()
            .with_context(context)?,
        integrations: Integrations {
            google_calendar_connected: m.google_calendar_connected,
            google_calendar_enabled: m.google_calendar_enabled,
        },
        platform_role: m.platform_role.parse::<PlatformRole>().with_context(context)?,
        created_at: truncate_to_micros(m.created_at),
        updated_at: truncate_to_micros(m.updated_at),
    })
}

pub(crate) fn ticket(m: upload_tickets::Model) -> anyhow::Result<UploadTicket> {
    let id = m.id;
    let context = || format!("reading upload ticket {id}");
    Ok(UploadTicket {
        id: TicketId::from_uuid(m.id),
        purpose: m.purpose,
        owner: m.owner,
        requested_by: UserId::new(m.requested_by),
        tmp_key: ObjectKey::parse(&m.tmp_key).with_context(context)?,
        image_type: ImageType::from_mime(&m.content_type)
            .ok_or_else(|| anyhow!("unknown content type {}", m.content_type))
            .with_context(context)?,
        state: TicketState::parse(&m.state)
            .ok_or_else(|| anyhow!("unknown state {}", m.state))
            .with_context(context)?,
        created_at: truncate_to_micros(m.created_at),
        expires_at: truncate_to_micros(m.expires_at),
    })
}
