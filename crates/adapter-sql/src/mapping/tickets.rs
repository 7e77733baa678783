//! `upload_tickets` rows → `UploadTicket`.

use crate::entities::upload_tickets;
use anyhow::{Context as _, anyhow};
use image_upload::{ImageType, ObjectKey, TicketId, TicketState, UploadTicket};
use shared_kernel::{UserId, truncate_to_micros};

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
