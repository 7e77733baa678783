//! The `WebhookStore`: endpoints, the fan-out cursor, deliveries and their
//! attempts (docs/decisions/0009-webhook-delivery.md). It writes what the
//! `webhooks` model decided; its only judgements are the port's contract:
//! the fan-out's compare-and-set on the cursor, the claim's on
//! `next_attempt_at`, and "the earliest pending delivery of a subject".

use crate::database::Database;
use crate::mapping::{get, opt_time_of, time_of};
use crate::schema::{WebhookAttempts as A, WebhookDeliveries as D, WebhookDispatch as W, WebhookEndpoints as E};
use anyhow::Context as _;
use async_trait::async_trait;
use sea_orm::sea_query::{Alias, Expr, ExprTrait as _, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, QueryResult};
use shared_kernel::{Subject, UserId};
use time::OffsetDateTime;
use uuid::Uuid;
use webhooks::{
    Attempt, Delivery, DeliveryId, DeliveryState, Endpoint, EndpointId, EndpointUrl, Failing, Health, Scope, Secret,
    Secrets, Settled, WebhookStore,
};

/// The webhook store over `db`.
#[derive(Clone)]
pub struct SqlWebhookStore {
    db: Database,
}

impl SqlWebhookStore {
    /// The store of `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }
}

fn endpoint_values(e: &Endpoint) -> anyhow::Result<[Expr; 12]> {
    let organization = match e.scope {
        Scope::Platform => None,
        Scope::Organization(org) => Some(org),
    };
    let (previous, until) = match &e.secrets.previous {
        Some((secret, until)) => (Some(secret.to_string()), Some(*until)),
        None => (None, None),
    };
    Ok([
        Expr::val(e.id.as_uuid()),
        Expr::val(organization),
        Expr::val(e.url.as_str()),
        Expr::val(serde_json::to_string(&e.event_types).context("encoding event types")?),
        Expr::val(e.enabled),
        Expr::val(e.secrets.current.to_string()),
        Expr::val(previous),
        Expr::val(until),
        Expr::val(e.failing.as_ref().map(|f| f.reason.clone())),
        Expr::val(e.failing.as_ref().map(|f| f.since)),
        Expr::val(e.created_by.get()),
        Expr::val(e.created_at),
    ])
}

fn endpoint(row: &QueryResult) -> anyhow::Result<Endpoint> {
    let scope = match get::<Option<Uuid>>(row, "", E::OrganizationId)? {
        None => Scope::Platform,
        Some(org) => Scope::Organization(org),
    };
    let types: String = get(row, "", E::EventTypes)?;
    let secret = |text: String| Secret::parse(&text).context("reading a webhook secret");
    let previous = match (get::<Option<String>>(row, "", E::PreviousSecret)?, opt_time_of(row, "", E::PreviousUntil)?) {
        (Some(text), Some(until)) => Some((secret(text)?, until)),
        _ => None,
    };
    let failing = match (get::<Option<String>>(row, "", E::FailingReason)?, opt_time_of(row, "", E::FailingSince)?) {
        (Some(reason), Some(since)) => Some(Failing { reason, since }),
        _ => None,
    };
    let url: String = get(row, "", E::Url)?;
    Ok(Endpoint {
        id: EndpointId::from_uuid(get(row, "", E::Id)?),
        scope,
        // Stored only after the model accepted it; read back as it was.
        url: EndpointUrl::stored(&url).context("reading a webhook URL")?,
        event_types: serde_json::from_str(&types).context("reading event types")?,
        enabled: get(row, "", E::Enabled)?,
        secrets: Secrets { current: secret(get(row, "", E::Secret)?)?, previous },
        failing,
        created_by: UserId::new(get(row, "", E::CreatedBy)?),
        created_at: time_of(row, "", E::CreatedAt)?,
    })
}

fn delivery_values(d: &Delivery) -> [Expr; 14] {
    [
        Expr::val(d.id.as_uuid()),
        Expr::val(d.endpoint_id.as_uuid()),
        Expr::val(d.event_position),
        Expr::val(d.event_id),
        Expr::val(d.event_type.clone()),
        Expr::val(d.subject.kind.clone()),
        Expr::val(d.subject.id.clone()),
        Expr::val(d.payload.clone()),
        Expr::val(d.replay_of.map(|r| r.as_uuid())),
        Expr::val(d.state.as_str()),
        Expr::val(i64::from(d.attempts)),
        Expr::val(d.first_attempt_at),
        Expr::val(d.next_attempt_at),
        Expr::val(d.created_at),
    ]
}

