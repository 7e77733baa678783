//! The profile repository on SQLite and PostgreSQL: the conformance suite
//! of `profile_verification::testing` (one open profile, compare-and-set
//! edits and decisions, the log, labels, paging, shredding), and what only
//! SQL storage can show: sealed personal data (the raw row holds no
//! plaintext), an append-only log, key rotation, legacy plaintext columns,
//! and a restored backup that stays sealed after an erasure.

use adapter_crypto::KeyRing;
use adapter_sql::{Database, PoolSettings, SqlProfileRepository, SqlUserRepository};
use async_trait::async_trait;
use profile_verification::testing::{StoryUsers, T0, event_story, open, profile_repository_story};
use profile_verification::{CreateProfileError, ProfilePolicy, ProfileRepository, Verdict};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use shared_kernel::{Actor, EmailAddress, PlatformRole, UserId};
use std::sync::Arc;
use test_support::postgres::{PgCluster, TestDatabase};
use time::Duration;
use users::{DisplayName, Identity, NewUser, UserRepository, Username};

fn ring(keys: &[(&str, u8)], active: &str) -> Arc<KeyRing> {
    Arc::new(KeyRing::new(keys.iter().map(|(id, b)| ((*id).to_owned(), [*b; 32])), active).unwrap())
}

/// The story's users, made through the user repository.
struct Users(SqlUserRepository);

#[async_trait]
impl StoryUsers for Users {
    async fn create_user(&self, n: u32, email_verified: bool) -> UserId {
        let mail = EmailAddress::parse(&format!("u{n}@x.io")).unwrap();
        let created = self
            .0
            .create(&NewUser {
                identity: Identity::new(&format!("idp|{n}"), Some(mail.clone()), email_verified, None, None, None)
                    .unwrap(),
                email: mail,
                display_name: DisplayName::parse(&format!("User {n}")).unwrap(),
                username: Username::parse(&format!("u{n}")).unwrap(),
                platform_role: PlatformRole::User,
                now: T0,
            })
            .await
            .unwrap();
        created.id
    }
}

async fn raw_rows(conn: &sea_orm::DatabaseConnection, sql: &str) -> Vec<String> {
    let rows = conn.query_all_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
    rows.iter()
        .map(|row| {
            (0..16)
                .filter_map(|i| row.try_get_by_index::<Option<String>>(i).ok().flatten())
                .collect::<Vec<_>>()
                .join("|")
        })
        .collect()
}

