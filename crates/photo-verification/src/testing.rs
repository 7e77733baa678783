//! The conformance suite of the photo verification port (feature
//! `testing`): every [`PhotoVerificationRepository`] MUST pass
//! [`photo_repository_story`], whatever it stores verifications in.
//! Adapters call it from their own tests against their real backend, the
//! way `object_store::integration` is used:
//!
//! ```text
//! #[tokio::test]
//! async fn photos_conform() {
//!     let db = fresh_database().await;
//!     let users = MyStoryUsers::new(db.clone()); // impl StoryUsers
//!     let tickets = MyTicketRepository::new(db.clone());
//!     photo_verification::testing::photo_repository_story(&MyPhotoRepository::new(db), &tickets, &users).await;
//! }
//! ```
//!
//! Checks that only mean something for one technology (a race between
//! database connections, a trigger that keeps the log append-only) belong
//! to that adapter's own tests.

use crate::error::OpenError;
use crate::model::{
    ApprovalSide, DiscordAvatar, NewVerification, PhotoEventKind, PhotoVerification, Rejection, RejectionReason,
    VerificationStatus,
};
use crate::ports::{PhotoVerificationRepository, Saved, StatusFilter, VerificationFilter};
use async_trait::async_trait;
use image_upload::testing::avatar_ticket;
use image_upload::{ObjectKey, TicketId, UploadTicketRepository};
use shared_kernel::{Actor, DiscordId, PageRequest, PlatformRole, Retry, ReviewNote, UserId};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

/// The instant the story starts at.
pub const T0: OffsetDateTime = datetime!(2026-06-14 12:00:00 UTC);

/// Makes the users a story needs, in the user context the repository reads.
#[async_trait]
pub trait StoryUsers: Send + Sync {
    /// Creates a user: username `name`, display name `{name} L`, e-mail
    /// `{name}@x.io`, linked to `discord_id` when given.
    async fn create_user(&self, name: &str, discord_id: Option<DiscordId>) -> UserId;

    /// The user's live avatar URL.
    async fn avatar_url(&self, id: UserId) -> Option<String>;
}

/// A reviewer who owns none of the photos: four eyes forbids deciding one's own.
pub fn root() -> Actor {
    Actor { user_id: UserId::new(1_000_000), role: PlatformRole::Superuser }
}

fn discord(raw: &str) -> DiscordId {
    DiscordId::parse(raw).expect("a valid Discord id")
}

/// An issued avatar ticket of `owner`, stored in `tickets`.
pub async fn ticket(tickets: &dyn UploadTicketRepository, owner: UserId) -> TicketId {
    let t = avatar_ticket(owner, T0);
    tickets.insert_within_limit(&t, T0 - Duration::days(1), 1000).await.unwrap().expect("within the limit");
    t.id
}

/// The `n`-th upload of `user`, whose live avatar is `current`.
pub fn new_verification(
    user: UserId,
    discord_id: Option<DiscordId>,
    current: Option<String>,
    n: u32,
) -> NewVerification {
    NewVerification {
        user_id: user,
        discord_id,
        current_profile_url: current,
        url: format!("https://cdn/avatars/{user}/{n}.png"),
        object_key: ObjectKey::parse(&format!("avatars/{user}/{n}.png")).expect("a valid key"),
        sha256: format!("{n:064}"),
        discord: None,
    }
}

