//! The executor of the model's membership plans and guards, shared by the
//! organization and invitation repositories, always inside the caller's
//! transaction, and loading a membership's zones. Nothing here decides:
//! every value compared or written (statuses, roles, instants, limits)
//! comes from the plan.

use crate::backend::{self, violates_unique};
use crate::entities::users;
use crate::mapping::{self, encode_zones, opt_time_of};
use crate::schema::{
    InvitationOutbox, Invitations, MembershipHistory, MembershipZones, Memberships, OrganizationBlocks, Organizations,
};
use anyhow::Context as _;
use organizations::{
    Counter, Effect, Guard, InvitationStatus, Membership, MembershipPlan, MembershipStatus, MembershipWrite,
    OrganizationId, Quota, Revocation, WriteError, ZoneId,
};
use sea_orm::sea_query::{Expr, ExprTrait as _, IntoColumnRef, OnConflict, Order, Query};
use sea_orm::{ColumnTrait as _, ConnectionTrait, DbErr, EntityTrait as _, QueryFilter as _, Value};
use shared_kernel::{Event, UserId};
use std::collections::HashMap;
use time::OffsetDateTime;
use uuid::Uuid;

/// Fills in the zones of `memberships` from `membership_zones`, in one query.
pub(crate) async fn with_zones<C: ConnectionTrait>(c: &C, memberships: &mut [Membership]) -> anyhow::Result<()> {
    if memberships.is_empty() {
        return Ok(());
    }
    let rows = c
        .query_all(
            Query::select()
                .columns([MembershipZones::MembershipId, MembershipZones::ZoneId])
                .from(MembershipZones::Table)
                .and_where(Expr::col(MembershipZones::MembershipId).is_in(memberships.iter().map(|m| m.id.as_uuid())))
                .order_by(MembershipZones::ZoneId, Order::Asc),
        )
        .await
        .context("loading membership zones")?;
    let mut zones: HashMap<Uuid, Vec<ZoneId>> = HashMap::new();
    for row in &rows {
        let membership: Uuid = mapping::get(row, "", MembershipZones::MembershipId)?;
        let zone: Uuid = mapping::get(row, "", MembershipZones::ZoneId)?;
        zones.entry(membership).or_default().push(ZoneId::from_uuid(zone));
    }
    for m in memberships.iter_mut() {
        let mut z = zones.remove(&m.id.as_uuid()).unwrap_or_default();
        z.sort();
        m.zones = z;
    }
    Ok(())
}

/// `status = 'active'`, the status written into the statement instead of
/// bound: the partial indexes on active memberships (`memberships_one_active`
/// on organization and user, `memberships_due_idx` on expiry) serve a
/// prepared statement's generic plan only when the planner can see that its
/// predicate holds. Bound, an `(organization, user)` lookup was planned over
/// every member of the organization.
pub(crate) fn stored_active(column: impl IntoColumnRef) -> Expr {
    Expr::col(column).eq(Expr::Constant(MembershipStatus::Active.as_str().into()))
}

/// A failed statement as a write error: a lost race is a `Conflict`,
/// anything else unexpected with `what` as context.
pub(crate) fn failed(e: DbErr, what: &'static str) -> WriteError {
    if backend::lost_race(&e) {
        WriteError::Conflict
    } else {
        WriteError::Unexpected(anyhow::Error::new(e).context(what))
    }
}

/// Carries out `plans` in order inside `txn` (see the `organizations::ports`
/// contract): guards before, the write with its zones and history row,
/// `Remains` guards after, then the effects. Answers the events of the
/// effects (invitations revoked), which follow the plans' own events.
pub(crate) async fn execute<C: ConnectionTrait>(txn: &C, plans: &[MembershipPlan]) -> Result<Vec<Event>, WriteError> {
    let mut side = Vec::new();
    for plan in plans {
        side.extend(execute_one(txn, plan).await?);
    }
    Ok(side)
}

