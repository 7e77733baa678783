//! `InvitationRepository` over raw SQL on PostgreSQL and SQLite.
//!
//! Accepting is one transaction whose first statement is a conditional
//! update of the invitation (pending, not used up, not expired, same
//! version): on PostgreSQL racing accepts queue on that row and every loser
//! sees the winner's version and changes nothing, so a link can never be
//! used more than `max_uses` times.

use crate::database::{Database, violates_unique};
use crate::memberships::{all, exec, insert_membership, one, role_of, update_membership_row};
use ::invitations::{
    Acceptance, AcceptanceId, HistoryCause, Invitation, InvitationId, InvitationKind, InvitationMail,
    InvitationRepository, InvitationState, InvitationStatus, MembershipChange, OrganizationId, OutboxId, OutboxMail,
    Outcome, TokenHash, WriteError, ZoneId,
};
use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use sea_orm::{ConnectionTrait, DatabaseTransaction, QueryResult, Value};
use shared_kernel::{EmailAddress, UserId, truncate_to_micros};
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
const INVITATION_COLUMNS: &str = "id, organization_id, zone_id, role, email, user_id, kind, max_uses, use_count, \
     expires_at, valid_for_seconds, membership_duration_seconds, status, token_hash, created_by, created_at, \
     updated_at, version";

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
            max_uses: count("max_uses")?,
            use_count: count("use_count")?,
            expires_at: truncate_to_micros(row.try_get("", "expires_at")?),
            valid_for: Duration::seconds(row.try_get("", "valid_for_seconds")?),
            membership_duration: row.try_get::<Option<i64>>("", "membership_duration_seconds")?.map(Duration::seconds),
            status: InvitationStatus::parse(&status).ok_or_else(|| anyhow!("unknown status {status:?}"))?,
            token_hash: TokenHash::from_hex(&hash).ok_or_else(|| anyhow!("unreadable token hash"))?,
            created_by: UserId::new(row.try_get("", "created_by")?),
            created_at: truncate_to_micros(row.try_get("", "created_at")?),
            updated_at: truncate_to_micros(row.try_get("", "updated_at")?),
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
        at: truncate_to_micros(row.try_get("", "at")?),
        ip: row.try_get("", "ip")?,
        user_agent: row.try_get("", "user_agent")?,
    })
}

pub(crate) async fn insert_acceptance<C: ConnectionTrait>(c: &C, a: &Acceptance) -> Result<(), sea_orm::DbErr> {
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
}

