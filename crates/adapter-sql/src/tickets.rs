//! `UploadTicketRepository` over sea-orm. The per-owner rate limit is exact
//! across processes: the count and the insert run in one transaction that
//! holds a per-owner lock (a transaction-scoped advisory lock on PostgreSQL,
//! the database write lock taken up front on SQLite).

use crate::backend;
use crate::database::Database;
use crate::entities::upload_tickets::{ActiveModel, Column, Entity};
use crate::mapping;
use anyhow::Context as _;
use async_trait::async_trait;
use image_upload::{ObjectKey, TicketId, TicketState, TriesUsed, UploadTicket, UploadTicketRepository};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait as _, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    QuerySelect as _,
};
use time::OffsetDateTime;

/// Upload tickets in PostgreSQL or SQLite.
#[derive(Clone, Debug)]
pub struct SqlUploadTicketRepository {
    db: Database,
}

impl SqlUploadTicketRepository {
    /// A repository over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

/// Marks an issued ticket used inside the caller's transaction (an avatar,
/// a photo verification or a logo finalize); `false` when it was not
/// `issued` any more, so a ticket finalizes once however many race.
pub(crate) async fn mark_used(
    conn: &impl ConnectionTrait,
    ticket: TicketId,
    now: OffsetDateTime,
) -> anyhow::Result<bool> {
    let used = Entity::update_many()
        .col_expr(Column::State, Expr::value(TicketState::Used.as_str()))
        .col_expr(Column::DecidedAt, Expr::value(now))
        .filter(Column::Id.eq(ticket.as_uuid()))
        .filter(Column::State.eq(TicketState::Issued.as_str()))
        .exec(conn)
        .await
        .with_context(|| format!("using upload ticket {ticket}"))?;
    Ok(used.rows_affected == 1)
}

/// Tries counted in a window: tickets that were not rejected.
pub(crate) async fn tries_used(
    conn: &impl ConnectionTrait,
    purpose: &str,
    owner: &str,
    window_start: OffsetDateTime,
) -> anyhow::Result<TriesUsed> {
    let rows = Entity::find()
        .filter(Column::Purpose.eq(purpose))
        .filter(Column::Owner.eq(owner))
        .filter(Column::CreatedAt.gt(window_start))
        .filter(Column::State.ne(TicketState::Rejected.as_str()))
        .order_by_asc(Column::CreatedAt)
        .select_only()
        .column(Column::CreatedAt)
        .into_tuple::<OffsetDateTime>()
        .all(conn)
        .await
        .context("counting upload tries")?;
    Ok(TriesUsed { count: u32::try_from(rows.len()).unwrap_or(u32::MAX), oldest: rows.first().copied() })
}

#[async_trait]
impl UploadTicketRepository for SqlUploadTicketRepository {
    async fn insert_within_limit(
        &self,
        ticket: &UploadTicket,
        window_start: OffsetDateTime,
        limit: u32,
    ) -> anyhow::Result<Result<(), TriesUsed>> {
        let txn = self.db.begin_write().await.context("starting an upload-ticket transaction")?;
        let lock_key = format!("upload:{}:{}", ticket.purpose, ticket.owner);
        backend::advisory_xact_lock(&txn, &lock_key).await.context("locking the owner's upload tries")?;
        let used = tries_used(&txn, &ticket.purpose, &ticket.owner, window_start).await?;
        if used.count >= limit {
            txn.rollback().await.context("ending an upload-ticket transaction")?;
            return Ok(Err(used));
        }
        ActiveModel {
            id: Set(ticket.id.as_uuid()),
            purpose: Set(ticket.purpose.clone()),
            owner: Set(ticket.owner.clone()),
            requested_by: Set(ticket.requested_by.get()),
            tmp_key: Set(ticket.tmp_key.as_str().to_owned()),
            content_type: Set(ticket.image_type.mime().to_owned()),
            state: Set(ticket.state.as_str().to_owned()),
            created_at: Set(ticket.created_at),
            expires_at: Set(ticket.expires_at),
            decided_at: Set(None),
            swept_at: Set(None),
        }
        .insert(&txn)
        .await
        .context("inserting an upload ticket")?;
        txn.commit().await.context("committing an upload ticket")?;
        Ok(Ok(()))
    }

    async fn find_by_tmp_key(&self, key: &ObjectKey) -> anyhow::Result<Option<UploadTicket>> {
        Entity::find()
            .filter(Column::TmpKey.eq(key.as_str()))
            .one(self.db.conn())
            .await
            .context("finding an upload ticket")?
            .map(mapping::ticket)
            .transpose()
    }

    async fn reject(&self, id: TicketId, now: OffsetDateTime) -> anyhow::Result<()> {
        Entity::update_many()
            .col_expr(Column::State, Expr::value(TicketState::Rejected.as_str()))
            .col_expr(Column::DecidedAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::State.eq(TicketState::Issued.as_str()))
            .exec(self.db.conn())
            .await
            .with_context(|| format!("rejecting upload ticket {id}"))?;
        Ok(())
    }

    async fn tries_used(&self, purpose: &str, owner: &str, window_start: OffsetDateTime) -> anyhow::Result<TriesUsed> {
        tries_used(self.db.conn(), purpose, owner, window_start).await
    }

    async fn expired_unswept(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<UploadTicket>> {
        Entity::find()
            .filter(Column::SweptAt.is_null())
            .filter(Column::ExpiresAt.lt(now))
            .order_by_asc(Column::ExpiresAt)
            .limit(u64::from(limit))
            .all(self.db.conn())
            .await
            .context("listing expired upload tickets")?
            .into_iter()
            .map(mapping::ticket)
            .collect()
    }

    async fn mark_swept(&self, id: TicketId, now: OffsetDateTime) -> anyhow::Result<()> {
        Entity::update_many()
            .col_expr(Column::SweptAt, Expr::value(now))
            .filter(Column::Id.eq(id.as_uuid()))
            .filter(Column::SweptAt.is_null())
            .exec(self.db.conn())
            .await
            .with_context(|| format!("marking upload ticket {id} swept"))?;
        Ok(())
    }
}
