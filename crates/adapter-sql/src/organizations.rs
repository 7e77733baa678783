//! `OrganizationRepository` over raw SQL on PostgreSQL and SQLite.
//!
//! Membership changes lock the organization row first (an `UPDATE` that
//! changes nothing on PostgreSQL; SQLite's `BEGIN IMMEDIATE` serialises every
//! writer anyway), so "is this the last admin?" is decided with no concurrent
//! admin change in flight.

use crate::database::{Database, violates_unique};
use crate::memberships::{
    after_demotion, after_end, all, exec, granting, insert_membership, membership, one, organization, role_of,
    update_membership_row,
};
use anyhow::Context as _;
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId};
use invitations::{
    Acceptance, ClientInfo, EndReason, HistoryCause, ImportLine, ImportOutcome, Invitation, InvitationId,
    InvitationKind, InvitationStatus, Invitee, Member, MemberFilter, Membership, MembershipHistory, MembershipStatus,
    Organization, OrganizationId, OrganizationRepository, Outcome, SidebarApp, TokenHash, WriteError, Zone, ZoneId,
};
use sea_orm::{ConnectionTrait, DatabaseTransaction, Value};
use shared_kernel::{Cursor, EmailAddress, OrgRole, Page, PageRequest, UserId, truncate_to_micros};
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

const MEMBER_COLUMNS: &str = "m.id, m.organization_id, m.user_id, m.role, m.zones, m.status, m.expires_at, \
     m.invitation_id, m.joined_at, m.ended_at, m.end_reason, m.version";

/// Locks the organization row until the transaction ends (PostgreSQL).
async fn lock_organization(txn: &DatabaseTransaction, org: OrganizationId) -> Result<(), sea_orm::DbErr> {
    exec(txn, "UPDATE organizations SET updated_at = updated_at WHERE id = $1", vec![org.as_uuid().into()]).await?;
    Ok(())
}

/// Applies `next` inside `txn`: compare-and-set, history, the last-admin
/// rule (unless the sweeper ends an expired membership) and the side effects
/// of ending a membership or demoting a member.
async fn apply_change(
    txn: &DatabaseTransaction,
    next: &Membership,
    cause: HistoryCause,
    changed_by: Option<UserId>,
    now: OffsetDateTime,
) -> Result<(), WriteError> {
    lock_organization(txn, next.organization_id).await.context("locking an organization")?;
    let previous = one(
        txn,
        "SELECT role FROM memberships WHERE id = $1 AND version = $2 AND status = 'active'",
        vec![next.id.as_uuid().into(), (next.version - 1).into()],
    )
    .await
    .context("reading a membership")?;
    let Some(previous) = previous else { return Err(WriteError::Conflict) };
    let previous_role: String = previous.try_get("", "role").context("reading a membership's role")?;
    if !update_membership_row(txn, next, cause, changed_by, now).await.context("updating a membership")? {
        return Err(WriteError::Conflict);
    }
    let takes_admin_away = previous_role == OrgRole::Admin.as_str()
        && (next.role != OrgRole::Admin || next.status == MembershipStatus::Inactive);
    if takes_admin_away && cause != HistoryCause::Expired {
        let row = one(
            txn,
            &format!(
                "SELECT COUNT(*) AS admins FROM memberships m WHERE m.organization_id = $1 AND m.role = 'admin' AND {}",
                granting(2)
            ),
            vec![next.organization_id.as_uuid().into(), now.into()],
        )
        .await
        .context("counting admins")?;
        let admins: i64 =
            row.map(|r| r.try_get("", "admins")).transpose().context("reading the admin count")?.unwrap_or(0);
        if admins == 0 {
            return Err(WriteError::LastAdmin);
        }
    }
    if next.status == MembershipStatus::Inactive {
        after_end(txn, next, now).await.context("ending a membership")?;
    } else if next.role < role_of(&previous_role)? {
        after_demotion(txn, next, now).await.context("demoting a member")?;
    }
    Ok(())
}

