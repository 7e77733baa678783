//! Everything that differs between PostgreSQL and SQLite, and the only
//! module that asks which of the two it talks to. Statements elsewhere are
//! built once with sea-query and rendered for the connection's backend.
//!
//! - Row locks (`FOR SHARE`, `FOR UPDATE`) are PostgreSQL's; sea-query's
//!   SQLite builder leaves the clause out, and SQLite needs none: every
//!   writing transaction starts with `BEGIN IMMEDIATE` (`Database::begin_write`),
//!   which already serialises writers.
//! - Transaction-scoped advisory locks (quotas, upload tries, platform
//!   roles) are taken on PostgreSQL only, for the same reason.
//! - The session-scoped migration lock, and pool occupancy.
//! - Reading failures: a unique violation of a named constraint, and a race
//!   PostgreSQL resolved by aborting a statement.
//! - Text folded for a prefix search and compared in byte order, the
//!   greater of two values, and a query planned with its values on every run.

use anyhow::Context as _;
use migrations::Migrator;
use sea_orm::sea_query::{Expr, Func, LockType, PostgresQueryBuilder, Query, SelectStatement};
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, QueryResult, QuerySelect, RuntimeErr};
use sea_orm_migration::MigratorTrait as _;
use sea_query_sqlx::SqlxBinder as _;
use std::sync::Arc;

/// `text` folded as `organizations::MemberSearch::fold` folds it (ASCII
/// letters lower-cased, nothing else) and compared in byte order, which is
/// code point order: `lower(text COLLATE "C")` on PostgreSQL, whose `C`
/// collation makes `lower` ASCII-only and comparisons bytewise whatever the
/// database's locale; `lower(text)` on SQLite, which folds ASCII only and
/// compares with BINARY. The expression indexes of migration
/// `m20261204_000800_member_search` are on exactly these expressions.
pub(crate) fn ascii_folded(backend: DatabaseBackend, text: Expr) -> Expr {
    match backend {
        DatabaseBackend::Postgres => Expr::cust_with_expr(r#"lower($1 COLLATE "C")"#, text),
        _ => Func::lower(text).into(),
    }
}

/// The greater of `a` and `b`: `GREATEST` on PostgreSQL, the two-argument
/// scalar `max` on SQLite.
pub(crate) fn greatest(backend: DatabaseBackend, a: Expr, b: Expr) -> Expr {
    let name = match backend {
        DatabaseBackend::Postgres => "GREATEST",
        _ => "max",
    };
    Func::cust(name).arg(a).arg(b).into()
}

/// The rows of `select`, planned with its values on every run. On
/// PostgreSQL it runs as an unnamed statement (`persistent(false)`), not as
/// a cached prepared statement: after five runs PostgreSQL may switch a
/// prepared statement to a generic plan, which cannot see that a rare
/// search prefix is best found through the users' search indexes and walks
/// the organization's members instead (0.4 s against 0.2 ms at 100,000
/// members). SQLite plans every statement with its values already.
pub(crate) async fn query_all_planned_per_run(
    conn: &DatabaseConnection,
    select: &SelectStatement,
) -> Result<Vec<QueryResult>, DbErr> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return conn.query_all(select).await;
    }
    let (sql, values) = select.build_sqlx(PostgresQueryBuilder);
    sea_orm::sqlx::query_with(sea_orm::sqlx::AssertSqlSafe(sql), values)
        .persistent(false)
        .fetch_all(conn.get_postgres_connection_pool())
        .await
        .map(|rows| rows.into_iter().map(QueryResult::from).collect())
        .map_err(|e| DbErr::Query(RuntimeErr::SqlxError(Arc::new(e))))
}

/// Makes `select` lock the rows it reads against writers until the
/// transaction ends (`FOR SHARE`, PostgreSQL).
pub(crate) fn for_share(select: &mut SelectStatement) -> &mut SelectStatement {
    select.lock_shared()
}

/// Makes `select` lock the rows it reads until the transaction ends
/// (`FOR UPDATE`, PostgreSQL), so concurrent read-then-write transactions
/// see each other's result.
pub(crate) fn for_update(select: &mut SelectStatement) -> &mut SelectStatement {
    select.lock(LockType::Update)
}

