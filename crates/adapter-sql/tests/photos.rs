//! The photo verification repository story and the user administration
//! methods, on SQLite and PostgreSQL; plus the PostgreSQL race: concurrent
//! opens for one user leave exactly one PENDING.

use adapter_sql::{
    Database, PoolSettings, SqlPhotoVerificationRepository, SqlUploadTicketRepository, SqlUserRepository,
};
use image_upload::{ImageType, ObjectKey, TicketId, TicketState, UploadTicket, UploadTicketRepository};
use photo_sync::{
    ApprovalSide, NewVerification, OpenError, PhotoEventKind, PhotoVerification, PhotoVerificationRepository,
    Rejection, RejectionReason, Retry, ReviewNote, Saved, StatusFilter, VerificationFilter, VerificationStatus,
};
use shared_kernel::{Actor, DiscordId, EmailAddress, PageRequest, PlatformRole, UserId};
use std::sync::Arc;
use test_support::postgres::{PgCluster, TestDatabase};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use user_dto::{AdminUserError, AdminUserUpdate, DisplayName, Identity, NewUser, User, UserRepository, Username};

const T0: OffsetDateTime = datetime!(2026-06-14 12:00:00 UTC);

/// A reviewer who owns none of the photos: four eyes forbids deciding one's own.
fn root() -> Actor {
    Actor { user_id: UserId::new(1_000_000), role: PlatformRole::Superuser }
}

fn discord(raw: &str) -> DiscordId {
    DiscordId::parse(raw).unwrap()
}

async fn user(users: &dyn UserRepository, name: &str) -> User {
    let email = EmailAddress::parse(&format!("{name}@x.io")).unwrap();
    users
        .create(&NewUser {
            identity: Identity::new(&format!("idp|{name}"), Some(email.clone()), true, None, None, None).unwrap(),
            email,
            display_name: DisplayName::parse(&format!("{name} L")).unwrap(),
            username: Username::parse(name).unwrap(),
            platform_role: PlatformRole::User,
            now: T0,
        })
        .await
        .unwrap()
}

async fn ticket(tickets: &dyn UploadTicketRepository, owner: UserId) -> TicketId {
    let t = UploadTicket {
        id: TicketId::new(),
        purpose: "avatar".into(),
        owner: owner.to_string(),
        requested_by: owner,
        tmp_key: ObjectKey::parse(&format!("tmp/avatars/{owner}/{}.png", uuid::Uuid::now_v7())).unwrap(),
        image_type: ImageType::Png,
        state: TicketState::Issued,
        created_at: T0,
        expires_at: T0 + Duration::minutes(10),
    };
    tickets.insert_within_limit(&t, T0 - Duration::days(1), 1000).await.unwrap().unwrap();
    t.id
}

fn new_verification(user: &User, n: u32) -> NewVerification {
    NewVerification {
        user_id: user.id,
        discord_id: user.discord_id.clone(),
        current_profile_url: user.avatar_url.clone(),
        url: format!("https://cdn/avatars/{}/{n}.png", user.id),
        object_key: ObjectKey::parse(&format!("avatars/{}/{n}.png", user.id)).unwrap(),
        sha256: format!("{n:064}"),
        discord: None,
    }
}

