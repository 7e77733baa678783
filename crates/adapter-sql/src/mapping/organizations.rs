//! Rows of organizations, zones, memberships, their history, blocks and
//! accounts → domain records.

use super::{get, opt_time_of, role_of, time_of};
use crate::entities::users;
use crate::schema::{
    MembershipHistory as H, Memberships as M, OrganizationBlocks as B, Organizations as O, Zones as Z,
};
use anyhow::{Context as _, anyhow};
use organizations::{
    Account, Block, EndReason, HistoryCause, Membership, MembershipHistory, MembershipId, MembershipStatus,
    Organization, OrganizationId, Zone, ZoneId,
};
use sea_orm::QueryResult;
use shared_kernel::UserId;
use uuid::Uuid;

/// The comma-joined zones text of a history row ("" = the whole organization).
pub(crate) fn encode_zones(zones: &[ZoneId]) -> String {
    zones.iter().map(ZoneId::to_string).collect::<Vec<_>>().join(",")
}

fn decode_zones(raw: &str) -> anyhow::Result<Vec<ZoneId>> {
    raw.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().with_context(|| format!("zone id {s:?}"))).collect()
}

/// The [`M::READ`] columns under `pre`, without the zones (the caller reads
/// them from `membership_zones`).
pub(crate) fn membership(row: &QueryResult, pre: &str) -> anyhow::Result<Membership> {
    let id: Uuid = get(row, pre, M::Id)?;
    let read = || -> anyhow::Result<Membership> {
        let status: String = get(row, pre, M::Status)?;
        let end_reason: Option<String> = get(row, pre, M::EndReason)?;
        Ok(Membership {
            id: MembershipId::from_uuid(id),
            organization_id: OrganizationId::from_uuid(get(row, pre, M::OrganizationId)?),
            user_id: UserId::new(get(row, pre, M::UserId)?),
            role: role_of(&get::<String>(row, pre, M::Role)?)?,
            zones: Vec::new(),
            status: MembershipStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
            expires_at: opt_time_of(row, pre, M::ExpiresAt)?,
            invitation_id: get::<Option<Uuid>>(row, pre, M::InvitationId)?.map(organizations::InvitationId::from_uuid),
            joined_at: time_of(row, pre, M::JoinedAt)?,
            ended_at: opt_time_of(row, pre, M::EndedAt)?,
            end_reason: end_reason
                .map(|r| EndReason::parse(&r).ok_or_else(|| anyhow!("unknown end reason {r:?}")))
                .transpose()?,
            version: get(row, pre, M::Version)?,
        })
    };
    read().with_context(|| format!("reading membership {id}"))
}

/// The [`O::READ`] columns under `pre`.
pub(crate) fn organization(row: &QueryResult, pre: &str) -> anyhow::Result<Organization> {
    Ok(Organization {
        id: OrganizationId::from_uuid(get(row, pre, O::Id)?),
        name: get(row, pre, O::Name)?,
        slug: get(row, pre, O::Slug)?,
        logo_url: get(row, pre, O::LogoUrl)?,
        created_by: UserId::new(get(row, pre, O::CreatedBy)?),
        created_at: time_of(row, pre, O::CreatedAt)?,
        updated_at: time_of(row, pre, O::UpdatedAt)?,
    })
}

/// A zone row.
pub(crate) fn zone(row: &QueryResult) -> anyhow::Result<Zone> {
    let read = || -> anyhow::Result<Zone> {
        Ok(Zone {
            id: ZoneId::from_uuid(get(row, "", Z::Id)?),
            organization_id: OrganizationId::from_uuid(get(row, "", Z::OrganizationId)?),
            name: get(row, "", Z::Name)?,
            created_at: time_of(row, "", Z::CreatedAt)?,
        })
    };
    read().context("reading a zone")
}

/// A history row ([`H::READ`]).
pub(crate) fn history(row: &QueryResult) -> anyhow::Result<MembershipHistory> {
    let status: String = get(row, "", H::Status)?;
    let cause: String = get(row, "", H::Cause)?;
    Ok(MembershipHistory {
        membership_id: MembershipId::from_uuid(get(row, "", H::MembershipId)?),
        organization_id: OrganizationId::from_uuid(get(row, "", H::OrganizationId)?),
        user_id: UserId::new(get(row, "", H::UserId)?),
        role: role_of(&get::<String>(row, "", H::Role)?)?,
        zones: decode_zones(&get::<String>(row, "", H::Zones)?)?,
        status: MembershipStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
        expires_at: opt_time_of(row, "", H::ExpiresAt)?,
        valid_from: time_of(row, "", H::ValidFrom)?,
        valid_to: opt_time_of(row, "", H::ValidTo)?,
        changed_by: get::<Option<i64>>(row, "", H::ChangedBy)?.map(UserId::new),
        invitation_id: get::<Option<Uuid>>(row, "", H::InvitationId)?.map(organizations::InvitationId::from_uuid),
        cause: HistoryCause::parse(&cause).ok_or_else(|| anyhow!("unknown cause {cause:?}"))?,
    })
}

/// A block row joined with its user's `display_name` and `email`.
pub(crate) fn block(row: &QueryResult) -> anyhow::Result<Block> {
    Ok(Block {
        user_id: UserId::new(get(row, "", B::UserId)?),
        display_name: get(row, "", users::Column::DisplayName)?,
        email: get(row, "", users::Column::Email)?,
        blocked_by: UserId::new(get(row, "", B::BlockedBy)?),
        blocked_at: time_of(row, "", B::BlockedAt)?,
    })
}

/// A user's id and whether its e-mail is verified.
pub(crate) fn account((id, email_verified): (i64, bool)) -> Account {
    Account { user_id: UserId::new(id), email_verified }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_round_trip_through_their_stored_form() {
        let zones = vec![ZoneId::new(), ZoneId::new()];
        assert_eq!(decode_zones(&encode_zones(&zones)).unwrap(), zones);
        assert_eq!(decode_zones("").unwrap(), Vec::<ZoneId>::new());
    }
}
