//! Replicas starting together on one PostgreSQL database each run the
//! migrations at start: the advisory lock makes one migrate and the others
//! find nothing pending, instead of racing to create the same tables. The
//! zones contract rolls back without losing a membership's zones.

use adapter_sql::{Database, PoolSettings};
use migrations::Migrator;
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

/// Rolling the zones contract back gives each membership its zones as the
/// comma-joined text again, from `membership_zones`.
#[tokio::test]
async fn rolling_the_zones_contract_back_restores_the_zones_text_from_membership_zones() {
    use sea_orm::Value;
    use sea_orm::sea_query::{Expr, ExprTrait as _, Query};
    use sea_orm_migration::MigratorTrait as _;
    let db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let conn = sea_orm::Database::connect(db.url()).await.unwrap();
    let insert = |table: &'static str, row: Vec<(&'static str, Value)>| {
        let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
        Query::insert().into_table(table).columns(columns).values_panic(values.into_iter().map(Expr::val)).to_owned()
    };
    let at = time::OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    let (org, zone, member, whole) =
        (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let user = vec![
        ("id", 1_i64.into()),
        ("subject", "s".into()),
        ("email", "a@x.io".into()),
        ("display_name", "A".into()),
        ("username", "a".into()),
        ("created_at", at.into()),
        ("updated_at", at.into()),
    ];
    let organization = vec![
        ("id", org.into()),
        ("name", "Org".into()),
        ("slug", "org".into()),
        ("created_by", 1_i64.into()),
        ("created_at", at.into()),
        ("updated_at", at.into()),
    ];
    let zone_row = vec![
        ("id", zone.into()),
        ("organization_id", org.into()),
        ("name", "Zone".into()),
        ("name_key", "zone".into()),
        ("created_at", at.into()),
    ];
    for statement in [insert("users", user), insert("organizations", organization), insert("zones", zone_row)] {
        conn.execute(&statement).await.unwrap();
    }
    for id in [member, whole] {
        let membership = vec![
            ("id", id.into()),
            ("organization_id", org.into()),
            ("user_id", 1_i64.into()),
            ("role", "member".into()),
            ("status", "inactive".into()),
            ("joined_at", at.into()),
            ("version", 1_i64.into()),
        ];
        conn.execute(&insert("memberships", membership)).await.unwrap();
    }
    conn.execute(&insert("membership_zones", vec![("membership_id", member.into()), ("zone_id", zone.into())]))
        .await
        .unwrap();

    let contract =
        Migrator::migrations().iter().position(|m| m.name() == "m20261203_000700_membership_zones_contract").unwrap();
    Migrator::down(&conn, Some(u32::try_from(Migrator::migrations().len() - contract).unwrap())).await.unwrap();

    for (id, expected) in [(member, zone.to_string()), (whole, String::new())] {
        let select = Query::select().column("zones").from("memberships").and_where(Expr::col("id").eq(id)).to_owned();
        let row = conn.query_one(&select).await.unwrap().unwrap();
        assert_eq!(row.try_get::<String>("", "zones").unwrap(), expected);
    }
}
