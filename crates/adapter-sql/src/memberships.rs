//! Shared pieces of the organization and invitation repositories: raw
//! statements on either backend, row mapping, and the executor of the
//! model's membership plans and guards, always inside the caller's
//! transaction. Nothing here decides: every value compared or written
//! (statuses, roles, instants, limits) comes from the plan.

use crate::database::violates_unique;
use anyhow::{Context as _, anyhow};
use invitations::{
    Counter, Effect, EndReason, Guard, HistoryCause, HistoryNote, InvitationStatus, Membership, MembershipHistory,
    MembershipId, MembershipPlan, MembershipStatus, MembershipWrite, Organization, OrganizationId, Quota, WriteError,
    ZoneId,
};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, QueryResult, Statement, Value};
use shared_kernel::{OrgRole, UserId, truncate_to_micros};
use std::collections::HashMap;
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

/// `$first, $first+1, …` for `n` values.
pub(crate) fn list_of(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// ` FOR SHARE` on PostgreSQL (SQLite's `BEGIN IMMEDIATE` already serialises writers).
fn for_share(backend: DatabaseBackend) -> &'static str {
    if backend == DatabaseBackend::Postgres { " FOR SHARE" } else { "" }
}

/// The comma-joined zones text of the legacy `memberships.zones` mirror and
/// of history rows ("" = the whole organization).
pub(crate) fn encode_zones(zones: &[ZoneId]) -> String {
    zones.iter().map(ZoneId::to_string).collect::<Vec<_>>().join(",")
}

fn decode_zones(raw: &str) -> anyhow::Result<Vec<ZoneId>> {
    raw.split(',').filter(|s| !s.is_empty()).map(|s| s.parse().with_context(|| format!("zone id {s:?}"))).collect()
}

fn get<T: sea_orm::TryGetable>(row: &QueryResult, pre: &str, col: &str) -> anyhow::Result<T> {
    row.try_get::<T>(pre, col).with_context(|| format!("reading column {pre}{col}"))
}

pub(crate) fn time_of(row: &QueryResult, pre: &str, col: &str) -> anyhow::Result<OffsetDateTime> {
    get::<OffsetDateTime>(row, pre, col).map(truncate_to_micros)
}

pub(crate) fn opt_time_of(row: &QueryResult, pre: &str, col: &str) -> anyhow::Result<Option<OffsetDateTime>> {
    Ok(get::<Option<OffsetDateTime>>(row, pre, col)?.map(truncate_to_micros))
}

pub(crate) fn role_of(raw: &str) -> anyhow::Result<OrgRole> {
    raw.parse::<OrgRole>().map_err(|_| anyhow!("unknown role {raw:?}"))
}

/// The membership columns, aliased `m`.
pub(crate) const MEMBER_COLUMNS: &str = "m.id, m.organization_id, m.user_id, m.role, m.status, m.expires_at, \
     m.invitation_id, m.joined_at, m.ended_at, m.end_reason, m.version";

/// The membership columns under `pre`, without its zones (see [`with_zones`]).
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
            zones: Vec::new(),
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

/// Fills in the zones of `memberships` from `membership_zones`, in one query.
pub(crate) async fn with_zones<C: ConnectionTrait>(c: &C, memberships: &mut [Membership]) -> anyhow::Result<()> {
    if memberships.is_empty() {
        return Ok(());
    }
    let ids: Vec<Value> = memberships.iter().map(|m| m.id.as_uuid().into()).collect();
    let rows = all(
        c,
        &format!(
            "SELECT membership_id, zone_id FROM membership_zones WHERE membership_id IN ({}) ORDER BY zone_id",
            list_of(1, ids.len())
        ),
        ids,
    )
    .await
    .context("loading membership zones")?;
    let mut zones: HashMap<Uuid, Vec<ZoneId>> = HashMap::new();
    for row in &rows {
        let membership: Uuid = get(row, "", "membership_id")?;
        zones.entry(membership).or_default().push(ZoneId::from_uuid(get(row, "", "zone_id")?));
    }
    for m in memberships.iter_mut() {
        let mut z = zones.remove(&m.id.as_uuid()).unwrap_or_default();
        z.sort();
        m.zones = z;
    }
    Ok(())
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

/// The organization columns, aliased `o` and prefixed `o_`.
pub(crate) const ORGANIZATION_COLUMNS: &str = "o.id AS o_id, o.name AS o_name, o.slug AS o_slug, \
     o.logo_url AS o_logo_url, o.created_by AS o_created_by, o.created_at AS o_created_at, o.updated_at AS o_updated_at";

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
        invitation_id: get::<Option<Uuid>>(row, "", "invitation_id")?.map(invitations::InvitationId::from_uuid),
        cause: HistoryCause::parse(&cause).ok_or_else(|| anyhow!("unknown cause {cause:?}"))?,
    })
}

