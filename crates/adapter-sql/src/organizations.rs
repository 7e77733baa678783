//! `OrganizationRepository` over raw SQL on PostgreSQL and SQLite. Every
//! membership change is a model plan carried out by `memberships::execute`
//! in one transaction.

use crate::database::{Database, violates_unique};
use crate::memberships::{
    MEMBER_COLUMNS, ORGANIZATION_COLUMNS, all, check, exec, execute, failed, membership, one, organization, time_of,
    with_zones,
};
use anyhow::Context as _;
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use invitations::{
    Account, Block, Founding, Invitee, Member, MemberQuery, Membership, MembershipHistory, MembershipPlan,
    MembershipStatus, Organization, OrganizationId, OrganizationRepository, SidebarApp, WriteError, Zone, ZoneId,
};
use sea_orm::{DatabaseTransaction, Value};
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

const ORG_COLUMNS: &str = "id, name, slug, logo_url, created_by, created_at, updated_at";

#[async_trait]
impl OrganizationRepository for SqlOrganizationRepository {
    async fn create(&self, founding: &Founding) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.context("starting an organization transaction")?;
        let result = async {
            for guard in &founding.guards {
                check(&txn, guard).await?;
            }
            let org = &founding.organization;
            let inserted = exec(
                &txn,
                "INSERT INTO organizations (id, name, slug, logo_url, logo_key, created_by, created_at, updated_at) \
                 VALUES ($1, $2, $3, NULL, NULL, $4, $5, $6)",
                vec![
                    org.id.as_uuid().into(),
                    org.name.clone().into(),
                    org.slug.clone().into(),
                    org.created_by.get().into(),
                    org.created_at.into(),
                    org.updated_at.into(),
                ],
            )
            .await;
            match inserted {
                // Slugs carry a random suffix; a clash is a lost race to retry with another.
                Err(e) if violates_unique(&e, "organizations_slug_key", "organizations.slug") => {
                    return Err(WriteError::Conflict);
                }
                other => other.map_err(|e| failed(e, "inserting an organization"))?,
            };
            execute(&txn, std::slice::from_ref(&founding.admin)).await?;
            exec(
                &txn,
                "UPDATE users SET current_organization_id = $1, updated_at = $2 WHERE id = $3",
                vec![org.id.as_uuid().into(), org.created_at.into(), org.created_by.get().into()],
            )
            .await
            .map_err(|e| failed(e, "switching to the new organization"))?;
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn get(&self, id: OrganizationId) -> anyhow::Result<Option<Organization>> {
        let row = one(
            self.db.conn(),
            &format!("SELECT {ORG_COLUMNS} FROM organizations WHERE id = $1"),
            vec![id.as_uuid().into()],
        )
        .await
        .with_context(|| format!("loading organization {id}"))?;
        row.map(|r| organization(&r, "")).transpose()
    }

    async fn find(&self, reference: &str) -> anyhow::Result<Option<Organization>> {
        if let Ok(id) = reference.parse::<uuid::Uuid>() {
            return self.get(OrganizationId::from_uuid(id)).await;
        }
        let row = one(
            self.db.conn(),
            &format!(
                "SELECT {ORG_COLUMNS} FROM organizations WHERE slug = $1 OR name = $1 \
                 ORDER BY CASE WHEN slug = $1 THEN 0 ELSE 1 END, created_at LIMIT 1"
            ),
            vec![reference.into()],
        )
        .await
        .context("finding an organization")?;
        row.map(|r| organization(&r, "")).transpose()
    }

    async fn rename(
        &self,
        id: OrganizationId,
        name: &str,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<Organization>> {
        exec(
            self.db.conn(),
            "UPDATE organizations SET name = $1, updated_at = $2 WHERE id = $3",
            vec![name.into(), now.into(), id.as_uuid().into()],
        )
        .await
        .with_context(|| format!("renaming organization {id}"))?;
        self.get(id).await
    }

    async fn set_logo(
        &self,
        id: OrganizationId,
        ticket: TicketId,
        key: &ObjectKey,
        url: &str,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, WriteError> {
        let txn = self.db.begin_write().await.context("starting a logo transaction")?;
        if !crate::tickets::mark_used(&txn, ticket, now).await? {
            txn.rollback().await.context("rolling back a logo")?;
            return Err(WriteError::Conflict);
        }
        let previous = replace_logo(&txn, id, Some((key.as_str(), url)), now).await?;
        txn.commit().await.context("committing a logo")?;
        Ok(previous)
    }

    async fn clear_logo(&self, id: OrganizationId, now: OffsetDateTime) -> anyhow::Result<Option<ObjectKey>> {
        let txn = self.db.begin_write().await.context("starting a logo transaction")?;
        let previous = replace_logo(&txn, id, None, now).await?;
        txn.commit().await.context("committing a logo removal")?;
        Ok(previous)
    }

    async fn create_zone(&self, zone: &Zone) -> Result<(), WriteError> {
        let inserted = exec(
            self.db.conn(),
            "INSERT INTO zones (id, organization_id, name, name_key, created_at) VALUES ($1, $2, $3, $4, $5)",
            vec![
                zone.id.as_uuid().into(),
                zone.organization_id.as_uuid().into(),
                zone.name.clone().into(),
                zone.key().into(),
                zone.created_at.into(),
            ],
        )
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e)
                if violates_unique(&e, "zones_name_key_idx", "zones.name_key")
                    || violates_unique(&e, "zones_organization_id_name_key", "zones.name") =>
            {
                Err(WriteError::NameTaken)
            }
            Err(e) => Err(failed(e, "inserting a zone")),
        }
    }

    async fn zones(&self, org: OrganizationId) -> anyhow::Result<Vec<Zone>> {
        let rows = all(
            self.db.conn(),
            "SELECT id, organization_id, name, created_at FROM zones WHERE organization_id = $1 ORDER BY name, id",
            vec![org.as_uuid().into()],
        )
        .await
        .with_context(|| format!("listing the zones of {org}"))?;
        rows.iter()
            .map(|r| {
                Ok(Zone {
                    id: ZoneId::from_uuid(r.try_get("", "id")?),
                    organization_id: OrganizationId::from_uuid(r.try_get("", "organization_id")?),
                    name: r.try_get("", "name")?,
                    created_at: time_of(r, "", "created_at")?,
                })
            })
            .collect::<anyhow::Result<_>>()
            .context("reading a zone")
    }

    async fn active_membership(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Option<Membership>> {
        let row = one(
            self.db.conn(),
            &format!(
                "SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.organization_id = $1 AND m.user_id = $2 AND m.status = $3"
            ),
            vec![org.as_uuid().into(), user.get().into(), MembershipStatus::Active.as_str().into()],
        )
        .await
        .with_context(|| format!("loading {user}'s membership of {org}"))?;
        let Some(row) = row else { return Ok(None) };
        let mut found = [membership(&row, "")?];
        with_zones(self.db.conn(), &mut found).await?;
        let [m] = found;
        Ok(Some(m))
    }

    async fn members(&self, query: &MemberQuery, page: &PageRequest) -> anyhow::Result<Page<Member>> {
        let org = query.organization_id;
        let mut sql = format!(
            "SELECT {MEMBER_COLUMNS}, u.display_name AS u_display_name, u.email AS u_email \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1"
        );
        let mut values: Vec<Value> = vec![org.as_uuid().into()];
        let bind = |values: &mut Vec<Value>, v: Value| {
            values.push(v);
            format!("${}", values.len())
        };
        // `active` is the model's definition (shared_kernel::Tenure::grants_at), read at `query.at`.
        let granting = |values: &mut Vec<Value>| {
            let active = bind(values, MembershipStatus::Active.as_str().into());
            let at = bind(values, query.at.into());
            format!("(m.status = {active} AND (m.expires_at IS NULL OR m.expires_at > {at}))")
        };
        match query.filter.status {
            Some(MembershipStatus::Active) => {
                let g = granting(&mut values);
                sql.push_str(&format!(" AND {g}"));
            }
            Some(MembershipStatus::Inactive) => {
                let g = granting(&mut values);
                sql.push_str(&format!(" AND NOT {g}"));
            }
            None => {}
        }
        if let Some(role) = query.filter.role {
            let p = bind(&mut values, role.as_str().into());
            sql.push_str(&format!(" AND m.role = {p}"));
        }
        if let Some(zone) = query.filter.zone {
            let p = bind(&mut values, zone.as_uuid().into());
            sql.push_str(&format!(
                " AND (NOT EXISTS (SELECT 1 FROM membership_zones z WHERE z.membership_id = m.id) \
                 OR EXISTS (SELECT 1 FROM membership_zones z WHERE z.membership_id = m.id AND z.zone_id = {p}))"
            ));
        }
        if let Some(within) = &query.within {
            let list = within.iter().map(|z| bind(&mut values, z.as_uuid().into())).collect::<Vec<_>>().join(", ");
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM membership_zones z WHERE z.membership_id = m.id) \
                 AND NOT EXISTS (SELECT 1 FROM membership_zones z WHERE z.membership_id = m.id AND z.zone_id NOT IN ({list}))"
            ));
        }
        if let Some(after) = page.after() {
            let id: uuid::Uuid = after.id.parse().context("a members cursor carries a membership id")?;
            let at = bind(&mut values, after.created_at.into());
            let id = bind(&mut values, id.into());
            // A row comparison, so the (organization_id, joined_at, id) index seeks to the cursor.
            sql.push_str(&format!(" AND (m.joined_at, m.id) < ({at}, {id})"));
        }
        let limit = bind(&mut values, i64::from(page.limit() + 1).into());
        sql.push_str(&format!(" ORDER BY m.joined_at DESC, m.id DESC LIMIT {limit}"));
        let rows = all(self.db.conn(), &sql, values).await.with_context(|| format!("listing members of {org}"))?;
        let mut memberships = rows.iter().map(|r| membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
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
            id: m.membership.id.as_uuid().to_string(),
        }))
    }

    async fn apply(&self, plans: &[MembershipPlan]) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting a membership transaction"))?;
        let result = execute(&txn, plans).await;
        finish(txn, result).await
    }

    async fn history(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Vec<MembershipHistory>> {
        let rows = all(
            self.db.conn(),
            "SELECT membership_id, organization_id, user_id, role, zones, status, expires_at, valid_from, valid_to, \
             changed_by, cause, invitation_id FROM membership_history WHERE organization_id = $1 AND user_id = $2 \
             ORDER BY valid_from, id",
            vec![org.as_uuid().into(), user.get().into()],
        )
        .await
        .with_context(|| format!("loading {user}'s history in {org}"))?;
        rows.iter().map(crate::memberships::history).collect()
    }

    async fn set_current(&self, m: &Membership, now: OffsetDateTime) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting a switch"))?;
        let result = async {
            check(&txn, &invitations::Guard::Unchanged { membership_id: m.id, version: m.version }).await?;
            exec(
                &txn,
                "UPDATE users SET current_organization_id = $1, updated_at = $2 WHERE id = $3",
                vec![m.organization_id.as_uuid().into(), now.into(), m.user_id.get().into()],
            )
            .await
            .map_err(|e| failed(e, "switching organization"))?;
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn sidebar(&self, user: UserId) -> anyhow::Result<Vec<SidebarApp>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {MEMBER_COLUMNS}, {ORGANIZATION_COLUMNS} FROM memberships m \
                 JOIN organizations o ON o.id = m.organization_id WHERE m.user_id = $1 AND m.status = $2"
            ),
            vec![user.get().into(), MembershipStatus::Active.as_str().into()],
        )
        .await
        .with_context(|| format!("loading {user}'s sidebar"))?;
        let mut memberships = rows.iter().map(|r| membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
        with_zones(self.db.conn(), &mut memberships).await?;
        rows.iter()
            .zip(memberships)
            .map(|(r, membership)| Ok(SidebarApp { organization: organization(r, "o_")?, membership }))
            .collect()
    }

    async fn invitee(&self, user: UserId) -> anyhow::Result<Option<Invitee>> {
        let row = one(self.db.conn(), "SELECT email, email_verified FROM users WHERE id = $1", vec![user.get().into()])
            .await
            .with_context(|| format!("loading user {user}"))?;
        let Some(row) = row else { return Ok(None) };
        let email: String = row.try_get("", "email").context("reading an e-mail")?;
        Ok(Some(Invitee {
            user_id: user,
            email: EmailAddress::parse(&email).with_context(|| format!("user {user} has an invalid e-mail"))?,
            email_verified: row.try_get("", "email_verified").context("reading email_verified")?,
        }))
    }

    async fn display_name(&self, user: UserId) -> anyhow::Result<Option<String>> {
        let row = one(self.db.conn(), "SELECT display_name FROM users WHERE id = $1", vec![user.get().into()])
            .await
            .with_context(|| format!("loading user {user}"))?;
        row.map(|r| r.try_get("", "display_name")).transpose().context("reading a display name")
    }

    async fn accounts_with_email(&self, email: &EmailAddress) -> anyhow::Result<Vec<Account>> {
        let rows = all(
            self.db.conn(),
            "SELECT id, email_verified FROM users WHERE email = $1 ORDER BY id",
            vec![email.as_str().into()],
        )
        .await
        .context("finding the accounts of an e-mail")?;
        rows.iter()
            .map(|r| {
                Ok(Account {
                    user_id: UserId::new(r.try_get("", "id")?),
                    email_verified: r.try_get("", "email_verified")?,
                })
            })
            .collect()
    }

    async fn is_blocked(&self, org: OrganizationId, user: UserId) -> anyhow::Result<bool> {
        let row = one(
            self.db.conn(),
            "SELECT user_id FROM organization_blocks WHERE organization_id = $1 AND user_id = $2",
            vec![org.as_uuid().into(), user.get().into()],
        )
        .await
        .context("checking a block")?;
        Ok(row.is_some())
    }

    async fn unblock(&self, org: OrganizationId, user: UserId) -> anyhow::Result<bool> {
        let removed = exec(
            self.db.conn(),
            "DELETE FROM organization_blocks WHERE organization_id = $1 AND user_id = $2",
            vec![org.as_uuid().into(), user.get().into()],
        )
        .await
        .context("lifting a block")?;
        Ok(removed == 1)
    }

    async fn blocks(&self, org: OrganizationId) -> anyhow::Result<Vec<Block>> {
        let rows = all(
            self.db.conn(),
            "SELECT b.user_id, b.blocked_by, b.blocked_at, u.display_name, u.email FROM organization_blocks b \
             JOIN users u ON u.id = b.user_id WHERE b.organization_id = $1 ORDER BY b.blocked_at DESC, b.user_id",
            vec![org.as_uuid().into()],
        )
        .await
        .context("listing blocks")?;
        rows.iter()
            .map(|r| {
                Ok(Block {
                    user_id: UserId::new(r.try_get("", "user_id")?),
                    display_name: r.try_get("", "display_name")?,
                    email: r.try_get("", "email")?,
                    blocked_by: UserId::new(r.try_get("", "blocked_by")?),
                    blocked_at: time_of(r, "", "blocked_at")?,
                })
            })
            .collect()
    }

    async fn due_expiries(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Membership>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.status = $1 \
                 AND m.expires_at IS NOT NULL AND m.expires_at <= $2 ORDER BY m.expires_at LIMIT $3"
            ),
            vec![MembershipStatus::Active.as_str().into(), now.into(), i64::from(limit).into()],
        )
        .await
        .context("finding expired memberships")?;
        let mut due = rows.iter().map(|r| membership(r, "")).collect::<anyhow::Result<Vec<_>>>()?;
        with_zones(self.db.conn(), &mut due).await?;
        Ok(due)
    }
}

