//! The photo verification repository on SQLite and PostgreSQL: the
//! conformance suite of `photo_verification::testing`, plus what only SQL shows:
//! the PostgreSQL race (concurrent opens for one user leave exactly one
//! PENDING) and the trigger that keeps the event log append-only.

use adapter_sql::{
    Database, PoolSettings, SqlPhotoVerificationRepository, SqlUploadTicketRepository, SqlUserRepository,
};
use async_trait::async_trait;
use photo_verification::testing::{StoryUsers, T0, event_story, new_verification, photo_repository_story, ticket};
use photo_verification::{
    PhotoVerification, PhotoVerificationRepository, StatusFilter, VerificationFilter, VerificationStatus,
};
use shared_kernel::{DiscordId, EmailAddress, PageRequest, PlatformRole, UserId};
use std::sync::Arc;
use test_support::postgres::{PgCluster, TestDatabase};
use users::{AdminUserUpdate, DisplayName, Identity, NewUser, UserRepository, Username};

/// The story's users, made through the user repository.
struct Users(SqlUserRepository);

#[async_trait]
impl StoryUsers for Users {
    async fn create_user(&self, name: &str, discord_id: Option<DiscordId>) -> UserId {
        let email = EmailAddress::parse(&format!("{name}@x.io")).unwrap();
        let user = self
            .0
            .create(&NewUser {
                identity: Identity::new(&format!("idp|{name}"), Some(email.clone()), true, None, None, None).unwrap(),
                email,
                display_name: DisplayName::parse(&format!("{name} L")).unwrap(),
                username: Username::parse(name).unwrap(),
                platform_role: PlatformRole::User,
                now: T0,
            })
            .await
            .unwrap();
        if let Some(discord_id) = discord_id {
            let link = AdminUserUpdate { discord_id: Some(Some(discord_id)), ..Default::default() };
            self.0.admin_update(user.id, &link, T0, None).await.unwrap();
        }
        user.id
    }

    async fn avatar_url(&self, id: UserId) -> Option<String> {
        self.0.find(id).await.unwrap().and_then(|u| u.avatar_url)
    }
}

async fn connect_sqlite(dir: &tempfile::TempDir) -> Database {
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

async fn photo_story(db: Database) {
    let photos = SqlPhotoVerificationRepository::new(db.clone());
    let tickets = SqlUploadTicketRepository::new(db.clone());
    photo_repository_story(&photos, &tickets, &Users(SqlUserRepository::new(db))).await;
}

#[tokio::test]
async fn the_photo_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    photo_story(connect_sqlite(&dir).await).await;
}

#[tokio::test]
async fn the_photo_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    photo_story(db.clone()).await;
    db.close().await;
}

async fn photo_event_story(db: Database) {
    let photos = SqlPhotoVerificationRepository::new(db.clone());
    let tickets = SqlUploadTicketRepository::new(db.clone());
    let log = adapter_sql::SqlEventLog::new(db.clone());
    event_story(&photos, &tickets, &Users(SqlUserRepository::new(db)), &log).await;
}

#[tokio::test]
async fn the_photo_event_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    photo_event_story(connect_sqlite(&dir).await).await;
}

#[tokio::test]
async fn the_photo_event_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    photo_event_story(db.clone()).await;
    db.close().await;
}

#[tokio::test]
async fn concurrent_opens_leave_exactly_one_pending_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let pool = PoolSettings { max_connections: 10, ..PoolSettings::default() };
    let db = Database::connect(test_db.url(), &pool).await.unwrap();
    let users = SqlUserRepository::new(db.clone());
    let tickets = SqlUploadTicketRepository::new(db.clone());
    let photos = Arc::new(SqlPhotoVerificationRepository::new(db.clone()));
    let ada = Users(users).create_user("ada", None).await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let id = ticket(&tickets, ada).await;
        let t = PhotoVerification::open(new_verification(ada, None, None, n), T0);
        let photos = photos.clone();
        tasks.push(tokio::spawn(async move { photos.open(id, &t, T0).await }));
    }
    let results = futures_util::future::join_all(tasks).await;
    assert!(results.into_iter().all(|r| r.unwrap().is_ok()), "every open succeeds by superseding");
    let filter = |status| VerificationFilter { user_id: Some(ada), username: None, status };
    let page = PageRequest::parse(Some(100), None).unwrap();
    let pending = photos.list(&filter(StatusFilter::Only(VerificationStatus::Pending)), &page).await.unwrap();
    assert_eq!(pending.items.len(), 1);
    let superseded = photos.list(&filter(StatusFilter::Only(VerificationStatus::Superseded)), &page).await.unwrap();
    assert_eq!(superseded.items.len(), 19);
    db.close().await;
}

/// Tries to rewrite the event log behind the repository's back.
async fn rewriting_the_event_log_is_refused(url: &str) {
    use sea_orm::{ConnectionTrait as _, Statement};
    let conn = sea_orm::Database::connect(url).await.unwrap();
    let backend = conn.get_database_backend();
    let accepted = || async {
        let sql = "SELECT COUNT(*) AS n FROM photo_verification_events WHERE kind = 'accepted'";
        let row = conn.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    let before = accepted().await;
    let sql = "UPDATE photo_verification_events SET kind = 'accepted'";
    let err = conn.execute_raw(Statement::from_string(backend, sql)).await.unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
    assert_eq!(accepted().await, before, "nothing was rewritten");
    conn.close().await.unwrap();
}

#[tokio::test]
async fn the_event_log_is_append_only_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = connect_sqlite(&dir).await;
    photo_story(db.clone()).await;
    db.close().await;
    rewriting_the_event_log_is_refused(&format!("sqlite://{}?mode=rw", dir.path().join("usher.db").display())).await;
}

#[tokio::test]
async fn the_event_log_is_append_only_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    photo_story(db.clone()).await;
    db.close().await;
    rewriting_the_event_log_is_refused(test_db.url()).await;
}