/// Opening (the ticket used in the same step, the PENDING one superseded),
/// finding by Discord id, compare-and-set saves, accepting (the avatar set
/// in the same step, the replaced one reported), rejecting with note and
/// retry, the event log, and lists filtered, newest first and keyset-paged.
/// `tickets` is the ticket repository `photos` shares a store with. Expects
/// an empty repository; creates users `ada` and `bob`.
pub async fn photo_repository_story(
    photos: &dyn PhotoVerificationRepository,
    tickets: &dyn UploadTicketRepository,
    users: &dyn StoryUsers,
) {
    let ada_discord = discord("80351110224678912");
    let ada = users.create_user("ada", Some(ada_discord.clone())).await;
    let bob = users.create_user("bob", None).await;
    let ada_upload = |n| new_verification(ada, Some(ada_discord.clone()), None, n);

    // Opening uses the ticket; a used ticket opens nothing.
    let t1 = ticket(tickets, ada).await;
    let first = PhotoVerification::open(ada_upload(1), T0);
    let opened = photos.open(t1, &first, T0).await.unwrap();
    assert_eq!(opened.verification, first.record);
    assert!(opened.superseded.is_none());
    assert_eq!(photos.find(first.record.id).await.unwrap().unwrap(), first.record, "a record round-trips");
    let again = PhotoVerification::open(ada_upload(9), T0);
    assert!(matches!(photos.open(t1, &again, T0).await, Err(OpenError::TicketUsed)));
    assert!(photos.find(again.record.id).await.unwrap().is_none());
    let ghost = UserId::new(999_999);
    let t_ghost = ticket(tickets, bob).await;
    let orphan = PhotoVerification::open(new_verification(ghost, None, None, 8), T0);
    assert!(matches!(photos.open(t_ghost, &orphan, T0).await, Err(OpenError::UserGone)));
    assert!(photos.find(orphan.record.id).await.unwrap().is_none(), "nothing is written for a missing user");

    // The background read sees the pending one linked to Discord.
    let unread = photos.unread_discord(10).await.unwrap();
    assert_eq!(unread.iter().map(|v| v.id).collect::<Vec<_>>(), [first.record.id]);

    // A second upload supersedes the first in the same step.
    let t2 = ticket(tickets, ada).await;
    let second = PhotoVerification::open(ada_upload(2), T0 + Duration::seconds(1));
    let opened = photos.open(t2, &second, T0 + Duration::seconds(1)).await.unwrap();
    let superseded = opened.superseded.expect("the first one is superseded");
    assert_eq!(superseded.id, first.record.id);
    assert_eq!(superseded.status, VerificationStatus::Superseded);
    assert_eq!(photos.find(first.record.id).await.unwrap().unwrap(), superseded);

    // The pending one is found through the user's Discord id.
    let pending = photos.pending_for_discord(&ada_discord).await.unwrap().unwrap();
    assert_eq!(pending.id, second.record.id);
    assert!(photos.pending_for_discord(&discord("80351110224678913")).await.unwrap().is_none());

    // Compare-and-set: a stale version writes nothing and returns the current record.
    let avatar = DiscordAvatar { url: "https://cdn/d.png".into(), hash: Some("h1".into()) };
    let refreshed = pending.refresh_discord(&root(), &ada_discord, avatar, T0 + Duration::seconds(2)).unwrap();
    assert_eq!(photos.save(pending.version, &refreshed).await.unwrap(), Saved::Written { replaced_avatar: None });
    assert!(photos.unread_discord(10).await.unwrap().is_empty(), "a read Discord avatar is not read again");
    let stale = pending.approve(&root(), ApprovalSide::Profile, T0 + Duration::seconds(3)).unwrap();
    match photos.save(pending.version, &stale).await.unwrap() {
        Saved::Conflict(current) => assert_eq!(*current, refreshed.record),
        other => panic!("expected a conflict, got {other:?}"),
    }

    // Accepting sets the avatar in the same step and reports the replaced one.
    let current = refreshed.record;
    let accepted = current.approve(&root(), ApprovalSide::Both, T0 + Duration::seconds(4)).unwrap();
    assert_eq!(accepted.record.status, VerificationStatus::Accepted);
    assert_eq!(photos.save(current.version, &accepted).await.unwrap(), Saved::Written { replaced_avatar: None });
    assert_eq!(users.avatar_url(ada).await.as_deref(), Some(accepted.record.profile.url.as_str()));
    assert_eq!(photos.last_decided(ada).await.unwrap().map(|v| v.id), Some(second.record.id));

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

    // A third upload, rejected as final: the note and the retry choice are stored.
    let t3 = ticket(tickets, ada).await;
    let third_upload = new_verification(ada, Some(ada_discord.clone()), users.avatar_url(ada).await, 3);
    let third = PhotoVerification::open(third_upload, T0 + Duration::seconds(5));
    photos.open(t3, &third, T0 + Duration::seconds(5)).await.unwrap();
    let rejection = Rejection {
        reason: RejectionReason::parse("blurry").unwrap(),
        note: Some(ReviewNote::parse("second blurry upload this week").unwrap()),
        retry: Retry::Final,
    };
    let rejected = third.record.reject(&root(), &rejection, T0 + Duration::seconds(6));
    photos.save(third.record.version, &rejected.unwrap()).await.unwrap();
    let decided = photos.last_decided(ada).await.unwrap().expect("the rejection is the last decision");
    assert_eq!(decided.id, third.record.id);
    assert_eq!(decided.note.as_deref(), Some("second blurry upload this week"));
    assert_eq!(decided.retry, Some(Retry::Final), "the note and the retry choice are stored");
    assert_eq!(photos.last_decided(bob).await.unwrap(), None);

    // Accepting a second photo replaces the previous avatar object.
    let t4 = ticket(tickets, bob).await;
    let bobs = PhotoVerification::open(new_verification(bob, None, None, 4), T0 + Duration::seconds(7));
    photos.open(t4, &bobs, T0 + Duration::seconds(7)).await.unwrap();
    let accepted_bob = bobs.record.approve(&root(), ApprovalSide::Profile, T0 + Duration::seconds(8)).unwrap();
    assert_eq!(accepted_bob.record.status, VerificationStatus::Accepted, "bob has no Discord id");
    photos.save(bobs.record.version, &accepted_bob).await.unwrap();
    let t5 = ticket(tickets, bob).await;
    let bobs2_upload = new_verification(bob, None, users.avatar_url(bob).await, 5);
    let bobs2 = PhotoVerification::open(bobs2_upload, T0 + Duration::seconds(9));
    photos.open(t5, &bobs2, T0 + Duration::seconds(9)).await.unwrap();
    let accepted_bob2 = bobs2.record.approve(&root(), ApprovalSide::Both, T0 + Duration::seconds(10)).unwrap();
    assert_eq!(
        photos.save(bobs2.record.version, &accepted_bob2).await.unwrap(),
        Saved::Written { replaced_avatar: Some(bobs.record.profile.object_key.clone()) }
    );

    // Lists: filtered, newest first, keyset-paged, with user summaries.
    let all = VerificationFilter { user_id: None, username: None, status: StatusFilter::All };
    let page = photos.list(&all, &PageRequest::parse(Some(2), None).unwrap()).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.items[0].verification.id, bobs2.record.id);
    assert_eq!(page.items[0].user.username, "bob");
    assert_eq!(page.items[0].user.avatar_url.as_deref(), Some(bobs2.record.profile.url.as_str()));
    let mut seen: Vec<_> = page.items.iter().map(|i| i.verification.id).collect();
    let mut cursor = page.next_cursor;
    while let Some(c) = cursor {
        let next = photos.list(&all, &PageRequest::parse(Some(2), Some(&c)).unwrap()).await.unwrap();
        seen.extend(next.items.iter().map(|i| i.verification.id));
        cursor = next.next_cursor;
    }
    assert_eq!(seen.len(), 5);
    let by_name = VerificationFilter { user_id: None, username: Some("ADA".into()), status: StatusFilter::All };
    let adas = photos.list(&by_name, &PageRequest::default()).await.unwrap();
    assert_eq!(adas.items.len(), 3, "usernames match case-insensitively");
    assert!(adas.items.iter().all(|i| i.user.id == ada));
    let nobody = VerificationFilter { user_id: None, username: Some("nobody".into()), status: StatusFilter::All };
    assert!(photos.list(&nobody, &PageRequest::default()).await.unwrap().items.is_empty());
    let rejected_only = VerificationFilter {
        user_id: Some(ada),
        username: None,
        status: StatusFilter::Only(VerificationStatus::Rejected),
    };
    let only = photos.list(&rejected_only, &PageRequest::default()).await.unwrap();
    assert_eq!(only.items.len(), 1);
    assert_eq!(only.items[0].verification.reason.as_deref(), Some("blurry"));
}

