//! The events of photo verifications, one for each entry of a
//! verification's own event log: opened, a side approved, the Discord
//! avatar re-read, accepted, rejected, superseded. Users appear by id and
//! photos not at all: events outlive an erasure (docs/events.md).

use crate::model::{PhotoEvent, PhotoEventKind, PhotoVerification};
use serde_json::json;
use shared_kernel::{Event, Subject};
use time::OffsetDateTime;

/// `photo_verification.opened`: an upload opened it.
pub const OPENED: &str = "photo_verification.opened";
/// `photo_verification.approved`: a reviewer approved one side (`data.side`).
pub const APPROVED: &str = "photo_verification.approved";
/// `photo_verification.discord_refreshed`: the Discord avatar was re-read.
pub const DISCORD_REFRESHED: &str = "photo_verification.discord_refreshed";
/// `photo_verification.accepted`: both sides approved; the photo is the avatar now.
pub const ACCEPTED: &str = "photo_verification.accepted";
/// `photo_verification.rejected`, with the reason the user sees.
pub const REJECTED: &str = "photo_verification.rejected";
/// `photo_verification.superseded`: a newer upload replaced it.
pub const SUPERSEDED: &str = "photo_verification.superseded";

/// Every event type this context emits, in the order docs/events.md lists them.
pub const EVENT_TYPES: &[&str] = &[OPENED, APPROVED, DISCORD_REFRESHED, ACCEPTED, REJECTED, SUPERSEDED];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// The event of `entry`, one entry of `record`'s log, with `record` as the transition left it.
pub fn of(record: &PhotoVerification, entry: &PhotoEvent) -> Event {
    let kind = match entry.kind {
        PhotoEventKind::Created => OPENED,
        PhotoEventKind::ProfileApproved | PhotoEventKind::DiscordApproved => APPROVED,
        PhotoEventKind::DiscordRefreshed => DISCORD_REFRESHED,
        PhotoEventKind::Accepted => ACCEPTED,
        PhotoEventKind::Rejected => REJECTED,
        PhotoEventKind::Superseded => SUPERSEDED,
    };
    let mut data = json!({ "photoVerification": {
        "id": record.id.to_string(),
        "userId": record.user_id.to_string(),
        "status": record.status.as_str(),
        "decidedBy": record.decided_by.map(|u| u.to_string()),
        "decidedAt": record.decided_at.map(rfc3339),
        "createdAt": rfc3339(record.created_at),
        "version": record.version,
    } });
    match entry.kind {
        PhotoEventKind::ProfileApproved => data["side"] = json!("profile"),
        PhotoEventKind::DiscordApproved => data["side"] = json!("discord"),
        PhotoEventKind::Rejected => {
            data["reason"] = json!(entry.reason);
            data["retry"] = json!(record.retry.map(|r| r.as_str()));
        }
        _ => {}
    }
    Event::new(kind, entry.at, Some(entry.actor), None, Subject::new("photo_verification", record.id), data)
}
