//! `InvitationRepository` over raw SQL on PostgreSQL and SQLite.
//!
//! Accepting is one transaction: the guards the decision relied on (the
//! creator's membership unchanged, the invitee not blocked) are checked
//! first, locking the creator's membership row before the invitation's,
//! the same order a removal takes them in; then one conditional update takes
//! a use of the invitation (pending, not used up, not expired, same token):
//! on PostgreSQL racing accepts queue on that row and every loser sees the
//! winner's count, so a link can never be used more than `max_uses` times.

use crate::database::Database;
use crate::memberships::{all, check, exec, execute, failed, one, role_of, time_of};
use crate::organizations::finish;
use ::invitations::{
    AcceptPlan, Acceptance, AcceptanceId, Account, DueImport, Guard, ImportLine, Invitation, InvitationDraft,
    InvitationId, InvitationKind, InvitationMail, InvitationOrigin, InvitationQuery, InvitationRepository,
    InvitationState, InvitationStatus, InvitationUpdate, OrganizationId, OutboxId, OutboxMail, Outcome, TokenHash,
    WriteError, ZoneId,
};
use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Value};
use shared_kernel::{Cursor, EmailAddress, Page, PageRequest, UserId};
use time::{Duration, OffsetDateTime};
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

/// The columns [`invitation`] reads. Raw SQL names its columns: a `*` breaks
/// pooled SQLite statements once a migration adds a column (docs/architecture.md).
const INVITATION_COLUMNS: &str = "inv.id, inv.organization_id, inv.zone_id, inv.role, inv.email, inv.user_id, \
     inv.kind, inv.origin, inv.max_uses, inv.use_count, inv.expires_at, inv.valid_for_seconds, \
     inv.membership_duration_seconds, inv.status, inv.token_hash, inv.created_by, inv.created_at, inv.updated_at, \
     inv.version";

/// The columns [`acceptance`] reads.
const ACCEPTANCE_COLUMNS: &str = "id, invitation_id, user_id, outcome, reason, at, ip, user_agent";

/// The columns [`outbox_mail`] reads.
const OUTBOX_COLUMNS: &str = "id, invitation_id, recipient, organization, invited_by, role, link, expires_at, \
     attempts, next_attempt_at";

fn invitation(row: &QueryResult) -> anyhow::Result<Invitation> {
    let id: Uuid = row.try_get("", "id").context("reading an invitation id")?;
    let read = || -> anyhow::Result<Invitation> {
        let status: String = row.try_get("", "status")?;
        let kind: String = row.try_get("", "kind")?;
        let origin: String = row.try_get("", "origin")?;
        let hash: String = row.try_get("", "token_hash")?;
        let email: Option<String> = row.try_get("", "email")?;
        let count = |col: &str| -> anyhow::Result<u32> { Ok(u32::try_from(row.try_get::<i64>("", col)?)?) };
        Ok(Invitation {
            id: InvitationId::from_uuid(id),
            organization_id: OrganizationId::from_uuid(row.try_get("", "organization_id")?),
            zone_id: row.try_get::<Option<Uuid>>("", "zone_id")?.map(ZoneId::from_uuid),
            role: role_of(&row.try_get::<String>("", "role")?)?,
            email: email.as_deref().map(EmailAddress::parse).transpose()?,
            user_id: row.try_get::<Option<i64>>("", "user_id")?.map(UserId::new),
            kind: InvitationKind::parse(&kind).ok_or_else(|| anyhow!("unknown kind {kind:?}"))?,
            origin: InvitationOrigin::parse(&origin).ok_or_else(|| anyhow!("unknown origin {origin:?}"))?,
            max_uses: count("max_uses")?,
            use_count: count("use_count")?,
            expires_at: time_of(row, "", "expires_at")?,
            valid_for: Duration::seconds(row.try_get("", "valid_for_seconds")?),
            membership_duration: row.try_get::<Option<i64>>("", "membership_duration_seconds")?.map(Duration::seconds),
            status: InvitationStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
            token_hash: TokenHash::from_hex(&hash).ok_or_else(|| anyhow!("unreadable token hash"))?,
            created_by: UserId::new(row.try_get("", "created_by")?),
            created_at: time_of(row, "", "created_at")?,
            updated_at: time_of(row, "", "updated_at")?,
            version: row.try_get("", "version")?,
        })
    };
    read().with_context(|| format!("reading invitation {id}"))
}

