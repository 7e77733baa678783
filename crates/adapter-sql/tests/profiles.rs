//! The profile repository story, on SQLite and PostgreSQL: sealed personal
//! data (the raw row holds no plaintext), the one-open-profile index,
//! compare-and-set edits and decisions, the append-only log and labels.

use adapter_crypto::KeyRing;
use adapter_sql::{Database, PoolSettings, SqlProfileRepository, SqlUserRepository};
use profile_verification::{
    CreateProfileError, FieldsPatch, LabelScope, Profile, ProfileFields, ProfileFilter, ProfilePolicy,
    ProfileRepository, ProfileState, RawFields, Reason, Retry, ReviewNote, Verdict,
};
use sea_orm::{ConnectionTrait as _, DatabaseBackend, Statement};
use shared_kernel::{Actor, EmailAddress, PageRequest, PlatformRole, UserId};
use std::sync::Arc;
use test_support::postgres::{PgCluster, TestDatabase};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};
use user_dto::{DisplayName, Identity, NewUser, UserRepository, Username};

const T0: OffsetDateTime = datetime!(2026-06-14 10:00:00.123456 UTC);

fn ring(keys: &[(&str, u8)], active: &str) -> Arc<KeyRing> {
    Arc::new(KeyRing::new(keys.iter().map(|(id, b)| ((*id).to_owned(), [*b; 32])), active).unwrap())
}

async fn user(users: &SqlUserRepository, n: u32, verified: bool) -> Actor {
    let mail = EmailAddress::parse(&format!("u{n}@x.io")).unwrap();
    let created = users
        .create(&NewUser {
            identity: Identity::new(&format!("idp|{n}"), Some(mail.clone()), verified, None, None, None).unwrap(),
            email: mail,
            display_name: DisplayName::parse(&format!("User {n}")).unwrap(),
            username: Username::parse(&format!("u{n}")).unwrap(),
            platform_role: PlatformRole::User,
            now: T0,
        })
        .await
        .unwrap();
    Actor { user_id: created.id, role: PlatformRole::User }
}

fn personal() -> FieldsPatch {
    RawFields {
        first_name: Some(Some("Augusta".into())),
        last_name: Some(Some("Lovelace".into())),
        dob: Some(Some("1990-02-28".into())),
        address: Some(Some("12 St James's Square".into())),
        postcode: Some(Some("SW1Y 4LE".into())),
        city: Some(Some("London".into())),
        country: Some(Some("gbr".into())),
        metadata: Some(Some(serde_json::json!({"source": "kyc"}))),
    }
    .parse(T0.date())
    .unwrap_or_else(|e| panic!("{e}"))
}