/// Whether a failed statement lost a race PostgreSQL resolved by aborting
/// it (deadlock detected, serialization failure): the use case reads again.
fn lost_race(e: &DbErr) -> bool {
    let sqlx = match e {
        DbErr::Exec(sea_orm::RuntimeErr::SqlxError(e)) | DbErr::Query(sea_orm::RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Database(db) => db.code().is_some_and(|c| c == "40P01" || c == "40001"),
        _ => false,
    }
}

/// A failed statement as a write error: a lost race is a `Conflict`,
/// anything else unexpected with `what` as context.
pub(crate) fn failed(e: DbErr, what: &'static str) -> WriteError {
    if lost_race(&e) { WriteError::Conflict } else { WriteError::Unexpected(anyhow::Error::new(e).context(what)) }
}

/// Carries out `plans` in order inside `txn` (see the `invitations::ports`
/// contract): guards before, the write with its zones and history row,
/// `Remains` guards after, then the effects.
pub(crate) async fn execute<C: ConnectionTrait>(txn: &C, plans: &[MembershipPlan]) -> Result<(), WriteError> {
    for plan in plans {
        execute_one(txn, plan).await?;
    }
    Ok(())
}

async fn execute_one<C: ConnectionTrait>(txn: &C, plan: &MembershipPlan) -> Result<(), WriteError> {
    for guard in &plan.guards {
        match guard {
            // Serialises every change that must leave someone holding a role.
            Guard::Remains { organization_id, .. } => lock_organization(txn, *organization_id).await?,
            other => check(txn, other).await?,
        }
    }
    let m = plan.membership();
    match &plan.write {
        MembershipWrite::Insert(m) => insert_membership(txn, m).await?,
        MembershipWrite::Update(next) => {
            if !update_membership(txn, next).await? {
                return Err(WriteError::Conflict);
            }
        }
    }
    write_history(txn, m, &plan.history).await?;
    for guard in &plan.guards {
        if let Guard::Remains { organization_id, role } = guard {
            let row = one(
                txn,
                "SELECT COUNT(*) AS holders FROM memberships WHERE organization_id = $1 AND role = $2 \
                 AND status = $3 AND expires_at IS NULL",
                vec![organization_id.as_uuid().into(), role.as_str().into(), MembershipStatus::Active.as_str().into()],
            )
            .await
            .map_err(|e| failed(e, "counting the holders of a role"))?;
            let holders: i64 =
                row.map(|r| r.try_get("", "holders")).transpose().context("reading a count")?.unwrap_or(0);
            if holders == 0 {
                return Err(WriteError::LastAdmin);
            }
        }
    }
    for effect in &plan.effects {
        carry_out(txn, effect, plan.history.at).await?;
    }
    Ok(())
}

/// Locks the organization row until the transaction ends (PostgreSQL; a
/// no-op update, so SQLite just runs it inside its already exclusive transaction).
pub(crate) async fn lock_organization<C: ConnectionTrait>(txn: &C, org: OrganizationId) -> Result<(), WriteError> {
    exec(txn, "UPDATE organizations SET updated_at = updated_at WHERE id = $1", vec![org.as_uuid().into()])
        .await
        .map_err(|e| failed(e, "locking an organization"))?;
    Ok(())
}

/// Checks one guard other than `Remains`.
pub(crate) async fn check<C: ConnectionTrait>(txn: &C, guard: &Guard) -> Result<(), WriteError> {
    match guard {
        Guard::Remains { .. } => Ok(()),
        Guard::Unchanged { membership_id, version } => {
            let sql = format!(
                "SELECT id FROM memberships WHERE id = $1 AND version = $2 AND status = $3{}",
                for_share(txn.get_database_backend())
            );
            let row = one(
                txn,
                &sql,
                vec![membership_id.as_uuid().into(), (*version).into(), MembershipStatus::Active.as_str().into()],
            )
            .await
            .map_err(|e| failed(e, "re-reading a membership"))?;
            if row.is_some() { Ok(()) } else { Err(WriteError::Conflict) }
        }
        Guard::NotBlocked { organization_id, user_id } => {
            let row = one(
                txn,
                "SELECT user_id FROM organization_blocks WHERE organization_id = $1 AND user_id = $2",
                vec![organization_id.as_uuid().into(), user_id.get().into()],
            )
            .await
            .map_err(|e| failed(e, "checking a block"))?;
            if row.is_some() { Err(WriteError::Blocked) } else { Ok(()) }
        }
        Guard::Quota(quota) => check_quota(txn, quota).await,
    }
}

/// Counts a quota's rows under a lock on its counter.
async fn check_quota<C: ConnectionTrait>(txn: &C, quota: &Quota) -> Result<(), WriteError> {
    if txn.get_database_backend() == DatabaseBackend::Postgres {
        exec(txn, "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", vec![quota.counter.key().into()])
            .await
            .map_err(|e| failed(e, "locking a quota"))?;
    }
    let since = quota.since();
    let (sql, values): (&str, Vec<Value>) = match &quota.counter {
        Counter::OrganizationsCreatedBy(user) => (
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM organizations WHERE created_by = $1 AND created_at > $2",
            vec![user.get().into(), since.into()],
        ),
        Counter::MailsOfOrganization(org) => (
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM invitation_outbox \
             WHERE organization_id = $1 AND created_at > $2",
            vec![org.as_uuid().into(), since.into()],
        ),
        Counter::MailsTo(email) => (
            "SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM invitation_outbox WHERE recipient = $1 AND created_at > $2",
            vec![email.as_str().into(), since.into()],
        ),
        Counter::PendingInvitations(org) => (
            "SELECT COUNT(*) AS n, MIN(expires_at) AS oldest FROM invitations \
             WHERE organization_id = $1 AND status = $2 AND expires_at > $3",
            vec![org.as_uuid().into(), InvitationStatus::Pending.as_str().into(), quota.now.into()],
        ),
    };
    let row = one(txn, sql, values).await.map_err(|e| failed(e, "counting a quota"))?;
    let Some(row) = row else { return Ok(()) };
    let n: i64 = row.try_get("", "n").context("reading a quota count")?;
    if quota.admits(u64::try_from(n).unwrap_or(0)) {
        return Ok(());
    }
    let oldest = opt_time_of(&row, "", "oldest")?;
    Err(WriteError::Quota(quota.exceeded(oldest)))
}

/// Inserts a new membership with its zones.
async fn insert_membership<C: ConnectionTrait>(c: &C, m: &Membership) -> Result<(), WriteError> {
    let inserted = exec(
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
            Value::from(m.expires_at),
            m.invitation_id.map(|i| i.as_uuid()).into(),
            m.joined_at.into(),
            Value::from(m.ended_at),
            m.end_reason.map(|r| r.as_str().to_owned()).into(),
            m.version.into(),
        ],
    )
    .await;
    match inserted {
        Ok(_) => {}
        // The same user joined concurrently (another invitation, an appointment).
        Err(e) if violates_unique(&e, "memberships_one_active", "memberships.organization_id") => {
            return Err(WriteError::Conflict);
        }
        Err(e) => return Err(failed(e, "inserting a membership")),
    }
    write_zones(c, m).await
}

