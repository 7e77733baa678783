//! The `events` table: appending a change's events inside its transaction,
//! and reading the feed in commit order.
//!
//! A position is the largest one plus one, taken under a lock held until
//! the transaction ends: on PostgreSQL the transaction-scoped advisory lock
//! `events`, on SQLite the writer's `BEGIN IMMEDIATE`. So positions are
//! given out in commit order, and a reader that has seen position `n` never
//! sees one below `n` commit later. Callers append last in their
//! transaction, after every row lock they take, so the lock is held only
//! for the appends and the commit and never waits on a row lock.

use crate::backend;
use crate::database::Database;
use crate::mapping::{get, time_of};
use crate::memberships::failed;
use crate::schema::Events as E;
use anyhow::Context as _;
use async_trait::async_trait;
use organizations::WriteError;
use sea_orm::sea_query::{Expr, ExprTrait as _, Order, Query};
use sea_orm::{ConnectionTrait, QueryResult};
use shared_kernel::{Event, EventLog, FeedQuery, Recorded, Subject, UserId};
use time::OffsetDateTime;
use uuid::Uuid;

/// Every column, in the order an append writes them and a read selects them.
const COLUMNS: [E; 9] =
    [E::Position, E::Id, E::Type, E::OccurredAt, E::ActorId, E::OrganizationId, E::SubjectType, E::SubjectId, E::Data];

/// Appends `events`, in order, at the end of the feed; call it last in the writing transaction.
pub(crate) async fn append<C: ConnectionTrait>(txn: &C, events: &[Event]) -> Result<(), WriteError> {
    if events.is_empty() {
        return Ok(());
    }
    backend::advisory_xact_lock(txn, "events").await.map_err(|e| failed(e, "locking the event log"))?;
    let last = Query::select().expr_as(Expr::col(E::Position).max(), "last").from(E::Table).to_owned();
    let row = txn.query_one(&last).await.map_err(|e| failed(e, "reading the last event position"))?;
    let mut position: i64 = row
        .map(|r| r.try_get::<Option<i64>>("", "last"))
        .transpose()
        .context("reading a position")?
        .flatten()
        .unwrap_or(0);
    for event in events {
        position += 1;
        let data = serde_json::to_string(&event.data).context("encoding an event")?;
        let insert = Query::insert()
            .into_table(E::Table)
            .columns(COLUMNS)
            .values_panic([
                Expr::val(position),
                Expr::val(event.id),
                Expr::val(event.kind.clone()),
                Expr::val(event.occurred_at),
                Expr::val(event.actor_id.map(UserId::get)),
                Expr::val(event.organization_id),
                Expr::val(event.subject.kind.clone()),
                Expr::val(event.subject.id.clone()),
                Expr::val(data),
            ])
            .to_owned();
        txn.execute(&insert).await.map_err(|e| failed(e, "appending an event"))?;
    }
    Ok(())
}

fn recorded(row: &QueryResult) -> anyhow::Result<Recorded> {
    let data: String = get(row, "", E::Data)?;
    Ok(Recorded {
        position: get(row, "", E::Position)?,
        event: Event {
            id: get(row, "", E::Id)?,
            kind: get(row, "", E::Type)?,
            occurred_at: time_of(row, "", E::OccurredAt)?,
            actor_id: get::<Option<i64>>(row, "", E::ActorId)?.map(UserId::new),
            organization_id: get::<Option<Uuid>>(row, "", E::OrganizationId)?,
            subject: Subject { kind: get(row, "", E::SubjectType)?, id: get(row, "", E::SubjectId)? },
            data: serde_json::from_str(&data).context("decoding an event")?,
        },
    })
}

/// The feed over the `events` table.
#[derive(Clone)]
pub struct SqlEventLog {
    db: Database,
}

impl SqlEventLog {
    /// The feed of `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

#[async_trait]
impl EventLog for SqlEventLog {
    async fn read(&self, query: &FeedQuery) -> anyhow::Result<Vec<Recorded>> {
        let mut select = Query::select();
        select
            .columns(COLUMNS)
            .from(E::Table)
            .and_where(Expr::col(E::Position).gt(query.after))
            .order_by(E::Position, Order::Asc)
            .limit(u64::from(query.limit) + 1);
        if let Some(org) = query.organization_id {
            select.and_where(Expr::col(E::OrganizationId).eq(org));
        }
        if !query.types.is_empty() {
            select.and_where(Expr::col(E::Type).is_in(query.types.iter().map(String::as_str)));
        }
        if let Some(since) = query.since {
            select.and_where(Expr::col(E::OccurredAt).gte(since));
        }
        if let Some(until) = query.until {
            select.and_where(Expr::col(E::OccurredAt).lt(until));
        }
        if let Some(actor) = query.actor_id {
            select.and_where(Expr::col(E::ActorId).eq(actor.get()));
        }
        let rows = self.db.conn().query_all(&select).await.context("reading the event feed")?;
        rows.iter().map(recorded).collect()
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        // A subquery, since SQLite's DELETE takes no LIMIT unless built so.
        // The newest event always stays: appends number on from the largest
        // position kept, so deleting it would hand its position out again.
        let newest = Query::select().expr(Expr::col(E::Position).max()).from(E::Table).to_owned();
        let oldest = Query::select()
            .column(E::Position)
            .from(E::Table)
            .and_where(Expr::col(E::OccurredAt).lt(cutoff))
            .and_where(Expr::col(E::Position).lt(Expr::SubQuery(None, Box::new(newest.into()))))
            .order_by(E::Position, Order::Asc)
            .limit(u64::from(batch))
            .to_owned();
        let delete =
            Query::delete().from_table(E::Table).and_where(Expr::col(E::Position).in_subquery(oldest)).to_owned();
        let done = self.db.conn().execute(&delete).await.context("pruning the event log")?;
        Ok(done.rows_affected())
    }
}
