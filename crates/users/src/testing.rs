//! The conformance suite of the user port (feature `testing`): every
//! [`UserRepository`] MUST pass these stories, whatever it stores users in.
//! Adapters call them from their own tests against their real backend, the
//! way `object_store::integration` is used:
//!
//! ```text
//! #[tokio::test]
//! async fn users_conform() {
//!     let db = fresh_database().await;
//!     users::testing::user_repository_story(&MyUserRepository::new(db)).await;
//! }
//! ```
//!
//! Each story expects an empty repository and panics, naming the rule, on
//! the first answer that breaks the contract.

use crate::erasure::{Erased, Erasure, erased_subject};
use crate::error::{AdminUserError, CreateUserError, SetAvatarError};
use crate::model::{
    AdminUserUpdate, DisplayName, Identity, IdentityRefresh, ManualStatus, NewUser, ProfileChange, Username, ViewQuery,
};
use crate::ports::UserRepository;
use image_upload::testing::avatar_ticket;
use image_upload::{ObjectKey, TicketState, TriesUsed, UploadTicketRepository};
use shared_kernel::{Actor, DiscordId, EmailAddress, PageRequest, PlatformRole, UserId};
use time::Duration;
use time::macros::datetime;

const WINDOW: ViewQuery =
    ViewQuery { tries_since: datetime!(2026-06-13 00:00:00 UTC), ended_since: datetime!(2026-05-14 00:00:00 UTC) };

fn email(s: &str) -> EmailAddress {
    EmailAddress::parse(s).expect("a valid e-mail")
}

/// A new user with a verified e-mail, created at 2026-06-14 10:00:00.123456 UTC.
pub fn new_user(subject: &str, mail: &str, username: &str) -> NewUser {
    NewUser {
        identity: Identity::new(subject, Some(email(mail)), true, Some("Ada"), None, Some("Ada L"))
            .expect("a valid identity"),
        email: email(mail),
        display_name: DisplayName::parse("Ada L").expect("a valid display name"),
        username: Username::parse(username).expect("a valid username"),
        platform_role: PlatformRole::User,
        // Nanoseconds on purpose: every store must hand back the same
        // microsecond-truncated value.
        now: shared_kernel::truncate_to_micros(datetime!(2026-06-14 10:00:00.123456789 UTC)),
    }
}