fn acceptance(row: &QueryResult) -> anyhow::Result<Acceptance> {
    let outcome: String = row.try_get("", "outcome")?;
    Ok(Acceptance {
        id: AcceptanceId::from_uuid(row.try_get("", "id")?),
        invitation_id: InvitationId::from_uuid(row.try_get("", "invitation_id")?),
        user_id: row.try_get::<Option<i64>>("", "user_id")?.map(UserId::new),
        outcome: Outcome::parse(&outcome).ok_or_else(|| anyhow!("unknown outcome {outcome:?}"))?,
        reason: row.try_get("", "reason")?,
        at: time_of(row, "", "at")?,
        ip: row.try_get("", "ip")?,
        user_agent: row.try_get("", "user_agent")?,
    })
}

async fn insert_acceptance<C: ConnectionTrait>(c: &C, a: &Acceptance) -> Result<(), WriteError> {
    exec(
        c,
        "INSERT INTO invitation_acceptances (id, invitation_id, user_id, outcome, reason, at, ip, user_agent) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        vec![
            a.id.as_uuid().into(),
            a.invitation_id.as_uuid().into(),
            a.user_id.map(UserId::get).into(),
            a.outcome.as_str().into(),
            a.reason.clone().into(),
            a.at.into(),
            a.ip.clone().into(),
            a.user_agent.clone().into(),
        ],
    )
    .await
    .map(drop)
    .map_err(|e| failed(e, "logging an acceptance"))
}

/// Inserts an invitation row.
async fn insert_invitation<C: ConnectionTrait>(c: &C, inv: &Invitation) -> Result<(), WriteError> {
    exec(
        c,
        "INSERT INTO invitations (id, organization_id, zone_id, role, email, user_id, kind, origin, max_uses, \
         use_count, expires_at, valid_for_seconds, membership_duration_seconds, status, token_hash, created_by, \
         created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
        vec![
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
        ],
    )
    .await
    .map(drop)
    .map_err(|e| failed(e, "inserting an invitation"))
}

/// Checks every guard but `Remains` (which `execute` checks after its write).
async fn check_all<C: ConnectionTrait>(c: &C, guards: &[Guard]) -> Result<(), WriteError> {
    for guard in guards {
        check(c, guard).await?;
    }
    Ok(())
}