/// [`for_update`] for an entity query.
pub(crate) fn for_update_of<Q: QuerySelect>(query: Q) -> Q {
    query.lock_exclusive()
}

/// Takes a transaction-scoped lock on `key` (PostgreSQL; on SQLite the
/// caller's `BEGIN IMMEDIATE` transaction already excludes other writers).
pub(crate) async fn advisory_xact_lock<C: ConnectionTrait>(c: &C, key: &str) -> Result<(), DbErr> {
    if c.get_database_backend() != DatabaseBackend::Postgres {
        return Ok(());
    }
    let hashed = Func::cust("hashtextextended").arg(Expr::val(key)).arg(Expr::val(0_i64));
    c.execute(&Query::select().expr(Func::cust("pg_advisory_xact_lock").arg(hashed)).to_owned()).await.map(drop)
}

/// Applies every pending migration. On PostgreSQL, under the session
/// advisory lock `lock`, so that replicas starting together migrate once:
/// the others wait, then find nothing pending.
pub(crate) async fn migrate(conn: &DatabaseConnection, lock: i64) -> anyhow::Result<()> {
    if conn.get_database_backend() != DatabaseBackend::Postgres {
        return Migrator::up(conn, None).await.context("applying database migrations");
    }
    let mut session = conn.get_postgres_connection_pool().acquire().await.context("connecting to migrate")?;
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(lock)
        .execute(&mut *session)
        .await
        .context("taking the migration lock")?;
    let applied = Migrator::up(conn, None).await.context("applying database migrations");
    // Closing the session releases the lock too, should the unlock fail.
    let unlocked = sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)").bind(lock).execute(&mut *session).await;
    if unlocked.is_err() {
        session.detach();
    }
    applied
}

/// Open and idle connections of the pool.
pub(crate) fn pool_occupancy(conn: &DatabaseConnection) -> (u32, u32) {
    match conn.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = conn.get_postgres_connection_pool();
            (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
        }
        DatabaseBackend::Sqlite => {
            let pool = conn.get_sqlite_connection_pool();
            (pool.size(), u32::try_from(pool.num_idle()).unwrap_or(u32::MAX))
        }
        _ => (0, 0),
    }
}

/// Whether `err` is a unique violation of `constraint` (named `table_column_key`
/// on PostgreSQL; reported as `table.column` by SQLite).
pub(crate) fn violates_unique(err: &DbErr, constraint: &str, sqlite_column: &str) -> bool {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(message)) => {
            message.contains(constraint) || message.contains(sqlite_column)
        }
        _ => false,
    }
}

/// Whether a failed statement lost a race PostgreSQL resolved by aborting
/// it (deadlock detected, serialization failure): the use case reads again.
pub(crate) fn lost_race(e: &DbErr) -> bool {
    let sqlx = match e {
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => e,
        _ => return false,
    };
    match sqlx.as_ref() {
        sea_orm::sqlx::Error::Database(db) => db.code().is_some_and(|c| c == "40P01" || c == "40001"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Memberships;
    use sea_orm::sea_query::ExprTrait as _;

    fn shared_read() -> SelectStatement {
        let mut select = Query::select();
        select.column(Memberships::Id).from(Memberships::Table).and_where(Expr::col(Memberships::Version).eq(1));
        for_share(&mut select);
        select
    }

    #[test]
    fn an_entity_row_lock_is_written_for_postgres_and_left_out_for_sqlite() {
        use crate::entities::users;
        use sea_orm::{EntityTrait as _, QueryTrait as _};
        let query = || for_update_of(users::Entity::find_by_id(1_i64)).into_query();
        assert!(DatabaseBackend::Postgres.build(&query()).sql.ends_with("FOR UPDATE"));
        assert!(!DatabaseBackend::Sqlite.build(&query()).sql.contains("FOR "));
    }

    #[test]
    fn a_shared_row_lock_is_written_for_postgres_and_left_out_for_sqlite() {
        let postgres = DatabaseBackend::Postgres.build(&shared_read()).sql;
        let sqlite = DatabaseBackend::Sqlite.build(&shared_read()).sql;
        assert!(postgres.ends_with("FOR SHARE"), "{postgres}");
        assert!(!sqlite.contains("FOR "), "{sqlite}");
        assert!(sqlite.contains("\"version\" = ?"), "{sqlite}");
    }
}