/// Creating, finding, refreshing, renaming and the manual status: unique
/// subjects and usernames, round trips, `None` for a user that is gone.
pub async fn user_repository_story(repo: &dyn UserRepository) {
    let created = repo.create(&new_user("idp|1", "ada@x.io", "ada")).await.unwrap();
    assert!(created.id.get() > 0);
    assert_eq!(created.created_at, datetime!(2026-06-14 10:00:00.123456 UTC));
    assert_eq!(created.first_name.as_deref(), Some("Ada"));
    assert_eq!(created.platform_role, PlatformRole::User);

    let found = repo.find_by_subject("idp|1").await.unwrap().expect("found by subject");
    assert_eq!(found, created, "a user round-trips unchanged");
    assert_eq!(repo.find(created.id).await.unwrap().as_ref(), Some(&created), "found by id");
    assert!(repo.find_by_subject("idp|nobody").await.unwrap().is_none());

    assert!(matches!(repo.create(&new_user("idp|1", "other@x.io", "other")).await, Err(CreateUserError::SubjectTaken)));
    assert!(matches!(repo.create(&new_user("idp|2", "ada@y.io", "ada")).await, Err(CreateUserError::UsernameTaken)));
    assert!(repo.find_by_subject("idp|2").await.unwrap().is_none(), "a refused create writes nothing");
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
    assert!(repo.refresh_identity(UserId::new(999_999), &refresh, later).await.unwrap().is_none());

    let view = repo.view(created.id, WINDOW).await.unwrap().unwrap();
    assert_eq!(view.user, refreshed);
    assert!(view.memberships.is_empty());
    assert_eq!(view.avatar_tries_used, 0);
    assert!(repo.view(UserId::new(999_999), WINDOW).await.unwrap().is_none());
    let by_subject = repo.view_by_subject(&created.subject, WINDOW).await.unwrap().unwrap();
    assert_eq!(by_subject, view, "the view by subject is the view by id");
    assert!(repo.view_by_subject("idp|nobody", WINDOW).await.unwrap().is_none());

    let rename = ProfileChange::DisplayName(DisplayName::parse("Countess").unwrap());
    let renamed = repo.change_profile(created.id, &rename, later).await.unwrap().unwrap();
    assert_eq!(renamed.display_name.as_str(), "Countess");
    assert_eq!(renamed.updated_at, later);
    assert_eq!(repo.view(created.id, WINDOW).await.unwrap().unwrap().user, renamed, "the change is stored");
    assert!(repo.change_profile(UserId::new(999_999), &rename, later).await.unwrap().is_none());

    let busy = ProfileChange::ManualStatus(Some(ManualStatus::Busy));
    assert_eq!(
        repo.change_profile(created.id, &busy, later).await.unwrap().unwrap().manual_status,
        Some(ManualStatus::Busy)
    );
    let clear = ProfileChange::ManualStatus(None);
    let cleared = repo.change_profile(created.id, &clear, later).await.unwrap().unwrap();
    assert_eq!(cleared.manual_status, None);
    assert_eq!(cleared.display_name.as_str(), "Countess", "a status change keeps the name");
    assert!(repo.change_profile(UserId::new(999_999), &clear, later).await.unwrap().is_none());

    let found = repo.find_by_email(&email("ada.l@x.io")).await.unwrap();
    assert_eq!(found.iter().map(|u| u.subject.as_str()).collect::<Vec<_>>(), ["idp|1"]);
    let third = repo.create(&new_user("idp|3", "ada@y.io", "ada3")).await.unwrap();
    let shared = repo.find_by_email(&email("ada@y.io")).await.unwrap();
    assert_eq!(shared.iter().map(|u| u.id).collect::<Vec<_>>(), [second.id, third.id], "e-mails are not unique");
    assert!(repo.find_by_email(&email("nobody@x.io")).await.unwrap().is_empty());
    assert_eq!(repo.find_by_subject("idp|2").await.unwrap().unwrap().platform_role, PlatformRole::User);
}

/// The avatar over upload tickets: the tries the view counts, a ticket used
/// once in the same step as the avatar it sets, the previous key handed back.
/// `tickets` is the ticket repository `users` shares a store with.
pub async fn upload_story(users: &dyn UserRepository, tickets: &dyn UploadTicketRepository) {
    let user = users.create(&new_user("idp|up", "up@x.io", "up")).await.unwrap();
    let t0 = datetime!(2026-06-14 12:00:00 UTC);
    let window_start = t0 - Duration::days(1);

    let mut issued = Vec::new();
    for i in 0..3 {
        let t = avatar_ticket(user.id, t0 + Duration::minutes(i));
        assert_eq!(tickets.insert_within_limit(&t, window_start, 3).await.unwrap(), Ok(()));
        issued.push(t);
    }
    let refused =
        tickets.insert_within_limit(&avatar_ticket(user.id, t0 + Duration::minutes(5)), window_start, 3).await.unwrap();
    assert_eq!(refused, Err(TriesUsed { count: 3, oldest: Some(t0) }));

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
    assert_eq!(tickets.find_by_tmp_key(&issued[1].tmp_key).await.unwrap().unwrap().state, TicketState::Used);
    let again = users.set_avatar(user.id, issued[1].id, &key1, "https://cdn/one.png", t0).await;
    assert!(matches!(again, Err(SetAvatarError::TicketUsed)));
    let rejected_use = users.set_avatar(user.id, issued[0].id, &key1, "https://cdn/x.png", t0).await;
    assert!(matches!(rejected_use, Err(SetAvatarError::TicketUsed)), "a rejected ticket cannot be used");
    assert_eq!(
        users.view(user.id, window).await.unwrap().unwrap().user.avatar_url.as_deref(),
        Some("https://cdn/one.png")
    );
    assert_eq!(users.view(user.id, window).await.unwrap().unwrap().avatar_tries_used, 2, "a used ticket counts");

    let key2 = ObjectKey::parse("avatars/1/two.png").unwrap();
    let previous = users.set_avatar(user.id, issued[2].id, &key2, "https://cdn/two.png", t0).await.unwrap();
    assert_eq!(previous, Some(key1));
    assert_eq!(users.clear_avatar(user.id, t0).await.unwrap(), Some(key2));
    assert_eq!(users.clear_avatar(user.id, t0).await.unwrap(), None);
    assert!(users.view(user.id, window).await.unwrap().unwrap().user.avatar_url.is_none());
    assert!(matches!(users.clear_avatar(UserId::new(999_999), t0).await, Err(SetAvatarError::UserGone)));
}