async fn connect_sqlite(dir: &tempfile::TempDir) -> Database {
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

async fn photo_story(db: Database) {
    let users = SqlUserRepository::new(db.clone());
    let tickets = SqlUploadTicketRepository::new(db.clone());
    let photos = SqlPhotoVerificationRepository::new(db.clone());
    let ada = user(&users, "ada").await;
    let ada = users
        .admin_update(
            ada.id,
            &AdminUserUpdate { discord_id: Some(Some(discord("80351110224678912"))), ..Default::default() },
            T0,
        )
        .await
        .unwrap();
    let bob = user(&users, "bob").await;

    // Opening uses the ticket; a used ticket opens nothing.
    let t1 = ticket(&tickets, ada.id).await;
    let first = PhotoVerification::open(new_verification(&ada, 1), T0);
    let opened = photos.open(t1, &first, T0).await.unwrap();
    assert_eq!(opened.verification, first.record);
    assert!(opened.superseded.is_none());
    assert_eq!(photos.find(first.record.id).await.unwrap().unwrap(), first.record, "a record round-trips");
    let again = PhotoVerification::open(new_verification(&ada, 9), T0);
    assert!(matches!(photos.open(t1, &again, T0).await, Err(OpenError::TicketUsed)));
    assert!(photos.find(again.record.id).await.unwrap().is_none());

    // A second upload supersedes the first in the same transaction.
    let t2 = ticket(&tickets, ada.id).await;
    let second = PhotoVerification::open(new_verification(&ada, 2), T0 + Duration::seconds(1));
    let opened = photos.open(t2, &second, T0 + Duration::seconds(1)).await.unwrap();
    let superseded = opened.superseded.expect("the first one is superseded");
    assert_eq!(superseded.id, first.record.id);
    assert_eq!(superseded.status, VerificationStatus::Superseded);
    assert_eq!(photos.find(first.record.id).await.unwrap().unwrap().status, VerificationStatus::Superseded);

    // The pending one is found through the user's Discord id.
    let pending = photos.pending_for_discord(&discord("80351110224678912")).await.unwrap().unwrap();
    assert_eq!(pending.id, second.record.id);
    assert!(photos.pending_for_discord(&discord("80351110224678913")).await.unwrap().is_none());

    // Compare-and-set: a stale version writes nothing and returns the current record.
    let refreshed = pending
        .refresh_discord(
            &root(),
            &discord("80351110224678912"),
            photo_sync::DiscordAvatar { url: "https://cdn/d.png".into(), hash: Some("h1".into()) },
            T0 + Duration::seconds(2),
        )
        .unwrap();
    assert_eq!(photos.save(pending.version, &refreshed).await.unwrap(), Saved::Written { replaced_avatar: None });
    let stale = pending.approve(&root(), ApprovalSide::Profile, T0 + Duration::seconds(3)).unwrap();
    match photos.save(pending.version, &stale).await.unwrap() {
        Saved::Conflict(current) => assert_eq!(*current, refreshed.record),
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Accepting sets the avatar in the same transaction and reports the replaced one.
    let current = refreshed.record;
    let accepted = current.approve(&root(), ApprovalSide::Both, T0 + Duration::seconds(4)).unwrap();
    assert_eq!(accepted.record.status, VerificationStatus::Accepted);
    assert_eq!(photos.save(current.version, &accepted).await.unwrap(), Saved::Written { replaced_avatar: None });
    let live = users.find_by_subject("idp|ada").await.unwrap().unwrap();
    assert_eq!(live.avatar_url.as_deref(), Some(accepted.record.profile.url.as_str()));

    // The event log, oldest first, with the refresh's hashes.
    let log = photos.events(second.record.id).await.unwrap();
    let kinds: Vec<_> = log.iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        vec![
            PhotoEventKind::Created,
            PhotoEventKind::DiscordRefreshed,
            PhotoEventKind::ProfileApproved,
            PhotoEventKind::DiscordApproved,
            PhotoEventKind::Accepted
        ]
    );
    assert_eq!(log[1].new_hash.as_deref(), Some("h1"));
    let first_log = photos.events(first.record.id).await.unwrap();
    assert_eq!(
        first_log.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![PhotoEventKind::Created, PhotoEventKind::Superseded]
    );

    // A third upload; accepting it replaces the previous avatar object.
    let t3 = ticket(&tickets, ada.id).await;
    let ada_now = users.find_by_subject("idp|ada").await.unwrap().unwrap();
    let third = PhotoVerification::open(new_verification(&ada_now, 3), T0 + Duration::seconds(5));
    photos.open(t3, &third, T0 + Duration::seconds(5)).await.unwrap();
    let rejection = Rejection {
        reason: RejectionReason::parse("blurry").unwrap(),
        note: Some(ReviewNote::parse("second blurry upload this week").unwrap()),
        retry: Retry::Final,
    };
    let rejected = third.record.reject(&root(), &rejection, T0 + Duration::seconds(6));
    photos.save(third.record.version, &rejected.unwrap()).await.unwrap();
    let decided = photos.last_decided(ada.id).await.unwrap().expect("the rejection is the last decision");
    assert_eq!(decided.id, third.record.id);
    assert_eq!(decided.note.as_deref(), Some("second blurry upload this week"));
    assert_eq!(decided.retry, Some(Retry::Final), "the note and the retry choice are stored");
    let t4 = ticket(&tickets, bob.id).await;
    let bobs = PhotoVerification::open(new_verification(&bob, 4), T0 + Duration::seconds(7));
    photos.open(t4, &bobs, T0 + Duration::seconds(7)).await.unwrap();
    let accepted_bob = bobs.record.approve(&root(), ApprovalSide::Profile, T0 + Duration::seconds(8)).unwrap();
    assert_eq!(accepted_bob.record.status, VerificationStatus::Accepted, "bob has no Discord id");
    photos.save(bobs.record.version, &accepted_bob).await.unwrap();
    let t5 = ticket(&tickets, bob.id).await;
    let bob_now = users.find_by_subject("idp|bob").await.unwrap().unwrap();
    let bobs2 = PhotoVerification::open(new_verification(&bob_now, 5), T0 + Duration::seconds(9));
    photos.open(t5, &bobs2, T0 + Duration::seconds(9)).await.unwrap();
    let accepted_bob2 = bobs2.record.approve(&root(), ApprovalSide::Both, T0 + Duration::seconds(10)).unwrap();
    assert_eq!(
        photos.save(bobs2.record.version, &accepted_bob2).await.unwrap(),
        Saved::Written { replaced_avatar: Some(bobs.record.profile.object_key.clone()) }
    );

    // Lists: filtered in SQL, newest first, keyset-paged, with user summaries.
    let all = VerificationFilter { user_id: None, username: None, status: StatusFilter::All };
    let page = photos.list(&all, &PageRequest::parse(Some(2), None).unwrap()).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].verification.id, bobs2.record.id);
    assert_eq!(page.items[0].user.username, "bob");
    let mut seen: Vec<_> = page.items.iter().map(|i| i.verification.id).collect();
    let mut cursor = page.next_cursor;
    while let Some(c) = cursor {
        let next = photos.list(&all, &PageRequest::parse(Some(2), Some(&c)).unwrap()).await.unwrap();
        seen.extend(next.items.iter().map(|i| i.verification.id));
        cursor = next.next_cursor;
    }
    assert_eq!(seen.len(), 5);
    let by_name = VerificationFilter { user_id: None, username: Some("ada".into()), status: StatusFilter::All };
    let adas = photos.list(&by_name, &PageRequest::default()).await.unwrap();
    assert_eq!(adas.items.len(), 3);
    assert!(adas.items.iter().all(|i| i.user.id == ada.id));
    let nobody = VerificationFilter { user_id: None, username: Some("nobody".into()), status: StatusFilter::All };
    assert!(photos.list(&nobody, &PageRequest::default()).await.unwrap().items.is_empty());
    let rejected_only = VerificationFilter {
        user_id: Some(ada.id),
        username: None,
        status: StatusFilter::Only(VerificationStatus::Rejected),
    };
    let only = photos.list(&rejected_only, &PageRequest::default()).await.unwrap();
    assert_eq!(only.items.len(), 1);
    assert_eq!(only.items[0].verification.reason.as_deref(), Some("blurry"));
}

