//! `OrganizationRepository` over sea-query statements on PostgreSQL and
//! SQLite. Every membership change is a model plan carried out by
//! `memberships::execute` in one transaction.

use crate::backend::{self, violates_unique};
use crate::database::Database;
use crate::entities::users;
use crate::events;
use crate::mapping;
use crate::memberships::{check, execute, failed, stored_active, with_zones};
use crate::schema::{MembershipHistory, MembershipZones, Memberships, OrganizationBlocks, Organizations, Zones};
use anyhow::Context as _;
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use organizations::events::OrganizationChange;
use organizations::{
    Account, Founding, Invitee, Member, MemberQuery, Membership, MembershipHistory as History, MembershipPlan,
    MembershipStatus, Organization, OrganizationId, OrganizationRepository, SidebarApp, Standing, Unblock, WriteError,
    Zone,
};
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, Order, Query, SelectStatement, UnionType};
use sea_orm::{
    ColumnTrait as _, ConnectionTrait, DatabaseTransaction, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use shared_kernel::{Cursor, EmailAddress, Page, PageRequest, UserId};
use time::OffsetDateTime;

/// Organizations, zones and memberships in PostgreSQL or SQLite.
#[derive(Clone, Debug)]
pub struct SqlOrganizationRepository {
    db: Database,
}

impl SqlOrganizationRepository {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Commits `txn` when `result` is a success, rolls it back otherwise.
pub(crate) async fn finish<T>(txn: DatabaseTransaction, result: Result<T, WriteError>) -> Result<T, WriteError> {
    match result {
        Ok(value) => {
            txn.commit().await.map_err(|e| failed(e, "committing"))?;
            Ok(value)
        }
        Err(e) => {
            txn.rollback().await.context("rolling back")?;
            Err(e)
        }
    }
}

/// `SELECT` of the membership columns `mapping::membership` reads, from `memberships`.
fn select_memberships() -> SelectStatement {
    Query::select().columns(Memberships::READ.map(|c| (Memberships::Table, c))).from(Memberships::Table).to_owned()
}

/// `SELECT` of the organization columns `mapping::organization` reads, from `organizations`.
fn select_organizations() -> SelectStatement {
    Query::select().columns(Organizations::READ).from(Organizations::Table).to_owned()
}

/// The accounts holding `email`, oldest first.
pub(crate) async fn accounts_with<C: ConnectionTrait>(c: &C, email: &EmailAddress) -> anyhow::Result<Vec<Account>> {
    let rows = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .column(users::Column::EmailVerified)
        .filter(users::Column::Email.eq(email.as_str()))
        .order_by_asc(users::Column::Id)
        .into_tuple::<(i64, bool)>()
        .all(c)
        .await
        .context("finding the accounts of an e-mail")?;
    Ok(rows.into_iter().map(mapping::account).collect())
}

/// Loads the memberships `select` finds, with their zones.
async fn memberships_of<C: ConnectionTrait>(c: &C, select: &SelectStatement) -> anyhow::Result<Vec<Membership>> {
    let rows = c.query_all(select).await?;
    let mut found = rows.iter().map(|r| mapping::membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
    with_zones(c, &mut found).await?;
    Ok(found)
}

#[async_trait]
impl OrganizationRepository for SqlOrganizationRepository {
    async fn create(&self, founding: &Founding) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.context("starting an organization transaction")?;
        let result = async {
            for guard in &founding.guards {
                check(&txn, guard).await?;
            }
            let org = &founding.organization;
            use Organizations as O;
            let insert = Query::insert()
                .into_table(O::Table)
                .columns([O::Id, O::Name, O::Slug, O::CreatedBy, O::CreatedAt, O::UpdatedAt])
                .values_panic([
                    Expr::val(org.id.as_uuid()),
                    Expr::val(org.name.clone()),
                    Expr::val(org.slug.clone()),
                    Expr::val(org.created_by.get()),
                    Expr::val(org.created_at),
                    Expr::val(org.updated_at),
                ])
                .to_owned();
            match txn.execute(&insert).await {
                // Slugs carry a random suffix; a clash is a lost race to retry with another.
                Err(e) if violates_unique(&e, "organizations_slug_key", "organizations.slug") => {
                    return Err(WriteError::Conflict);
                }
                other => other.map_err(|e| failed(e, "inserting an organization"))?,
            };
            let side = execute(&txn, std::slice::from_ref(&founding.admin)).await?;
            switch_to(&txn, org.created_by, org.id, org.created_at)
                .await
                .map_err(|e| failed(e, "switching to the new organization"))?;
            let changes: Vec<_> = [founding.event(), founding.admin.event()].into_iter().chain(side).collect();
            events::append(&txn, &changes).await
        }
        .await;
        finish(txn, result).await
    }

    async fn get(&self, id: OrganizationId) -> anyhow::Result<Option<Organization>> {
        let select = select_organizations().and_where(Expr::col(Organizations::Id).eq(id.as_uuid())).to_owned();
        let row = self.db.conn().query_one(&select).await.with_context(|| format!("loading organization {id}"))?;
        row.map(|r| mapping::organization(&r, "")).transpose()
    }

    async fn find(&self, reference: &str) -> anyhow::Result<Option<Organization>> {
        if let Ok(id) = reference.parse::<uuid::Uuid>() {
            return self.get(OrganizationId::from_uuid(id)).await;
        }
        use Organizations as O;
        let select = select_organizations()
            .and_where(Expr::col(O::Slug).eq(reference).or(Expr::col(O::Name).eq(reference)))
            .order_by_expr(Expr::case(Expr::col(O::Slug).eq(reference), 0).finally(1).into(), Order::Asc)
            .order_by(O::CreatedAt, Order::Asc)
            .limit(1)
            .to_owned();
        let row = self.db.conn().query_one(&select).await.context("finding an organization")?;
        row.map(|r| mapping::organization(&r, "")).transpose()
    }

    async fn rename(
        &self,
        id: OrganizationId,
        name: &str,
        now: OffsetDateTime,
        by: UserId,
    ) -> anyhow::Result<Option<Organization>> {
        let txn = self.db.begin_write().await.context("starting a rename")?;
        let result = async {
            let rename = Query::update()
                .table(Organizations::Table)
                .value(Organizations::Name, name)
                .value(Organizations::UpdatedAt, now)
                .and_where(Expr::col(Organizations::Id).eq(id.as_uuid()))
                .to_owned();
            txn.execute(&rename).await.map_err(|e| failed(e, "renaming an organization"))?;
            updated(&txn, id, OrganizationChange::Name, by).await
        }
        .await;
        finish(txn, result).await.map_err(anyhow::Error::new).with_context(|| format!("renaming organization {id}"))
    }

    async fn set_logo(
        &self,
        id: OrganizationId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
        by: UserId,
    ) -> Result<Option<ObjectKey>, WriteError> {
        let txn = self.db.begin_write().await.context("starting a logo transaction")?;
        if !crate::tickets::mark_used(&txn, ticket, now).await? {
            txn.rollback().await.context("rolling back a logo")?;
            return Err(WriteError::Conflict);
        }
        let result = async {
            let previous = replace_logo(&txn, id, Some((key.as_str(), url)), now).await?;
            updated(&txn, id, OrganizationChange::Logo, by).await?;
            Ok(previous)
        }
        .await;
        finish(txn, result).await
    }

    async fn clear_logo(
        &self,
        id: OrganizationId,
        now: OffsetDateTime,
        by: UserId,
    ) -> anyhow::Result<Option<ObjectKey>> {
        let txn = self.db.begin_write().await.context("starting a logo transaction")?;
        let result = async {
            let previous = replace_logo(&txn, id, None, now).await?;
            updated(&txn, id, OrganizationChange::Logo, by).await?;
            Ok(previous)
        }
        .await;
        finish(txn, result).await.map_err(anyhow::Error::new).context("removing a logo")
    }

    async fn create_zone(&self, zone: &Zone, by: UserId) -> Result<(), WriteError> {
        use Zones as Z;
        let insert = Query::insert()
            .into_table(Z::Table)
            .columns([Z::Id, Z::OrganizationId, Z::Name, Z::NameKey, Z::CreatedAt])
            .values_panic([
                Expr::val(zone.id.as_uuid()),
                Expr::val(zone.organization_id.as_uuid()),
                Expr::val(zone.name.clone()),
                Expr::val(zone.key()),
                Expr::val(zone.created_at),
            ])
            .to_owned();
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting a zone transaction"))?;
        let result = async {
            match txn.execute(&insert).await {
                Ok(_) => {}
                Err(e)
                    if violates_unique(&e, "zones_name_key_idx", "zones.name_key")
                        || violates_unique(&e, "zones_organization_id_name_key", "zones.name") =>
                {
                    return Err(WriteError::NameTaken);
                }
                Err(e) => return Err(failed(e, "inserting a zone")),
            }
            events::append(&txn, &[zone.created_event(by)]).await
        }
        .await;
        finish(txn, result).await
    }

    async fn zones(&self, org: OrganizationId) -> anyhow::Result<Vec<Zone>> {
        use Zones as Z;
        let select = Query::select()
            .columns([Z::Id, Z::OrganizationId, Z::Name, Z::CreatedAt])
            .from(Z::Table)
            .and_where(Expr::col(Z::OrganizationId).eq(org.as_uuid()))
            .order_by(Z::Name, Order::Asc)
            .order_by(Z::Id, Order::Asc)
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.with_context(|| format!("listing the zones of {org}"))?;
        rows.iter().map(mapping::zone).collect()
    }

    async fn active_membership(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Option<Membership>> {
        use Memberships as M;
        let select = select_memberships()
            .and_where(Expr::col(M::OrganizationId).eq(org.as_uuid()))
            .and_where(Expr::col(M::UserId).eq(user.get()))
            .and_where(stored_active(M::Status))
            .to_owned();
        let found = memberships_of(self.db.conn(), &select)
            .await
            .with_context(|| format!("loading {user}'s membership of {org}"))?;
        Ok(found.into_iter().next())
    }

    async fn members(&self, query: &MemberQuery, page: &PageRequest<uuid::Uuid>) -> anyhow::Result<Page<Member>> {
        use MembershipZones as MZ;
        use Memberships as M;
        let org = query.organization_id;
        let mut select = select_memberships();
        select
            .expr_as(Expr::col((users::Entity, users::Column::DisplayName)), "u_display_name")
            .expr_as(Expr::col((users::Entity, users::Column::Email)), "u_email")
            .inner_join(users::Entity, Expr::col((users::Entity, users::Column::Id)).equals((M::Table, M::UserId)))
            .and_where(Expr::col((M::Table, M::OrganizationId)).eq(org.as_uuid()));
        // `active` is the model's definition (shared_kernel::Tenure::grants_at), read at `query.at`.
        let granting = || {
            Expr::col((M::Table, M::Status))
                .eq(MembershipStatus::Active.as_str())
                .and(Expr::col((M::Table, M::ExpiresAt)).is_null().or(Expr::col((M::Table, M::ExpiresAt)).gt(query.at)))
        };
        match query.filter.status {
            Some(MembershipStatus::Active) => {
                select.and_where(granting());
            }
            Some(MembershipStatus::Inactive) => {
                select.and_where(granting().not());
            }
            None => {}
        }
        if let Some(role) = query.filter.role {
            select.and_where(Expr::col((M::Table, M::Role)).eq(role.as_str()));
        }
        // The zones of the membership being filtered, with `extra` conditions.
        let zones_where = |extra: Option<Expr>| {
            let mut zones = Query::select();
            zones
                .expr(Expr::val(1))
                .from(MZ::Table)
                .and_where(Expr::col((MZ::Table, MZ::MembershipId)).equals((M::Table, M::Id)));
            if let Some(extra) = extra {
                zones.and_where(extra);
            }
            zones
        };
        if let Some(zone) = query.filter.zone {
            // The whole organization, or that zone among others.
            select.and_where(
                Expr::exists(zones_where(None))
                    .not()
                    .or(Expr::exists(zones_where(Some(Expr::col((MZ::Table, MZ::ZoneId)).eq(zone.as_uuid()))))),
            );
        }
        if let Some(within) = &query.within {
            // Limited to zones, every one of them within.
            let outside = Expr::col((MZ::Table, MZ::ZoneId)).is_not_in(within.iter().map(|z| z.as_uuid()));
            select.and_where(Expr::exists(zones_where(None))).and_where(Expr::exists(zones_where(Some(outside))).not());
        }
        if let Some(search) = &query.filter.search {
            // The model's prefix as a range over the folded text, so an index serves it.
            let backend = self.db.conn().get_database_backend();
            let starts_with = |column: users::Column| {
                let folded = || backend::ascii_folded(backend, Expr::col((users::Entity, column)));
                let from = folded().gte(search.prefix());
                match search.upper() {
                    Some(upper) => from.and(folded().lt(upper)),
                    None => from,
                }
            };
            select.and_where(starts_with(users::Column::DisplayName).or(starts_with(users::Column::Email)));
        }
        if let Some(after) = page.after() {
            let id = after.id;
            // A row comparison, so the (organization_id, joined_at, id) index seeks to the cursor.
            select.and_where(
                Expr::tuple([Expr::col((M::Table, M::JoinedAt)), Expr::col((M::Table, M::Id))])
                    .lt(Expr::tuple([Expr::val(after.created_at), Expr::val(id)])),
            );
        }
        select
            .order_by((M::Table, M::JoinedAt), Order::Desc)
            .order_by((M::Table, M::Id), Order::Desc)
            .limit(u64::from(page.limit()) + 1);
        // A search's best plan depends on its prefix, so it is planned with its values every time.
        let rows = if query.filter.search.is_some() {
            backend::query_all_planned_per_run(self.db.conn(), &select).await
        } else {
            self.db.conn().query_all(&select).await
        }
        .with_context(|| format!("listing members of {org}"))?;
        let mut memberships = rows.iter().map(|r| mapping::membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
        with_zones(self.db.conn(), &mut memberships).await?;
        let members = rows
            .iter()
            .zip(memberships)
            .map(|(r, membership)| {
                Ok(Member {
                    membership,
                    display_name: r.try_get("", "u_display_name")?,
                    email: r.try_get("", "u_email")?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(members, page, |m| Cursor {
            created_at: m.membership.joined_at,
            id: m.membership.id.as_uuid(),
        }))
    }

    async fn apply(&self, plans: &[MembershipPlan]) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting a membership transaction"))?;
        let result = async {
            let side = execute(&txn, plans).await?;
            events::append(&txn, &plans.iter().map(MembershipPlan::event).chain(side).collect::<Vec<_>>()).await
        }
        .await;
        finish(txn, result).await
    }

    async fn history(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Vec<History>> {
        use MembershipHistory as H;
        let select = Query::select()
            .columns(H::READ)
            .from(H::Table)
            .and_where(Expr::col(H::OrganizationId).eq(org.as_uuid()))
            .and_where(Expr::col(H::UserId).eq(user.get()))
            .order_by(H::ValidFrom, Order::Asc)
            .order_by(H::Id, Order::Asc)
            .to_owned();
        let rows =
            self.db.conn().query_all(&select).await.with_context(|| format!("loading {user}'s history in {org}"))?;
        rows.iter().map(mapping::history).collect()
    }

    async fn set_current(&self, m: &Membership, now: OffsetDateTime) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting a switch"))?;
        let result = async {
            check(&txn, &organizations::Guard::Unchanged { membership_id: m.id, version: m.version }).await?;
            switch_to(&txn, m.user_id, m.organization_id, now)
                .await
                .map_err(|e| failed(e, "switching organization"))?;
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn sidebar(&self, user: UserId) -> anyhow::Result<Vec<SidebarApp>> {
        use Memberships as M;
        use Organizations as O;
        let mut select = select_memberships();
        for column in O::READ {
            select.expr_as(
                Expr::col((O::Table, column)),
                Alias::new(format!("o_{}", sea_orm::sea_query::Iden::unquoted(&column))),
            );
        }
        select
            .inner_join(O::Table, Expr::col((O::Table, O::Id)).equals((M::Table, M::OrganizationId)))
            .and_where(Expr::col((M::Table, M::UserId)).eq(user.get()))
            .and_where(Expr::col((M::Table, M::Status)).eq(MembershipStatus::Active.as_str()));
        let rows = self.db.conn().query_all(&select).await.with_context(|| format!("loading {user}'s sidebar"))?;
        let mut memberships = rows.iter().map(|r| mapping::membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
        with_zones(self.db.conn(), &mut memberships).await?;
        rows.iter()
            .zip(memberships)
            .map(|(r, membership)| Ok(SidebarApp { organization: mapping::organization(r, "o_")?, membership }))
            .collect()
    }

    async fn invitee(&self, user: UserId) -> anyhow::Result<Option<Invitee>> {
        let row = users::Entity::find_by_id(user.get())
            .select_only()
            .column(users::Column::Email)
            .column(users::Column::EmailVerified)
            .into_tuple::<(String, bool)>()
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading user {user}"))?;
        let Some((email, email_verified)) = row else { return Ok(None) };
        Ok(Some(Invitee {
            user_id: user,
            email: EmailAddress::parse(&email).with_context(|| format!("user {user} has an invalid e-mail"))?,
            email_verified,
        }))
    }

    async fn display_name(&self, user: UserId) -> anyhow::Result<Option<String>> {
        users::Entity::find_by_id(user.get())
            .select_only()
            .column(users::Column::DisplayName)
            .into_tuple::<String>()
            .one(self.db.conn())
            .await
            .with_context(|| format!("loading user {user}"))
    }

    async fn accounts_with_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<Account>> {
        accounts_with(self.db.conn(), email).await
    }

    async fn is_blocked(&self, org: OrganizationId, user: UserId) -> anyhow::Result<bool> {
        use OrganizationBlocks as B;
        let select = Query::select()
            .column(B::UserId)
            .from(B::Table)
            .and_where(Expr::col(B::OrganizationId).eq(org.as_uuid()))
            .and_where(Expr::col(B::UserId).eq(user.get()))
            .to_owned();
        let row = self.db.conn().query_one(&select).await.context("checking a block")?;
        Ok(row.is_some())
    }

    async fn standing(&self, org: OrganizationId, creator: Option<UserId>, user: UserId) -> anyhow::Result<Standing> {
        use Memberships as M;
        use OrganizationBlocks as B;
        let blocked = Query::select()
            .expr(Expr::val(1))
            .from(B::Table)
            .and_where(Expr::col((B::Table, B::OrganizationId)).eq(org.as_uuid()))
            .and_where(Expr::col((B::Table, B::UserId)).eq(user.get()))
            .to_owned();
        // One lookup per holder on the unique (organization, user) index of
        // active memberships, joined with UNION ALL: `user_id IN (…)` was
        // planned as a filter over every member of the organization.
        let of = |holder: UserId| {
            select_memberships()
                .expr_as(Expr::exists(blocked.clone()), "blocked")
                .and_where(Expr::col((M::Table, M::OrganizationId)).eq(org.as_uuid()))
                .and_where(Expr::col((M::Table, M::UserId)).eq(holder.get()))
                .and_where(stored_active((M::Table, M::Status)))
                .to_owned()
        };
        let mut select = of(user);
        if let Some(creator) = creator.filter(|c| *c != user) {
            select.union(UnionType::All, of(creator));
        }
        let rows =
            self.db.conn().query_all(&select).await.with_context(|| format!("loading {user}'s standing in {org}"))?;
        let blocked = match rows.first() {
            Some(row) => row.try_get::<bool>("", "blocked").context("reading a block")?,
            // No membership row carried the block: ask for it alone.
            None => self.is_blocked(org, user).await?,
        };
        let mut found = rows.iter().map(|r| mapping::membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
        with_zones(self.db.conn(), &mut found).await?;
        let mut standing = Standing { blocked, ..Standing::default() };
        for membership in found {
            // The creator may be the invitee (an admin opening their own link).
            if Some(membership.user_id) == creator {
                standing.grantor = Some(membership.clone());
            }
            if membership.user_id == user {
                standing.existing = Some(membership);
            }
        }
        Ok(standing)
    }

    async fn unblock(&self, unblock: &Unblock) -> anyhow::Result<bool> {
        use OrganizationBlocks as B;
        let delete = Query::delete()
            .from_table(B::Table)
            .and_where(Expr::col(B::OrganizationId).eq(unblock.organization_id.as_uuid()))
            .and_where(Expr::col(B::UserId).eq(unblock.user_id.get()))
            .to_owned();
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an unblock transaction"))?;
        let result = async {
            let lifted = txn.execute(&delete).await.map_err(|e| failed(e, "lifting a block"))?.rows_affected() == 1;
            if lifted {
                events::append(&txn, &[unblock.event()]).await?;
            }
            Ok(lifted)
        }
        .await;
        Ok(finish(txn, result).await?)
    }

    async fn blocks(&self, org: OrganizationId) -> anyhow::Result<Vec<organizations::Block>> {
        use OrganizationBlocks as B;
        let select = Query::select()
            .columns([(B::Table, B::UserId), (B::Table, B::BlockedBy), (B::Table, B::BlockedAt)])
            .column((users::Entity, users::Column::DisplayName))
            .column((users::Entity, users::Column::Email))
            .from(B::Table)
            .inner_join(users::Entity, Expr::col((users::Entity, users::Column::Id)).equals((B::Table, B::UserId)))
            .and_where(Expr::col((B::Table, B::OrganizationId)).eq(org.as_uuid()))
            .order_by((B::Table, B::BlockedAt), Order::Desc)
            .order_by((B::Table, B::UserId), Order::Asc)
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("listing blocks")?;
        rows.iter().map(mapping::block).collect()
    }

    async fn due_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Membership>> {
        use Memberships as M;
        let select = select_memberships()
            .and_where(stored_active(M::Status))
            .and_where(Expr::col(M::ExpiresAt).is_not_null())
            .and_where(Expr::col(M::ExpiresAt).lte(now))
            .order_by(M::ExpiresAt, Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        memberships_of(self.db.conn(), &select).await.context("finding expired memberships")
    }
}

/// Makes `org` the current organization of `user`.
async fn switch_to<C: ConnectionTrait>(
    c: &C,
    user: UserId,
    org: OrganizationId,
    now: OffsetDateTime,
) -> Result<(), sea_orm::DbErr> {
    users::Entity::update_many()
        .col_expr(users::Column::CurrentOrganizationId, Expr::val(org.as_uuid()))
        .col_expr(users::Column::UpdatedAt, Expr::val(now))
        .filter(users::Column::Id.eq(user.get()))
        .exec(c)
        .await
        .map(drop)
}

/// Replaces the logo inside `txn` and returns the previous key; the row is
/// locked first on PostgreSQL so concurrent changes see each other's result.
/// The organization `id` as `by`'s change left it, with its
/// `organization.updated` appended; `None` when there is no such organization.
async fn updated(
    txn: &DatabaseTransaction,
    id: OrganizationId,
    what: OrganizationChange,
    by: UserId,
) -> Result<Option<Organization>, WriteError> {
    let select = select_organizations().and_where(Expr::col(Organizations::Id).eq(id.as_uuid())).to_owned();
    let row = txn.query_one(&select).await.map_err(|e| failed(e, "reading an organization"))?;
    let Some(organization) = row.map(|r| mapping::organization(&r, "")).transpose()? else {
        return Ok(None);
    };
    events::append(txn, &[organizations::events::organization_updated(&organization, what, by)]).await?;
    Ok(Some(organization))
}

async fn replace_logo(
    txn: &DatabaseTransaction,
    id: OrganizationId,
    logo: Option<(&str, &str)>,
    now: OffsetDateTime,
) -> Result<Option<ObjectKey>, WriteError> {
    use Organizations as O;
    let mut select = Query::select();
    select.column(O::LogoKey).from(O::Table).and_where(Expr::col(O::Id).eq(id.as_uuid()));
    backend::for_update(&mut select);
    let row = txn.query_one(&select).await.context("reading a logo")?;
    let previous: Option<String> = match row {
        Some(r) => mapping::get(&r, "", O::LogoKey)?,
        None => return Err(anyhow::anyhow!("organization {id} vanished").into()),
    };
    let update = Query::update()
        .table(O::Table)
        .value(O::LogoKey, logo.map(|(k, _)| k.to_owned()))
        .value(O::LogoUrl, logo.map(|(_, u)| u.to_owned()))
        .value(O::UpdatedAt, now)
        .and_where(Expr::col(O::Id).eq(id.as_uuid()))
        .to_owned();
    txn.execute(&update).await.context("setting a logo")?;
    Ok(previous.as_deref().map(ObjectKey::parse).transpose().context("an unreadable logo key")?)
}