fn delivery(row: &QueryResult) -> anyhow::Result<Delivery> {
    let state: String = get(row, "", D::State)?;
    Ok(Delivery {
        id: DeliveryId::from_uuid(get(row, "", D::Id)?),
        endpoint_id: EndpointId::from_uuid(get(row, "", D::EndpointId)?),
        event_position: get(row, "", D::EventPosition)?,
        event_id: get(row, "", D::EventId)?,
        event_type: get(row, "", D::EventType)?,
        subject: Subject { kind: get(row, "", D::SubjectType)?, id: get(row, "", D::SubjectId)? },
        payload: get(row, "", D::Payload)?,
        replay_of: get::<Option<Uuid>>(row, "", D::ReplayOf)?.map(DeliveryId::from_uuid),
        state: DeliveryState::parse(&state).with_context(|| format!("unknown delivery state {state:?}"))?,
        attempts: u32::try_from(get::<i64>(row, "", D::Attempts)?).context("reading attempts")?,
        first_attempt_at: opt_time_of(row, "", D::FirstAttemptAt)?,
        next_attempt_at: time_of(row, "", D::NextAttemptAt)?,
        created_at: time_of(row, "", D::CreatedAt)?,
    })
}

fn attempt(row: &QueryResult) -> anyhow::Result<Attempt> {
    Ok(Attempt {
        at: time_of(row, "", A::AttemptedAt)?,
        status: get::<Option<i64>>(row, "", A::Status)?.map(u16::try_from).transpose().context("reading a status")?,
        latency_ms: u32::try_from(get::<i64>(row, "", A::LatencyMs)?).context("reading a latency")?,
        response: get(row, "", A::Response)?,
        error: get(row, "", A::Error)?,
    })
}

async fn insert_deliveries<C: ConnectionTrait>(c: &C, deliveries: &[Delivery]) -> anyhow::Result<()> {
    // 14 columns a row: 500 rows stay well under either database's bound-parameter limit.
    for chunk in deliveries.chunks(500) {
        let mut insert = Query::insert();
        insert.into_table(D::Table).columns(D::ALL).on_conflict(
            OnConflict::columns([D::EndpointId, D::EventPosition])
                .target_and_where(Expr::col(D::ReplayOf).is_null())
                .do_nothing()
                .to_owned(),
        );
        for d in chunk {
            insert.values_panic(delivery_values(d));
        }
        c.execute(&insert).await.context("inserting webhook deliveries")?;
    }
    Ok(())
}

#[async_trait]
impl WebhookStore for SqlWebhookStore {
    async fn create(&self, endpoint: &Endpoint) -> anyhow::Result<()> {
        let insert =
            Query::insert().into_table(E::Table).columns(E::ALL).values_panic(endpoint_values(endpoint)?).to_owned();
        self.db.conn().execute(&insert).await.context("registering a webhook endpoint")?;
        Ok(())
    }

    async fn find(&self, id: EndpointId) -> anyhow::Result<Option<Endpoint>> {
        let select =
            Query::select().columns(E::ALL).from(E::Table).and_where(Expr::col(E::Id).eq(id.as_uuid())).to_owned();
        let row = self.db.conn().query_one(&select).await.context("reading a webhook endpoint")?;
        row.as_ref().map(endpoint).transpose()
    }

    async fn list(&self, scope: Scope) -> anyhow::Result<Vec<Endpoint>> {
        let mut select = Query::select();
        select.columns(E::ALL).from(E::Table).order_by(E::CreatedAt, Order::Asc).order_by(E::Id, Order::Asc);
        match scope {
            Scope::Platform => select.and_where(Expr::col(E::OrganizationId).is_null()),
            Scope::Organization(org) => select.and_where(Expr::col(E::OrganizationId).eq(org)),
        };
        let rows = self.db.conn().query_all(&select).await.context("listing webhook endpoints")?;
        rows.iter().map(endpoint).collect()
    }