async fn execute_one<C: ConnectionTrait>(txn: &C, plan: &MembershipPlan) -> Result<Vec<Event>, WriteError> {
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
            let holders = Query::select()
                .expr_as(Expr::col(Memberships::Id).count(), "holders")
                .from(Memberships::Table)
                .and_where(Expr::col(Memberships::OrganizationId).eq(organization_id.as_uuid()))
                .and_where(Expr::col(Memberships::Role).eq(role.as_str()))
                .and_where(Expr::col(Memberships::Status).eq(MembershipStatus::Active.as_str()))
                .and_where(Expr::col(Memberships::ExpiresAt).is_null())
                .to_owned();
            let row = txn.query_one(&holders).await.map_err(|e| failed(e, "counting the holders of a role"))?;
            let holders: i64 =
                row.map(|r| r.try_get("", "holders")).transpose().context("reading a count")?.unwrap_or(0);
            if holders == 0 {
                return Err(WriteError::LastAdmin);
            }
        }
    }
    let mut side = Vec::new();
    for effect in &plan.effects {
        side.extend(carry_out(txn, effect, plan.history.at).await?);
    }
    Ok(side)
}

/// Locks the organization row until the transaction ends (PostgreSQL; a
/// no-op update, so SQLite just runs it inside its already exclusive transaction).
pub(crate) async fn lock_organization<C: ConnectionTrait>(txn: &C, org: OrganizationId) -> Result<(), WriteError> {
    let touch = Query::update()
        .table(Organizations::Table)
        .value(Organizations::UpdatedAt, Expr::col(Organizations::UpdatedAt))
        .and_where(Expr::col(Organizations::Id).eq(org.as_uuid()))
        .to_owned();
    txn.execute(&touch).await.map_err(|e| failed(e, "locking an organization"))?;
    Ok(())
}

/// Checks one guard other than `Remains`.
pub(crate) async fn check<C: ConnectionTrait>(txn: &C, guard: &Guard) -> Result<(), WriteError> {
    match guard {
        Guard::Remains { .. } => Ok(()),
        Guard::Unchanged { membership_id, version } => {
            let mut unchanged = Query::select();
            unchanged
                .column(Memberships::Id)
                .from(Memberships::Table)
                .and_where(Expr::col(Memberships::Id).eq(membership_id.as_uuid()))
                .and_where(Expr::col(Memberships::Version).eq(*version))
                .and_where(Expr::col(Memberships::Status).eq(MembershipStatus::Active.as_str()));
            backend::for_share(&mut unchanged);
            let row = txn.query_one(&unchanged).await.map_err(|e| failed(e, "re-reading a membership"))?;
            if row.is_some() { Ok(()) } else { Err(WriteError::Conflict) }
        }
        Guard::NotBlocked { organization_id, user_id } => {
            let blocked = Query::select()
                .column(OrganizationBlocks::UserId)
                .from(OrganizationBlocks::Table)
                .and_where(Expr::col(OrganizationBlocks::OrganizationId).eq(organization_id.as_uuid()))
                .and_where(Expr::col(OrganizationBlocks::UserId).eq(user_id.get()))
                .to_owned();
            let row = txn.query_one(&blocked).await.map_err(|e| failed(e, "checking a block"))?;
            if row.is_some() { Err(WriteError::Blocked) } else { Ok(()) }
        }
        Guard::Quota(quota) => check_quota(txn, quota).await,
    }
}

