//! Shared pieces of the organization and invitation repositories: raw
//! statements on either backend, row mapping, and membership writes that
//! always add a history row in the caller's transaction.

use anyhow::{Context as _, anyhow};
use invitations::{
    EndReason, HistoryCause, Membership, MembershipHistory, MembershipId, MembershipStatus, Organization,
    OrganizationId, ZoneId,
};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};
use shared_kernel::{OrgRole, UserId, truncate_to_micros};
use time::OffsetDateTime;
use uuid::Uuid;

/// `$n` placeholders as the backend wants them (`?n` on SQLite).
pub(crate) fn placeholders(backend: DatabaseBackend, sql: &str) -> String {
    match backend {
        DatabaseBackend::Sqlite => sql.replace('$', "?"),
        _ => sql.to_owned(),
    }
}

fn statement<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Statement {
    let backend = c.get_database_backend();
    Statement::from_sql_and_values(backend, placeholders(backend, sql), values)
}

/// Runs a statement; how many rows it changed.
pub(crate) async fn exec<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<u64, DbErr> {
    Ok(c.execute_raw(statement(c, sql, values)).await?.rows_affected())
}

/// Every row of a query.
pub(crate) async fn all<C: ConnectionTrait>(c: &C, sql: &str, values: Vec<Value>) -> Result<Vec<QueryResult>, DbErr> {
    c.query_all_raw(statement(c, sql, values)).await
}

/// The first row of a query.
pub(crate) async fn one<C: ConnectionTrait>(
    c: &C,
    sql: &str,
    values: Vec<Value>,
) -> Result<Option<QueryResult>, DbErr> {
    c.query_one_raw(statement(c, sql, values)).await
}

/// A nullable time as a bindable value.
pub(crate) fn time_value(t: Option<OffsetDateTime>) -> Value {
    Value::from(t)
}

/// Zones are stored as comma-separated UUIDs ("" = the whole organization).
pub(crate) fn encode_zones(zones: &[ZoneId]) -> String {
    zones.iter().map(ZoneId::to_string).collect::<Vec<_>>().join(",")
}

fn decode_zones(raw: &str) -> anyhow::Result<Vec<ZoneId>> {
    raw.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().with_context(|| format!("zone id {s:?}"))).collect()
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, pre: &str, col: &str) -> anyhow::Result<T> {
    row.try_get::<T>(pre, col).with_context(|| format!("reading column {pre}{col}"))
}

fn time_of(row: &QueryResult, pre: &str, col: &str) -> anyhow::Result<OffsetDateTime> {
    get::<OffsetDateTime>(row, pre, col).map(truncate_to_micros)
}

fn opt_time_of(row: &QueryResult, pre: &str, col: &str) -> anyhow::Result<Option<OffsetDateTime>> {
    Ok(get::<Option<OffsetDateTime>>(row, pre, col)?.map(truncate_to_micros))
}

pub(crate) fn role_of(raw: &str) -> anyhow::Result<OrgRole> {
    raw.parse::<OrgRole>().map_err(|_| anyhow!("unknown role {raw:?}"))
}

/// The membership columns under `pre`.
pub(crate) fn membership(row: &QueryResult, pre: &str) -> anyhow::Result<Membership> {
    let id: Uuid = get(row, pre, "id")?;
    let read = || -> anyhow::Result<Membership> {
        let status: String = get(row, pre, "status")?;
        let end_reason: Option<String> = get(row, pre, "end_reason")?;
        Ok(Membership {
            id: MembershipId::from_uuid(id),
            organization_id: OrganizationId::from_uuid(get(row, pre, "organization_id")?),
            user_id: UserId::new(get(row, pre, "user_id")?),
            role: role_of(&get::<String>(row, pre, "role")?)?,
            zones: decode_zones(&get::<String>(row, pre, "zones")?)?,
            status: MembershipStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
            expires_at: opt_time_of(row, pre, "expires_at")?,
            invitation_id: get::<Option<Uuid>>(row, pre, "invitation_id")?.map(invitations::InvitationId::from_uuid),
            joined_at: time_of(row, pre, "joined_at")?,
            ended_at: opt_time_of(row, pre, "ended_at")?,
            end_reason: end_reason
                .map(|r| EndReason::parse(&r).ok_or_else(|| anyhow!("unknown end reason {r:?}")))
                .transpose()?,
            version: get(row, pre, "version")?,
        })
    };
    read().with_context(|| format!("reading membership {id}"))
}

/// The organization columns under `pre`.
pub(crate) fn organization(row: &QueryResult, pre: &str) -> anyhow::Result<Organization> {
    Ok(Organization {
        id: OrganizationId::from_uuid(get(row, pre, "id")?),
        name: get(row, pre, "name")?,
        slug: get(row, pre, "slug")?,
        logo_url: get(row, pre, "logo_url")?,
        created_by: UserId::new(get(row, pre, "created_by")?),
        created_at: time_of(row, pre, "created_at")?,
        updated_at: time_of(row, pre, "updated_at")?,
    })
}

/// A history row.
pub(crate) fn history(row: &QueryResult) -> anyhow::Result<MembershipHistory> {
    let status: String = get(row, "", "status")?;
    let cause: String = get(row, "", "cause")?;
    Ok(MembershipHistory {
        membership_id: MembershipId::from_uuid(get(row, "", "membership_id")?),
        organization_id: OrganizationId::from_uuid(get(row, "", "organization_id")?),
        user_id: UserId::new(get(row, "", "user_id")?),
        role: role_of(&get::<String>(row, "", "role")?)?,
        zones: decode_zones(&get::<String>(row, "", "zones")?)?,
        status: MembershipStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
        expires_at: opt_time_of(row, "", "expires_at")?,
        valid_from: time_of(row, "", "valid_from")?,
        valid_to: opt_time_of(row, "", "valid_to")?,
        changed_by: get::<Option<i64>>(row, "", "changed_by")?.map(UserId::new),
        cause: HistoryCause::parse(&cause).ok_or_else(|| anyhow!("unknown cause {cause:?}"))?,
    })
}

