//! Replicas starting together on one PostgreSQL database each run the
//! migrations at start: the advisory lock makes one migrate and the others
//! find nothing pending, instead of racing to create the same tables.

use adapter_sql::{Database, PoolSettings};
use sea_orm::{ConnectionTrait as _, Statement};
use test_support::postgres::{PgCluster, TestDatabase};

#[tokio::test]
async fn four_processes_migrating_one_postgres_database_at_once_all_succeed_and_migrate_once() {
    let db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let mut replicas = Vec::new();
    for _ in 0..4 {
        replicas.push(Database::connect(db.url(), &PoolSettings::default()).await.unwrap());
    }
    let results = futures_util::future::join_all(replicas.iter().map(Database::migrate)).await;
    for result in results {
        result.expect("every replica's migration succeeds");
    }
    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    let row = conn
        .query_one_raw(Statement::from_string(
            conn.get_database_backend(),
            "SELECT COUNT(*) - COUNT(DISTINCT version) FROM seaql_migrations",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get_by_index::<i64>(0).unwrap(), 0, "each migration is recorded once");
}

/// The lock itself: while another session holds it, a migration waits for
/// it (seen in `pg_locks`, no timing involved), and runs once it is free.
#[tokio::test]
async fn a_migration_waits_for_the_session_holding_the_migration_lock() {
    use sea_orm::sqlx::{Connection as _, PgConnection};
    let db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let mut holder = PgConnection::connect(db.url()).await.unwrap();
    sea_orm::sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(adapter_sql::MIGRATION_LOCK)
        .execute(&mut holder)
        .await
        .unwrap();

    let replica = Database::connect(db.url(), &PoolSettings::default()).await.unwrap();
    let migrating = tokio::spawn(async move { replica.migrate().await });
    let mut observer = PgConnection::connect(db.url()).await.unwrap();
    loop {
        let waiting: i64 = sea_orm::sqlx::query_scalar(
            "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = \
             (SELECT oid FROM pg_database WHERE datname = current_database())",
        )
        .fetch_one(&mut observer)
        .await
        .unwrap();
        if waiting == 1 {
            break;
        }
        assert!(!migrating.is_finished(), "the migration ran while another session held the lock");
        tokio::task::yield_now().await;
    }
    sea_orm::sqlx::query("SELECT pg_advisory_unlock($1)")
        .bind(adapter_sql::MIGRATION_LOCK)
        .execute(&mut holder)
        .await
        .unwrap();
    migrating.await.unwrap().expect("the migration runs once the lock is free");
}
