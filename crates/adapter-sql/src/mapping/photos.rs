//! Photo verifications and their events ↔ rows.

use crate::entities::{photo_verification_events, photo_verifications};
use anyhow::{Context as _, anyhow};
use image_upload::ObjectKey;
use photo_verification::{
    Approval, DiscordSide, PhotoEvent, PhotoEventKind, PhotoVerification, PhotoVerificationId, PreviousPhotos,
    ProfileSide, Retry, VerificationStatus,
};
use shared_kernel::{DiscordId, UserId, truncate_to_micros};

pub(crate) fn photo_verification(m: photo_verifications::Model) -> anyhow::Result<PhotoVerification> {
    let id = m.id;
    let context = || format!("reading photo verification {id}");
    let approval = |by: Option<i64>, at: Option<time::OffsetDateTime>| match (by, at) {
        (Some(by), Some(at)) => Some(Approval { by: UserId::new(by), at: truncate_to_micros(at) }),
        _ => None,
    };
    Ok(PhotoVerification {
        id: PhotoVerificationId::from_uuid(m.id),
        user_id: UserId::new(m.user_id),
        discord_id: m.discord_id.as_deref().map(DiscordId::parse).transpose().with_context(context)?,
        previous: PreviousPhotos { profile_url: m.previous_profile_url, discord_url: m.previous_discord_url },
        profile: ProfileSide {
            url: m.profile_url,
            object_key: ObjectKey::parse(&m.profile_key).with_context(context)?,
            sha256: m.profile_sha256,
            approval: approval(m.profile_approved_by, m.profile_approved_at),
        },
        discord: DiscordSide {
            url: m.discord_url,
            avatar_hash: m.discord_avatar_hash,
            fetched_at: m.discord_fetched_at.map(truncate_to_micros),
            approval: approval(m.discord_approved_by, m.discord_approved_at),
        },
        status: VerificationStatus::parse(&m.status).with_context(context)?,
        reason: m.reason,
        note: m.note,
        retry: m
            .retry
            .map(|r| Retry::parse(&r).ok_or_else(|| anyhow!("unknown retry {r:?}")))
            .transpose()
            .with_context(context)?,
        decided_by: m.decided_by.map(UserId::new),
        decided_at: m.decided_at.map(truncate_to_micros),
        created_at: truncate_to_micros(m.created_at),
        updated_at: truncate_to_micros(m.updated_at),
        version: m.version,
    })
}

pub(crate) fn photo_verification_model(v: &PhotoVerification) -> photo_verifications::ActiveModel {
    use sea_orm::ActiveValue::Set;
    let approval_by = |a: &Option<Approval>| a.as_ref().map(|a| a.by.get());
    let approval_at = |a: &Option<Approval>| a.as_ref().map(|a| a.at);
    photo_verifications::ActiveModel {
        id: Set(v.id.as_uuid()),
        user_id: Set(v.user_id.get()),
        discord_id: Set(v.discord_id.as_ref().map(|d| d.as_str().to_owned())),
        previous_profile_url: Set(v.previous.profile_url.clone()),
        previous_discord_url: Set(v.previous.discord_url.clone()),
        profile_url: Set(v.profile.url.clone()),
        profile_key: Set(v.profile.object_key.as_str().to_owned()),
        profile_sha256: Set(v.profile.sha256.clone()),
        profile_approved_by: Set(approval_by(&v.profile.approval)),
        profile_approved_at: Set(approval_at(&v.profile.approval)),
        discord_url: Set(v.discord.url.clone()),
        discord_avatar_hash: Set(v.discord.avatar_hash.clone()),
        discord_fetched_at: Set(v.discord.fetched_at),
        discord_approved_by: Set(approval_by(&v.discord.approval)),
        discord_approved_at: Set(approval_at(&v.discord.approval)),
        status: Set(v.status.as_str().to_owned()),
        reason: Set(v.reason.clone()),
        note: Set(v.note.clone()),
        retry: Set(v.retry.map(|r| r.as_str().to_owned())),
        decided_by: Set(v.decided_by.map(UserId::get)),
        decided_at: Set(v.decided_at),
        created_at: Set(v.created_at),
        updated_at: Set(v.updated_at),
        version: Set(v.version),
    }
}

pub(crate) fn photo_event(m: photo_verification_events::Model) -> anyhow::Result<PhotoEvent> {
    Ok(PhotoEvent {
        verification_id: PhotoVerificationId::from_uuid(m.verification_id),
        kind: PhotoEventKind::parse(&m.kind)
            .ok_or_else(|| anyhow!("unknown photo event kind {}", m.kind))
            .with_context(|| format!("reading photo event {}", m.id))?,
        actor: UserId::new(m.actor_id),
        at: truncate_to_micros(m.at),
        old_hash: m.old_hash,
        new_hash: m.new_hash,
        reason: m.reason,
        note: m.note,
    })
}

pub(crate) fn photo_event_model(e: &PhotoEvent) -> photo_verification_events::ActiveModel {
    use sea_orm::ActiveValue::Set;
    photo_verification_events::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        verification_id: Set(e.verification_id.as_uuid()),
        kind: Set(e.kind.as_str().to_owned()),
        actor_id: Set(e.actor.get()),
        old_hash: Set(e.old_hash.clone()),
        new_hash: Set(e.new_hash.clone()),
        reason: Set(e.reason.clone()),
        note: Set(e.note.clone()),
        at: Set(e.at),
    }
}
