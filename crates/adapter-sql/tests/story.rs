//! The repository story every implementation must pass, run against SQLite
//! and against PostgreSQL: the same calls, the same answers.

use adapter_sql::{Database, PoolSettings, SqlUploadTicketRepository, SqlUserRepository};
use image_upload::{ImageType, ObjectKey, TicketId, TicketState, TriesUsed, UploadTicket, UploadTicketRepository};
use shared_kernel::{EmailAddress, PlatformRole, UserId};
use test_support::postgres::{PgCluster, TestDatabase};
use time::Duration;
use time::macros::datetime;
use user_dto::{
    CreateUserError, DisplayName, Identity, IdentityRefresh, ManualStatus, NewUser, SetAvatarError, UserRepository,
    Username, ViewQuery,
};

const WINDOW: ViewQuery =
    ViewQuery { tries_since: datetime!(2026-06-13 00:00:00 UTC), ended_since: datetime!(2026-05-14 00:00:00 UTC) };

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).unwrap()
}

fn new_user(subject: &str, mail: &str, username: &str) -> NewUser {
    NewUser {
        identity: Identity::new(subject, Some(email(mail)), true, Some("Ada"), None, Some("Ada L")).unwrap(),
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
    let created = repo.create(&new_user("idp|1", "ada@x.io", "ada")).await.unwrap();
    assert!(created.id.get() > 0);
    assert_eq!(created.created_at, datetime!(2026-06-14 10:00:00.123456 UTC));
    assert_eq!(created.first_name.as_deref(), Some("Ada"));
    assert_eq!(created.platform_role, PlatformRole::User);

    let found = repo.find_by_subject("idp|1").await.unwrap().expect("found by subject");
    assert_eq!(found, created, "a user round-trips unchanged");
    assert!(repo.find_by_subject("idp|nobody").await.unwrap().is_none());

    assert!(matches!(repo.create(&new_user("idp|1", "other@x.io", "other")).await, Err(CreateUserError::SubjectTaken)));
    assert!(matches!(repo.create(&new_user("idp|2", "ada@y.io", "ada")).await, Err(CreateUserError::UsernameTaken)));
    let second = repo.create(&new_user("idp|2", "ada@y.io", "ada2")).await.unwrap();
    assert_ne!(second.id, created.id);

    let later = datetime!(2026-06-15 08:00:00 UTC);
    let refresh = IdentityRefresh {
        email: email("ada.l@x.io"),
        email_verified: false,
        first_name: Some("Augusta".into()),
        last_name: Some("King".into()),
    };
    let refreshed = repo.refresh_identity(created.id, &refresh, later).await.unwrap().unwrap();
    assert_eq!(refreshed.email.as_str(), "ada.l@x.io");
    assert!(!refreshed.email_verified);
    assert_eq!(refreshed.last_name.as_deref(), Some("King"));
    assert_eq!(refreshed.display_name.as_str(), "Ada L", "sign-in never touches the display name");
    assert_eq!(refreshed.updated_at, later);
    assert_eq!(refreshed.created_at, created.created_at);

    let view = repo.view(created.id, WINDOW).await.unwrap().unwrap();
    assert_eq!(view.user, refreshed);
    assert!(view.memberships.is_empty());
    assert_eq!(view.avatar_tries_used, 0);
    assert!(repo.view(UserId::new(999_999), WINDOW).await.unwrap().is_none());

    let renamed = repo
        .update_display_name(created.id, &DisplayName::parse("Countess").unwrap(), later, WINDOW)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.user.display_name.as_str(), "Countess");
    assert!(
        repo.update_display_name(UserId::new(999_999), &DisplayName::parse("Nobody").unwrap(), later, WINDOW)
            .await
            .unwrap()
            .is_none()
    );

    let busy = repo.set_manual_status(created.id, Some(ManualStatus::Busy), later, WINDOW).await.unwrap().unwrap();
    assert_eq!(busy.user.manual_status, Some(ManualStatus::Busy));
    let cleared = repo.set_manual_status(created.id, None, later, WINDOW).await.unwrap().unwrap();
    assert_eq!(cleared.user.manual_status, None);

    let found = repo.find_by_email(&email("ada.l@x.io")).await.unwrap();
    assert_eq!(found.iter().map(|u| u.subject.as_str()).collect::<Vec<_>>(), ["idp|1"]);
    assert!(repo.find_by_email(&email("nobody@x.io")).await.unwrap().is_empty());
    assert_eq!(repo.find_by_subject("idp|2").await.unwrap().unwrap().platform_role, PlatformRole::User);
}

