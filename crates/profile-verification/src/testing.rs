//! The conformance suite of the profile port (feature `testing`): every
//! [`ProfileRepository`] MUST pass [`profile_repository_story`], whatever it
//! stores profiles in. Adapters call it from their own tests against their
//! real backend, the way `object_store::integration` is used:
//!
//! ```text
//! #[tokio::test]
//! async fn profiles_conform() {
//!     let db = fresh_database().await;
//!     let users = MyStoryUsers::new(db.clone()); // impl StoryUsers
//!     profile_verification::testing::profile_repository_story(&MyProfileRepository::new(db), &users).await;
//! }
//! ```
//!
//! Checks that only mean something for one technology (the raw row holds
//! no plaintext, key rotation) belong to that adapter's own tests.

use crate::error::CreateProfileError;
use crate::model::{
    Decision, FieldsPatch, LabelScope, Profile, ProfileEvent, ProfileFields, ProfilePolicy, ProfileState, RawFields,
    Reason, Transition, Verdict,
};
use crate::ports::{ProfileFilter, ProfileRepository};
use async_trait::async_trait;
use shared_kernel::{Actor, PageRequest, PlatformRole, Retry, ReviewNote, UserId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant the story starts at.
pub const T0: OffsetDateTime = datetime!(2026-06-14 10:00:00.123456 UTC);

/// Makes the users a story needs, in the user context the repository reads.
#[async_trait]
pub trait StoryUsers: Send + Sync {
    /// Creates user `n`: subject `idp|{n}`, e-mail `u{n}@x.io` (verified or
    /// not), username `u{n}`, display name `User {n}`, platform role `user`.
    async fn create_user(&self, n: u32, email_verified: bool) -> UserId;
}

/// Fully filled-in personal data, parsed as of [`T0`].
pub fn personal() -> FieldsPatch {
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

/// `actor`'s new profile with [`personal`] data, submitted with `confirm`.
pub fn open(actor: &Actor, confirm: bool, at: OffsetDateTime) -> Profile {
    let fields = ProfileFields::default().patched(&personal());
    Profile::open(actor, fields, confirm, &ProfilePolicy::default(), at).expect("an open profile")
}

/// Creates `profile` with the event the service writes with it.
async fn create(repo: &dyn ProfileRepository, profile: &Profile) -> Result<(), CreateProfileError> {
    repo.create(profile, &crate::events::opened(profile)).await
}

/// Stores an edited draft with the event the service writes with it.
async fn update_draft(repo: &dyn ProfileRepository, profile: &Profile, expected_version: i64) -> anyhow::Result<bool> {
    repo.update_draft(profile, expected_version, &crate::events::changed(profile, profile.user_id)).await
}

/// The decision-log entry a decision's transition appends.
fn logged(decided: &Transition) -> Decision {
    decided
        .events
        .iter()
        .find_map(|e| match e {
            ProfileEvent::Decided(d) => Some(d.clone()),
            ProfileEvent::Labelled(_) => None,
        })
        .expect("a decision logs an entry")
}

/// The whole life of profiles: round trips, one open profile per user,
/// compare-and-set edits and decisions, the log, labels (with the derived
/// `email` one), paging newest first with users and authors, withdrawal,
/// and shredding. Expects an empty repository; creates users 1 to 4.
pub async fn profile_repository_story(repo: &dyn ProfileRepository, users: &dyn StoryUsers) {
    let actor = |id| Actor { user_id: id, role: PlatformRole::User };
    let ada = actor(users.create_user(1, true).await);
    let bob = actor(users.create_user(2, false).await);
    let admin = Actor { user_id: users.create_user(3, true).await, role: PlatformRole::Superuser };

    let draft = open(&ada, false, T0);
    create(repo, &draft).await.unwrap();
    assert_eq!(repo.find(draft.id).await.unwrap().as_ref(), Some(&draft), "a profile round-trips");
    assert_eq!(repo.open_of(ada.user_id).await.unwrap().as_ref(), Some(&draft));
    assert_eq!(repo.open_of(bob.user_id).await.unwrap(), None);

    // One open profile per user.
    assert!(matches!(create(repo, &open(&ada, true, T0)).await, Err(CreateProfileError::OpenProfileExists)));
    let ghost = actor(UserId::new(999_999));
    assert!(matches!(create(repo, &open(&ghost, false, T0)).await, Err(CreateProfileError::UserMissing)));

    // Compare-and-set edits.
    let policy = ProfilePolicy::default();
    let submitted = draft.edit(&ada, &FieldsPatch::default(), true, &policy, T0 + Duration::minutes(1)).unwrap();
    assert!(update_draft(repo, &submitted, draft.version).await.unwrap());
    assert!(!update_draft(repo, &submitted, draft.version).await.unwrap(), "a stale version writes nothing");
    assert_eq!(repo.find(draft.id).await.unwrap().as_ref(), Some(&submitted));

    // A decision: profile, log and label in one step; a second loses.
    let reason = Reason::parse("blurry scan").unwrap();
    let note = Some(ReviewNote::parse("looks edited").unwrap());
    let verdict = Verdict::Reject { reason, note, retry: Retry::Allowed };
    let decided = submitted.decide(&admin, verdict, &policy, T0 + Duration::minutes(2)).unwrap();
    assert!(repo.decide(&decided, submitted.version).await.unwrap());
    let again = submitted.decide(&admin, Verdict::Verify(None), &policy, T0 + Duration::minutes(3)).unwrap();
    assert!(!repo.decide(&again, submitted.version).await.unwrap(), "the second decision loses");
    assert_eq!(repo.find(draft.id).await.unwrap().unwrap().state, ProfileState::Rejected);
    assert_eq!(repo.open_of(ada.user_id).await.unwrap(), None, "a decided profile is not open");
    let log = repo.decisions_of_user(ada.user_id).await.unwrap();
    assert_eq!(log, vec![logged(&decided)], "reason, note and retry round-trip");
    let labels = repo.labels(ada.user_id).await.unwrap().unwrap();
    let pairs: Vec<(&str, &str)> = labels.iter().map(|l| (l.key.as_str(), l.value.as_str())).collect();
    assert_eq!(pairs, vec![("email", "verified"), ("profile", "rejected")]);
    assert!(labels.iter().all(|l| l.scope == LabelScope::Private));

    // After a decision the user may open a new one; verifying it relabels.
    let second = open(&ada, true, T0 + Duration::minutes(5));
    create(repo, &second).await.unwrap();
    let verified = second.decide(&admin, Verdict::Verify(None), &policy, T0 + Duration::minutes(6)).unwrap();
    assert!(repo.decide(&verified, second.version).await.unwrap());
    let labels = repo.labels(ada.user_id).await.unwrap().unwrap();
    assert_eq!(labels.len(), 2, "a label is replaced, not added: {labels:?}");
    assert_eq!(labels[1].value, "verified");
    assert_eq!(labels[1].updated_at, T0 + Duration::minutes(6));
    assert_eq!(
        repo.of_user(ada.user_id).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>(),
        vec![second.id, draft.id],
        "newest first"
    );
    let log = repo.decisions_of_user(ada.user_id).await.unwrap();
    assert_eq!(log, vec![logged(&verified), logged(&decided)], "the log, newest first");

    // Labels: an unverified e-mail derives no label; unknown users have none.
    assert_eq!(repo.labels(bob.user_id).await.unwrap(), Some(vec![]));
    assert_eq!(repo.labels(UserId::new(999_999)).await.unwrap(), None);
    let summary = repo.user_summary(bob.user_id).await.unwrap().expect("bob's summary");
    assert_eq!((summary.id, summary.username.as_str(), summary.email_verified), (bob.user_id, "u2", false));
    assert_eq!(repo.user_summary(UserId::new(999_999)).await.unwrap(), None);

    // Paging, newest first, with filters, users and authors.
    let at = T0 + Duration::minutes(7);
    let filed = Profile::filed_by_admin(&admin, bob.user_id, ProfileFields::default(), &policy, at).unwrap();
    create(repo, &filed).await.unwrap();
    let first = repo.list(&ProfileFilter::default(), &PageRequest::parse(Some(2), None).unwrap()).await.unwrap();
    assert_eq!(first.items.iter().map(|i| i.profile.id).collect::<Vec<_>>(), vec![filed.id, second.id]);
    assert_eq!(first.items[0].author.as_ref().map(|a| a.id), Some(admin.user_id));
    assert_eq!(first.items[0].user.username, "u2");
    assert_eq!(first.items[1].author, None);
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

    // A withdrawn draft leaves the one-open rule and stays in the history.
    let third = open(&ada, false, T0 + Duration::minutes(10));
    create(repo, &third).await.unwrap();
    let withdrawn = third.withdraw(&ada, T0 + Duration::minutes(11)).unwrap();
    assert!(update_draft(repo, &withdrawn, third.version).await.unwrap());
    assert_eq!(repo.find(third.id).await.unwrap().unwrap().state, ProfileState::Withdrawn);
    assert!(repo.open_of(ada.user_id).await.unwrap().is_none());
    create(repo, &open(&ada, false, T0 + Duration::minutes(12))).await.unwrap();

    // Shredding clears the personal data for good, keeps the profiles, the
    // log and the labels, and refuses new profiles; it is idempotent.
    let carl = actor(users.create_user(4, true).await);
    let carls = open(&carl, false, T0 + Duration::minutes(13));
    create(repo, &carls).await.unwrap();
    repo.shred(ada.user_id).await.unwrap();
    repo.shred(ada.user_id).await.unwrap();
    let shredded = repo.of_user(ada.user_id).await.unwrap();
    assert_eq!(shredded.len(), 4, "the profiles stay");
    for p in &shredded {
        let f = &p.fields;
        assert!(
            f.first_name.is_none()
                && f.last_name.is_none()
                && f.dob.is_none()
                && f.address.is_none()
                && f.postcode.is_none()
                && f.city.is_none()
                && f.metadata.is_none(),
            "personal data is gone: {f:?}"
        );
        assert!(f.country.is_some(), "the country is not personal data");
    }
    assert_eq!(repo.decisions_of_user(ada.user_id).await.unwrap().len(), 2, "the log stays");
    assert_eq!(repo.labels(ada.user_id).await.unwrap().unwrap().len(), 2, "the labels stay");
    let refused = create(repo, &open(&ada, false, T0 + Duration::minutes(14))).await;
    assert!(matches!(refused, Err(CreateProfileError::UserMissing)), "no new profile for an erased user");
    assert_eq!(repo.find(carls.id).await.unwrap().as_ref(), Some(&carls), "other users keep their data");
}

/// The profiles' events, read back from `log`, the feed the repository
/// writes to: each write appends the event it is given in its own
/// transaction, and a refused write (an open profile already there, a stale
/// version, a decision that lost) appends none. No event carries a field of
/// the profile or the reviewers' note. Expects an empty repository; creates users 1 and 2.
pub async fn event_story(repo: &dyn ProfileRepository, users: &dyn StoryUsers, log: &dyn shared_kernel::EventLog) {
    let types = crate::events::EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    let all = shared_kernel::FeedQuery::parse(None, Some(500), types, None, crate::events::EVENT_TYPES)
        .expect("the profiles' types are known");
    let ada = Actor { user_id: users.create_user(1, true).await, role: PlatformRole::User };
    let admin = Actor { user_id: users.create_user(2, true).await, role: PlatformRole::Superuser };
    let policy = ProfilePolicy::default();

    let draft = open(&ada, false, T0);
    create(repo, &draft).await.unwrap();
    assert!(create(repo, &open(&ada, true, T0)).await.is_err(), "one open profile per user");
    let submitted = draft.edit(&ada, &FieldsPatch::default(), true, &policy, T0 + Duration::minutes(1)).unwrap();
    assert!(update_draft(repo, &submitted, draft.version).await.unwrap());
    assert!(!update_draft(repo, &submitted, draft.version).await.unwrap());
    let note = Some(ReviewNote::parse("looks edited").unwrap());
    let reason = Reason::parse("blurry scan").unwrap();
    let verdict = Verdict::Reject { reason, note, retry: Retry::Allowed };
    let decided = submitted.decide(&admin, verdict, &policy, T0 + Duration::minutes(2)).unwrap();
    assert!(repo.decide(&decided, submitted.version).await.unwrap());
    let lost = submitted.decide(&admin, Verdict::Verify(None), &policy, T0 + Duration::minutes(3)).unwrap();
    assert!(!repo.decide(&lost, submitted.version).await.unwrap());

    let events: Vec<shared_kernel::Event> = log.read(&all).await.unwrap().into_iter().map(|r| r.event).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["profile.drafted", "profile.submitted", "profile.rejected"]);
    assert!(events.iter().all(|e| e.subject == shared_kernel::Subject::new("profile", draft.id)));
    assert_eq!((events[0].actor_id, events[2].actor_id), (Some(ada.user_id), Some(admin.user_id)));
    let text = serde_json::to_string(&events).unwrap();
    assert!(!text.contains("looks edited"), "the reviewers' note is in an event: {text}");
    for field in ["Augusta", "Lovelace", "1990-02-28", "London", "SW1Y"] {
        assert!(!text.contains(field), "a field ({field}) is in an event: {text}");
    }
}
