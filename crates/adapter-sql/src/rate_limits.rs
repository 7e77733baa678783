//! Request rate limits whose state lives in the database, so that every
//! replica counts against one allowance per key (`rate_limits`).
//!
//! The algorithm is GCRA, the one `governor` runs in process: a key's
//! *arrival* is the time at which its allowance is full again if nothing
//! else comes. A request at `now` moves it to `max(arrival, now) + interval`
//! and is allowed when that is at most `now + burst × interval`. The whole
//! step is one upsert whose `WHERE` refuses the move, so two replicas
//! taking the last request of a key at once cannot both get it: the
//! database serialises the two writes of one row.

use crate::backend;
use crate::database::Database;
use crate::schema::RateLimits as R;
use anyhow::Context as _;
use sea_orm::ConnectionTrait as _;
use sea_orm::sea_query::{Expr, ExprTrait as _, OnConflict, Query};
use std::time::Duration;
use time::OffsetDateTime;

/// A limit: `burst` requests at once, one more every `interval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    interval_us: i64,
    burst: i64,
}

impl Rate {
    /// `per_minute` requests per key in a burst, refilled evenly over a
    /// minute (at least one).
    pub fn per_minute(per_minute: u32) -> Self {
        let per_minute = i64::from(Ord::max(per_minute, 1));
        Self { interval_us: 60_000_000 / per_minute, burst: per_minute }
    }

    /// How far past `now` a key's arrival may be and still take a request.
    fn tolerance_us(self) -> i64 {
        self.interval_us.saturating_mul(self.burst)
    }
}

/// The database's rate limits.
#[derive(Clone, Debug)]
pub struct SqlRateLimits {
    db: Database,
}

impl SqlRateLimits {
    /// The limits over `db`.
    pub fn new(db: Database) -> Self {
        Self { db }
    }

    /// Takes one request of limit `name` for `key` at `now`: `Ok(())` when
    /// allowed, `Err(wait)` with how long until the next one is.
    pub async fn take(
        &self,
        name: &str,
        key: &str,
        rate: Rate,
        now: OffsetDateTime,
    ) -> anyhow::Result<Result<(), Duration>> {
        let now_us = micros(now);
        let conn = self.db.conn();
        let stored = Expr::col((R::Table, R::ArrivalUs));
        let moved = backend::greatest(conn.get_database_backend(), stored, Expr::val(now_us)).add(rate.interval_us);
        let insert = Query::insert()
            .into_table(R::Table)
            .columns([R::Name, R::Key, R::ArrivalUs])
            .values_panic([name.into(), key.into(), (now_us + rate.interval_us).into()])
            .on_conflict(
                OnConflict::columns([R::Name, R::Key])
                    .value(R::ArrivalUs, moved.clone())
                    .action_and_where(moved.lte(now_us.saturating_add(rate.tolerance_us())))
                    .to_owned(),
            )
            .returning_col(R::ArrivalUs)
            .to_owned();
        if conn.query_one(&insert).await.with_context(|| format!("taking a request of limit {name}"))?.is_some() {
            return Ok(Ok(()));
        }
        let select = Query::select()
            .column(R::ArrivalUs)
            .from(R::Table)
            .and_where(Expr::col(R::Name).eq(name))
            .and_where(Expr::col(R::Key).eq(key))
            .to_owned();
        let row = conn.query_one(&select).await.with_context(|| format!("reading limit {name}"))?;
        let arrival: i64 = match row {
            Some(row) => row.try_get("", "arrival_us").with_context(|| format!("reading limit {name}"))?,
            // Swept between the two statements: the allowance is full again.
            None => return Ok(Err(Duration::ZERO)),
        };
        let wait_us =
            arrival.saturating_add(rate.interval_us).saturating_sub(now_us).saturating_sub(rate.tolerance_us());
        Ok(Err(Duration::from_micros(u64::try_from(wait_us).unwrap_or(0))))
    }

    /// Deletes the rows whose allowance is full again at `now` (they say
    /// nothing a missing row does not); returns how many.
    pub async fn sweep(&self, now: OffsetDateTime) -> anyhow::Result<u64> {
        let delete =
            Query::delete().from_table(R::Table).and_where(Expr::col(R::ArrivalUs).lte(micros(now))).to_owned();
        Ok(self.db.conn().execute(&delete).await.context("sweeping rate limits")?.rows_affected())
    }
}

/// `at` in microseconds since the Unix epoch.
fn micros(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000).unwrap_or(i64::MAX)
}
