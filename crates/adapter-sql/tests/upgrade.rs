//! Upgrading a database that already holds data: the SQLite rebuild of
//! `profiles` and `profile_decisions` (issue 12's `withdrawn` state) keeps
//! every row and every reference, and the decision log stays append-only.

use migrations::Migrator;
use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection, Statement};
use sea_orm_migration::MigratorTrait as _;

async fn exec(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db.query_one_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap().unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

#[tokio::test]
async fn the_sqlite_profile_rebuild_keeps_profiles_and_decisions() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("usher.db").display());
    let db = Database::connect(&url).await.unwrap();
    let all = Migrator::migrations().len();
    Migrator::up(&db, Some(u32::try_from(all - 1).unwrap())).await.unwrap();

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