/// Replaces the logo inside `txn` and returns the previous key; the row is
/// locked first on PostgreSQL so concurrent changes see each other's result.
async fn replace_logo(
    txn: &DatabaseTransaction,
    id: OrganizationId,
    logo: Option<(&str, &str)>,
    now: OffsetDateTime,
) -> Result<Option<ObjectKey>, WriteError> {
    use sea_orm::ConnectionTrait as _;
    let sql = if txn.get_database_backend() == sea_orm::DatabaseBackend::Postgres {
        "SELECT logo_key FROM organizations WHERE id = $1 FOR UPDATE"
    } else {
        "SELECT logo_key FROM organizations WHERE id = $1"
    };
    let row = one(txn, sql, vec![id.as_uuid().into()]).await.context("reading a logo")?;
    let previous: Option<String> = match row {
        Some(r) => r.try_get("", "logo_key").context("reading a logo key")?,
        None => return Err(anyhow::anyhow!("organization {id} vanished").into()),
    };
    exec(
        txn,
        "UPDATE organizations SET logo_key = $1, logo_url = $2, updated_at = $3 WHERE id = $4",
        vec![
            logo.map(|(k, _)| k.to_owned()).into(),
            logo.map(|(_, u)| u.to_owned()).into(),
            now.into(),
            id.as_uuid().into(),
        ],
    )
    .await
    .context("setting a logo")?;
    Ok(previous.as_deref().map(ObjectKey::parse).transpose().context("an unreadable logo key")?)
}