/// Writes `next` over version `next.version - 1` of a stored-active row;
/// `false` (nothing written) if the stored version moved.
async fn update_membership<C: ConnectionTrait>(c: &C, next: &Membership) -> Result<bool, WriteError> {
    let changed = exec(
        c,
        "UPDATE memberships SET role = $1, zones = $2, status = $3, expires_at = $4, ended_at = $5, \
         end_reason = $6, version = $7 WHERE id = $8 AND version = $9 AND status = $10",
        vec![
            next.role.as_str().into(),
            encode_zones(&next.zones).into(),
            next.status.as_str().into(),
            Value::from(next.expires_at),
            Value::from(next.ended_at),
            next.end_reason.map(|r| r.as_str().to_owned()).into(),
            next.version.into(),
            next.id.as_uuid().into(),
            (next.version - 1).into(),
            MembershipStatus::Active.as_str().into(),
        ],
    )
    .await
    .map_err(|e| failed(e, "updating a membership"))?;
    if changed != 1 {
        return Ok(false);
    }
    exec(c, "DELETE FROM membership_zones WHERE membership_id = $1", vec![next.id.as_uuid().into()])
        .await
        .map_err(|e| failed(e, "replacing a membership's zones"))?;
    write_zones(c, next).await?;
    Ok(true)
}

