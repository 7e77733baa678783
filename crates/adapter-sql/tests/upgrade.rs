//! Upgrading a database that already holds data: the SQLite rebuild of
//! `profiles` and `profile_decisions` (issue 12's `withdrawn` state) keeps
//! every row and every reference, and the decision log stays append-only;
//! dropping the `memberships.zones` text leaves every membership's zones in
//! `membership_zones`, on SQLite and on PostgreSQL.

use migrations::Migrator;
use sea_orm::sea_query::{Expr, ExprTrait as _, Order, Query};
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, Statement, Value};
use sea_orm_migration::MigratorTrait as _;
use test_support::postgres::{PgCluster, TestDatabase};
use time::OffsetDateTime;
use uuid::Uuid;

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// How many migrations come before `name`.
fn steps_before(name: &str) -> u32 {
    let position = Migrator::migrations().iter().position(|m| m.name() == name).expect("a known migration");
    u32::try_from(position).unwrap()
}

#[tokio::test]
async fn the_sqlite_profile_rebuild_keeps_profiles_and_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("usher.db").display());
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(steps_before("m20261202_000600_reviews_and_privacy"))).await.unwrap();

    exec(&db, "INSERT INTO users (id, subject, email, display_name, username, created_at, updated_at) VALUES (1, 's', 'a@x.io', 'A', 'a', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')").await;
    exec(&db, "INSERT INTO profiles (id, user_id, state, created_at, updated_at, version) VALUES (x'01', 1, 'rejected', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', 2)").await;
    exec(&db, "INSERT INTO profiles (id, user_id, state, created_at, updated_at, version) VALUES (x'02', 1, 'drafted', '2026-01-02T00:00:00Z', '2026-01-02T00:00:00Z', 1)").await;
    exec(&db, "INSERT INTO profile_decisions (id, profile_id, admin_id, decision, reason, decided_at) VALUES (x'0a', x'01', NULL, 'rejected', 'blurry', '2026-01-01T01:00:00Z')").await;

    Migrator::up(&db, None).await.unwrap();

    assert_eq!(count(&db, "SELECT COUNT(*) FROM profiles").await, 2);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM profile_decisions WHERE reason = 'blurry' AND retry IS NULL").await, 1);
    assert_eq!(count(&db, "SELECT COUNT(*) FROM pragma_foreign_key_check").await, 0);
    // The new state is allowed, the rules still hold.
    exec(&db, "UPDATE profiles SET state = 'withdrawn' WHERE id = x'02'").await;
    let second_open = "INSERT INTO profiles (id, user_id, state, created_at, updated_at, version) VALUES (x'03', 1, 'drafted', '2026-01-03T00:00:00Z', '2026-01-03T00:00:00Z', 1)";
    exec(&db, second_open).await;
    let third_open = "INSERT INTO profiles (id, user_id, state, created_at, updated_at, version) VALUES (x'04', 1, 'submitted', '2026-01-03T00:00:00Z', '2026-01-03T00:00:00Z', 1)";
    assert!(db.execute_unprepared(third_open).await.is_err(), "one open profile per user");
    let update = "UPDATE profile_decisions SET reason = 'changed'";
    assert!(db.execute_unprepared(update).await.is_err(), "append-only");
    // Deleting the user still cascades through the rebuilt references.
    exec(&db, "DELETE FROM users WHERE id = 1").await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM profile_decisions").await, 0);
}

async fn insert(db: &DatabaseConnection, table: &'static str, row: Vec<(&'static str, Value)>) {
    let (columns, values): (Vec<_>, Vec<_>) = row.into_iter().unzip();
    let statement =
        Query::insert().into_table(table).columns(columns).values_panic(values.into_iter().map(Expr::val)).to_owned();
    db.execute(&statement).await.unwrap_or_else(|e| panic!("inserting into {table}: {e}"));
}

/// The zones `membership_zones` lists for `membership`, in order.
async fn zones_of(db: &DatabaseConnection, membership: Uuid) -> Vec<Uuid> {
    let select = Query::select()
        .column("zone_id")
        .from("membership_zones")
        .and_where(Expr::col("membership_id").eq(membership))
        .order_by("zone_id", Order::Asc)
        .to_owned();
    db.query_all(&select).await.unwrap().iter().map(|r| r.try_get::<Uuid>("", "zone_id").unwrap()).collect()
}

const ZONES_CONTRACT: &str = "m20261203_000700_membership_zones_contract";