async fn finish(txn: DatabaseTransaction, result: Result<(), WriteError>) -> Result<(), WriteError> {
    match result {
        Ok(()) => txn.commit().await.context("committing a membership change").map_err(Into::into),
        Err(e) => {
            txn.rollback().await.context("rolling back a membership change")?;
            Err(e)
        }
    }
}

#[async_trait]
impl OrganizationRepository for SqlOrganizationRepository {
    async fn create(&self, org: &Organization, admin: &Membership) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.context("starting an organization transaction")?;
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
            Err(e) if violates_unique(&e, "organizations_slug_key", "organizations.slug") => {
                return Err(WriteError::NameTaken);
            }
            other => other.context("inserting an organization")?,
        };
        insert_membership(&txn, admin, HistoryCause::Created, Some(org.created_by))
            .await
            .context("inserting the creator's membership")?;
        exec(
            &txn,
            "UPDATE users SET current_organization_id = $1, updated_at = $2 WHERE id = $3",
            vec![org.id.as_uuid().into(), org.created_at.into(), org.created_by.get().into()],
        )
        .await
        .context("switching to the new organization")?;
        txn.commit().await.context("committing an organization")?;
        Ok(())
    }

    async fn get(&self, id: OrganizationId) -> anyhow::Result<Option<Organization>> {
        let row = one(
            self.db.conn(),
            "SELECT id, name, slug, logo_url, created_by, created_at, updated_at FROM organizations WHERE id = $1",
            vec![id.as_uuid().into()],
        )
        .await
        .with_context(|| format!("loading organization {id}"))?;
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
        let previous = self.replace_logo(&txn, id, Some((key.as_str(), url)), now).await?;
        txn.commit().await.context("committing a logo")?;
        Ok(previous)
    }

    async fn clear_logo(&self, id: OrganizationId, now: OffsetDateTime) -> anyhow::Result<Option<ObjectKey>> {
        let txn = self.db.begin_write().await.context("starting a logo transaction")?;
        let previous = self.replace_logo(&txn, id, None, now).await?;
        txn.commit().await.context("committing a logo removal")?;
        Ok(previous)
    }

    async fn create_zone(&self, zone: &Zone) -> Result<(), WriteError> {
        let inserted = exec(
            self.db.conn(),
            "INSERT INTO zones (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)",
            vec![
                zone.id.as_uuid().into(),
                zone.organization_id.as_uuid().into(),
                zone.name.clone().into(),
                zone.created_at.into(),
            ],
        )
        .await;
        match inserted {
            Ok(_) => Ok(()),
            Err(e) if violates_unique(&e, "zones_organization_id_name_key", "zones.organization_id") => {
                Err(WriteError::NameTaken)
            }
            Err(e) => Err(anyhow::Error::new(e).context("inserting a zone").into()),
        }
    }

    async fn zones(&self, org: OrganizationId) -> anyhow::Result<Vec<Zone>> {
        let rows = all(
            self.db.conn(),
            "SELECT id, organization_id, name, created_at FROM zones WHERE organization_id = $1 ORDER BY name",
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
                    created_at: truncate_to_micros(r.try_get("", "created_at")?),
                })
            })
            .collect::<Result<_, sea_orm::DbErr>>()
            .context("reading a zone")
    }

    async fn active_membership(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Option<Membership>> {
        let row = one(
            self.db.conn(),
            &format!(
                "SELECT {MEMBER_COLUMNS} FROM memberships m \
                 WHERE m.organization_id = $1 AND m.user_id = $2 AND m.status = 'active'"
            ),
            vec![org.as_uuid().into(), user.get().into()],
        )
        .await
        .with_context(|| format!("loading {user}'s membership of {org}"))?;
        row.map(|r| membership(&r, "")).transpose()
    }

    async fn members(
        &self,
        org: OrganizationId,
        filter: &MemberFilter,
        page: &PageRequest,
        now: OffsetDateTime,
    ) -> anyhow::Result<Page<Member>> {
        let mut sql = format!(
            "SELECT {MEMBER_COLUMNS}, u.display_name AS u_display_name, u.email AS u_email \
             FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1"
        );
        let mut values: Vec<Value> = vec![org.as_uuid().into()];
        match filter.status {
            Some(MembershipStatus::Active) => {
                values.push(now.into());
                sql.push_str(&format!(" AND {}", granting(values.len())));
            }
            Some(MembershipStatus::Inactive) => {
                values.push(now.into());
                sql.push_str(&format!(" AND NOT ({})", granting(values.len())));
            }
            None => {}
        }
        if let Some(role) = filter.role {
            values.push(role.as_str().into());
            sql.push_str(&format!(" AND m.role = ${}", values.len()));
        }
        if let Some(zone) = filter.zone {
            values.push(format!("%{zone}%").into());
            sql.push_str(&format!(" AND (m.zones = '' OR m.zones LIKE ${})", values.len()));
        }
        if let Some(after) = page.after() {
            let id: uuid::Uuid = after.id.parse().context("a members cursor carries a membership id")?;
            values.push(after.created_at.into());
            values.push(id.into());
            // A row comparison, so the (organization_id, joined_at, id) index seeks to the cursor.
            sql.push_str(&format!(" AND (m.joined_at, m.id) < (${}, ${})", values.len() - 1, values.len()));
        }
        values.push(i64::from(page.limit() + 1).into());
        sql.push_str(&format!(" ORDER BY m.joined_at DESC, m.id DESC LIMIT ${}", values.len()));
        let rows = all(self.db.conn(), &sql, values).await.with_context(|| format!("listing members of {org}"))?;
        let members = rows
            .iter()
            .map(|r| {
                Ok(Member {
                    membership: membership(r, "")?,
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

    async fn update_membership(
        &self,
        next: &Membership,
        cause: HistoryCause,
        changed_by: Option<UserId>,
        now: OffsetDateTime,
    ) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.context("starting a membership transaction")?;
        let result = apply_change(&txn, next, cause, changed_by, now).await;
        finish(txn, result).await
    }

    async fn history(&self, org: OrganizationId, user: UserId) -> anyhow::Result<Vec<MembershipHistory>> {
        let rows = all(
            self.db.conn(),
            "SELECT membership_id, organization_id, user_id, role, zones, status, expires_at, valid_from, valid_to, \
             changed_by, cause FROM membership_history WHERE organization_id = $1 AND user_id = $2 \
             ORDER BY valid_from, id",
            vec![org.as_uuid().into(), user.get().into()],
        )
        .await
        .with_context(|| format!("loading {user}'s history in {org}"))?;
        rows.iter().map(crate::memberships::history).collect()
    }

    async fn switch_current(&self, user: UserId, org: OrganizationId, now: OffsetDateTime) -> anyhow::Result<bool> {
        let changed = exec(
            self.db.conn(),
            &format!(
                "UPDATE users SET current_organization_id = $1, updated_at = $3 WHERE id = $2 AND EXISTS \
                 (SELECT 1 FROM memberships m WHERE m.organization_id = $1 AND m.user_id = $2 AND {})",
                granting(3)
            ),
            vec![org.as_uuid().into(), user.get().into(), now.into()],
        )
        .await
        .with_context(|| format!("switching {user} to {org}"))?;
        Ok(changed == 1)
    }

    async fn sidebar(&self, user: UserId, now: OffsetDateTime) -> anyhow::Result<Vec<SidebarApp>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {MEMBER_COLUMNS}, o.id AS o_id, o.name AS o_name, o.slug AS o_slug, o.logo_url AS o_logo_url, \
                 o.created_by AS o_created_by, o.created_at AS o_created_at, o.updated_at AS o_updated_at \
                 FROM memberships m JOIN organizations o ON o.id = m.organization_id \
                 WHERE m.user_id = $1 AND {} \
                 ORDER BY CASE WHEN m.role = 'admin' THEN 0 ELSE 1 END, o.name, o.id",
                granting(2)
            ),
            vec![user.get().into(), now.into()],
        )
        .await
        .with_context(|| format!("loading {user}'s sidebar"))?;
        rows.iter()
            .map(|r| Ok(SidebarApp { organization: organization(r, "o_")?, membership: membership(r, "")? }))
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

    async fn user_by_email(&self, email: &EmailAddress) -> anyhow::Result<Option<UserId>> {
        let rows = all(self.db.conn(), "SELECT id FROM users WHERE email = $1 LIMIT 2", vec![email.as_str().into()])
            .await
            .context("finding a user by e-mail")?;
        if rows.len() != 1 {
            return Ok(None);
        }
        Ok(Some(UserId::new(rows[0].try_get("", "id").context("reading a user id")?)))
    }

    async fn import_line(
        &self,
        line: &ImportLine,
        token_hash: &TokenHash,
        now: OffsetDateTime,
    ) -> anyhow::Result<ImportOutcome> {
        let txn = self.db.begin_write().await.context("starting an import transaction")?;
        let outcome = import_in(&txn, line, token_hash, now).await?;
        txn.commit().await.context("committing an import")?;
        Ok(outcome)
    }

    async fn apply_imports(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<u64> {
        let rows = all(
            self.db.conn(),
            "SELECT i.organization_id, i.email, i.role, i.joined_at, i.invitation_id, u.id AS user_id \
             FROM membership_imports i JOIN users u ON u.email = i.email AND u.email_verified = TRUE \
             WHERE i.applied_at IS NULL ORDER BY i.created_at LIMIT $1",
            vec![i64::from(limit).into()],
        )
        .await
        .context("finding imports to apply")?;
        let mut applied = 0;
        for row in &rows {
            let org = OrganizationId::from_uuid(row.try_get("", "organization_id").context("an import row")?);
            let email: String = row.try_get("", "email").context("an import row")?;
            let role = role_of(&row.try_get::<String>("", "role").context("an import row")?)?;
            let joined_at = truncate_to_micros(row.try_get("", "joined_at").context("an import row")?);
            let invitation: Option<uuid::Uuid> = row.try_get("", "invitation_id").context("an import row")?;
            let user = UserId::new(row.try_get("", "user_id").context("an import row")?);
            let txn = self.db.begin_write().await.context("starting an import transaction")?;
            let claimed = exec(
                &txn,
                "UPDATE membership_imports SET applied_at = $1 \
                 WHERE organization_id = $2 AND email = $3 AND applied_at IS NULL",
                vec![now.into(), org.as_uuid().into(), email.clone().into()],
            )
            .await
            .context("claiming an import")?;
            if claimed != 1 {
                // Another replica applied it.
                txn.rollback().await.context("rolling back an import")?;
                continue;
            }
            join_imported(&txn, org, user, role, joined_at).await?;
            if let Some(invitation) = invitation {
                let taken = exec(
                    &txn,
                    "UPDATE invitations SET status = 'accepted', use_count = 1, version = version + 1, updated_at = $1 \
                     WHERE id = $2 AND status = 'pending'",
                    vec![now.into(), invitation.into()],
                )
                .await
                .context("accepting an imported invitation")?;
                if taken == 1 {
                    let entry = Acceptance::new(
                        InvitationId::from_uuid(invitation),
                        Some(user),
                        Outcome::Accepted,
                        None,
                        &ClientInfo::default(),
                        now,
                    );
                    crate::invitations_repo::insert_acceptance(&txn, &entry).await.context("logging an import")?;
                }
            }
            txn.commit().await.context("committing an import")?;
            applied += 1;
        }
        Ok(applied)
    }

    async fn expire_due(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<u64> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {MEMBER_COLUMNS} FROM memberships m WHERE m.status = 'active' \
                 AND m.expires_at IS NOT NULL AND m.expires_at <= $1 ORDER BY m.expires_at LIMIT $2"
            ),
            vec![now.into(), i64::from(limit).into()],
        )
        .await
        .context("finding expired memberships")?;
        let mut ended = 0;
        for row in &rows {
            let due = membership(row, "")?;
            let next = due.ended(EndReason::Expired, now);
            match self.update_membership(&next, HistoryCause::Expired, None, now).await {
                Ok(()) => ended += 1,
                // Another replica (or a member action) got there first.
                Err(WriteError::Conflict) => {}
                Err(e) => return Err(anyhow::Error::new(e).context("expiring a membership")),
            }
        }
        Ok(ended)
    }
}

/// Gives `user` an active membership imported from legacy data, unless they
/// already have one.
async fn join_imported(
    txn: &DatabaseTransaction,
    org: OrganizationId,
    user: UserId,
    role: OrgRole,
    joined_at: OffsetDateTime,
) -> anyhow::Result<bool> {
    let existing = one(
        txn,
        "SELECT 1 AS present FROM memberships WHERE organization_id = $1 AND user_id = $2 AND status = 'active'",
        vec![org.as_uuid().into(), user.get().into()],
    )
    .await
    .context("checking for a membership")?;
    if existing.is_some() {
        return Ok(false);
    }
    let membership = Membership::start(org, user, role, vec![], None, None, joined_at);
    insert_membership(txn, &membership, HistoryCause::Import, None).await.context("importing a membership")?;
    Ok(true)
}

/// The body of one import line's transaction.
async fn import_in(
    txn: &DatabaseTransaction,
    line: &ImportLine,
    token_hash: &TokenHash,
    now: OffsetDateTime,
) -> anyhow::Result<ImportOutcome> {
    let found = match line.organization.parse::<uuid::Uuid>() {
        Ok(id) => one(txn, "SELECT id, created_by FROM organizations WHERE id = $1", vec![id.into()]).await,
        Err(_) => {
            one(
                txn,
                "SELECT id, created_by FROM organizations WHERE slug = $1 OR name = $1 \
                 ORDER BY CASE WHEN slug = $1 THEN 0 ELSE 1 END, created_at LIMIT 1",
                vec![line.organization.clone().into()],
            )
            .await
        }
    }
    .context("finding the organization of an import line")?;
    let Some(found) = found else { return Ok(ImportOutcome::UnknownOrganization) };
    let org = OrganizationId::from_uuid(found.try_get("", "id").context("an organization id")?);
    let creator = UserId::new(found.try_get("", "created_by").context("an organization's creator")?);
    let seen = one(
        txn,
        "SELECT 1 AS present FROM membership_imports WHERE organization_id = $1 AND email = $2",
        vec![org.as_uuid().into(), line.email.as_str().into()],
    )
    .await
    .context("checking for an earlier import")?;
    if seen.is_some() {
        return Ok(ImportOutcome::Unchanged);
    }
    let users = all(txn, "SELECT id FROM users WHERE email = $1 LIMIT 2", vec![line.email.as_str().into()])
        .await
        .context("finding an imported user")?;
    let (outcome, invitation, applied) = if users.len() == 1 {
        let user = UserId::new(users[0].try_get("", "id").context("a user id")?);
        let joined = join_imported(txn, org, user, line.role, line.joined_at).await?;
        (if joined { ImportOutcome::Joined } else { ImportOutcome::Unchanged }, None, Some(now))
    } else {
        let valid_for = time::Duration::days(30);
        let invitation = Invitation {
            id: InvitationId::new(),
            organization_id: org,
            zone_id: None,
            role: line.role,
            email: Some(line.email.clone()),
            user_id: None,
            kind: InvitationKind::Internal,
            max_uses: 1,
            use_count: 0,
            expires_at: now + valid_for,
            valid_for,
            membership_duration: None,
            status: InvitationStatus::Pending,
            token_hash: *token_hash,
            created_by: creator,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        crate::invitations_repo::insert_invitation(txn, &invitation).await.context("inviting an imported e-mail")?;
        (ImportOutcome::Invited, Some(invitation.id.as_uuid()), None)
    };
    exec(
        txn,
        "INSERT INTO membership_imports (organization_id, email, role, joined_at, invitation_id, created_at, applied_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            org.as_uuid().into(),
            line.email.as_str().into(),
            line.role.as_str().into(),
            line.joined_at.into(),
            invitation.into(),
            now.into(),
            Value::from(applied),
        ],
    )
    .await
    .context("recording an import")?;
    Ok(outcome)
}

impl SqlOrganizationRepository {
    async fn replace_logo(
        &self,
        txn: &DatabaseTransaction,
        id: OrganizationId,
        logo: Option<(&str, &str)>,
        now: OffsetDateTime,
    ) -> Result<Option<ObjectKey>, WriteError> {
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
}