    async fn enabled(&self) -> anyhow::Result<Vec<Endpoint>> {
        let select =
            Query::select().columns(E::ALL).from(E::Table).and_where(Expr::col(E::Enabled).eq(true)).to_owned();
        let rows = self.db.conn().query_all(&select).await.context("reading enabled webhook endpoints")?;
        rows.iter().map(endpoint).collect()
    }

    async fn update(&self, e: &Endpoint) -> anyhow::Result<()> {
        let values = endpoint_values(e)?;
        let mut update = Query::update();
        update.table(E::Table);
        // Every column but the id, the scope and the registration's time.
        for (column, value) in E::ALL.into_iter().zip(values) {
            if !matches!(column, E::Id | E::OrganizationId | E::CreatedAt) {
                update.value(column, value);
            }
        }
        update.and_where(Expr::col(E::Id).eq(e.id.as_uuid()));
        self.db.conn().execute(&update).await.context("updating a webhook endpoint")?;
        Ok(())
    }

    async fn disable_orphan(&self, orphaned: &Endpoint, steward: UserId) -> anyhow::Result<()> {
        let update = Query::update()
            .table(E::Table)
            .value(E::Enabled, false)
            .value(E::FailingReason, orphaned.failing.as_ref().map(|f| f.reason.clone()))
            .value(E::FailingSince, orphaned.failing.as_ref().map(|f| f.since))
            .and_where(Expr::col(E::Id).eq(orphaned.id.as_uuid()))
            .and_where(Expr::col(E::CreatedBy).eq(steward.get()))
            .and_where(Expr::col(E::Enabled).eq(true))
            .to_owned();
        self.db.conn().execute(&update).await.context("disabling an orphaned webhook endpoint")?;
        Ok(())
    }

    async fn delete(&self, id: EndpointId) -> anyhow::Result<bool> {
        // Explicitly, children first: SQLite enforces the cascade only with its foreign-key pragma.
        let txn = self.db.begin_write().await.context("starting a webhook endpoint's deletion")?;
        let deliveries = Query::select()
            .column(D::Id)
            .from(D::Table)
            .and_where(Expr::col(D::EndpointId).eq(id.as_uuid()))
            .to_owned();
        let attempts =
            Query::delete().from_table(A::Table).and_where(Expr::col(A::DeliveryId).in_subquery(deliveries)).to_owned();
        txn.execute(&attempts).await.context("deleting a webhook endpoint's attempts")?;
        let deliveries =
            Query::delete().from_table(D::Table).and_where(Expr::col(D::EndpointId).eq(id.as_uuid())).to_owned();
        txn.execute(&deliveries).await.context("deleting a webhook endpoint's deliveries")?;
        let endpoint = Query::delete().from_table(E::Table).and_where(Expr::col(E::Id).eq(id.as_uuid())).to_owned();
        let deleted = txn.execute(&endpoint).await.context("deleting a webhook endpoint")?.rows_affected();
        txn.commit().await.context("committing a webhook endpoint's deletion")?;
        Ok(deleted == 1)
    }

    async fn dispatched(&self) -> anyhow::Result<i64> {
        let select = Query::select().column(W::Position).from(W::Table).and_where(Expr::col(W::Id).eq(1)).to_owned();
        let row = self.db.conn().query_one(&select).await.context("reading the webhook cursor")?;
        row.as_ref().map(|r| get(r, "", W::Position)).transpose().map(Option::unwrap_or_default)
    }

    async fn fan_out(&self, from: i64, to: i64, deliveries: &[Delivery]) -> anyhow::Result<bool> {
        let txn = self.db.begin_write().await.context("starting a webhook fan-out")?;
        let advance = Query::update()
            .table(W::Table)
            .value(W::Position, to)
            .and_where(Expr::col(W::Id).eq(1))
            .and_where(Expr::col(W::Position).eq(from))
            .to_owned();
        if txn.execute(&advance).await.context("moving the webhook cursor")?.rows_affected() != 1 {
            txn.rollback().await.context("rolling back a lost fan-out")?;
            return Ok(false);
        }
        insert_deliveries(&txn, deliveries).await?;
        txn.commit().await.context("committing a webhook fan-out")?;
        Ok(true)
    }