/// A superuser's changes, search and erasure: unique Discord ids and
/// usernames, the last superuser kept, keyset paging, an idempotent erasure
/// that hands back the avatar.
pub async fn administration_story(repo: &dyn UserRepository) {
    let now = datetime!(2026-06-16 09:00:00 UTC);
    let ada = repo.create(&new_user("idp|ada", "ada@x.io", "ada")).await.unwrap();
    let bob = repo.create(&new_user("idp|bob", "bob@x.io", "bob")).await.unwrap();
    let promote = AdminUserUpdate { platform_role: Some(PlatformRole::Superuser), ..AdminUserUpdate::default() };
    let demote = AdminUserUpdate { platform_role: Some(PlatformRole::User), ..AdminUserUpdate::default() };

    let promoted = repo.admin_update(ada.id, &promote, now, None).await.unwrap();
    assert_eq!(promoted.platform_role, PlatformRole::Superuser);
    assert_eq!(promoted.updated_at, now);
    assert!(
        matches!(repo.admin_update(ada.id, &demote, now, None).await, Err(AdminUserError::LastSuperuser)),
        "the only superuser is not demoted"
    );
    assert_eq!(repo.find(ada.id).await.unwrap().unwrap().platform_role, PlatformRole::Superuser);
    repo.admin_update(bob.id, &promote, now, None).await.unwrap();
    assert_eq!(repo.admin_update(ada.id, &demote, now, None).await.unwrap().platform_role, PlatformRole::User);
    assert!(matches!(repo.admin_update(bob.id, &demote, now, None).await, Err(AdminUserError::LastSuperuser)));
    assert!(matches!(
        repo.admin_update(UserId::new(999_999), &promote, now, None).await,
        Err(AdminUserError::NotFound)
    ));
    // Several at once: each user once, an unknown id left out.
    let mut many: Vec<UserId> =
        repo.find_many(&[bob.id, UserId::new(999_999), ada.id, bob.id]).await.unwrap().iter().map(|u| u.id).collect();
    many.sort();
    assert_eq!(many, [ada.id, bob.id]);
    assert!(repo.find_many(&[]).await.unwrap().is_empty());

    let discord = DiscordId::parse("80351110224678912").unwrap();
    let link = AdminUserUpdate { discord_id: Some(Some(discord.clone())), ..AdminUserUpdate::default() };
    assert_eq!(repo.admin_update(ada.id, &link, now, None).await.unwrap().discord_id, Some(discord.clone()));
    assert_eq!(
        repo.admin_update(ada.id, &link, now, None).await.unwrap().discord_id,
        Some(discord.clone()),
        "relinking is no conflict"
    );
    assert!(matches!(repo.admin_update(bob.id, &link, now, None).await, Err(AdminUserError::DiscordIdTaken)));
    let rename = AdminUserUpdate { username: Some(Username::parse("ada").unwrap()), ..AdminUserUpdate::default() };
    assert!(matches!(repo.admin_update(bob.id, &rename, now, None).await, Err(AdminUserError::UsernameTaken)));
    assert_eq!(repo.find(bob.id).await.unwrap().unwrap().username.as_str(), "bob", "a refused change writes nothing");
    assert!(matches!(repo.admin_update(UserId::new(999_999), &rename, now, None).await, Err(AdminUserError::NotFound)));

    // One change sets several fields; an unlinked Discord id is free again.
    let combined = AdminUserUpdate {
        platform_role: Some(PlatformRole::Superuser),
        discord_id: Some(None),
        username: Some(Username::parse("ada.l").unwrap()),
    };
    let changed = repo.admin_update(ada.id, &combined, now, None).await.unwrap();
    assert_eq!(changed.platform_role, PlatformRole::Superuser);
    assert_eq!(changed.discord_id, None);
    assert_eq!(changed.username.as_str(), "ada.l");
    assert_eq!(repo.admin_update(bob.id, &link, now, None).await.unwrap().discord_id, Some(discord.clone()));

    // Search: case-insensitive on e-mail, username and display name, oldest first, paged.
    let carl = repo.create(&new_user("idp|carl", "carl@y.io", "carl")).await.unwrap();
    let ids = |page: shared_kernel::Page<crate::model::User>| page.items.iter().map(|u| u.id).collect::<Vec<_>>();
    let any_page = PageRequest::default();
    let search = |q: &str| repo.search(Some(q.to_owned()), &any_page);
    assert_eq!(ids(repo.search(None, &PageRequest::default()).await.unwrap()), [ada.id, bob.id, carl.id]);
    assert_eq!(ids(search("X.IO").await.unwrap()), [ada.id, bob.id], "e-mails, whatever the case");
    assert_eq!(ids(search("bob@x").await.unwrap()), [bob.id]);
    assert_eq!(ids(search("ADA.L").await.unwrap()), [ada.id], "usernames");
    assert_eq!(ids(search("a l").await.unwrap()), [ada.id, bob.id, carl.id], "display names");
    assert!(search("%").await.unwrap().items.is_empty(), "a LIKE wildcard in the query is matched literally");
    assert!(search("_").await.unwrap().items.is_empty(), "a LIKE wildcard in the query is matched literally");
    let first = repo.search(None, &PageRequest::parse(Some(2), None).unwrap()).await.unwrap();
    assert_eq!(first.items.iter().map(|u| u.id).collect::<Vec<_>>(), [ada.id, bob.id]);
    let cursor = first.next_cursor.expect("a second page");
    let rest = repo.search(None, &PageRequest::parse(Some(2), Some(&cursor)).unwrap()).await.unwrap();
    assert_eq!(rest.items.iter().map(|u| u.id).collect::<Vec<_>>(), [carl.id]);
    assert_eq!(rest.next_cursor, None);

    // Erasure pseudonymises the row once and hands back the avatar object.
    let ada_actor = Actor { user_id: ada.id, role: PlatformRole::Superuser };
    let bob_now = repo.find(bob.id).await.unwrap().unwrap();
    let erasure = Erasure::of(&bob_now, &ada_actor, now).unwrap();
    let Erased::Now { record, avatar } = repo.erase(&erasure).await.unwrap() else {
        panic!("the first erasure erases")
    };
    assert_eq!((record.user_id, record.by, record.at), (bob.id, Some(ada.id), now));
    assert_eq!(avatar, None);
    let erased = repo.find(bob.id).await.unwrap().unwrap();
    assert_eq!(erased.subject, erased_subject("idp|bob"));
    assert_eq!(erased.email, erasure.email);
    assert!(!erased.email_verified);
    assert_eq!((erased.first_name, erased.last_name, erased.discord_id), (None, None, None));
    assert_eq!(erased.username, erasure.username);
    assert_eq!(erased.display_name.as_str(), "Erased user");
    assert_eq!(erased.platform_role, PlatformRole::User);
    assert!(repo.find_by_subject("idp|bob").await.unwrap().is_none());
    let later = Erasure { at: now + Duration::hours(1), ..erasure };
    assert_eq!(repo.erase(&later).await.unwrap(), Erased::Already(record), "erasing twice writes one record");
}