fn open(actor: &Actor, confirm: bool, at: OffsetDateTime) -> Profile {
    let fields = ProfileFields::default().patched(&personal());
    Profile::open(actor, fields, confirm, &ProfilePolicy::default(), at).unwrap()
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

async fn profile_story(db: Database, raw: sea_orm::DatabaseConnection) {
    let users = SqlUserRepository::new(db.clone());
    let repo = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1)], "k1"));
    let ada = user(&users, 1, true).await;
    let bob = user(&users, 2, false).await;
    let admin = Actor { user_id: user(&users, 3, true).await.user_id, role: PlatformRole::Superuser };

    let draft = open(&ada, false, T0);
    repo.create(&draft).await.unwrap();
    assert_eq!(repo.find(draft.id).await.unwrap().as_ref(), Some(&draft), "a profile round-trips");
    assert_eq!(repo.open_of(ada.user_id).await.unwrap().as_ref(), Some(&draft));

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

    // One open profile per user.
    assert!(matches!(repo.create(&open(&ada, true, T0)).await, Err(CreateProfileError::OpenProfileExists)));
    let ghost = Actor { user_id: UserId::new(999_999), role: PlatformRole::User };
    assert!(matches!(repo.create(&open(&ghost, false, T0)).await, Err(CreateProfileError::UserMissing)));

    // Compare-and-set edits.
    let policy = ProfilePolicy::default();
    let submitted = draft.edit(&ada, &FieldsPatch::default(), true, &policy, T0 + Duration::minutes(1)).unwrap();
    assert!(repo.update_draft(&submitted, draft.version).await.unwrap());
    assert!(!repo.update_draft(&submitted, draft.version).await.unwrap(), "a stale version writes nothing");
    assert_eq!(repo.find(draft.id).await.unwrap().unwrap().state, ProfileState::Submitted);

    // A decision: profile, log and label in one transaction; a second loses.
    let reason = Reason::parse("blurry scan").unwrap();
    let note = Some(ReviewNote::parse("looks edited").unwrap());
    let verdict = Verdict::Reject { reason, note, retry: Retry::Allowed };
    let decided = submitted.decide(&admin, verdict, &policy, T0 + Duration::minutes(2)).unwrap();
    assert!(repo.decide(&decided, submitted.version).await.unwrap());
    let again = submitted.decide(&admin, Verdict::Verify(None), &policy, T0 + Duration::minutes(3)).unwrap();
    assert!(!repo.decide(&again, submitted.version).await.unwrap(), "the second decision loses");
    assert_eq!(repo.find(draft.id).await.unwrap().unwrap().state, ProfileState::Rejected);
    let log = repo.decisions_of_user(ada.user_id).await.unwrap();
    assert_eq!(log, vec![decided.decision.clone()], "reason, note and retry round-trip");
    let labels = repo.labels(ada.user_id).await.unwrap().unwrap();
    let pairs: Vec<(&str, &str)> = labels.iter().map(|l| (l.key.as_str(), l.value.as_str())).collect();
    assert_eq!(pairs, vec![("email", "verified"), ("profile", "rejected")]);
    assert!(labels.iter().all(|l| l.scope == LabelScope::Private));

    // The log is append-only.
    let update = "UPDATE profile_decisions SET reason = 'changed'";
    assert!(raw.execute_raw(Statement::from_string(raw.get_database_backend(), update)).await.is_err());

    // After a decision the user may open a new one; verifying it relabels.
    let second = open(&ada, true, T0 + Duration::minutes(5));
    repo.create(&second).await.unwrap();
    let verified = second.decide(&admin, Verdict::Verify(None), &policy, T0 + Duration::minutes(6)).unwrap();
    assert!(repo.decide(&verified, second.version).await.unwrap());
    let labels = repo.labels(ada.user_id).await.unwrap().unwrap();
    assert_eq!(labels[1].value, "verified");
    assert_eq!(labels[1].updated_at, T0 + Duration::minutes(6));
    assert_eq!(
        repo.of_user(ada.user_id).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![second.id, draft.id]
    );

    // Labels: an unverified e-mail derives no label; unknown users have none.
    assert_eq!(repo.labels(bob.user_id).await.unwrap(), Some(vec![]));
    assert_eq!(repo.labels(UserId::new(999_999)).await.unwrap(), None);

    // Paging, newest first, with filters, users and authors.
    let at = T0 + Duration::minutes(7);
    let filed = Profile::filed_by_admin(&admin, bob.user_id, ProfileFields::default(), &policy, at).unwrap();
    repo.create(&filed).await.unwrap();
    let first = repo.list(&ProfileFilter::default(), &PageRequest::parse(Some(2), None).unwrap()).await.unwrap();
    assert_eq!(first.items.iter().map(|i| i.profile.id).collect::<Vec<_>>(), vec![filed.id, second.id]);
    assert_eq!(first.items[0].author.as_ref().map(|a| a.id), Some(admin.user_id));
    assert_eq!(first.items[0].user.username, "u2");
    let cursor = first.next_cursor.clone().expect("a next page");
    let rest =
        repo.list(&ProfileFilter::default(), &PageRequest::parse(Some(2), Some(&cursor)).unwrap()).await.unwrap();
    assert_eq!(rest.items.iter().map(|i| i.profile.id).collect::<Vec<_>>(), vec![draft.id]);
    assert_eq!(rest.next_cursor, None);
    let only = ProfileFilter { state: Some(ProfileState::Submitted), user_id: None };
    let page = repo.list(&only, &PageRequest::default()).await.unwrap();
    assert_eq!(page.items.iter().map(|i| i.profile.id).collect::<Vec<_>>(), vec![filed.id]);
    let of_ada = ProfileFilter { state: None, user_id: Some(ada.user_id) };
    assert_eq!(repo.list(&of_ada, &PageRequest::default()).await.unwrap().items.len(), 2);

    // Rotation: a ring that still holds k1 reads old rows and seals new ones with k2.
    let rotated = SqlProfileRepository::new(db.clone(), ring(&[("k1", 1), ("k2", 2)], "k2"));
    assert_eq!(rotated.find(draft.id).await.unwrap().unwrap().fields, draft.fields);
    let carl = user(&users, 4, true).await;
    let newer = open(&carl, false, T0 + Duration::minutes(8));
    rotated.create(&newer).await.unwrap();
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

    // A withdrawn draft leaves the one-open rule and stays in the history.
    let third = open(&ada, false, T0 + Duration::minutes(10));
    repo.create(&third).await.unwrap();
    let withdrawn = third.withdraw(&ada, T0 + Duration::minutes(11)).unwrap();
    assert!(repo.update_draft(&withdrawn, third.version).await.unwrap());
    assert_eq!(repo.find(third.id).await.unwrap().unwrap().state, ProfileState::Withdrawn);
    assert!(repo.open_of(ada.user_id).await.unwrap().is_none());
    repo.create(&open(&ada, false, T0 + Duration::minutes(12))).await.unwrap();

    // Erasure destroys the user's data key: the columns are cleared, and a
    // copy of the sealed values (a backup) restored later no longer opens.
    let backup = raw_rows(&raw, &format!("SELECT first_name FROM profiles WHERE id IN (SELECT id FROM profiles WHERE user_id = {} AND first_name IS NOT NULL)", ada.user_id)).await;
    assert!(!backup.is_empty() && backup.iter().all(|v| v.starts_with("d1.")), "sealed with the data key: {backup:?}");
    repo.shred(ada.user_id).await.unwrap();
    repo.shred(ada.user_id).await.unwrap();
    assert!(repo.of_user(ada.user_id).await.unwrap().iter().all(|p| p.fields.first_name.is_none()));
    let restore = format!("UPDATE profiles SET first_name = '{}' WHERE user_id = {}", backup[0], ada.user_id);
    raw.execute_raw(Statement::from_string(raw.get_database_backend(), restore)).await.unwrap();
    let restored = repo.of_user(ada.user_id).await.unwrap();
    assert!(restored.iter().all(|p| p.fields.first_name.is_none()), "a restored backup stays sealed for good");
    let refused = repo.create(&open(&ada, false, T0 + Duration::minutes(13))).await;
    assert!(matches!(refused, Err(CreateProfileError::UserMissing)), "no new key for an erased user");
}

#[tokio::test]
async fn the_profile_story_holds_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("usher.db").display());
    let db = Database::connect(&url, &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let raw = sea_orm::Database::connect(format!("{url}?mode=rw")).await.unwrap();
    assert_eq!(raw.get_database_backend(), DatabaseBackend::Sqlite);
    profile_story(db, raw).await;
}

#[tokio::test]
async fn the_profile_story_holds_on_postgres() {
    let test_db = TestDatabase::create(PgCluster::shared()).await.unwrap();
    let db = Database::connect(test_db.url(), &PoolSettings::default()).await.unwrap();
    db.migrate().await.unwrap();
    let raw = sea_orm::Database::connect(test_db.url()).await.unwrap();
    profile_story(db.clone(), raw).await;
    db.close().await;
}