    async fn due(&self, now: OffsetDateTime, limit: u32) -> anyhow::Result<Vec<Delivery>> {
        let p = Alias::new("earlier");
        let earlier = Query::select()
            .expr(Expr::val(1))
            .from_as(D::Table, p.clone())
            .and_where(Expr::col((p.clone(), D::EndpointId)).equals((D::Table, D::EndpointId)))
            .and_where(Expr::col((p.clone(), D::SubjectType)).equals((D::Table, D::SubjectType)))
            .and_where(Expr::col((p.clone(), D::SubjectId)).equals((D::Table, D::SubjectId)))
            .and_where(Expr::col((p.clone(), D::State)).eq(DeliveryState::Pending.as_str()))
            .and_where(Expr::col((p, D::EventPosition)).lt(Expr::col((D::Table, D::EventPosition))))
            .to_owned();
        let select = Query::select()
            .columns(D::ALL.map(|c| (D::Table, c)))
            .from(D::Table)
            .inner_join(E::Table, Expr::col((E::Table, E::Id)).equals((D::Table, D::EndpointId)))
            .and_where(Expr::col((E::Table, E::Enabled)).eq(true))
            .and_where(Expr::col((D::Table, D::State)).eq(DeliveryState::Pending.as_str()))
            .and_where(Expr::col((D::Table, D::NextAttemptAt)).lte(now))
            .and_where(Expr::exists(earlier).not())
            .order_by((D::Table, D::NextAttemptAt), Order::Asc)
            .order_by((D::Table, D::EventPosition), Order::Asc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("reading due webhook deliveries")?;
        rows.iter().map(delivery).collect()
    }

    async fn claim(&self, d: &Delivery, lease_until: OffsetDateTime) -> anyhow::Result<bool> {
        let claim = Query::update()
            .table(D::Table)
            .value(D::NextAttemptAt, lease_until)
            .and_where(Expr::col(D::Id).eq(d.id.as_uuid()))
            .and_where(Expr::col(D::NextAttemptAt).eq(d.next_attempt_at))
            .and_where(Expr::col(D::State).eq(DeliveryState::Pending.as_str()))
            .to_owned();
        Ok(self.db.conn().execute(&claim).await.context("claiming a webhook delivery")?.rows_affected() == 1)
    }

    async fn settle(&self, settled: &Settled) -> anyhow::Result<()> {
        let (d, a) = (&settled.delivery, &settled.attempt);
        let txn = self.db.begin_write().await.context("starting a webhook attempt's record")?;
        // The delivery first: its row lock keeps a concurrent deletion of
        // the endpoint out until this commits, and when the endpoint was
        // deleted during the attempt there is nothing left to record.
        let update = Query::update()
            .table(D::Table)
            .value(D::State, d.state.as_str())
            .value(D::Attempts, i64::from(d.attempts))
            .value(D::FirstAttemptAt, d.first_attempt_at)
            .value(D::NextAttemptAt, d.next_attempt_at)
            .and_where(Expr::col(D::Id).eq(d.id.as_uuid()))
            .to_owned();
        if txn.execute(&update).await.context("settling a webhook delivery")?.rows_affected() == 0 {
            txn.rollback().await.context("ending the record of a deleted delivery")?;
            return Ok(());
        }
        let record = Query::insert()
            .into_table(A::Table)
            .columns([A::Id, A::DeliveryId, A::AttemptedAt, A::Status, A::LatencyMs, A::Response, A::Error])
            .values_panic([
                Expr::val(Uuid::now_v7()),
                Expr::val(d.id.as_uuid()),
                Expr::val(a.at),
                Expr::val(a.status.map(i64::from)),
                Expr::val(i64::from(a.latency_ms)),
                Expr::val(a.response.clone()),
                Expr::val(a.error.clone()),
            ])
            .to_owned();
        txn.execute(&record).await.context("recording a webhook attempt")?;
        let (reason, since) = match &settled.health {
            Health::Unchanged => (None, None),
            Health::Healthy => (Some(None), Some(None)),
            Health::Failing(f) => (Some(Some(f.reason.clone())), Some(Some(f.since))),
        };
        if let (Some(reason), Some(since)) = (reason, since) {
            let health = Query::update()
                .table(E::Table)
                .value(E::FailingReason, reason)
                .value(E::FailingSince, since)
                .and_where(Expr::col(E::Id).eq(d.endpoint_id.as_uuid()))
                .to_owned();
            txn.execute(&health).await.context("recording a webhook endpoint's health")?;
        }
        txn.commit().await.context("committing a webhook attempt")?;
        Ok(())
    }

    async fn find_delivery(&self, endpoint: EndpointId, id: DeliveryId) -> anyhow::Result<Option<Delivery>> {
        let select = Query::select()
            .columns(D::ALL)
            .from(D::Table)
            .and_where(Expr::col(D::Id).eq(id.as_uuid()))
            .and_where(Expr::col(D::EndpointId).eq(endpoint.as_uuid()))
            .to_owned();
        let row = self.db.conn().query_one(&select).await.context("reading a webhook delivery")?;
        row.as_ref().map(delivery).transpose()
    }

    async fn replay(&self, d: &Delivery) -> anyhow::Result<()> {
        insert_deliveries(self.db.conn(), std::slice::from_ref(d)).await
    }

    async fn deliveries(&self, endpoint: EndpointId, limit: u32) -> anyhow::Result<Vec<(Delivery, Vec<Attempt>)>> {
        let select = Query::select()
            .columns(D::ALL)
            .from(D::Table)
            .and_where(Expr::col(D::EndpointId).eq(endpoint.as_uuid()))
            .order_by(D::CreatedAt, Order::Desc)
            .order_by(D::EventPosition, Order::Desc)
            .order_by(D::Id, Order::Desc)
            .limit(u64::from(limit))
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("listing webhook deliveries")?;
        let deliveries = rows.iter().map(delivery).collect::<anyhow::Result<Vec<_>>>()?;
        let ids: Vec<Uuid> = deliveries.iter().map(|d| d.id.as_uuid()).collect();
        let select = Query::select()
            .columns([A::DeliveryId, A::AttemptedAt, A::Status, A::LatencyMs, A::Response, A::Error])
            .from(A::Table)
            .and_where(Expr::col(A::DeliveryId).is_in(ids))
            .order_by(A::AttemptedAt, Order::Asc)
            .order_by(A::Id, Order::Asc)
            .to_owned();
        let rows = self.db.conn().query_all(&select).await.context("listing webhook attempts")?;
        let mut attempts: Vec<(Uuid, Attempt)> =
            rows.iter().map(|r| Ok((get(r, "", A::DeliveryId)?, attempt(r)?))).collect::<anyhow::Result<_>>()?;
        Ok(deliveries
            .into_iter()
            .map(|d| {
                let mine = attempts.extract_if(.., |(id, _)| *id == d.id.as_uuid()).map(|(_, a)| a).collect();
                (d, mine)
            })
            .collect())
    }

    async fn prune(&self, cutoff: OffsetDateTime, batch: u32) -> anyhow::Result<u64> {
        let txn = self.db.begin_write().await.context("starting a webhook prune")?;
        let old = Query::select()
            .column(D::Id)
            .from(D::Table)
            .and_where(Expr::col(D::CreatedAt).lt(cutoff))
            .and_where(Expr::col(D::State).ne(DeliveryState::Pending.as_str()))
            .order_by(D::CreatedAt, Order::Asc)
            .limit(u64::from(batch))
            .to_owned();
        let rows = txn.query_all(&old).await.context("reading old webhook deliveries")?;
        let ids = rows.iter().map(|r| get::<Uuid>(r, "", D::Id)).collect::<anyhow::Result<Vec<_>>>()?;
        if ids.is_empty() {
            txn.rollback().await.context("ending an empty webhook prune")?;
            return Ok(0);
        }
        let attempts =
            Query::delete().from_table(A::Table).and_where(Expr::col(A::DeliveryId).is_in(ids.clone())).to_owned();
        txn.execute(&attempts).await.context("pruning webhook attempts")?;
        let deliveries = Query::delete().from_table(D::Table).and_where(Expr::col(D::Id).is_in(ids)).to_owned();
        let deleted = txn.execute(&deliveries).await.context("pruning webhook deliveries")?.rows_affected();
        txn.commit().await.context("committing a webhook prune")?;
        Ok(deleted)
    }
}