/// The accept transaction's body; `Conflict` makes the caller roll back.
async fn accept_in(txn: &DatabaseTransaction, plan: &AcceptPlan) -> Result<(), WriteError> {
    // The creator's membership row first, the invitation's second: the
    // order a removal locks them in, so the two never deadlock.
    check_all(txn, &plan.membership.guards).await?;
    let read = &plan.read;
    let taken = plan.invitation.user_id.filter(|_| read.user_id.is_none());
    // `Invitation::take_use`, done under the row lock so that concurrent
    // takers queue instead of overwriting each other's count.
    let took = exec(
        txn,
        "UPDATE invitations SET use_count = use_count + 1, \
         status = CASE WHEN use_count + 1 >= max_uses THEN $1 ELSE status END, \
         user_id = COALESCE(user_id, $2), version = version + 1, updated_at = $3 \
         WHERE id = $4 AND token_hash = $5 AND status = $6 AND use_count < max_uses AND expires_at > $3",
        vec![
            InvitationStatus::Accepted.as_str().into(),
            taken.map(UserId::get).into(),
            plan.log.at.into(),
            read.id.as_uuid().into(),
            read.token_hash.to_hex().into(),
            InvitationStatus::Pending.as_str().into(),
        ],
    )
    .await
    .map_err(|e| failed(e, "taking a use of an invitation"))?;
    if took != 1 {
        return Err(WriteError::Conflict);
    }
    let plans: Vec<_> = plan.end_lapsed.iter().chain([&plan.membership]).cloned().collect();
    execute(txn, &plans).await?;
    insert_acceptance(txn, &plan.log).await
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
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> anyhow::Result<Option<Invitation>> {
        let row = one(
            self.db.conn(),
            &format!("SELECT {INVITATION_COLUMNS} FROM invitations inv WHERE inv.token_hash = $1"),
            vec![hash.to_hex().into()],
        )
        .await
        .context("finding an invitation by token")?;
        row.map(|r| invitation(&r)).transpose()
    }

    async fn find(&self, id: InvitationId) -> anyhow::Result<Option<Invitation>> {
        let row = one(
            self.db.conn(),
            &format!("SELECT {INVITATION_COLUMNS} FROM invitations inv WHERE inv.id = $1"),
            vec![id.as_uuid().into()],
        )
        .await
        .with_context(|| format!("loading invitation {id}"))?;
        row.map(|r| invitation(&r)).transpose()
    }

    async fn list(&self, query: &InvitationQuery, page: &PageRequest) -> anyhow::Result<Page<Invitation>> {
        let mut values: Vec<Value> = vec![query.organization_id.as_uuid().into()];
        let mut sql = format!("SELECT {INVITATION_COLUMNS} FROM invitations inv WHERE inv.organization_id = $1");
        let bind = |values: &mut Vec<Value>, v: Value| {
            values.push(v);
            format!("${}", values.len())
        };
        let f = &query.filter;
        // The states are the model's (`InvitationFilter::state`), read at `query.at`.
        match f.state {
            None => {}
            Some(state @ (InvitationState::Pending | InvitationState::Expired)) => {
                let pending = bind(&mut values, InvitationStatus::Pending.as_str().into());
                let at = bind(&mut values, query.at.into());
                let cmp = if state == InvitationState::Pending { ">" } else { "<=" };
                sql.push_str(&format!(" AND inv.status = {pending} AND inv.expires_at {cmp} {at}"));
            }
            Some(other) => {
                let s = bind(&mut values, other.as_str().into());
                sql.push_str(&format!(" AND inv.status = {s}"));
            }
        }
        if let Some(role) = f.role {
            let p = bind(&mut values, role.as_str().into());
            sql.push_str(&format!(" AND inv.role = {p}"));
        }
        if let Some(zone) = f.zone {
            let p = bind(&mut values, zone.as_uuid().into());
            sql.push_str(&format!(" AND inv.zone_id = {p}"));
        }
        if let Some(creator) = f.created_by {
            let p = bind(&mut values, creator.get().into());
            sql.push_str(&format!(" AND inv.created_by = {p}"));
        }
        if let Some(prefix) = &f.email_prefix {
            let escaped = prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let p = bind(&mut values, format!("{escaped}%").into());
            sql.push_str(&format!(" AND inv.email LIKE {p} ESCAPE '\\'"));
        }
        if let Some(within) = &query.within {
            let list = within.iter().map(|z| bind(&mut values, z.as_uuid().into())).collect::<Vec<_>>().join(", ");
            sql.push_str(&format!(" AND inv.zone_id IN ({list})"));
        }
        if let Some(after) = page.after() {
            let id: Uuid = after.id.parse().context("an invitations cursor carries an invitation id")?;
            let at = bind(&mut values, after.created_at.into());
            let id = bind(&mut values, id.into());
            sql.push_str(&format!(" AND (inv.created_at, inv.id) < ({at}, {id})"));
        }
        let limit = bind(&mut values, i64::from(page.limit() + 1).into());
        sql.push_str(&format!(" ORDER BY inv.created_at DESC, inv.id DESC LIMIT {limit}"));
        let rows = all(self.db.conn(), &sql, values)
            .await
            .with_context(|| format!("listing invitations of {}", query.organization_id))?;
        let found = rows.iter().map(invitation).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(found, page, |i| Cursor { created_at: i.created_at, id: i.id.as_uuid().to_string() }))
    }

    async fn mine(
        &self,
        user: UserId,
        email: Option<EmailAddress>,
        at: OffsetDateTime,
        page: &PageRequest,
    ) -> anyhow::Result<Page<Invitation>> {
        let mut values: Vec<Value> = vec![
            InvitationStatus::Pending.as_str().into(),
            at.into(),
            user.get().into(),
            email.map(|e| e.as_str().to_owned()).into(),
        ];
        let mut sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations inv WHERE inv.status = $1 AND inv.expires_at > $2 \
             AND (inv.user_id = $3 OR (inv.user_id IS NULL AND inv.email = $4))"
        );
        if let Some(after) = page.after() {
            let id: Uuid = after.id.parse().context("an invitations cursor carries an invitation id")?;
            values.push(after.created_at.into());
            values.push(id.into());
            sql.push_str(&format!(" AND (inv.created_at, inv.id) < (${}, ${})", values.len() - 1, values.len()));
        }
        values.push(i64::from(page.limit() + 1).into());
        sql.push_str(&format!(" ORDER BY inv.created_at DESC, inv.id DESC LIMIT ${}", values.len()));
        let rows = all(self.db.conn(), &sql, values).await.with_context(|| format!("listing {user}'s invitations"))?;
        let found = rows.iter().map(invitation).collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(found, page, |i| Cursor { created_at: i.created_at, id: i.id.as_uuid().to_string() }))
    }

    async fn accept(&self, plan: &AcceptPlan) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an accept transaction"))?;
        let result = accept_in(&txn, plan).await;
        finish(txn, result).await
    }

    async fn log(&self, entry: &Acceptance) -> anyhow::Result<()> {
        insert_acceptance(self.db.conn(), entry)
            .await
            .map_err(anyhow::Error::new)
            .context("logging an acceptance attempt")
    }

    async fn update(
        &self,
        update: &InvitationUpdate,
        entry: Option<Acceptance>,
        mail: Option<OutboxMail>,
    ) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an invitation transaction"))?;
        let result = async {
            check_all(&txn, &update.guards).await?;
            let next = &update.next;
            let mut values: Vec<Value> = vec![
                next.status.as_str().into(),
                next.updated_at.into(),
                next.id.as_uuid().into(),
                InvitationStatus::Pending.as_str().into(),
            ];
            let mut sql = "UPDATE invitations SET status = $1, updated_at = $2, version = version + 1".to_owned();
            let mut guard = " WHERE id = $3 AND status = $4".to_owned();
            if let Some(expected) = update.expected_token {
                values.extend([next.token_hash.to_hex().into(), next.expires_at.into(), expected.to_hex().into()]);
                sql.push_str(", token_hash = $5, expires_at = $6");
                guard.push_str(" AND token_hash = $7");
            }
            sql.push_str(&guard);
            let changed = exec(&txn, &sql, values).await.map_err(|e| failed(e, "updating an invitation"))?;
            if changed != 1 {
                return Err(WriteError::Conflict);
            }
            if let Some(entry) = entry {
                insert_acceptance(&txn, &entry).await?;
            }
            if let Some(mail) = mail {
                queue_mail(&txn, &mail, next.organization_id, next.updated_at).await?;
            }
            Ok(())
        }
        .await;
        finish(txn, result).await
    }

    async fn acceptances(&self, id: InvitationId) -> anyhow::Result<Vec<Acceptance>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {ACCEPTANCE_COLUMNS} FROM invitation_acceptances WHERE invitation_id = $1 \
                 ORDER BY at DESC, id DESC LIMIT 1000"
            ),
            vec![id.as_uuid().into()],
        )
        .await
        .with_context(|| format!("loading the acceptances of {id}"))?;
        rows.iter().map(acceptance).collect()
    }

    async fn due_mails(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<OutboxMail>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {OUTBOX_COLUMNS} FROM invitation_outbox WHERE sent_at IS NULL AND abandoned_at IS NULL \
                 AND next_attempt_at <= $1 ORDER BY next_attempt_at, id LIMIT $2"
            ),
            vec![now.into(), i64::from(limit).into()],
        )
        .await
        .context("reading the invitation outbox")?;
        rows.iter().map(outbox_mail).collect()
    }

    async fn claim_mail(
        &self,
        mail: &OutboxMail,
        lease_until: OffsetDateTime,
    ) -> anyhow::Result<Option<Option<Invitation>>> {
        let txn = self.db.begin_write().await.context("starting an outbox claim")?;
        let claimed = exec(
            &txn,
            "UPDATE invitation_outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 \
             AND sent_at IS NULL AND abandoned_at IS NULL",
            vec![lease_until.into(), mail.id.as_uuid().into(), mail.next_attempt_at.into()],
        )
        .await
        .context("claiming an outbox mail")?;
        if claimed != 1 {
            txn.rollback().await.context("rolling back an outbox claim")?;
            return Ok(None);
        }
        let row = one(
            &txn,
            &format!("SELECT {INVITATION_COLUMNS} FROM invitations inv WHERE inv.id = $1"),
            vec![mail.invitation_id.as_uuid().into()],
        )
        .await
        .context("re-reading a mail's invitation")?;
        let found = row.map(|r| invitation(&r)).transpose()?;
        txn.commit().await.context("committing an outbox claim")?;
        Ok(Some(found))
    }

    async fn mail_sent(&self, id: OutboxId, now: OffsetDateTime) -> anyhow::Result<()> {
        exec(
            self.db.conn(),
            "UPDATE invitation_outbox SET sent_at = $1, last_error = NULL WHERE id = $2",
            vec![now.into(), id.as_uuid().into()],
        )
        .await
        .context("marking an outbox mail sent")?;
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
        let error: String = error.chars().take(1000).collect();
        exec(
            self.db.conn(),
            "UPDATE invitation_outbox SET attempts = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
             abandoned_at = CASE WHEN $2 IS NULL THEN $3 ELSE NULL END, last_error = $4 WHERE id = $5",
            vec![i64::from(attempts).into(), Value::from(retry_at), now.into(), error.into(), id.as_uuid().into()],
        )
        .await
        .context("recording a failed send")?;
        Ok(())
    }

    async fn mail_closed(&self, id: OutboxId, reason: &str, now: OffsetDateTime) -> anyhow::Result<()> {
        let reason: String = reason.chars().take(1000).collect();
        exec(
            self.db.conn(),
            "UPDATE invitation_outbox SET abandoned_at = $1, last_error = $2 WHERE id = $3",
            vec![now.into(), reason.into(), id.as_uuid().into()],
        )
        .await
        .context("closing an outbox mail")?;
        Ok(())
    }

    async fn imported(&self, org: OrganizationId, email: &EmailAddress) -> anyhow::Result<bool> {
        let row = one(
            self.db.conn(),
            "SELECT email FROM membership_imports WHERE organization_id = $1 AND email = $2",
            vec![org.as_uuid().into(), email.as_str().into()],
        )
        .await
        .context("checking for an earlier import")?;
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
        let txn = self.db.begin_write().await.map_err(|e| failed(e, "starting an import transaction"))?;
        let result = async {
            if let Some(invitation) = &invitation {
                insert_invitation(&txn, invitation).await?;
            }
            let applied = (join.is_some() || invitation.is_none()).then_some(now);
            let recorded = exec(
                &txn,
                "INSERT INTO membership_imports (organization_id, email, role, joined_at, invitation_id, created_at, applied_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (organization_id, email) DO NOTHING",
                vec![
                    org.as_uuid().into(),
                    line.email.as_str().into(),
                    line.role.as_str().into(),
                    line.joined_at.into(),
                    invitation.as_ref().map(|i| i.id.as_uuid()).into(),
                    now.into(),
                    Value::from(applied),
                ],
            )
            .await
            .map_err(|e| failed(e, "recording an import"))?;
            if recorded != 1 {
                // A concurrent run imported this line first.
                return Err(WriteError::Conflict);
            }
            if let Some(plan) = &join {
                accept_in(&txn, plan).await?;
            }
            Ok(())
        }
        .await;
        match finish(txn, result).await {
            Ok(()) => Ok(true),
            Err(WriteError::Conflict) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn due_imports(&self, limit: u32) -> anyhow::Result<Vec<DueImport>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT i.email AS i_email, i.role AS i_role, i.joined_at AS i_joined_at, {INVITATION_COLUMNS} \
                 FROM membership_imports i JOIN invitations inv ON inv.id = i.invitation_id \
                 WHERE i.applied_at IS NULL AND inv.status = $1 \
                 AND EXISTS (SELECT 1 FROM users u WHERE u.email = i.email AND u.email_verified = $2) \
                 ORDER BY i.created_at LIMIT $3"
            ),
            vec![InvitationStatus::Pending.as_str().into(), true.into(), i64::from(limit).into()],
        )
        .await
        .context("finding imports to apply")?;
        let mut due = Vec::with_capacity(rows.len());
        for row in &rows {
            let invitation = invitation(row)?;
            let email: String = row.try_get("", "i_email").context("an import row")?;
            let email = EmailAddress::parse(&email).context("an imported e-mail")?;
            let accounts = all(
                self.db.conn(),
                "SELECT id, email_verified FROM users WHERE email = $1 ORDER BY id",
                vec![email.as_str().into()],
            )
            .await
            .context("finding the accounts of an import")?
            .iter()
            .map(|r| {
                Ok(Account {
                    user_id: UserId::new(r.try_get("", "id")?),
                    email_verified: r.try_get("", "email_verified")?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
            due.push(DueImport {
                line: ImportLine {
                    organization: invitation.organization_id.to_string(),
                    email,
                    role: role_of(&row.try_get::<String>("", "i_role").context("an import row")?)?,
                    joined_at: time_of(row, "", "i_joined_at")?,
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
            accept_in(&txn, plan).await?;
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
            }
            Ok(())
        }
        .await;
        finish(txn, result).await.map_err(anyhow::Error::new)
    }
}

/// Marks an import applied; `false` when another replica did first.
async fn claim_import(txn: &DatabaseTransaction, due: &DueImport, at: OffsetDateTime) -> Result<bool, WriteError> {
    let claimed = exec(
        txn,
        "UPDATE membership_imports SET applied_at = $1 WHERE organization_id = $2 AND email = $3 AND applied_at IS NULL",
        vec![at.into(), due.organization_id.as_uuid().into(), due.line.email.as_str().into()],
    )
    .await
    .map_err(|e| failed(e, "claiming an import"))?;
    Ok(claimed == 1)
}

async fn queue_mail<C: ConnectionTrait>(
    c: &C,
    m: &OutboxMail,
    org: OrganizationId,
    now: OffsetDateTime,
) -> Result<(), WriteError> {
    exec(
        c,
        "INSERT INTO invitation_outbox (id, invitation_id, organization_id, recipient, organization, invited_by, role, \
         link, expires_at, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        vec![
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
        ],
    )
    .await
    .map(drop)
    .map_err(|e| failed(e, "queueing an invitation e-mail"))
}

fn outbox_mail(row: &QueryResult) -> anyhow::Result<OutboxMail> {
    let recipient: String = row.try_get("", "recipient")?;
    Ok(OutboxMail {
        id: OutboxId::from_uuid(row.try_get("", "id")?),
        invitation_id: InvitationId::from_uuid(row.try_get("", "invitation_id")?),
        mail: InvitationMail {
            to: EmailAddress::parse(&recipient).context("an outbox recipient")?,
            organization: row.try_get("", "organization")?,
            invited_by: row.try_get("", "invited_by")?,
            role: role_of(&row.try_get::<String>("", "role")?)?,
            link: row.try_get("", "link")?,
            expires_at: time_of(row, "", "expires_at")?,
        },
        attempts: u32::try_from(row.try_get::<i64>("", "attempts")?)?,
        next_attempt_at: time_of(row, "", "next_attempt_at")?,
    })
}