/// Inserts an invitation row.
pub(crate) async fn insert_invitation<C: ConnectionTrait>(c: &C, inv: &Invitation) -> Result<(), sea_orm::DbErr> {
    exec(
        c,
            "INSERT INTO invitations (id, organization_id, zone_id, role, email, user_id, kind, max_uses, use_count, \
             expires_at, valid_for_seconds, membership_duration_seconds, status, token_hash, created_by, created_at, \
             updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
            vec![
                inv.id.as_uuid().into(),
                inv.organization_id.as_uuid().into(),
                inv.zone_id.map(|z| z.as_uuid()).into(),
                inv.role.as_str().into(),
                inv.email.as_ref().map(|e| e.as_str().to_owned()).into(),
                inv.user_id.map(UserId::get).into(),
                inv.kind.as_str().into(),
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
}

/// The accept transaction's body; `Conflict` makes the caller roll back.
async fn accept_in(
    txn: &DatabaseTransaction,
    inv: &Invitation,
    change: &MembershipChange,
    log: &Acceptance,
    now: OffsetDateTime,
) -> Result<(), WriteError> {
    let taken = exec(
        txn,
        "UPDATE invitations SET use_count = use_count + 1, \
         status = CASE WHEN use_count + 1 >= max_uses THEN 'accepted' ELSE status END, \
         version = version + 1, updated_at = $1 \
         WHERE id = $2 AND token_hash = $3 AND status = 'pending' AND use_count < max_uses AND expires_at > $1",
        vec![now.into(), inv.id.as_uuid().into(), inv.token_hash.to_hex().into()],
    )
    .await
    .context("taking a use of an invitation")?;
    if taken != 1 {
        return Err(WriteError::Conflict);
    }
    match change {
        MembershipChange::Create(m) => match insert_membership(txn, m, HistoryCause::Invitation, None).await {
            Ok(()) => {}
            // The same user joined concurrently through another invitation.
            Err(e) if violates_unique(&e, "memberships_one_active", "memberships.organization_id") => {
                return Err(WriteError::Conflict);
            }
            Err(e) => return Err(anyhow::Error::new(e).context("inserting a membership").into()),
        },
        MembershipChange::Update { next, .. } => {
            if !update_membership_row(txn, next, HistoryCause::Invitation, None, now)
                .await
                .context("upgrading a membership")?
            {
                return Err(WriteError::Conflict);
            }
        }
    }
    insert_acceptance(txn, log).await.context("logging an acceptance")?;
    Ok(())
}

#[async_trait]
impl InvitationRepository for SqlInvitationRepository {
    async fn insert(&self, inv: &Invitation, mail: Option<OutboxMail>) -> anyhow::Result<()> {
        let txn = self.db.begin_write().await.context("starting an invitation transaction")?;
        insert_invitation(&txn, inv).await.with_context(|| format!("inserting invitation {}", inv.id))?;
        if let Some(mail) = mail {
            queue_mail(&txn, &mail, inv.created_at).await.context("queueing an invitation e-mail")?;
        }
        txn.commit().await.context("committing an invitation")?;
        Ok(())
    }

    async fn find_by_hash(&self, hash: &TokenHash) -> anyhow::Result<Option<Invitation>> {
        let row = one(
            self.db.conn(),
            &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE token_hash = $1"),
            vec![hash.to_hex().into()],
        )
        .await
        .context("finding an invitation by token")?;
        row.map(|r| invitation(&r)).transpose()
    }

    async fn find(&self, id: InvitationId) -> anyhow::Result<Option<Invitation>> {
        let row = one(
            self.db.conn(),
            &format!("SELECT {INVITATION_COLUMNS} FROM invitations WHERE id = $1"),
            vec![id.as_uuid().into()],
        )
        .await
        .with_context(|| format!("loading invitation {id}"))?;
        row.map(|r| invitation(&r)).transpose()
    }

    async fn list(
        &self,
        org: OrganizationId,
        state: Option<InvitationState>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Invitation>> {
        let (filter, extra): (&str, Vec<Value>) = match state {
            None => ("", vec![]),
            Some(InvitationState::Pending) => (" AND status = 'pending' AND expires_at > $2", vec![now.into()]),
            Some(InvitationState::Expired) => (" AND status = 'pending' AND expires_at <= $2", vec![now.into()]),
            Some(other) => (" AND status = $2", vec![other.as_str().into()]),
        };
        let mut values: Vec<Value> = vec![org.as_uuid().into()];
        values.extend(extra);
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM invitations WHERE organization_id = $1{filter} ORDER BY created_at DESC, id DESC LIMIT 1000"
        );
        let rows = all(self.db.conn(), &sql, values).await.with_context(|| format!("listing invitations of {org}"))?;
        rows.iter().map(invitation).collect()
    }

    async fn mine(
        &self,
        user: UserId,
        email: Option<EmailAddress>,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<Invitation>> {
        let rows = all(
            self.db.conn(),
            &format!(
                "SELECT {INVITATION_COLUMNS} FROM invitations WHERE status = 'pending' AND expires_at > $1 \
                 AND (user_id = $2 OR email = $3) ORDER BY created_at DESC, id DESC LIMIT 1000"
            ),
            vec![now.into(), user.get().into(), email.map(|e| e.as_str().to_owned()).into()],
        )
        .await
        .with_context(|| format!("listing {user}'s invitations"))?;
        rows.iter().map(invitation).collect()
    }

    async fn accept(
        &self,
        invitation: &Invitation,
        change: &MembershipChange,
        log: &Acceptance,
        now: OffsetDateTime,
    ) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.context("starting an accept transaction")?;
        match accept_in(&txn, invitation, change, log, now).await {
            Ok(()) => {
                txn.commit().await.context("committing an acceptance")?;
                Ok(())
            }
            Err(e) => {
                txn.rollback().await.context("rolling back an acceptance")?;
                Err(e)
            }
        }
    }

    async fn log(&self, entry: &Acceptance) -> anyhow::Result<()> {
        insert_acceptance(self.db.conn(), entry).await.context("logging an acceptance attempt")
    }

    async fn update(
        &self,
        next: &Invitation,
        entry: Option<Acceptance>,
        mail: Option<OutboxMail>,
    ) -> Result<(), WriteError> {
        let txn = self.db.begin_write().await.context("starting an invitation transaction")?;
        let changed = exec(
            &txn,
            "UPDATE invitations SET status = $1, token_hash = $2, expires_at = $3, updated_at = $4, version = $5 \
             WHERE id = $6 AND version = $7",
            vec![
                next.status.as_str().into(),
                next.token_hash.to_hex().into(),
                next.expires_at.into(),
                next.updated_at.into(),
                next.version.into(),
                next.id.as_uuid().into(),
                (next.version - 1).into(),
            ],
        )
        .await
        .context("updating an invitation")?;
        if changed != 1 {
            txn.rollback().await.context("rolling back an invitation change")?;
            return Err(WriteError::Conflict);
        }
        if let Some(entry) = entry {
            insert_acceptance(&txn, &entry).await.context("logging an invitation change")?;
        }
        if let Some(mail) = mail {
            queue_mail(&txn, &mail, next.updated_at).await.context("queueing an invitation e-mail")?;
        }
        txn.commit().await.context("committing an invitation change")?;
        Ok(())
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

    async fn claim_mail(&self, mail: &OutboxMail, lease_until: OffsetDateTime) -> anyhow::Result<bool> {
        let claimed = exec(
            self.db.conn(),
            "UPDATE invitation_outbox SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3 AND sent_at IS NULL",
            vec![lease_until.into(), mail.id.as_uuid().into(), mail.next_attempt_at.into()],
        )
        .await
        .context("claiming an outbox mail")?;
        Ok(claimed == 1)
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
}

async fn queue_mail<C: ConnectionTrait>(c: &C, m: &OutboxMail, now: OffsetDateTime) -> Result<(), sea_orm::DbErr> {
    exec(
        c,
        "INSERT INTO invitation_outbox (id, invitation_id, recipient, organization, invited_by, role, link, \
         expires_at, attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        vec![
            m.id.as_uuid().into(),
            m.invitation_id.as_uuid().into(),
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
            expires_at: truncate_to_micros(row.try_get("", "expires_at")?),
        },
        attempts: u32::try_from(row.try_get::<i64>("", "attempts")?)?,
        next_attempt_at: truncate_to_micros(row.try_get("", "next_attempt_at")?),
    })
}