async fn sealing_story(db: Database, raw: sea_orm::DatabaseConnection) {
    let users = Users(SqlUserRepository::new(db.clone()));
    let repo = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1)], "k1"));
    let actor = |id| Actor { user_id: id, role: PlatformRole::User };
    let ada = actor(users.create_user(1, true).await);
    let admin = Actor { user_id: users.create_user(3, true).await, role: PlatformRole::Superuser };

    let draft = open(&ada, true, T0);
    repo.create(&draft, &profile_verification::events::opened(&draft)).await.unwrap();

    // The raw row holds none of the personal data.
    let sql = "SELECT first_name, last_name, dob, address, postcode, city, metadata, country FROM profiles";
    let text = raw_rows(&raw, sql).await.join("\n");
    for secret in ["Augusta", "Lovelace", "1990-02-28", "1990", "James", "Square", "SW1Y", "London", "kyc"] {
        assert!(!text.contains(secret), "{secret} is stored in plaintext: {text}");
    }
    assert!(text.contains("d1."), "sealed with the user's data key: {text}");
    let wrapped = raw_rows(&raw, "SELECT wrapped FROM user_data_keys").await.join("\n");
    assert!(wrapped.contains("v1.k1."), "data keys are wrapped by the ring and name its key: {wrapped}");
    assert!(text.contains("GB"), "the country alone is not sealed: {text}");

    // The log is append-only.
    let decided = draft.decide(&admin, Verdict::Verify(None), &ProfilePolicy::default(), T0).unwrap();
    assert!(repo.decide(&decided, draft.version).await.unwrap());
    let update = "UPDATE profile_decisions SET reason = 'changed'";
    assert!(raw.execute_raw(Statement::from_string(raw.get_database_backend(), update)).await.is_err());

    // Rotation: a ring that still holds k1 reads old rows and seals new ones with k2.
    let rotated = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1), ("k2", 2)], "k2"));
    assert_eq!(rotated.find(draft.id).await.unwrap().unwrap().fields, draft.fields);
    let carl = actor(users.create_user(4, true).await);
    let newer = open(&carl, false, T0 + Duration::minutes(8));
    rotated.create(&newer, &profile_verification::events::opened(&newer)).await.unwrap();
    let sql = format!("SELECT wrapped FROM user_data_keys WHERE user_id = {}", carl.user_id);
    assert!(raw_rows(&raw, &sql).await[0].starts_with("v1.k2."), "a new user's data key is wrapped by the new key");
    // Without k1, old rows fail loudly instead of returning garbage.
    let without = SqlProfileRepository::new(db.clone(), ring(&[("k2", 2)], "k2"));
    assert!(without.find(draft.id).await.is_err());
    assert!(without.find(newer.id).await.unwrap().is_some());

    // Postcode, city and metadata written in plaintext before they were sealed still read.
    let legacy = format!(
        "UPDATE profiles SET postcode = '75001', city = 'Paris', metadata = '{{\"legacy\":true}}' WHERE user_id = {}",
        carl.user_id
    );
    raw.execute_raw(Statement::from_string(raw.get_database_backend(), legacy)).await.unwrap();
    let read = rotated.find(newer.id).await.unwrap().unwrap().fields;
    assert_eq!(read.city.as_ref().map(|c| c.as_str()), Some("Paris"));
    assert_eq!(read.postcode.as_ref().map(|c| c.as_str()), Some("75001"));
    assert_eq!(read.metadata.as_ref().map(|m| m.to_json()), Some(r#"{"legacy":true}"#.to_owned()));

    // Erasure destroys the user's data key: a copy of the sealed values (a
    // backup) restored later no longer opens.
    let sql = format!("SELECT first_name FROM profiles WHERE user_id = {} AND first_name IS NOT NULL", ada.user_id);
    let backup = raw_rows(&raw, &sql).await;
    assert!(!backup.is_empty() && backup.iter().all(|v| v.starts_with("d1.")), "sealed with the data key: {backup:?}");
    repo.shred(ada.user_id).await.unwrap();
    let restore = format!("UPDATE profiles SET first_name = '{}' WHERE user_id = {}", backup[0], ada.user_id);
    raw.execute_raw(Statement::from_string(raw.get_database_backend(), restore)).await.unwrap();
    let restored = repo.of_user(ada.user_id).await.unwrap();
    assert!(restored.iter().all(|p| p.fields.first_name.is_none()), "a restored backup stays sealed for good");
    let late = open(&ada, false, T0 + Duration::minutes(13));
    let refused = repo.create(&late, &profile_verification::events::opened(&late)).await;
    assert!(matches!(refused, Err(CreateProfileError::UserMissing)), "no new key for an erased user");
}

async fn sqlite(dir: &tempfile::TempDir) -> (Database, sea_orm::DatabaseConnection) {
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let raw = sea_orm::Database::connect(format!("{url}?mode=rw")).await.unwrap();
    assert_eq!(raw.get_database_backend(), DatabaseBackend::Sqlite);
    (db, raw)
}

#[tokio::test]
async fn the_profile_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite(&dir).await;
    let repo = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1)], "k1"));
    profile_repository_story(&repo, &Users(SqlUserRepository::new(db))).await;
}

#[tokio::test]
async fn the_profile_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let repo = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1)], "k1"));
    profile_repository_story(&repo, &Users(SqlUserRepository::new(db.clone()))).await;
    db.close().await;
}

#[tokio::test]
async fn the_event_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = sqlite(&dir).await;
    let repo = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1)], "k1"));
    event_story(&repo, &Users(SqlUserRepository::new(db.clone())), &adapter_sql::SqlEventLog::new(db)).await;
}

#[tokio::test]
async fn the_event_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let repo = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1)], "k1"));
    event_story(&repo, &Users(SqlUserRepository::new(db.clone())), &adapter_sql::SqlEventLog::new(db.clone())).await;
    db.close().await;
}

#[tokio::test]
async fn personal_data_is_sealed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let (db, raw) = sqlite(&dir).await;
    sealing_story(db, raw).await;
}

#[tokio::test]
async fn personal_data_is_sealed_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let raw = sea_orm::Database::connect(test_db.url()).await.unwrap();
    sealing_story(db.clone(), raw).await;
    db.close().await;
}