async fn admin_story(db: Database) {
    let users = SqlUserRepository::new(db);
    let ada = user(&users, "ada").await;
    let bob = user(&users, "bob").await;
    let link = |raw: &str| AdminUserUpdate { discord_id: Some(Some(discord(raw))), ..Default::default() };
    let linked = users.admin_update(ada.id, &link("80351110224678912"), T0).await.unwrap();
    assert_eq!(linked.discord_id, Some(discord("80351110224678912")));
    assert!(matches!(
        users.admin_update(bob.id, &link("80351110224678912"), T0).await,
        Err(AdminUserError::DiscordIdTaken)
    ));
    let rename = AdminUserUpdate { username: Some(Username::parse("ada").unwrap()), ..Default::default() };
    assert!(matches!(users.admin_update(bob.id, &rename, T0).await, Err(AdminUserError::UsernameTaken)));
    assert!(matches!(users.admin_update(UserId::new(999_999), &rename, T0).await, Err(AdminUserError::NotFound)));
    let promote = AdminUserUpdate {
        platform_role: Some(PlatformRole::Superuser),
        discord_id: Some(None),
        username: Some(Username::parse("ada.l").unwrap()),
    };
    let promoted = users.admin_update(ada.id, &promote, T0).await.unwrap();
    assert_eq!(promoted.platform_role, PlatformRole::Superuser);
    assert_eq!(promoted.discord_id, None);
    assert_eq!(promoted.username.as_str(), "ada.l");
    // The unlinked id is free again.
    assert!(users.admin_update(bob.id, &link("80351110224678912"), T0).await.is_ok());

    let everyone = users.search(None, &PageRequest::parse(Some(1), None).unwrap()).await.unwrap();
    assert_eq!(everyone.items.len(), 1);
    let rest =
        users.search(None, &PageRequest::parse(Some(1), everyone.next_cursor.as_deref()).unwrap()).await.unwrap();
    assert_eq!(rest.items[0].id, bob.id);
    assert!(rest.next_cursor.is_none());
    assert_eq!(users.search(Some("ADA".into()), &PageRequest::default()).await.unwrap().items.len(), 1);
    assert_eq!(users.search(Some("bob@x".into()), &PageRequest::default()).await.unwrap().items.len(), 1);
    assert_eq!(users.search(Some("L".into()), &PageRequest::default()).await.unwrap().items.len(), 2, "display names");
    assert!(
        users.search(Some("%".into()), &PageRequest::default()).await.unwrap().items.is_empty(),
        "wildcards are literal"
    );
    assert!(users.search(Some("_".into()), &PageRequest::default()).await.unwrap().items.is_empty());
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

#[tokio::test]
async fn the_admin_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    admin_story(connect_sqlite(&dir).await).await;
}

#[tokio::test]
async fn the_admin_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    admin_story(db.clone()).await;
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
    let ada = user(&users, "ada").await;
    let mut tasks = Vec::new();
    for n in 0..20 {
        let id = ticket(&tickets, ada.id).await;
        let t = PhotoVerification::open(new_verification(&ada, n), T0);
        let photos = photos.clone();
        tasks.push(tokio::spawn(async move { photos.open(id, &t, T0).await }));
    }
    let results = futures_util::future::join_all(tasks).await;
    assert!(results.into_iter().all(|r| r.unwrap().is_ok()), "every open succeeds by superseding");
    let filter = |status| VerificationFilter { user_id: Some(ada.id), username: None, status };
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
