//! The repository story every implementation must pass, run against SQLite
//! and against PostgreSQL: the same calls, the same answers.

use adapter_sql::{Database, PoolSettings, SqlUserRepository};
use shared_kernel::{EmailAddress, PlatformRole, UserId};
use test_support::postgres::{PgCluster, TestDatabase};
use time::macros::datetime;
use user_dto::{
    CreateUserError, DisplayName, Identity, IdentityRefresh, ManualStatus, NewUser, UserRepository,
    Username,
};

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn new_user(subject: &str, mail: &str, username: &str) -> NewUser {
    NewUser {
        identity: Identity::new(
            subject,
            Some(email(mail)),
            true,
            Some("Ada"),
            None,
            Some("Ada L"),
        )
        .unwrap(),
        email: email(mail),
        display_name: DisplayName::parse("Ada L").unwrap(),
        username: Username::parse(username).unwrap(),
        platform_role: PlatformRole::User,
        // Nanoseconds on purpose: both databases must hand back the same
        // microsecond-truncated value.
        now: shared_kernel::truncate_to_micros(datetime!(2026-06-14 10:00:00.123456789 UTC)),
    }
}

async fn user_repository_story(repo: &dyn UserRepository) {
    let created = repo
        .create(&new_user("idp|1", "ada@x.io", "ada"))
        .await
        .unwrap();
    assert!(created.id.get() > 0);
    assert_eq!(
        created.created_at,
        datetime!(2026-06-14 10:00:00.123456 UTC)
    );
    assert_eq!(created.first_name.as_deref(), Some("Ada"));
    assert_eq!(created.platform_role, PlatformRole::User);

    let found = repo
        .find_by_subject("idp|1")
        .await
        .unwrap()
        .expect("found by subject");
    assert_eq!(found, created, "a user round-trips unchanged");
    assert!(repo.find_by_subject("idp|nobody").await.unwrap().is_none());

    assert!(matches!(
        repo.create(&new_user("idp|1", "other@x.io", "other")).await,
        Err(CreateUserError::SubjectTaken)
    ));
    assert!(matches!(
        repo.create(&new_user("idp|2", "ada@y.io", "ada")).await,
        Err(CreateUserError::UsernameTaken)
    ));
    let second = repo
        .create(&new_user("idp|2", "ada@y.io", "ada2"))
        .await
        .unwrap();
    assert_ne!(second.id, created.id);

    let later = datetime!(2026-06-15 08:00:00 UTC);
    let refresh = IdentityRefresh {
        email: email("ada.l@x.io"),
        email_verified: false,
        first_name: Some("Augusta".into()),
        last_name: Some("King".into()),
    };
    let refreshed = repo
        .refresh_identity(created.id, &refresh, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(refreshed.email.as_str(), "ada.l@x.io");
    assert!(!refreshed.email_verified);
    assert_eq!(refreshed.last_name.as_deref(), Some("King"));
    assert_eq!(
        refreshed.display_name.as_str(),
        "Ada L",
        "sign-in never touches the display name"
    );
    assert_eq!(refreshed.updated_at, later);
    assert_eq!(refreshed.created_at, created.created_at);

    let view = repo.view(created.id).await.unwrap().unwrap();
    assert_eq!(view.user, refreshed);
    assert!(view.memberships.is_empty());
    assert!(repo.view(UserId::new(999_999)).await.unwrap().is_none());

    let renamed = repo
        .update_display_name(created.id, &DisplayName::parse("Countess").unwrap(), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.user.display_name.as_str(), "Countess");
    assert!(
        repo.update_display_name(
            UserId::new(999_999),
            &DisplayName::parse("Nobody").unwrap(),
            later
        )
        .await
        .unwrap()
        .is_none()
    );

    let busy = repo
        .set_manual_status(created.id, Some(ManualStatus::Busy), later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(busy.user.manual_status, Some(ManualStatus::Busy));
    let cleared = repo
        .set_manual_status(created.id, None, later)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cleared.user.manual_status, None);

    assert_eq!(
        repo.promote_by_email(&email("ada.l@x.io"), later)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        repo.find_by_subject("idp|1")
            .await
            .unwrap()
            .unwrap()
            .platform_role,
        PlatformRole::Superuser
    );
    assert_eq!(
        repo.find_by_subject("idp|2")
            .await
            .unwrap()
            .unwrap()
            .platform_role,
        PlatformRole::User
    );
    assert_eq!(
        repo.promote_by_email(&email("nobody@x.io"), later)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn the_user_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    db.migrate().await.unwrap(); // idempotent
    user_repository_story(&SqlUserRepository::new(db)).await;
}

#[tokio::test]
async fn the_user_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    user_repository_story(&SqlUserRepository::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn sqlite_files_are_left_in_wal_mode() {
    use sea_orm::{ConnectionTrait as _, Statement};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default())
        .await
        .unwrap();
    let conn = sea_orm::Database::connect(format!("{url}?mode=rw"))
        .await
        .unwrap();
    drop(db);
    let row = conn
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Sqlite,
            "PRAGMA journal_mode",
        ))
        .await
        .unwrap()
        .unwrap();
    let mode: String = row.try_get_by_index(0).unwrap();
    assert_eq!(mode, "wal", "WAL is a property of the file once set");
}
