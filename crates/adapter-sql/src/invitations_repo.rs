//! `InvitationRepository` over sea-query statements on PostgreSQL and SQLite.
//!
//! Accepting is one transaction: the guards the decision relied on (the
//! creator's membership unchanged, the invitee not blocked) are checked
//! first, locking the creator's membership row before the invitation's,
//! the same order a removal takes them in; then one conditional update takes
//! a use of the invitation (pending, not used up, not expired, same token):
//! on PostgreSQL racing accepts queue on that row and every loser sees the
//! winner's count, so a link can never be used more than `max_uses` times.

use crate::database::Database;
use crate::entities::users;
use crate::events;
use crate::mapping;
use crate::memberships::{check, execute, failed};
use crate::organizations::{accounts_with, finish};
use crate::schema::{InvitationAcceptances, InvitationOutbox, Invitations, MembershipImports};
use ::organizations::{
    AcceptPlan, Acceptance, DueImport, Expiry, Guard, ImportLine, Invitation, InvitationDraft, InvitationId,
    InvitationQuery, InvitationRepository, InvitationState, InvitationStatus, InvitationUpdate, OrganizationId,
    OutboxId, OutboxMail, TokenHash, WriteError,
};
use anyhow::Context as _;
use async_trait::async_trait;
use sea_orm::sea_query::{Expr, ExprTrait as _, Func, LikeExpr, OnConflict, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};
use shared_kernel::{Cursor, EmailAddress, Event, Page, PageRequest, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// Invitations and their acceptance log in PostgreSQL or SQLite.
#[derive(Clone, Debug)]
pub struct SqlInvitationRepository {
    db: Database,
}

impl SqlInvitationRepository {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// `SELECT` of every invitation column (`mapping::invitation`), from `invitations`.
/// Statements name their columns: a `*` breaks pooled SQLite statements once
/// a migration adds a column (docs/architecture.md).
fn select_invitations() -> SelectStatement {
    Query::select().columns(Invitations::ALL.map(|c| (Invitations::Table, c))).from(Invitations::Table).to_owned()
}

/// The page of invitations `select` finds after `page`'s cursor, newest first.
async fn invitation_page<C: ConnectionTrait>(
    c: &C,
    mut select: SelectStatement,
    page: &PageRequest<Uuid>,
) -> anyhow::Result<Page<Invitation>> {
    use Invitations as I;
    if let Some(after) = page.after() {
        let id = after.id;
        select.and_where(
            Expr::tuple([Expr::col((I::Table, I::CreatedAt)), Expr::col((I::Table, I::Id))])
                .lt(Expr::tuple([Expr::val(after.created_at), Expr::val(id)])),
        );
    }
    select
        .order_by((I::Table, I::CreatedAt), Order::Desc)
        .order_by((I::Table, I::Id), Order::Desc)
        .limit(u64::from(page.limit()) + 1);
    let rows = c.query_all(&select).await?;
    let found = rows.iter().map(mapping::invitation).collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(found, page, |i| Cursor { created_at: i.created_at, id: i.id.as_uuid() }))
}

async fn insert_acceptance<C: ConnectionTrait>(c: &C, a: &Acceptance) -> Result<(), WriteError> {
    let values: [Value; 8] = [
        a.id.as_uuid().into(),
        a.invitation_id.as_uuid().into(),
        a.user_id.map(UserId::get).into(),
        a.outcome.as_str().into(),
        a.reason.clone().into(),
        a.at.into(),
        a.ip.clone().into(),
        a.user_agent.clone().into(),
    ];
    let insert = Query::insert()
        .into_table(InvitationAcceptances::Table)
        .columns(InvitationAcceptances::ALL)
        // As many values as columns, so this cannot panic.
        .values_panic(values.map(Expr::val))
        .to_owned();
    c.execute(&insert).await.map(drop).map_err(|e| failed(e, "logging an acceptance"))
}

/// Inserts an invitation row.
async fn insert_invitation<C: ConnectionTrait>(c: &C, inv: &Invitation) -> Result<(), WriteError> {
    let values: [Value; 19] = [
        inv.id.as_uuid().into(),
        inv.organization_id.as_uuid().into(),
        inv.zone_id.map(|z| z.as_uuid()).into(),
        inv.role.as_str().into(),
        inv.email.as_ref().map(|e| e.as_str().to_owned()).into(),
        inv.user_id.map(UserId::get).into(),
        inv.kind.as_str().into(),
        inv.origin.as_str().into(),
        i64::from(inv.max_uses).into(),
        i64::from(inv.use_count).into(),
        inv.expires_at.into(),
        inv.valid_for.whole_seconds().into(),
        inv.membership_duration.map(|d| d.whole_seconds()).into(),
        inv.status.as_str().into(),
        inv.token_hash.to_hex().into(),
        inv.created_by.get().into(),
        inv.created_at.into(),
        inv.updated_at.into(),
        inv.version.into(),
    ];
    let insert = Query::insert()
        .into_table(Invitations::Table)
        .columns(Invitations::ALL)
        // As many values as columns, so this cannot panic.
        .values_panic(values.map(Expr::val))
        .to_owned();
    c.execute(&insert).await.map(drop).map_err(|e| failed(e, "inserting an invitation"))
}

/// Checks every guard but `Remains` (which `execute` checks after its write).
async fn check_all<C: ConnectionTrait>(c: &C, guards: &[Guard]) -> Result<(), WriteError> {
    for guard in guards {
        check(c, guard).await?;
    }
    Ok(())
}

/// The accept transaction's body; `Conflict` makes the caller roll back.
/// Answers the acceptance's events: the plan's own, then its effects'.
async fn accept_in(txn: &DatabaseTransaction, plan: &AcceptPlan) -> Result<Vec<Event>, WriteError> {
    use Invitations as I;
    // The creator's membership row first, the invitation's second: the
    // order a removal locks them in, so the two never deadlock.
    check_all(txn, &plan.membership.guards).await?;
    // The membership and the log are written before the use is taken: every
    // accept of a link queues on the invitation's row lock until it commits,
    // so the lock is held for the take and the commit only. A lost take
    // rolls the writes back with it.
    let plans: Vec<_> = plan.end_lapsed.iter().chain([&plan.membership]).cloned().collect();
    let side = execute(txn, &plans).await?;
    insert_acceptance(txn, &plan.log).await?;
    let read = &plan.read;
    let taken = plan.invitation.user_id.filter(|_| read.user_id.is_none());
    // `Invitation::take_use`, done under the row lock so that concurrent
    // takers queue instead of overwriting each other's count.
    let take = Query::update()
        .table(I::Table)
        .value(I::UseCount, Expr::col(I::UseCount).add(1))
        .value(
            I::Status,
            Expr::case(Expr::col(I::UseCount).add(1).gte(Expr::col(I::MaxUses)), InvitationStatus::Accepted.as_str())
                .finally(Expr::col(I::Status)),
        )
        .value(I::UserId, Func::coalesce([Expr::col(I::UserId), Expr::val(taken.map(UserId::get))]))
        .value(I::Version, Expr::col(I::Version).add(1))
        .value(I::UpdatedAt, plan.log.at)
        .and_where(Expr::col(I::Id).eq(read.id.as_uuid()))
        .and_where(Expr::col(I::TokenHash).eq(read.token_hash.to_hex()))
        .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()))
        .and_where(Expr::col(I::UseCount).lt(Expr::col(I::MaxUses)))
        .and_where(Expr::col(I::ExpiresAt).gt(plan.log.at))
        .to_owned();
    let took = txn.execute(&take).await.map_err(|e| failed(e, "taking a use of an invitation"))?.rows_affected();
    if took != 1 {
        return Err(WriteError::Conflict);
    }
    Ok(plan.events().into_iter().chain(side).collect())
}