/// Inserts a new membership and its first history row.
pub(crate) async fn insert_membership<C: ConnectionTrait>(
    c: &C,
    m: &Membership,
    cause: HistoryCause,
    changed_by: Option<UserId>,
) -> Result<(), DbErr> {
    exec(
        c,
        "INSERT INTO memberships (id, organization_id, user_id, role, zones, status, expires_at, invitation_id, \
         joined_at, ended_at, end_reason, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
            m.id.as_uuid().into(),
            m.organization_id.as_uuid().into(),
            m.user_id.get().into(),
            m.role.as_str().into(),
            encode_zones(&m.zones).into(),
            m.status.as_str().into(),
            time_value(m.expires_at),
            m.invitation_id.map(|i| i.as_uuid()).into(),
            m.joined_at.into(),
            time_value(m.ended_at),
            m.end_reason.map(|r| r.as_str().to_owned()).into(),
            m.version.into(),
        ],
    )
    .await?;
    write_history(c, m, cause, changed_by, m.joined_at).await
}

/// Writes `next` over version `next.version - 1` and adds its history row;
/// `false` (nothing written) if the stored version moved.
pub(crate) async fn update_membership_row<C: ConnectionTrait>(
    c: &C,
    next: &Membership,
    cause: HistoryCause,
    changed_by: Option<UserId>,
    now: OffsetDateTime,
) -> Result<bool, DbErr> {
    let changed = exec(
        c,
        "UPDATE memberships SET role = $1, zones = $2, status = $3, expires_at = $4, ended_at = $5, \
         end_reason = $6, version = $7 WHERE id = $8 AND version = $9 AND status = 'active'",
        vec![
            next.role.as_str().into(),
            encode_zones(&next.zones).into(),
            next.status.as_str().into(),
            time_value(next.expires_at),
            time_value(next.ended_at),
            next.end_reason.map(|r| r.as_str().to_owned()).into(),
            next.version.into(),
            next.id.as_uuid().into(),
            (next.version - 1).into(),
        ],
    )
    .await?;
    if changed != 1 {
        return Ok(false);
    }
    write_history(c, next, cause, changed_by, now).await?;
    Ok(true)
}

/// Closes the current history row of the membership and opens one for `m`.
async fn write_history<C: ConnectionTrait>(
    c: &C,
    m: &Membership,
    cause: HistoryCause,
    changed_by: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE membership_history SET valid_to = $1 WHERE membership_id = $2 AND valid_to IS NULL",
        vec![now.into(), m.id.as_uuid().into()],
    )
    .await?;
    exec(
        c,
        "INSERT INTO membership_history (membership_id, organization_id, user_id, role, zones, status, expires_at, \
         valid_from, valid_to, changed_by, cause) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10)",
        vec![
            m.id.as_uuid().into(),
            m.organization_id.as_uuid().into(),
            m.user_id.get().into(),
            m.role.as_str().into(),
            encode_zones(&m.zones).into(),
            m.status.as_str().into(),
            time_value(m.expires_at),
            now.into(),
            changed_by.map(UserId::get).into(),
            cause.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// What ending a membership also does: revokes the pending invitations the
/// member created in that organization and clears their current
/// organization if it was this one.
pub(crate) async fn after_end<C: ConnectionTrait>(c: &C, m: &Membership, now: OffsetDateTime) -> Result<(), DbErr> {
    exec(
        c,
        "UPDATE invitations SET status = 'revoked', version = version + 1, updated_at = $1 \
         WHERE organization_id = $2 AND created_by = $3 AND status = 'pending'",
        vec![now.into(), m.organization_id.as_uuid().into(), m.user_id.get().into()],
    )
    .await?;
    exec(
        c,
        "UPDATE users SET current_organization_id = NULL, updated_at = $1 \
         WHERE id = $2 AND current_organization_id = $3",
        vec![now.into(), m.user_id.get().into(), m.organization_id.as_uuid().into()],
    )
    .await?;
    Ok(())
}

/// What demoting a member also does: revokes the pending invitations they
/// created in that organization for roles their new role may not grant
/// (`invitations::may_grant`), so that a link never grants more than its
/// creator still may. A moderator made a member loses every pending link; an
/// admin made a moderator keeps only links for guests and members.
pub(crate) async fn after_demotion<C: ConnectionTrait>(
    c: &C,
    m: &Membership,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let beyond: Vec<&str> =
        OrgRole::ALL.into_iter().filter(|r| !invitations::may_grant(m.role, *r)).map(OrgRole::as_str).collect();
    if beyond.is_empty() {
        return Ok(());
    }
    let list = (0..beyond.len()).map(|i| format!("${}", i + 4)).collect::<Vec<_>>().join(", ");
    let mut values: Vec<Value> = vec![now.into(), m.organization_id.as_uuid().into(), m.user_id.get().into()];
    values.extend(beyond.into_iter().map(Value::from));
    exec(
        c,
        &format!(
            "UPDATE invitations SET status = 'revoked', version = version + 1, updated_at = $1 \
             WHERE organization_id = $2 AND created_by = $3 AND status = 'pending' AND role IN ({list})"
        ),
        values,
    )
    .await?;
    Ok(())
}

/// `WHERE` fragment: the membership aliased `m` grants at `$n`.
pub(crate) fn granting(param: usize) -> String {
    format!("m.status = 'active' AND (m.expires_at IS NULL OR m.expires_at > ${param})")
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