fn ticket(owner: UserId, created_at: time::OffsetDateTime) -> UploadTicket {
    UploadTicket {
        id: TicketId::new(),
        purpose: "avatar".into(),
        owner: owner.to_string(),
        requested_by: owner,
        tmp_key: ObjectKey::parse(&format!("tmp/avatars/{owner}/{}.png", uuid::Uuid::now_v7())).unwrap(),
        image_type: ImageType::Png,
        state: TicketState::Issued,
        created_at,
        expires_at: created_at + Duration::minutes(10),
    }
}

/// Tickets, the rate-limit count the DTO shows, and the avatar transactions.
async fn upload_story(users: &dyn UserRepository, tickets: &dyn UploadTicketRepository) {
    let user = users.create(&new_user("idp|up", "up@x.io", "up")).await.unwrap();
    let t0 = datetime!(2026-06-14 12:00:00 UTC);
    let window_start = t0 - Duration::days(1);

    let mut issued = Vec::new();
    for i in 0..3 {
        let t = ticket(user.id, t0 + Duration::minutes(i));
        assert_eq!(tickets.insert_within_limit(&t, window_start, 3).await.unwrap(), Ok(()));
        issued.push(t);
    }
    let refused =
        tickets.insert_within_limit(&ticket(user.id, t0 + Duration::minutes(5)), window_start, 3).await.unwrap();
    assert_eq!(refused, Err(TriesUsed { count: 3, oldest: Some(t0) }));

    let found = tickets.find_by_tmp_key(&issued[0].tmp_key).await.unwrap().unwrap();
    assert_eq!(found, issued[0], "a ticket round-trips unchanged");
    assert!(tickets.find_by_tmp_key(&ObjectKey::parse("tmp/avatars/0/none.png").unwrap()).await.unwrap().is_none());

    // A rejected ticket stops counting; the view shows it too.
    tickets.reject(issued[0].id, t0 + Duration::minutes(6)).await.unwrap();
    assert_eq!(tickets.find_by_tmp_key(&issued[0].tmp_key).await.unwrap().unwrap().state, TicketState::Rejected);
    assert_eq!(tickets.tries_used("avatar", &user.id.to_string(), window_start).await.unwrap().count, 2);
    let window = ViewQuery { tries_since: window_start, ended_since: window_start };
    assert_eq!(users.view(user.id, window).await.unwrap().unwrap().avatar_tries_used, 2);
    let later_window = ViewQuery { tries_since: t0 + Duration::minutes(1), ended_since: window_start };
    assert_eq!(users.view(user.id, later_window).await.unwrap().unwrap().avatar_tries_used, 1);

    // Using a ticket sets the avatar; the ticket cannot be used twice.
    let key1 = ObjectKey::parse("avatars/1/one.png").unwrap();
    let previous = users.set_avatar(user.id, issued[1].id, &key1, "https://cdn/one.png", t0).await.unwrap();
    assert_eq!(previous, None);
    let again = users.set_avatar(user.id, issued[1].id, &key1, "https://cdn/one.png", t0).await;
    assert!(matches!(again, Err(SetAvatarError::TicketUsed)));
    let rejected_use = users.set_avatar(user.id, issued[0].id, &key1, "https://cdn/x.png", t0).await;
    assert!(matches!(rejected_use, Err(SetAvatarError::TicketUsed)), "a rejected ticket cannot be used");
    assert_eq!(
        users.view(user.id, window).await.unwrap().unwrap().user.avatar_url.as_deref(),
        Some("https://cdn/one.png")
    );

    let key2 = ObjectKey::parse("avatars/1/two.png").unwrap();
    let previous = users.set_avatar(user.id, issued[2].id, &key2, "https://cdn/two.png", t0).await.unwrap();
    assert_eq!(previous, Some(key1));
    assert_eq!(users.clear_avatar(user.id, t0).await.unwrap(), Some(key2));
    assert_eq!(users.clear_avatar(user.id, t0).await.unwrap(), None);
    assert!(users.view(user.id, window).await.unwrap().unwrap().user.avatar_url.is_none());
    assert!(matches!(users.clear_avatar(UserId::new(999_999), t0).await, Err(SetAvatarError::UserGone)));

    // The sweeper sees every expired, unswept ticket once.
    let after_expiry = t0 + Duration::hours(1);
    let expired = tickets.expired_unswept(after_expiry, 100).await.unwrap();
    assert_eq!(expired.len(), 3);
    assert!(tickets.expired_unswept(t0, 100).await.unwrap().is_empty());
    for t in &expired {
        tickets.mark_swept(t.id, after_expiry).await.unwrap();
        tickets.mark_swept(t.id, after_expiry).await.unwrap();
    }
    assert!(tickets.expired_unswept(after_expiry, 100).await.unwrap().is_empty());
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
