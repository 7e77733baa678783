//! Connecting to PostgreSQL or SQLite, migrating, and classifying failures.

use crate::backend;
use crate::schema::InvitationOutbox;
use anyhow::Context as _;
use sea_orm::ConnectionTrait as _;
use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnAcquireErr, ConnectOptions, DatabaseBackend, DatabaseConnection, DatabaseTransaction, DbErr, RuntimeErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait as _,
};
use std::time::Duration;

/// Connection-pool settings.
#[derive(Clone, Debug)]
pub struct PoolSettings {
    /// Most connections the pool opens.
    pub max_connections: u32,
    /// How long a request waits for a connection (and a new connection for
    /// the server) before the database counts as unavailable.
    pub acquire_timeout: Duration,
}

impl Default for PoolSettings {
    fn default() -> Self {
        Self { max_connections: 10, acquire_timeout: Duration::from_secs(3) }
    }
}

/// Pool occupancy, for metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Open connections.
    pub size: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The configured maximum.
    pub max: u32,
}

/// A connected database.
#[derive(Clone, Debug)]
pub struct Database {
    conn: DatabaseConnection,
    max_connections: u32,
}

/// The PostgreSQL advisory lock key migrations run under ("usher" in ASCII).
pub const MIGRATION_LOCK: i64 = 0x0075_7368_6572;

impl Database {
    /// Connects to `url` (`postgres://…` or `sqlite://…`). A SQLite file is
    /// created if missing and runs with WAL, foreign keys on and a 5 s busy
    /// timeout, so concurrent writers wait their turn instead of failing.
    pub async fn connect(url: &str, pool: &PoolSettings) -> anyhow::Result<Self> {
        let url = if url.starts_with("sqlite:") && !url.contains("mode=") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}mode=rwc")
        } else {
            url.to_owned()
        };
        let mut options = ConnectOptions::new(url.clone());
        options
            .max_connections(pool.max_connections)
            .min_connections(0)
            .acquire_timeout(pool.acquire_timeout)
            .connect_timeout(pool.acquire_timeout)
            // sqlx logs every statement at INFO; our request spans say enough.
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|opts| {
                opts.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        let conn = sea_orm::Database::connect(options)
            .await
            .with_context(|| format!("connecting to the database at {}", redact_url(&url)))?;
        Ok(Self { conn, max_connections: pool.max_connections })
    }

    /// Applies every pending migration. On PostgreSQL, under a session
    /// advisory lock ([`MIGRATION_LOCK`]), so that replicas starting together
    /// migrate once: the others wait, then find nothing pending.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        backend::migrate(&self.conn, MIGRATION_LOCK).await
    }

    /// Invitation e-mails waiting in the outbox (neither sent nor abandoned), for the metrics.
    pub async fn outbox_depth(&self) -> anyhow::Result<i64> {
        let waiting = Query::select()
            .expr_as(Expr::col(InvitationOutbox::Id).count(), "depth")
            .from(InvitationOutbox::Table)
            .and_where(Expr::col(InvitationOutbox::SentAt).is_null())
            .and_where(Expr::col(InvitationOutbox::AbandonedAt).is_null())
            .to_owned();
        let row = self
            .conn
            .query_one(&waiting)
            .await
            .context("counting the invitation outbox")?
            .context("COUNT returned no row")?;
        row.try_get::<i64>("", "depth").context("reading the outbox count")
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.conn.ping().await.context("pinging the database")
    }

    /// Which database this is.
    pub fn backend(&self) -> DatabaseBackend {
        self.conn.get_database_backend()
    }

    /// Pool occupancy.
    pub fn pool_stats(&self) -> PoolStats {
        let (size, idle) = backend::pool_occupancy(&self.conn);
        PoolStats { size, idle, max: self.max_connections }
    }

    /// Starts a transaction that will write: on SQLite it takes the write
    /// lock up front (`BEGIN IMMEDIATE`), so two read-then-write transactions
    /// queue behind the busy timeout instead of failing to upgrade.
    pub(crate) async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        };
        self.conn.begin_with_options(options).await
    }

    /// Closes every connection.
    pub async fn close(&self) {
        // Errors on close only mean a connection was already gone.
        let _ = self.conn.close_by_ref().await;
    }

    /// The sea-orm connection, for the repositories of this crate.
    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Whether an error chain says the database could not be reached (pool
/// timeout, refused or dropped connection), as opposed to a failed statement.
/// The app answers the former with 503 and `Retry-After`.
pub fn is_unavailable(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(db) = cause.downcast_ref::<DbErr>() {
            return match db {
                DbErr::ConnectionAcquire(ConnAcquireErr::Timeout | ConnAcquireErr::ConnectionClosed)
                | DbErr::Conn(_) => true,
                DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => sqlx_unavailable(e),
                _ => false,
            };
        }
        cause.downcast_ref::<sea_orm::sqlx::Error>().is_some_and(sqlx_unavailable)
    })
}

fn sqlx_unavailable(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    match e {
        E::Io(_) | E::Tls(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Protocol(_) => true,
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 08xxx connection exceptions.
        E::Database(db) => {
            db.code().is_some_and(|c| c.starts_with("08") || matches!(c.as_ref(), "57P01" | "57P02" | "57P03"))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_from_urls() {
        assert_eq!(redact_url("postgres://usher:s3cret@db:5432/usher"), "postgres://usher:***@db:5432/usher");
        assert_eq!(redact_url("postgres://usher@db/usher"), "postgres://usher@db/usher");
        assert_eq!(redact_url("sqlite://./data/usher.db"), "sqlite://./data/usher.db");
    }

    #[test]
    fn pool_timeouts_count_as_unavailable_and_constraint_errors_do_not() {
        let timeout = anyhow::Error::new(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout)).context("loading a user");
        assert!(is_unavailable(&timeout));
        let other = anyhow::Error::new(DbErr::RecordNotFound("x".into()));
        assert!(!is_unavailable(&other));
    }
}