#[async_trait]
impl InvitationRepository for SqlInvitationRepository {
    async fn insert(&self, draft: &InvitationDraft, mail: Option<OutboxMail>) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an invitation transaction"))?;
        let result = async {
            check_all(&txn, &draft.guards).await?;
            insert_invitation(&txn, &draft.invitation).await?;
            if let Some(mail) = mail {
                queue_mail(&txn, &mail, draft.invitation.organization_id, draft.invitation.created_at).await?;
            }
            events::append(&txn, &[draft.event()]).await
        }
        .await;
        finish(txn, result).await
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> anyhow::Result<Option<Invitation>> {
        let select = select_invitations().and_where(Expr::col(Invitations::TokenHash).eq(hash.to_hex())).to_owned();
        let row = self.db.conn().query_one(&select).await.context("finding an invitation by token")?;
        row.map(|r| mapping::invitation(&r)).transpose()
    }

    async fn find(&self, id: InvitationId) -> anyhow::Result<Option<Invitation>> {
        let row = find_invitation(self.db.conn(), id).await.with_context(|| format!("loading invitation {id}"))?;
        row.map(|r| mapping::invitation(&r)).transpose()
    }

    async fn list(&self, query: &InvitationQuery, page: &PageRequest<Uuid>) -> anyhow::Result<Page<Invitation>> {
        use Invitations as I;
        let mut select = select_invitations();
        select.and_where(Expr::col(I::OrganizationId).eq(query.organization_id.as_uuid()));
        let f = &query.filter;
        // The states are the model's (`InvitationFilter::state`), read at `query.at`.
        match f.state {
            None => {}
            Some(state @ (InvitationState::Pending | InvitationState::Expired)) => {
                select.and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()));
                select.and_where(if state == InvitationState::Pending {
                    Expr::col(I::ExpiresAt).gt(query.at)
                } else {
                    Expr::col(I::ExpiresAt).lte(query.at)
                });
            }
            Some(other) => {
                select.and_where(Expr::col(I::Status).eq(other.as_str()));
            }
        }
        if let Some(role) = f.role {
            select.and_where(Expr::col(I::Role).eq(role.as_str()));
        }
        if let Some(zone) = f.zone {
            select.and_where(Expr::col(I::ZoneId).eq(zone.as_uuid()));
        }
        if let Some(creator) = f.created_by {
            select.and_where(Expr::col(I::CreatedBy).eq(creator.get()));
        }
        if let Some(prefix) = &f.email_prefix {
            let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            select.and_where(Expr::col(I::Email).like(LikeExpr::new(format!("{escaped}%")).escape('\\')));
        }
        if let Some(within) = &query.within {
            select.and_where(Expr::col(I::ZoneId).is_in(within.iter().map(|z| z.as_uuid())));
        }
        invitation_page(self.db.conn(), select, page)
            .await
            .with_context(|| format!("listing invitations of {}", query.organization_id))
    }

    async fn mine(
        &self,
        user: UserId,
        email: Option<EmailAddress>,
        at: OffsetDateTime,
        page: &PageRequest<Uuid>,
    ) -> anyhow::Result<Page<Invitation>> {
        use Invitations as I;
        // Addressed to the user, or still open and addressed to their e-mail.
        let mut addressed = Expr::col(I::UserId).eq(user.get());
        if let Some(email) = email {
            addressed = addressed.or(Expr::col(I::UserId).is_null().and(Expr::col(I::Email).eq(email.as_str())));
        }
        let select = select_invitations()
            .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()))
            .and_where(Expr::col(I::ExpiresAt).gt(at))
            .and_where(addressed)
            .to_owned();
        invitation_page(self.db.conn(), select, page).await.with_context(|| format!("listing {user}'s invitations"))
    }

    async fn accept(&self, plan: &AcceptPlan) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an accept transaction"))?;
        let result = async {
            let changes = accept_in(&txn, plan).await?;
            events::append(&txn, &changes).await
        }
        .await;
        finish(txn, result).await
    }

    async fn log(&self, entry: &Acceptance, event: &Event) -> anyhow::Result<()> {
        let txn = self.db.begin_write().await.context("starting an acceptance log transaction")?;
        let result = async {
            insert_acceptance(&txn, entry).await?;
            events::append(&txn, std::slice::from_ref(event)).await
        }
        .await;
        finish(txn, result).await.map_err(anyhow::Error::new).context("logging an acceptance attempt")
    }

    async fn update(
        &self,
        update: &InvitationUpdate,
        entry: Option<Acceptance>,
        mail: Option<OutboxMail>,
    ) -> Result<(), WriteError> {
        use Invitations as I;
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an invitation transaction"))?;
        let result = async {
            check_all(&txn, &update.guards).await?;
            let next = &update.next;
            let mut write = Query::update();
            write
                .table(I::Table)
                .value(I::Status, next.status.as_str())
                .value(I::UpdatedAt, next.updated_at)
                .value(I::Version, Expr::col(I::Version).add(1))
                .and_where(Expr::col(I::Id).eq(next.id.as_uuid()))
                .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()));
            if let Some(expected) = update.expected_token {
                write
                    .value(I::TokenHash, next.token_hash.to_hex())
                    .value(I::ExpiresAt, next.expires_at)
                    .and_where(Expr::col(I::TokenHash).eq(expected.to_hex()));
            }
            let changed = txn.execute(&write).await.map_err(|e| failed(e, "updating an invitation"))?.rows_affected();
            if changed != 1 {
                return Err(WriteError::Conflict);
            }
            if let Some(entry) = &entry {
                insert_acceptance(&txn, entry).await?;
            }
            if let Some(mail) = mail {
                queue_mail(&txn, &mail, next.organization_id, next.updated_at).await?;
            }
            let logged = entry.as_ref().and_then(|e| e.event(next));
            events::append(&txn, &[update.domain_event()].into_iter().chain(logged).collect::<Vec<_>>()).await
        }
        .await;
        finish(txn, result).await
    }

    async fn acceptances(&self, id: InvitationId) -> anyhow::Result<Vec<Acceptance>> {
        use InvitationAcceptances as A;
        let select = Query::select()
            .columns(A::ALL)
            .from(A::Table)
            .and_where(Expr::col(A::InvitationId).eq(id.as_uuid()))
            .order_by(A::At, Order::Desc)
            .order_by(A::Id, Order::Desc)
            .limit(1000)
            .to_owned();
        let rows =
            self.db.conn().query_all(&select).await.with_context(|| format!("loading the acceptances of {id}"))?;
        rows.iter().map(mapping::acceptance).collect()
    }

    async fn unannounced_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Invitation>> {
        use Invitations as I;
        let unannounced =
            Expr::col(I::ExpiryAnnouncedFor).is_null().or(Expr::col(I::ExpiryAnnouncedFor).ne(Expr::col(I::ExpiresAt)));
        let select = select_invitations()
            .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()))
            .and_where(Expr::col(I::ExpiresAt).lte(now))
            .and_where(unannounced)
            .order_by(I::ExpiresAt, Order::Asc)
            .order_by(I::Id, Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("reading the expired invitations")?;
        rows.iter().map(mapping::invitation).collect()
    }

    async fn announce_expiry(&self, expiry: &Expiry) -> Result<bool, WriteError> {
        use Invitations as I;
        let read = &expiry.invitation;
        let mark = Query::update()
            .table(I::Table)
            .value(I::ExpiryAnnouncedFor, read.expires_at)
            .and_where(Expr::col(I::Id).eq(read.id.as_uuid()))
            .and_where(Expr::col(I::Status).eq(InvitationStatus::Pending.as_str()))
            .and_where(Expr::col(I::ExpiresAt).eq(read.expires_at))
            .and_where(
                Expr::col(I::ExpiryAnnouncedFor).is_null().or(Expr::col(I::ExpiryAnnouncedFor).ne(read.expires_at)),
            )
            .to_owned();
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an expiry transaction"))?;
        let result = async {
            let marked = txn.execute(&mark).await.map_err(|e| failed(e, "announcing an expiry"))?.rows_affected();
            if marked != 1 {
                return Ok(false);
            }
            events::append(&txn, &[expiry.event()]).await?;
            Ok(true)
        }
        .await;
        finish(txn, result).await
    }

    async fn due_mails(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OutboxMail>> {
        use InvitationOutbox as X;
        let select = Query::select()
            .columns(X::READ)
            .from(X::Table)
            .and_where(Expr::col(X::SentAt).is_null())
            .and_where(Expr::col(X::AbandonedAt).is_null())
            .and_where(Expr::col(X::NextAttemptAt).lte(now))
            .order_by(X::NextAttemptAt, Order::Asc)
            .order_by(X::Id, Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("reading the invitation outbox")?;
        rows.iter().map(mapping::outbox_mail).collect()
    }

    async fn claim_mail(
        &self,
        mail: &OutboxMail,
        lease_until: OffsetDateTime,
    ) -> anyhow::Result<Option<Option<Invitation>>> {
        use InvitationOutbox as X;
        let txn = self.db.begin_write().await.context("starting an outbox claim")?;
        let claim = Query::update()
            .table(X::Table)
            .value(X::NextAttemptAt, lease_until)
            .and_where(Expr::col(X::Id).eq(mail.id.as_uuid()))
            .and_where(Expr::col(X::NextAttemptAt).eq(mail.next_attempt_at))
            .and_where(Expr::col(X::SentAt).is_null())
            .and_where(Expr::col(X::AbandonedAt).is_null())
            .to_owned();
        let claimed = txn.execute(&claim).await.context("claiming an outbox mail")?.rows_affected();
        if claimed != 1 {
            txn.rollback().await.context("rolling back an outbox claim")?;
            return Ok(None);
        }
        let row = find_invitation(&txn, mail.invitation_id).await.context("re-reading a mail's invitation")?;
        let found = row.map(|r| mapping::invitation(&r)).transpose()?;
        txn.commit().await.context("committing an outbox claim")?;
        Ok(Some(found))
    }

    async fn mail_sent(&self, id: OutboxId, now: OffsetDateTime) -> anyhow::Result<()> {
        use InvitationOutbox as X;
        let sent = Query::update()
            .table(X::Table)
            .value(X::SentAt, now)
            .value(X::LastError, Option::<String>::None)
            .and_where(Expr::col(X::Id).eq(id.as_uuid()))
            .to_owned();
        self.db.conn().execute(&sent).await.context("marking an outbox mail sent")?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: OutboxId,
        attempts: u32,
        retry_at: Option<OffsetDateTime>,
        error: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<()> {
        use InvitationOutbox as X;
        let error: String = error.chars().take(1000).collect();
        let mut failed = Query::update();
        failed.table(X::Table).value(X::Attempts, i64::from(attempts)).value(X::LastError, error);
        match retry_at {
            // Tried again at `retry_at`.
            Some(at) => failed.value(X::NextAttemptAt, at).value(X::AbandonedAt, Option::<OffsetDateTime>::None),
            // Given up on.
            None => failed.value(X::AbandonedAt, now),
        };
        failed.and_where(Expr::col(X::Id).eq(id.as_uuid()));
        self.db.conn().execute(&failed).await.context("recording a failed send")?;
        Ok(())
    }

    async fn mail_closed(&self, id: OutboxId, reason: &str, now: OffsetDateTime) -> anyhow::Result<()> {
        use InvitationOutbox as X;
        let reason: String = reason.chars().take(1000).collect();
        let closed = Query::update()
            .table(X::Table)
            .value(X::AbandonedAt, now)
            .value(X::LastError, reason)
            .and_where(Expr::col(X::Id).eq(id.as_uuid()))
            .to_owned();
        self.db.conn().execute(&closed).await.context("closing an outbox mail")?;
        Ok(())
    }

    async fn imported(&self, org: OrganizationId, email: &EmailAddress) -> anyhow::Result<bool> {
        use MembershipImports as MI;
        let select = Query::select()
            .column(MI::Email)
            .from(MI::Table)
            .and_where(Expr::col(MI::OrganizationId).eq(org.as_uuid()))
            .and_where(Expr::col(MI::Email).eq(email.as_str()))
            .to_owned();
        let row = self.db.conn().query_one(&select).await.context("checking for an earlier import")?;
        Ok(row.is_some())
    }

    async fn record_import(
        &self,
        line: &ImportLine,
        org: OrganizationId,
        invitation: Option<Invitation>,
        join: Option<AcceptPlan>,
        now: OffsetDateTime,
    ) -> Result<bool, WriteError> {
        use MembershipImports as MI;
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an import transaction"))?;
        let result = async {
            if let Some(invitation) = &invitation {
                insert_invitation(&txn, invitation).await?;
            }
            let applied = (join.is_some() || invitation.is_none()).then_some(now);
            let values: [Value; 7] = [
                org.as_uuid().into(),
                line.email.as_str().into(),
                line.role.as_str().into(),
                line.joined_at.into(),
                invitation.as_ref().map(|i| i.id.as_uuid()).into(),
                now.into(),
                applied.into(),
            ];
            let record = Query::insert()
                .into_table(MI::Table)
                .columns([
                    MI::OrganizationId,
                    MI::Email,
                    MI::Role,
                    MI::JoinedAt,
                    MI::InvitationId,
                    MI::CreatedAt,
                    MI::AppliedAt,
                ])
                // As many values as columns, so this cannot panic.
                .values_panic(values.map(Expr::val))
                .on_conflict(OnConflict::columns([MI::OrganizationId, MI::Email]).do_nothing().to_owned())
                .to_owned();
            let recorded = txn.execute(&record).await.map_err(|e| failed(e, "recording an import"))?.rows_affected();
            if recorded != 1 {
                // A concurrent run imported this line first.
                return Err(WriteError::Conflict);
            }
            let mut changes: Vec<Event> = invitation.iter().map(Invitation::created_event).collect();
            if let Some(plan) = &join {
                changes.extend(accept_in(&txn, plan).await?);
            }
            events::append(&txn, &changes).await
        }
        .await;
        match finish(txn, result).await {
            Ok(()) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn due_imports(&self, limit: u32) -> anyhow::Result<Vec<DueImport>> {
        use Invitations as I;
        use MembershipImports as MI;
        let verified_account = Query::select()
            .expr(Expr::val(1))
            .from(users::Entity)
            .and_where(Expr::col((users::Entity, users::Column::Email)).equals((MI::Table, MI::Email)))
            .and_where(Expr::col((users::Entity, users::Column::EmailVerified)).eq(true))
            .to_owned();
        let select = select_invitations()
            .expr_as(Expr::col((MI::Table, MI::Email)), "i_email")
            .expr_as(Expr::col((MI::Table, MI::Role)), "i_role")
            .expr_as(Expr::col((MI::Table, MI::JoinedAt)), "i_joined_at")
            .inner_join(MI::Table, Expr::col((I::Table, I::Id)).equals((MI::Table, MI::InvitationId)))
            .and_where(Expr::col((MI::Table, MI::AppliedAt)).is_null())
            .and_where(Expr::col((I::Table, I::Status)).eq(InvitationStatus::Pending.as_str()))
            .and_where(Expr::exists(verified_account))
            .order_by((MI::Table, MI::CreatedAt), Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("finding imports to apply")?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            let invitation = mapping::invitation(row)?;
            let email: String = mapping::get(row, "", "i_email").context("an import row")?;
            let email = EmailAddress::parse(&email).context("an imported e-mail")?;
            let accounts = accounts_with(self.db.conn(), &email).await.context("finding the accounts of an import")?;
            due.push(DueImport {
                line: ImportLine {
                    organization: invitation.organization_id.to_string(),
                    email,
                    role: mapping::role_of(&mapping::get::<String>(row, "", "i_role").context("an import row")?)?,
                    joined_at: mapping::time_of(row, "", "i_joined_at")?,
                },
                organization_id: invitation.organization_id,
                invitation,
                accounts,
            });
        }
        Ok(due)
    }

    async fn apply_import(&self, due: &DueImport, plan: &AcceptPlan) -> Result<bool, WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an import transaction"))?;
        let result = async {
            if !claim_import(&txn, due, plan.log.at).await? {
                return Ok(false);
            }
            let changes = accept_in(&txn, plan).await?;
            events::append(&txn, &changes).await?;
            Ok(true)
        }
        .await;
        finish(txn, result).await
    }

    async fn settle_import(&self, due: &DueImport, log: &Acceptance) -> anyhow::Result<()> {
        let txn = self.db.begin_write().await.context("starting an import transaction")?;
        let result = async {
            if claim_import(&txn, due, log.at).await? {
                insert_acceptance(&txn, log).await?;
                events::append(&txn, &log.event(&due.invitation).into_iter().collect::<Vec<_>>()).await?;
            }
            Ok(())
        }
        .await;
        finish(txn, result).await.map_err(anyhow::Error::new)
    }
}

/// The invitation row `id`.
async fn find_invitation<C: ConnectionTrait>(
    c: &C,
    id: InvitationId,
) -> Result<Option<sea_orm::QueryResult>, sea_orm::DbErr> {
    c.query_one(select_invitations().and_where(Expr::col(Invitations::Id).eq(id.as_uuid()))).await
}

/// Marks an import applied; `false` when another replica did first.
async fn claim_import(txn: &DatabaseTransaction, due: &DueImport, at: OffsetDateTime) -> Result<bool, WriteError> {
    use MembershipImports as MI;
    let claim = Query::update()
        .table(MI::Table)
        .value(MI::AppliedAt, at)
        .and_where(Expr::col(MI::OrganizationId).eq(due.organization_id.as_uuid()))
        .and_where(Expr::col(MI::Email).eq(due.line.email.as_str()))
        .and_where(Expr::col(MI::AppliedAt).is_null())
        .to_owned();
    let claimed = txn.execute(&claim).await.map_err(|e| failed(e, "claiming an import"))?.rows_affected();
    Ok(claimed == 1)
}

async fn queue_mail<C: ConnectionTrait>(
    c: &C,
    m: &OutboxMail,
    org: OrganizationId,
    now: OffsetDateTime,
) -> Result<(), WriteError> {
    use InvitationOutbox as X;
    let values: [Value; 12] = [
        m.id.as_uuid().into(),
        m.invitation_id.as_uuid().into(),
        org.as_uuid().into(),
        m.mail.to.as_str().into(),
        m.mail.organization.clone().into(),
        m.mail.invited_by.clone().into(),
        m.mail.role.as_str().into(),
        m.mail.link.clone().into(),
        m.mail.expires_at.into(),
        i64::from(m.attempts).into(),
        m.next_attempt_at.into(),
        now.into(),
    ];
    let insert = Query::insert()
        .into_table(X::Table)
        .columns([
            X::Id,
            X::InvitationId,
            X::OrganizationId,
            X::Recipient,
            X::Organization,
            X::InvitedBy,
            X::Role,
            X::Link,
            X::ExpiresAt,
            X::Attempts,
            X::NextAttemptAt,
            X::CreatedAt,
        ])
        // As many values as columns, so this cannot panic.
        .values_panic(values.map(Expr::val))
        .to_owned();
    c.execute(&insert).await.map(drop).map_err(|e| failed(e, "queueing an invitation e-mail"))
}