/// Counts a quota's rows under a lock on its counter.
async fn check_quota<C: ConnectionTrait>(txn: &C, quota: &Quota) -> Result<(), WriteError> {
    backend::advisory_xact_lock(txn, &quota.counter.key()).await.map_err(|e| failed(e, "locking a quota"))?;
    let since = quota.since();
    let mut count = Query::select();
    match &quota.counter {
        Counter::OrganizationsCreatedBy(user) => count
            .expr_as(Expr::col(Organizations::Id).count(), "n")
            .expr_as(Expr::col(Organizations::CreatedAt).min(), "oldest")
            .from(Organizations::Table)
            .and_where(Expr::col(Organizations::CreatedBy).eq(user.get()))
            .and_where(Expr::col(Organizations::CreatedAt).gt(since)),
        Counter::MailsOfOrganization(org) => count
            .expr_as(Expr::col(InvitationOutbox::Id).count(), "n")
            .expr_as(Expr::col(InvitationOutbox::CreatedAt).min(), "oldest")
            .from(InvitationOutbox::Table)
            .and_where(Expr::col(InvitationOutbox::OrganizationId).eq(org.as_uuid()))
            .and_where(Expr::col(InvitationOutbox::CreatedAt).gt(since)),
        Counter::MailsTo(email) => count
            .expr_as(Expr::col(InvitationOutbox::Id).count(), "n")
            .expr_as(Expr::col(InvitationOutbox::CreatedAt).min(), "oldest")
            .from(InvitationOutbox::Table)
            .and_where(Expr::col(InvitationOutbox::Recipient).eq(email.as_str()))
            .and_where(Expr::col(InvitationOutbox::CreatedAt).gt(since)),
        Counter::PendingInvitations(org) => count
            .expr_as(Expr::col(Invitations::Id).count(), "n")
            .expr_as(Expr::col(Invitations::ExpiresAt).min(), "oldest")
            .from(Invitations::Table)
            .and_where(Expr::col(Invitations::OrganizationId).eq(org.as_uuid()))
            .and_where(Expr::col(Invitations::Status).eq(InvitationStatus::Pending.as_str()))
            .and_where(Expr::col(Invitations::ExpiresAt).gt(quota.now)),
    };
    let row = txn.query_one(&count).await.map_err(|e| failed(e, "counting a quota"))?;
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
    use Memberships as M;
    let values: [Value; 11] = [
        m.id.as_uuid().into(),
        m.organization_id.as_uuid().into(),
        m.user_id.get().into(),
        m.role.as_str().into(),
        m.status.as_str().into(),
        m.expires_at.into(),
        m.invitation_id.map(|i| i.as_uuid()).into(),
        m.joined_at.into(),
        m.ended_at.into(),
        m.end_reason.map(|r| r.as_str().to_owned()).into(),
        m.version.into(),
    ];
    let insert = Query::insert()
        .into_table(M::Table)
        .columns([
            M::Id,
            M::OrganizationId,
            M::UserId,
            M::Role,
            M::Status,
            M::ExpiresAt,
            M::InvitationId,
            M::JoinedAt,
            M::EndedAt,
            M::EndReason,
            M::Version,
        ])
        // As many values as columns, so this cannot panic.
        .values_panic(values.map(Expr::val))
        .to_owned();
    match c.execute(&insert).await {
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
    use Memberships as M;
    let update = Query::update()
        .table(M::Table)
        .value(M::Role, next.role.as_str())
        .value(M::Status, next.status.as_str())
        .value(M::ExpiresAt, next.expires_at)
        .value(M::EndedAt, next.ended_at)
        .value(M::EndReason, next.end_reason.map(|r| r.as_str().to_owned()))
        .value(M::Version, next.version)
        .and_where(Expr::col(M::Id).eq(next.id.as_uuid()))
        .and_where(Expr::col(M::Version).eq(next.version - 1))
        .and_where(Expr::col(M::Status).eq(MembershipStatus::Active.as_str()))
        .to_owned();
    let changed = c.execute(&update).await.map_err(|e| failed(e, "updating a membership"))?.rows_affected();
    if changed != 1 {
        return Ok(false);
    }
    let clear = Query::delete()
        .from_table(MembershipZones::Table)
        .and_where(Expr::col(MembershipZones::MembershipId).eq(next.id.as_uuid()))
        .to_owned();
    c.execute(&clear).await.map_err(|e| failed(e, "replacing a membership's zones"))?;
    write_zones(c, next).await?;
    Ok(true)
}

async fn write_zones<C: ConnectionTrait>(c: &C, m: &Membership) -> Result<(), WriteError> {
    for zone in &m.zones {
        let insert = Query::insert()
            .into_table(MembershipZones::Table)
            .columns([MembershipZones::MembershipId, MembershipZones::ZoneId])
            .values_panic([Expr::val(m.id.as_uuid()), Expr::val(zone.as_uuid())])
            .to_owned();
        c.execute(&insert).await.map_err(|e| failed(e, "writing a membership's zones"))?;
    }
    Ok(())
}

/// Closes the current history row of the membership and opens one for `m`.
async fn write_history<C: ConnectionTrait>(
    c: &C,
    m: &Membership,
    note: &organizations::HistoryNote,
) -> Result<(), WriteError> {
    use MembershipHistory as H;
    let close = Query::update()
        .table(H::Table)
        .value(H::ValidTo, note.at)
        .and_where(Expr::col(H::MembershipId).eq(m.id.as_uuid()))
        .and_where(Expr::col(H::ValidTo).is_null())
        .to_owned();
    c.execute(&close).await.map_err(|e| failed(e, "closing a history row"))?;
    let values: [Value; 11] = [
        m.id.as_uuid().into(),
        m.organization_id.as_uuid().into(),
        m.user_id.get().into(),
        m.role.as_str().into(),
        encode_zones(&m.zones).into(),
        m.status.as_str().into(),
        m.expires_at.into(),
        note.at.into(),
        note.changed_by.map(UserId::get).into(),
        note.cause.as_str().into(),
        note.invitation_id.map(|i| i.as_uuid()).into(),
    ];
    let open = Query::insert()
        .into_table(H::Table)
        .columns([
            H::MembershipId,
            H::OrganizationId,
            H::UserId,
            H::Role,
            H::Zones,
            H::Status,
            H::ExpiresAt,
            H::ValidFrom,
            H::ChangedBy,
            H::Cause,
            H::InvitationId,
        ])
        // As many values as columns, so this cannot panic; `valid_to` stays NULL.
        .values_panic(values.map(Expr::val))
        .to_owned();
    c.execute(&open).await.map_err(|e| failed(e, "writing a history row"))?;
    Ok(())
}

/// Carries out one effect; the events it adds.
async fn carry_out<C: ConnectionTrait>(c: &C, effect: &Effect, at: OffsetDateTime) -> Result<Vec<Event>, WriteError> {
    match effect {
        Effect::RevokeInvitations(revocation) => return revoke(c, revocation).await,
        Effect::ClearCurrent { user_id, organization_id } => {
            users::Entity::update_many()
                .col_expr(users::Column::CurrentOrganizationId, Expr::val(Option::<Uuid>::None))
                .col_expr(users::Column::UpdatedAt, Expr::val(at))
                .filter(users::Column::Id.eq(user_id.get()))
                .filter(users::Column::CurrentOrganizationId.eq(organization_id.as_uuid()))
                .exec(c)
                .await
                .map_err(|e| failed(e, "clearing a current organization"))?;
        }
        Effect::Block { organization_id, user_id, blocked_by, at } => {
            use OrganizationBlocks as B;
            let block = Query::insert()
                .into_table(B::Table)
                .columns([B::OrganizationId, B::UserId, B::BlockedBy, B::BlockedAt])
                .values_panic([
                    Expr::val(organization_id.as_uuid()),
                    Expr::val(user_id.get()),
                    Expr::val(blocked_by.get()),
                    Expr::val(*at),
                ])
                .on_conflict(OnConflict::columns([B::OrganizationId, B::UserId]).do_nothing().to_owned())
                .to_owned();
            c.execute(&block).await.map_err(|e| failed(e, "blocking a user"))?;
        }
    }
    Ok(Vec::new())
}

/// Revokes what `revocation` covers among its creator's pending invitations
/// in the organization, read under their row locks (after the membership's:
/// the order an accept locks them in); the `invitation.revoked` events.
async fn revoke<C: ConnectionTrait>(c: &C, revocation: &Revocation) -> Result<Vec<Event>, WriteError> {
    use Invitations as I;
    let mut pending = Query::select()
        .columns(I::ALL.map(|col| (I::Table, col)))
        .from(I::Table)
        .and_where(Expr::col(I::OrganizationId).eq(revocation.organization_id.as_uuid()))
        .and_where(Expr::col(I::CreatedBy).eq(revocation.created_by.get()))
        .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()))
        .order_by(I::CreatedAt, Order::Asc)
        .order_by(I::Id, Order::Asc)
        .to_owned();
    backend::for_update(&mut pending);
    let rows = c.query_all(&pending).await.map_err(|e| failed(e, "reading a member's pending invitations"))?;
    let mut revoked = Vec::new();
    for row in &rows {
        let invitation = mapping::invitation(row)?;
        if revocation.covers(&invitation) {
            revoked.push(revocation.revoke(&invitation));
        }
    }
    // One statement per 500: each row is locked and read above, and every
    // revoked one gets the same status, time and next version the model gave it.
    for chunk in revoked.chunks(500) {
        let Some((first, _)) = chunk.first() else { continue };
        let write = Query::update()
            .table(I::Table)
            .value(I::Status, first.status.as_str())
            .value(I::Version, Expr::col(I::Version).add(1))
            .value(I::UpdatedAt, first.updated_at)
            .and_where(Expr::col(I::Id).is_in(chunk.iter().map(|(next, _)| next.id.as_uuid())))
            .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()))
            .to_owned();
        let changed = c.execute(&write).await.map_err(|e| failed(e, "revoking invitations"))?.rows_affected();
        if changed != chunk.len() as u64 {
            return Err(WriteError::Conflict);
        }
    }
    Ok(revoked.into_iter().map(|(_, event)| event).collect())
}
