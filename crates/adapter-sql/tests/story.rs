//! The repository stories every implementation must pass (the suites of
//! `users::testing` and `image_upload::testing`), run against SQLite and
//! against PostgreSQL: the same calls, the same answers. The checks that only
//! mean something for SQL (migrations, WAL, pooled connections) stay here.

use adapter_sql::{Database, PoolSettings, SqlEventLog, SqlUploadTicketRepository, SqlUserRepository};
use image_upload::testing::ticket_repository_story;
use test_support::postgres::{PgCluster, TestDatabase};
use time::macros::datetime;
use users::testing::{administration_story, event_story, new_user, upload_story, user_repository_story};
use users::{UserRepository, ViewQuery};

const WINDOW: ViewQuery =
    ViewQuery { tries_since: datetime!(2026-06-13 00:00:00 UTC), ended_since: datetime!(2026-05-14 00:00:00 UTC) };

async fn sqlite(dir: &tempfile::TempDir) -> Database {
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

/// The ticket story on a database whose tickets belong to a fresh user (the
/// requester must exist).
async fn ticket_story(db: Database) {
    let owner = SqlUserRepository::new(db.clone()).create(&new_user("idp|tickets", "t@x.io", "t")).await.unwrap();
    ticket_repository_story(&SqlUploadTicketRepository::new(db), owner.id).await;
}

#[tokio::test]
async fn the_ticket_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    ticket_story(sqlite(&dir).await).await;
}

#[tokio::test]
async fn the_ticket_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    ticket_story(db.clone()).await;
    db.close().await;
}

#[tokio::test]
async fn the_event_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite(&dir).await;
    event_story(&SqlUserRepository::new(db.clone()), &SqlEventLog::new(db)).await;
}

#[tokio::test]
async fn the_event_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    event_story(&SqlUserRepository::new(db.clone()), &SqlEventLog::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn the_administration_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    administration_story(&SqlUserRepository::new(sqlite(&dir).await)).await;
}

#[tokio::test]
async fn the_administration_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    administration_story(&SqlUserRepository::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn the_upload_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    upload_story(&SqlUserRepository::new(db.clone()), &SqlUploadTicketRepository::new(db)).await;
}

#[tokio::test]
async fn the_upload_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    upload_story(&SqlUserRepository::new(db.clone()), &SqlUploadTicketRepository::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn the_user_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap(); // idempotent
    user_repository_story(&SqlUserRepository::new(db)).await;
}

#[tokio::test]
async fn the_user_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    user_repository_story(&SqlUserRepository::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn sqlite_files_are_left_in_wal_mode() {
    use sea_orm::{ConnectionTrait as _, Statement};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    let conn = sea_orm::Database::connect(format!("{url}?mode=rw")).await.unwrap();
    drop(db);
    let row = conn
        .query_one_raw(Statement::from_string(sea_orm::DatabaseBackend::Sqlite, "PRAGMA journal_mode"))
        .await
        .unwrap()
        .unwrap();
    let mode: String = row.try_get_by_index(0).unwrap();
    assert_eq!(mode, "wal", "WAL is a property of the file once set");
}

/// A write must be visible to the very next read on any pooled connection:
/// the sign-in path reads (miss), inserts, then reads the view, and each may
/// run on a different SQLite connection.
#[tokio::test]
async fn a_new_user_is_visible_at_once_on_every_sqlite_connection() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let pool = PoolSettings { max_connections: 4, ..PoolSettings::default() };
    let db = Database::connect(&url, &pool).await.unwrap();
    db.migrate().await.unwrap();
    assert!(db.ping().await.is_ok());
    let repo = SqlUserRepository::new(db.clone());
    for i in 0..200 {
        let subject = format!("idp|v{i}");
        assert!(repo.find_by_subject(&subject).await.unwrap().is_none());
        db.ping().await.unwrap();
        let user = repo.create(&new_user(&subject, &format!("v{i}@x.io"), &format!("v{i}"))).await.unwrap();
        let view = repo.view(user.id, WINDOW).await.unwrap();
        assert!(view.is_some(), "user {i} was not visible right after it was created");
    }
}