/// Fills a database migrated up to the zones contract with memberships in
/// every state the `zones` text and `membership_zones` can be in, upgrades
/// it, and checks that each keeps the zones its text named.
async fn the_zones_contract_keeps_every_membership_zone(db: &DatabaseConnection) {
    let at = OffsetDateTime::from_unix_timestamp(1_780_000_000).unwrap();
    insert(
        db,
        "users",
        vec![
            ("id", 1_i64.into()),
            ("subject", "s".into()),
            ("email", "a@x.io".into()),
            ("display_name", "A".into()),
            ("username", "a".into()),
            ("created_at", at.into()),
            ("updated_at", at.into()),
        ],
    )
    .await;
    let org = Uuid::now_v7();
    insert(
        db,
        "organizations",
        vec![
            ("id", org.into()),
            ("name", "Org".into()),
            ("slug", "org".into()),
            ("created_by", 1_i64.into()),
            ("created_at", at.into()),
            ("updated_at", at.into()),
        ],
    )
    .await;
    let mut zones: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    zones.sort();
    for (i, zone) in zones.iter().enumerate() {
        insert(
            db,
            "zones",
            vec![
                ("id", (*zone).into()),
                ("organization_id", org.into()),
                ("name", format!("zone {i}").into()),
                ("name_key", format!("zone {i}").into()),
                ("created_at", at.into()),
            ],
        )
        .await;
    }
    let (z1, z2, z3) = (zones[0], zones[1], zones[2]);
    let gone = Uuid::now_v7();
    let joined = |text: &[Uuid]| text.iter().map(Uuid::to_string).collect::<Vec<_>>().join(",");
    // (text, rows already in membership_zones, zones expected after the upgrade)
    let cases: Vec<(String, Vec<Uuid>, Vec<Uuid>)> = vec![
        // Written by a release that wrote both: unchanged.
        (joined(&[z1, z2]), vec![z1, z2], vec![z1, z2]),
        // Written by a release older than membership_zones: backfilled.
        (joined(&[z3]), vec![], vec![z3]),
        // Narrowed by an older release: the text is the newer.
        (joined(&[z2]), vec![z1, z2], vec![z2]),
        // Widened to the whole organization by an older release.
        (String::new(), vec![z1], vec![]),
        // A zone deleted since (its row cascaded away) is not restored.
        (joined(&[gone, z3]), vec![z3], vec![z3]),
        // The whole organization all along.
        (String::new(), vec![], vec![]),
    ];
    let mut memberships = Vec::new();
    for (text, rows, expected) in cases {
        let id = Uuid::now_v7();
        insert(
            db,
            "memberships",
            vec![
                ("id", id.into()),
                ("organization_id", org.into()),
                ("user_id", 1_i64.into()),
                ("role", "member".into()),
                ("zones", text.into()),
                ("status", "inactive".into()),
                ("joined_at", at.into()),
                ("version", 1_i64.into()),
            ],
        )
        .await;
        for zone in rows {
            insert(db, "membership_zones", vec![("membership_id", id.into()), ("zone_id", zone.into())]).await;
        }
        memberships.push((id, expected));
    }

    Migrator::up(db, None).await.unwrap();

    for (id, expected) in memberships {
        assert_eq!(zones_of(db, id).await, expected, "the zones of membership {id}");
    }
    // Not `SELECT zones`: SQLite reads an unknown double-quoted name as a string.
    let columns = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Sqlite => {
            "SELECT COUNT(*) FROM pragma_table_info('memberships') WHERE name = 'zones'"
        }
        _ => {
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'memberships' AND column_name = 'zones'"
        }
    };
    assert_eq!(count(db, columns).await, 0, "memberships.zones is dropped");
}

#[tokio::test]
async fn the_zones_contract_keeps_every_membership_zone_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("usher.db").display());
    let db = Database::connect(&url).await.unwrap();
    Migrator::up(&db, Some(steps_before(ZONES_CONTRACT))).await.unwrap();
    the_zones_contract_keeps_every_membership_zone(&db).await;
    assert_eq!(count(&db, "SELECT COUNT(*) FROM pragma_foreign_key_check").await, 0);
}

#[tokio::test]
async fn the_zones_contract_keeps_every_membership_zone_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url()).await.unwrap();
    // The test database comes migrated: step back to just before the contract.
    let after = Migrator::migrations().len() - usize::try_from(steps_before(ZONES_CONTRACT)).unwrap();
    Migrator::down(&db, Some(u32::try_from(after).unwrap())).await.unwrap();
    the_zones_contract_keeps_every_membership_zone(&db).await;
}