async fn write_zones<C: ConnectionTrait>(c: &C, m: &Membership) -> Result<(), WriteError> {
    for zone in &m.zones {
        exec(
            c,
            "INSERT INTO membership_zones (membership_id, zone_id) VALUES ($1, $2)",
            vec![m.id.as_uuid().into(), zone.as_uuid().into()],
        )
        .await
        .map_err(|e| failed(e, "writing a membership's zones"))?;
    }
    Ok(())
}

/// Closes the current history row of the membership and opens one for `m`.
async fn write_history<C: ConnectionTrait>(c: &C, m: &Membership, note: &HistoryNote) -> Result<(), WriteError> {
    exec(
        c,
        "UPDATE membership_history SET valid_to = $1 WHERE membership_id = $2 AND valid_to IS NULL",
        vec![note.at.into(), m.id.as_uuid().into()],
    )
    .await
    .map_err(|e| failed(e, "closing a history row"))?;
    exec(
        c,
        "INSERT INTO membership_history (membership_id, organization_id, user_id, role, zones, status, expires_at, \
         valid_from, valid_to, changed_by, cause, invitation_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10, $11)",
        vec![
            m.id.as_uuid().into(),
            m.organization_id.as_uuid().into(),
            m.user_id.get().into(),
            m.role.as_str().into(),
            encode_zones(&m.zones).into(),
            m.status.as_str().into(),
            Value::from(m.expires_at),
            note.at.into(),
            note.changed_by.map(UserId::get).into(),
            note.cause.as_str().into(),
            note.invitation_id.map(|i| i.as_uuid()).into(),
        ],
    )
    .await
    .map_err(|e| failed(e, "writing a history row"))?;
    Ok(())
}

/// Carries out one effect.
async fn carry_out<C: ConnectionTrait>(c: &C, effect: &Effect, at: OffsetDateTime) -> Result<(), WriteError> {
    match effect {
        Effect::RevokeInvitations { organization_id, created_by, keep, at } => {
            let mut values: Vec<Value> = vec![
                InvitationStatus::Revoked.as_str().into(),
                (*at).into(),
                organization_id.as_uuid().into(),
                created_by.get().into(),
                InvitationStatus::Pending.as_str().into(),
            ];
            let mut sql = "UPDATE invitations SET status = $1, version = version + 1, updated_at = $2 \
                           WHERE organization_id = $3 AND created_by = $4 AND status = $5"
                .to_owned();
            if let Some(keep) = keep.as_ref().filter(|k| !k.roles.is_empty()) {
                let roles = list_of(values.len() + 1, keep.roles.len());
                values.extend(keep.roles.iter().map(|r| Value::from(r.as_str())));
                let zones = match &keep.zones {
                    None => "TRUE".to_owned(),
                    Some(zones) => {
                        let list = list_of(values.len() + 1, zones.len());
                        values.extend(zones.iter().map(|z| Value::from(z.as_uuid())));
                        format!("zone_id IN ({list})")
                    }
                };
                sql.push_str(&format!(" AND NOT (role IN ({roles}) AND {zones})"));
            }
            exec(c, &sql, values).await.map_err(|e| failed(e, "revoking invitations"))?;
        }
        Effect::ClearCurrent { user_id, organization_id } => {
            exec(
                c,
                "UPDATE users SET current_organization_id = NULL, updated_at = $1 \
                 WHERE id = $2 AND current_organization_id = $3",
                vec![at.into(), user_id.get().into(), organization_id.as_uuid().into()],
            )
            .await
            .map_err(|e| failed(e, "clearing a current organization"))?;
        }
        Effect::Block { organization_id, user_id, blocked_by, at } => {
            exec(
                c,
                "INSERT INTO organization_blocks (organization_id, user_id, blocked_by, blocked_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (organization_id, user_id) DO NOTHING",
                vec![organization_id.as_uuid().into(), user_id.get().into(), blocked_by.get().into(), (*at).into()],
            )
            .await
            .map_err(|e| failed(e, "blocking a user"))?;
        }
    }
    Ok(())
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