/// The users' events, read back from `log`, the feed the repository writes
/// to: `user.provisioned` for each user created, `user.platform_role_changed`
/// only when the role really changed (naming the one before), `user.erased`
/// once however often the erasure is repeated, and nothing for a refused
/// change. No event names the person: ids and roles only.
pub async fn event_story(repo: &dyn UserRepository, log: &dyn shared_kernel::EventLog) {
    let now = datetime!(2026-06-16 09:00:00 UTC);
    let types = crate::events::EVENT_TYPES.iter().map(|t| (*t).to_owned()).collect();
    let all = shared_kernel::FeedQuery::parse(None, Some(500), types, None, crate::events::EVENT_TYPES)
        .expect("the users' types are known");
    let ada = repo.create(&new_user("idp|ada", "ada@x.io", "ada")).await.unwrap();
    let bob = repo.create(&new_user("idp|bob", "bob@x.io", "bob")).await.unwrap();
    let renamed = DisplayName::parse("Ada Renamed").unwrap();
    repo.change_profile(ada.id, &ProfileChange::DisplayName(renamed), now).await.unwrap();
    repo.change_profile(ada.id, &ProfileChange::ManualStatus(None), now).await.unwrap();
    assert!(
        repo.change_profile(UserId::new(999_999), &ProfileChange::ManualStatus(None), now).await.unwrap().is_none()
    );
    // No avatar to remove: nothing changed, no event.
    repo.clear_avatar(bob.id, now).await.unwrap();
    let promote = AdminUserUpdate { platform_role: Some(PlatformRole::Superuser), ..AdminUserUpdate::default() };
    let demote = AdminUserUpdate { platform_role: Some(PlatformRole::User), ..AdminUserUpdate::default() };
    repo.admin_update(ada.id, &promote, now, None).await.unwrap();
    repo.admin_update(ada.id, &promote, now, None).await.unwrap();
    let refused = repo.admin_update(ada.id, &demote, now, Some(bob.id)).await;
    assert!(matches!(refused, Err(AdminUserError::LastSuperuser)), "{refused:?}");
    let su = Actor { user_id: ada.id, role: PlatformRole::Superuser };
    let erasure = Erasure::of(&bob, &su, now).unwrap();
    repo.erase(&erasure).await.unwrap();
    repo.erase(&Erasure::of(&bob, &su, now + Duration::hours(1)).unwrap()).await.unwrap();

    let events: Vec<shared_kernel::Event> = log.read(&all).await.unwrap().into_iter().map(|r| r.event).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "user.provisioned",
            "user.provisioned",
            "user.updated",
            "user.updated",
            "user.platform_role_changed",
            "user.erased"
        ]
    );
    assert_eq!(events[0].subject, shared_kernel::Subject::new("user", ada.id));
    assert_eq!(events[0].actor_id, Some(ada.id), "a user provisions themself");
    assert_eq!(
        (events[2].data["changed"].clone(), events[2].actor_id),
        (serde_json::json!(["displayName"]), Some(ada.id))
    );
    assert_eq!(events[3].data["changed"], serde_json::json!(["manualStatus"]));
    assert_eq!(events[4].data["previousRole"], "user");
    assert_eq!(events[4].data["user"]["platformRole"], "superuser");
    assert_eq!((events[5].subject.id.as_str(), events[5].actor_id), (bob.id.to_string().as_str(), Some(ada.id)));
    let text = serde_json::to_string(&events).unwrap();
    for personal in ["ada@x.io", "bob@x.io", "Ada", "Renamed", "idp|"] {
        assert!(!text.contains(personal), "an event names {personal}: {text}");
    }
}