/// The photo verifications' events, read back from `log`, the feed
/// `photos` writes to: an upload opens one (and supersedes the pending one
/// in the same step), a refused open (a used ticket, a missing user) writes
/// none, and no event carries the photo, its hash or a Discord id.
/// Expects an empty repository; creates the user `ada`.
pub async fn event_story(
    photos: &dyn PhotoVerificationRepository,
    tickets: &dyn UploadTicketRepository,
    users: &dyn StoryUsers,
    log: &dyn shared_kernel::EventLog,
) {
    let types = crate::events::EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    let all = shared_kernel::FeedQuery::parse(None, Some(500), types, None, crate::events::EVENT_TYPES)
        .expect("the photo types are known");
    let ada_discord = discord("80351110224678912");
    let ada = users.create_user("ada", Some(ada_discord.clone())).await;
    let upload = |n| new_verification(ada, Some(ada_discord.clone()), None, n);
    let t1 = ticket(tickets, ada).await;
    let first = PhotoVerification::open(upload(1), T0);
    photos.open(t1, &first, T0).await.unwrap();
    let refused = PhotoVerification::open(upload(9), T0);
    assert!(matches!(photos.open(t1, &refused, T0).await, Err(OpenError::TicketUsed)));
    let t2 = ticket(tickets, ada).await;
    let second = PhotoVerification::open(upload(2), T0 + Duration::seconds(1));
    photos.open(t2, &second, T0 + Duration::seconds(1)).await.unwrap();

    let events: Vec<shared_kernel::Event> = log.read(&all).await.unwrap().into_iter().map(|r| r.event).collect();
    let about: Vec<(&str, String)> = events.iter().map(|e| (e.kind.as_str(), e.subject.id.clone())).collect();
    let (one, two) = (first.record.id.to_string(), second.record.id.to_string());
    assert_eq!(
        about,
        [
            ("photo_verification.opened", one.clone()),
            ("photo_verification.superseded", one),
            ("photo_verification.opened", two)
        ]
    );
    assert!(events.iter().all(|e| e.actor_id == Some(ada)), "the uploader's own doing");
    let text = serde_json::to_string(&events).unwrap();
    for private in ["80351110224678912", "avatars/", ".png", &format!("{:064}", 1)] {
        assert!(!text.contains(private), "an event carries {private}: {text}");
    }
}
