//! Rows of invitations, their acceptance log and the e-mail outbox →
//! domain records.

use super::{get, role_of, time_of};
use crate::schema::{InvitationAcceptances as A, InvitationOutbox as X, Invitations as I};
use anyhow::{Context as _, anyhow};
use organizations::{
    Acceptance, AcceptanceId, Invitation, InvitationId, InvitationKind, InvitationMail, InvitationOrigin,
    InvitationStatus, OrganizationId, OutboxId, OutboxMail, Outcome, TokenHash, ZoneId,
};
use sea_orm::QueryResult;
use shared_kernel::{EmailAddress, UserId};
use time::Duration;
use uuid::Uuid;

/// An invitation row ([`I::ALL`], unprefixed).
pub(crate) fn invitation(row: &QueryResult) -> anyhow::Result<Invitation> {
    let id: Uuid = get(row, "", I::Id).context("reading an invitation id")?;
    let read = || -> anyhow::Result<Invitation> {
        let status: String = get(row, "", I::Status)?;
        let kind: String = get(row, "", I::Kind)?;
        let origin: String = get(row, "", I::Origin)?;
        let hash: String = get(row, "", I::TokenHash)?;
        let email: Option<String> = get(row, "", I::Email)?;
        let count = |col: I| -> anyhow::Result<u32> { Ok(u32::try_from(get::<i64>(row, "", col)?)?) };
        Ok(Invitation {
            id: InvitationId::from_uuid(id),
            organization_id: OrganizationId::from_uuid(get(row, "", I::OrganizationId)?),
            zone_id: get::<Option<Uuid>>(row, "", I::ZoneId)?.map(ZoneId::from_uuid),
            role: role_of(&get::<String>(row, "", I::Role)?)?,
            email: email.as_deref().map(EmailAddress::from_stored).transpose()?,
            user_id: get::<Option<i64>>(row, "", I::UserId)?.map(UserId::new),
            kind: InvitationKind::parse(&kind).ok_or_else(|| anyhow!("unknown kind {kind:?}"))?,
            origin: InvitationOrigin::parse(&origin).ok_or_else(|| anyhow!("unknown origin {origin:?}"))?,
            max_uses: count(I::MaxUses)?,
            use_count: count(I::UseCount)?,
            expires_at: time_of(row, "", I::ExpiresAt)?,
            valid_for: Duration::seconds(get(row, "", I::ValidForSeconds)?),
            membership_duration: get::<Option<i64>>(row, "", I::MembershipDurationSeconds)?.map(Duration::seconds),
            status: InvitationStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
            token_hash: TokenHash::from_hex(&hash).ok_or_else(|| anyhow!("unreadable token hash"))?,
            created_by: UserId::new(get(row, "", I::CreatedBy)?),
            created_at: time_of(row, "", I::CreatedAt)?,
            updated_at: time_of(row, "", I::UpdatedAt)?,
            version: get(row, "", I::Version)?,
        })
    };
    read().with_context(|| format!("reading invitation {id}"))
}

/// An acceptance-log row ([`A::ALL`]).
pub(crate) fn acceptance(row: &QueryResult) -> anyhow::Result<Acceptance> {
    let outcome: String = get(row, "", A::Outcome)?;
    Ok(Acceptance {
        id: AcceptanceId::from_uuid(get(row, "", A::Id)?),
        invitation_id: InvitationId::from_uuid(get(row, "", A::InvitationId)?),
        user_id: get::<Option<i64>>(row, "", A::UserId)?.map(UserId::new),
        outcome: Outcome::parse(&outcome).ok_or_else(|| anyhow!("unknown outcome {outcome:?}"))?,
        reason: get(row, "", A::Reason)?,
        at: time_of(row, "", A::At)?,
        ip: get(row, "", A::Ip)?,
        user_agent: get(row, "", A::UserAgent)?,
    })
}

/// An outbox row ([`X::READ`]).
pub(crate) fn outbox_mail(row: &QueryResult) -> anyhow::Result<OutboxMail> {
    let recipient: String = get(row, "", X::Recipient)?;
    Ok(OutboxMail {
        id: OutboxId::from_uuid(get(row, "", X::Id)?),
        invitation_id: InvitationId::from_uuid(get(row, "", X::InvitationId)?),
        mail: InvitationMail {
            to: EmailAddress::from_stored(&recipient).context("an outbox recipient")?,
            organization: get(row, "", X::Organization)?,
            invited_by: get(row, "", X::InvitedBy)?,
            role: role_of(&get::<String>(row, "", X::Role)?)?,
            link: get(row, "", X::Link)?,
            expires_at: time_of(row, "", X::ExpiresAt)?,
        },
        attempts: u32::try_from(get::<i64>(row, "", X::Attempts)?)?,
        next_attempt_at: time_of(row, "", X::NextAttemptAt)?,
    })
}
